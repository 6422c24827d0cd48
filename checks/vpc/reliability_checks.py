"""VPC reliability checks: workload VPCs span several Availability Zones; production private subnets use a NAT
gateway in their own Availability Zone."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Severity
from auditor.environment import ENVIRONMENT_PARAMETERS, environment_of

from ..ec2.resources import network_interfaces
from .network import NETWORK_API_CALLS, network

# Interfaces that are network plumbing rather than workloads.
PLUMBING_INTERFACE_TYPES = frozenset({"nat_gateway", "vpc_endpoint", "gateway_load_balancer_endpoint",
                                      "transit_gateway", "interface_endpoint"})


class VpcWorkloadSubnetsMultiAz(Check):
    """An Availability Zone can fail as a whole. A VPC whose subnets all sit in one zone cannot run anything
    elsewhere: load balancers, Auto Scaling groups, ECS services and Multi-AZ databases need subnets in at least two
    zones (parameter reliability.min_availability_zones) to survive a zone outage. Only VPCs with workloads (a
    network interface that is not a NAT gateway, VPC endpoint or transit gateway attachment) are judged."""

    id = "vpc_workload_subnets_multi_az"
    service = "vpc"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "VPCs with workloads have subnets in several Availability Zones"
    risk = "Every workload in the VPC goes down with its single Availability Zone."
    remediation = Remediation(
        text="Add subnets in at least one more Availability Zone (public, private and database tiers alike) and "
        "spread the workloads over them.",
        cli="aws ec2 create-subnet --vpc-id <vpc-id> --cidr-block <cidr> --availability-zone <region>b",
        terraform='module "vpc" {\n'
                  '  source = "terraform-aws-modules/vpc/aws"\n'
                  '  # ...\n'
                  '  azs             = ["us-east-1a", "us-east-1b", "us-east-1c"]\n'
                  '  public_subnets  = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]\n'
                  '  private_subnets = ["10.0.10.0/24", "10.0.20.0/24", "10.0.30.0/24"]\n'
                  '}',
        url="https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html",
    )
    api_calls = (*NETWORK_API_CALLS, "ec2:DescribeNetworkInterfaces")
    parameters = ("reliability.min_availability_zones",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        minimum = int(ctx.param("reliability.min_availability_zones"))
        workloads: dict[str, int] = defaultdict(int)
        for eni in network_interfaces(ctx):
            if eni.vpc_id and eni.interface_type not in PLUMBING_INTERFACE_TYPES:
                workloads[eni.vpc_id] += 1
        if not workloads:
            return
        net = network(ctx)
        zones: dict[str, set[str]] = defaultdict(set)
        for subnet in net.subnets.values():
            zones[subnet.vpc_id].add(subnet.availability_zone)
        for vpc_id in sorted(workloads):
            vpc = net.vpcs.get(vpc_id)
            if vpc is None:
                continue
            found = sorted(zones[vpc_id])
            evidence: dict[str, Any] = {"availability_zones": found, "min_availability_zones": minimum,
                                        "workload_interfaces": workloads[vpc_id]}
            if len(found) >= minimum:
                yield ctx.passed(vpc.resource, f"{vpc.label} has subnets in {len(found)} Availability Zones.",
                                 evidence)
            else:
                yield ctx.failed(vpc.resource, f"{vpc.label} runs workloads but has subnets in only "
                                 f"{len(found)} Availability Zone(s) ({', '.join(found) or 'none'}); at least "
                                 f"{minimum} are needed.", evidence)


class VpcNatGatewayPerAvailabilityZone(Check):
    """The seed guide gives production a NAT gateway in every Availability Zone: a private subnet that sends its
    internet traffic to a NAT gateway in another zone loses outbound access when that zone fails, and pays
    cross-zone data transfer meanwhile. Each production VPC whose private subnets route 0.0.0.0/0 to NAT gateways
    fails when any of those subnets uses a gateway outside its own zone (a gateway that no longer exists or has
    failed is reported by vpc_private_subnet_nat_gateway_available, not here). Outside
    production one shared NAT gateway is the guide's cost saving and passes. An unknown environment (no tag, no
    --environment) is judged as production, the safer side for availability, and the finding says so."""

    id = "vpc_nat_gateway_per_availability_zone"
    service = "vpc"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Production private subnets use a NAT gateway in their own Availability Zone"
    risk = "A zone outage cuts outbound internet access for private subnets in the surviving zones."
    remediation = Remediation(
        text="Create a NAT gateway in a public subnet of each Availability Zone and route each zone's private "
        "subnets to the gateway in the same zone.",
        cli="aws ec2 create-nat-gateway --subnet-id <public-subnet-in-zone> --allocation-id <eip-allocation-id>",
        terraform='module "vpc" {\n'
                  '  source = "terraform-aws-modules/vpc/aws"\n'
                  '  # ...\n'
                  '  enable_nat_gateway     = true\n'
                  '  single_nat_gateway     = var.environment != "prod"\n'
                  '  one_nat_gateway_per_az = var.environment == "prod"\n'
                  '}',
        url="https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html",
    )
    api_calls = NETWORK_API_CALLS
    parameters = ENVIRONMENT_PARAMETERS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        net = network(ctx)
        routed: dict[str, list[tuple[str, str]]] = defaultdict(list)  # vpc -> [(subnet, nat gateway)]
        for subnet in net.subnets.values():
            for route in net.nat_routes(subnet.id):
                routed[subnet.vpc_id].append((subnet.id, route.target))
        for vpc_id, pairs in sorted(routed.items()):
            vpc = net.vpcs.get(vpc_id)
            if vpc is None:
                continue
            env = environment_of(ctx, vpc.tags)
            crossing = []
            for subnet_id, nat_id in sorted(set(pairs)):
                zone = net.subnets[subnet_id].availability_zone
                nat = net.nat_gateways.get(nat_id)
                nat_subnet = net.subnets.get(nat.subnet_id) if nat else None
                if nat_subnet is None:  # a gateway that is gone: vpc_private_subnet_nat_gateway_available says so
                    continue
                if nat_subnet.availability_zone != zone:
                    crossing.append({"subnet_id": subnet_id, "subnet_zone": zone, "nat_gateway_id": nat_id,
                                     "nat_gateway_zone": nat_subnet.availability_zone})
            evidence: dict[str, Any] = {
                **env.evidence(), "nat_routed_subnets": len(set(pairs)),
                "nat_gateways": sorted({nat for _, nat in pairs}), "subnets_without_zonal_nat_gateway": crossing,
            }
            if env.known and not env.production:
                yield ctx.passed(vpc.resource, f"{vpc.label} is {env.describe()}, where a shared NAT gateway is "
                                 "acceptable.", evidence)
            elif crossing:
                assumed = "" if env.known else ", assumed production"
                yield ctx.failed(vpc.resource, f"{vpc.label} is {env.describe()}{assumed} but routes {len(crossing)} "
                                 "private subnet(s) to a NAT gateway outside their Availability Zone.", evidence)
            else:
                yield ctx.passed(vpc.resource, f"{vpc.label} is {env.describe()} and routes each private subnet to a "
                                 "NAT gateway in its own Availability Zone.", evidence)
