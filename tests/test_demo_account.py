"""The simulated "acme" account of `aws-audit demo`: what it creates, good and bad; it refuses real accounts."""
from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from auditor.demo_account import (
    FAKE_ACCESS_KEY_ID,
    FAKE_API_TOKEN,
    SIMULATED_ACCOUNT,
    seed_demo_account,
)
from auditor.secrets import DOCUMENTATION_EXAMPLES, find_secrets, find_secrets_in_text

from .conftest import ACCOUNT

PROD, STAGING = "us-east-1", "eu-west-1"
SECRET_OPTIONS: dict[str, Any] = {"markers": ("password", "secret", "token"), "min_entropy": 3.0, "min_length": 8}


@pytest.fixture
def acme(aws: boto3.Session) -> dict[str, Any]:
    return seed_demo_account(aws)


def _error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return str(raised.value.response["Error"]["Code"])


def _name(item: dict[str, Any]) -> str:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}.get("Name", "")


def _vpc(ec2: Any, name: str) -> dict[str, Any]:
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    return dict(vpc)


def _instances(ec2: Any) -> dict[str, dict[str, Any]]:
    return {_name(i): i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}


def _summary_names_what_was_created(acme: dict[str, Any]) -> None:
    assert acme["account"] == SIMULATED_ACCOUNT == ACCOUNT
    assert acme["regions"] == {PROD: "prod", STAGING: "staging"}
    assert acme["counts"]["s3"] == 4 and acme["counts"]["lambda"] == 3 and acme["counts"]["rds"] == 2
    assert acme["counts"] == {service: len(names) for service, names in acme["names"].items()}
    assert "acme-reporting-db" in acme["names"]["rds"]
    assert "user/bob" in acme["names"]["iam"]
    assert f"acme-data-{ACCOUNT}" in acme["names"]["s3"]


def _network_prod_is_three_tier_with_flow_logs_staging_is_not(aws: boto3.Session) -> None:
    ec2 = aws.client("ec2", region_name=PROD)
    vpc = _vpc(ec2, "acme-prod-vpc")
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags["Project"] == "acme" and tags["Environment"] == "prod" and tags["ManagedBy"] == "terraform"
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == sorted(
        ["10.0.1.0/24", "10.0.2.0/24", "10.0.10.0/24", "10.0.20.0/24", "10.0.100.0/24", "10.0.200.0/24"]
    )
    assert {s["AvailabilityZone"] for s in subnets} == {"us-east-1a", "us-east-1b"}
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
    assert len(nats) == 2
    flow_logs = ec2.describe_flow_logs()["FlowLogs"]
    assert [f["ResourceId"] for f in flow_logs] == [vpc["VpcId"]]
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True

    staging = aws.client("ec2", region_name=STAGING)
    staging_vpc = _vpc(staging, "acme-staging-vpc")
    assert staging_vpc["CidrBlock"] == "10.1.0.0/16"
    assert staging.describe_flow_logs()["FlowLogs"] == []
    assert staging.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False


def _security_groups_follow_the_guide_plus_two_open_ones(aws: boto3.Session) -> None:
    ec2 = aws.client("ec2", region_name=PROD)
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
    alb, app, db = groups["acme-prod-alb-sg"], groups["acme-prod-app-sg"], groups["acme-prod-db-sg"]
    assert sorted((p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in alb["IpPermissions"]) == [
        (80, "0.0.0.0/0"), (443, "0.0.0.0/0")]
    [to_app] = app["IpPermissions"]
    assert (to_app["FromPort"], to_app["UserIdGroupPairs"][0]["GroupId"]) == (8080, alb["GroupId"])
    [to_db] = db["IpPermissions"]
    assert (to_db["FromPort"], to_db["UserIdGroupPairs"][0]["GroupId"]) == (5432, app["GroupId"])
    assert db["IpPermissionsEgress"] == []
    [ssh] = groups["acme-bastion"]["IpPermissions"]
    assert (ssh["FromPort"], ssh["ToPort"], ssh["IpRanges"][0]["CidrIp"]) == (22, 22, "0.0.0.0/0")
    [psql] = groups["acme-debug"]["IpPermissions"]
    assert (psql["FromPort"], psql["Ipv6Ranges"][0]["CidrIpv6"]) == (5432, "::/0")
    defaults = [g for g in groups.values() if g["GroupName"] == "default" and g["VpcId"] == app["VpcId"]]
    assert defaults and defaults[0]["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]


def _instances_imds_volumes_and_user_data(aws: boto3.Session) -> None:
    ec2 = aws.client("ec2", region_name=PROD)
    instances = _instances(ec2)
    good, legacy = instances["acme-prod-app-1"], instances["acme-legacy-app"]
    assert good["MetadataOptions"]["HttpTokens"] == "required"
    assert legacy["MetadataOptions"]["HttpTokens"] == "optional"

    def volumes(instance: dict[str, Any]) -> dict[str, bool]:
        found = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}])
        return {v["Attachments"][0]["Device"]: v["Encrypted"] for v in found["Volumes"]}

    assert volumes(good) == {"/dev/xvda": True, "/dev/sdf": True}
    assert volumes(legacy) == {"/dev/xvda": True, "/dev/sdf": False}

    raw = ec2.describe_instance_attribute(InstanceId=legacy["InstanceId"], Attribute="userData")["UserData"]["Value"]
    user_data = base64.b64decode(raw).decode()
    assert FAKE_ACCESS_KEY_ID in user_data and FAKE_ACCESS_KEY_ID not in DOCUMENTATION_EXAMPLES
    kinds = {hit.kind for hit in find_secrets_in_text(user_data, **SECRET_OPTIONS)}
    assert {"aws_access_key_id", "aws_secret_access_key"} <= kinds
    raw_good = ec2.describe_instance_attribute(InstanceId=good["InstanceId"], Attribute="userData")["UserData"]
    assert find_secrets_in_text(base64.b64decode(raw_good["Value"]).decode(), **SECRET_OPTIONS) == []

    [staging] = _instances(aws.client("ec2", region_name=STAGING)).values()
    assert staging["MetadataOptions"]["HttpTokens"] == "optional"


def _rds_prod_is_private_and_encrypted_reporting_is_public(aws: boto3.Session) -> None:
    rds = aws.client("rds", region_name=PROD)
    dbs = {d["DBInstanceIdentifier"]: d for d in rds.describe_db_instances()["DBInstances"]}
    prod, reporting = dbs["acme-prod-db"], dbs["acme-reporting-db"]
    rds_key = aws.client("kms", region_name=PROD).describe_key(KeyId="alias/acme-rds")["KeyMetadata"]["Arn"]
    assert (prod["Engine"], prod["StorageEncrypted"], prod["KmsKeyId"]) == ("postgres", True, rds_key)
    assert prod.get("PubliclyAccessible", False) is False and prod["BackupRetentionPeriod"] == 30
    assert {s["SubnetIdentifier"] for s in prod["DBSubnetGroup"]["Subnets"]} == {
        s["SubnetId"] for s in aws.client("ec2", region_name=PROD).describe_subnets(
            Filters=[{"Name": "cidr-block", "Values": ["10.0.100.0/24", "10.0.200.0/24"]}])["Subnets"]}
    assert reporting["PubliclyAccessible"] is True
    assert reporting["StorageEncrypted"] is False and reporting["BackupRetentionPeriod"] == 1


def _s3_data_bucket_is_locked_down_the_others_are_not(aws: boto3.Session) -> None:
    s3 = aws.client("s3", region_name=PROD)
    data = f"acme-data-{ACCOUNT}"
    assert s3.get_bucket_versioning(Bucket=data)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=data)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and rule["BucketKeyEnabled"]
    assert all(s3.get_public_access_block(Bucket=data)["PublicAccessBlockConfiguration"].values())
    [deny] = json.loads(s3.get_bucket_policy(Bucket=data)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert s3.get_bucket_lifecycle_configuration(Bucket=data)["Rules"][0]["ID"] == "archive"

    legacy = f"acme-legacy-uploads-{ACCOUNT}"
    assert "Status" not in s3.get_bucket_versioning(Bucket=legacy)
    assert _error_code(s3.get_public_access_block, Bucket=legacy) == "NoSuchPublicAccessBlockConfiguration"
    assert _error_code(s3.get_bucket_policy, Bucket=legacy) == "NoSuchBucketPolicy"
    s3control = aws.client("s3control", region_name=PROD)
    assert _error_code(s3control.get_public_access_block, AccountId=ACCOUNT) == "NoSuchPublicAccessBlockConfiguration"

    staging = f"acme-staging-{ACCOUNT}"
    assert s3.get_bucket_location(Bucket=staging)["LocationConstraint"] == STAGING
    assert "Status" not in s3.get_bucket_versioning(Bucket=staging)


def _ecs_app_uses_secrets_worker_is_privileged(aws: boto3.Session) -> None:
    ecs = aws.client("ecs", region_name=PROD)
    [cluster] = ecs.describe_clusters(clusters=["acme-cluster"], include=["SETTINGS"])["clusters"]
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]

    app = ecs.describe_task_definition(taskDefinition="acme-app")["taskDefinition"]
    [container] = app["containerDefinitions"]
    assert app["requiresCompatibilities"] == ["FARGATE"] and app["taskRoleArn"].endswith("role/acme-app-role")
    assert container["secrets"][0]["valueFrom"].startswith(f"arn:aws:secretsmanager:{PROD}:{ACCOUNT}:secret:acme/")
    assert container["healthCheck"]["command"][0] == "CMD-SHELL"
    assert container["logConfiguration"]["logDriver"] == "awslogs"

    [worker] = ecs.describe_task_definition(taskDefinition="acme-worker")["taskDefinition"]["containerDefinitions"]
    assert worker["privileged"] is True
    environment = {e["name"]: e["value"] for e in worker["environment"]}
    assert [h.kind for h in find_secrets(environment, **SECRET_OPTIONS)] == ["connection_string_password"]

    [service] = ecs.describe_services(cluster="acme-cluster", services=["acme-app"])["services"]
    assert (service["launchType"], service["desiredCount"]) == ("FARGATE", 2)
    private = aws.client("ec2", region_name=PROD).describe_subnets(
        Filters=[{"Name": "cidr-block", "Values": ["10.0.10.0/24", "10.0.20.0/24"]}])["Subnets"]
    assert set(service["networkConfiguration"]["awsvpcConfiguration"]["subnets"]) == {s["SubnetId"] for s in private}


def _lambda_functions_in_both_regions(aws: boto3.Session) -> None:
    functions = {f["FunctionName"]: f for f in aws.client("lambda", region_name=PROD).list_functions()["Functions"]}
    api, cron = functions["acme-api"], functions["acme-legacy-cron"]
    assert (api["Runtime"], api["TracingConfig"]["Mode"]) == ("python3.12", "Active")
    assert find_secrets(api["Environment"]["Variables"], **SECRET_OPTIONS) == []
    assert cron["Runtime"] == "python3.8" and cron["TracingConfig"]["Mode"] != "Active"
    assert cron["Environment"]["Variables"]["API_TOKEN"] == FAKE_API_TOKEN
    assert [h.key for h in find_secrets(cron["Environment"]["Variables"], **SECRET_OPTIONS)] == ["API_TOKEN"]
    [staging] = aws.client("lambda", region_name=STAGING).list_functions()["Functions"]
    assert (staging["FunctionName"], staging["TracingConfig"]["Mode"]) == ("acme-staging-api", "Active")


def _iam_roles_users_and_policies(aws: boto3.Session) -> None:
    iam = aws.client("iam")
    app_role = iam.get_role(RoleName="acme-app-role")["Role"]
    assert app_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="acme-app-role")["AttachedPolicies"]}
    assert attached == {"acme-s3-access", "acme-secrets-access"}
    cross = iam.get_role(RoleName="CrossAccountDeployRole")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert "sts:ExternalId" in cross["Condition"]["StringEquals"]

    [admin] = iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"]
    assert admin["PolicyName"] == "acme-legacy-admin"
    version = iam.get_policy(PolicyArn=admin["PolicyArn"])["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=admin["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
    assert document["Statement"][0] == {"Effect": "Allow", "Action": "*", "Resource": "*"}

    assert len(iam.list_mfa_devices(UserName="alice")["MFADevices"]) == 1
    assert iam.list_mfa_devices(UserName="bob")["MFADevices"] == []
    for user in ("alice", "bob"):
        assert iam.get_login_profile(UserName=user)["LoginProfile"]["UserName"] == user
    assert _error_code(iam.get_login_profile, UserName="ci-deployer") == "NoSuchEntity"
    assert len(iam.list_access_keys(UserName="ci-deployer")["AccessKeyMetadata"]) == 1
    assert _error_code(iam.get_account_password_policy) == "NoSuchEntity"


def _cloudtrail_guardduty_and_budget(aws: boto3.Session) -> None:
    cloudtrail = aws.client("cloudtrail", region_name=PROD)
    [trail] = cloudtrail.describe_trails()["trailList"]
    assert trail["Name"] == "acme-trail" and trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert trail["KmsKeyId"].startswith(f"arn:aws:kms:{PROD}:{ACCOUNT}:key/")
    assert cloudtrail.get_trail_status(Name="acme-trail")["IsLogging"] is True

    prod_guardduty = aws.client("guardduty", region_name=PROD)
    [detector] = prod_guardduty.list_detectors()["DetectorIds"]
    assert prod_guardduty.get_detector(DetectorId=detector)["Status"] == "ENABLED"
    assert aws.client("guardduty", region_name=STAGING).list_detectors()["DetectorIds"] == []

    budgets = aws.client("budgets", region_name=PROD).describe_budgets(AccountId=ACCOUNT)["Budgets"]
    assert [b["BudgetName"] for b in budgets] == ["acme-monthly-budget"]


# Seeding takes most of a second, so each test below seeds once and checks several services.
def test_summary_and_network(acme: dict[str, Any], aws: boto3.Session) -> None:
    _summary_names_what_was_created(acme)
    _network_prod_is_three_tier_with_flow_logs_staging_is_not(aws)
    _security_groups_follow_the_guide_plus_two_open_ones(aws)


@pytest.mark.usefixtures("acme")
def test_compute(aws: boto3.Session) -> None:
    _instances_imds_volumes_and_user_data(aws)
    _ecs_app_uses_secrets_worker_is_privileged(aws)
    _lambda_functions_in_both_regions(aws)


@pytest.mark.usefixtures("acme")
def test_data(aws: boto3.Session) -> None:
    _rds_prod_is_private_and_encrypted_reporting_is_public(aws)
    _s3_data_bucket_is_locked_down_the_others_are_not(aws)


@pytest.mark.usefixtures("acme")
def test_identity_and_logging(aws: boto3.Session) -> None:
    _iam_roles_users_and_policies(aws)
    _cloudtrail_guardduty_and_budget(aws)


# -- refusing anything but the simulated account ------------------------------------------------------------------
class _StubSession:
    """Answers GetCallerIdentity with a chosen account; records which clients were asked for. No network."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.requested: list[str] = []

    def client(self, service_name: str, region_name: str | None = None, **_: Any) -> Any:
        self.requested.append(service_name)
        stub = self

        class _Client:
            def get_caller_identity(self) -> dict[str, str]:
                return {"Account": stub.account, "Arn": f"arn:aws:iam::{stub.account}:user/someone", "UserId": "X"}

            def __getattr__(self, name: str) -> Any:
                raise AssertionError(f"{service_name}.{name} called on a refused account")

        return _Client()


def test_refuses_an_account_that_is_not_motos() -> None:
    session = _StubSession("210987654321")
    with pytest.raises(RuntimeError, match="refusing to seed account '210987654321'"):
        seed_demo_account(session)  # type: ignore[arg-type]
    assert session.requested == ["sts"]


def test_refuses_the_same_region_twice_before_any_call() -> None:
    session = _StubSession(SIMULATED_ACCOUNT)
    with pytest.raises(ValueError, match="two different regions"):
        seed_demo_account(session, ("us-east-1", "us-east-1"))  # type: ignore[arg-type]
    assert session.requested == []
