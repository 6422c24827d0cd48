"""The auditor's own footprint follows the guide it checks: after `deploy`, the engine finds no unexplained FAIL and
no ERROR on the stack's bucket, key, roles, function and log group. The few findings the stack knowingly does not
satisfy are declared by the stack itself (auditor/deploy/accepted.py), each on its exact resource with its reason;
the audit runs with them the way a user would (the mutelist file `deploy` writes to the bucket), and without them,
to prove the declared list is exactly what really fails — so it cannot go stale — and hides nothing else."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from auditor import AuditConfig, Status, run_audit
from auditor.deploy.accepted import CONFIG_KEY, OWNER, REASONS
from auditor.deploy.template import StackOptions, build_template
from auditor.lambda_handler import run_handler
from auditor.mutelist import Mutelist
from auditor.registry import load_checks
from tests.conftest import ACCOUNT, BOTO, REGION
from tests.deploy.conftest import MOTO_UNSUPPORTED, complete_moto_cloudformation

pytestmark = MOTO_UNSUPPORTED

SERVICES = ("s3", "iam", "kms", "lambda", "cloudwatch")
OTHER_BUCKET = "someone-elses-data"  # not the stack's: fails the same S3 checks, and must stay failing

# check id -> why moto cannot show the template's setting (asserted on the template in test_template.py instead).
MOTO_CANNOT_SHOW = {
    "s3_bucket_event_notifications_enabled":
        "moto answers {} to GetBucketNotificationConfiguration after EventBridge delivery is enabled",
}
LEAST_PRIVILEGE = {"Version": "2012-10-17", "Statement": [
    {"Sid": "AwsAuditReadOnly", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "sts:GetCallerIdentity"],
     "Resource": "*"}]}


@dataclass
class Context:
    aws_request_id: str = "5f0c2d1e-0000-4000-8000-000000000002"


def _network(aws: boto3.Session) -> dict[str, tuple[str, ...]]:
    """Private subnets in two Availability Zones and a security group, as the guide's VPC module makes them."""
    ec2 = aws.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24", AvailabilityZone=f"{REGION}{zone}")[
        "Subnet"]["SubnetId"] for n, zone in ((1, "a"), (2, "b")))
    group = ec2.create_security_group(GroupName="aws-audit", Description="aws-audit function: HTTPS out",
                                      VpcId=vpc)["GroupId"]
    return {"subnet_ids": subnets, "security_group_ids": (group,)}


VARIANTS = {
    "default": lambda aws: StackOptions(notify_email="security@example.com"),
    "fan-out-least-privilege": lambda aws: StackOptions(fan_out=True, least_privilege_policy=LEAST_PRIVILEGE),
    "vpc": lambda aws: StackOptions(notify_email="security@example.com", **_network(aws)),
}


def _stack_resources(stack: str) -> tuple[set[str], set[str]]:
    cfn = BOTO.client("cloudformation", region_name=REGION)
    resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    ids = {r["PhysicalResourceId"] for r in resources if r.get("PhysicalResourceId")}
    return ids, {r["ResourceType"] for r in resources if r.get("ResourceType")}


def _ours(finding: Any, ids: set[str]) -> bool:
    resource = finding.resource
    if resource.type == "AWS::::Account":
        return False
    return resource.id in ids or resource.name in ids or any(
        resource.arn.endswith((f":{i}", f"/{i}")) for i in ids)


def _fetch_accepted(aws: boto3.Session, bucket: str, tmp_path: Path) -> Path:
    """What a user does: `aws s3 cp s3://BUCKET/config/accepted-findings.yaml .`"""
    path = tmp_path / "accepted-findings.yaml"
    body = aws.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=CONFIG_KEY)["Body"].read()
    path.write_bytes(body)
    return path


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_deployed_stack_passes_its_own_audit_but_for_what_it_declares(
        deploy: Any, aws: boto3.Session, tmp_path: Path, variant: str) -> None:
    options = VARIANTS[variant](aws)
    result = deploy(options)
    bucket = result.outputs["ReportBucket"]
    accepted_file = _fetch_accepted(aws, bucket, tmp_path)
    deployed_environment = aws.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=options.stack_name)["Environment"]["Variables"]
    # After the last upload: moto evaluates the TLS-only policy without its condition and then denies everything.
    complete_moto_cloudformation(BOTO, options.stack_name, build_template(options, code_key=result.bundle_key),
                                 bucket_policy=True)
    s3 = aws.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=OTHER_BUCKET)
    ids, types = _stack_resources(options.stack_name)
    checks = [c for c in load_checks().values() if c.service in SERVICES]

    mutelist = Mutelist.load(accepted_file)
    declared = {(r.check, r.resource) for r in mutelist.rules}
    assert all(r.owner == OWNER and r.reason == REASONS[r.check] for r in mutelist.rules)
    # The function mutes the very same rules in its own runs.
    assert json.loads(deployed_environment["AWS_AUDIT_ACCEPTED"]) == {
        "rules": [{"check": r.check, "resource": r.resource, "reason": r.reason, "owner": r.owner,
                   "status": r.status} for r in mutelist.rules]}
    assert {r.status for r in mutelist.rules} == {"FAIL"}

    bare = run_audit(AuditConfig(regions=(REGION,), workers=8, max_attempts=2), boto_session=BOTO, checks=checks)
    muted = run_audit(AuditConfig(regions=(REGION,), workers=8, max_attempts=2, mutelist=mutelist),
                      boto_session=BOTO, checks=checks)

    ours = [f for f in bare.findings if _ours(f, ids)]
    audited = {f.resource.type for f in ours}
    assert {"AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::KMS::Key"} <= audited, audited
    assert "AWS::Logs::LogGroup" in types
    assert not [f for f in ours if f.status is Status.ERROR], [f.message for f in ours if f.status is Status.ERROR]
    # The declared exceptions are exactly what really fails on the stack's resources, resource by resource: none
    # missing, none stale.
    failing = {(f.check_id, f.resource.arn) for f in ours if f.status is Status.FAIL}
    assert {(c, a) for c, a in failing if c not in MOTO_CANNOT_SHOW} == declared
    assert {c for c, _ in failing if c in MOTO_CANNOT_SHOW} == set(MOTO_CANNOT_SHOW)

    # With them: no unexplained FAIL, no ERROR; every muted finding is a declared one and carries its reason.
    ours_muted = [f for f in muted.findings if _ours(f, ids)]
    assert not [f for f in ours_muted if f.status is Status.ERROR]
    assert {f.check_id for f in ours_muted if f.status is Status.FAIL and not f.muted} == set(MOTO_CANNOT_SHOW)
    reasons = {(r.check, r.resource): f"{r.reason} (owner: {OWNER})" for r in mutelist.rules}
    silenced = {(f.check_id, f.resource.arn): f.mute_reason for f in muted.findings if f.muted}
    assert silenced == reasons
    # The rules name the stack's resources only: another bucket failing the same checks stays failing.
    other = {f.check_id for f in muted.findings if f.resource.id == OTHER_BUCKET and f.status is Status.FAIL}
    assert {c for c, _ in declared if c.startswith("s3_")} <= other
    assert not [f for f in muted.findings if f.resource.id == OTHER_BUCKET and f.muted]

    passed = {f.check_id for f in ours if f.status is Status.PASS}
    assert {"s3_bucket_tls_required", "s3_bucket_versioning_enabled", "s3_bucket_public_access_blocked",
            "s3_bucket_kms_encrypted", "s3_bucket_lifecycle_configured", "s3_bucket_object_lock_enabled",
            "lambda_function_xray_tracing_active", "lambda_function_runtime_supported",
            "lambda_function_no_environment_secrets", "kms_key_rotation_enabled"} <= passed
    if options.in_vpc:  # the guide's Lambda pattern: in the VPC's private subnets, in two zones
        assert {"lambda_function_in_vpc", "lambda_function_vpc_multi_az"} <= passed
        assert "lambda_function_in_vpc" not in {c for c, _ in declared}
    else:
        assert ("lambda_function_in_vpc",
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{options.stack_name}") in declared

    # The deployed function's own run (its environment, reports to a bucket of the test's: moto's reading of the
    # report bucket's policy refuses every write now) shows them muted with their reasons and does not notify them.
    s3.create_bucket(Bucket="handler-reports")
    answer = run_handler({"bucket": "handler-reports", "regions": REGION, "services": ",".join(SERVICES),
                          "fail_on": "informational"}, Context(), boto_session=BOTO, environ=deployed_environment)
    report = json.loads(s3.get_object(Bucket="handler-reports", Key=f"{ACCOUNT}/latest.json")["Body"].read())
    shown = {(f["check_id"], f["resource"]["arn"]): f["mute_reason"] for f in report["findings"] if f["muted"]}
    assert shown == reasons
    unexplained = [f for f in report["findings"] if f["status"] == "FAIL" and not f["muted"]
                   and f["resource"]["arn"] in {a for _, a in declared}]
    assert {f["check_id"] for f in unexplained} <= set(MOTO_CANNOT_SHOW)
    # Notified at every severity: every FAIL that is not muted, and not one of the muted ones.
    failed = [f for f in report["findings"] if f["status"] == "FAIL"]
    assert answer["new_failing"] == len([f for f in failed if not f["muted"]]) == len(failed) - len(declared)
