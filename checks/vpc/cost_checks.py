"""VPC cost checks: idle NAT gateways, and more NAT gateways than a non-production VPC needs."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Severity
from auditor.environment import ENVIRONMENT_PARAMETERS, environment_of
from auditor.pricing import hourly

from .cost_resources import CostNatGateway, live_nat_gateways, metric_sum
from .resources import vpcs

NAT_TERRAFORM = ('module "vpc" {\n'
                 '  source  = "terraform-aws-modules/vpc/aws"\n'
                 '  # ...\n'
                 '  enable_nat_gateway     = true\n'
                 '  single_nat_gateway     = var.environment != "prod"  # Cost saving for non-prod\n'
                 '  one_nat_gateway_per_az = var.environment == "prod"\n'
                 '}')


class VpcNatGatewayInUse(Check):
    """A NAT gateway is billed by the hour whether or not anything uses it (about $33 a month in us-east-1 before
    data processing). One that sent no traffic (CloudWatch BytesOutToDestination) over the last
    `cost.idle_lookback_days` days is idle: its subnets no longer need outbound internet access, or route
    elsewhere. Gateways younger than the window are not judged. When the metrics cannot be read the gateway is
    ERROR naming cloudwatch:GetMetricStatistics, never idle."""

    id = "vpc_nat_gateway_in_use"
    service = "vpc"
    severity = Severity.LOW
    category = Category.COST
    title = "NAT gateways carry traffic"
    risk = "An idle NAT gateway costs its hourly charge every month for nothing."
    remediation = Remediation(
        text="Delete the idle NAT gateway (and release its Elastic IP), after checking that no route table still "
        "sends traffic to it.",
        cli="aws ec2 delete-nat-gateway --nat-gateway-id <nat-gateway-id>",
        terraform=NAT_TERRAFORM,
        url="https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-cloudwatch.html",
    )
    api_calls = ("ec2:DescribeNatGateways", "cloudwatch:GetMetricStatistics")
    parameters = ("cost.idle_lookback_days", "cost.nat_gateway_idle_max_bytes")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        days = int(ctx.param("cost.idle_lookback_days"))
        max_bytes = float(ctx.param("cost.nat_gateway_idle_max_bytes"))

        def judge(nat: CostNatGateway) -> Iterator[Finding]:
            evidence: dict[str, Any] = {"state": nat.state, "vpc_id": nat.vpc_id,
                                        "created": nat.created.isoformat() if nat.created else None}
            if nat.created and (ctx.now - nat.created).days < days:
                yield ctx.passed(nat.resource, f"NAT gateway {nat.label} is younger than the {days}-day window, "
                                 "so it is not judged idle yet.", evidence)
                return
            usage = metric_sum(ctx, "AWS/NATGateway", "BytesOutToDestination", {"NatGatewayId": nat.id}, days)
            evidence.update(usage.evidence(), idle_max_bytes=max_bytes)
            if usage.total <= max_bytes:
                estimate = hourly(ctx.region, "nat_gateway_hour")
                yield ctx.failed(nat.resource, f"NAT gateway {nat.label} sent {usage.total:,.0f} bytes in the last "
                                 f"{days} days and costs {estimate.text()} idle.", {**evidence, **estimate.evidence()})
            else:
                yield ctx.passed(nat.resource, f"NAT gateway {nat.label} sent {usage.total:,.0f} bytes in the last "
                                 f"{days} days.", evidence)

        yield from ctx.each(live_nat_gateways(ctx), judge)


class VpcNatGatewaySingleOutsideProduction(Check):
    """The seed guide runs a NAT gateway per Availability Zone in production, for resilience, and a single one
    elsewhere ("single_nat_gateway = var.environment != prod", a cost saving). A non-production VPC with more
    than one NAT gateway pays for the others every hour. The environment comes from the VPC's environment tag (see
    tags.*) or the account default (--environment). When it is unknown the VPC is not flagged: removing NAT gateways
    from what may be production trades availability for a saving, so the finding says the environment was unknown
    and set the tag or --environment to have it judged."""

    id = "vpc_nat_gateway_single_outside_production"
    service = "vpc"
    severity = Severity.LOW
    category = Category.COST
    title = "Non-production VPCs use a single NAT gateway"
    risk = "Each extra NAT gateway in a non-production VPC costs its hourly charge without a need for resilience."
    remediation = Remediation(
        text="Route every private subnet of the non-production VPC through one NAT gateway and delete the others.",
        cli="aws ec2 delete-nat-gateway --nat-gateway-id <nat-gateway-id>",
        terraform=NAT_TERRAFORM,
        url="https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html",
    )
    api_calls = ("ec2:DescribeNatGateways", "ec2:DescribeVpcs")
    parameters = ENVIRONMENT_PARAMETERS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        by_vpc: dict[str, list[CostNatGateway]] = defaultdict(list)
        for nat in live_nat_gateways(ctx):
            by_vpc[nat.vpc_id].append(nat)
        if not by_vpc:
            return
        known_vpcs = {vpc.id: vpc for vpc in vpcs(ctx)}
        for vpc_id, gateways in sorted(by_vpc.items()):
            vpc = known_vpcs.get(vpc_id)
            if vpc is None:  # deleted meanwhile
                continue
            env = environment_of(ctx, vpc.tags)
            evidence: dict[str, Any] = {"nat_gateways": [n.id for n in gateways], **env.evidence()}
            count = len(gateways)
            if env.production:
                yield ctx.passed(vpc.resource, f"{vpc.label} has {count} NAT gateway(s) and is "
                                 f"{env.describe()}, where one per Availability Zone is expected.", evidence)
            elif count <= 1:
                yield ctx.passed(vpc.resource, f"{vpc.label} has a single NAT gateway ({env.describe()}).", evidence)
            elif not env.known:
                yield ctx.passed(vpc.resource, f"{vpc.label} has {count} NAT gateways but its environment is "
                                 f"{env.describe()}; it may be production, so they are not reported as waste.",
                                 evidence)
            else:
                extra = hourly(ctx.region, "nat_gateway_hour", count=count - 1)
                yield ctx.failed(vpc.resource, f"{vpc.label} is {env.describe()} but has {count} NAT gateways; the "
                                 f"{count - 1} extra cost {extra.text()}.",
                                 {**evidence, **extra.evidence("estimated_monthly_saving_usd")})
