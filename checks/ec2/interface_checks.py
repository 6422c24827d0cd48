"""Elastic IP and network interface checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity, pricing

from .resources import elastic_ips, network_interfaces


class Ec2ElasticIpAssociated(Check):
    """An Elastic IP address that is allocated but not associated with an instance or network interface is
    billed by the hour and serves nothing. It is usually left over from a deleted workload, and an address
    that still appears in DNS records or allow-lists elsewhere can later be re-associated with the wrong
    resource."""

    id = "ec2_elastic_ip_associated"
    service = "ec2"
    severity = Severity.LOW
    category = Category.COST
    title = "Elastic IP addresses are associated with a resource"
    risk = "Unused Elastic IPs cost money and may still be trusted by DNS records or allow-lists."
    remediation = Remediation(
        text="Release Elastic IP addresses that are no longer needed, after checking no DNS record or allow-list "
        "still refers to them.",
        cli="aws ec2 release-address --allocation-id <allocation-id>",
        terraform="# Remove the unused aws_eip resource, then `terraform apply`.",
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html",
    )
    compliance = (Control("aws-securityhub", "EC2.12"),)
    api_calls = ("ec2:DescribeAddresses",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for address in elastic_ips(ctx):
            evidence = {"public_ip": address.public_ip, "association_id": address.association_id or None,
                        "instance_id": address.instance_id or None,
                        "network_interface_id": address.network_interface_id or None}
            if address.in_use:
                target = address.instance_id or address.network_interface_id or address.association_id
                yield ctx.passed(address.resource, f"Elastic IP {address.label} is associated with {target}.",
                                 evidence)
            else:
                cost = pricing.hourly(ctx.region, "eip_idle_hour")
                yield ctx.failed(address.resource, f"Elastic IP {address.label} is not associated with anything "
                                 f"and costs {cost.text()}.", {**evidence, **cost.evidence()})


class Ec2NetworkInterfaceSourceDestCheckEnabled(Check):
    """With source/destination checking on, an interface only accepts traffic addressed to it and only sends
    traffic from its own address. Turning it off lets the instance route or spoof traffic for others, which
    only NAT instances and network appliances need. Only interfaces managed by the account (type "interface",
    not requester-managed) are considered."""

    id = "ec2_network_interface_source_dest_check_enabled"
    service = "ec2"
    severity = Severity.MEDIUM
    title = "EC2 network interfaces have source/destination checking enabled"
    risk = "An interface without the check can forward or spoof traffic and bypass network segmentation."
    remediation = Remediation(
        text="Turn source/destination checking back on for every interface that is not a NAT instance or "
        "network appliance.",
        cli="aws ec2 modify-network-interface-attribute --network-interface-id <eni-id> --source-dest-check",
        terraform='resource "aws_network_interface" "app" {\n'
        "  subnet_id         = module.vpc.private_subnets[0]\n"
        "  source_dest_check = true\n\n"
        '  tags = merge(local.common_tags, { Name = "${var.project}-app-eni" })\n'
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html",
    )
    compliance = (Control("aws-fsbp", "EC2.180"),)
    api_calls = ("ec2:DescribeNetworkInterfaces",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for eni in network_interfaces(ctx):
            if not eni.user_managed:
                continue
            evidence = {"source_dest_check": eni.source_dest_check, "interface_type": eni.interface_type,
                        "attached_instance": eni.attached_instance or None, "subnet_id": eni.subnet_id}
            if eni.source_dest_check:
                yield ctx.passed(eni.resource, f"Network interface {eni.id} has source/destination checking "
                                 "enabled.", evidence)
            else:
                yield ctx.failed(eni.resource, f"Network interface {eni.id} has source/destination checking "
                                 "disabled.", evidence)
