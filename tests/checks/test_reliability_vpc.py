from auditor import Status

from ..conftest import REGION, statuses

SUBNETS = "vpc_workload_subnets_multi_az"
NAT_PER_AZ = "vpc_nat_gateway_per_availability_zone"


def vpc(aws, cidr: str = "10.8.0.0/16", environment: str | None = None) -> str:
    tags = [{"Key": "Environment", "Value": environment}] if environment else [{"Key": "Name", "Value": "net"}]
    return aws.client("ec2").create_vpc(CidrBlock=cidr, TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])[
        "Vpc"]["VpcId"]


def subnet(aws, vpc_id: str, cidr: str, zone: str) -> str:
    return aws.client("ec2").create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}{zone}")[
        "Subnet"]["SubnetId"]


# -- subnets in several zones --------------------------------------------------------------------------------
def test_single_zone_vpc_with_workload_fails_multi_zone_passes(audit, aws):
    ec2 = aws.client("ec2")
    single = vpc(aws, "10.8.0.0/16")
    ec2.create_network_interface(SubnetId=subnet(aws, single, "10.8.1.0/24", "a"))
    multi = vpc(aws, "10.7.0.0/16")
    subnet(aws, multi, "10.7.2.0/24", "b")
    ec2.create_network_interface(SubnetId=subnet(aws, multi, "10.7.1.0/24", "a"))
    empty = vpc(aws, "10.6.0.0/16")
    subnet(aws, empty, "10.6.1.0/24", "a")  # no workloads: not judged
    run = audit(SUBNETS)
    assert statuses(run) == {single: "FAIL", multi: "PASS"}
    [failed] = [f for f in run.findings if f.resource.id == single]
    assert failed.evidence["availability_zones"] == [f"{REGION}a"] and failed.evidence["workload_interfaces"] == 1
    assert "only 1 Availability Zone" in failed.message


def test_no_workloads_no_findings(audit):
    assert audit(SUBNETS, NAT_PER_AZ).findings == ()


# -- NAT gateway per zone in production ----------------------------------------------------------------------
def network_with_shared_nat(aws, environment: str | None) -> tuple[str, list[str]]:
    """Private subnets in zones a and b, both routed to one NAT gateway in zone a."""
    ec2 = aws.client("ec2")
    vpc_id = vpc(aws, "10.5.0.0/16", environment)
    public = subnet(aws, vpc_id, "10.5.1.0/24", "a")
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])[
        "NatGateway"]["NatGatewayId"]
    private = [subnet(aws, vpc_id, "10.5.10.0/24", "a"), subnet(aws, vpc_id, "10.5.20.0/24", "b")]
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    for subnet_id in private:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)
    return vpc_id, private


def test_production_subnet_using_nat_in_other_zone_fails(audit, aws):
    vpc_id, private = network_with_shared_nat(aws, "prod")
    [finding] = audit(NAT_PER_AZ).findings
    assert finding.status is Status.FAIL and finding.resource.id == vpc_id
    [crossing] = finding.evidence["subnets_without_zonal_nat_gateway"]
    assert crossing["subnet_id"] == private[1] and crossing["subnet_zone"] == f"{REGION}b"
    assert crossing["nat_gateway_zone"] == f"{REGION}a"
    assert "production (tag Environment=prod)" in finding.message


def test_unknown_environment_is_judged_as_production(audit, aws):
    network_with_shared_nat(aws, None)
    [finding] = audit(NAT_PER_AZ).findings
    assert finding.status is Status.FAIL and "assumed production" in finding.message
    assert finding.evidence["environment"] == "unknown"


def test_shared_nat_outside_production_passes(audit, aws):
    network_with_shared_nat(aws, "staging")
    [finding] = audit(NAT_PER_AZ).findings
    assert finding.status is Status.PASS and "non-production (tag Environment=staging)" in finding.message


def test_zonal_nat_gateways_pass_in_production(audit, aws):
    ec2 = aws.client("ec2")
    vpc_id = vpc(aws, "10.4.0.0/16", "prod")
    for i, zone in enumerate("ab"):
        public = subnet(aws, vpc_id, f"10.4.{i}.0/24", zone)
        nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=ec2.allocate_address(Domain="vpc")[
            "AllocationId"])["NatGateway"]["NatGatewayId"]
        table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet(aws, vpc_id, f"10.4.{i + 10}.0/24", zone))
    [finding] = audit(NAT_PER_AZ).findings
    assert finding.status is Status.PASS and finding.evidence["nat_routed_subnets"] == 2


def test_denied_interfaces_read_is_error(audit, aws, faults):
    faults.deny("ec2", "DescribeNetworkInterfaces")
    [finding] = audit(SUBNETS).findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "ec2:DescribeNetworkInterfaces"
