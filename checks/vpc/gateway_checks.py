"""Site-to-Site VPN and transit gateway checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import VpnConnection, transit_gateways, vpn_connections


def _tunnels_evidence(connection: VpnConnection) -> list[dict[str, object]]:
    return [{"outside_ip": t.outside_ip, "status": t.status, "logging_enabled": t.logging_enabled}
            for t in connection.tunnels]


class VpcVpnConnectionTunnelsUp(Check):
    """A Site-to-Site VPN connection has two tunnels so that one can fail or be replaced during AWS
    maintenance without cutting the link. With one tunnel down, the connection runs without redundancy and
    the next maintenance event or fault takes it offline."""

    id = "vpc_vpn_connection_tunnels_up"
    service = "vpc"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Both tunnels of every Site-to-Site VPN connection are up"
    risk = "A VPN connection with a tunnel down has no redundancy and fails with the next fault."
    remediation = Remediation(
        text="Configure both tunnels on the customer gateway device (the AWS-provided configuration lists both) "
        "and check the IKE and IPsec settings of the tunnel that is down.",
        cli="aws ec2 describe-vpn-connections --vpn-connection-ids <vpn-id> --query 'VpnConnections[].VgwTelemetry'",
        terraform='resource "aws_vpn_connection" "office" {\n'
        "  vpn_gateway_id      = aws_vpn_gateway.main.id\n"
        "  customer_gateway_id = aws_customer_gateway.office.id\n"
        '  type                = "ipsec.1"\n'
        "  # configure both tunnel1_* and tunnel2_* on the customer gateway device\n"
        "}",
        url="https://docs.aws.amazon.com/vpn/latest/s2svpn/VPNTunnels.html",
    )
    compliance = (Control("aws-fsbp", "EC2.20"),)
    api_calls = ("ec2:DescribeVpnConnections",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for connection in vpn_connections(ctx):
            up = [t for t in connection.tunnels if t.status.upper() == "UP"]
            evidence = {"state": connection.state, "tunnels": _tunnels_evidence(connection)}
            if len(up) >= 2:
                yield ctx.passed(connection.resource, f"Both tunnels of VPN connection {connection.label} are up.",
                                 evidence)
            else:
                yield ctx.failed(connection.resource, f"VPN connection {connection.label} has {len(up)} of "
                                 f"{max(len(connection.tunnels), 2)} tunnels up.", evidence)


class VpcVpnConnectionLoggingEnabled(Check):
    """Site-to-Site VPN tunnel logs record IKE and IPsec negotiation, tunnel up and down events and
    dead-peer detection in CloudWatch Logs. Without them an outage or an unexpected peer cannot be diagnosed
    or investigated. Every tunnel of the connection must log."""

    id = "vpc_vpn_connection_logging_enabled"
    service = "vpc"
    severity = Severity.MEDIUM
    category = Category.OPERATIONS
    title = "Site-to-Site VPN connections log both tunnels to CloudWatch Logs"
    risk = "VPN tunnel failures and negotiation problems leave no record to diagnose or investigate."
    remediation = Remediation(
        text="Enable CloudWatch Logs for each tunnel of the VPN connection.",
        cli="aws ec2 modify-vpn-tunnel-options --vpn-connection-id <vpn-id> --vpn-tunnel-outside-ip-address <ip> "
        "--tunnel-options '{\"LogOptions\":{\"CloudWatchLogOptions\":{\"LogEnabled\":true,"
        "\"LogGroupArn\":\"<log-group-arn>\",\"LogOutputFormat\":\"json\"}}}'",
        terraform='resource "aws_vpn_connection" "office" {\n'
        "  # ...\n"
        "  tunnel1_log_options {\n"
        "    cloudwatch_log_options {\n"
        "      log_enabled       = true\n"
        "      log_group_arn     = aws_cloudwatch_log_group.vpn.arn\n"
        '      log_output_format = "json"\n'
        "    }\n"
        "  }\n"
        "  # and the same for tunnel2_log_options\n"
        "}",
        url="https://docs.aws.amazon.com/vpn/latest/s2svpn/monitoring-logs.html",
    )
    compliance = (Control("aws-fsbp", "EC2.171"),)
    api_calls = ("ec2:DescribeVpnConnections",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for connection in vpn_connections(ctx):
            evidence = {"state": connection.state, "tunnels": _tunnels_evidence(connection)}
            silent = [t.outside_ip for t in connection.tunnels if not t.logging_enabled]
            if connection.tunnels and not silent:
                yield ctx.passed(connection.resource, f"VPN connection {connection.label} logs every tunnel.",
                                 evidence)
            elif connection.tunnels:
                yield ctx.failed(connection.resource, f"VPN connection {connection.label} does not log tunnel(s) "
                                 f"{', '.join(silent)}.", evidence)
            else:
                yield ctx.failed(connection.resource, f"VPN connection {connection.label} reports no tunnel "
                                 "logging options.", evidence)


class VpcTransitGatewayAutoAcceptDisabled(Check):
    """A transit gateway that automatically accepts shared attachments connects any VPC of any account it is
    shared with to the routing domain, without review. Attachments should be accepted one by one."""

    id = "vpc_transit_gateway_auto_accept_disabled"
    service = "vpc"
    severity = Severity.HIGH
    title = "Transit gateways do not automatically accept shared VPC attachments"
    risk = "Any account the transit gateway is shared with can connect its VPCs to your network unreviewed."
    remediation = Remediation(
        text="Turn off automatic acceptance of shared attachments and accept attachment requests individually.",
        cli="aws ec2 modify-transit-gateway --transit-gateway-id <tgw-id> "
        "--options AutoAcceptSharedAttachments=disable",
        terraform='resource "aws_ec2_transit_gateway" "main" {\n'
        '  auto_accept_shared_attachments = "disable"\n\n'
        '  tags = merge(local.common_tags, { Name = "${var.project}-tgw" })\n'
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/tgw/tgw-transit-gateways.html",
    )
    compliance = (Control("aws-fsbp", "EC2.23"),)
    api_calls = ("ec2:DescribeTransitGateways",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for gateway in transit_gateways(ctx):
            evidence = {"auto_accept_shared_attachments": gateway.auto_accept_shared_attachments,
                        "state": gateway.state}
            if gateway.auto_accept_shared_attachments:
                yield ctx.failed(gateway.resource, f"Transit gateway {gateway.label} automatically accepts shared "
                                 "attachments.", evidence)
            else:
                yield ctx.passed(gateway.resource, f"Transit gateway {gateway.label} does not automatically accept "
                                 "shared attachments.", evidence)
