"""Idle load balancers (service elb, cost)."""
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from auditor import Status

from ..conftest import statuses

IDLE = "elb_load_balancer_in_use"
NOW = datetime.now(timezone.utc)


def default_subnets(aws) -> list[str]:
    subnets = aws.client("ec2").describe_subnets()["Subnets"]
    return [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])]


def load_balancer(aws, name: str, subnets: list[str], lb_type: str = "application") -> str:
    return aws.client("elbv2").create_load_balancer(Name=name, Subnets=subnets, Type=lb_type)[
        "LoadBalancers"][0]["LoadBalancerArn"]


def traffic(aws, namespace: str, metric: str, arn: str, value: float, days_ago: int = 2) -> None:
    aws.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=[{
        "MetricName": metric, "Value": value, "Timestamp": NOW - timedelta(days=days_ago),
        "Dimensions": [{"Name": "LoadBalancer", "Value": arn.split(":loadbalancer/", 1)[1]}]}])


def test_idle_load_balancers_fail_with_cost_busy_ones_pass(audit, aws):
    subnets = default_subnets(aws)[:2]
    with freeze_time(NOW - timedelta(days=30)):
        idle_alb = load_balancer(aws, "idle-alb", subnets)
        busy_alb = load_balancer(aws, "busy-alb", subnets)
        busy_nlb = load_balancer(aws, "busy-nlb", subnets, "network")
    traffic(aws, "AWS/ApplicationELB", "RequestCount", busy_alb, 1200)
    traffic(aws, "AWS/NetworkELB", "ProcessedBytes", busy_nlb, 10_000_000)
    run = audit(IDLE)
    assert statuses(run) == {"idle-alb": "FAIL", "busy-alb": "PASS", "busy-nlb": "PASS"}
    [idle] = [f for f in run.findings if f.resource.arn == idle_alb]
    assert idle.evidence["metric"] == "AWS/ApplicationELB RequestCount" and idle.evidence["sum"] == 0
    assert idle.evidence["estimated_monthly_cost_usd"] == 16.43  # $0.0225 x 730 h
    assert "idle-alb" in idle.message and "0 requests" in idle.message
    assert idle.resource.type == "AWS::ElasticLoadBalancingV2::LoadBalancer"


def test_young_load_balancer_is_not_judged(audit, aws):
    load_balancer(aws, "new-alb", default_subnets(aws)[:2])
    [finding] = audit(IDLE).findings
    assert finding.status is Status.PASS and "younger than" in finding.message


def test_unreadable_metrics_are_error_never_idle(audit, aws, faults):
    with freeze_time(NOW - timedelta(days=30)):
        load_balancer(aws, "some-alb", default_subnets(aws)[:2])
    faults.deny("cloudwatch", "GetMetricStatistics")
    [finding] = audit(IDLE).findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "cloudwatch:GetMetricStatistics"


def test_no_load_balancers_no_findings(audit):
    assert audit(IDLE).findings == ()
