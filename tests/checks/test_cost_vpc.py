from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from auditor import Status

from ..conftest import REGION, statuses

IDLE = "vpc_nat_gateway_in_use"
SINGLE = "vpc_nat_gateway_single_outside_production"
NOW = datetime.now(timezone.utc)


def vpc_with_nats(aws, environment: str | None, zones: tuple[str, ...] = ("a",)) -> tuple[str, list[str]]:
    ec2 = aws.client("ec2")
    tags = [{"Key": "Environment", "Value": environment}] if environment else [{"Key": "Name", "Value": "net"}]
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])["Vpc"]
    nats = []
    for i, zone in enumerate(zones):
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"10.9.{i}.0/24",
                                   AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nats.append(ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"])
    return vpc["VpcId"], nats


def traffic(aws, nat_id: str, value: float, days_ago: int = 3) -> None:
    aws.client("cloudwatch").put_metric_data(Namespace="AWS/NATGateway", MetricData=[{
        "MetricName": "BytesOutToDestination", "Dimensions": [{"Name": "NatGatewayId", "Value": nat_id}],
        "Value": value, "Unit": "Bytes", "Timestamp": NOW - timedelta(days=days_ago)}])


# -- idle NAT gateways ---------------------------------------------------------------------------------------
def test_idle_nat_gateway_fails_with_cost_busy_one_passes(audit, aws):
    with freeze_time(NOW - timedelta(days=60)):
        _, (idle, busy, stale_traffic) = vpc_with_nats(aws, "dev", ("a", "b", "c"))
    traffic(aws, busy, 5_000_000)
    traffic(aws, stale_traffic, 5_000_000, days_ago=40)  # outside the 14-day window
    run = audit(IDLE)
    assert statuses(run) == {idle: "FAIL", busy: "PASS", stale_traffic: "FAIL"}
    [finding] = [f for f in run.findings if f.resource.id == idle]
    assert finding.evidence["sum"] == 0 and finding.evidence["window_days"] == 14
    assert finding.evidence["estimated_monthly_cost_usd"] == 32.85  # $0.045 x 730 h
    assert idle in finding.message and "idle" in finding.message
    assert finding.resource.type == "AWS::EC2::NatGateway"


def test_new_nat_gateway_is_not_judged(audit, aws):
    _, (fresh,) = vpc_with_nats(aws, "dev")
    [finding] = audit(IDLE).findings
    assert finding.status is Status.PASS and "younger than" in finding.message


def test_unreadable_metrics_are_error_never_idle(audit, aws, faults):
    with freeze_time(NOW - timedelta(days=60)):
        _, (nat,) = vpc_with_nats(aws, "dev")
    faults.deny("cloudwatch", "GetMetricStatistics")
    [finding] = audit(IDLE).findings
    assert finding.status is Status.ERROR and finding.resource.id == nat
    assert finding.evidence["iam_action"] == "cloudwatch:GetMetricStatistics"


def test_no_nat_gateways_no_findings(audit):
    assert audit(IDLE, SINGLE).findings == ()


# -- one NAT gateway outside production ----------------------------------------------------------------------
def test_several_nat_gateways_outside_production_fail(audit, aws):
    vpc, nats = vpc_with_nats(aws, "staging", ("a", "b", "c"))
    [finding] = audit(SINGLE).findings
    assert finding.status is Status.FAIL and finding.resource.id == vpc
    assert finding.evidence["environment"] == "non-production"
    assert finding.evidence["environment_basis"] == "tag Environment=staging"
    assert finding.evidence["estimated_monthly_saving_usd"] == 65.7  # two extra x $0.045 x 730 h
    assert sorted(finding.evidence["nat_gateways"]) == sorted(nats)
    assert "tag Environment=staging" in finding.message


def test_production_or_single_gateway_passes(audit, aws):
    prod, _ = vpc_with_nats(aws, "prod", ("a", "b"))
    run = audit(SINGLE)
    assert statuses(run) == {prod: "PASS"}
    assert "production (tag Environment=prod)" in run.findings[0].message


def test_unknown_environment_is_not_flagged_but_said(audit, aws):
    vpc, _ = vpc_with_nats(aws, None, ("a", "b"))
    [finding] = audit(SINGLE).findings
    assert finding.status is Status.PASS
    assert finding.evidence["environment"] == "unknown"
    assert "no Environment tag and no --environment" in finding.message


def test_account_default_environment_applies(audit, aws):
    vpc, _ = vpc_with_nats(aws, None, ("a", "b"))
    [finding] = audit(SINGLE, params={"tags.account_environment": "dev"}).findings
    assert finding.status is Status.FAIL
    assert finding.evidence["environment_basis"] == "no Environment tag; account default --environment dev"
