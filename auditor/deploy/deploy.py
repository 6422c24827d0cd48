"""`aws-audit deploy` and `undeploy`: the one code path of aws-audit that writes to the account, on purpose.

It has its own boto3 clients (not the audit's read-only `AwsSession`) and never runs an audit. A new stack is built
in two steps — first the KMS key and the report bucket, so the bundle has somewhere to go, then everything — and an
existing stack is updated in one. The bundle's S3 key carries its sha256, so unchanged code changes nothing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError

from .. import __version__
from ..errors import AuditError
from .bundle import Bundle
from .template import StackOptions, build_template, render

NO_UPDATES = "No updates are to be performed"
Say = Callable[[str], None]


@dataclass(frozen=True)
class DeployResult:
    stack_name: str
    action: str  # "created", "updated", "unchanged"
    outputs: dict[str, str] = field(default_factory=dict)
    bundle_key: str = ""
    bundle_size: int = 0


def write_dry_run(options: StackOptions, bundle: Bundle, output_dir: Path) -> list[Path]:
    """The template and the bundle as `deploy` would use them; nothing in AWS is touched."""
    output_dir.mkdir(parents=True, exist_ok=True)
    template_path = output_dir / f"{options.stack_name}.template.json"
    bundle_path = output_dir / Path(bundle.key).name
    template_path.write_text(render(build_template(options, code_key=bundle.key)), encoding="utf-8")
    bundle_path.write_bytes(bundle.data)
    return [template_path, bundle_path]


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
        action = "created" if created else ("updated" if changed else "unchanged")
        return DeployResult(name, action, self.outputs(final), bundle.key, bundle.size)

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
