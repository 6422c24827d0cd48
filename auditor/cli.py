"""The `aws-audit` command line. Option parsing only: the work is in runner.py, engine.py and registry.py."""
from __future__ import annotations

import json
import logging
import sys
from functools import wraps
from pathlib import Path
from typing import Any, Callable

import click
from tabulate import tabulate

from . import __version__
from .config import DEFAULT_WORKERS, AuditConfig, Parameters, Selection
from .errors import AuditError, ExitCode
from .models import Category, Severity
from .mutelist import Mutelist

SEVERITIES = [s.value for s in Severity]
CATEGORIES = [c.value for c in Category]
FORMATS = ["table", "json", "html"]

EXIT_CODES_HELP = """\b
Exit codes:
  0  the audit completed; no FAIL at or above --fail-on
  1  a non-muted FAIL at or above --fail-on (wins over 3)
  2  usage or configuration error: bad option, unknown check, service or
     region, unreadable config, no credentials, unknown profile
  3  the audit completed but some checks are ERROR (could not read)
  4  internal error (a bug: please report it with --log-level debug output)
"""


def _fail(message: str, code: ExitCode | int = ExitCode.USAGE) -> None:
    click.echo(f"aws-audit: error: {message}", err=True)
    sys.exit(int(code))


def _handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """One line and a documented exit code for every failure; a traceback only with --log-level debug."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuditError as exc:
            _fail(str(exc), ExitCode.USAGE)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            logging.getLogger("aws_audit").debug("internal error", exc_info=True)
            _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --log-level debug)", 4)

    return wrapper


def selection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--service", "services", multiple=True, metavar="SERVICE",
                         help="Only checks of this service (repeatable), e.g. s3."),
            click.option("--check", "include", multiple=True, metavar="GLOB",
                         help="Only checks whose id matches (repeatable), e.g. 's3_*'."),
            click.option("--exclude-check", "exclude", multiple=True, metavar="GLOB",
                         help="Skip checks whose id matches (repeatable)."),
            click.option("--severity", type=click.Choice(SEVERITIES), default=None,
                         help="Only checks of at least this severity."),
            click.option("--category", "categories", multiple=True, type=click.Choice(CATEGORIES),
                         help="Only checks of this category (repeatable)."),
        ]
    ):
        command = option(command)
    return command


def audit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                         help="YAML file overriding check parameters (see defaults.yaml)."),
            click.option("--security-hub", is_flag=True,
                         help="After the audit, import the findings into AWS Security Hub (ASFF, "
                              "securityhub:BatchImportFindings). The only write, and only when asked."),
            click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help="A previous JSON report: findings failing now but not then are marked new."),
            click.option("--environment", default=None, metavar="NAME",
                         help="Environment assumed for resources without an environment tag (e.g. prod)."),
            click.option("--mutelist", "mutelist_file", type=click.Path(dir_okay=False), default=None,
                         help="YAML/JSON file of accepted findings (check, account, region, resource, tags, "
                              "reason, owner, expires)."),
            click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
                         show_default=True, help="Where report files are written."),
            click.option("--format", "formats", multiple=True, metavar="FORMAT",
                         help="Output format, repeatable or comma-separated: table, json, html, csv, jsonl, "
                              "summary, asff, ocsf, metrics, or one a plugin registers. Default: table,json,html."),
            click.option("--workers", type=click.IntRange(1, 256), default=DEFAULT_WORKERS, show_default=True,
                         help="Most AWS requests in flight at once (over every account of an --org run); "
                              "EC2 and Lambda are also paced to their published request rates."),
            click.option("--max-attempts", type=click.IntRange(1, 50), default=10, show_default=True,
                         help="Attempts per API call (adaptive retries with backoff)."),
            click.option("--fail-on", type=click.Choice(["none", *SEVERITIES]), default="none", show_default=True,
                         help="Exit 1 when a non-muted FAIL of at least this severity exists."),
            click.option("--quiet", is_flag=True, help="Print nothing but errors."),
            click.option("--no-progress", is_flag=True, help="No progress bar (it only shows on a terminal)."),
            click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
                         default="warning", show_default=True, help="Log detail on stderr."),
        ]
    ):
        command = option(command)
    return command


def _selection(services: tuple[str, ...], include: tuple[str, ...], exclude: tuple[str, ...],
               severity: str | None, categories: tuple[str, ...]) -> Selection:
    return Selection(
        services=services,
        include=include,
        exclude=exclude,
        min_severity=Severity(severity) if severity else None,
        categories=tuple(Category(c) for c in categories),
    )


def _with_environment(parameters: Parameters, environment: str | None) -> Parameters:
    if environment is None:
        return parameters
    return Parameters({**parameters.values, "tags.account_environment": environment})


def _formats(specs: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.strip() for spec in specs for f in spec.split(",") if f.strip()))


def _execute(opts: dict[str, Any], *, profile: str | None, regions: tuple[str, ...], role_arn: str | None,
             external_id: str | None, organization: Any = None) -> ExitCode:
    from .progress import ProgressBar
    from .runner import OutputOptions, execute

    logging.basicConfig(level=opts["log_level"].upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AuditConfig(
        profile=profile,
        regions=regions,
        role_arn=role_arn,
        external_id=external_id,
        selection=_selection(opts["services"], opts["include"], opts["exclude"], opts["severity"],
                             opts["categories"]),
        parameters=_with_environment(Parameters.load(opts["config_file"]), opts["environment"]),
        mutelist=Mutelist.load(opts["mutelist_file"]) if opts["mutelist_file"] else None,
        organization=organization,
        workers=opts["workers"],
        max_attempts=opts["max_attempts"],
    )
    output = OutputOptions(
        formats=_formats(opts["formats"]) or tuple(FORMATS),
        output_dir=opts["output_dir"],
        fail_on=None if opts["fail_on"] == "none" else Severity(opts["fail_on"]),
        quiet=opts["quiet"],
        baseline=opts["baseline"],
        security_hub=opts["security_hub"],
    )
    show_progress = sys.stderr.isatty() and not opts["no_progress"] and not opts["quiet"]
    return execute(config, output, progress=ProgressBar() if show_progress else None)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="aws-audit")
def main() -> None:
    """Audit a live AWS account, read-only: security, cost and reliability checks with console, JSON and HTML
    reports."""


@main.command(epilog=EXIT_CODES_HELP)
@click.option("--profile", default=None, help="AWS profile (default: the standard credential chain, AWS_PROFILE).")
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="Region to audit (repeatable). Default: every region enabled for the account.")
@click.option("--role-arn", default=None, help="Assume this role first (e.g. an audit role in another account).")
@click.option("--external-id", default=None, help="External id for --role-arn or --role-name.")
@click.option("--org", is_flag=True, help="Audit the organization's active member accounts (from the management "
                                          "or a delegated administrator account) through --role-name.")
@click.option("--role-name", default=None, help="With --org: the role to assume in each member account.")
@click.option("--accounts", default=None, metavar="ID,...", help="With --org: only these accounts.")
@click.option("--ou", default=None, metavar="OU_ID", help="With --org: only accounts under this OU (recursively).")
@click.option("--exclude-account", "exclude_accounts", multiple=True, metavar="ID",
              help="With --org: skip this account (repeatable).")
@selection_options
@audit_options
@_handled
def run(profile: str | None, regions: tuple[str, ...], role_arn: str | None, external_id: str | None, org: bool,
        role_name: str | None, accounts: str | None, ou: str | None, exclude_accounts: tuple[str, ...],
        **opts: Any) -> None:
    """Audit the account behind the AWS credentials (or, with --org, the organization's accounts) and write
    the reports."""
    organization = None
    if org:
        from .organization import OrgOptions

        if not role_name:
            raise AuditError("--org needs --role-name (the role to assume in each member account)")
        organization = OrgOptions(role_name=role_name, external_id=external_id,
                                  accounts=tuple(a.strip() for a in (accounts or "").split(",") if a.strip()),
                                  ou=ou, exclude=exclude_accounts)
    elif role_name or accounts or ou or exclude_accounts:
        raise AuditError("--role-name, --accounts, --ou and --exclude-account need --org")
    elif external_id and not role_arn:
        raise AuditError("--external-id needs --role-arn or --org")
    sys.exit(int(_execute(opts, profile=profile, regions=regions, role_arn=role_arn,
                          external_id=external_id if role_arn else None, organization=organization)))


@main.command(epilog=EXIT_CODES_HELP)
@selection_options
@audit_options
@_handled
def demo(**opts: Any) -> None:
    """Audit a built-in simulated account (moto on 127.0.0.1, two regions) through the same code path as 'run'."""
    from .demo import DEMO_REGIONS, SIMULATOR_GAPS, simulated_account
    from .registry import load_checks

    gaps = sorted(set(SIMULATOR_GAPS) & set(load_checks()))
    opts["exclude"] = tuple(opts["exclude"]) + tuple(gaps)
    if gaps and not opts["quiet"]:
        click.echo(f"Left out {len(gaps)} check(s) whose API the simulator does not implement: "
                   + ", ".join(f"{g} ({SIMULATOR_GAPS[g]})" for g in gaps), err=True)
    with simulated_account() as seeded:
        if not opts["quiet"]:
            regions = ", ".join(f"{region} ({env})" for region, env in seeded["regions"].items())
            counts = ", ".join(f"{n} {service}" for service, n in sorted(seeded["counts"].items()))
            click.echo(f"Simulated account {seeded['account']} on 127.0.0.1, seeded in {regions}: {counts}.",
                       err=True)
        code = _execute(opts, profile=None, regions=DEMO_REGIONS, role_arn=None, external_id=None)
    sys.exit(int(code))


@main.command("list-checks")
@selection_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_handled
def list_checks(fmt: str, **opts: Any) -> None:
    """List the available checks."""
    from .registry import select_checks

    checks = select_checks(_selection(opts["services"], opts["include"], opts["exclude"], opts["severity"],
                                      opts["categories"]))
    if fmt == "json":
        click.echo(json.dumps([
            {"id": c.id, "service": c.service, "severity": c.severity.value, "category": c.category.value,
             "scope": c.scope.value, "title": c.title, "description": c.description(),
             "compliance": [str(x) for x in c.compliance], "api_calls": list(c.api_calls),
             "parameters": list(c.parameters)}
            for c in checks
        ], indent=2))
        return
    rows = [[c.id, c.service, c.severity.value, c.category.value, ", ".join(x.id for x in c.compliance)]
            for c in checks]
    click.echo(tabulate(rows, headers=["check", "service", "severity", "category", "controls"]))
    click.echo(f"\n{len(checks)} checks")


@main.command()
@selection_options
@_handled
def permissions(**opts: Any) -> None:
    """Print the least-privilege IAM policy (JSON) for the selected checks."""
    from .registry import select_checks

    checks = select_checks(_selection(opts["services"], opts["include"], opts["exclude"], opts["severity"],
                                      opts["categories"]))
    click.echo(json.dumps(least_privilege_policy(checks), indent=2))


@main.command("report")
@click.argument("report_file", type=click.Path(dir_okay=False))
@click.option("--format", "formats", multiple=True, metavar="FORMAT", required=True,
              help="Formats to render, repeatable or comma-separated (html, csv, jsonl, summary, json, table).")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
              show_default=True)
@_handled
def report(report_file: str, formats: tuple[str, ...], output_dir: Path) -> None:
    """Re-render a saved JSON report in other formats, without touching AWS."""
    from reports.load import read_document, run_from_document

    from .runner import OutputOptions, prepare_output_dir, write_reports

    options = OutputOptions(formats=_formats(formats), output_dir=output_dir)
    prepare_output_dir(options)
    write_reports(run_from_document(read_document(report_file)), options, sys.stdout, sys.stderr)


@main.command("diff")
@click.argument("old_report", type=click.Path(dir_okay=False))
@click.argument("new_report", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True)
@_handled
def diff(old_report: str, new_report: str, fmt: str) -> None:
    """What changed between two JSON reports: new, resolved, still failing, changed severity."""
    from reports.diff import diff_documents, render_html, render_json, render_table
    from reports.load import read_document

    result = diff_documents(read_document(old_report), read_document(new_report))
    click.echo({"table": render_table, "json": render_json, "html": render_html}[fmt](result), nl=False)


@main.command("coverage")
@click.option("--framework", default="aws-fsbp", show_default=True,
              help="aws-fsbp, aws-securityhub, cis-aws-3.0 or cis-aws-4.0.1.")
@click.option("--control-service", "control_services", multiple=True, metavar="NAME",
              help="Only controls of this AWS service (IAM, EC2, ...) or CIS section (1, 3, ...); repeatable.")
@click.option("--automated-only", is_flag=True, help="CIS: only the recommendations assessed as Automated.")
@click.option("--missing", "only_missing", is_flag=True, help="Only the controls no check implements.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_handled
def coverage_command(framework: str, control_services: tuple[str, ...], automated_only: bool, only_missing: bool,
                     fmt: str) -> None:
    """Which controls of a framework the checks implement, and which have none."""
    from .coverage import coverage
    from .registry import load_checks

    wanted = {s.lower() for s in control_services}
    rows = [
        r for r in coverage(framework, load_checks().values())
        if (not wanted or r.service.lower() in wanted)
        and (not automated_only or r.assessment == "Automated")
        and (not only_missing or not r.covered)
    ]
    covered = sum(r.covered for r in rows)
    if fmt == "json":
        click.echo(json.dumps({"framework": framework, "controls": len(rows), "covered": covered,
                               "missing": [r.id for r in rows if not r.covered],
                               "rows": [r.to_dict() for r in rows]}, indent=2))
        return
    table = [[r.id, r.assessment, ", ".join(r.checks) or "-- none --", r.title[:70]] for r in rows]
    click.echo(tabulate(table, headers=["control", "level", "checks", "title"], disable_numparse=True))
    if only_missing:
        click.echo(f"\n{framework}: {len(rows)} control(s) without a check")
    else:
        click.echo(f"\n{framework}: {covered} of {len(rows)} controls implemented")


ENGINE_ACTIONS = ("sts:GetCallerIdentity", "ec2:DescribeRegions")


def least_privilege_policy(checks: list[Any]) -> dict[str, Any]:
    actions = sorted(set(ENGINE_ACTIONS).union(*(c.api_calls for c in checks)))
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AwsAuditReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"}],
    }


if __name__ == "__main__":  # pragma: no cover
    main()
from .deploy.cli import register as _register_deploy_commands  # noqa: E402, I001
_register_deploy_commands(main)
