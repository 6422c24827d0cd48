"""The network model (checks/vpc/network.py) and the checks on routing, subnets, network ACLs and unused groups."""
from typing import Any

import pytest

from auditor import Status
from checks.vpc.network import NatGateway, Network, Route, RouteTable, Subnet
from checks.vpc.resources import SecurityGroup, parse_rules

from ..conftest import REGION, statuses
from .test_vpc import (  # noqa: F401 - ec2, empty_region and recorded are fixtures
    WORLD_V4,
    WORLD_V6,
    default_group,
    ec2,
    empty_region,
    new_group,
    new_vpc,
    recorded,
    tcp,
)

NAT = "vpc_private_subnet_nat_gateway_available"
AUTO_IP = "vpc_subnet_no_auto_public_ip"
ACL_UNUSED = "vpc_network_acl_in_use"
ACL_ADMIN = "vpc_network_acl_admin_ports_restricted"
SG_UNUSED = "vpc_security_group_in_use"


def finding_for(run, resource_id: str):
    [finding] = [f for f in run.findings if f.resource.id == resource_id]
    return finding


# -- the model, on hand-built networks -----------------------------------------------------------------------
def subnet(subnet_id: str, vpc: str = "vpc-1") -> Subnet:
    return Subnet(id=subnet_id, region=REGION, arn="", vpc_id=vpc, cidr="10.0.0.0/24", availability_zone="a",
                  map_public_ip_on_launch=False)


def group(group_id: str, *permissions: dict[str, Any], name: str = "") -> SecurityGroup:
    return SecurityGroup(id=group_id, name=name or group_id, region=REGION, arn="", vpc_id="vpc-1", description="",
                         ingress=parse_rules(permissions))


def model(*groups: SecurityGroup) -> Network:
    """vpc-1: a main table with only the local route; explicit tables for public, v6-public, private, broken."""
    local = Route("10.0.0.0/16", "local", "active")
    tables = (
        RouteTable("rtb-main", "vpc-1", True, (), (local,)),
        RouteTable("rtb-public", "vpc-1", False, ("subnet-public",), (local, Route("0.0.0.0/0", "igw-1", "active"))),
        RouteTable("rtb-v6", "vpc-1", False, ("subnet-v6",), (local, Route("::/0", "igw-1", "active"))),
        RouteTable("rtb-private", "vpc-1", False, ("subnet-private",), (local, Route("0.0.0.0/0", "nat-1", "active"))),
        RouteTable("rtb-tgw", "vpc-1", False, ("subnet-tgw",), (local, Route("0.0.0.0/0", "tgw-1", "active"))),
        RouteTable("rtb-gone", "vpc-1", False, ("subnet-gone",), (local, Route("0.0.0.0/0", "igw-2", "blackhole"))),
    )
    names = ("subnet-public", "subnet-v6", "subnet-private", "subnet-tgw", "subnet-gone", "subnet-main")
    return Network(
        region=REGION, vpcs={}, subnets={name: subnet(name) for name in names}, route_tables=tables,
        internet_gateways={"igw-1": ("vpc-1",)}, nat_gateways={"nat-1": NatGateway("nat-1", "vpc-1", "s", "available")},
        security_groups={g.id: g for g in groups},
    )


@pytest.mark.parametrize("subnet_id, public, tier", [
    ("subnet-public", True, "public"),
    ("subnet-v6", True, "public"),  # ::/0 to an internet gateway is public too
    ("subnet-private", False, "private"),
    ("subnet-tgw", False, "private"),  # egress through a transit gateway
    ("subnet-gone", False, "isolated"),  # a blackhole route leads nowhere
    ("subnet-main", False, "isolated"),  # no explicit association: the VPC's main table decides
    ("subnet-unknown", False, "isolated"),
])
def test_subnet_tier(subnet_id, public, tier):
    net = model()
    assert net.subnet_is_public(subnet_id) is public
    assert net.subnet_tier(subnet_id) == tier


def test_subnet_evidence_names_the_table_and_route():
    assert model().subnet_evidence("subnet-public") == {
        "subnet_id": "subnet-public", "tier": "public", "route_table_id": "rtb-public", "route_table_is_main": False,
        "default_routes": [{"destination": "0.0.0.0/0", "target": "igw-1", "state": "active"}],
    }
    assert model().subnet_evidence("subnet-main")["route_table_id"] == "rtb-main"


@pytest.mark.parametrize("permission, port, protocol, open_", [
    (tcp(22, IpRanges=WORLD_V4), 22, "tcp", True),
    (tcp(22, Ipv6Ranges=WORLD_V6), 22, "tcp", True),
    (tcp(20, 30, IpRanges=WORLD_V4), 22, "tcp", True),
    ({"IpProtocol": "-1", "IpRanges": WORLD_V4}, 5432, "tcp", True),
    ({"IpProtocol": "6", "FromPort": 22, "ToPort": 22, "IpRanges": WORLD_V4}, 22, "tcp", True),
    (tcp(22, IpRanges=WORLD_V4), 22, "udp", False),
    ({"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": WORLD_V4}, 53, "udp", True),
    (tcp(22, IpRanges=WORLD_V4), 23, "tcp", False),
    (tcp(22, IpRanges=[{"CidrIp": "10.0.0.0/8"}]), 22, "tcp", False),
    (tcp(22, UserIdGroupPairs=[{"GroupId": "sg-2"}]), 22, "tcp", False),
])
def test_open_to_internet(permission, port, protocol, open_):
    net = model(group("sg-1", permission))
    found = net.open_to_internet(["sg-1", "sg-missing"], port, protocol)
    assert bool(found) is open_
    if open_:
        assert found[0]["group_id"] == "sg-1" and found[0]["cidr"] in ("0.0.0.0/0", "::/0")


def test_sources_follow_security_group_references_one_hop():
    alb = group("sg-alb", tcp(443, IpRanges=WORLD_V4), tcp(80, IpRanges=WORLD_V4), name="alb")
    app = group("sg-app", tcp(8080, UserIdGroupPairs=[{"GroupId": "sg-alb"}]),
                tcp(8080, IpRanges=[{"CidrIp": "10.0.0.0/16"}]), tcp(22, PrefixListIds=[{"PrefixListId": "pl-1"}]))
    net = model(alb, app)
    by_kind = {s["kind"]: s for s in net.sources("sg-app", 8080)}
    assert set(by_kind) == {"security_group", "cidr"}
    referenced = by_kind["security_group"]
    assert referenced["source"] == "sg-alb" and referenced["source_name"] == "alb"
    assert referenced["statement"] == "sg-app allows 8080 from sg-alb, which is open to the internet on 443, 80"
    assert [r["from_port"] for r in referenced["source_internet_rules"]] == [443, 80]
    assert by_kind["cidr"] == {**by_kind["cidr"], "source": "10.0.0.0/16", "open_to_internet": False}
    assert [s["kind"] for s in net.sources("sg-app", 22)] == ["prefix_list"]
    assert net.sources("sg-app", 9090) == [] and net.sources("sg-missing", 8080) == []


def test_internet_path_needs_a_public_subnet_and_an_open_rule():
    net = model(group("sg-db", tcp(5432, Ipv6Ranges=WORLD_V6)), group("sg-app", tcp(8080, IpRanges=WORLD_V4)))
    path = net.internet_path(["subnet-private", "subnet-public"], ["sg-db"], 5432)
    assert path is not None
    assert [s["subnet_id"] for s in path["public_subnets"]] == ["subnet-public"]
    assert [(r["group_id"], r["cidr"]) for r in path["rules"]] == [("sg-db", "::/0")]
    assert net.internet_path(["subnet-private"], ["sg-db"], 5432) is None  # no route from the internet
    assert net.internet_path(["subnet-public"], ["sg-app"], 5432) is None  # no rule for the port


# -- NAT gateways, through the engine ------------------------------------------------------------------------
def three_tier_routes(ec2, vpc: str) -> dict[str, str]:
    """Public subnet with an internet route and a NAT gateway, private subnet through it, isolated database."""
    ids = {tier: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
           for tier, cidr in (("public", "10.0.1.0/24"), ("private", "10.0.10.0/24"), ("database", "10.0.100.0/24"))}
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public, SubnetId=ids["public"])
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ids["nat"] = ec2.create_nat_gateway(SubnetId=ids["public"], AllocationId=eip)["NatGateway"]["NatGatewayId"]
    private = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat"])
    ec2.associate_route_table(RouteTableId=private, SubnetId=ids["private"])
    ids["private_table"] = private
    return ids


def test_private_subnet_with_available_nat_passes(audit, ec2, empty_region):
    ids = three_tier_routes(ec2, new_vpc(ec2))
    run = audit(NAT)
    assert statuses(run) == {ids["private"]: "PASS"}  # public and isolated subnets are not judged
    evidence = run.findings[0].evidence
    assert evidence["tier"] == "private" and evidence["route_table_id"] == ids["private_table"]
    assert evidence["nat_gateways"] == [{"id": ids["nat"], "state": "available", "subnet_id": ids["public"]}]
    assert ids["nat"] in run.findings[0].message


def test_private_subnet_with_deleted_nat_fails(audit, ec2, empty_region):
    ids = three_tier_routes(ec2, new_vpc(ec2))
    ec2.delete_nat_gateway(NatGatewayId=ids["nat"])
    run = audit(NAT)
    assert statuses(run) == {ids["private"]: "FAIL"}
    assert f"{ids['nat']} (deleted)" in run.findings[0].message


def test_private_subnet_with_blackhole_route_to_missing_nat_fails(audit, ec2, empty_region, recorded):
    """AWS drops a deleted NAT gateway from DescribeNatGateways after a while and marks the route blackhole."""
    ids = three_tier_routes(ec2, new_vpc(ec2))
    recorded("DescribeNatGateways", {"NatGateways": []})
    run = audit(NAT)
    assert statuses(run) == {ids["private"]: "FAIL"}
    assert run.findings[0].evidence["nat_gateways"][0]["state"] == "missing"


def test_no_private_subnets_no_nat_findings(audit, ec2):
    run = audit(NAT)
    assert run.findings == ()  # moto's default VPC: its subnets have no default route


def test_nat_denied_read_is_error_naming_the_action(audit, faults):
    faults.deny("ec2", "DescribeNatGateways")
    [finding] = audit(NAT).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ec2:DescribeNatGateways"


# -- subnets assigning public IPs (EC2.15) -------------------------------------------------------------------
def test_subnet_auto_public_ip(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    plain = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    # moto makes the first subnet of an empty availability zone its "default" one, which maps public IPs.
    ec2.modify_subnet_attribute(SubnetId=plain, MapPublicIpOnLaunch={"Value": False})
    mapped = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=mapped, MapPublicIpOnLaunch={"Value": True})
    run = audit(AUTO_IP)
    assert statuses(run) == {mapped: "FAIL", plain: "PASS"}
    assert finding_for(run, mapped).evidence == {"map_public_ip_on_launch": True, "vpc_id": vpc}
    assert finding_for(run, mapped).resource.type == "AWS::EC2::Subnet"


def test_no_subnets_no_findings(audit, empty_region, recorded):
    recorded("DescribeNetworkAcls", {"NetworkAcls": []})  # moto keeps the deleted default VPC's ACL
    assert audit(AUTO_IP, ACL_UNUSED, ACL_ADMIN, SG_UNUSED).findings == ()


# -- network ACLs (EC2.16, EC2.21 / CIS 5.1, 5.2) ------------------------------------------------------------
def acl(ec2, vpc: str, *entries: dict[str, Any]) -> str:
    acl_id = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for entry in entries:
        ec2.create_network_acl_entry(NetworkAclId=acl_id, Egress=False, **entry)
    return acl_id


def entry(number: int, action: str, cidr: str = "0.0.0.0/0", protocol: str = "6", ports: tuple[int, int] | None = (
        22, 22)) -> dict[str, Any]:
    found: dict[str, Any] = {"RuleNumber": number, "RuleAction": action, "Protocol": protocol}
    found["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
    if ports:
        found["PortRange"] = {"From": ports[0], "To": ports[1]}
    return found


def test_network_acl_admin_ports(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    [default_acl] = [a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"]
                     if a["IsDefault"] and a["VpcId"] == vpc]
    ssh = acl(ec2, vpc, entry(100, "allow"))
    v6_range = acl(ec2, vpc, entry(100, "allow", "::/0", ports=(0, 65535)))
    denied_first = acl(ec2, vpc, entry(90, "deny", protocol="-1", ports=None), entry(100, "allow", protocol="-1",
                                                                                  ports=None))
    narrow_deny = acl(ec2, vpc, entry(90, "deny", "1.2.3.0/24"), entry(100, "allow"))
    office = acl(ec2, vpc, entry(100, "allow", "203.0.113.0/24"), entry(110, "allow", ports=(443, 443)))
    run = audit(ACL_ADMIN)
    run_statuses = {k: v for k, v in statuses(run).items() if k in (default_acl, ssh, v6_range, denied_first,
                                                                      narrow_deny, office)}
    assert len(run.findings) == 7  # and the deleted default VPC's ACL, which moto keeps
    assert run_statuses == {default_acl: "FAIL", ssh: "FAIL", v6_range: "FAIL", denied_first: "PASS",
                             narrow_deny: "FAIL", office: "PASS"}
    assert finding_for(run, ssh).evidence["exposed_ports"] == [22]
    assert finding_for(run, ssh).evidence["entries"] == [
        {"rule_number": 100, "action": "allow", "protocol": "6", "cidr": "0.0.0.0/0", "from_port": 22, "to_port": 22,
         "port": 22}]
    assert finding_for(run, v6_range).evidence["exposed_ports"] == [22, 3389]
    assert finding_for(run, default_acl).message.startswith(f"The default network ACL {default_acl} allows")
    assert finding_for(run, office).evidence["checked_ports"] == [22, 3389]


def test_network_acl_unused(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    used, unused = acl(ec2, vpc), acl(ec2, vpc)
    [association] = [a["NetworkAclAssociationId"] for n in ec2.describe_network_acls()["NetworkAcls"]
                     for a in n["Associations"] if a["SubnetId"] == subnet]
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=used)
    run = audit(ACL_UNUSED)
    assert statuses(run) == {used: "PASS", unused: "FAIL"}  # the default ACL is never judged
    assert finding_for(run, used).evidence["subnet_ids"] == [subnet]
    assert "not associated" in finding_for(run, unused).message


# -- unused security groups (EC2.22) -------------------------------------------------------------------------
def test_security_group_in_use(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    used = new_group(ec2, vpc, "app")
    unused = new_group(ec2, vpc, "leftover")
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[used])["NetworkInterface"]["NetworkInterfaceId"]
    run = audit(SG_UNUSED)
    assert statuses(run) == {used: "PASS", unused: "FAIL"}  # the default group is never judged
    assert finding_for(run, used).evidence["network_interfaces"] == [eni]
    assert finding_for(run, unused).evidence["network_interface_count"] == 0
    assert default_group(ec2, vpc) not in statuses(run)
