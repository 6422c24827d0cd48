"""Elastic Load Balancing (v2: Application and Network Load Balancers): idle load balancers and zone spread."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Resource, Severity, collector
from auditor.check import utc_datetime
from auditor.pricing import hourly

from ..vpc.cost_resources import metric_sum

# Load balancer type -> (CloudWatch namespace, traffic metric, price table item, idle-threshold parameter).
TRAFFIC = {
    "application": ("AWS/ApplicationELB", "RequestCount", "alb_hour", "cost.alb_idle_max_requests"),
    "network": ("AWS/NetworkELB", "ProcessedBytes", "nlb_hour", "cost.nlb_idle_max_bytes"),
}

LB_TERRAFORM = ('resource "aws_lb" "main" {\n'
                '  name               = "${var.project}-alb"\n'
                '  internal           = false\n'
                '  load_balancer_type = "application"\n'
                '  security_groups    = [aws_security_group.alb.id]\n'
                '  subnets            = module.vpc.public_subnets  # one per Availability Zone\n\n'
                '  tags = local.common_tags\n'
                '}')


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str
    region: str
    lb_type: str  # application | network | gateway
    scheme: str
    state: str
    vpc_id: str
    zones: tuple[str, ...]
    created: datetime | None

    @property
    def metric_dimension(self) -> str:
        """The CloudWatch `LoadBalancer` dimension: the ARN after `loadbalancer/` (app/name/id, net/name/id)."""
        return self.arn.split(":loadbalancer/", 1)[-1]

    @property
    def label(self) -> str:
        return f"{self.lb_type} load balancer {self.name}"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::ElasticLoadBalancingV2::LoadBalancer", arn=self.arn,
                        name=self.name, region=self.region)


@collector
def load_balancers(ctx: CheckContext) -> list[LoadBalancer]:
    response = ctx.call("elbv2", "DescribeLoadBalancers") or {}
    found = []
    for item in response.get("LoadBalancers", []):
        found.append(LoadBalancer(
            arn=str(item["LoadBalancerArn"]), name=str(item.get("LoadBalancerName", "")), region=ctx.region,
            lb_type=str(item.get("Type", "application")), scheme=str(item.get("Scheme", "")),
            state=str((item.get("State") or {}).get("Code", "")), vpc_id=str(item.get("VpcId", "")),
            zones=tuple(sorted({str(z.get("ZoneName", "")) for z in item.get("AvailabilityZones") or []
                                if z.get("ZoneName")})),
            created=utc_datetime(item.get("CreatedTime")),
        ))
    return sorted(found, key=lambda lb: lb.name)


class ElbLoadBalancerInUse(Check):
    """A load balancer is billed by the hour (about $16 a month for an ALB or NLB in us-east-1, before capacity
    units) whether or not it serves anything. An Application Load Balancer with no requests (CloudWatch
    RequestCount) or a Network Load Balancer that processed no bytes (ProcessedBytes) over the last
    `cost.idle_lookback_days` days is idle; the thresholds are parameters. AWS publishes these metrics only for
    periods with traffic, so no datapoints means no traffic. Load balancers younger than the window, and Gateway
    Load Balancers, are not judged. When the metrics cannot be read the load balancer is ERROR naming
    cloudwatch:GetMetricStatistics, never idle."""

    id = "elb_load_balancer_in_use"
    service = "elb"
    severity = Severity.LOW
    category = Category.COST
    title = "Load balancers serve traffic"
    risk = "An idle load balancer costs its hourly charge every month and keeps an unused entry point open."
    remediation = Remediation(
        text="Delete the idle load balancer (and its target groups and listeners) after checking that no DNS "
        "record or client still points at it.",
        cli="aws elbv2 delete-load-balancer --load-balancer-arn <load-balancer-arn>",
        terraform="# Remove the unused aws_lb (and its aws_lb_listener and aws_lb_target_group), then apply.\n"
                  + LB_TERRAFORM,
        url="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html",
    )
    api_calls = ("elasticloadbalancing:DescribeLoadBalancers", "cloudwatch:GetMetricStatistics")
    parameters = ("cost.idle_lookback_days", "cost.alb_idle_max_requests", "cost.nlb_idle_max_bytes")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        days = int(ctx.param("cost.idle_lookback_days"))

        def judge(lb: LoadBalancer) -> Iterator[Finding]:
            namespace, metric, price_item, threshold_key = TRAFFIC[lb.lb_type]
            evidence: dict[str, Any] = {"type": lb.lb_type, "created": lb.created.isoformat() if lb.created else None}
            if lb.created and (ctx.now - lb.created).days < days:
                yield ctx.passed(lb.resource, f"The {lb.label} is younger than the {days}-day window, so it is not "
                                 "judged idle yet.", evidence)
                return
            usage = metric_sum(ctx, namespace, metric, {"LoadBalancer": lb.metric_dimension}, days)
            threshold = float(ctx.param(threshold_key))
            evidence.update(usage.evidence(), idle_max=threshold)
            amount = f"{usage.total:,.0f} {'requests' if metric == 'RequestCount' else 'bytes'}"
            if usage.total <= threshold:
                estimate = hourly(ctx.region, price_item)
                yield ctx.failed(lb.resource, f"The {lb.label} handled {amount} in the last {days} days and costs "
                                 f"{estimate.text()} idle.", {**evidence, **estimate.evidence()})
            else:
                yield ctx.passed(lb.resource, f"The {lb.label} handled {amount} in the last {days} days.", evidence)

        yield from ctx.each([lb for lb in load_balancers(ctx) if lb.lb_type in TRAFFIC], judge)


class ElbLoadBalancerMultiAz(Check):
    """A load balancer serves only from the Availability Zones it is enabled in. With a single zone, a zone outage
    takes the entry point down even when the targets behind it run elsewhere. The seed guide's ALB spans the
    public subnets of every zone. Application and Network Load Balancers (and Gateway Load Balancers) fail with
    fewer than reliability.min_availability_zones zones."""

    id = "elb_load_balancer_multi_az"
    service = "elb"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Load balancers span several Availability Zones"
    risk = "A single-zone load balancer goes down with its Availability Zone, taking the service with it."
    remediation = Remediation(
        text="Enable the load balancer in a subnet of at least one more Availability Zone.",
        cli="aws elbv2 set-subnets --load-balancer-arn <load-balancer-arn> --subnets <subnet-a> <subnet-b>",
        terraform=LB_TERRAFORM,
        url="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-subnets.html",
    )
    api_calls = ("elasticloadbalancing:DescribeLoadBalancers",)
    parameters = ("reliability.min_availability_zones",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        minimum = int(ctx.param("reliability.min_availability_zones"))
        for lb in load_balancers(ctx):
            evidence = {"type": lb.lb_type, "availability_zones": list(lb.zones), "min_availability_zones": minimum}
            if len(lb.zones) >= minimum:
                yield ctx.passed(lb.resource, f"The {lb.label} spans {len(lb.zones)} Availability Zones.", evidence)
            else:
                yield ctx.failed(lb.resource, f"The {lb.label} is enabled in only {len(lb.zones)} Availability "
                                 f"Zone(s) ({', '.join(lb.zones) or 'none'}); at least {minimum} are needed.", evidence)
