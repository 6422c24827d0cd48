"""ECS service checks: public IPs, Fargate platform versions, task sets and container health checks."""
from __future__ import annotations

import re
from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.models import Category

from ..vpc.network import NETWORK_API_CALLS, network
from .resources import task_definition
from .service_resources import Service, each_cluster, services

SERVICE_READS = ("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices")
SERVICE_TERRAFORM_HEAD = (
    'resource "aws_ecs_service" "app" {\n'
    '  name            = "${var.project}-app"\n'
    "  cluster         = aws_ecs_cluster.main.id\n"
    "  task_definition = aws_ecs_task_definition.app.arn\n"
    '  launch_type     = "FARGATE"\n'
)
NETWORK_CONFIGURATION = (
    "  network_configuration {\n"
    "    subnets          = module.vpc.private_subnets\n"
    "    security_groups  = [aws_security_group.app.id]\n"
    "    assign_public_ip = false\n"
    "  }\n"
)
LATEST = "LATEST"
_VERSION = re.compile(r"^\d+(\.\d+)*$")


class EcsServicePublicIpAssignmentDisabled(Check):
    """A service with `assignPublicIp: ENABLED` gives every task's network interface a public IP address. The
    tasks are then reachable from the internet wherever their security group allows it, and they reach the
    internet without passing through a NAT gateway or egress firewall that could log or filter the traffic.
    Services belong in private subnets behind a load balancer, with public IP assignment disabled (Security Hub
    ECS.2). Services that do not use the awsvpc network mode get no public IP of their own and pass."""

    id = "ecs_service_public_ip_assignment_disabled"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS services do not assign public IP addresses automatically"
    risk = "Tasks with public IP addresses are one security group rule away from being exposed to the internet."
    remediation = Remediation(
        text="Update the service's network configuration to assign no public IP, run its tasks in private subnets "
             "with a NAT gateway or VPC endpoints for outbound traffic, and put a load balancer in front of it.",
        cli="aws ecs update-service --cluster <cluster> --service <service> --network-configuration "
            "'awsvpcConfiguration={subnets=[<private-subnet>],securityGroups=[<sg>],assignPublicIp=DISABLED}'",
        terraform=SERVICE_TERRAFORM_HEAD + "\n" + NETWORK_CONFIGURATION + "}",
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html",
    )
    compliance = (Control("aws-fsbp", "ECS.2"),)
    api_calls = SERVICE_READS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one_cluster(cluster_arn: str) -> Iterator[Finding]:
            for service in services(ctx, cluster_arn):
                if service.network is None:
                    yield ctx.passed(
                        service.resource,
                        f"ECS service {service.label} does not use awsvpc networking, so its tasks get no public IP.",
                        {"assignPublicIp": None},
                    )
                elif service.network.public_ip:
                    yield ctx.failed(
                        service.resource,
                        f"ECS service {service.label} assigns public IP addresses to its tasks.",
                        service.network.evidence(),
                    )
                else:
                    yield ctx.passed(
                        service.resource,
                        f"ECS service {service.label} does not assign public IP addresses to its tasks.",
                        service.network.evidence(),
                    )

        yield from each_cluster(ctx, one_cluster)


def _version(text: str) -> tuple[int, ...] | None:
    return tuple(int(part) for part in text.split(".")) if _VERSION.match(text) else None


class EcsServiceFargatePlatformVersionLatest(Check):
    """Fargate platform versions bundle the kernel, container runtime and agent that run a task. AWS patches the
    current versions; older ones miss security fixes and features (such as ephemeral storage encryption and
    newer networking). A Fargate service pinned to an older version stays there until it is updated; one on
    `LATEST` moves to each new version at its next deployment (Security Hub ECS.10). The latest Linux and
    Windows versions are the parameters ecs.fargate_latest_linux_platform_version and
    ecs.fargate_latest_windows_platform_version. A Fargate service for which AWS reports no platform version runs
    on LATEST, AWS's default. Services on EC2 or external instances are outside this check."""

    id = "ecs_service_fargate_platform_version_latest"
    service = "ecs"
    severity = Severity.MEDIUM
    title = "ECS Fargate services run on the latest Fargate platform version"
    risk = "Tasks on an old Fargate platform version run on an unpatched kernel and container runtime."
    remediation = Remediation(
        text="Set the service's platform version to LATEST (or the latest version) and force a new deployment.",
        cli="aws ecs update-service --cluster <cluster> --service <service> --platform-version LATEST "
            "--force-new-deployment",
        terraform=SERVICE_TERRAFORM_HEAD + '  platform_version = "LATEST"\n}',
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-fargate.html",
    )
    compliance = (Control("aws-fsbp", "ECS.10"),)
    api_calls = SERVICE_READS
    parameters = ("ecs.fargate_latest_linux_platform_version", "ecs.fargate_latest_windows_platform_version")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        latest_linux = str(ctx.param("ecs.fargate_latest_linux_platform_version"))
        latest_windows = str(ctx.param("ecs.fargate_latest_windows_platform_version"))

        def one_cluster(cluster_arn: str) -> Iterator[Finding]:
            for service in services(ctx, cluster_arn):
                if not service.on_fargate:
                    continue
                windows = service.platform_family.upper().startswith("WINDOWS")
                latest = latest_windows if windows else latest_linux
                version = service.platform_version or LATEST
                evidence = {"platform_version": version, "platform_family": service.platform_family or None,
                            "latest": latest}
                current, wanted = _version(version), _version(latest)
                if version.upper() == LATEST or (current is not None and wanted is not None and current >= wanted):
                    yield ctx.passed(
                        service.resource,
                        f"ECS Fargate service {service.label} runs on platform version {version}.",
                        evidence,
                    )
                else:
                    yield ctx.failed(
                        service.resource,
                        f"ECS Fargate service {service.label} runs on platform version {version}, not the latest "
                        f"({latest}).",
                        evidence,
                    )

        yield from each_cluster(ctx, one_cluster)


class EcsTaskSetPublicIpAssignmentDisabled(Check):
    """Services deployed by CodeDeploy (blue/green) or an external controller run their tasks in task sets, each
    with its own network configuration. A task set with `assignPublicIp: ENABLED` gives its tasks public IP
    addresses even when the service was meant to be private, and those tasks reach and can be reached from the
    internet wherever their security group allows it (Security Hub ECS.16)."""

    id = "ecs_task_set_public_ip_assignment_disabled"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS task sets do not assign public IP addresses automatically"
    risk = "Tasks with public IP addresses are one security group rule away from being exposed to the internet."
    remediation = Remediation(
        text="Create a new task set with assignPublicIp DISABLED in private subnets, shift traffic to it and "
             "delete the old task set (a task set's network configuration cannot be changed).",
        cli="aws ecs create-task-set --cluster <cluster> --service <service> --task-definition <task-definition> "
            "--network-configuration "
            "'awsvpcConfiguration={subnets=[<private-subnet>],securityGroups=[<sg>],assignPublicIp=DISABLED}'",
        terraform='resource "aws_ecs_task_set" "app" {\n'
                  "  service         = aws_ecs_service.app.id\n"
                  "  cluster         = aws_ecs_cluster.main.id\n"
                  "  task_definition = aws_ecs_task_definition.app.arn\n"
                  '  launch_type     = "FARGATE"\n\n'
                  + NETWORK_CONFIGURATION + "}",
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-external.html",
    )
    compliance = (Control("aws-fsbp", "ECS.16"),)
    api_calls = SERVICE_READS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one_cluster(cluster_arn: str) -> Iterator[Finding]:
            for task_set in (t for service in services(ctx, cluster_arn) for t in service.task_sets):
                if task_set.network is not None and task_set.network.public_ip:
                    yield ctx.failed(
                        task_set.resource,
                        f"ECS task set {task_set.label} assigns public IP addresses to its tasks.",
                        task_set.network.evidence(),
                    )
                else:
                    yield ctx.passed(
                        task_set.resource,
                        f"ECS task set {task_set.label} does not assign public IP addresses to its tasks.",
                        task_set.network.evidence() if task_set.network else {"assignPublicIp": None},
                    )

        yield from each_cluster(ctx, one_cluster)


class EcsServiceContainerHealthChecksDefined(Check):
    """A container health check lets ECS tell a running-but-broken container from a healthy one: ECS replaces
    tasks whose essential container turns unhealthy and holds back a deployment whose new tasks never become
    healthy. Without one, a hung or crash-looping application keeps its task slot until a load balancer (if any)
    notices. The essential containers of the task definition each service runs are evaluated, as in the seed
    guide's task definition (`healthCheck` with command, interval, timeout, retries and start period)."""

    id = "ecs_service_container_health_checks_defined"
    service = "ecs"
    severity = Severity.LOW
    category = Category.RELIABILITY
    title = "ECS services define health checks for their essential containers"
    risk = "Broken containers keep running and failed deployments go unnoticed without container health checks."
    remediation = Remediation(
        text="Add a `healthCheck` to every essential container definition (a command that exits 0 when the "
             "application is healthy), register a new revision and update the service to it.",
        cli="aws ecs register-task-definition --cli-input-json file://task-definition.json && "
            "aws ecs update-service --cluster <cluster> --service <service> --task-definition <family>",
        terraform='resource "aws_ecs_task_definition" "app" {\n'
                  '  family = "${var.project}-app"\n\n'
                  "  container_definitions = jsonencode([{\n"
                  '    name  = "app"\n'
                  '    image = "${var.ecr_repository_url}:${var.image_tag}"\n\n'
                  "    healthCheck = {\n"
                  '      command     = ["CMD-SHELL", "wget -q --spider http://localhost:8080/health || exit 1"]\n'
                  "      interval    = 30\n"
                  "      timeout     = 5\n"
                  "      retries     = 3\n"
                  "      startPeriod = 60\n"
                  "    }\n"
                  "  }])\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html",
    )
    compliance = ()  # no FSBP or CIS control; the seed guide's task definition
    api_calls = SERVICE_READS + ("ecs:DescribeTaskDefinition",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one_service(service: Service) -> Iterator[Finding]:
            definition = task_definition(ctx, service.task_definition)
            if definition is None:
                return
            essential = [c for c in definition.containers if c.essential]
            unchecked = [c.name for c in essential if not c.health_check]
            evidence = {"task_definition": definition.arn, "essential_containers": [c.name for c in essential],
                        "without_health_check": unchecked}
            if unchecked:
                yield ctx.failed(
                    service.resource,
                    f"ECS service {service.label} runs {definition.label} with essential container(s) without a "
                    f"health check: {', '.join(unchecked)}.",
                    evidence,
                )
            else:
                yield ctx.passed(
                    service.resource,
                    f"ECS service {service.label} runs {definition.label}, whose essential containers all have "
                    "health checks.",
                    evidence,
                )

        def one_cluster(cluster_arn: str) -> Iterator[Finding]:
            yield from ctx.each(services(ctx, cluster_arn), one_service)

        yield from each_cluster(ctx, one_cluster)


class EcsServiceInPrivateSubnets(Check):
    """The seed guide runs services in private subnets (`subnets = module.vpc.private_subnets`,
    `assign_public_ip = false`) behind a load balancer in the public ones. A task in a public subnet (one whose
    route table sends 0.0.0.0/0 or ::/0 to an internet gateway) with a public IP is directly reachable from the
    internet wherever its security group allows it; without a public IP it cannot reach the internet at all, which
    pushes operators to turn public IPs on. This check reads each awsvpc service's subnets and their route tables:
    it fails when public IP assignment is enabled or when any of the service's subnets is public. Services in
    bridge or host network mode use their container instances' subnets and are outside this check."""

    id = "ecs_service_in_private_subnets"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS services run in private subnets without public IP addresses"
    risk = "Tasks in public subnets are one security group or public IP setting away from facing the internet."
    remediation = Remediation(
        text="Move the service to private subnets (a default route to a NAT gateway or none, VPC endpoints for "
             "AWS services), disable public IP assignment and serve traffic through a load balancer in the public "
             "subnets.",
        cli="aws ecs update-service --cluster <cluster> --service <service> --network-configuration "
            "'awsvpcConfiguration={subnets=[<private-subnet-a>,<private-subnet-b>],securityGroups=[<sg>],"
            "assignPublicIp=DISABLED}'",
        terraform=SERVICE_TERRAFORM_HEAD + "\n" + NETWORK_CONFIGURATION + "}",
        url="https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/networking-outbound.html",
    )
    compliance = ()  # ECS.2 covers the public IP alone; the subnets are the seed guide's layout
    api_calls = tuple(dict.fromkeys(SERVICE_READS + NETWORK_API_CALLS))

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one_cluster(cluster_arn: str) -> Iterator[Finding]:
            awsvpc_services = [(s, s.network) for s in services(ctx, cluster_arn) if s.network is not None]
            if not awsvpc_services:
                return
            net = network(ctx)
            for service, config in awsvpc_services:
                tiers = {subnet: net.subnet_tier(subnet) if subnet in net.subnets else "unknown"
                         for subnet in config.subnets}
                public = [subnet for subnet, tier in tiers.items() if tier == "public"]
                evidence = {"assignPublicIp": config.assign_public_ip, "subnet_tiers": tiers,
                            "public_subnets": public}
                problems = []
                if config.public_ip:
                    problems.append("assigns public IP addresses")
                if public:
                    problems.append(f"runs in public subnet(s) {', '.join(public)}")
                if problems:
                    yield ctx.failed(service.resource, f"ECS service {service.label} {' and '.join(problems)}.",
                                     evidence)
                else:
                    yield ctx.passed(
                        service.resource,
                        f"ECS service {service.label} runs in private subnets without public IP addresses.",
                        evidence,
                    )

        yield from each_cluster(ctx, one_cluster)
