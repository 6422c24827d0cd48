"""RDS checks that need the region's network: database subnets and reachability from the internet.

Both read the shared network model of checks/vpc/network.py (subnet routing and security groups).
"""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Check, CheckContext, Finding, Remediation, Severity

from ..vpc.network import NETWORK_API_CALLS, Network, network
from .resources import DbInstance, db_instances

_SUBNET_GROUP_TERRAFORM = ('resource "aws_db_instance" "main" {\n'
                           '  identifier = "${var.project}-db"\n'
                           '  # ...\n'
                           '  db_subnet_group_name   = module.vpc.database_subnet_group_name\n'
                           '  vpc_security_group_ids = [aws_security_group.db.id]\n'
                           '  publicly_accessible    = false\n'
                           '}')


def _public_subnets(net: Network, instance: DbInstance) -> list[str]:
    return [subnet for subnet in instance.subnet_ids if net.subnet_is_public(subnet)]


class RdsInstanceInDatabaseSubnets(Check):
    """The seed architecture puts databases in dedicated database subnets with no route to an internet
    gateway. RDS may place an instance (or fail it over) in any subnet of its DB subnet group, so every subnet
    of the group must be private or isolated: one public subnet is enough for the database to land where a
    public address and a security-group mistake expose it."""

    id = "rds_instance_in_database_subnets"
    service = "rds"
    severity = Severity.HIGH
    title = "RDS DB instances use only subnets without a route to an internet gateway"
    risk = "A failover or restart can put the database in a public subnet, one setting away from the internet."
    remediation = Remediation(
        text="Move the instance to a DB subnet group made only of database subnets (route tables without an "
             "internet gateway route).",
        cli="aws rds modify-db-instance --db-instance-identifier <instance> --db-subnet-group-name "
            "<database-subnet-group> --apply-immediately",
        terraform=_SUBNET_GROUP_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.Scenarios.html",
    )
    api_calls = ("rds:DescribeDBInstances",) + NETWORK_API_CALLS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        instances = db_instances(ctx)
        if not instances:
            return
        net = network(ctx)
        for instance in instances:
            public = _public_subnets(net, instance)
            evidence: dict[str, Any] = {
                "db_subnet_group": instance.subnet_group,
                "subnets": [net.subnet_evidence(subnet) for subnet in instance.subnet_ids],
                "public_subnets": public,
            }
            if not instance.subnet_ids:
                yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} has no DB subnet group "
                                 f"subnets to judge.", evidence)
            elif public:
                yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} can be placed in public "
                                 f"subnet(s) {', '.join(public)} of DB subnet group {instance.subnet_group}.",
                                 evidence)
            else:
                yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} uses only subnets without a "
                                 f"route to an internet gateway (DB subnet group {instance.subnet_group}).",
                                 evidence)


class RdsInstanceNotReachableFromInternet(Check):
    """A database is reachable from the internet when three things line up: it is publicly accessible (its DNS
    name resolves to a public address), it sits in a subnet with a route to an internet gateway, and one of its
    security groups admits its port from 0.0.0.0/0 or ::/0. Each fact is reported; the instance fails only when
    all three hold, and the finding names them."""

    id = "rds_instance_not_reachable_from_internet"
    service = "rds"
    severity = Severity.CRITICAL
    title = "RDS DB instances are not reachable from the internet"
    risk = "Anyone on the internet can reach the database's login and attack its credentials or engine."
    remediation = Remediation(
        text="Break the path: turn off public accessibility, move the instance to database subnets, and allow "
             "the database port only from the application's security group.",
        cli="aws rds modify-db-instance --db-instance-identifier <instance> --no-publicly-accessible "
            "--apply-immediately && aws ec2 revoke-security-group-ingress --group-id <sg> --protocol tcp "
            "--port <port> --cidr 0.0.0.0/0",
        terraform=_SUBNET_GROUP_TERRAFORM + '\n\n'
                  'resource "aws_security_group" "db" {\n'
                  '  name_prefix = "${var.project}-db-"\n'
                  '  vpc_id      = module.vpc.vpc_id\n\n'
                  '  ingress {\n'
                  '    from_port       = 5432\n'
                  '    to_port         = 5432\n'
                  '    protocol        = "tcp"\n'
                  '    security_groups = [aws_security_group.app.id]\n'
                  '    description     = "PostgreSQL from app"\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html"
            "#USER_VPC.Hiding",
    )
    api_calls = ("rds:DescribeDBInstances",) + NETWORK_API_CALLS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        instances = db_instances(ctx)
        if not instances:
            return
        net = network(ctx)
        for instance in instances:
            public_subnets = _public_subnets(net, instance)
            open_rules = net.open_to_internet(instance.security_groups, instance.port) if instance.port else []
            evidence: dict[str, Any] = {
                "publicly_accessible": instance.publicly_accessible,
                "public_subnets": public_subnets,
                "port": instance.port,
                "security_groups": list(instance.security_groups),
                "open_to_internet_rules": open_rules,
            }
            blocked_by = [reason for reason, holds in (
                ("it is not publicly accessible", not instance.publicly_accessible),
                ("none of its subnets routes to an internet gateway", not public_subnets),
                (f"no security group admits port {instance.port} from the internet", not open_rules),
            ) if holds]
            if blocked_by:
                yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} is not reachable from the "
                                 f"internet: {'; '.join(blocked_by)}.", evidence)
            else:
                groups = ", ".join(sorted({rule["group_id"] for rule in open_rules}))
                yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} is reachable from the "
                                 f"internet: publicly accessible, in public subnet(s) {', '.join(public_subnets)}, "
                                 f"and {groups} admit(s) port {instance.port} from anywhere.", evidence)
