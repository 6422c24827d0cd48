"""`aws-audit deploy` and `aws-audit undeploy`: option parsing only (the work: deploy.py, bundle.py, template.py,
accepted.py)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from ..config import DEFAULT_WORKERS
from ..errors import AuditError
from ..models import Severity

SEVERITIES = [s.value for s in Severity]


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"aws-audit: error: {message}", err=True)
    sys.exit(code)


def _session(profile: str | None, region: str | None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise AuditError(f"AWS profile '{profile}' is not configured (see ~/.aws/config)") from None
    if not session.region_name:
        raise AuditError("no region: pass --region")
    return session


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@click.option("--profile", default=None, help="AWS profile to deploy with (default: the standard credential chain).")
@click.option("--region", default=None, help="Region of the stack (default: the profile's region).")
@click.option("--schedule", default="rate(1 day)", show_default=True,
              help="EventBridge schedule expression, e.g. 'rate(1 day)' or 'cron(0 6 * * ? *)'.")
@click.option("--bucket", "bucket_name", default=None,
              help="Name of the report bucket the stack creates (default: aws-audit-reports-<account>-<region>).")
@click.option("--notify-email", default=None, metavar="ADDR",
              help="Create an SNS topic with an email subscription for new failing findings.")
@click.option("--sns-topic", "sns_topic_arn", default=None, metavar="ARN",
              help="Publish new failing findings to this existing SNS topic instead.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="high", show_default=True,
              help="Notify for new FAIL findings at or above this severity.")
@click.option("--stack-name", default="aws-audit", show_default=True)
@click.option("--least-privilege", is_flag=True,
              help="Grant exactly the reads of the selected checks ('aws-audit permissions') instead of the AWS "
                   "managed SecurityAudit and ViewOnlyAccess policies.")
@click.option("--fan-out", is_flag=True,
              help="Run one invocation per region (and member account) from a Step Functions state machine, then "
                   "merge them into one report.")
@click.option("--org-role", "org_role_name", default=None, metavar="NAME",
              help="With --fan-out: also audit every active account of the organization through this role.")
@click.option("--audit-region", "regions", multiple=True, metavar="REGION",
              help="Region the function audits (repeatable). Default: every region enabled for the account.")
@click.option("--service", "services", multiple=True, metavar="SERVICE", help="Only checks of this service.")
@click.option("--check", "checks", multiple=True, metavar="GLOB", help="Only checks whose id matches.")
@click.option("--exclude-check", "exclude_checks", multiple=True, metavar="GLOB", help="Skip these checks.")
@click.option("--workers", type=click.IntRange(1, 256), default=DEFAULT_WORKERS, show_default=True,
              help="Most AWS requests in flight per invocation (as for `run`); the function's memory follows "
                   "(64 MB each, at least 1024 MB).")
@click.option("--reserved-concurrency", type=click.IntRange(1, 1000), default=None,
              help="Concurrent executions reserved for the function (default: 1, or 12 with --fan-out). An account "
                   "must keep 10 unreserved, so a new account with a limit of 10 cannot reserve any: raise the "
                   "limit first.")
@click.option("--subnet-ids", default=None, metavar="ID,ID",
              help="Run the function in these VPC subnets (private ones, in two or more Availability Zones); needs "
                   "--security-group-ids. The subnets need a route to the public AWS API endpoints of every "
                   "audited region (a NAT gateway). The role then also gets the network-interface permissions "
                   "Lambda documents for VPC functions.")
@click.option("--security-group-ids", default=None, metavar="ID,ID",
              help="Security groups of the function's network interfaces (with --subnet-ids); outbound HTTPS is "
                   "all it needs.")
@click.option("--deps", type=click.Choice(["download", "local"]), default="download", show_default=True,
              help="Bundle click, tabulate and PyYAML as arm64/Python 3.12 wheels from PyPI (download), or the "
                   "installed pure-Python copies (local, no network).")
@click.option("--dry-run", is_flag=True,
              help="Write the template, the bundle and accepted-findings.yaml (the stack's declared exceptions as "
                   "a mutelist, for the account STS names, else with placeholders) to --output-dir; change "
                   "nothing.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out/deploy"),
              show_default=True)
def deploy(profile: str | None, region: str | None, dry_run: bool, output_dir: Path, deps: str,
           **opts: Any) -> None:
    """Deploy aws-audit as a scheduled Lambda function (one CloudFormation stack) that writes reports to S3.

    The few findings the stack knowingly does not satisfy on its own resources are declared by the stack, each with
    its reason: muted in the function's own reports, printed after the deploy and written to
    s3://BUCKET/config/accepted-findings.yaml for `aws-audit run --mutelist`.
    """
    from .accepted import summary_lines
    from .bundle import DependencySource, build_bundle
    from .deploy import Deployer, locate_caller, write_dry_run

    try:
        options = stack_options(**opts)
        bundle = build_bundle(DependencySource(deps))
        _say(f"bundle: {bundle.files} files, {bundle.size / 1e6:.2f} MB zipped, "
             f"{bundle.unzipped_size / 1e6:.2f} MB unzipped, sha256 {bundle.sha256[:16]}")
        if dry_run:
            location = locate_caller(profile, region)
            if not location.complete:
                _say(f"accepted findings: placeholders for what is not known ({location.problem})")
            for path in write_dry_run(options, bundle, output_dir, location):
                click.echo(f"wrote {path}")
            return
        session = _session(profile, region)
        result = Deployer(session, session.region_name, say=_say).deploy(options, bundle)
    except (AuditError, ValueError) as exc:
        _fail(str(exc))
        return
    except (BotoCoreError, ClientError) as exc:
        _fail(f"deploy failed: {' '.join(str(exc).split())}")
        return
    click.echo(f"stack {result.stack_name} {result.action}")
    for key, value in sorted(result.outputs.items()):
        click.echo(f"  {key}: {value}")
    click.echo(f"accepted findings (muted in the function's own reports; a mutelist at {result.accepted_uri}):")
    for line in summary_lines(list(result.accepted)):
        click.echo(f"  {line}")


def stack_options(**opts: Any) -> Any:
    from .template import StackOptions

    policy = None
    if opts.pop("least_privilege"):
        from ..cli import least_privilege_policy
        from ..config import Selection
        from ..registry import select_checks

        policy = least_privilege_policy(select_checks(Selection(
            services=tuple(opts["services"]), include=tuple(opts["checks"]),
            exclude=tuple(opts["exclude_checks"]))))
    return StackOptions(
        stack_name=opts["stack_name"], schedule=opts["schedule"], bucket_name=opts["bucket_name"],
        notify_email=opts["notify_email"], sns_topic_arn=opts["sns_topic_arn"], fail_on=Severity(opts["fail_on"]),
        least_privilege_policy=policy, fan_out=opts["fan_out"], org_role_name=opts["org_role_name"],
        regions=tuple(opts["regions"]), services=tuple(opts["services"]), checks=tuple(opts["checks"]),
        exclude_checks=tuple(opts["exclude_checks"]), workers=opts["workers"],
        reserved_concurrency=opts.get("reserved_concurrency"),
        subnet_ids=_ids(opts.get("subnet_ids")), security_group_ids=_ids(opts.get("security_group_ids")),
    )


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@click.command()
@click.option("--profile", default=None)
@click.option("--region", default=None)
@click.option("--stack-name", default="aws-audit", show_default=True)
@click.option("--delete-bucket", is_flag=True,
              help="Also empty and delete the report bucket and schedule its KMS key for deletion.")
def undeploy(profile: str | None, region: str | None, stack_name: str, delete_bucket: bool) -> None:
    """Remove the deployed stack. The report bucket (and its key) is kept unless --delete-bucket."""
    from .deploy import Deployer

    try:
        session = _session(profile, region)
        Deployer(session, session.region_name, say=_say).undeploy(stack_name, delete_bucket=delete_bucket)
    except AuditError as exc:
        _fail(str(exc))
        return
    except (BotoCoreError, ClientError) as exc:
        _fail(f"undeploy failed: {' '.join(str(exc).split())}")
        return
    click.echo(f"stack {stack_name} deleted")


def register(group: click.Group) -> None:
    """Add `deploy` and `undeploy` to the `aws-audit` command group."""
    group.add_command(deploy)
    group.add_command(undeploy)
