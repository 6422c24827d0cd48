"""VPC checks on routing and subnets, network ACLs and unused security groups."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from ..ec2.resources import network_interfaces
from .network import NETWORK_API_CALLS, Subnet, network, subnets
from .resources import NetworkAcl, network_acls, security_groups

WORLD_SOURCES = ("0.0.0.0/0", "::/0")


class VpcPrivateSubnetNatGatewayAvailable(Check):
    """Private subnets reach the internet (package updates, AWS APIs without endpoints) through a NAT gateway.
    When the NAT gateway a subnet routes to has been deleted or has failed, the route becomes a black hole
    and every workload in the subnet silently loses outbound access. Every subnet whose default route names a
    NAT gateway is checked: the gateway must exist and be available. Subnets with no default route (isolated,
    such as database subnets) and public subnets are not considered."""

    id = "vpc_private_subnet_nat_gateway_available"
    service = "vpc"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Private subnets route to a NAT gateway that exists and is available"
    risk = "Workloads in the subnet lose outbound connectivity when their NAT gateway is gone or failed."
    remediation = Remediation(
        text="Create a NAT gateway in a public subnet of the same availability zone and point the private route "
        "table's default route at it.",
        cli="aws ec2 replace-route --route-table-id <rtb-id> --destination-cidr-block 0.0.0.0/0 "
        "--nat-gateway-id <nat-id>",
        terraform='module "vpc" {\n'
        '  source  = "terraform-aws-modules/vpc/aws"\n'
        '  version = "5.0.0"\n'
        "  # ...\n\n"
        "  enable_nat_gateway = true\n"
        '  single_nat_gateway = var.environment != "prod"  # Cost saving for non-prod\n'
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html",
    )
    api_calls = NETWORK_API_CALLS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        net = network(ctx)
        for subnet in net.subnets.values():
            routes = net.nat_routes(subnet.id)
            if not routes or net.subnet_is_public(subnet.id):
                continue
            gateways = [net.nat_gateways.get(route.target) for route in routes]
            pairs = list(zip(routes, gateways, strict=True))
            evidence: dict[str, Any] = {
                **net.subnet_evidence(subnet.id),
                "nat_routes": [route.evidence() for route in routes],
                "nat_gateways": [
                    {"id": route.target, "state": gateway.state if gateway else "missing",
                     "subnet_id": gateway.subnet_id if gateway else None}
                    for route, gateway in pairs
                ],
            }
            working = [r.target for r, g in pairs if g is not None and g.available and r.usable]
            if working:
                yield ctx.passed(subnet.resource, f"Subnet {subnet.label} routes to available NAT gateway "
                                 f"{', '.join(working)}.", evidence)
            else:
                broken = ", ".join(f"{r.target} ({g.state if g else 'missing'})" for r, g in pairs)
                yield ctx.failed(subnet.resource, f"Subnet {subnet.label} routes to a NAT gateway that is not "
                                 f"available: {broken}.", evidence)


class VpcSubnetNoAutoPublicIp(Check):
    """A subnet that assigns public IPv4 addresses on launch gives every instance started in it an address
    reachable from the internet, whether its owner meant to or not. Public addresses should be an explicit
    choice per instance or load balancer."""

    id = "vpc_subnet_no_auto_public_ip"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "Subnets do not automatically assign public IP addresses"
    risk = "Every instance launched in the subnet gets an internet-reachable address by default."
    remediation = Remediation(
        text="Turn off automatic public IPv4 assignment on the subnet; assign public addresses explicitly where "
        "they are needed.",
        cli="aws ec2 modify-subnet-attribute --subnet-id <subnet-id> --no-map-public-ip-on-launch",
        terraform='module "vpc" {\n'
        '  source  = "terraform-aws-modules/vpc/aws"\n'
        '  version = "5.0.0"\n'
        "  # ...\n\n"
        "  map_public_ip_on_launch = false\n"
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/modify-subnets.html",
    )
    compliance = (Control("aws-fsbp", "EC2.15"),)
    api_calls = ("ec2:DescribeSubnets",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for subnet in subnets(ctx):
            yield self._judge(ctx, subnet)

    @staticmethod
    def _judge(ctx: CheckContext, subnet: Subnet) -> Finding:
        evidence = {"map_public_ip_on_launch": subnet.map_public_ip_on_launch, "vpc_id": subnet.vpc_id}
        if subnet.map_public_ip_on_launch:
            return ctx.failed(subnet.resource, f"Subnet {subnet.label} assigns public IPv4 addresses on launch.",
                              evidence)
        return ctx.passed(subnet.resource, f"Subnet {subnet.label} does not assign public IPv4 addresses on launch.",
                          evidence)


class VpcNetworkAclInUse(Check):
    """A network ACL that is associated with no subnet filters nothing. Left in place it clutters reviews and
    can be attached to a subnet later with rules nobody has looked at for years. Default network ACLs cannot
    be deleted and are not considered."""

    id = "vpc_network_acl_in_use"
    service = "vpc"
    severity = Severity.LOW
    category = Category.OPERATIONS
    title = "Network ACLs that are not associated with a subnet are removed"
    risk = "Unused network ACLs hide stale rules that can be attached to a subnet later unreviewed."
    remediation = Remediation(
        text="Delete network ACLs that are associated with no subnet.",
        cli="aws ec2 delete-network-acl --network-acl-id <acl-id>",
        terraform="# Remove the unused aws_network_acl resource, then `terraform apply`.",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html",
    )
    compliance = (Control("aws-fsbp", "EC2.16"),)
    api_calls = ("ec2:DescribeNetworkAcls",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for acl in network_acls(ctx):
            if acl.is_default:
                continue
            evidence = {"vpc_id": acl.vpc_id, "subnet_ids": list(acl.subnet_ids)}
            if acl.subnet_ids:
                yield ctx.passed(acl.resource, f"The {acl.label} is associated with {len(acl.subnet_ids)} "
                                 "subnet(s).", evidence)
            else:
                yield ctx.failed(acl.resource, f"The {acl.label} is not associated with any subnet.", evidence)


class VpcNetworkAclAdminPortsRestricted(Check):
    """Network ACLs are the subnet-level filter in front of security groups. An inbound entry that allows
    0.0.0.0/0 or ::/0 to SSH or RDP (`network.admin_ports`) leaves the security groups as the only barrier
    in front of remote administration. Entries are evaluated as AWS does, in rule-number order with the first
    match deciding, so a lower-numbered deny for the whole internet closes the port. Only TCP, UDP and
    all-traffic entries count."""

    id = "vpc_network_acl_admin_ports_restricted"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "Network ACLs do not allow ingress from 0.0.0.0/0 or ::/0 to remote administration ports"
    risk = "Remote administration ports are open at the subnet boundary, leaving one layer of defence."
    remediation = Remediation(
        text="Replace the entries that allow 0.0.0.0/0 or ::/0 to the administration ports with entries for "
        "known address ranges, or add lower-numbered deny entries for those ports.",
        cli="aws ec2 create-network-acl-entry --network-acl-id <acl-id> --ingress --rule-number 50 "
        "--protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action deny",
        terraform='resource "aws_network_acl_rule" "deny_ssh" {\n'
        "  network_acl_id = module.vpc.default_network_acl_id\n"
        "  rule_number    = 50\n"
        "  egress         = false\n"
        '  protocol       = "tcp"\n'
        '  rule_action    = "deny"\n'
        '  cidr_block     = "0.0.0.0/0"\n'
        "  from_port      = 22\n"
        "  to_port        = 22\n"
        "}",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html",
    )
    compliance = (
        Control("aws-fsbp", "EC2.21"),
        Control("cis-aws-3.0", "5.1"),
        Control("cis-aws-4.0.1", "5.2"),
    )
    api_calls = ("ec2:DescribeNetworkAcls",)
    parameters = ("network.admin_ports",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        ports = sorted({int(p) for p in ctx.param("network.admin_ports")})
        for acl in network_acls(ctx):
            yield self._judge(ctx, acl, ports)

    @staticmethod
    def _judge(ctx: CheckContext, acl: NetworkAcl, ports: list[int]) -> Finding:
        allowing: dict[int, list[dict[str, Any]]] = {}
        for port in ports:
            for source in WORLD_SOURCES:
                entry = acl.internet_decision(port, source)
                if entry is not None and entry.action == "allow":
                    allowing.setdefault(port, []).append(entry.evidence())
        evidence: dict[str, Any] = {"vpc_id": acl.vpc_id, "subnet_ids": list(acl.subnet_ids), "checked_ports": ports}
        if not allowing:
            return ctx.passed(acl.resource, f"The {acl.label} does not allow the internet to administration ports.",
                              evidence)
        evidence["exposed_ports"] = sorted(allowing)
        evidence["entries"] = [{**entry, "port": port} for port, entries in sorted(allowing.items())
                               for entry in entries]
        return ctx.failed(acl.resource, f"The {acl.label} allows ingress from the internet to administration "
                          f"port(s) {', '.join(str(p) for p in sorted(allowing))}.", evidence)


class VpcSecurityGroupInUse(Check):
    """A security group attached to no network interface protects nothing, but its rules can be attached to
    a new resource at any time, often long after anyone remembers why they were written. Removing unused
    groups keeps the rule set reviewable. Default security groups cannot be deleted and are not considered."""

    id = "vpc_security_group_in_use"
    service = "vpc"
    severity = Severity.MEDIUM
    category = Category.OPERATIONS
    title = "Security groups that are not attached to any network interface are removed"
    risk = "Unused security groups carry unreviewed rules that can be attached to new resources."
    remediation = Remediation(
        text="Delete security groups that are attached to no network interface (and that no other group or "
        "launch template still needs).",
        cli="aws ec2 delete-security-group --group-id <sg-id>",
        terraform="# Remove the unused aws_security_group resource, then `terraform apply`.",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/working-with-security-groups.html",
    )
    compliance = (Control("aws-securityhub", "EC2.22"),)
    api_calls = ("ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        groups = [group for group in security_groups(ctx) if not group.is_default]
        if not groups:
            return
        users: dict[str, list[str]] = {}
        for eni in network_interfaces(ctx):
            for group_id in eni.group_ids:
                users.setdefault(group_id, []).append(eni.id)
        for group in groups:
            attached = users.get(group.id, [])
            evidence = {"vpc_id": group.vpc_id, "network_interfaces": attached[:20],
                        "network_interface_count": len(attached)}
            if attached:
                yield ctx.passed(group.resource, f"Security group {group.label} is attached to {len(attached)} "
                                 "network interface(s).", evidence)
            else:
                yield ctx.failed(group.resource, f"Security group {group.label} is not attached to any network "
                                 "interface.", evidence)
