"""EBS snapshots, Elastic IPs, network interfaces, launch templates and spot fleet requests."""
from typing import Any, Callable, Iterator

import pytest

from auditor import Status

from ..conftest import ACCOUNT, BOTO, REGION, statuses

SNAPSHOT = "ec2_ebs_snapshot_not_public"
EIP = "ec2_elastic_ip_associated"
SOURCE_DEST = "ec2_network_interface_source_dest_check_enabled"
LT_PUBLIC_IP = "ec2_launch_template_no_public_ip"
LT_IMDS = "ec2_launch_template_imdsv2_required"
LT_EBS = "ec2_launch_template_ebs_encrypted"
SPOT_FLEET = "ec2_spot_fleet_ebs_encrypted"


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


def finding_for(run, resource_id: str):
    [finding] = [f for f in run.findings if f.resource.id == resource_id]
    return finding


def test_no_resources_no_findings(audit, ec2):
    for eni in ec2.describe_network_interfaces()["NetworkInterfaces"]:  # none exist without instances
        ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    run = audit(SNAPSHOT, EIP, SOURCE_DEST, LT_PUBLIC_IP, LT_IMDS, LT_EBS, SPOT_FLEET)
    assert run.findings == ()


# -- public snapshots (EC2.1) --------------------------------------------------------------------------------
def snapshot(ec2, name: str = "") -> str:
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    tags = [{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": name}]}] if name else []
    return ec2.create_snapshot(VolumeId=volume, TagSpecifications=tags)["SnapshotId"]


def test_public_snapshot_fails_and_private_or_shared_pass(audit, ec2):
    public, private, shared = snapshot(ec2, "db-dump"), snapshot(ec2), snapshot(ec2)
    ec2.modify_snapshot_attribute(SnapshotId=public, Attribute="createVolumePermission", OperationType="add",
                                  GroupNames=["all"])
    ec2.modify_snapshot_attribute(SnapshotId=shared, Attribute="createVolumePermission", OperationType="add",
                                  UserIds=["111122223333"])
    run = audit(SNAPSHOT)
    assert statuses(run) == {public: "FAIL", private: "PASS", shared: "PASS"}
    failed = finding_for(run, public)
    assert failed.evidence["public"] is True
    assert failed.message == f"EBS snapshot {public} (db-dump) can be restored by anyone."
    assert failed.resource.arn == f"arn:aws:ec2:{REGION}::snapshot/{public}"
    assert finding_for(run, shared).evidence["shared_with_accounts"] == ["111122223333"]


def test_snapshots_of_other_owners_are_ignored(audit, ec2, edit_response):
    """moto ignores OwnerIds=self and answers with every snapshot; AWS answers with the account's own only."""
    mine = snapshot(ec2)

    def add_public_amazon_snapshot(parsed: dict[str, Any]) -> None:
        parsed["Snapshots"].append({"SnapshotId": "snap-0amazon", "OwnerId": "801119661308", "VolumeId": "vol-1"})

    edit_response("DescribeSnapshots", add_public_amazon_snapshot)
    assert statuses(audit(SNAPSHOT)) == {mine: "PASS"}


def test_snapshot_permission_denied_errors_only_that_snapshot(audit, ec2, faults):
    target = snapshot(ec2)
    faults.deny("ec2", "DescribeSnapshotAttribute")
    [finding] = audit(SNAPSHOT).findings
    assert (finding.status, finding.resource.id) == (Status.ERROR, target)
    assert finding.evidence["iam_action"] == "ec2:DescribeSnapshotAttribute"


# -- Elastic IPs (EC2.12) and source/destination check (EC2.180) ---------------------------------------------
def test_unassociated_eip_fails_and_associated_passes(audit, ec2):
    idle = ec2.allocate_address(Domain="vpc")
    used = ec2.allocate_address(Domain="vpc")
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.associate_address(AllocationId=used["AllocationId"], InstanceId=instance)
    run = audit(EIP)
    assert statuses(run) == {idle["AllocationId"]: "FAIL", used["AllocationId"]: "PASS"}
    assert finding_for(run, idle["AllocationId"]).evidence["association_id"] is None
    # 0.005 USD an hour all month, from the shipped price table for us-east-1.
    assert finding_for(run, idle["AllocationId"]).evidence["estimated_monthly_cost_usd"] == 3.65
    assert idle["PublicIp"] in finding_for(run, idle["AllocationId"]).message
    assert finding_for(run, used["AllocationId"]).evidence["instance_id"] == instance
    assert finding_for(run, used["AllocationId"]).resource.type == "AWS::EC2::EIP"


def test_source_dest_check_disabled_fails(audit, ec2, edit_response):
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    checked = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    unchecked = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=unchecked, SourceDestCheck={"Value": False})
    managed = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]

    def mark_service_managed(parsed: dict[str, Any]) -> None:  # e.g. a NAT gateway's interface, in AWS's shape
        for eni in parsed["NetworkInterfaces"]:
            if eni["NetworkInterfaceId"] == managed:
                eni.update(InterfaceType="nat_gateway", RequesterManaged=True, SourceDestCheck=False)

    edit_response("DescribeNetworkInterfaces", mark_service_managed)
    run = audit(SOURCE_DEST)
    assert statuses(run) == {checked: "PASS", unchecked: "FAIL"}
    assert finding_for(run, unchecked).evidence["source_dest_check"] is False
    assert "disabled" in finding_for(run, unchecked).message


# -- launch templates (EC2.25, EC2.170, EC2.181) -------------------------------------------------------------
def template(ec2, name: str, data: dict[str, Any]) -> str:
    return ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)["LaunchTemplate"][
        "LaunchTemplateId"]


def test_launch_templates_judged_on_their_default_version(audit, ec2):
    good = template(ec2, "good", {
        "MetadataOptions": {"HttpTokens": "required"},
        "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": False}],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "VolumeSize": 8}}],
    })
    bad = template(ec2, "bad", {
        "MetadataOptions": {"HttpTokens": "optional"},
        "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": True}],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True}},
                                {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 50}}],
    })
    bare = template(ec2, "bare", {"InstanceType": "t3.small"})
    # A later, non-default version fixes "bad": the default version is what launches use.
    ec2.create_launch_template_version(LaunchTemplateId=bad, LaunchTemplateData={
        "MetadataOptions": {"HttpTokens": "required"}})
    run = audit(LT_PUBLIC_IP, LT_IMDS, LT_EBS)
    outcome = {(f.check_id, f.resource.id): f.status.value for f in run.findings}
    assert outcome == {
        (LT_PUBLIC_IP, good): "PASS", (LT_PUBLIC_IP, bad): "FAIL", (LT_PUBLIC_IP, bare): "PASS",
        (LT_IMDS, good): "PASS", (LT_IMDS, bad): "FAIL", (LT_IMDS, bare): "FAIL",
        (LT_EBS, good): "PASS", (LT_EBS, bad): "FAIL", (LT_EBS, bare): "PASS",
    }
    by_key = {(f.check_id, f.resource.id): f for f in run.findings}
    assert by_key[(LT_PUBLIC_IP, bad)].evidence == {"version": 1, "public_ip_device_indexes": [0]}
    assert "HttpTokens is optional" in by_key[(LT_IMDS, bad)].message
    assert "HttpTokens is not set" in by_key[(LT_IMDS, bare)].message
    assert by_key[(LT_EBS, bad)].evidence["volumes"] == [
        {"device": "/dev/xvda", "encrypted": True}, {"device": "/dev/sdf", "encrypted": None}]
    assert "/dev/sdf" in by_key[(LT_EBS, bad)].message
    assert "no EBS volume of its own" in by_key[(LT_EBS, bare)].message
    assert by_key[(LT_EBS, good)].resource.type == "AWS::EC2::LaunchTemplate"


def test_launch_template_version_denied_errors_each_template(audit, ec2, faults):
    first = template(ec2, "first", {"InstanceType": "t3.small"})
    faults.deny("ec2", "DescribeLaunchTemplateVersions")
    [finding] = audit(LT_IMDS).findings
    assert (finding.status, finding.resource.id) == (Status.ERROR, first)
    assert finding.evidence["iam_action"] == "ec2:DescribeLaunchTemplateVersions"


# -- spot fleets (EC2.173) -----------------------------------------------------------------------------------
def spot_fleet(ec2) -> str:
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    return ec2.request_spot_fleet(SpotFleetRequestConfig={
        "IamFleetRole": f"arn:aws:iam::{ACCOUNT}:role/fleet", "TargetCapacity": 1, "SpotPrice": "0.1",
        "AllocationStrategy": "lowestPrice",
        "LaunchSpecifications": [{"ImageId": "ami-12345678", "InstanceType": "t3.small", "SubnetId": subnet}],
    })["SpotFleetRequestId"]


def test_spot_fleet_without_ebs_encryption_fails(audit, ec2, edit_response):
    """moto drops BlockDeviceMappings from launch specifications; they are put back in AWS's shape."""
    encrypted, plain, unspecified = spot_fleet(ec2), spot_fleet(ec2), spot_fleet(ec2)
    mappings = {
        encrypted: [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "VolumeSize": 8}}],
        plain: [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": False, "VolumeSize": 8}},
                {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}],
    }

    def real_shape(parsed: dict[str, Any]) -> None:
        for request in parsed["SpotFleetRequestConfigs"]:
            for spec in request["SpotFleetRequestConfig"]["LaunchSpecifications"]:
                spec["BlockDeviceMappings"] = mappings.get(request["SpotFleetRequestId"], [])

    edit_response("DescribeSpotFleetRequests", real_shape)
    run = audit(SPOT_FLEET)
    assert statuses(run) == {encrypted: "PASS", plain: "FAIL", unspecified: "PASS"}
    assert finding_for(run, plain).evidence["volumes"] == [{"device": "/dev/xvda", "encrypted": False}]
    assert "/dev/xvda" in finding_for(run, plain).message
    assert finding_for(run, plain).resource.type == "AWS::EC2::SpotFleet"


def test_spot_fleet_from_launch_templates_or_cancelled_is_skipped(audit, ec2, edit_response):
    spot_fleet(ec2)

    def real_shapes(parsed: dict[str, Any]) -> None:
        [request] = parsed["SpotFleetRequestConfigs"]
        parsed["SpotFleetRequestConfigs"] = [
            {**request, "SpotFleetRequestId": "sfr-cancelled", "SpotFleetRequestState": "cancelled_terminating"},
            {**request, "SpotFleetRequestId": "sfr-templates", "SpotFleetRequestState": "active",
             "SpotFleetRequestConfig": {"LaunchTemplateConfigs": [{"LaunchTemplateSpecification": {
                 "LaunchTemplateId": "lt-1", "Version": "$Default"}}]}},
        ]

    edit_response("DescribeSpotFleetRequests", real_shapes)
    assert audit(SPOT_FLEET).findings == ()
