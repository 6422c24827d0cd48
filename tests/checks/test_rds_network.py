"""Database subnets and reachability from the internet, on the shared network model of checks/vpc/network.py."""
from __future__ import annotations

from typing import Any

import pytest

from auditor import Status

from ..conftest import statuses
from .test_rds_settings import make_instance

SUBNETS = "rds_instance_in_database_subnets"
REACHABLE = "rds_instance_not_reachable_from_internet"


def build_network(aws) -> dict[str, Any]:
    """A VPC with two public subnets (default route to an internet gateway) and two database subnets (none),
    a DB subnet group of each, a security group open to the world on 5432 and one open only to the app."""
    ec2, rds = aws.client("ec2"), aws.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    public, database = [], []
    for n, zone in enumerate("ab"):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n + 1}.0/24",
                                   AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"]
        ec2.associate_route_table(RouteTableId=public_table, SubnetId=subnet)
        public.append(subnet)
        database.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n + 100}.0/24",
                                          AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"])
    rds.create_db_subnet_group(DBSubnetGroupName="public", DBSubnetGroupDescription="public", SubnetIds=public)
    rds.create_db_subnet_group(DBSubnetGroupName="database", DBSubnetGroupDescription="db", SubnetIds=database)
    rds.create_db_subnet_group(DBSubnetGroupName="mixed", DBSubnetGroupDescription="mixed",
                               SubnetIds=[database[0], public[1]])
    app = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    open_db = ec2.create_security_group(GroupName="db-open", Description="open", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=open_db, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    closed_db = ec2.create_security_group(GroupName="db", Description="from app", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=closed_db, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": app}]}])
    return {"public": public, "database": database, "open": open_db, "closed": closed_db}


@pytest.mark.parametrize("check_id", [SUBNETS, REACHABLE])
def test_no_instances_no_findings(audit, check_id):
    run = audit(check_id)
    assert run.findings == () and run.errors == ()


def test_database_subnets_pass_public_or_mixed_fail(audit, aws):
    net = build_network(aws)
    make_instance(aws, "private", DBSubnetGroupName="database")
    make_instance(aws, "public", DBSubnetGroupName="public")
    make_instance(aws, "mixed", DBSubnetGroupName="mixed")
    run = audit(SUBNETS)
    assert statuses(run) == {"private": "PASS", "public": "FAIL", "mixed": "FAIL"}
    by = {f.resource.id: f for f in run.findings}
    assert by["mixed"].evidence["public_subnets"] == [net["public"][1]]
    assert {s["tier"] for s in by["private"].evidence["subnets"]} == {"isolated"}
    public_facts = by["public"].evidence["subnets"][0]
    assert public_facts["tier"] == "public" and public_facts["default_routes"][0]["target"].startswith("igw-")
    assert net["public"][1] in by["mixed"].message and "DB subnet group mixed" in by["mixed"].message


def test_instance_without_subnet_group_fails(audit, aws):
    make_instance(aws, "classic")  # moto leaves DBSubnetGroup out when none was given
    run = audit(SUBNETS)
    assert statuses(run) == {"classic": "FAIL"}
    assert "no DB subnet group" in run.findings[0].message


def test_reachable_only_when_flag_subnet_and_security_group_line_up(audit, aws):
    net = build_network(aws)
    make_instance(aws, "exposed", DBSubnetGroupName="public", PubliclyAccessible=True,
                  VpcSecurityGroupIds=[net["open"]])
    make_instance(aws, "flag-off", DBSubnetGroupName="public", PubliclyAccessible=False,
                  VpcSecurityGroupIds=[net["open"]])
    make_instance(aws, "db-subnets", DBSubnetGroupName="database", PubliclyAccessible=True,
                  VpcSecurityGroupIds=[net["open"]])
    make_instance(aws, "closed-sg", DBSubnetGroupName="public", PubliclyAccessible=True,
                  VpcSecurityGroupIds=[net["closed"]])
    run = audit(REACHABLE)
    assert statuses(run) == {"exposed": "FAIL", "flag-off": "PASS", "db-subnets": "PASS", "closed-sg": "PASS"}
    by = {f.resource.id: f for f in run.findings}
    exposed = by["exposed"].evidence
    assert exposed["publicly_accessible"] is True and exposed["port"] == 5432
    assert exposed["public_subnets"] == net["public"]
    assert [(r["group_id"], r["cidr"]) for r in exposed["open_to_internet_rules"]] == [(net["open"], "0.0.0.0/0")]
    assert net["open"] in by["exposed"].message and "reachable from the internet" in by["exposed"].message
    assert "not publicly accessible" in by["flag-off"].message
    assert "none of its subnets routes to an internet gateway" in by["db-subnets"].message
    assert "no security group admits port 5432" in by["closed-sg"].message
    assert by["closed-sg"].evidence["open_to_internet_rules"] == []


def test_denied_network_read_is_error(audit, aws, faults):
    build_network(aws)
    make_instance(aws, "db", DBSubnetGroupName="database")
    faults.deny("ec2", "DescribeRouteTables")
    run = audit(SUBNETS)
    [finding] = run.findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "ec2:DescribeRouteTables"
