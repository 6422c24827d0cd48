"""ECS service capacity settings (desired count, deployment configuration, scheduling) and their Application Auto
Scaling targets, for the reliability checks. The ECS reads are the ones `service_resources` makes (shared)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from auditor import CheckContext, Resource, collector

from .resources import tag_map
from .service_resources import DESCRIBE_SERVICES_BATCH

DESIRED_COUNT_DIMENSION = "ecs:service:DesiredCount"


@dataclass(frozen=True)
class ServiceCapacity:
    name: str
    arn: str
    cluster_arn: str
    region: str
    desired_count: int
    scheduling_strategy: str  # REPLICA | DAEMON
    deployment_controller: str  # ECS | CODE_DEPLOY | EXTERNAL
    min_healthy_percent: int | None  # None when the response leaves it out
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def cluster_name(self) -> str:
        return self.cluster_arn.rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        return f"{self.cluster_name}/{self.name}"

    @property
    def scaling_resource_id(self) -> str:
        """The Application Auto Scaling resource id: service/<cluster name>/<service name>."""
        return f"service/{self.cluster_name}/{self.name}"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.label, type="AWS::ECS::Service", arn=self.arn, name=self.name, region=self.region,
                        tags=self.tags)


def _capacity(item: Mapping[str, Any], cluster_arn: str, region: str) -> ServiceCapacity:
    deployment = item.get("deploymentConfiguration") or {}
    healthy = deployment.get("minimumHealthyPercent")
    return ServiceCapacity(
        name=str(item.get("serviceName") or str(item.get("serviceArn", "")).rsplit("/", 1)[-1]),
        arn=str(item.get("serviceArn", "")), cluster_arn=str(item.get("clusterArn") or cluster_arn), region=region,
        desired_count=int(item.get("desiredCount", 0) or 0),
        scheduling_strategy=str(item.get("schedulingStrategy") or "REPLICA"),
        deployment_controller=str((item.get("deploymentController") or {}).get("type") or "ECS"),
        min_healthy_percent=int(healthy) if healthy is not None else None,
        tags=tag_map(item.get("tags")),
    )


@collector
def service_capacities(ctx: CheckContext, cluster_arn: str) -> list[ServiceCapacity]:
    """The ACTIVE and DRAINING services of one cluster."""
    arns: list[str] = (ctx.call("ecs", "ListServices", cluster=cluster_arn) or {}).get("serviceArns", [])
    found = []
    for start in range(0, len(arns), DESCRIBE_SERVICES_BATCH):
        batch = arns[start:start + DESCRIBE_SERVICES_BATCH]
        response = ctx.call("ecs", "DescribeServices", cluster=cluster_arn, services=batch, include=["TAGS"]) or {}
        found.extend(_capacity(item, cluster_arn, ctx.region) for item in response.get("services", [])
                     if item.get("status") != "INACTIVE")
    return sorted(found, key=lambda s: s.name)


@dataclass(frozen=True)
class ScalableTarget:
    resource_id: str
    min_capacity: int
    max_capacity: int


@collector
def service_scalable_targets(ctx: CheckContext) -> dict[str, ScalableTarget]:
    """ECS desired-count scaling targets in the region, by resource id (service/<cluster>/<service>)."""
    response = ctx.call("application-autoscaling", "DescribeScalableTargets", ServiceNamespace="ecs") or {}
    return {
        str(t["ResourceId"]): ScalableTarget(str(t["ResourceId"]), int(t.get("MinCapacity", 0) or 0),
                                             int(t.get("MaxCapacity", 0) or 0))
        for t in response.get("ScalableTargets", [])
        if t.get("ScalableDimension") == DESIRED_COUNT_DIMENSION and t.get("ResourceId")
    }
