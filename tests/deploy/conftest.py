"""Fixtures for the deploy tests: one locally built bundle, and a deployer that completes what moto's CloudFormation
leaves out.

moto 5.2's CloudFormation creates the stack's resources but drops properties CloudFormation applies in AWS. The
`MotoDeployer` below applies them after every stack change, from the template itself (never from hand-written
values), the way CloudFormation would. What it completes, and why:

- AWS::S3::Bucket: only BucketEncryption and Tags are applied (versioning, public access block, ownership, lifecycle,
  EventBridge notifications, Object Lock and the bucket key are dropped);
- AWS::S3::BucketPolicy: not supported at all (and see `bucket_policy` below);
- AWS::Lambda::EventInvokeConfig: not supported at all;
- AWS::Lambda::Function: TracingConfig is dropped (and UpdateFunctionConfiguration ignores it as well);
- AWS::IAM::Role inline policies and AWS::KMS::Key policies are stored as dicts where moto's own API expects JSON
  text (GetAccountAuthorizationDetails and DescribeKey then fail), so they are stored again as text.

moto also answers {} to GetBucketNotificationConfiguration after EventBridge delivery is enabled (AWS answers
{"EventBridgeConfiguration": {}}), so that one finding cannot be shown in moto (see test_self_audit.py).

The template's own declarations of these properties are asserted in test_template.py and by cfn-lint.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

import boto3
import pytest

from auditor.deploy.bundle import Bundle, DependencySource, build_bundle
from auditor.deploy.deploy import Deployer, DeployResult
from auditor.deploy.template import StackOptions
from tests.conftest import ACCOUNT, BOTO, REGION

# moto warns about each resource type it does not support (the ones completed below).
MOTO_UNSUPPORTED = pytest.mark.filterwarnings("ignore:Tried to parse AWS")


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    """Built from the installed packages (no network): see test_bundle.py for the downloaded variant."""
    return build_bundle(DependencySource.LOCAL)


class _Resolver:
    """Just enough of CloudFormation's intrinsic functions for the properties completed here."""

    def __init__(self, session: boto3.Session, stack: str) -> None:
        cfn = session.client("cloudformation", region_name=REGION)
        self.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                         for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
                         if r.get("LogicalResourceId") and r.get("PhysicalResourceId")}
        self.types = {r["LogicalResourceId"]: r["ResourceType"]
                      for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
                      if r.get("LogicalResourceId")}
        self.session = session

    def arn(self, logical: str) -> str:
        kind, physical = self.types[logical], self.physical[logical]
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::KMS::Key":
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{physical}"
        if kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}"
        if kind == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}"
        if kind == "AWS::SQS::Queue":  # the physical id is the queue's URL
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical.rsplit('/', 1)[-1]}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{physical}"
        return physical

    def _variable(self, name: str, extra: dict[str, Any]) -> str:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
        if name in extra:
            return str(self(extra[name]))
        if name in pseudo:
            return pseudo[name]
        if name.endswith(".Arn"):
            return self.arn(name[:-4])
        return self.physical[name]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._variable(value["Ref"], {})
        if set(value) == {"Fn::GetAtt"}:
            return self.arn(value["Fn::GetAtt"][0])
        if set(value) == {"Fn::Sub"}:
            text, extra = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._variable(m.group(1), extra), text)
        return {k: self(v) for k, v in value.items()}


def complete_moto_cloudformation(session: boto3.Session, stack: str, template: dict[str, Any], *,
                                 bucket_policy: bool = False) -> None:
    """`bucket_policy`: moto evaluates bucket policies without their Condition, so the TLS-only Deny denies every
    request in moto; it is applied only when asked, after the last upload (the self-audit)."""
    from moto.awslambda.models import lambda_backends
    from moto.iam.models import iam_backends
    from moto.kms.models import kms_backends

    resolve = _Resolver(session, stack)
    s3 = session.client("s3", region_name=REGION)
    for logical, resource in template["Resources"].items():
        kind, props = resource["Type"], resolve(resource.get("Properties", {}))
        if kind == "AWS::S3::BucketPolicy":  # unsupported: moto made nothing, so it has no physical id
            if bucket_policy:
                s3.put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"]))
            continue
        if kind == "AWS::Lambda::EventInvokeConfig":  # unsupported as well
            session.client("lambda", region_name=REGION).put_function_event_invoke_config(
                **{k: v for k, v in props.items() if k != "Qualifier"})
            continue
        if logical not in resolve.physical:
            continue
        physical = resolve.physical[logical]
        if kind == "AWS::S3::Bucket":
            s3.put_bucket_versioning(Bucket=physical, VersioningConfiguration=props["VersioningConfiguration"])
            s3.put_public_access_block(Bucket=physical,
                                       PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
            s3.put_bucket_ownership_controls(Bucket=physical, OwnershipControls=props["OwnershipControls"])
            s3.put_bucket_lifecycle_configuration(Bucket=physical, LifecycleConfiguration={"Rules": [
                _lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]})
            if props["NotificationConfiguration"].get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
                s3.put_bucket_notification_configuration(
                    Bucket=physical, NotificationConfiguration={"EventBridgeConfiguration": {}})
            s3.put_bucket_encryption(Bucket=physical, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                 "BucketKeyEnabled": rule["BucketKeyEnabled"]}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
            lock = s3.get_object_lock_configuration(Bucket=physical) if _has_lock(s3, physical) else None
            if lock is None and props.get("ObjectLockEnabled"):
                s3.put_object_lock_configuration(Bucket=physical,
                                                 ObjectLockConfiguration=props["ObjectLockConfiguration"])
        elif kind == "AWS::Lambda::Function":  # UpdateFunctionConfiguration ignores TracingConfig too
            function = lambda_backends[ACCOUNT][REGION].get_function(physical)
            function.tracing_config = props["TracingConfig"]
        elif kind == "AWS::IAM::Role":
            role = iam_backends[ACCOUNT]["aws"].get_role(physical)
            role.policies = {name: doc if isinstance(doc, str) else json.dumps(doc)
                             for name, doc in role.policies.items()}
        elif kind == "AWS::KMS::Key":
            key = kms_backends[ACCOUNT][REGION].keys[physical]
            if not isinstance(key.policy, str):
                key.policy = json.dumps(key.policy)


def _has_lock(s3: Any, bucket: str) -> bool:
    try:
        s3.get_object_lock_configuration(Bucket=bucket)
    except s3.exceptions.ClientError:
        return False
    return True


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": ""},
        "Transitions": [{"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
                        for t in rule.get("Transitions", [])],
        "Expiration": {"Days": rule["ExpirationInDays"]},
        "NoncurrentVersionExpiration": {"NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]},
        "AbortIncompleteMultipartUpload": rule["AbortIncompleteMultipartUpload"],
    }


class MotoDeployer(Deployer):
    """The real deployer; after each stack change it applies what moto's CloudFormation dropped (see above)."""

    def _apply(self, stack_name: str, template: dict[str, Any], *, create: bool) -> bool:
        changed = super()._apply(stack_name, template, create=create)
        complete_moto_cloudformation(BOTO, stack_name, template)
        return changed


@pytest.fixture
def deploy(aws: boto3.Session, bundle: Bundle) -> Iterator[Any]:
    """deploy(options) -> DeployResult, into the simulated account."""
    messages: list[str] = []

    def run(options: StackOptions | None = None) -> DeployResult:
        options = options or StackOptions()
        return MotoDeployer(aws, REGION, say=messages.append, poll_seconds=0.01).deploy(options, bundle)

    run.messages = messages  # type: ignore[attr-defined]
    yield run
