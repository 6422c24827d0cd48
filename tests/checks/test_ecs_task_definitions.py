"""ECS task definition hardening: ECS.1, ECS.3, ECS.5, ECS.9 and separate task / execution roles."""
from typing import Any

from auditor import Status

from ..conftest import ACCOUNT, statuses

HOST_NETWORK = "ecs_task_definition_host_networking_non_root"
HOST_PID = "ecs_task_definition_host_pid_namespace_unshared"
READONLY = "ecs_task_definition_readonly_root_filesystem"
LOGGING = "ecs_task_definition_logging_configured"
ROLES = "ecs_task_definition_task_and_execution_roles_distinct"
ALL = (HOST_NETWORK, HOST_PID, READONLY, LOGGING, ROLES)

TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecs-execution"
AWSLOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1",
                                                "awslogs-stream-prefix": "app"}}


def container(name: str = "app", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "nginx:latest", "memory": 128, **extra}


def hardened(name: str = "app", **extra: Any) -> dict[str, Any]:
    """A container definition as the seed guide has it, plus a non-root user and a read-only root filesystem."""
    return container(name, user="1000:1000", readonlyRootFilesystem=True, logConfiguration=AWSLOGS, **extra)


def register(aws, family: str, *containers: dict[str, Any], **task: Any) -> str:
    response = aws.client("ecs").register_task_definition(family=family, containerDefinitions=list(containers),
                                                          **task)
    return response["taskDefinition"]["taskDefinitionArn"]


def by_id(run, check_id: str) -> dict[str, str]:
    return {f.resource.id: f.status.value for f in run.findings if f.check_id == check_id}


def finding(run, check_id: str, family: str):
    return next(f for f in run.findings if f.check_id == check_id and f.resource.id == family)


def test_good_task_definition_passes_every_check(audit, aws):
    arn = register(aws, "app", hardened(), networkMode="awsvpc", taskRoleArn=TASK_ROLE,
                   executionRoleArn=EXECUTION_ROLE, requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
    run = audit(*ALL)
    assert {(f.check_id, f.resource.id, f.status.value) for f in run.findings} == {
        (check, "app", "PASS") for check in ALL
    }
    assert finding(run, HOST_NETWORK, "app").evidence == {"task_definition": arn, "network_mode": "awsvpc",
                                                          "root_containers": []}
    assert finding(run, HOST_PID, "app").evidence["pid_mode"] is None
    assert finding(run, LOGGING, "app").evidence["log_drivers"] == ["awslogs"]
    assert finding(run, ROLES, "app").evidence == {"task_definition": arn, "task_role_arn": TASK_ROLE,
                                                   "execution_role_arn": EXECUTION_ROLE}


def test_no_task_definitions_no_findings(audit):
    assert audit(*ALL).findings == ()


# -- ECS.1 host networking ------------------------------------------------------------------------------------
def test_host_networking_fails_for_root_containers_only(audit, aws):
    register(aws, "host-root", container("app"), container("uid0", user="0:0"), container("named", user="root"),
             container("nonroot", user="app"), container("priv", privileged=True), networkMode="host")
    register(aws, "host-nonroot", container("app", user="1000"), networkMode="host")
    register(aws, "bridge-root", container("app"), networkMode="bridge")
    run = audit(HOST_NETWORK)
    assert statuses(run) == {"host-root": "FAIL", "host-nonroot": "PASS", "bridge-root": "PASS"}
    failed = finding(run, HOST_NETWORK, "host-root")
    # A privileged container is ECS.4's subject, not ECS.1's.
    assert failed.evidence["root_containers"] == ["app", "uid0", "named"]
    assert failed.evidence["network_mode"] == "host"
    assert "host-root:1" in failed.message
    assert finding(run, HOST_NETWORK, "bridge-root").evidence["root_containers"] == []


# -- ECS.3 PID namespace --------------------------------------------------------------------------------------
def test_host_pid_mode_fails(audit, aws):
    register(aws, "shared", container("app"), pidMode="host")
    register(aws, "task-pid", container("app"), pidMode="task")
    register(aws, "default", container("app"))
    run = audit(HOST_PID)
    assert statuses(run) == {"shared": "FAIL", "task-pid": "PASS", "default": "PASS"}
    assert finding(run, HOST_PID, "shared").evidence["pid_mode"] == "host"
    assert finding(run, HOST_PID, "task-pid").evidence["pid_mode"] == "task"


# -- ECS.5 read-only root filesystems -------------------------------------------------------------------------
def test_writable_root_filesystem_fails_naming_the_containers(audit, aws):
    register(aws, "mixed", container("app", readonlyRootFilesystem=True), container("sidecar"),
             container("proxy", readonlyRootFilesystem=False))
    run = audit(READONLY)
    assert statuses(run) == {"mixed": "FAIL"}
    assert run.findings[0].evidence["writable_root_containers"] == ["sidecar", "proxy"]
    assert "sidecar, proxy" in run.findings[0].message


# -- ECS.9 logging --------------------------------------------------------------------------------------------
def test_container_without_log_configuration_fails(audit, aws):
    register(aws, "partial", container("app", logConfiguration=AWSLOGS), container("sidecar"))
    register(aws, "firelens", container("app", logConfiguration={"logDriver": "awsfirelens"}))
    run = audit(LOGGING)
    assert statuses(run) == {"partial": "FAIL", "firelens": "PASS"}
    assert finding(run, LOGGING, "partial").evidence["containers_without_logging"] == ["sidecar"]
    assert finding(run, LOGGING, "firelens").evidence["log_drivers"] == ["awsfirelens"]


# -- task and execution roles ---------------------------------------------------------------------------------
def test_roles_fail_when_missing_or_shared(audit, aws):
    register(aws, "none", container("app"))
    register(aws, "task-only", container("app"), taskRoleArn=TASK_ROLE)
    register(aws, "shared", container("app"), taskRoleArn=TASK_ROLE, executionRoleArn=TASK_ROLE)
    run = audit(ROLES)
    assert statuses(run) == {"none": "FAIL", "task-only": "FAIL", "shared": "FAIL"}
    assert "neither a task role nor an execution role" in finding(run, ROLES, "none").message
    assert "no execution role" in finding(run, ROLES, "task-only").message
    assert "same role" in finding(run, ROLES, "shared").message


def test_latest_revision_is_evaluated(audit, aws):
    register(aws, "app", container("app"), pidMode="host")
    register(aws, "app", container("app"))
    run = audit(HOST_PID)
    assert statuses(run) == {"app": "PASS"}
    assert run.findings[0].evidence["task_definition"].endswith("task-definition/app:2")


def test_denied_describe_is_error_for_every_check(audit, aws, faults):
    register(aws, "app", hardened())
    faults.deny("ecs", "DescribeTaskDefinition", code="AccessDeniedException", status=400)
    run = audit(*ALL)
    assert len(run.findings) == len(ALL)
    for f in run.findings:
        assert f.status is Status.ERROR
        assert f.evidence["iam_action"] == "ecs:DescribeTaskDefinition"
        assert f.resource.id == "app"
