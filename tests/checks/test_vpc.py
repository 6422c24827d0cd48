from typing import Any, Iterator

import pytest

from auditor import Status
from checks.vpc.resources import Rule, SecurityGroup, internet_exposures, parse_rules, unauthorized_internet_rules

from ..conftest import ACCOUNT, BOTO, REGION, statuses

FLOW_LOGS = "vpc_flow_logs_enabled"
DEFAULT_SG = "vpc_default_security_group_closed"
ADMIN = "vpc_security_group_admin_ports_restricted"
DATABASE = "vpc_security_group_database_ports_restricted"
PUBLIC = "vpc_security_group_public_ports_authorized"

WORLD_V4 = [{"CidrIp": "0.0.0.0/0", "Description": "anyone"}]
WORLD_V6 = [{"CidrIpv6": "::/0", "Description": "anyone over IPv6"}]


# -- helpers -------------------------------------------------------------------------------------------------
@pytest.fixture
def ec2(aws):
    return aws.client("ec2")


@pytest.fixture
def empty_region(ec2) -> None:
    """Remove moto's default VPC (and with it its default security group): a region with no network at all."""
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]:
        for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        ec2.delete_vpc(VpcId=vpc["VpcId"])


def new_vpc(ec2, name: str = "") -> str:
    tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}] if name else []
    return ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tags)["Vpc"]["VpcId"]


def new_group(ec2, vpc_id: str, name: str, *permissions: dict[str, Any]) -> str:
    group = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=list(permissions))
    return group


def tcp(port: int, to_port: int | None = None, **sources: Any) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port if to_port is None else to_port, **sources}


def default_group(ec2, vpc_id: str) -> str:
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return groups[0]["GroupId"]


def finding_for(run, resource_id: str):
    [finding] = [f for f in run.findings if f.resource.id == resource_id]
    return finding


@pytest.fixture
def recorded(aws) -> Iterator[Any]:
    """Answer chosen operations with a recorded AWS response, for shapes moto cannot produce."""
    from botocore.awsrequest import AWSResponse

    registered: list[tuple[str, Any]] = []

    def respond(operation: str, body: dict[str, Any]) -> None:
        def handler(**_: Any) -> Any:
            return AWSResponse("https://recorded", 200, {}, None), {**body, "ResponseMetadata": {}}

        event = f"before-call.ec2.{operation}"
        BOTO.events.register_first(event, handler)
        registered.append((event, handler))

    yield respond
    for event, handler in registered:
        BOTO.events.unregister(event, handler)


# -- the shared rule logic -----------------------------------------------------------------------------------
def group_with(*permissions: dict[str, Any]) -> SecurityGroup:
    return SecurityGroup(id="sg-1", name="g", region=REGION, arn="", vpc_id="vpc-1", description="",
                         ingress=parse_rules(permissions))


ADMIN_PORTS, AUTHORIZED = (22, 3389), (80, 443)


@pytest.mark.parametrize(
    "permission, exposed",
    [
        (tcp(22, IpRanges=WORLD_V4), [(22,)]),
        (tcp(3389, IpRanges=WORLD_V4, Ipv6Ranges=WORLD_V6), [(3389,), (3389,)]),
        ({"IpProtocol": "-1", "IpRanges": WORLD_V4}, [(22, 3389)]),
        (tcp(0, 65535, Ipv6Ranges=WORLD_V6), [(22, 3389)]),
        (tcp(20, 30, IpRanges=WORLD_V4), [(22,)]),
        ({"IpProtocol": "udp", "FromPort": 3389, "ToPort": 3389, "IpRanges": WORLD_V4}, [(3389,)]),
        ({"IpProtocol": "6", "FromPort": 22, "ToPort": 22, "IpRanges": WORLD_V4}, [(22,)]),
        (tcp(23, 3388, IpRanges=WORLD_V4), []),  # between the two admin ports
        (tcp(22, IpRanges=[{"CidrIp": "10.0.0.0/8"}]), []),
        (tcp(22, IpRanges=[{"CidrIp": "0.0.0.0/1"}]), []),  # half the internet is not 0.0.0.0/0
        (tcp(22, UserIdGroupPairs=[{"GroupId": "sg-2"}]), []),
        (tcp(22, PrefixListIds=[{"PrefixListId": "pl-1"}]), []),
        (tcp(443, IpRanges=WORLD_V4, Ipv6Ranges=WORLD_V6), []),
        ({"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": WORLD_V4}, []),
    ],
)
def test_internet_exposures(permission, exposed):
    found = internet_exposures(group_with(permission), ADMIN_PORTS, AUTHORIZED)
    assert [e.ports for e in found] == exposed


def test_authorized_ports_never_count_on_their_own():
    all_traffic = group_with({"IpProtocol": "-1", "IpRanges": WORLD_V4})
    assert [e.ports for e in internet_exposures(all_traffic, (22, 443), (443,))] == [(22,)]
    assert internet_exposures(all_traffic, (443,), (443,)) == []


def test_exposure_evidence_names_the_rule():
    [exposure] = internet_exposures(group_with(tcp(20, 30, Ipv6Ranges=WORLD_V6)), ADMIN_PORTS, AUTHORIZED)
    assert exposure.evidence() == {
        "protocol": "tcp", "from_port": 20, "to_port": 30, "cidr": "::/0", "description": "anyone over IPv6",
        "ports": [22],
    }


def test_parse_rules_gives_one_rule_per_source():
    rules = parse_rules([tcp(22, IpRanges=WORLD_V4, Ipv6Ranges=WORLD_V6, UserIdGroupPairs=[{"GroupId": "sg-2"}]),
                         {"IpProtocol": "-1"}])
    assert rules == (
        Rule("tcp", 22, 22, cidr="0.0.0.0/0", description="anyone"),
        Rule("tcp", 22, 22, cidr="::/0", description="anyone over IPv6"),
        Rule("tcp", 22, 22, security_group="sg-2"),
        Rule("-1"),
    )


@pytest.mark.parametrize(
    "permission, unauthorized",
    [
        (tcp(443, IpRanges=WORLD_V4), False),
        (tcp(80, IpRanges=WORLD_V4, Ipv6Ranges=WORLD_V6), False),
        (tcp(80, 443, IpRanges=WORLD_V4), True),  # 81-442 too
        (tcp(8080, IpRanges=WORLD_V4), True),
        ({"IpProtocol": "-1", "Ipv6Ranges": WORLD_V6}, True),
        ({"IpProtocol": "icmp", "FromPort": 8, "ToPort": 0, "IpRanges": WORLD_V4}, False),
        (tcp(8080, UserIdGroupPairs=[{"GroupId": "sg-2"}]), False),
    ],
)
def test_unauthorized_internet_rules(permission, unauthorized):
    assert bool(unauthorized_internet_rules(group_with(permission), AUTHORIZED)) is unauthorized


# -- flow logs -----------------------------------------------------------------------------------------------
def flow_log(ec2, vpc_id: str) -> str:
    response = ec2.create_flow_logs(
        ResourceIds=[vpc_id], ResourceType="VPC", TrafficType="ALL", LogGroupName="flow-logs",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
    )
    return response["FlowLogIds"][0]


def test_flow_logs_fail_without_flow_log(audit, ec2, empty_region):
    vpc = new_vpc(ec2, name="main")
    run = audit(FLOW_LOGS)
    assert statuses(run) == {vpc: "FAIL"}
    finding = run.findings[0]
    assert finding.message == f"VPC {vpc} (main) has no flow log."
    assert finding.evidence == {"flow_logs": []}
    assert finding.resource.type == "AWS::EC2::VPC"
    assert finding.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{vpc}"


def test_flow_logs_pass_only_for_the_vpc_that_has_one(audit, ec2):
    default_vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    logged = new_vpc(ec2)
    log_id = flow_log(ec2, logged)
    run = audit(FLOW_LOGS)
    assert statuses(run) == {logged: "PASS", default_vpc: "FAIL"}
    passed = finding_for(run, logged)
    assert log_id in passed.message
    assert passed.evidence["flow_logs"][0]["status"] == "ACTIVE"
    assert passed.evidence["flow_logs"][0]["traffic_type"] == "ALL"
    assert finding_for(run, default_vpc).message.startswith(f"default VPC {default_vpc}")


def test_flow_logs_fail_when_flow_log_not_active(audit, ec2, empty_region, recorded):
    vpc = new_vpc(ec2)
    recorded("DescribeFlowLogs", {"FlowLogs": [{
        "FlowLogId": "fl-0123456789abcdef0", "FlowLogStatus": "ERROR", "ResourceId": vpc, "TrafficType": "REJECT",
        "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-logs", "DeliverLogsStatus": "FAILED",
    }]})
    run = audit(FLOW_LOGS)
    assert statuses(run) == {vpc: "FAIL"}
    assert "none is active" in run.findings[0].message
    assert run.findings[0].evidence["flow_logs"][0]["status"] == "ERROR"


def test_flow_logs_report_nothing_without_vpcs(audit, empty_region):
    assert audit(FLOW_LOGS).findings == ()


def test_flow_logs_denied_read_is_error_for_each_vpc(audit, ec2, faults):
    default_vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    faults.deny("ec2", "DescribeFlowLogs", code="UnauthorizedOperation")
    run = audit(FLOW_LOGS)
    [finding] = run.findings
    assert (finding.status, finding.resource.id) == (Status.ERROR, default_vpc)
    assert finding.evidence["iam_action"] == "ec2:DescribeFlowLogs"
    assert finding.evidence["error_code"] == "UnauthorizedOperation"
    assert "ec2:DescribeFlowLogs" in finding.message


# -- default security group ----------------------------------------------------------------------------------
def test_default_sg_fails_with_rules(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    group = default_group(ec2, vpc)  # moto gives it "all traffic out"; add AWS's usual "all from itself"
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]}]
    )
    new_group(ec2, vpc, "app", tcp(8080, IpRanges=[{"CidrIp": "10.0.0.0/16"}]))  # not a default group
    run = audit(DEFAULT_SG)
    assert statuses(run) == {group: "FAIL"}
    finding = run.findings[0]
    assert finding.evidence["vpc_id"] == vpc
    assert (finding.evidence["ingress_rule_count"], finding.evidence["egress_rule_count"]) == (1, 1)
    assert finding.evidence["ingress_rules"][0]["security_group"] == group
    assert finding.evidence["egress_rules"][0]["cidr"] == "0.0.0.0/0"
    assert group in finding.message and vpc in finding.message
    assert finding.resource.type == "AWS::EC2::SecurityGroup"


def test_default_sg_passes_without_rules(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    group = default_group(ec2, vpc)
    ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": WORLD_V4[:1]}])
    run = audit(DEFAULT_SG)
    assert statuses(run) == {group: "PASS"}
    assert run.findings[0].evidence["ingress_rule_count"] == 0
    assert run.findings[0].evidence["egress_rule_count"] == 0


def test_default_sg_reports_nothing_without_vpcs(audit, empty_region):
    assert audit(DEFAULT_SG).findings == ()


# -- internet-facing ports, through the engine ---------------------------------------------------------------
def three_tier(ec2, vpc: str) -> dict[str, str]:
    """The seed guide's security groups: ALB open on 80/443, app from the ALB, database from the app."""
    alb = new_group(ec2, vpc, "alb", tcp(443, IpRanges=WORLD_V4, Ipv6Ranges=WORLD_V6), tcp(80, IpRanges=WORLD_V4))
    app = new_group(ec2, vpc, "app", tcp(8080, UserIdGroupPairs=[{"GroupId": alb}]))
    db = new_group(ec2, vpc, "db", tcp(5432, UserIdGroupPairs=[{"GroupId": app}]))
    return {"alb": alb, "app": app, "db": db, "default": default_group(ec2, vpc)}


def test_three_tier_layout_passes_every_port_check(audit, ec2, empty_region):
    groups = three_tier(ec2, new_vpc(ec2))
    run = audit(ADMIN, DATABASE, PUBLIC)
    assert {(f.check_id, f.resource.id): f.status.value for f in run.findings} == {
        (check, group): "PASS" for check in (ADMIN, DATABASE, PUBLIC) for group in groups.values()
    }
    # One DescribeSecurityGroups serves all three checks.
    assert run.api_calls["ec2:DescribeSecurityGroups"] == 1


def test_admin_ports_fail_for_each_way_of_opening_them(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    ssh = new_group(ec2, vpc, "ssh", tcp(22, IpRanges=WORLD_V4))
    rdp_v6 = new_group(ec2, vpc, "rdp-v6", tcp(3389, Ipv6Ranges=WORLD_V6))
    everything = new_group(ec2, vpc, "everything", {"IpProtocol": "-1", "IpRanges": WORLD_V4})
    ranged = new_group(ec2, vpc, "ranged", tcp(20, 30, IpRanges=WORLD_V4))
    from_group = new_group(ec2, vpc, "from-bastion", tcp(22, UserIdGroupPairs=[{"GroupId": ssh}]))
    https = new_group(ec2, vpc, "https", tcp(443, IpRanges=WORLD_V4, Ipv6Ranges=WORLD_V6))
    run = audit(ADMIN)
    assert statuses(run) == {
        ssh: "FAIL", rdp_v6: "FAIL", everything: "FAIL", ranged: "FAIL",
        from_group: "PASS", https: "PASS", default_group(ec2, vpc): "PASS",
    }
    assert finding_for(run, ssh).evidence["rules"] == [
        {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0", "description": "anyone",
         "ports": [22]}
    ]
    assert finding_for(run, ssh).message == f"Security group {ssh} (ssh) allows ingress from the internet to " \
                                            "administration port(s) 22."
    assert finding_for(run, rdp_v6).evidence["rules"][0]["cidr"] == "::/0"
    assert finding_for(run, everything).evidence["exposed_ports"] == [22, 3389]
    assert finding_for(run, everything).evidence["rules"][0]["protocol"] == "-1"
    assert finding_for(run, ranged).evidence["rules"][0]["from_port"] == 20
    assert finding_for(run, ranged).evidence["exposed_ports"] == [22]
    assert finding_for(run, https).evidence["checked_ports"] == [22, 3389]


def test_admin_ports_follow_parameters(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    ssh = new_group(ec2, vpc, "ssh", tcp(22, IpRanges=WORLD_V4))
    custom = new_group(ec2, vpc, "custom", tcp(2222, IpRanges=WORLD_V4))
    run = audit(ADMIN, params={"network.admin_ports": [22, 2222], "network.authorized_public_ports": [22]})
    assert statuses(run)[ssh] == "PASS"
    assert statuses(run)[custom] == "FAIL"
    assert finding_for(run, custom).evidence["exposed_ports"] == [2222]


def test_admin_ports_report_nothing_without_security_groups(audit, empty_region):
    assert audit(ADMIN).findings == ()


def test_database_ports_fail_when_open_to_the_internet(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    postgres = new_group(ec2, vpc, "postgres", tcp(5432, Ipv6Ranges=WORLD_V6))
    everything = new_group(ec2, vpc, "everything", {"IpProtocol": "-1", "IpRanges": WORLD_V4})
    ssh_only = new_group(ec2, vpc, "ssh", tcp(22, IpRanges=WORLD_V4))
    run = audit(DATABASE)
    assert statuses(run) == {postgres: "FAIL", everything: "FAIL", ssh_only: "PASS", default_group(ec2, vpc): "PASS"}
    assert finding_for(run, postgres).evidence["exposed_ports"] == [5432]
    assert "database port(s) 5432" in finding_for(run, postgres).message
    assert finding_for(run, everything).evidence["exposed_ports"] == sorted(
        [1433, 1521, 3306, 5432, 5439, 6379, 9042, 11211, 27017, 27018, 9200, 9300]
    )
    assert run.findings[0].severity.value == "critical"


def test_database_ports_report_nothing_without_security_groups(audit, empty_region):
    assert audit(DATABASE).findings == ()


def test_public_ports_fail_beyond_authorized(audit, ec2, empty_region):
    vpc = new_vpc(ec2)
    groups = three_tier(ec2, vpc)
    app_open = new_group(ec2, vpc, "app-open", tcp(8080, IpRanges=WORLD_V4))
    everything = new_group(ec2, vpc, "everything", {"IpProtocol": "-1", "Ipv6Ranges": WORLD_V6})
    ping = new_group(ec2, vpc, "ping", {"IpProtocol": "icmp", "FromPort": 8, "ToPort": 0, "IpRanges": WORLD_V4})
    run = audit(PUBLIC)
    assert statuses(run) == {
        **{group: "PASS" for group in groups.values()}, app_open: "FAIL", everything: "FAIL", ping: "PASS",
    }
    assert finding_for(run, app_open).evidence["rules"] == [
        {"protocol": "tcp", "from_port": 8080, "to_port": 8080, "cidr": "0.0.0.0/0", "description": "anyone"}
    ]
    assert finding_for(run, everything).evidence["rules"][0]["cidr"] == "::/0"
    assert finding_for(run, groups["alb"]).evidence["authorized_ports"] == [80, 443]


def test_public_ports_report_nothing_without_security_groups(audit, empty_region):
    assert audit(PUBLIC).findings == ()


def test_security_groups_denied_read_is_error_naming_the_action(audit, faults):
    faults.deny("ec2", "DescribeSecurityGroups")
    run = audit(ADMIN, DATABASE, DEFAULT_SG)
    assert {(f.check_id, f.status) for f in run.findings} == {
        (ADMIN, Status.ERROR), (DATABASE, Status.ERROR), (DEFAULT_SG, Status.ERROR),
    }
    for finding in run.findings:
        assert finding.evidence["iam_action"] == "ec2:DescribeSecurityGroups"
        assert finding.evidence["error_code"] == "AccessDenied"
