"""`aws-audit deploy` and `undeploy`: the one code path of aws-audit that writes to the account, on purpose.

It has its own boto3 clients (not the audit's read-only `AwsSession`) and never runs an audit. A new stack is built
in two steps — first the KMS key and the report bucket, so the bundle has somewhere to go, then everything — and an
existing stack is updated in one. The bundle's S3 key carries its sha256, so unchanged code changes nothing.

After the stack, the findings it declares on its own resources (accepted.py), resolved for its account, region and
bucket, go to s3://BUCKET/config/accepted-findings.yaml: a mutelist for `aws-audit run --mutelist`. A dry run
writes the same file next to the template, resolved for the caller STS names, or with placeholders if it cannot
ask.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from .. import __version__
from ..errors import AuditError
from .accepted import CONFIG_KEY, FILE_NAME, PLACEHOLDERS, accepted_findings, mutelist_yaml, resolve, stack_values
from .bundle import Bundle
from .template import StackOptions, bucket_name_template, build_template, render

NO_UPDATES = "No updates are to be performed"
Say = Callable[[str], None]


@dataclass(frozen=True)
class DeployResult:
    stack_name: str
    action: str  # "created", "updated", "unchanged"
    outputs: dict[str, str] = field(default_factory=dict)
    bundle_key: str = ""
    bundle_size: int = 0
    accepted: tuple[dict[str, str], ...] = ()  # the stack's declared exceptions, resolved
    accepted_uri: str = ""  # where they were written, as a mutelist


@dataclass(frozen=True)
class Location:
    """Where a stack is (or would be): what its accepted findings' ARNs need. None: not known (a placeholder)."""

    partition: str | None = None
    account: str | None = None
    region: str | None = None
    problem: str = ""  # why something is not known

    def values(self, options: StackOptions) -> dict[str, str]:
        partition = self.partition or PLACEHOLDERS["AWS::Partition"]
        account = self.account or PLACEHOLDERS["AWS::AccountId"]
        region = self.region or PLACEHOLDERS["AWS::Region"]
        bucket = bucket_name_template(options).replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)
        return stack_values(partition=partition, account=account, region=region, bucket=bucket)

    @property
    def complete(self) -> bool:
        return bool(self.partition and self.account and self.region)


def locate_caller(profile: str | None, region: str | None) -> Location:
    """The caller's partition and account (STS GetCallerIdentity: a read, allowed to every identity) and the
    region the deploy would use. Anything that fails leaves that part unknown; a dry run never stops for it."""
    import boto3
    from botocore.exceptions import NoCredentialsError

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        region = session.region_name
        if not region:
            return Location(problem="no region (pass --region)")
        sts = session.client("sts", region_name=region, config=Config(
            retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=10,
            user_agent_extra=f"aws-audit-deploy/{__version__}"))
        arn = sts.get_caller_identity()["Arn"]
    except NoCredentialsError:
        return Location(region=region, problem="no AWS credentials")
    except (BotoCoreError, ClientError) as exc:
        return Location(region=region, problem=" ".join(str(exc).split()))
    parts = arn.split(":")
    return Location(partition=parts[1], account=parts[4], region=region)


def write_dry_run(options: StackOptions, bundle: Bundle, output_dir: Path,
                  location: Location = Location(problem="not asked")) -> list[Path]:
    """The template and the bundle as `deploy` would use them, and the stack's accepted findings as a mutelist
    for `location`; nothing in AWS is changed."""
    output_dir.mkdir(parents=True, exist_ok=True)
    template_path = output_dir / f"{options.stack_name}.template.json"
    bundle_path = output_dir / Path(bundle.key).name
    accepted_path = output_dir / FILE_NAME
    template_path.write_text(render(build_template(options, code_key=bundle.key)), encoding="utf-8")
    bundle_path.write_bytes(bundle.data)
    if location.complete:
        note = (f"Dry run: for account {location.account} in {location.region} ({location.partition}), as STS named "
                "the caller.")
    else:
        shown = ", ".join(PLACEHOLDERS.values())
        note = (f"Dry run: placeholders ({shown}) where the account, region or partition was not known "
                f"({location.problem}). They match nothing: replace them before use.")
    rules = resolve(accepted_findings(options), location.values(options))
    accepted_path.write_text(mutelist_yaml(options.stack_name, rules, note), encoding="utf-8")
    return [template_path, bundle_path, accepted_path]


class Deployer:
    """Writing clients for CloudFormation and S3, made from the caller's session; kept apart from any audit."""

    def __init__(self, session: boto3.Session, region: str, *, say: Say = lambda _: None,
                 poll_seconds: float = 5.0) -> None:
        config = Config(retries={"mode": "standard", "total_max_attempts": 5},
                        user_agent_extra=f"aws-audit-deploy/{__version__}")
        self.region = region
        self.cfn = session.client("cloudformation", region_name=region, config=config)
        self.s3 = session.client("s3", region_name=region, config=config)
        self.kms = session.client("kms", region_name=region, config=config)
        self.say = say
        self.poll_seconds = poll_seconds

    # -- stack state -------------------------------------------------------------------------------------------
    def describe(self, stack_name: str) -> dict[str, Any] | None:
        try:
            return self.cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise

    @staticmethod
    def outputs(stack: dict[str, Any]) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def _wait(self, waiter: str, stack_name: str) -> None:
        try:
            self.cfn.get_waiter(waiter).wait(
                StackName=stack_name, WaiterConfig={"Delay": self.poll_seconds, "MaxAttempts": 720})
        except WaiterError as exc:
            raise AuditError(f"stack {stack_name}: {waiter.replace('_', ' ')} failed: {self._failure(stack_name)}"
                             f" ({exc.last_response.get('Stacks', [{}])[0].get('StackStatus', 'unknown')})"
                             if exc.last_response else f"stack {stack_name}: {exc}") from None

    def _failure(self, stack_name: str) -> str:
        try:
            events = self.cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
        except ClientError:
            return "see the stack's events"
        reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in events
                   if e.get("ResourceStatus", "").endswith("FAILED")]
        return "; ".join(reasons[:3]) or "see the stack's events"

    def _apply(self, stack_name: str, template: dict[str, Any], *, create: bool) -> bool:
        body = render(template)
        params = {"StackName": stack_name, "TemplateBody": body, "Capabilities": ["CAPABILITY_IAM"],
                  "Tags": [{"Key": "ManagedBy", "Value": "aws-audit deploy"}]}
        if create:
            self.cfn.create_stack(**params, OnFailure="ROLLBACK", EnableTerminationProtection=False)
            self._wait("stack_create_complete", stack_name)
            return True
        try:
            self.cfn.update_stack(**params)
        except ClientError as exc:
            if NO_UPDATES in str(exc):
                return False
            raise
        self._wait("stack_update_complete", stack_name)
        return True

    # -- deploy ------------------------------------------------------------------------------------------------
    def deploy(self, options: StackOptions, bundle: Bundle) -> DeployResult:
        name = options.stack_name
        stack = self.describe(name)
        if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
            raise AuditError(f"stack {name} is in ROLLBACK_COMPLETE (its creation failed): run "
                             f"'aws-audit undeploy --stack-name {name}' and deploy again")
        created = stack is None
        if created:
            self.say(f"creating stack {name} (report bucket and key first)")
            self._apply(name, build_template(options), create=True)
            stack = self.describe(name)
            assert stack is not None
        bucket = self.outputs(stack)["ReportBucket"]
        self._upload(bucket, bundle)
        self.say(f"{'creating' if created else 'updating'} stack {name}")
        changed = self._apply(name, build_template(options, code_key=bundle.key), create=False)
        final = self.describe(name)
        assert final is not None
        outputs = self.outputs(final)
        accepted, uri = self._write_accepted(options, outputs)
        action = "created" if created else ("updated" if changed else "unchanged")
        return DeployResult(name, action, outputs, bundle.key, bundle.size, accepted, uri)

    def _write_accepted(self, options: StackOptions, outputs: dict[str, str]) -> tuple[tuple[dict[str, str], ...],
                                                                                       str]:
        """The stack's accepted findings for its own account, region and bucket, to config/accepted-findings.yaml
        in the report bucket (outside the account prefixes the function may write): the key's ARN names the
        stack's partition, region and account."""
        _, partition, _, region, account, _ = outputs["ReportKeyArn"].split(":", 5)
        bucket = outputs["ReportBucket"]
        location = Location(partition=partition, account=account, region=region)
        rules = resolve(accepted_findings(options), {**location.values(options), "ReportBucket": bucket})
        uri = f"s3://{bucket}/{CONFIG_KEY}"
        body = mutelist_yaml(options.stack_name, rules, f"Stack {options.stack_name} in account {account}, "
                                                        f"{region}; kept at {uri} by every deploy.").encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()
        try:
            current = self.s3.head_object(Bucket=bucket, Key=CONFIG_KEY).get("Metadata", {}).get("sha256")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
                raise
            current = None
        if current != digest:
            self.say(f"writing the stack's accepted findings to {uri}")
            # A checksum: the bucket's Object Lock default retention makes S3 require one on every upload.
            self.s3.put_object(Bucket=bucket, Key=CONFIG_KEY, Body=body, ContentType="application/yaml",
                               Metadata={"sha256": digest}, ChecksumAlgorithm="SHA256")
        return tuple(rules), uri

    def _upload(self, bucket: str, bundle: Bundle) -> None:
        try:
            self.s3.head_object(Bucket=bucket, Key=bundle.key)
            self.say(f"bundle s3://{bucket}/{bundle.key} already uploaded")
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
                raise
        self.say(f"uploading bundle ({bundle.size / 1e6:.1f} MB) to s3://{bucket}/{bundle.key}")
        self.s3.put_object(Bucket=bucket, Key=bundle.key, Body=bundle.data, ContentType="application/zip",
                           Metadata={"sha256": bundle.sha256}, ChecksumAlgorithm="SHA256")

    # -- undeploy ----------------------------------------------------------------------------------------------
    def undeploy(self, stack_name: str, *, delete_bucket: bool = False) -> dict[str, str]:
        stack = self.describe(stack_name)
        if stack is None:
            raise AuditError(f"no stack {stack_name} in {self.region}")
        outputs = self.outputs(stack)
        self.say(f"deleting stack {stack_name}")
        self.cfn.delete_stack(StackName=stack_name)
        self._wait("stack_delete_complete", stack_name)
        bucket, key = outputs.get("ReportBucket"), outputs.get("ReportKeyArn")
        if delete_bucket and bucket:
            self.say(f"emptying and deleting bucket {bucket}; scheduling key deletion")
            self._delete_bucket(bucket)
            if key:
                self.kms.schedule_key_deletion(KeyId=key.rsplit("/", 1)[-1], PendingWindowInDays=30)
        elif bucket:
            self.say(f"kept bucket {bucket} and its key (pass --delete-bucket to remove them)")
        return outputs

    def _delete_bucket(self, bucket: str) -> None:
        paginator = self.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))]
            for start in range(0, len(objects), 1000):
                # The bucket's Object Lock is GOVERNANCE: deleting it on purpose is what the bypass is for.
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[start:start + 1000],
                                                              "Quiet": True}, BypassGovernanceRetention=True)
        for attempt in range(5):
            try:
                self.s3.delete_bucket(Bucket=bucket)
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "BucketNotEmpty" or attempt == 4:
                    raise
                time.sleep(2)
