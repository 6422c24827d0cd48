"""Lambda networking: Lambda.3 (in a VPC), Lambda.5 (multiple AZs) and database clients in a VPC."""
from typing import Any

import pytest

from auditor import Status

from ..conftest import BOTO, statuses
from .test_lambda import DB_URL, DB_URL_PASSWORD, assert_no_leak, create_function

IN_VPC = "lambda_function_in_vpc"
MULTI_AZ = "lambda_function_vpc_multi_az"
DB_IN_VPC = "lambda_function_database_client_in_vpc"


@pytest.fixture
def vpc(aws) -> dict[str, Any]:
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.0.10.0/24", "us-east-1a"), ("10.0.20.0/24", "us-east-1b"),
                           ("10.0.30.0/24", "us-east-1a"))
    ]
    group = ec2.create_security_group(GroupName="lambda", Description="lambda", VpcId=vpc_id)["GroupId"]
    return {"subnets": subnets, "group": group}


def vpc_config(vpc: dict[str, Any], *indexes: int) -> dict[str, Any]:
    return {"SubnetIds": [vpc["subnets"][i] for i in indexes], "SecurityGroupIds": [vpc["group"]]}


def with_listed_functions(change):  # noqa: ANN001 - a recorded-response edit of ListFunctions
    def hook(parsed: dict[str, Any], **_: Any) -> None:
        for item in parsed.get("Functions", []):
            change(item)

    return hook


# -- Lambda.3 -------------------------------------------------------------------------------------------------
def test_in_vpc_fails_outside_a_vpc(audit, aws, vpc):
    create_function(aws, "attached", VpcConfig=vpc_config(vpc, 0, 1))
    create_function(aws, "detached")
    run = audit(IN_VPC)
    assert statuses(run) == {"attached": "PASS", "detached": "FAIL"}
    detached = next(f for f in run.findings if f.resource.id == "detached")
    assert detached.evidence == {"vpc_id": None, "subnet_ids": []}
    assert "detached" in detached.message
    attached = next(f for f in run.findings if f.resource.id == "attached")
    assert attached.evidence["subnet_ids"] == vpc["subnets"][:2]


def test_in_vpc_empty_vpc_config_is_not_a_vpc(audit, aws):
    # AWS answers an empty VpcConfig for a function detached from its VPC; moto omits it.
    create_function(aws, "was-attached")
    hook = with_listed_functions(lambda item: item.update(VpcConfig={"SubnetIds": [], "SecurityGroupIds": [],
                                                                     "VpcId": ""}))
    BOTO.events.register("after-call.lambda.ListFunctions", hook)
    try:
        run = audit(IN_VPC)
    finally:
        BOTO.events.unregister("after-call.lambda.ListFunctions", hook)
    assert statuses(run) == {"was-attached": "FAIL"}


def test_in_vpc_no_functions_no_findings(audit):
    assert audit(IN_VPC, MULTI_AZ, DB_IN_VPC).findings == ()


# -- Lambda.5 -------------------------------------------------------------------------------------------------
def test_multi_az_fails_with_subnets_in_one_zone(audit, aws, vpc):
    create_function(aws, "one-zone", VpcConfig=vpc_config(vpc, 0, 2))
    create_function(aws, "two-zones", VpcConfig=vpc_config(vpc, 0, 1))
    create_function(aws, "no-vpc")
    run = audit(MULTI_AZ)
    assert statuses(run) == {"one-zone": "FAIL", "two-zones": "PASS"}  # functions outside a VPC are out of scope
    one = next(f for f in run.findings if f.resource.id == "one-zone")
    assert one.evidence == {"subnet_ids": [vpc["subnets"][0], vpc["subnets"][2]], "availability_zones": ["us-east-1a"],
                            "unknown_subnets": [], "minimum": 2}
    two = next(f for f in run.findings if f.resource.id == "two-zones")
    assert two.evidence["availability_zones"] == ["us-east-1a", "us-east-1b"]


def test_multi_az_minimum_comes_from_parameters(audit, aws, vpc):
    create_function(aws, "two-zones", VpcConfig=vpc_config(vpc, 0, 1))
    assert statuses(audit(MULTI_AZ, params={"lambda.vpc_min_availability_zones": 3})) == {"two-zones": "FAIL"}


def test_multi_az_skips_subnet_reads_without_vpc_functions(audit, aws):
    create_function(aws, "no-vpc")
    run = audit(MULTI_AZ)
    assert run.findings == ()
    assert "ec2:DescribeSubnets" not in run.api_calls


def test_multi_az_denied_describe_subnets_is_error(audit, aws, vpc, faults):
    create_function(aws, "attached", VpcConfig=vpc_config(vpc, 0, 1))
    faults.deny("ec2", "DescribeSubnets", code="UnauthorizedOperation")
    [finding] = audit(MULTI_AZ).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ec2:DescribeSubnets"


# -- database clients -----------------------------------------------------------------------------------------
def test_database_client_outside_a_vpc_fails_naming_only_the_variables(audit, aws, vpc):
    create_function(aws, "reporting", Environment={"Variables": {"DATABASE_URL": DB_URL, "LOG_LEVEL": "info"}})
    create_function(aws, "by-value", Environment={"Variables": {
        "CONN": "jdbc:mysql://orders.internal:3306/orders",
        "ENDPOINT": "orders.cluster-abc123.us-east-1.rds.amazonaws.com"}})
    create_function(aws, "api", VpcConfig=vpc_config(vpc, 0, 1),
                    Environment={"Variables": {"DB_HOST": "db.internal", "PGHOST": "db.internal"}})
    create_function(aws, "thumbnailer", Environment={"Variables": {"BUCKET": "images", "SITE": "https://example.com"}})
    run = audit(DB_IN_VPC)
    assert statuses(run) == {"reporting": "FAIL", "by-value": "FAIL", "api": "PASS"}
    found = {f.resource.id: f for f in run.findings}
    assert found["reporting"].evidence == {"database_variables": ["DATABASE_URL"], "vpc_id": None}
    assert found["by-value"].evidence["database_variables"] == ["CONN", "ENDPOINT"]
    assert found["api"].evidence["database_variables"] == ["DB_HOST", "PGHOST"]
    assert "DATABASE_URL" in found["reporting"].message
    assert_no_leak(run, DB_URL, DB_URL_PASSWORD, "orders.internal", "rds.amazonaws.com")


def test_database_patterns_come_from_parameters(audit, aws):
    create_function(aws, "cache", Environment={"Variables": {"REDIS_HOST": "cache.internal"}})
    assert audit(DB_IN_VPC).findings == ()
    run = audit(DB_IN_VPC, params={"lambda.database_variable_patterns": ["REDIS_*"]})
    assert statuses(run) == {"cache": "FAIL"}


def test_database_client_with_unreadable_environment_is_error(audit, aws):
    create_function(aws, "api", Environment={"Variables": {"DATABASE_URL": DB_URL}})
    error = {"Error": {"ErrorCode": "KMSAccessDeniedException", "Message": "simulated"}}
    hook = with_listed_functions(lambda item: item.update(Environment=error))  # AWS's shape; moto never does it
    BOTO.events.register("after-call.lambda.ListFunctions", hook)
    try:
        run = audit(DB_IN_VPC)
    finally:
        BOTO.events.unregister("after-call.lambda.ListFunctions", hook)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence == {"error_code": "KMSAccessDeniedException"}
