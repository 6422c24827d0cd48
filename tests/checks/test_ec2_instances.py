"""EC2 instance checks: lifecycle, addressing, interfaces, virtualization, user data and internet exposure."""
import base64
import gzip
import json
from typing import Any, Callable, Iterator

import pytest

from auditor import Status
from auditor.secrets import DOCUMENTATION_EXAMPLES
from checks.ec2.instance_checks import decode_user_data

from ..conftest import BOTO, REGION, statuses

STOPPED = "ec2_instance_stopped_not_stale"
PUBLIC_IP = "ec2_instance_no_public_ip"
SINGLE_ENI = "ec2_instance_single_network_interface"
HVM = "ec2_instance_hvm_virtualization"
USER_DATA = "ec2_instance_user_data_no_secrets"
EXPOSED = "ec2_instance_not_internet_exposed"

# Built at run time so the literal never sits in the source as a key pair.
FAKE_KEY_ID = "AKIA" + "Q3EGRWPL7XN4ZT2B"
FAKE_SECRET = "k9Xv2Lp7Qw4Zr8Tn1Bm5Hc3Jd6Fg0Sax" + "Ye7Uo2Ri"
LEAKY_USER_DATA = f"""#!/bin/bash
export AWS_ACCESS_KEY_ID={FAKE_KEY_ID}
export AWS_SECRET_ACCESS_KEY="{FAKE_SECRET}"
/opt/app/start.sh
"""


# -- helpers -------------------------------------------------------------------------------------------------
@pytest.fixture
def ec2(aws):
    return aws.client("ec2")


@pytest.fixture
def edit_response(aws) -> Iterator[Callable[[str, Callable[[dict[str, Any]], None]], None]]:
    """Edit the parsed response of an EC2 operation, to reproduce real AWS shapes moto does not produce."""
    handlers: list[tuple[str, Any]] = []

    def install(operation: str, edit: Callable[[dict[str, Any]], None]) -> None:
        def handler(parsed: dict[str, Any], **_: Any) -> None:
            edit(parsed)

        event = f"after-call.ec2.{operation}"
        BOTO.events.register(event, handler)
        handlers.append((event, handler))

    yield install
    for event, handler in handlers:
        BOTO.events.unregister(event, handler)


def launch(ec2, name: str = "", image: str = "ami-12345678", **extra: Any) -> str:
    if name:
        extra["TagSpecifications"] = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
    return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **extra)["Instances"][0]["InstanceId"]


def private_vpc(ec2) -> tuple[str, str]:
    """A VPC with one subnet that has no route to the internet: (vpc id, subnet id)."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.10.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    return vpc, subnet["SubnetId"]


def finding_for(run, resource_id: str):
    [finding] = [f for f in run.findings if f.resource.id == resource_id]
    return finding


def by_instance(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(parsed: dict[str, Any]) -> None:
        for reservation in parsed.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                edit(instance)

    return apply


def test_no_instances_no_findings(audit):
    run = audit(STOPPED, PUBLIC_IP, SINGLE_ENI, HVM, USER_DATA, EXPOSED)
    assert run.findings == ()
    assert "ec2:DescribeRouteTables" not in run.api_calls  # no instance, no network to read


# -- stopped instances (EC2.4) -------------------------------------------------------------------------------
def test_stopped_instance_fails_after_max_days_in_real_aws_shape(audit, ec2, edit_response):
    old = launch(ec2, name="old")
    ec2.stop_instances(InstanceIds=[old])
    running = launch(ec2)

    def real_reason(instance: dict[str, Any]) -> None:  # AWS writes GMT; moto writes UTC and today's date
        if instance["InstanceId"] == old:
            instance["StateTransitionReason"] = "User initiated (2020-01-01 10:00:00 GMT)"

    edit_response("DescribeInstances", by_instance(real_reason))
    run = audit(STOPPED)
    assert statuses(run) == {old: "FAIL", running: "PASS"}
    finding = finding_for(run, old)
    assert finding.evidence["stopped_since"] == "2020-01-01T10:00:00+00:00"
    assert finding.evidence["stopped_days"] > 30
    assert "(old)" in finding.message and "more than 30" in finding.message
    assert finding_for(run, running).evidence["state"] == "running"


def test_recently_stopped_instance_passes_and_threshold_is_a_parameter(audit, ec2):
    stopped = launch(ec2)
    ec2.stop_instances(InstanceIds=[stopped])  # moto: "User initiated (<now> UTC)"
    run = audit(STOPPED)
    assert statuses(run) == {stopped: "PASS"}
    assert run.findings[0].evidence["stopped_days"] == 0
    assert audit(STOPPED, params={"ec2.stopped_instance_max_days": -1}).findings[0].status is Status.FAIL


def test_stopped_instance_without_a_stop_time_passes(audit, ec2, edit_response):
    stopped = launch(ec2)
    ec2.stop_instances(InstanceIds=[stopped])
    edit_response("DescribeInstances", by_instance(lambda i: i.update(StateTransitionReason="")))
    run = audit(STOPPED)
    assert statuses(run) == {stopped: "PASS"}
    assert run.findings[0].evidence["stopped_since"] is None


# -- public IPv4 (EC2.9) -------------------------------------------------------------------------------------
def test_public_ip_fails_and_private_instance_passes(audit, ec2):
    public = launch(ec2)  # moto's default subnets map public IPs on launch
    _, subnet = private_vpc(ec2)
    private = launch(ec2, SubnetId=subnet)
    run = audit(PUBLIC_IP)
    assert statuses(run) == {public: "FAIL", private: "PASS"}
    address = ec2.describe_instances(InstanceIds=[public])["Reservations"][0]["Instances"][0]["PublicIpAddress"]
    assert finding_for(run, public).evidence["public_ip"] == address
    assert address in finding_for(run, public).message
    assert finding_for(run, private).evidence == {"public_ip": None, "subnet_id": subnet}


# -- multiple ENIs (EC2.17) ----------------------------------------------------------------------------------
def test_second_network_interface_fails(audit, ec2):
    _, subnet = private_vpc(ec2)
    single = launch(ec2, SubnetId=subnet)
    double = launch(ec2, SubnetId=subnet)
    extra = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    ec2.attach_network_interface(NetworkInterfaceId=extra, InstanceId=double, DeviceIndex=1)
    run = audit(SINGLE_ENI)
    assert statuses(run) == {single: "PASS", double: "FAIL"}
    assert extra in finding_for(run, double).evidence["network_interfaces"]
    assert "2 network interfaces" in finding_for(run, double).message
    assert audit(SINGLE_ENI, params={"ec2.max_network_interfaces": 2}).findings[0].status is Status.PASS


# -- paravirtual (EC2.24) ------------------------------------------------------------------------------------
def test_paravirtual_fails_and_hvm_passes(audit, ec2):
    paravirtual = launch(ec2)  # moto reports "paravirtual" for an image it does not know
    image = ec2.register_image(Name="al2023", VirtualizationType="hvm")["ImageId"]
    hvm = launch(ec2, image=image)
    run = audit(HVM)
    assert statuses(run) == {paravirtual: "FAIL", hvm: "PASS"}
    assert finding_for(run, paravirtual).evidence["virtualization_type"] == "paravirtual"
    assert "uses paravirtual" in finding_for(run, paravirtual).message


# -- secrets in user data ------------------------------------------------------------------------------------
def test_user_data_with_a_key_pair_fails_without_repeating_it(audit, ec2):
    leaky = launch(ec2, name="legacy", UserData=LEAKY_USER_DATA)
    run = audit(USER_DATA)
    assert statuses(run) == {leaky: "FAIL"}
    finding = run.findings[0]
    kinds = {hit["kind"] for hit in finding.evidence["secrets"]}
    assert {"aws_access_key_id", "aws_secret_access_key"} <= kinds
    assert all(hit["value"] == "***redacted***" and hit["fingerprint"].startswith("sha256:")
               for hit in finding.evidence["secrets"])
    document = json.dumps(finding.to_dict())
    for value in (FAKE_KEY_ID, FAKE_SECRET):
        assert value not in document and value not in finding.message
    assert "(legacy)" in finding.message and "secret(s)" in finding.message


def test_gzip_user_data_is_inflated_and_scanned(audit, ec2):
    compressed = gzip.compress(LEAKY_USER_DATA.encode())
    leaky = launch(ec2, UserData=compressed)  # boto3 base64-encodes bytes as it does text
    run = audit(USER_DATA)
    assert statuses(run) == {leaky: "FAIL"}
    assert run.findings[0].evidence["compressed"] is True
    assert FAKE_SECRET not in json.dumps(run.findings[0].to_dict())


def test_clean_documentation_example_and_empty_user_data_pass(audit, ec2):
    example_id, example_secret = sorted(DOCUMENTATION_EXAMPLES)[:2]
    clean = launch(ec2, UserData="#!/bin/bash\ndnf install -y nginx\n")
    documented = launch(ec2, UserData=f"export AWS_ACCESS_KEY_ID={example_id}\n"
                                      f"export AWS_SECRET_ACCESS_KEY={example_secret}\n")
    empty = launch(ec2)
    run = audit(USER_DATA)
    assert statuses(run) == {clean: "PASS", documented: "PASS", empty: "PASS"}
    assert finding_for(run, empty).evidence == {"user_data_bytes": 0}
    assert "no secrets" in finding_for(run, clean).message


def test_decode_user_data_handles_text_gzip_and_garbage():
    assert decode_user_data(b"echo hi") == "echo hi"
    assert decode_user_data(gzip.compress(b"echo hi")) == "echo hi"
    assert decode_user_data(b"\x1f\x8bnot gzip").startswith("\x1f")


def test_user_data_denied_read_errors_only_that_instance(audit, ec2, faults):
    instance = launch(ec2, UserData=base64.b64encode(b"x").decode())
    faults.deny("ec2", "DescribeInstanceAttribute", code="UnauthorizedOperation")
    run = audit(USER_DATA)
    [finding] = run.findings
    assert (finding.status, finding.resource.id) == (Status.ERROR, instance)
    assert finding.evidence["iam_action"] == "ec2:DescribeInstanceAttribute"
    assert finding.evidence["error_code"] == "UnauthorizedOperation"


# -- internet exposure through the network model -------------------------------------------------------------
def public_subnet(ec2, vpc: str) -> tuple[str, str, str]:
    """A subnet whose route table sends 0.0.0.0/0 to an internet gateway: (subnet, route table, igw)."""
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"][
        "SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return subnet, table, igw


def group(ec2, vpc: str, name: str, *ports: int) -> str:
    group_id = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
    if ports:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]} for p in ports
        ])
    return group_id


def launch_public(ec2, subnet: str, *groups: str) -> str:
    return launch(ec2, NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": True,
                                           "Groups": list(groups)}])


def test_public_instance_with_open_admin_port_fails_with_the_facts(audit, ec2):
    vpc, private = private_vpc(ec2)
    subnet, table, igw = public_subnet(ec2, vpc)
    ssh = group(ec2, vpc, "ssh", 22, 443)
    exposed = launch_public(ec2, subnet, ssh)
    web = launch_public(ec2, subnet, group(ec2, vpc, "web", 80, 443))  # authorized ports only
    hidden = launch(ec2, SubnetId=private, SecurityGroupIds=[ssh])  # open rule, but no route and no address
    run = audit(EXPOSED)
    assert statuses(run) == {exposed: "FAIL", web: "PASS", hidden: "PASS"}
    finding = finding_for(run, exposed)
    evidence = finding.evidence
    assert evidence["subnet"]["tier"] == "public"
    assert evidence["subnet"]["route_table_id"] == table
    assert evidence["subnet"]["default_routes"] == [{"destination": "0.0.0.0/0", "target": igw, "state": "active"}]
    assert [(r["group_id"], r["from_port"]) for r in evidence["unauthorized_rules"]] == [(ssh, 22)]
    assert {r["from_port"] for r in evidence["internet_rules"]} == {22, 443}
    assert evidence["public_ip"] and evidence["public_ip"] in finding.message
    assert "port 22" in finding.message and subnet in finding.message
    assert "authorized ports only" in finding_for(run, web).message
    assert finding_for(run, hidden).evidence["subnet"]["tier"] == "isolated"
    assert finding_for(run, hidden).message == f"EC2 instance {hidden} is in an isolated subnet and has no public IP."


def test_internet_exposure_follows_authorized_ports(audit, ec2):
    vpc, _ = private_vpc(ec2)
    subnet, _, _ = public_subnet(ec2, vpc)
    instance = launch_public(ec2, subnet, group(ec2, vpc, "alt-web", 8443))
    assert statuses(audit(EXPOSED)) == {instance: "FAIL"}
    run = audit(EXPOSED, params={"network.authorized_public_ports": [8443]})
    assert statuses(run) == {instance: "PASS"}


def test_internet_exposure_denied_network_read_is_error(audit, ec2, faults):
    launch(ec2)
    faults.deny("ec2", "DescribeRouteTables")
    run = audit(EXPOSED)
    assert {f.status for f in run.findings} == {Status.ERROR}
    assert run.findings[0].evidence["iam_action"] == "ec2:DescribeRouteTables"
