"""VPCs, their flow logs and security groups, as the checks need them.

Security group rules are flattened to one `Rule` per source (an IPv4 range, an IPv6 range, another security
group or a prefix list), because "open to the internet" is a property of one source, not of the AWS
`IpPermission` that groups several. `internet_exposures` and `unauthorized_internet_rules` are the one place
that decides which ingress rules expose which ports to the internet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Mapping

from auditor import CheckContext, Resource, collector

from ..ec2.resources import tag_dict

WORLD_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
ALL_PROTOCOLS = frozenset({"-1", "all"})
# Protocols whose rules carry a port range, by name or IANA number.
PORT_PROTOCOLS = frozenset({"tcp", "udp", "6", "17"})
MIN_PORT, MAX_PORT = 0, 65535


@dataclass(frozen=True)
class Rule:
    """One security group rule for one source (ingress) or destination (egress)."""

    protocol: str  # as AWS gives it: "-1" (all traffic), "tcp", "udp", "icmp", or a protocol number
    from_port: int | None = None
    to_port: int | None = None
    cidr: str = ""  # IPv4 or IPv6 range
    security_group: str = ""  # another security group, for rules that reference one
    prefix_list: str = ""
    description: str = ""

    @property
    def open_to_world(self) -> bool:
        """True when the source is every IPv4 or every IPv6 address."""
        return self.cidr in WORLD_CIDRS

    @property
    def port_range(self) -> tuple[int, int] | None:
        """The (first, last) port the rule reaches; None for protocols without ports (ICMP, ESP, ...)."""
        protocol = self.protocol.lower()
        if protocol in ALL_PROTOCOLS:
            return MIN_PORT, MAX_PORT
        if protocol not in PORT_PROTOCOLS:
            return None
        if self.from_port is None or self.from_port < 0:  # no range given means every port
            return MIN_PORT, MAX_PORT
        last = self.to_port if self.to_port is not None and self.to_port >= 0 else self.from_port
        return max(self.from_port, MIN_PORT), min(last, MAX_PORT)

    def reaches(self, port: int) -> bool:
        span = self.port_range
        return span is not None and span[0] <= port <= span[1]

    @property
    def peer(self) -> str:
        return self.cidr or self.security_group or self.prefix_list

    def evidence(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"protocol": self.protocol, "from_port": self.from_port, "to_port": self.to_port}
        if self.cidr:
            facts["cidr"] = self.cidr
        if self.security_group:
            facts["security_group"] = self.security_group
        if self.prefix_list:
            facts["prefix_list"] = self.prefix_list
        facts["description"] = self.description
        return facts


@dataclass(frozen=True)
class Exposure:
    """An ingress rule open to the internet and the watched ports it reaches."""

    rule: Rule
    ports: tuple[int, ...]

    def evidence(self) -> dict[str, Any]:
        return {**self.rule.evidence(), "ports": list(self.ports)}


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str  # the group name (every group has one); the Name tag, if any, is in `tags`
    region: str
    arn: str
    vpc_id: str
    description: str
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        return self.name == "default" and bool(self.vpc_id)

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})"

    @property
    def resource(self) -> Resource:
        return Resource(
            id=self.id,
            type="AWS::EC2::SecurityGroup",
            arn=self.arn,
            name=self.tags.get("Name", self.name),
            region=self.region,
            tags=self.tags,
        )


@dataclass(frozen=True)
class Vpc:
    id: str
    region: str
    arn: str
    cidr: str
    is_default: bool
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")

    @property
    def label(self) -> str:
        kind = "default VPC" if self.is_default else "VPC"
        return f"{kind} {self.id} ({self.name})" if self.name else f"{kind} {self.id}"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::VPC", arn=self.arn, name=self.name, region=self.region,
                        tags=self.tags)


@dataclass(frozen=True)
class FlowLog:
    id: str
    status: str  # FlowLogStatus: ACTIVE when the flow log exists and is in force
    traffic_type: str  # ACCEPT, REJECT or ALL
    destination_type: str
    destination: str
    delivery_status: str  # DeliverLogsStatus: SUCCESS or FAILED

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    def evidence(self) -> dict[str, str]:
        return {
            "id": self.id,
            "status": self.status,
            "traffic_type": self.traffic_type,
            "destination_type": self.destination_type,
            "destination": self.destination,
            "delivery_status": self.delivery_status,
        }


# -- shared rule logic ---------------------------------------------------------------------------------------
def internet_exposures(group: SecurityGroup, ports: Iterable[int], authorized: Iterable[int]) -> list[Exposure]:
    """The ingress rules of `group` open to 0.0.0.0/0 or ::/0 that reach one of `ports`.

    Ports in `authorized` are never reported on their own: a rule for 443 alone is not an exposure of 443, but a
    rule for all traffic still exposes the other ports it reaches.
    """
    watched = sorted(set(ports) - set(authorized))
    exposures = []
    for rule in group.ingress:
        if not rule.open_to_world:
            continue
        reached = tuple(port for port in watched if rule.reaches(port))
        if reached:
            exposures.append(Exposure(rule, reached))
    return exposures


def unauthorized_internet_rules(group: SecurityGroup, authorized: Collection[int]) -> list[Rule]:
    """The ingress rules of `group` open to 0.0.0.0/0 or ::/0 that reach any port not in `authorized`."""
    allowed = set(authorized)
    found = []
    for rule in group.ingress:
        span = rule.port_range if rule.open_to_world else None
        if span is None:
            continue
        first, last = span
        allowed_in_span = sum(1 for port in allowed if first <= port <= last)
        if allowed_in_span < last - first + 1:
            found.append(rule)
    return found


# -- collectors ----------------------------------------------------------------------------------------------
def _port(value: Any) -> int | None:
    return int(value) if value is not None else None


def parse_rules(permissions: Iterable[Mapping[str, Any]]) -> tuple[Rule, ...]:
    """AWS `IpPermissions` (or `IpPermissionsEgress`) as one `Rule` per source."""
    rules: list[Rule] = []
    for permission in permissions:
        protocol = str(permission.get("IpProtocol", "-1"))
        ports = {"from_port": _port(permission.get("FromPort")), "to_port": _port(permission.get("ToPort"))}
        before = len(rules)
        for ip_range in permission.get("IpRanges", []):
            rules.append(Rule(protocol, cidr=str(ip_range.get("CidrIp", "")),
                              description=str(ip_range.get("Description", "")), **ports))
        for ip_range in permission.get("Ipv6Ranges", []):
            rules.append(Rule(protocol, cidr=str(ip_range.get("CidrIpv6", "")),
                              description=str(ip_range.get("Description", "")), **ports))
        for pair in permission.get("UserIdGroupPairs", []):
            rules.append(Rule(protocol, security_group=str(pair.get("GroupId", "")),
                              description=str(pair.get("Description", "")), **ports))
        for prefix_list in permission.get("PrefixListIds", []):
            rules.append(Rule(protocol, prefix_list=str(prefix_list.get("PrefixListId", "")),
                              description=str(prefix_list.get("Description", "")), **ports))
        if len(rules) == before:  # a permission without any source still counts as a rule
            rules.append(Rule(protocol, **ports))
    return tuple(rules)


@collector
def security_groups(ctx: CheckContext) -> list[SecurityGroup]:
    response = ctx.call("ec2", "DescribeSecurityGroups") or {}
    found = []
    for item in response.get("SecurityGroups", []):
        group_id = item["GroupId"]
        owner = item.get("OwnerId") or ctx.account
        found.append(
            SecurityGroup(
                id=group_id,
                name=str(item.get("GroupName", "")),
                region=ctx.region,
                arn=str(item.get("SecurityGroupArn") or ctx.arn("ec2", f"security-group/{group_id}", account=owner)),
                vpc_id=str(item.get("VpcId", "")),
                description=str(item.get("Description", "")),
                ingress=parse_rules(item.get("IpPermissions", [])),
                egress=parse_rules(item.get("IpPermissionsEgress", [])),
                tags=tag_dict(item.get("Tags")),
            )
        )
    return found


@collector
def vpcs(ctx: CheckContext) -> list[Vpc]:
    response = ctx.call("ec2", "DescribeVpcs") or {}
    found = []
    for item in response.get("Vpcs", []):
        vpc_id = item["VpcId"]
        owner = item.get("OwnerId") or ctx.account
        found.append(
            Vpc(
                id=vpc_id,
                region=ctx.region,
                arn=ctx.arn("ec2", f"vpc/{vpc_id}", account=owner),
                cidr=str(item.get("CidrBlock", "")),
                is_default=bool(item.get("IsDefault", False)),
                tags=tag_dict(item.get("Tags")),
            )
        )
    return found


@collector
def flow_logs(ctx: CheckContext, resource_id: str) -> list[FlowLog]:
    """The flow logs attached to one resource (a VPC, subnet or network interface)."""
    response = ctx.call("ec2", "DescribeFlowLogs", Filter=[{"Name": "resource-id", "Values": [resource_id]}]) or {}
    return [
        FlowLog(
            id=str(item.get("FlowLogId", "")),
            status=str(item.get("FlowLogStatus", "UNKNOWN")),
            traffic_type=str(item.get("TrafficType", "")),
            destination_type=str(item.get("LogDestinationType", "")),
            destination=str(item.get("LogDestination") or item.get("LogGroupName", "")),
            delivery_status=str(item.get("DeliverLogsStatus", "")),
        )
        for item in response.get("FlowLogs", [])
        # Defensive: the filter already selects the resource, but never credit another resource's flow log.
        if item.get("ResourceId", resource_id) == resource_id
    ]


# -- network ACLs --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AclEntry:
    number: int
    egress: bool
    action: str  # "allow" or "deny"
    protocol: str  # "-1" (all), or an IANA number as a string ("6" tcp, "17" udp)
    cidr: str
    from_port: int | None
    to_port: int | None

    def matches(self, port: int, protocols: Collection[str] = ("6", "17")) -> bool:
        """Whether traffic to `port` over one of `protocols` is decided by this entry."""
        protocol = self.protocol.lower()
        if protocol in ALL_PROTOCOLS:
            return True
        if {"tcp": "6", "udp": "17"}.get(protocol, protocol) not in protocols:
            return False
        if self.from_port is None:
            return True
        last = self.to_port if self.to_port is not None else self.from_port
        return self.from_port <= port <= last

    def evidence(self) -> dict[str, Any]:
        return {"rule_number": self.number, "action": self.action, "protocol": self.protocol, "cidr": self.cidr,
                "from_port": self.from_port, "to_port": self.to_port}


@dataclass(frozen=True)
class NetworkAcl:
    id: str
    region: str
    arn: str
    vpc_id: str
    is_default: bool
    subnet_ids: tuple[str, ...]
    entries: tuple[AclEntry, ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        name = self.tags.get("Name", "")
        kind = "default network ACL" if self.is_default else "network ACL"
        return f"{kind} {self.id} ({name})" if name else f"{kind} {self.id}"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::NetworkAcl", arn=self.arn, name=self.tags.get("Name", ""),
                        region=self.region, tags=self.tags)

    def internet_decision(self, port: int, source: str) -> AclEntry | None:
        """The inbound entry that decides traffic from all of `source` (0.0.0.0/0 or ::/0) to `port`.

        Entries are evaluated in rule-number order and the first match wins; entries for narrower ranges do not
        decide for the whole internet, so they are skipped.
        """
        for entry in sorted((e for e in self.entries if not e.egress), key=lambda e: e.number):
            if entry.cidr == source and entry.matches(port, ("6", "17")):
                return entry
        return None


def _acl_port(value: Any) -> int | None:
    return int(value) if value is not None else None


@collector
def network_acls(ctx: CheckContext) -> list[NetworkAcl]:
    response = ctx.call("ec2", "DescribeNetworkAcls") or {}
    found = []
    for item in response.get("NetworkAcls", []):
        acl_id = item["NetworkAclId"]
        owner = item.get("OwnerId") or ctx.account
        entries = tuple(
            AclEntry(
                number=int(e.get("RuleNumber", 32767)), egress=bool(e.get("Egress", False)),
                action=str(e.get("RuleAction", "deny")), protocol=str(e.get("Protocol", "-1")),
                cidr=str(e.get("CidrBlock") or e.get("Ipv6CidrBlock") or ""),
                from_port=_acl_port((e.get("PortRange") or {}).get("From")),
                to_port=_acl_port((e.get("PortRange") or {}).get("To")),
            )
            for e in item.get("Entries", [])
        )
        found.append(NetworkAcl(
            id=acl_id, region=ctx.region, arn=ctx.arn("ec2", f"network-acl/{acl_id}", account=owner),
            vpc_id=str(item.get("VpcId", "")), is_default=bool(item.get("IsDefault", False)),
            subnet_ids=tuple(str(a["SubnetId"]) for a in item.get("Associations", []) if a.get("SubnetId")),
            entries=entries, tags=tag_dict(item.get("Tags")),
        ))
    return found


# -- VPC endpoints, VPN connections, transit gateways --------------------------------------------------------
@dataclass(frozen=True)
class VpcEndpoint:
    id: str
    vpc_id: str
    service_name: str
    endpoint_type: str  # Interface, Gateway, GatewayLoadBalancer
    state: str

    @property
    def usable(self) -> bool:
        return self.state.lower() in ("available", "pending", "pendingacceptance")


@collector
def vpc_endpoints(ctx: CheckContext) -> list[VpcEndpoint]:
    response = ctx.call("ec2", "DescribeVpcEndpoints") or {}
    return [
        VpcEndpoint(id=str(item["VpcEndpointId"]), vpc_id=str(item.get("VpcId", "")),
                    service_name=str(item.get("ServiceName", "")), endpoint_type=str(item.get("VpcEndpointType", "")),
                    state=str(item.get("State", "")))
        for item in response.get("VpcEndpoints", [])
    ]


@dataclass(frozen=True)
class VpnTunnel:
    outside_ip: str
    status: str  # UP or DOWN (VgwTelemetry)
    logging_enabled: bool  # TunnelOptions[].LogOptions.CloudWatchLogOptions.LogEnabled
    log_group: str


@dataclass(frozen=True)
class VpnConnection:
    id: str
    region: str
    arn: str
    state: str
    tunnels: tuple[VpnTunnel, ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        name = self.tags.get("Name", "")
        return f"{self.id} ({name})" if name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::VPNConnection", arn=self.arn, name=self.tags.get("Name", ""),
                        region=self.region, tags=self.tags)


@collector
def vpn_connections(ctx: CheckContext) -> list[VpnConnection]:
    """Site-to-Site VPN connections that exist (not deleted or being deleted).

    Only the fields below are read: the response also carries the customer gateway configuration, with the
    tunnels' pre-shared keys, which never leaves this function.
    """
    response = ctx.call("ec2", "DescribeVpnConnections") or {}
    found = []
    for item in response.get("VpnConnections", []):
        state = str(item.get("State", ""))
        if state in ("deleted", "deleting"):
            continue
        telemetry = {str(t.get("OutsideIpAddress", "")): str(t.get("Status", "")) for t in item.get("VgwTelemetry", [])}
        options = {str(t.get("OutsideIpAddress", "")): t for t in (item.get("Options") or {}).get("TunnelOptions", [])}
        tunnels = []
        for ip in dict.fromkeys([*telemetry, *options]):
            logs = ((options.get(ip) or {}).get("LogOptions") or {}).get("CloudWatchLogOptions") or {}
            tunnels.append(VpnTunnel(ip, telemetry.get(ip, "UNKNOWN"), bool(logs.get("LogEnabled", False)),
                                     str(logs.get("LogGroupArn", ""))))
        connection_id = item["VpnConnectionId"]
        found.append(VpnConnection(id=connection_id, region=ctx.region,
                                   arn=ctx.arn("ec2", f"vpn-connection/{connection_id}"), state=state,
                                   tunnels=tuple(tunnels), tags=tag_dict(item.get("Tags"))))
    return found


@dataclass(frozen=True)
class TransitGateway:
    id: str
    region: str
    arn: str
    state: str
    auto_accept_shared_attachments: bool
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        name = self.tags.get("Name", "")
        return f"{self.id} ({name})" if name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::TransitGateway", arn=self.arn, name=self.tags.get("Name", ""),
                        region=self.region, tags=self.tags)


@collector
def transit_gateways(ctx: CheckContext) -> list[TransitGateway]:
    response = ctx.call("ec2", "DescribeTransitGateways") or {}
    found = []
    for item in response.get("TransitGateways", []):
        state = str(item.get("State", ""))
        if state in ("deleted", "deleting"):
            continue
        gateway_id = item["TransitGatewayId"]
        found.append(TransitGateway(
            id=gateway_id, region=ctx.region,
            arn=str(item.get("TransitGatewayArn") or ctx.arn("ec2", f"transit-gateway/{gateway_id}")),
            state=state,
            auto_accept_shared_attachments=(item.get("Options") or {}).get("AutoAcceptSharedAttachments") == "enable",
            tags=tag_dict(item.get("Tags")),
        ))
    return found
