from typing import Any

from auditor import Status

from ..conftest import ACCOUNT, REGION, statuses

IMDS = "ec2_instance_imdsv2_required"
VOLUME = "ec2_ebs_volume_encrypted"
DEFAULT_ENCRYPTION = "ec2_ebs_default_encryption_enabled"


def launch(aws, name: str = "", **extra: Any) -> str:
    """One instance in the default VPC; returns its id."""
    if name:
        extra["TagSpecifications"] = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
    response = aws.client("ec2").run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, **extra)
    return response["Instances"][0]["InstanceId"]


def finding_for(run, resource_id: str):
    [finding] = [f for f in run.findings if f.resource.id == resource_id]
    return finding


# -- IMDSv2 --------------------------------------------------------------------------------------------------
def test_imds_fails_when_imdsv1_allowed(audit, aws):
    instance = launch(aws, name="web", MetadataOptions={"HttpTokens": "optional"})
    run = audit(IMDS)
    assert statuses(run) == {instance: "FAIL"}
    finding = run.findings[0]
    assert finding.evidence == {"imdsv2_required": False, "metadata_endpoint": "enabled", "state": "running"}
    assert instance in finding.message and "(web)" in finding.message and "IMDSv1" in finding.message
    assert finding.resource.type == "AWS::EC2::Instance"
    assert finding.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance}"
    assert finding.resource.name == "web"


def test_imds_passes_when_tokens_required_or_endpoint_disabled(audit, aws):
    required = launch(aws, MetadataOptions={"HttpTokens": "required"})
    disabled = launch(aws, MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "disabled"})
    run = audit(IMDS)
    assert statuses(run) == {required: "PASS", disabled: "PASS"}
    assert "requires IMDSv2" in finding_for(run, required).message
    assert finding_for(run, required).evidence["imdsv2_required"] is True
    assert "turned off" in finding_for(run, disabled).message
    assert finding_for(run, disabled).evidence["metadata_endpoint"] == "disabled"


def test_imds_ignores_terminated_instances(audit, aws):
    gone = launch(aws)
    aws.client("ec2").terminate_instances(InstanceIds=[gone])
    kept = launch(aws, MetadataOptions={"HttpTokens": "required"})
    run = audit(IMDS)
    assert statuses(run) == {kept: "PASS"}


def test_imds_reports_nothing_without_instances(audit):
    assert audit(IMDS).findings == ()


def test_imds_denied_read_is_error_naming_the_action(audit, aws, faults):
    launch(aws)
    faults.deny("ec2", "DescribeInstances")
    run = audit(IMDS)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ec2:DescribeInstances"
    assert finding.evidence["error_code"] == "AccessDenied"


# -- EBS volumes ---------------------------------------------------------------------------------------------
def test_volume_fails_when_unencrypted_attached_or_not(audit, aws):
    ec2 = aws.client("ec2")
    loose = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a", Encrypted=False)["VolumeId"]
    instance = launch(aws)  # its root volume is unencrypted
    [root] = [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"] if v["Attachments"]]
    run = audit(VOLUME)
    assert statuses(run) == {loose: "FAIL", root: "FAIL"}
    detached = finding_for(run, loose)
    assert detached.evidence["attachments"] == []
    assert detached.evidence["encrypted"] is False
    assert "not attached" in detached.message and loose in detached.message
    attached = finding_for(run, root)
    assert attached.evidence["attachments"] == [{"instance_id": instance, "device": "/dev/sda1"}]
    assert f"attached to {instance}" in attached.message
    assert attached.resource.type == "AWS::EC2::Volume"
    assert attached.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{root}"


def test_volume_passes_when_encrypted(audit, aws):
    created = aws.client("ec2").create_volume(
        Size=1, AvailabilityZone=f"{REGION}a", Encrypted=True,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "data"}]}],
    )
    run = audit(VOLUME)
    assert statuses(run) == {created["VolumeId"]: "PASS"}
    finding = run.findings[0]
    assert finding.evidence["kms_key_id"] == created["KmsKeyId"]
    assert finding.resource.name == "data"
    assert "is encrypted" in finding.message


def test_volume_reports_nothing_without_volumes(audit):
    assert audit(VOLUME).findings == ()


# -- EBS encryption by default -------------------------------------------------------------------------------
def test_default_encryption_fails_when_off(audit):
    run = audit(DEFAULT_ENCRYPTION)
    assert [(f.status, f.resource.id, f.region) for f in run.findings] == [(Status.FAIL, ACCOUNT, REGION)]
    assert run.findings[0].evidence == {"ebs_encryption_by_default": False}
    assert "disabled" in run.findings[0].message


def test_default_encryption_passes_when_on(audit, aws):
    aws.client("ec2").enable_ebs_encryption_by_default()
    run = audit(DEFAULT_ENCRYPTION)
    assert [(f.status, f.resource.type) for f in run.findings] == [(Status.PASS, "AWS::::Account")]
    assert run.findings[0].evidence == {"ebs_encryption_by_default": True}


def test_default_encryption_reports_each_region(audit, aws):
    aws.client("ec2", region_name="eu-west-1").enable_ebs_encryption_by_default()
    run = audit(DEFAULT_ENCRYPTION, regions=(REGION, "eu-west-1"))
    assert {f.region: f.status.value for f in run.findings} == {REGION: "FAIL", "eu-west-1": "PASS"}


def test_default_encryption_denied_read_is_error_not_fail(audit, faults):
    faults.deny("ec2", "GetEbsEncryptionByDefault", code="UnauthorizedOperation")
    run = audit(DEFAULT_ENCRYPTION)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "ec2:GetEbsEncryptionByDefault"
    assert finding.evidence["error_code"] == "UnauthorizedOperation"
    assert "ec2:GetEbsEncryptionByDefault" in finding.message
