"""ECS task definition hardening: network and PID modes, users, root filesystems, logging and roles.

Each check evaluates the latest ACTIVE revision of every task definition family, as that is what new tasks and
services use by default; findings are keyed by family.
"""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import TaskDefinition, each_latest_task_definition

TASK_DEFINITION_READS = ("ecs:ListTaskDefinitionFamilies", "ecs:DescribeTaskDefinition")
TASK_DEFINITION_URL = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"


def _terraform(*container_lines: str, task_lines: tuple[str, ...] = ()) -> str:
    """A task definition in the seed guide's style, with the lines that matter."""
    task = "".join(f"  {line}\n" for line in task_lines)
    container = "".join(f"    {line}\n" for line in container_lines)
    return (
        'resource "aws_ecs_task_definition" "app" {\n'
        '  family                   = "${var.project}-app"\n'
        '  network_mode             = "awsvpc"\n'
        '  requires_compatibilities = ["FARGATE"]\n'
        f"{task}\n"
        "  container_definitions = jsonencode([{\n"
        '    name  = "app"\n'
        '    image = "${var.ecr_repository_url}:${var.image_tag}"\n'
        f"{container}"
        "  }])\n"
        "}"
    )


class EcsTaskDefinitionHostNetworkingNonRoot(Check):
    """In `host` network mode a container shares the container instance's network stack: it can bind to any port
    of the host, see all its traffic and reach the instance metadata service and every local service as the host
    does. Such a container must at least not run as root. Security Hub's ECS.1 reports a task definition in host
    network mode when a container in it is not privileged and runs as root (no `user`, or user root / UID 0);
    privileged containers are the subject of ECS.4. Other network modes (awsvpc, bridge, none) pass."""

    id = "ecs_task_definition_host_networking_non_root"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS task definitions in host network mode run no containers as root"
    risk = "A root container on the host's network stack can intercept host traffic and reach host-only services."
    remediation = Remediation(
        text="Use the awsvpc network mode (required on Fargate) so each task gets its own network interface, or "
             "set a non-root `user` on every container of a host-mode task definition; then register a new "
             "revision and update the services.",
        cli="aws ecs register-task-definition --cli-input-json file://task-definition.json  "
            "# with \"networkMode\": \"awsvpc\", or \"user\": \"1000:1000\" on every container",
        terraform=_terraform('user  = "1000:1000"'),
        url="https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/networking-networkmode.html",
    )
    compliance = (Control("aws-fsbp", "ECS.1"),)
    api_calls = TASK_DEFINITION_READS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(definition: TaskDefinition) -> Iterator[Finding]:
            root = [c.name for c in definition.containers if not c.privileged and c.runs_as_root]
            evidence = {"task_definition": definition.arn, "network_mode": definition.network_mode,
                        "root_containers": root if definition.network_mode == "host" else []}
            if definition.network_mode != "host":
                yield ctx.passed(
                    definition.resource,
                    f"ECS task definition {definition.label} uses the {definition.network_mode} network mode, "
                    "not host.",
                    evidence,
                )
            elif root:
                yield ctx.failed(
                    definition.resource,
                    f"ECS task definition {definition.label} uses host networking with container(s) running as "
                    f"root: {', '.join(root)}.",
                    evidence,
                )
            else:
                yield ctx.passed(
                    definition.resource,
                    f"ECS task definition {definition.label} uses host networking with non-root containers only.",
                    evidence,
                )

        yield from each_latest_task_definition(ctx, one)


class EcsTaskDefinitionHostPidNamespaceUnshared(Check):
    """With `pidMode: host`, the containers of a task see and can signal every process on the container instance,
    including other tasks' processes and the ECS agent. A compromised container can then inspect other workloads'
    command lines and environments, or kill them; it is a step toward escaping to the host (Security Hub
    ECS.3)."""

    id = "ecs_task_definition_host_pid_namespace_unshared"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS task definitions do not share the host's process namespace"
    risk = "Containers in the host PID namespace can observe and signal every process on the instance."
    remediation = Remediation(
        text="Remove `pidMode` (each container gets its own namespace) or set it to `task` to share one namespace "
             "only among the task's containers; register a new revision and update the services.",
        cli="aws ecs register-task-definition --cli-input-json file://task-definition.json  "
            "# without \"pidMode\": \"host\"",
        terraform=_terraform(task_lines=('pid_mode                 = "task"',)),
        url=TASK_DEFINITION_URL + "#other_task_definition_params",
    )
    compliance = (Control("aws-fsbp", "ECS.3"),)
    api_calls = TASK_DEFINITION_READS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(definition: TaskDefinition) -> Iterator[Finding]:
            evidence = {"task_definition": definition.arn, "pid_mode": definition.pid_mode or None}
            if definition.pid_mode.lower() == "host":
                yield ctx.failed(
                    definition.resource,
                    f"ECS task definition {definition.label} shares the host's process namespace (pidMode host).",
                    evidence,
                )
            else:
                yield ctx.passed(
                    definition.resource,
                    f"ECS task definition {definition.label} does not share the host's process namespace.",
                    evidence,
                )

        yield from each_latest_task_definition(ctx, one)


class EcsTaskDefinitionReadonlyRootFilesystem(Check):
    """A container whose root filesystem is read-only cannot have its binaries, libraries or configuration
    replaced by an attacker who gets code execution in it, and cannot be used to stage downloaded tools there.
    Writable paths the application needs are mounted explicitly as volumes. Every container of the task
    definition must set `readonlyRootFilesystem` (Security Hub ECS.5)."""

    id = "ecs_task_definition_readonly_root_filesystem"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS containers have read-only root filesystems"
    risk = "A writable root filesystem lets an intruder tamper with the container's software and persist tools."
    remediation = Remediation(
        text="Set `readonlyRootFilesystem` to true on every container definition, mount volumes for the paths the "
             "application must write (temporary files, caches), register a new revision and update the services.",
        cli="aws ecs register-task-definition --cli-input-json file://task-definition.json  "
            "# with \"readonlyRootFilesystem\": true in every container definition",
        terraform=_terraform("readonlyRootFilesystem = true"),
        url=TASK_DEFINITION_URL + "#container_definition_storage",
    )
    compliance = (Control("aws-fsbp", "ECS.5"),)
    api_calls = TASK_DEFINITION_READS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(definition: TaskDefinition) -> Iterator[Finding]:
            writable = [c.name for c in definition.containers if not c.readonly_root_filesystem]
            evidence = {"task_definition": definition.arn, "writable_root_containers": writable}
            if writable:
                yield ctx.failed(
                    definition.resource,
                    f"ECS task definition {definition.label} has container(s) with a writable root filesystem: "
                    f"{', '.join(writable)}.",
                    evidence,
                )
            else:
                yield ctx.passed(
                    definition.resource,
                    f"ECS task definition {definition.label} has read-only root filesystems in every container.",
                    evidence,
                )

        yield from each_latest_task_definition(ctx, one)


class EcsTaskDefinitionLoggingConfigured(Check):
    """A container without a `logConfiguration` sends its output nowhere an operator can read once the task has
    stopped: application errors, access logs and the traces of an intrusion are lost. Every container of the task
    definition must name a log driver, such as awslogs to CloudWatch Logs or awsfirelens (Security Hub ECS.9)."""

    id = "ecs_task_definition_logging_configured"
    service = "ecs"
    severity = Severity.HIGH
    title = "ECS task definitions have a logging configuration"
    risk = "Without a log driver, container output is lost with the task and incidents cannot be investigated."
    remediation = Remediation(
        text="Add a `logConfiguration` with a log driver (awslogs to a CloudWatch Logs group with a retention "
             "policy, or awsfirelens) to every container definition; register a new revision and update the "
             "services.",
        cli="aws ecs register-task-definition --cli-input-json file://task-definition.json  "
            "# with a \"logConfiguration\": {\"logDriver\": \"awslogs\", ...} in every container definition",
        terraform=_terraform(
            "logConfiguration = {",
            '  logDriver = "awslogs"',
            "  options = {",
            "    awslogs-group         = aws_cloudwatch_log_group.app.name",
            "    awslogs-region        = var.region",
            '    awslogs-stream-prefix = "app"',
            "  }",
            "}",
        ),
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
    )
    compliance = (Control("aws-fsbp", "ECS.9"),)
    api_calls = TASK_DEFINITION_READS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(definition: TaskDefinition) -> Iterator[Finding]:
            unlogged = [c.name for c in definition.containers if not c.log_driver]
            drivers = sorted({c.log_driver for c in definition.containers if c.log_driver})
            evidence = {"task_definition": definition.arn, "containers_without_logging": unlogged,
                        "log_drivers": drivers}
            if unlogged or not definition.containers:
                yield ctx.failed(
                    definition.resource,
                    f"ECS task definition {definition.label} has container(s) without a logging configuration: "
                    f"{', '.join(unlogged) or 'none defined'}.",
                    evidence,
                )
            else:
                yield ctx.passed(
                    definition.resource,
                    f"ECS task definition {definition.label} configures logging for every container "
                    f"({', '.join(drivers)}).",
                    evidence,
                )

        yield from each_latest_task_definition(ctx, one)


class EcsTaskDefinitionTaskAndExecutionRolesDistinct(Check):
    """ECS uses two roles: the execution role is what the ECS agent uses to pull the image, write logs and fetch
    the task's secrets at start-up; the task role is what the application's code gets as AWS credentials. Only
    when both are set and different does the application hold just its own permissions: with one role for both,
    code in the container can read every secret the execution role can fetch and pull any image; without a task
    role, tasks on EC2 container instances may fall back to the instance's role through the metadata service. The
    seed guide sets `execution_role_arn` and `task_role_arn` to two different roles."""

    id = "ecs_task_definition_task_and_execution_roles_distinct"
    service = "ecs"
    severity = Severity.MEDIUM
    title = "ECS task definitions use separate task and execution roles"
    risk = "An application holding the execution role's permissions can read every secret meant for start-up only."
    remediation = Remediation(
        text="Create a task role with only the permissions the application needs and an execution role with only "
             "image pull, log writing and the task's secrets (AmazonECSTaskExecutionRolePolicy plus "
             "secretsmanager:GetSecretValue on those secrets); set both on the task definition.",
        cli="aws ecs register-task-definition --cli-input-json file://task-definition.json  "
            "# with different \"taskRoleArn\" and \"executionRoleArn\"",
        terraform=_terraform(task_lines=(
            "execution_role_arn       = aws_iam_role.ecs_execution.arn",
            "task_role_arn            = aws_iam_role.app.arn",
        )),
        url="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
    )
    compliance = ()  # no FSBP or CIS control; the seed guide's task definition
    api_calls = TASK_DEFINITION_READS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(definition: TaskDefinition) -> Iterator[Finding]:
            task, execution = definition.task_role_arn, definition.execution_role_arn
            evidence = {"task_definition": definition.arn, "task_role_arn": task or None,
                        "execution_role_arn": execution or None}
            if not task or not execution:
                missing = "neither a task role nor an execution role" if not task and not execution else \
                    "no task role" if not task else "no execution role"
                yield ctx.failed(definition.resource,
                                 f"ECS task definition {definition.label} has {missing}.", evidence)
            elif task == execution:
                yield ctx.failed(
                    definition.resource,
                    f"ECS task definition {definition.label} uses the same role as task role and execution role.",
                    evidence,
                )
            else:
                yield ctx.passed(
                    definition.resource,
                    f"ECS task definition {definition.label} uses separate task and execution roles.",
                    evidence,
                )

        yield from each_latest_task_definition(ctx, one)
