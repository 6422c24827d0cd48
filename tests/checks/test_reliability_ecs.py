from auditor import Status

from ..conftest import BOTO, statuses

TASKS = "ecs_service_multiple_tasks_in_production"
HEALTHY = "ecs_service_deployment_min_healthy_sufficient"
CLUSTER = "acme"


def service(aws, name: str, environment: str | None, desired: int, min_healthy: int = 50) -> str:
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "app:1",
                                                                      "memory": 256}])
    tags = [{"key": "Environment", "value": environment}] if environment else []
    ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition="app", desiredCount=desired,
                       deploymentConfiguration={"minimumHealthyPercent": min_healthy, "maximumPercent": 200},
                       tags=tags)
    return f"{CLUSTER}/{name}"


def scaling(aws, name: str, minimum: int) -> None:
    aws.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId=f"service/{CLUSTER}/{name}", ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=minimum, MaxCapacity=10)


def test_single_task_production_and_unknown_fail(audit, aws):
    prod = service(aws, "api", "prod", 1)
    unknown = service(aws, "worker", None, 1)
    run = audit(TASKS)
    assert statuses(run) == {prod: "FAIL", unknown: "FAIL"}
    [p] = [f for f in run.findings if f.resource.id == prod]
    assert p.evidence["desired_count"] == 1 and p.evidence["environment_basis"] == "tag Environment=prod"
    assert "desired count 1" in p.message
    [u] = [f for f in run.findings if f.resource.id == unknown]
    assert "judged as production" in u.message


def test_autoscaling_minimum_below_two_fails_in_production(audit, aws):
    prod = service(aws, "api", "prod", 2)
    scaling(aws, "api", 1)
    [finding] = audit(TASKS).findings
    assert finding.resource.id == prod and finding.status is Status.FAIL
    assert finding.evidence["autoscaling_min_capacity"] == 1
    assert "auto-scaling minimum 1" in finding.message


def test_two_tasks_in_production_and_one_in_staging_pass(audit, aws):
    prod = service(aws, "api", "production", 2)
    scaling(aws, "api", 2)
    staging = service(aws, "preview", "staging", 1)
    run = audit(TASKS)
    assert statuses(run) == {prod: "PASS", staging: "PASS"}
    [s] = [f for f in run.findings if f.resource.id == staging]
    assert "acceptable for non-production" in s.message


def test_no_services_no_findings(audit):
    assert audit(TASKS, HEALTHY).findings == ()


def recorded_deployment_configuration(percent_by_service: dict[str, int]):
    """Recorded response: AWS returns each service's deploymentConfiguration; moto 5.2 leaves it out."""
    def hook(parsed, **_):
        for item in parsed.get("services", []):
            if item.get("serviceName") in percent_by_service:
                item["deploymentConfiguration"] = {
                    "minimumHealthyPercent": percent_by_service[item["serviceName"]], "maximumPercent": 200,
                    "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    return hook


def test_min_healthy_below_fifty_fails(audit, aws):
    risky = service(aws, "api", "prod", 2, min_healthy=0)
    safe = service(aws, "web", "prod", 2, min_healthy=50)
    hook = recorded_deployment_configuration({"api": 0, "web": 50})
    BOTO.events.register("after-call.ecs.DescribeServices", hook)
    try:
        run = audit(HEALTHY)
    finally:
        BOTO.events.unregister("after-call.ecs.DescribeServices", hook)
    assert statuses(run) == {risky: "FAIL", safe: "PASS"}
    [r] = [f for f in run.findings if f.resource.id == risky]
    assert r.evidence["minimum_healthy_percent"] == 0 and "only 0%" in r.message
    assert r.evidence["reported"] is True


def test_missing_deployment_configuration_is_the_aws_default(audit, aws):
    default = service(aws, "api", "prod", 2)
    [finding] = audit(HEALTHY).findings
    assert finding.resource.id == default and finding.status is Status.PASS
    assert finding.evidence == {"minimum_healthy_percent": 100, "required_percent": 50, "reported": False}


def test_denied_scalable_targets_read_is_error_per_cluster(audit, aws, faults):
    service(aws, "api", "prod", 2)
    faults.deny("application-autoscaling", "DescribeScalableTargets")
    [finding] = audit(TASKS).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "application-autoscaling:DescribeScalableTargets"
