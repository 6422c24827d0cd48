"""VPC checks: flow logs and security groups."""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import (
    Rule,
    SecurityGroup,
    Vpc,
    flow_logs,
    internet_exposures,
    security_groups,
    unauthorized_internet_rules,
    vpcs,
)

# Evidence lists are capped: a group with hundreds of rules must not bloat every report.
MAX_RULES_IN_EVIDENCE = 20


def _rules_evidence(rules: tuple[Rule, ...] | list[Rule]) -> list[dict[str, Any]]:
    return [rule.evidence() for rule in rules[:MAX_RULES_IN_EVIDENCE]]


def _ports_text(ports: list[int]) -> str:
    return ", ".join(str(p) for p in ports)


class VpcFlowLogsEnabled(Check):
    """VPC flow logs record the IP traffic that reaches and leaves the network interfaces of a VPC. Without
    them there is no record of which addresses talked to which, so an intrusion, data exfiltration or a port
    scan cannot be detected or investigated afterwards; GuardDuty also draws on them."""

    id = "vpc_flow_logs_enabled"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "Every VPC has an active flow log"
    risk = "Network traffic in the VPC leaves no record to detect or investigate an attack with."
    remediation = Remediation(
        text="Create a flow log for every VPC, capturing at least rejected traffic (ALL is better for "
        "investigations), delivered to CloudWatch Logs or S3.",
        cli="aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc-id> --traffic-type ALL "
        "--log-destination-type cloud-watch-logs --log-group-name <log-group> "
        "--deliver-logs-permission-arn <role-arn>",
        terraform='module "vpc" {\n'
        '  source  = "terraform-aws-modules/vpc/aws"\n'
        '  version = "5.0.0"\n'
        "  # ...\n\n"
        "  # VPC Flow Logs\n"
        "  enable_flow_log                      = true\n"
        "  create_flow_log_cloudwatch_iam_role  = true\n"
        "  create_flow_log_cloudwatch_log_group = true\n"
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html",
    )
    compliance = (
        Control("aws-fsbp", "EC2.6"),
        Control("cis-aws-3.0", "3.7"),
        Control("cis-aws-4.0.1", "3.7"),
    )
    api_calls = ("ec2:DescribeVpcs", "ec2:DescribeFlowLogs")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from ctx.each(vpcs(ctx), lambda vpc: self._judge(ctx, vpc))

    @staticmethod
    def _judge(ctx: CheckContext, vpc: Vpc) -> Iterator[Finding]:
        logs = flow_logs(ctx, vpc.id)
        active = [log.id for log in logs if log.active]
        evidence = {"flow_logs": [log.evidence() for log in logs]}
        if active:
            yield ctx.passed(vpc.resource, f"{vpc.label} has an active flow log ({', '.join(active)}).", evidence)
        elif logs:
            yield ctx.failed(vpc.resource, f"{vpc.label} has flow logs but none is active.", evidence)
        else:
            yield ctx.failed(vpc.resource, f"{vpc.label} has no flow log.", evidence)


class VpcDefaultSecurityGroupClosed(Check):
    """Every VPC comes with a default security group that anything launched without an explicit group falls
    into, and by default it lets all members talk to each other and reach anywhere. Removing all of its rules
    forces every workload onto a purpose-built group and stops accidental, unreviewed connectivity."""

    id = "vpc_default_security_group_closed"
    service = "vpc"
    severity = Severity.HIGH
    title = "The default security group of every VPC allows no inbound or outbound traffic"
    risk = "Resources launched without a chosen security group get unreviewed network access."
    remediation = Remediation(
        text="Remove every inbound and outbound rule from the default security group of each VPC, and give "
        "workloads purpose-built security groups instead.",
        cli="aws ec2 revoke-security-group-ingress --group-id <sg-id> --ip-permissions "
        "\"$(aws ec2 describe-security-groups --group-ids <sg-id> --query 'SecurityGroups[0].IpPermissions')\" && "
        "aws ec2 revoke-security-group-egress --group-id <sg-id> --ip-permissions "
        "\"$(aws ec2 describe-security-groups --group-ids <sg-id> --query 'SecurityGroups[0].IpPermissionsEgress')\"",
        terraform='module "vpc" {\n'
        '  source  = "terraform-aws-modules/vpc/aws"\n'
        '  version = "5.0.0"\n'
        "  # ...\n\n"
        "  # Take over the default security group and leave it without rules\n"
        "  manage_default_security_group  = true\n"
        "  default_security_group_ingress = []\n"
        "  default_security_group_egress  = []\n"
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html",
    )
    compliance = (
        Control("aws-fsbp", "EC2.2"),
        Control("cis-aws-3.0", "5.4"),
        Control("cis-aws-4.0.1", "5.5"),
    )
    api_calls = ("ec2:DescribeSecurityGroups",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for group in security_groups(ctx):
            if group.is_default:
                yield self._judge(ctx, group)

    @staticmethod
    def _judge(ctx: CheckContext, group: SecurityGroup) -> Finding:
        evidence = {
            "vpc_id": group.vpc_id,
            "ingress_rule_count": len(group.ingress),
            "egress_rule_count": len(group.egress),
            "ingress_rules": _rules_evidence(group.ingress),
            "egress_rules": _rules_evidence(group.egress),
        }
        if not group.ingress and not group.egress:
            return ctx.passed(
                group.resource,
                f"Default security group {group.id} of VPC {group.vpc_id} has no rules.",
                evidence,
            )
        return ctx.failed(
            group.resource,
            f"Default security group {group.id} of VPC {group.vpc_id} has {len(group.ingress)} inbound and "
            f"{len(group.egress)} outbound rule(s).",
            evidence,
        )


class _InternetPortsCheck(Check):
    """Shared evaluation of "no security group opens these ports to the internet" (not a check itself)."""

    ports_parameter: ClassVar[str]  # the defaults.yaml key listing the watched ports
    ports_kind: ClassVar[str]  # how messages name those ports
    authorized_parameter: ClassVar[str] = "network.authorized_public_ports"

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        ports = [int(p) for p in ctx.param(self.ports_parameter)]
        authorized = [int(p) for p in ctx.param(self.authorized_parameter)]
        watched = sorted(set(ports) - set(authorized))
        for group in security_groups(ctx):
            exposures = internet_exposures(group, ports, authorized)
            if not exposures:
                yield ctx.passed(
                    group.resource,
                    f"Security group {group.label} allows no ingress from the internet to {self.ports_kind} ports.",
                    {"vpc_id": group.vpc_id, "checked_ports": watched},
                )
                continue
            exposed = sorted({port for exposure in exposures for port in exposure.ports})
            yield ctx.failed(
                group.resource,
                f"Security group {group.label} allows ingress from the internet to {self.ports_kind} "
                f"port(s) {_ports_text(exposed)}.",
                {
                    "vpc_id": group.vpc_id,
                    "exposed_ports": exposed,
                    "rules": [e.evidence() for e in exposures[:MAX_RULES_IN_EVIDENCE]],
                },
            )


class VpcSecurityGroupAdminPortsRestricted(_InternetPortsCheck):
    """SSH and RDP open to the whole internet are found by scanners within minutes and then brute-forced or
    hit with the next remote-access vulnerability. Administration should go through Systems Manager Session
    Manager, a VPN or a bastion, with the security group naming those sources instead of 0.0.0.0/0 or ::/0.
    A rule counts when its source is 0.0.0.0/0 or ::/0 and it allows all traffic, or a TCP/UDP port range that
    contains an administration port (`network.admin_ports`); ports in `network.authorized_public_ports` are
    never reported on their own."""

    id = "vpc_security_group_admin_ports_restricted"
    service = "vpc"
    severity = Severity.HIGH
    title = "No security group allows ingress from 0.0.0.0/0 or ::/0 to remote administration ports"
    risk = "Internet-wide SSH/RDP access invites brute-force attacks and exploitation of remote-access flaws."
    remediation = Remediation(
        text="Remove the rules that open administration ports to 0.0.0.0/0 or ::/0. Use Systems Manager Session "
        "Manager, or allow only a VPN, bastion security group or known address range.",
        cli="aws ec2 revoke-security-group-ingress --group-id <sg-id> "
        "--ip-permissions 'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=0.0.0.0/0}]'",
        terraform='resource "aws_security_group" "app" {\n'
        '  name_prefix = "${var.project}-app-"\n'
        "  vpc_id      = module.vpc.vpc_id\n\n"
        "  ingress {\n"
        "    from_port       = 22\n"
        "    to_port         = 22\n"
        '    protocol        = "tcp"\n'
        "    security_groups = [aws_security_group.bastion.id]\n"
        '    description     = "SSH from the bastion only"\n'
        "  }\n\n"
        '  tags = merge(local.common_tags, { Name = "${var.project}-app-sg" })\n'
        "}",
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-rules-reference.html",
    )
    compliance = (
        Control("aws-securityhub", "EC2.13"),
        Control("aws-securityhub", "EC2.14"),
        Control("aws-securityhub", "EC2.53"),
        Control("aws-securityhub", "EC2.54"),
        Control("cis-aws-3.0", "5.2"),
        Control("cis-aws-3.0", "5.3"),
        Control("cis-aws-4.0.1", "5.3"),
        Control("cis-aws-4.0.1", "5.4"),
    )
    api_calls = ("ec2:DescribeSecurityGroups",)
    parameters = ("network.admin_ports", "network.authorized_public_ports")
    ports_parameter = "network.admin_ports"
    ports_kind = "administration"


class VpcSecurityGroupDatabasePortsRestricted(_InternetPortsCheck):
    """Databases, caches and search engines (PostgreSQL, MySQL, SQL Server, Oracle, Redis, Memcached, MongoDB,
    Elasticsearch, ...) reachable from the whole internet are scanned for constantly and a weak or leaked
    password, or an unauthenticated default, gives direct access to the data. In the three-tier layout only
    the application tier's security group should reach the database tier. A rule counts when its source is
    0.0.0.0/0 or ::/0 and it allows all traffic, or a TCP/UDP port range that contains a port in
    `network.database_ports`; ports in `network.authorized_public_ports` are never reported on their own."""

    id = "vpc_security_group_database_ports_restricted"
    service = "vpc"
    severity = Severity.CRITICAL
    title = "No security group allows ingress from 0.0.0.0/0 or ::/0 to database ports"
    risk = "A database exposed to the internet is one weak or leaked credential away from a data breach."
    remediation = Remediation(
        text="Remove the rules that open database ports to 0.0.0.0/0 or ::/0, and allow only the security group "
        "of the application tier (or a private address range).",
        cli="aws ec2 revoke-security-group-ingress --group-id <sg-id> "
        "--ip-permissions 'IpProtocol=tcp,FromPort=5432,ToPort=5432,IpRanges=[{CidrIp=0.0.0.0/0}]'",
        terraform='resource "aws_security_group" "db" {\n'
        '  name_prefix = "${var.project}-db-"\n'
        "  vpc_id      = module.vpc.vpc_id\n\n"
        "  ingress {\n"
        "    from_port       = 5432\n"
        "    to_port         = 5432\n"
        '    protocol        = "tcp"\n'
        "    security_groups = [aws_security_group.app.id]\n"
        '    description     = "PostgreSQL from app"\n'
        "  }\n\n"
        '  tags = merge(local.common_tags, { Name = "${var.project}-db-sg" })\n'
        "}",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.RDSSecurityGroups.html",
    )
    compliance = (Control("aws-fsbp", "EC2.19"),)
    api_calls = ("ec2:DescribeSecurityGroups",)
    parameters = ("network.database_ports", "network.authorized_public_ports")
    ports_parameter = "network.database_ports"
    ports_kind = "database"


class VpcSecurityGroupPublicPortsAuthorized(Check):
    """Only the ports a service is meant to offer to everyone (in the three-tier layout, the load balancer's
    HTTP and HTTPS) should be open to 0.0.0.0/0 or ::/0. Any other port open to the internet, such as an
    application port meant for the load balancer alone, widens the attack surface and bypasses the load
    balancer's protections. A rule counts when its source is 0.0.0.0/0 or ::/0 and it allows all traffic, or a
    TCP/UDP port range with a port outside `network.authorized_public_ports`; ICMP is not considered."""

    id = "vpc_security_group_public_ports_authorized"
    service = "vpc"
    severity = Severity.HIGH
    title = "Security groups open only authorized ports to 0.0.0.0/0 or ::/0"
    risk = "Ports open to the internet beyond the intended public ones expose services that were not meant to be."
    remediation = Remediation(
        text="Restrict rules open to 0.0.0.0/0 or ::/0 to the authorized public ports (by default 80 and 443); "
        "let other tiers accept traffic only from the security group in front of them.",
        cli="aws ec2 revoke-security-group-ingress --group-id <sg-id> --security-group-rule-ids <sgr-id>",
        terraform='resource "aws_security_group" "app" {\n'
        '  name_prefix = "${var.project}-app-"\n'
        "  vpc_id      = module.vpc.vpc_id\n\n"
        "  ingress {\n"
        "    from_port       = 8080\n"
        "    to_port         = 8080\n"
        '    protocol        = "tcp"\n'
        "    security_groups = [aws_security_group.alb.id]\n"
        '    description     = "App port from ALB"\n'
        "  }\n\n"
        '  tags = merge(local.common_tags, { Name = "${var.project}-app-sg" })\n'
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
    )
    compliance = (Control("aws-fsbp", "EC2.18"),)
    api_calls = ("ec2:DescribeSecurityGroups",)
    parameters = ("network.authorized_public_ports",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        authorized = sorted(int(p) for p in ctx.param("network.authorized_public_ports"))
        for group in security_groups(ctx):
            offending = unauthorized_internet_rules(group, authorized)
            if not offending:
                yield ctx.passed(
                    group.resource,
                    f"Security group {group.label} opens no port beyond the authorized ones to the internet.",
                    {"vpc_id": group.vpc_id, "authorized_ports": authorized},
                )
                continue
            yield ctx.failed(
                group.resource,
                f"Security group {group.label} opens unauthorized ports to the internet in "
                f"{len(offending)} rule(s).",
                {"vpc_id": group.vpc_id, "authorized_ports": authorized, "rules": _rules_evidence(offending)},
            )
