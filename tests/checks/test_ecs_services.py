"""ECS services and task sets: ECS.2, ECS.10, ECS.16 and container health checks."""
from typing import Any

import pytest

from auditor import Status

from ..conftest import ACCOUNT, BOTO, REGION, statuses

PUBLIC_IP = "ecs_service_public_ip_assignment_disabled"
PLATFORM = "ecs_service_fargate_platform_version_latest"
TASK_SET = "ecs_task_set_public_ip_assignment_disabled"
HEALTH = "ecs_service_container_health_checks_defined"
ALL = (PUBLIC_IP, PLATFORM, TASK_SET, HEALTH)

HEALTH_CHECK = {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "interval": 30}


@pytest.fixture
def network(aws) -> dict[str, str]:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.10.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    aws.client("ecs").create_cluster(clusterName="main")
    return {"subnet": subnet, "group": group}


def awsvpc(network: dict[str, str], assign: str) -> dict[str, Any]:
    return {"awsvpcConfiguration": {"subnets": [network["subnet"]], "securityGroups": [network["group"]],
                                    "assignPublicIp": assign}}


def register(aws, family: str, *containers: dict[str, Any]) -> str:
    containers = containers or ({"name": "app", "image": "nginx", "memory": 128, "healthCheck": HEALTH_CHECK},)
    return aws.client("ecs").register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=list(containers),
    )["taskDefinition"]["taskDefinitionArn"]


def create_service(aws, name: str, family: str = "app", **extra: Any) -> None:
    aws.client("ecs").create_service(cluster="main", serviceName=name, taskDefinition=family, desiredCount=1,
                                     **extra)


def after_describe_services(change):  # noqa: ANN001 - a recorded-response edit of DescribeServices
    def hook(parsed: dict[str, Any], **_: Any) -> None:
        for item in parsed.get("services", []):
            change(item)

    return hook


# -- ECS.2 ----------------------------------------------------------------------------------------------------
def test_public_ip_fails_when_enabled(audit, aws, network):
    register(aws, "app")
    create_service(aws, "public", launchType="FARGATE", networkConfiguration=awsvpc(network, "ENABLED"))
    create_service(aws, "private", launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))
    run = audit(PUBLIC_IP)
    assert statuses(run) == {"main/public": "FAIL", "main/private": "PASS"}
    public = next(f for f in run.findings if f.resource.id == "main/public")
    assert public.evidence == {"assignPublicIp": "ENABLED", "subnets": [network["subnet"]]}
    assert public.resource.arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/main/public"
    assert public.resource.type == "AWS::ECS::Service"
    assert "main/public" in public.message


def test_public_ip_passes_without_awsvpc_networking(audit, aws, network):
    aws.client("ecs").register_task_definition(family="bridge", containerDefinitions=[
        {"name": "app", "image": "nginx", "memory": 128}])
    create_service(aws, "bridge", family="bridge", launchType="EC2")
    run = audit(PUBLIC_IP)
    assert statuses(run) == {"main/bridge": "PASS"}
    assert run.findings[0].evidence == {"assignPublicIp": None}


def test_no_services_no_findings(audit, network):
    assert audit(*ALL).findings == ()


def test_denied_list_services_is_error_per_cluster(audit, aws, network, faults):
    register(aws, "app")
    create_service(aws, "public", launchType="FARGATE", networkConfiguration=awsvpc(network, "ENABLED"))
    faults.deny("ecs", "ListServices", code="AccessDeniedException", status=400)
    run = audit(*ALL)
    assert len(run.findings) == len(ALL)
    for finding in run.findings:
        assert finding.status is Status.ERROR
        assert finding.resource.type == "AWS::ECS::Cluster" and finding.resource.id == "main"
        assert finding.evidence["iam_action"] == "ecs:ListServices"


def test_services_are_described_in_batches_of_10(audit, aws, network):
    register(aws, "app")
    for n in range(11):
        create_service(aws, f"svc{n:02}", launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))
    run = audit(PUBLIC_IP)
    assert len(run.findings) == 11 and {f.status for f in run.findings} == {Status.PASS}
    assert run.api_calls["ecs:DescribeServices"] == 2


def test_cluster_deleted_between_reads_has_no_findings(audit, aws, network, faults):
    register(aws, "app")
    create_service(aws, "svc", launchType="FARGATE", networkConfiguration=awsvpc(network, "ENABLED"))
    faults.deny("ecs", "ListServices", code="ClusterNotFoundException", status=400)
    assert audit(PUBLIC_IP).findings == ()


# -- ECS.10 ---------------------------------------------------------------------------------------------------
def test_platform_version_fails_when_pinned_to_an_old_version(audit, aws, network):
    register(aws, "app")
    create_service(aws, "old", launchType="FARGATE", platformVersion="1.3.0",
                   networkConfiguration=awsvpc(network, "DISABLED"))
    create_service(aws, "current", launchType="FARGATE", platformVersion="1.4.0",
                   networkConfiguration=awsvpc(network, "DISABLED"))
    create_service(aws, "latest", launchType="FARGATE", platformVersion="LATEST",
                   networkConfiguration=awsvpc(network, "DISABLED"))
    run = audit(PLATFORM)
    assert statuses(run) == {"main/old": "FAIL", "main/current": "PASS", "main/latest": "PASS"}
    old = next(f for f in run.findings if f.resource.id == "main/old")
    assert old.evidence == {"platform_version": "1.3.0", "platform_family": None, "latest": "1.4.0"}
    assert "1.3.0" in old.message and "1.4.0" in old.message


def test_platform_version_latest_comes_from_parameters(audit, aws, network):
    register(aws, "app")
    create_service(aws, "current", launchType="FARGATE", platformVersion="1.4.0",
                   networkConfiguration=awsvpc(network, "DISABLED"))
    run = audit(PLATFORM, params={"ecs.fargate_latest_linux_platform_version": "1.5.0"})
    assert statuses(run) == {"main/current": "FAIL"}


def test_platform_version_real_shapes_capacity_providers_windows_and_defaults(audit, aws, network):
    # Moto drops capacityProviderStrategy (reporting launchType EC2), platformFamily, and omits platformVersion
    # where AWS reports "LATEST"; these are AWS's DescribeServices shapes.
    register(aws, "app")
    for name in ("spot", "windows", "unreported", "ec2"):
        create_service(aws, name, launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))

    def real_shape(item: dict[str, Any]) -> None:
        name = item["serviceName"]
        if name == "spot":
            item.pop("launchType", None)
            item["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
            item["platformVersion"], item["platformFamily"] = "1.3.0", "LINUX"
        elif name == "windows":
            item["platformVersion"], item["platformFamily"] = "1.0.0", "WINDOWS_SERVER_2019_FULL"
        elif name == "unreported":
            item.pop("platformVersion", None)
        else:
            item["launchType"] = "EC2"

    hook = after_describe_services(real_shape)
    BOTO.events.register("after-call.ecs.DescribeServices", hook)
    try:
        run = audit(PLATFORM)
    finally:
        BOTO.events.unregister("after-call.ecs.DescribeServices", hook)
    assert statuses(run) == {"main/spot": "FAIL", "main/windows": "PASS", "main/unreported": "PASS"}
    windows = next(f for f in run.findings if f.resource.id == "main/windows")
    assert windows.evidence["latest"] == "1.0.0"
    unreported = next(f for f in run.findings if f.resource.id == "main/unreported")
    assert unreported.evidence["platform_version"] == "LATEST"


# -- ECS.16 ---------------------------------------------------------------------------------------------------
def test_task_set_fails_when_assigning_public_ips(audit, aws, network):
    register(aws, "app")
    create_service(aws, "external", deploymentController={"type": "EXTERNAL"})
    ecs = aws.client("ecs")
    public = ecs.create_task_set(cluster="main", service="external", taskDefinition="app", launchType="FARGATE",
                                 networkConfiguration=awsvpc(network, "ENABLED"))["taskSet"]
    private = ecs.create_task_set(cluster="main", service="external", taskDefinition="app", launchType="FARGATE",
                                  networkConfiguration=awsvpc(network, "DISABLED"))["taskSet"]
    create_service(aws, "rolling", launchType="FARGATE", networkConfiguration=awsvpc(network, "ENABLED"))
    run = audit(TASK_SET)
    # The rolling service has no task sets (and is ECS.2's subject), so only the two task sets are reported.
    assert {f.resource.arn: f.status.value for f in run.findings} == {
        public["taskSetArn"]: "FAIL", private["taskSetArn"]: "PASS"}
    failed = next(f for f in run.findings if f.status is Status.FAIL)
    assert failed.resource.type == "AWS::ECS::TaskSet"
    assert failed.evidence == {"assignPublicIp": "ENABLED", "subnets": [network["subnet"]]}
    assert failed.resource.id == f"main/external/{public['id']}"
    assert "main/external" in failed.message


def test_task_set_of_a_code_deploy_service_real_shape(audit, aws, network):
    # DescribeServices returns a CODE_DEPLOY service's task sets with it; moto cannot create that controller's
    # task sets, so this is AWS's shape (task set without networkConfiguration: bridge networking).
    register(aws, "app")
    create_service(aws, "blue-green", launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/main/blue-green/ecs-svc/1234567890123456789"

    def real_shape(item: dict[str, Any]) -> None:
        item["deploymentController"] = {"type": "CODE_DEPLOY"}
        item["taskSets"] = [
            {"id": "ecs-svc/1234567890123456789", "taskSetArn": arn, "status": "PRIMARY", "launchType": "EC2"},
        ]

    hook = after_describe_services(real_shape)
    BOTO.events.register("after-call.ecs.DescribeServices", hook)
    try:
        run = audit(TASK_SET)
    finally:
        BOTO.events.unregister("after-call.ecs.DescribeServices", hook)
    [finding] = run.findings
    assert (finding.resource.arn, finding.status) == (arn, Status.PASS)
    assert finding.evidence == {"assignPublicIp": None}


def test_denied_describe_services_is_error_per_cluster(audit, aws, network, faults):
    register(aws, "app")
    create_service(aws, "external", deploymentController={"type": "EXTERNAL"})
    faults.deny("ecs", "DescribeServices")
    [finding] = audit(TASK_SET).findings
    assert finding.status is Status.ERROR
    assert finding.resource.id == "main"
    assert finding.evidence["iam_action"] == "ecs:DescribeServices"


# -- container health checks ----------------------------------------------------------------------------------
def test_health_checks_fail_for_an_essential_container_without_one(audit, aws, network):
    register(aws, "checked")
    arn = register(aws, "unchecked",
                   {"name": "app", "image": "nginx", "memory": 128},
                   {"name": "init", "image": "busybox", "memory": 64, "essential": False})
    create_service(aws, "good", family="checked", launchType="FARGATE",
                   networkConfiguration=awsvpc(network, "DISABLED"))
    create_service(aws, "bad", family="unchecked", launchType="FARGATE",
                   networkConfiguration=awsvpc(network, "DISABLED"))
    run = audit(HEALTH)
    assert statuses(run) == {"main/good": "PASS", "main/bad": "FAIL"}
    bad = next(f for f in run.findings if f.resource.id == "main/bad")
    assert bad.evidence == {"task_definition": arn, "essential_containers": ["app"], "without_health_check": ["app"]}
    assert "unchecked:1" in bad.message


def test_health_checks_evaluate_the_revision_the_service_runs(audit, aws, network):
    register(aws, "app")
    create_service(aws, "svc", family="app:1", launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))
    register(aws, "app", {"name": "app", "image": "nginx", "memory": 128})  # revision 2, not deployed
    run = audit(HEALTH)
    assert statuses(run) == {"main/svc": "PASS"}
    assert run.findings[0].evidence["task_definition"].endswith(":1")


def test_health_checks_denied_describe_is_error_for_that_service(audit, aws, network, faults):
    register(aws, "app")
    create_service(aws, "svc", launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))
    faults.deny("ecs", "DescribeTaskDefinition")
    [finding] = audit(HEALTH).findings
    assert finding.status is Status.ERROR
    assert finding.resource.id == "main/svc"
    assert finding.evidence["iam_action"] == "ecs:DescribeTaskDefinition"


# -- private subnets ------------------------------------------------------------------------------------------
PRIVATE_SUBNETS = "ecs_service_in_private_subnets"


def public_subnet(aws, network: dict[str, str]) -> str:
    """A subnet whose route table sends 0.0.0.0/0 to an internet gateway."""
    ec2 = aws.client("ec2")
    vpc = ec2.describe_subnets(SubnetIds=[network["subnet"]])["Subnets"][0]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return subnet


def test_private_subnets_fail_for_public_subnets_or_public_ips(audit, aws, network):
    register(aws, "app")
    public = public_subnet(aws, network)
    in_public = {"awsvpcConfiguration": {"subnets": [network["subnet"], public],
                                         "securityGroups": [network["group"]], "assignPublicIp": "DISABLED"}}
    create_service(aws, "in-public", launchType="FARGATE", networkConfiguration=in_public)
    create_service(aws, "public-ip", launchType="FARGATE", networkConfiguration=awsvpc(network, "ENABLED"))
    create_service(aws, "private", launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))
    run = audit(PRIVATE_SUBNETS)
    assert statuses(run) == {"main/in-public": "FAIL", "main/public-ip": "FAIL", "main/private": "PASS"}
    found = {f.resource.id: f for f in run.findings}
    assert found["main/in-public"].evidence == {
        "assignPublicIp": "DISABLED", "subnet_tiers": {network["subnet"]: "isolated", public: "public"},
        "public_subnets": [public]}
    assert public in found["main/in-public"].message
    assert "assigns public IP addresses" in found["main/public-ip"].message
    assert found["main/private"].evidence["public_subnets"] == []


def test_private_subnets_skip_services_without_awsvpc(audit, aws, network):
    aws.client("ecs").register_task_definition(family="bridge", containerDefinitions=[
        {"name": "app", "image": "nginx", "memory": 128}])
    create_service(aws, "bridge", family="bridge", launchType="EC2")
    run = audit(PRIVATE_SUBNETS)
    assert run.findings == ()
    assert "ec2:DescribeRouteTables" not in run.api_calls  # nothing to place in a subnet: no network read


def test_private_subnets_denied_route_tables_is_error_for_the_cluster(audit, aws, network, faults):
    register(aws, "app")
    create_service(aws, "svc", launchType="FARGATE", networkConfiguration=awsvpc(network, "DISABLED"))
    faults.deny("ec2", "DescribeRouteTables", code="UnauthorizedOperation")
    [finding] = audit(PRIVATE_SUBNETS).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ec2:DescribeRouteTables"
