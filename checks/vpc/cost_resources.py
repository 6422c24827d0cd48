"""NAT gateways as the cost and reliability checks need them (tags, creation time, type), and CloudWatch metric
sums for idle detection (shared with the load balancer checks)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from auditor import CheckContext, Resource, collector
from auditor.check import utc_datetime

from ..ec2.resources import tag_dict

METRIC_PERIOD_SECONDS = 86400


@dataclass(frozen=True)
class CostNatGateway:
    id: str
    region: str
    arn: str
    vpc_id: str
    subnet_id: str
    state: str
    connectivity: str  # public | private
    created: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        name = self.tags.get("Name", "")
        return f"{self.id} ({name})" if name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::NatGateway", arn=self.arn, name=self.tags.get("Name", ""),
                        region=self.region, tags=self.tags)


@collector
def live_nat_gateways(ctx: CheckContext) -> list[CostNatGateway]:
    """NAT gateways that exist and are billed (pending or available)."""
    response = ctx.call("ec2", "DescribeNatGateways") or {}
    found = []
    for item in response.get("NatGateways", []):
        state = str(item.get("State", ""))
        if state not in ("pending", "available"):
            continue
        nat_id = str(item["NatGatewayId"])
        found.append(CostNatGateway(
            id=nat_id, region=ctx.region, arn=ctx.arn("ec2", f"natgateway/{nat_id}"),
            vpc_id=str(item.get("VpcId", "")), subnet_id=str(item.get("SubnetId", "")), state=state,
            connectivity=str(item.get("ConnectivityType") or "public"), created=utc_datetime(item.get("CreateTime")),
            tags=tag_dict(item.get("Tags")),
        ))
    return sorted(found, key=lambda n: n.id)


@dataclass(frozen=True)
class MetricSum:
    namespace: str
    metric: str
    days: int
    total: float
    datapoints: int

    def evidence(self) -> dict[str, Any]:
        return {"metric": f"{self.namespace} {self.metric}", "window_days": self.days, "sum": self.total,
                "datapoints": self.datapoints}


def metric_sum(ctx: CheckContext, namespace: str, metric: str, dimensions: Mapping[str, str],
               days: int) -> MetricSum:
    """The Sum of a metric over the last `days` days (daily periods). A metric with no datapoints sums to 0: AWS
    publishes load balancer request and byte counts only for periods with traffic. A read that fails raises
    DataUnavailable, so the resource is ERROR, never idle."""
    end = ctx.now.replace(second=0, microsecond=0)
    response = ctx.call(
        "cloudwatch", "GetMetricStatistics", Namespace=namespace, MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=end - timedelta(days=days), EndTime=end, Period=METRIC_PERIOD_SECONDS, Statistics=["Sum"],
    ) or {}
    points = response.get("Datapoints") or []
    return MetricSum(namespace, metric, days, float(sum(float(p.get("Sum", 0) or 0) for p in points)), len(points))
