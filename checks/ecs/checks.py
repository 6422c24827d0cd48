"""ECS checks: clusters and task definitions."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.secrets import SecretHit, find_secrets

from .resources import TaskDefinition, clusters, each_latest_task_definition

SECRET_PARAMETERS = ("secrets.key_markers", "secrets.min_entropy", "secrets.min_length")


def _secret_hits(ctx: CheckContext, variables: dict[str, str]) -> list[SecretHit]:
    return find_secrets(
        variables,
        markers=ctx.param("secrets.key_markers"),
        min_entropy=float(ctx.param("secrets.min_entropy")),
        min_length=int(ctx.param("secrets.min_length")),
    )


class EcsClusterContainerInsightsEnabled(Check):
    """Container Insights collects CPU, memory, network and storage metrics and diagnostic events (container
    restarts, failed tasks) per cluster, service and task. Without it, a compromised or misbehaving task, such as
    one mining crypto-currency or exhausting memory, shows up only as an unexplained bill or an outage, and there is
    no per-task history to investigate afterwards."""

    id = "ecs_cluster_container_insights_enabled"
    service = "ecs"
    severity = Severity.MEDIUM
    title = "ECS clusters have Container Insights enabled"
    risk = "Without per-task metrics and events, abnormal container behaviour goes unnoticed and uninvestigated."
    remediation = Remediation(
        text="Turn on Container Insights (or Container Insights with enhanced observability) for the cluster.",
        cli="aws ecs update-cluster-settings --cluster <cluster> --settings name=containerInsights,value=enabled",
        terraform='resource "aws_ecs_cluster" "main" {\n'
                  '  name = "${var.project}-cluster"\n\n'
                  '  setting {\n'
                  '    name  = "containerInsights"\n'
                  '    value = "enabled"\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-container-insights.html",
    )
    compliance = (Control("aws-fsbp", "ECS.12"),)
    api_calls = ("ecs:ListClusters", "ecs:DescribeClusters")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for cluster in clusters(ctx):
            evidence = {"containerInsights": cluster.container_insights}
            if cluster.container_insights_on:
                yield ctx.passed(
                    cluster.resource,
                    f"ECS cluster {cluster.name} has Container Insights {cluster.container_insights}.",
                    evidence,
                )
            else:
                yield ctx.failed(
                    cluster.resource,
                    f"ECS cluster {cluster.name} has Container Insights "
                    f"{cluster.container_insights or 'not configured'}.",
                    evidence,
                )


class EcsTaskDefinitionNoPrivilegedContainers(Check):
    """A privileged container runs with all Linux capabilities and access to the host's devices: it is root on
    the container instance. Anyone who gets code execution in it (a vulnerable dependency, a poisoned image) can
    escape to the host, read every other task's credentials and secrets, and reach whatever the instance role can.
    The latest ACTIVE revision of each task definition family is evaluated, as that is what new tasks and services
    use by default."""

    id = "ecs_task_definition_no_privileged_containers"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS task definitions run no privileged containers"
    risk = "A compromised privileged container controls the host and every task on it."
    remediation = Remediation(
        text="Register a new revision with `privileged` removed (or false) from every container definition; grant "
             "only the specific Linux capabilities the container needs through `linuxParameters.capabilities.add`, "
             "then update the services to the new revision.",
        cli="aws ecs register-task-definition --cli-input-json file://task-definition.json  "
            "# with \"privileged\": false in every container definition",
        terraform='resource "aws_ecs_task_definition" "app" {\n'
                  '  family = "${var.project}-app"\n\n'
                  '  container_definitions = jsonencode([{\n'
                  '    name       = "app"\n'
                  '    image      = "${var.ecr_repository_url}:${var.image_tag}"\n'
                  '    privileged = false\n'
                  '  }])\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"
            "#container_definition_security",
    )
    compliance = (Control("aws-fsbp", "ECS.4"),)
    api_calls = ("ecs:ListTaskDefinitionFamilies", "ecs:DescribeTaskDefinition")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(definition: TaskDefinition) -> Iterator[Finding]:
            privileged = [c.name for c in definition.containers if c.privileged]
            evidence: dict[str, Any] = {"task_definition": definition.arn, "privileged_containers": privileged}
            if privileged:
                yield ctx.failed(
                    definition.resource,
                    f"ECS task definition {definition.label} runs privileged container(s): {', '.join(privileged)}.",
                    evidence,
                )
            else:
                yield ctx.passed(
                    definition.resource, f"ECS task definition {definition.label} runs no privileged container.",
                    evidence,
                )

        yield from each_latest_task_definition(ctx, one)


class EcsTaskDefinitionNoEnvironmentSecrets(Check):
    """Values in a container's `environment` are stored in plain text in the task definition. Anyone with
    `ecs:DescribeTaskDefinition` (a broad, commonly granted read) can read them, they appear in the console and in
    CloudTrail, every later revision keeps the old ones, and they cannot be rotated without a new revision.
    Secrets belong in Secrets Manager or Parameter Store, referenced from the container's `secrets` (valueFrom) and
    injected at start-up by the task execution role. Access keys, tokens, connection strings with a password, and
    high-entropy values under secret-looking names are reported; the values themselves never are."""

    id = "ecs_task_definition_no_environment_secrets"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS task definitions pass no secrets as environment variables"
    risk = "Secrets in plain-text environment variables are readable by anyone who can describe task definitions."
    remediation = Remediation(
        text="Store the secret in Secrets Manager, reference it from the container's `secrets` (valueFrom) instead "
             "of `environment`, register a new revision and update the services. Rotate the exposed secret: earlier "
             "revisions still hold it and cannot be edited.",
        cli="aws secretsmanager create-secret --name <project>/<name> --secret-string file://secret.txt && "
            "aws ecs register-task-definition --cli-input-json file://task-definition.json  "
            "# with the entry moved to \"secrets\": [{\"name\": ..., \"valueFrom\": <secret ARN>}]",
        terraform='resource "aws_ecs_task_definition" "app" {\n'
                  '  family             = "${var.project}-app"\n'
                  '  execution_role_arn = aws_iam_role.ecs_execution.arn\n\n'
                  '  container_definitions = jsonencode([{\n'
                  '    name  = "app"\n'
                  '    image = "${var.ecr_repository_url}:${var.image_tag}"\n\n'
                  '    environment = [\n'
                  '      { name = "NODE_ENV", value = "production" }\n'
                  '    ]\n\n'
                  '    secrets = [\n'
                  '      {\n'
                  '        name      = "DATABASE_URL"\n'
                  '        valueFrom = aws_secretsmanager_secret.db_url.arn\n'
                  '      }\n'
                  '    ]\n'
                  '  }])\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
    )
    compliance = (Control("aws-fsbp", "ECS.8"),)
    api_calls = ("ecs:ListTaskDefinitionFamilies", "ecs:DescribeTaskDefinition")
    parameters = SECRET_PARAMETERS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(definition: TaskDefinition) -> Iterator[Finding]:
            exposed = []
            for container in definition.containers:
                hits = _secret_hits(ctx, dict(container.environment))
                if hits:
                    exposed.append({"container": container.name, "secrets": [h.to_evidence() for h in hits]})
            if exposed:
                names = ", ".join(e["container"] for e in exposed)
                yield ctx.failed(
                    definition.resource,
                    f"ECS task definition {definition.label} has secrets in the environment of container(s) {names}.",
                    {"task_definition": definition.arn, "containers": exposed},
                )
            else:
                references = sum(len(c.secret_refs) for c in definition.containers)
                yield ctx.passed(
                    definition.resource,
                    f"ECS task definition {definition.label} has no secrets in container environments.",
                    {"task_definition": definition.arn, "secret_references": references},
                )

        yield from each_latest_task_definition(ctx, one)
