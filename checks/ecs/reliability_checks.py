"""ECS reliability checks: enough tasks in production, and deployments that keep enough of them healthy."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Severity
from auditor.environment import ENVIRONMENT_PARAMETERS, environment_of

from .reliability_resources import ServiceCapacity, service_capacities, service_scalable_targets
from .service_resources import cluster_arns, cluster_resource

SERVICE_TERRAFORM = ('resource "aws_ecs_service" "app" {\n'
                     '  name            = "${var.project}-app"\n'
                     '  cluster         = aws_ecs_cluster.main.id\n'
                     '  task_definition = aws_ecs_task_definition.app.arn\n'
                     '  desired_count   = var.app_count\n\n'
                     '  deployment_configuration {\n'
                     '    minimum_healthy_percent = 50\n'
                     '    maximum_percent         = 200\n'
                     '  }\n'
                     '}\n\n'
                     'resource "aws_appautoscaling_target" "app" {\n'
                     '  max_capacity       = 10\n'
                     '  min_capacity       = var.environment == "prod" ? 2 : 1\n'
                     '  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.app.name}"\n'
                     '  scalable_dimension = "ecs:service:DesiredCount"\n'
                     '  service_namespace  = "ecs"\n'
                     '}')


def _each_service(ctx: CheckContext, judge: Any) -> Iterator[Finding]:
    """Every REPLICA service of every cluster; a cluster whose services cannot be read is ERROR on its own."""
    def per_cluster(arn: str) -> Iterator[Finding]:
        for service in service_capacities(ctx, arn):
            if service.scheduling_strategy == "REPLICA":
                yield from judge(service)

    yield from ctx.each(cluster_arns(ctx), per_cluster, resource_of=lambda arn: cluster_resource(arn, ctx.region))


class EcsServiceMultipleTasksInProduction(Check):
    """A production service with a single task is down whenever that task is replaced, crashes or loses its
    Availability Zone. The seed guide runs production services with an auto-scaling minimum of two tasks
    (min_capacity = var.environment == prod ? 2 : 1), which ECS spreads over zones. REPLICA services fail in
    production when their desired count or their Application Auto Scaling minimum is below
    reliability.ecs_min_tasks_production. The environment comes from the service's environment tag or the account
    default (--environment); outside production one task passes. An unknown environment is judged as production,
    the safer side for availability, and the finding says so."""

    id = "ecs_service_multiple_tasks_in_production"
    service = "ecs"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Production ECS services run at least two tasks"
    risk = "A single-task production service is unavailable during every task failure, replacement or zone outage."
    remediation = Remediation(
        text="Raise the service's desired count and its auto-scaling minimum to at least two in production.",
        cli="aws application-autoscaling register-scalable-target --service-namespace ecs --scalable-dimension "
        "ecs:service:DesiredCount --resource-id service/<cluster>/<service> --min-capacity 2 --max-capacity 10",
        terraform=SERVICE_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html",
    )
    api_calls = ("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices",
                 "application-autoscaling:DescribeScalableTargets")
    parameters = (*ENVIRONMENT_PARAMETERS, "reliability.ecs_min_tasks_production")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        minimum = int(ctx.param("reliability.ecs_min_tasks_production"))

        def judge(service: ServiceCapacity) -> Iterator[Finding]:
            env = environment_of(ctx, service.tags)
            target = service_scalable_targets(ctx).get(service.scaling_resource_id)
            evidence: dict[str, Any] = {"desired_count": service.desired_count,
                                        "autoscaling_min_capacity": target.min_capacity if target else None,
                                        "min_tasks_production": minimum, **env.evidence()}
            short = [f"desired count {service.desired_count}"] if service.desired_count < minimum else []
            if target and target.min_capacity < minimum:
                short.append(f"auto-scaling minimum {target.min_capacity}")
            if not short:
                yield ctx.passed(service.resource, f"ECS service {service.label} runs at least {minimum} tasks "
                                 f"({env.describe()}).", evidence)
            elif env.known and not env.production:
                yield ctx.passed(service.resource, f"ECS service {service.label} has {' and '.join(short)}, "
                                 f"acceptable for {env.describe()}.", evidence)
            else:
                judged = env.describe() if env.known else f"{env.describe()}, judged as production"
                yield ctx.failed(service.resource, f"ECS service {service.label} has {' and '.join(short)}, below "
                                 f"{minimum}, but is {judged}.", evidence)

        yield from _each_service(ctx, judge)


class EcsServiceDeploymentMinHealthySufficient(Check):
    """During a rolling deployment ECS stops old tasks down to the minimum healthy percent before new ones are
    healthy. At 0 % a deployment may stop every task at once; the seed guide keeps 50 % (with a maximum of 200 %),
    so half the capacity always serves. REPLICA services using the ECS deployment controller fail below
    reliability.ecs_min_healthy_percent. A missing value is AWS's default for REPLICA services (100 %)."""

    id = "ecs_service_deployment_min_healthy_sufficient"
    service = "ecs"
    severity = Severity.LOW
    category = Category.RELIABILITY
    title = "ECS service deployments keep enough tasks healthy"
    risk = "A deployment can stop most or all running tasks before their replacements are healthy: an outage."
    remediation = Remediation(
        text="Set the service's deployment minimum healthy percent to at least 50 (and maximum percent to 200 so "
        "new tasks can start alongside the old).",
        cli="aws ecs update-service --cluster <cluster> --service <service> --deployment-configuration "
        "minimumHealthyPercent=50,maximumPercent=200",
        terraform=SERVICE_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html",
    )
    api_calls = ("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices")
    parameters = ("reliability.ecs_min_healthy_percent",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        minimum = int(ctx.param("reliability.ecs_min_healthy_percent"))

        def judge(service: ServiceCapacity) -> Iterator[Finding]:
            if service.deployment_controller != "ECS":
                return
            percent = 100 if service.min_healthy_percent is None else service.min_healthy_percent
            evidence = {"minimum_healthy_percent": percent, "required_percent": minimum,
                        "reported": service.min_healthy_percent is not None}
            if percent >= minimum:
                yield ctx.passed(service.resource, f"ECS service {service.label} keeps {percent}% of its tasks "
                                 "healthy during deployments.", evidence)
            else:
                yield ctx.failed(service.resource, f"ECS service {service.label} keeps only {percent}% of its tasks "
                                 f"healthy during deployments (at least {minimum}% required).", evidence)

        yield from _each_service(ctx, judge)
