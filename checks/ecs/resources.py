"""ECS clusters and task definitions, as the checks need them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

from auditor import CheckContext, Finding, Resource, collector

DESCRIBE_CLUSTERS_BATCH = 100  # DescribeClusters accepts at most 100 clusters per request
INSIGHTS_ON = frozenset({"enabled", "enhanced"})


def tag_map(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in items or () if "key" in t}


@dataclass(frozen=True)
class Cluster:
    name: str
    arn: str
    region: str
    status: str
    settings: Mapping[str, str] = field(default_factory=dict, hash=False)
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def container_insights(self) -> str | None:
        """The cluster's containerInsights setting ("enabled", "enhanced", "disabled"), None when not reported."""
        return self.settings.get("containerInsights")

    @property
    def container_insights_on(self) -> bool:
        return (self.container_insights or "").lower() in INSIGHTS_ON

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::ECS::Cluster", arn=self.arn, name=self.name, region=self.region,
                        tags=self.tags)


@collector
def clusters(ctx: CheckContext) -> list[Cluster]:
    arns: list[str] = (ctx.call("ecs", "ListClusters") or {}).get("clusterArns", [])
    found: list[Cluster] = []
    for start in range(0, len(arns), DESCRIBE_CLUSTERS_BATCH):
        batch = arns[start:start + DESCRIBE_CLUSTERS_BATCH]
        response = ctx.call("ecs", "DescribeClusters", clusters=batch, include=["SETTINGS", "TAGS"]) or {}
        # Clusters deleted between the two reads come back under `failures` (MISSING) or as INACTIVE.
        for item in response.get("clusters", []):
            if item.get("status") == "INACTIVE":
                continue
            found.append(
                Cluster(
                    name=item["clusterName"],
                    arn=item["clusterArn"],
                    region=ctx.region,
                    status=item.get("status", "UNKNOWN"),
                    settings={str(s["name"]): str(s.get("value", "")) for s in item.get("settings", []) if "name" in s},
                    tags=tag_map(item.get("tags")),
                )
            )
    return sorted(found, key=lambda c: c.name)


@dataclass(frozen=True)
class Container:
    name: str
    privileged: bool
    # Plain-text `environment` entries. Values may be secrets: never put them in a repr, message or evidence.
    environment: Mapping[str, str] = field(default_factory=dict, hash=False, repr=False)
    # Names of `secrets` entries, injected at start-up from Secrets Manager or Parameter Store (valueFrom).
    secret_refs: tuple[str, ...] = ()
    essential: bool = True  # AWS's default when the container definition omits it
    user: str = ""  # "" when unset: the image's USER, root for most images
    readonly_root_filesystem: bool = False
    log_driver: str = ""  # "" without a logConfiguration (or one naming no driver)
    health_check: bool = False

    @property
    def runs_as_root(self) -> bool:
        """True when the container runs as root: no user, or user root / UID 0 (with or without a group)."""
        name = self.user.split(":", 1)[0].strip().lower()
        return name in ("", "root", "0")


@dataclass(frozen=True)
class TaskDefinition:
    family: str
    revision: int
    arn: str  # of this revision
    family_arn: str
    region: str
    status: str
    containers: tuple[Container, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    network_mode: str = "bridge"  # AWS's default for Linux tasks when the definition omits it
    pid_mode: str = ""
    task_role_arn: str = ""
    execution_role_arn: str = ""

    @property
    def label(self) -> str:
        return f"{self.family}:{self.revision}"

    @property
    def resource(self) -> Resource:
        return family_resource(self.family, self.family_arn, self.region, self.tags)


def family_resource(family: str, family_arn: str, region: str, tags: Mapping[str, str] | None = None) -> Resource:
    # Findings are keyed by family, not revision: registering a new revision must not turn a muted or tracked
    # finding into a new one. The evaluated revision is named in the message and evidence.
    return Resource(id=family, type="AWS::ECS::TaskDefinition", arn=family_arn, name=family, region=region,
                    tags=dict(tags or {}))


def family_arn(ctx: CheckContext, family: str) -> str:
    return ctx.arn("ecs", f"task-definition/{family}")


@collector
def task_definition_families(ctx: CheckContext) -> list[str]:
    """Families that have at least one ACTIVE revision."""
    response = ctx.call("ecs", "ListTaskDefinitionFamilies", status="ACTIVE") or {}
    return sorted(set(response.get("families", [])))


def _container(item: Mapping[str, Any]) -> Container:
    environment = {
        str(entry["name"]): "" if entry.get("value") is None else str(entry["value"])
        for entry in item.get("environment", [])
        if "name" in entry
    }
    return Container(
        name=str(item.get("name", "")),
        privileged=bool(item.get("privileged", False)),
        environment=environment,
        secret_refs=tuple(str(s.get("name", "")) for s in item.get("secrets", [])),
        essential=bool(item.get("essential", True)),
        user=str(item.get("user") or ""),
        readonly_root_filesystem=bool(item.get("readonlyRootFilesystem", False)),
        log_driver=str((item.get("logConfiguration") or {}).get("logDriver") or ""),
        health_check=bool((item.get("healthCheck") or {}).get("command")),
    )


def _task_definition(ctx: CheckContext, response: Mapping[str, Any], family: str) -> TaskDefinition | None:
    item = response.get("taskDefinition")
    if not item:
        return None
    family = item.get("family", family)
    return TaskDefinition(
        family=family,
        revision=int(item.get("revision", 0)),
        arn=item.get("taskDefinitionArn", ""),
        family_arn=family_arn(ctx, family),
        region=ctx.region,
        status=item.get("status", "ACTIVE"),
        containers=tuple(_container(c) for c in item.get("containerDefinitions", [])),
        tags=tag_map(response.get("tags")),
        network_mode=str(item.get("networkMode") or "bridge"),
        pid_mode=str(item.get("pidMode") or ""),
        task_role_arn=str(item.get("taskRoleArn") or ""),
        execution_role_arn=str(item.get("executionRoleArn") or ""),
    )


@collector
def latest_task_definition(ctx: CheckContext, family: str) -> TaskDefinition | None:
    """The latest ACTIVE revision of a family; None when the family has none left (deregistered meanwhile)."""
    response = ctx.call("ecs", "DescribeTaskDefinition", taskDefinition=family, include=["TAGS"]) or {}
    definition = _task_definition(ctx, response, family)
    if definition is None or definition.status != "ACTIVE":
        return None
    return definition


@collector
def task_definition(ctx: CheckContext, arn: str) -> TaskDefinition | None:
    """One revision, by ARN or family:revision, whatever its status (a service may run an INACTIVE revision)."""
    response = ctx.call("ecs", "DescribeTaskDefinition", taskDefinition=arn, include=["TAGS"]) or {}
    return _task_definition(ctx, response, arn.rsplit("/", 1)[-1].split(":", 1)[0])


def each_latest_task_definition(
    ctx: CheckContext, evaluate_one: Callable[[TaskDefinition], Iterator[Finding]]
) -> Iterator[Finding]:
    """Evaluate the latest ACTIVE revision of every family; a family whose read fails is an ERROR on its own."""

    def one(family: str) -> Iterator[Finding]:
        definition = latest_task_definition(ctx, family)
        if definition is not None:
            yield from evaluate_one(definition)

    yield from ctx.each(
        task_definition_families(ctx), one, resource_of=lambda f: family_resource(f, family_arn(ctx, f), ctx.region)
    )
