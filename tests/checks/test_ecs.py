import json
from typing import Any

import pytest

from auditor import AuditRun, Status

from ..conftest import ACCOUNT, REGION, statuses

INSIGHTS = "ecs_cluster_container_insights_enabled"
PRIVILEGED = "ecs_task_definition_no_privileged_containers"
ENV_SECRETS = "ecs_task_definition_no_environment_secrets"

# Built at run time so no credential-shaped literal sits in the source.
ACCESS_KEY_ID = "AKIA" + "Q7R2ZT4XW9PL3MNB"
DB_PASSWORD = "Xq7#mP2$" + "vL9!tR4w"
DB_URL_PASSWORD = "s3cr" + "etPw"
DB_URL = f"postgres://app:{DB_URL_PASSWORD}@db.internal:5432/app"


def container(name: str = "app", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "nginx:latest", "memory": 128, **extra}


def register(aws, family: str, *containers: dict[str, Any]) -> str:
    response = aws.client("ecs").register_task_definition(family=family, containerDefinitions=list(containers))
    return response["taskDefinition"]["taskDefinitionArn"]


def env(**variables: str) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in variables.items()]


def assert_no_leak(run: AuditRun, *values: str) -> None:
    for finding in run.findings:
        dumped = json.dumps(finding.to_dict())
        for value in values:
            assert value not in dumped
            assert value not in finding.message


# -- Container Insights ---------------------------------------------------------------------------------------
def test_insights_fails_when_disabled_or_unset(audit, aws):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="default-settings")
    ecs.create_cluster(clusterName="off", settings=[{"name": "containerInsights", "value": "disabled"}])
    run = audit(INSIGHTS)
    assert statuses(run) == {"default-settings": "FAIL", "off": "FAIL"}
    off = next(f for f in run.findings if f.resource.id == "off")
    assert off.evidence == {"containerInsights": "disabled"}
    assert off.resource.arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/off"
    assert off.resource.type == "AWS::ECS::Cluster"
    assert "off" in off.message


def test_insights_passes_when_enabled_or_enhanced(audit, aws):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="on", settings=[{"name": "containerInsights", "value": "enabled"}],
                       tags=[{"key": "Environment", "value": "prod"}])
    ecs.create_cluster(clusterName="enhanced", settings=[{"name": "containerInsights", "value": "enhanced"}])
    run = audit(INSIGHTS)
    assert statuses(run) == {"on": "PASS", "enhanced": "PASS"}
    on = next(f for f in run.findings if f.resource.id == "on")
    assert on.evidence == {"containerInsights": "enabled"}
    assert on.resource.tags == {"Environment": "prod"}


def test_insights_no_clusters_no_findings(audit):
    run = audit(INSIGHTS)
    assert run.findings == ()


def test_insights_describes_clusters_in_batches_of_100(audit, aws):
    ecs = aws.client("ecs")
    for n in range(101):
        ecs.create_cluster(clusterName=f"c{n:03}")
    run = audit(INSIGHTS)
    assert len(run.findings) == 101
    assert {f.status for f in run.findings} == {Status.FAIL}
    assert run.api_calls["ecs:DescribeClusters"] == 2


def test_insights_denied_describe_is_error_naming_the_action(audit, aws, faults):
    aws.client("ecs").create_cluster(clusterName="on", settings=[{"name": "containerInsights", "value": "enabled"}])
    faults.deny("ecs", "DescribeClusters")
    run = audit(INSIGHTS)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ecs:DescribeClusters"
    assert finding.evidence["error_code"] == "AccessDenied"


# -- privileged containers ------------------------------------------------------------------------------------
def test_privileged_fails_naming_the_container(audit, aws):
    arn = register(aws, "web", container("app"), container("sidecar", privileged=True))
    run = audit(PRIVILEGED)
    assert statuses(run) == {"web": "FAIL"}
    [finding] = run.findings
    assert finding.evidence == {"task_definition": arn, "privileged_containers": ["sidecar"]}
    assert finding.resource.type == "AWS::ECS::TaskDefinition"
    assert "web:1" in finding.message


def test_privileged_passes_without_privileged_containers(audit, aws):
    register(aws, "web", container("app", privileged=False), container("sidecar"))
    run = audit(PRIVILEGED)
    assert statuses(run) == {"web": "PASS"}
    assert run.findings[0].evidence["privileged_containers"] == []


def test_privileged_evaluates_only_the_latest_revision(audit, aws):
    register(aws, "web", container("app", privileged=True))
    arn = register(aws, "web", container("app"))
    run = audit(PRIVILEGED)
    assert statuses(run) == {"web": "PASS"}
    assert run.findings[0].evidence["task_definition"] == arn
    assert "web:2" in run.findings[0].message


def test_privileged_finding_is_keyed_by_family_not_revision(audit, aws):
    register(aws, "web", container("app", privileged=True))
    first = audit(PRIVILEGED).findings[0]
    register(aws, "web", container("app", privileged=True))
    second = audit(PRIVILEGED).findings[0]
    assert first.id == second.id
    assert first.resource.arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web"


def test_privileged_skips_families_without_an_active_revision(audit, aws):
    # Moto lists such families and describes their INACTIVE revision; AWS does neither.
    register(aws, "retired", container("app", privileged=True))
    aws.client("ecs").deregister_task_definition(taskDefinition="retired:1")
    assert audit(PRIVILEGED).findings == ()


def test_privileged_no_task_definitions_no_findings(audit):
    assert audit(PRIVILEGED).findings == ()


def test_denied_describe_task_definition_is_error_per_family(audit, aws, faults):
    register(aws, "web", container("app"))
    register(aws, "worker", container("app"))
    faults.deny("ecs", "DescribeTaskDefinition")
    run = audit(PRIVILEGED)
    assert statuses(run) == {"web": "ERROR", "worker": "ERROR"}
    for finding in run.findings:
        assert finding.evidence["iam_action"] == "ecs:DescribeTaskDefinition"
        assert finding.evidence["error_code"] == "AccessDenied"
        assert finding.resource.type == "AWS::ECS::TaskDefinition"


def test_denied_list_families_is_error(audit, aws, faults):
    register(aws, "web", container("app"))
    faults.deny("ecs", "ListTaskDefinitionFamilies")
    [finding] = audit(PRIVILEGED).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ecs:ListTaskDefinitionFamilies"


# -- secrets in the environment -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID, "aws_access_key_id"),
        ("DB_PASSWORD", DB_PASSWORD, "named_secret"),
        ("DATABASE_URL", DB_URL, "connection_string_password"),
    ],
)
def test_env_secrets_fail_without_revealing_the_value(audit, aws, key, value, kind):
    arn = register(aws, "api", container("app", environment=env(NODE_ENV="production", **{key: value})),
                   container("proxy", environment=env(PORT="8080")))
    run = audit(ENV_SECRETS)
    assert statuses(run) == {"api": "FAIL"}
    [finding] = run.findings
    assert finding.evidence["task_definition"] == arn
    [exposed] = finding.evidence["containers"]
    assert exposed["container"] == "app"
    [hit] = exposed["secrets"]
    assert (hit["key"], hit["kind"], hit["value"]) == (key, kind, "***redacted***")
    assert hit["fingerprint"].startswith("sha256:")
    assert "app" in finding.message
    assert_no_leak(run, value, DB_URL_PASSWORD)


def test_env_secrets_pass_with_secrets_manager_references_and_harmless_values(audit, aws):
    reference = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf"
    register(
        aws,
        "api",
        container(
            "app",
            environment=env(
                NODE_ENV="production",
                AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",  # AWS's documentation example
                AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                DB_PASSWORD_ARN=reference,
                DB_SECRET=reference,
            ),
            secrets=[{"name": "DATABASE_URL", "valueFrom": reference}],
        ),
    )
    run = audit(ENV_SECRETS)
    assert statuses(run) == {"api": "PASS"}
    assert run.findings[0].evidence["secret_references"] == 1


@pytest.mark.parametrize("value", ["changeme", "pw", "", "aaaaaaaaaaaa"])
def test_env_secrets_low_entropy_or_short_placeholders_pass(audit, aws, value):
    # Placeholders under secret-looking names are not reported by default; secrets.min_entropy / min_length tune it.
    register(aws, "api", container("app", environment=env(DB_PASSWORD=value)))
    assert statuses(audit(ENV_SECRETS)) == {"api": "PASS"}


def test_env_secrets_thresholds_come_from_parameters(audit, aws):
    register(aws, "api", container("app", environment=env(DB_PASSWORD="changeme")))
    run = audit(ENV_SECRETS, params={"secrets.min_entropy": 2.0})
    assert statuses(run) == {"api": "FAIL"}
    assert_no_leak(run, "changeme")


def test_env_secrets_no_task_definitions_no_findings(audit):
    assert audit(ENV_SECRETS).findings == ()


def test_env_secrets_denied_read_is_error(audit, aws, faults):
    register(aws, "api", container("app", environment=env(DB_PASSWORD=DB_PASSWORD)))
    faults.deny("ecs", "DescribeTaskDefinition", code="AccessDeniedException", status=400)
    [finding] = audit(ENV_SECRETS).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ecs:DescribeTaskDefinition"
    assert finding.evidence["error_code"] == "AccessDeniedException"
