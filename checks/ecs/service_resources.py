"""ECS services and their task sets (returned with the service by DescribeServices), as the checks need them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from auditor import CheckContext, Finding, Resource, collector

from .resources import tag_map

DESCRIBE_SERVICES_BATCH = 10  # DescribeServices accepts at most 10 services per request
FARGATE_CAPACITY_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})


def _name_from_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class AwsVpcConfiguration:
    """A service's or task set's `networkConfiguration.awsvpcConfiguration`."""

    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    assign_public_ip: str = "DISABLED"  # AWS's default when omitted

    @property
    def public_ip(self) -> bool:
        return self.assign_public_ip.upper() == "ENABLED"

    def evidence(self) -> dict[str, Any]:
        return {"assignPublicIp": self.assign_public_ip, "subnets": list(self.subnets)}


def _awsvpc(item: Mapping[str, Any]) -> AwsVpcConfiguration | None:
    config = (item.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not config:
        return None
    return AwsVpcConfiguration(
        subnets=tuple(str(s) for s in config.get("subnets") or ()),
        security_groups=tuple(str(s) for s in config.get("securityGroups") or ()),
        assign_public_ip=str(config.get("assignPublicIp") or "DISABLED"),
    )


def cluster_resource(arn: str, region: str) -> Resource:
    name = _name_from_arn(arn)
    return Resource(id=name, type="AWS::ECS::Cluster", arn=arn, name=name, region=region)


@dataclass(frozen=True)
class TaskSet:
    """A task set of a service deployed by an EXTERNAL or CODE_DEPLOY controller."""

    id: str
    arn: str
    service_label: str  # cluster/service
    region: str
    status: str
    launch_type: str
    network: AwsVpcConfiguration | None = None

    @property
    def label(self) -> str:
        return f"{self.service_label}/{self.id}"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.label, type="AWS::ECS::TaskSet", arn=self.arn, name=self.id, region=self.region)


def _task_set(item: Mapping[str, Any], service_label: str, region: str) -> TaskSet:
    return TaskSet(
        id=str(item.get("id") or _name_from_arn(item.get("taskSetArn", ""))),
        arn=str(item.get("taskSetArn", "")),
        service_label=service_label,
        region=region,
        status=str(item.get("status", "")),
        launch_type=str(item.get("launchType") or ""),
        network=_awsvpc(item),
    )


@dataclass(frozen=True)
class Service:
    name: str
    arn: str
    cluster_arn: str
    region: str
    status: str
    task_definition: str  # ARN of the revision the service runs
    launch_type: str  # "" when the service uses a capacity provider strategy
    capacity_providers: tuple[str, ...] = ()
    platform_version: str = ""  # "" when AWS reports none
    platform_family: str = ""
    deployment_controller: str = "ECS"
    network: AwsVpcConfiguration | None = None
    # DescribeServices returns the task sets of EXTERNAL and CODE_DEPLOY services with the service.
    task_sets: tuple[TaskSet, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def cluster_name(self) -> str:
        return _name_from_arn(self.cluster_arn)

    @property
    def label(self) -> str:
        return f"{self.cluster_name}/{self.name}"

    @property
    def on_fargate(self) -> bool:
        return self.launch_type == "FARGATE" or any(p in FARGATE_CAPACITY_PROVIDERS for p in self.capacity_providers)

    @property
    def resource(self) -> Resource:
        return Resource(id=self.label, type="AWS::ECS::Service", arn=self.arn, name=self.name, region=self.region,
                        tags=self.tags)


def _service(item: Mapping[str, Any], cluster_arn: str, region: str) -> Service:
    name = str(item.get("serviceName") or _name_from_arn(item.get("serviceArn", "")))
    cluster_arn = str(item.get("clusterArn") or cluster_arn)
    label = f"{_name_from_arn(cluster_arn)}/{name}"
    return Service(
        name=name,
        arn=str(item.get("serviceArn", "")),
        cluster_arn=cluster_arn,
        region=region,
        status=str(item.get("status", "ACTIVE")),
        task_definition=str(item.get("taskDefinition", "")),
        launch_type=str(item.get("launchType") or ""),
        capacity_providers=tuple(
            str(s.get("capacityProvider", "")) for s in item.get("capacityProviderStrategy") or ()
        ),
        platform_version=str(item.get("platformVersion") or ""),
        platform_family=str(item.get("platformFamily") or ""),
        deployment_controller=str((item.get("deploymentController") or {}).get("type") or "ECS"),
        network=_awsvpc(item),
        task_sets=tuple(_task_set(t, label, region) for t in item.get("taskSets") or ()),
        tags=tag_map(item.get("tags")),
    )


@collector
def cluster_arns(ctx: CheckContext) -> list[str]:
    return sorted((ctx.call("ecs", "ListClusters") or {}).get("clusterArns", []))


@collector
def services(ctx: CheckContext, cluster_arn: str) -> list[Service]:
    """The ACTIVE and DRAINING services of one cluster; empty when the cluster was deleted meanwhile."""
    listed = ctx.call("ecs", "ListServices", cluster=cluster_arn)
    arns: list[str] = (listed or {}).get("serviceArns", [])
    found: list[Service] = []
    for start in range(0, len(arns), DESCRIBE_SERVICES_BATCH):
        batch = arns[start:start + DESCRIBE_SERVICES_BATCH]
        response = ctx.call("ecs", "DescribeServices", cluster=cluster_arn, services=batch, include=["TAGS"]) or {}
        # Services deleted between the two reads come back under `failures` (MISSING) or as INACTIVE.
        for item in response.get("services", []):
            if item.get("status") != "INACTIVE":
                found.append(_service(item, cluster_arn, ctx.region))
    return sorted(found, key=lambda s: s.name)


def each_cluster(ctx: CheckContext, evaluate_one: Callable[[str], Iterator[Finding]]) -> Iterator[Finding]:
    """Evaluate the services of every cluster; a cluster whose services cannot be read is an ERROR on its own."""
    yield from ctx.each(cluster_arns(ctx), evaluate_one, resource_of=lambda arn: cluster_resource(arn, ctx.region))
