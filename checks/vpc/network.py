"""Network reachability: which subnets reach the internet, and what may reach a port.

`network(ctx)` reads one region's VPCs, subnets, route tables, internet and NAT gateways and security groups once
per run and answers questions other checks (EC2, RDS, ECS, Lambda) ask about their resources:

    net = network(ctx)
    net.subnet_is_public("subnet-1")            # a default route to an internet gateway
    net.subnet_tier("subnet-1")                 # "public" | "private" | "isolated"
    net.open_to_internet(["sg-1"], 5432)        # rules open to 0.0.0.0/0 or ::/0 reaching the port
    net.sources("sg-app", 8080)                 # every source allowed to reach the port, one hop deep
    net.internet_path(subnet_ids, group_ids, 5432)  # public subnet + open rule, as evidence, or None

A check that uses it declares `NETWORK_API_CALLS` among its `api_calls`. Every answer is evidence: small dicts of
facts (which route table, which route, which rule) that can go straight into a finding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from auditor import CheckContext, Resource, collector

from ..ec2.resources import tag_dict
from .resources import ALL_PROTOCOLS, Rule, SecurityGroup, Vpc, security_groups, vpcs

NETWORK_API_CALLS = (
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways",
    "ec2:DescribeSecurityGroups",
)
DEFAULT_ROUTES = frozenset({"0.0.0.0/0", "::/0"})
PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}
PUBLIC, PRIVATE, ISOLATED = "public", "private", "isolated"


@dataclass(frozen=True)
class Subnet:
    id: str
    region: str
    arn: str
    vpc_id: str
    cidr: str
    availability_zone: str
    map_public_ip_on_launch: bool
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::Subnet", arn=self.arn, name=self.name, region=self.region,
                        tags=self.tags)


@dataclass(frozen=True)
class Route:
    destination: str  # an IPv4 or IPv6 CIDR, or a prefix list id
    target: str  # igw-..., nat-..., tgw-..., eni-..., i-..., pcx-..., vpce-..., local
    state: str  # "active" or "blackhole" (the target is gone)

    @property
    def is_default(self) -> bool:
        return self.destination in DEFAULT_ROUTES

    @property
    def usable(self) -> bool:
        return self.state != "blackhole"

    def evidence(self) -> dict[str, str]:
        return {"destination": self.destination, "target": self.target, "state": self.state}


@dataclass(frozen=True)
class RouteTable:
    id: str
    vpc_id: str
    is_main: bool
    subnet_ids: tuple[str, ...]
    routes: tuple[Route, ...]

    @property
    def default_routes(self) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if route.is_default)


@dataclass(frozen=True)
class NatGateway:
    id: str
    vpc_id: str
    subnet_id: str
    state: str  # pending | available | failed | deleting | deleted

    @property
    def available(self) -> bool:
        return self.state == "available"


def _protocol_matches(rule: Rule, protocol: str) -> bool:
    rule_protocol, wanted = rule.protocol.lower(), protocol.lower()
    if rule_protocol in ALL_PROTOCOLS or wanted in ALL_PROTOCOLS:
        return True
    return PROTOCOL_NUMBERS.get(rule_protocol, rule_protocol) == PROTOCOL_NUMBERS.get(wanted, wanted)


def _rule_allows(rule: Rule, port: int, protocol: str) -> bool:
    return _protocol_matches(rule, protocol) and rule.reaches(port)


@dataclass(frozen=True)
class Network:
    """One region's network, indexed for reachability questions."""

    region: str
    vpcs: Mapping[str, Vpc]
    subnets: Mapping[str, Subnet]
    route_tables: tuple[RouteTable, ...]
    internet_gateways: Mapping[str, tuple[str, ...]]  # igw id -> attached VPC ids
    nat_gateways: Mapping[str, NatGateway]
    security_groups: Mapping[str, SecurityGroup]

    # -- routing -------------------------------------------------------------------------------------------
    def route_table_of(self, subnet_id: str) -> RouteTable | None:
        """The subnet's explicitly associated route table, else its VPC's main route table."""
        for table in self.route_tables:
            if subnet_id in table.subnet_ids:
                return table
        subnet = self.subnets.get(subnet_id)
        if subnet is None:
            return None
        return next((t for t in self.route_tables if t.is_main and t.vpc_id == subnet.vpc_id), None)

    def default_routes(self, subnet_id: str) -> tuple[Route, ...]:
        """The subnet's usable routes to 0.0.0.0/0 or ::/0."""
        table = self.route_table_of(subnet_id)
        return tuple(r for r in table.default_routes if r.usable) if table else ()

    def internet_route(self, subnet_id: str) -> Route | None:
        return next((r for r in self.default_routes(subnet_id) if r.target.startswith("igw-")), None)

    def nat_routes(self, subnet_id: str) -> tuple[Route, ...]:
        """Default routes to a NAT gateway, including ones whose gateway is gone (AWS marks them blackhole)."""
        table = self.route_table_of(subnet_id)
        return tuple(r for r in table.default_routes if r.target.startswith("nat-")) if table else ()

    def subnet_is_public(self, subnet_id: str) -> bool:
        return self.internet_route(subnet_id) is not None

    def subnet_tier(self, subnet_id: str) -> str:
        """The tier: "public" (default route to an internet gateway), "private" (a default route elsewhere: a NAT
        gateway, transit gateway, appliance ...) or "isolated" (no default route)."""
        if self.subnet_is_public(subnet_id):
            return PUBLIC
        return PRIVATE if self.default_routes(subnet_id) else ISOLATED

    def subnet_evidence(self, subnet_id: str) -> dict[str, Any]:
        """The facts behind `subnet_tier`: the route table and the default route that decided it."""
        table = self.route_table_of(subnet_id)
        facts: dict[str, Any] = {
            "subnet_id": subnet_id,
            "tier": self.subnet_tier(subnet_id),
            "route_table_id": table.id if table else None,
            "route_table_is_main": table.is_main if table else None,
        }
        facts["default_routes"] = [r.evidence() for r in self.default_routes(subnet_id)]
        return facts

    # -- security groups -----------------------------------------------------------------------------------
    def open_to_internet(self, group_ids: Iterable[str], port: int, protocol: str = "tcp") -> list[dict[str, Any]]:
        """The ingress rules of these security groups that allow `port` from 0.0.0.0/0 or ::/0."""
        found = []
        for group_id in dict.fromkeys(group_ids):
            group = self.security_groups.get(group_id)
            if group is None:
                continue
            for rule in group.ingress:
                if rule.open_to_world and _rule_allows(rule, port, protocol):
                    found.append({"group_id": group.id, "group_name": group.name, **rule.evidence()})
        return found

    def internet_rules(self, group_ids: Iterable[str]) -> list[tuple[SecurityGroup, Rule]]:
        """Every ingress rule of these groups whose source is 0.0.0.0/0 or ::/0."""
        return [
            (self.security_groups[g], rule)
            for g in dict.fromkeys(group_ids) if g in self.security_groups
            for rule in self.security_groups[g].ingress if rule.open_to_world
        ]

    def internet_path(self, subnet_ids: Iterable[str], group_ids: Iterable[str], port: int,
                      protocol: str = "tcp") -> dict[str, Any] | None:
        """The facts that make `port` reachable from the internet for a resource in these subnets and groups: a
        public subnet (with its route) and the rules open to 0.0.0.0/0 or ::/0. None when either is missing.

        Whether the resource has a public address is the caller's fact to add (an instance's public IP, an RDS
        instance's PubliclyAccessible, a load balancer's scheme).
        """
        public = [self.subnet_evidence(s) for s in dict.fromkeys(subnet_ids) if self.subnet_is_public(s)]
        rules = self.open_to_internet(group_ids, port, protocol)
        if not public or not rules:
            return None
        return {"port": port, "protocol": protocol, "public_subnets": public, "rules": rules}

    def sources(self, group_id: str, port: int, protocol: str = "tcp") -> list[dict[str, Any]]:
        """Every source allowed to reach `port` through one security group.

        CIDR and prefix-list sources are reported as they are; a referenced security group is followed one hop,
        saying what that group itself admits from the internet ("sg-app allows 8080 from sg-alb, which is open to
        0.0.0.0/0 on 443").
        """
        group = self.security_groups.get(group_id)
        if group is None:
            return []
        found: list[dict[str, Any]] = []
        for rule in group.ingress:
            if not _rule_allows(rule, port, protocol):
                continue
            facts: dict[str, Any] = {"group_id": group.id, "port": port, "protocol": rule.protocol,
                                     "from_port": rule.from_port, "to_port": rule.to_port,
                                     "description": rule.description}
            if rule.cidr:
                facts.update(kind="cidr", source=rule.cidr, open_to_internet=rule.open_to_world)
                facts["statement"] = f"{group.id} allows {port} from {rule.cidr}"
            elif rule.prefix_list:
                facts.update(kind="prefix_list", source=rule.prefix_list, open_to_internet=False)
                facts["statement"] = f"{group.id} allows {port} from prefix list {rule.prefix_list}"
            elif rule.security_group:
                peer = self.security_groups.get(rule.security_group)
                facts.update(kind="security_group", source=rule.security_group,
                             source_name=peer.name if peer else "")
                peer_open = [
                    {"protocol": r.protocol, "from_port": r.from_port, "to_port": r.to_port, "cidr": r.cidr}
                    for r in (peer.ingress if peer else ()) if r.open_to_world
                ]
                facts["source_internet_rules"] = peer_open
                facts["open_to_internet"] = False
                statement = f"{group.id} allows {port} from {rule.security_group}"
                if peer_open:
                    reached = ", ".join(sorted({_span(r) for r in peer_open}))
                    statement += f", which is open to the internet on {reached}"
                facts["statement"] = statement
            else:
                continue
            found.append(facts)
        return found


def _span(rule: Mapping[str, Any]) -> str:
    if str(rule["protocol"]).lower() in ALL_PROTOCOLS:
        return "all traffic"
    first, last = rule["from_port"], rule["to_port"]
    return str(first) if first == last else f"{first}-{last}"


# -- collectors ----------------------------------------------------------------------------------------------
@collector
def subnets(ctx: CheckContext) -> list[Subnet]:
    response = ctx.call("ec2", "DescribeSubnets") or {}
    found = []
    for item in response.get("Subnets", []):
        subnet_id = item["SubnetId"]
        owner = item.get("OwnerId") or ctx.account
        found.append(Subnet(
            id=subnet_id, region=ctx.region,
            arn=str(item.get("SubnetArn") or ctx.arn("ec2", f"subnet/{subnet_id}", account=owner)),
            vpc_id=str(item.get("VpcId", "")), cidr=str(item.get("CidrBlock", "")),
            availability_zone=str(item.get("AvailabilityZone", "")),
            map_public_ip_on_launch=bool(item.get("MapPublicIpOnLaunch", False)),
            tags=tag_dict(item.get("Tags")),
        ))
    return found


def _route(item: Mapping[str, Any]) -> Route:
    destination = item.get("DestinationCidrBlock") or item.get("DestinationIpv6CidrBlock") \
        or item.get("DestinationPrefixListId") or ""
    target = next((str(item[key]) for key in (
        "GatewayId", "NatGatewayId", "TransitGatewayId", "EgressOnlyInternetGatewayId", "NetworkInterfaceId",
        "InstanceId", "VpcPeeringConnectionId", "LocalGatewayId", "CarrierGatewayId", "CoreNetworkArn",
    ) if item.get(key)), "")
    return Route(str(destination), target, str(item.get("State", "active")))


@collector
def route_tables(ctx: CheckContext) -> list[RouteTable]:
    response = ctx.call("ec2", "DescribeRouteTables") or {}
    found = []
    for item in response.get("RouteTables", []):
        associations = item.get("Associations") or []
        live = [a for a in associations
                if (a.get("AssociationState") or {}).get("State", "associated") == "associated"]
        found.append(RouteTable(
            id=str(item["RouteTableId"]), vpc_id=str(item.get("VpcId", "")),
            is_main=any(a.get("Main") for a in live),
            subnet_ids=tuple(str(a["SubnetId"]) for a in live if a.get("SubnetId")),
            routes=tuple(_route(r) for r in item.get("Routes", [])),
        ))
    return found


@collector
def internet_gateways(ctx: CheckContext) -> dict[str, tuple[str, ...]]:
    response = ctx.call("ec2", "DescribeInternetGateways") or {}
    return {
        str(item["InternetGatewayId"]): tuple(
            str(a.get("VpcId")) for a in item.get("Attachments", [])
            if a.get("State", "available") in ("available", "attached")
        )
        for item in response.get("InternetGateways", [])
    }


@collector
def nat_gateways(ctx: CheckContext) -> dict[str, NatGateway]:
    response = ctx.call("ec2", "DescribeNatGateways") or {}
    return {
        str(item["NatGatewayId"]): NatGateway(
            id=str(item["NatGatewayId"]), vpc_id=str(item.get("VpcId", "")),
            subnet_id=str(item.get("SubnetId", "")), state=str(item.get("State", "")),
        )
        for item in response.get("NatGateways", [])
    }


@collector
def network(ctx: CheckContext) -> Network:
    """The region's network, read once per run and shared by every check that asks."""
    return Network(
        region=ctx.region,
        vpcs={vpc.id: vpc for vpc in vpcs(ctx)},
        subnets={subnet.id: subnet for subnet in subnets(ctx)},
        route_tables=tuple(route_tables(ctx)),
        internet_gateways=internet_gateways(ctx),
        nat_gateways=nat_gateways(ctx),
        security_groups={group.id: group for group in security_groups(ctx)},
    )
