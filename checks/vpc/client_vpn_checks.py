"""Access to the VPCs from outside: Client VPN connection logging, and VPC Block Public Access for internet
gateway traffic."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .access_resources import block_public_access, client_vpn_endpoints

BLOCK_MODES = "vpc.block_public_access_modes"


class VpcClientVpnConnectionLoggingEnabled(Check):
    """A Client VPN endpoint lets remote users into the VPC. Its connection logs record every connection
    attempt and session to CloudWatch Logs: who connected (the client certificate or user), from which
    address, when, for how long and whether the attempt succeeded. Without them a stolen VPN credential, a
    brute-force attempt or a former employee's access cannot be seen or investigated."""

    id = "vpc_client_vpn_connection_logging_enabled"
    service = "vpc"
    severity = Severity.LOW
    title = "Client VPN endpoints log client connections"
    risk = "Connections through a Client VPN endpoint without connection logging leave no record to investigate."
    remediation = Remediation(
        text="Turn on connection logging for the Client VPN endpoint, to a CloudWatch Logs log group.",
        cli="aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id <endpoint-id> --connection-log-options "
        "Enabled=true,CloudwatchLogGroup=<log-group>",
        terraform='resource "aws_ec2_client_vpn_endpoint" "main" {\n'
                  '  description            = "${var.project}-client-vpn"\n'
                  '  # ...\n\n'
                  '  connection_log_options {\n'
                  '    enabled               = true\n'
                  '    cloudwatch_log_group  = aws_cloudwatch_log_group.client_vpn.name\n'
                  '    cloudwatch_log_stream = aws_cloudwatch_log_stream.client_vpn.name\n'
                  '  }\n\n'
                  '  tags = local.common_tags\n'
                  '}',
        url="https://docs.aws.amazon.com/vpn/latest/clientvpn-admin/connection-logging.html",
    )
    compliance = (Control("aws-fsbp", "EC2.51"),)
    api_calls = ("ec2:DescribeClientVpnEndpoints",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for endpoint in client_vpn_endpoints(ctx):
            evidence: dict[str, Any] = {"status": endpoint.status, "connection_logging": endpoint.logging_enabled,
                                        "vpc_id": endpoint.vpc_id or None}
            if endpoint.logging_enabled:
                evidence["log_group"] = endpoint.log_group or None
                yield ctx.passed(endpoint.resource, f"Client VPN endpoint {endpoint.label} logs client connections.",
                                 evidence)
            else:
                yield ctx.failed(endpoint.resource, f"Client VPN endpoint {endpoint.label} does not log client "
                                 f"connections.", evidence)


class VpcBlockPublicAccessEnabled(Check):
    """VPC Block Public Access is a region-wide switch above route tables and security groups: in
    block-bidirectional mode no internet gateway traffic reaches or leaves any VPC of the region, in
    block-ingress mode only connections started from inside (through NAT or egress-only gateways) are allowed.
    VPCs and subnets that must be reachable (a public load balancer's subnets) are exempted by name, so a
    mistaken route or an open security group elsewhere cannot expose a workload. The region passes when its
    internet gateway block mode is one of vpc.block_public_access_modes and fails when it is off."""

    id = "vpc_block_public_access_enabled"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "VPC Block Public Access blocks internet gateway traffic in every audited region"
    risk = "Without Block Public Access, one wrong route or security group rule exposes a VPC to the internet."
    remediation = Remediation(
        text="Turn on VPC Block Public Access (block-ingress, or block-bidirectional where no VPC needs the "
        "internet) after creating exclusions for the VPCs or subnets that must stay reachable.",
        cli="aws ec2 modify-vpc-block-public-access-options --internet-gateway-block-mode block-ingress "
        "--region <region>",
        terraform='resource "aws_vpc_block_public_access_options" "main" {\n'
                  '  internet_gateway_block_mode = "block-ingress"\n'
                  '}\n\n'
                  'resource "aws_vpc_block_public_access_exclusion" "public_subnets" {\n'
                  '  for_each = toset(module.vpc.public_subnets)\n\n'
                  '  subnet_id                       = each.value\n'
                  '  internet_gateway_exclusion_mode = "allow-bidirectional"\n\n'
                  '  tags = local.common_tags\n'
                  '}',
        url="https://docs.aws.amazon.com/vpc/latest/userguide/security-vpc-bpa.html",
    )
    compliance = (Control("aws-fsbp", "EC2.172"),)
    api_calls = ("ec2:DescribeVpcBlockPublicAccessOptions",)
    parameters = (BLOCK_MODES,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        passing = [str(mode) for mode in ctx.param(BLOCK_MODES)]
        options = block_public_access(ctx)
        mode = options.internet_gateway_block_mode
        evidence: dict[str, Any] = {"internet_gateway_block_mode": mode, "passing_modes": passing,
                                    "state": options.state or None,
                                    "exclusions_allowed": options.exclusions_allowed or None,
                                    "managed_by": options.managed_by or None}
        subject = ctx.account_resource(ctx.region)
        if mode in passing:
            yield ctx.passed(subject, f"VPC Block Public Access is {mode} in {ctx.region}.", evidence)
        elif mode == "off":
            yield ctx.failed(subject, f"VPC Block Public Access is off in {ctx.region}.", evidence)
        else:
            yield ctx.failed(subject, f"VPC Block Public Access is {mode} in {ctx.region}, not one of "
                             f"{', '.join(passing)}.", evidence)
