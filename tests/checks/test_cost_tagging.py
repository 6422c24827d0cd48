from auditor import Status

from ..conftest import ACCOUNT, REGION, statuses

CHECK = "tagging_resource_cost_allocation_tags_present"
FULL = {"Project": "acme", "Environment": "prod", "ManagedBy": "terraform", "Owner": "platform", "CostCenter": "CC-1"}


def volume(aws, tags: dict[str, str]) -> str:
    spec = [{"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    return aws.client("ec2").create_volume(Size=1, AvailabilityZone=f"{REGION}a", TagSpecifications=spec)["VolumeId"]


def test_fails_per_resource_naming_the_missing_tags(audit, aws):
    partial = volume(aws, {"Name": "scratch", "Project": "acme", "Owner": "", "CostCenter": "CC-1"})
    run = audit(CHECK)
    assert statuses(run) == {partial: "FAIL"}
    [finding] = run.findings
    assert finding.evidence["missing_tags"] == ["Environment", "ManagedBy", "Owner"]  # empty Owner counts as missing
    assert finding.resource.type == "AWS::EC2::Volume"
    assert finding.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{partial}"
    assert finding.resource.name == "scratch"
    assert "Environment, ManagedBy, Owner" in finding.message and partial in finding.message


def test_passes_with_every_tag_and_honours_the_parameter(audit, aws):
    tagged = volume(aws, FULL)
    project_only = volume(aws, {"Project": "acme"})
    assert statuses(audit(CHECK)) == {tagged: "PASS", project_only: "FAIL"}
    assert statuses(audit(CHECK, params={"tagging.required_tags": ["Project"]})) == {tagged: "PASS",
                                                                                   project_only: "PASS"}


def test_s3_bucket_arn_maps_to_bucket_type(audit, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="acme-tagged-bucket")
    s3.put_bucket_tagging(Bucket="acme-tagged-bucket", Tagging={"TagSet": [{"Key": "Project", "Value": "acme"}]})
    [finding] = audit(CHECK).findings
    assert finding.resource.type == "AWS::S3::Bucket" and finding.resource.id == "acme-tagged-bucket"
    assert finding.status is Status.FAIL


def test_no_resources_no_findings(audit):
    assert audit(CHECK).findings == ()


def test_denied_read_is_error_naming_tag_action(audit, aws, faults):
    volume(aws, FULL)
    faults.deny("resourcegroupstaggingapi", "GetResources")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "tag:GetResources"


def test_bucket_listed_by_several_regions_is_reported_once(audit, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="acme-global-bucket")
    s3.put_bucket_tagging(Bucket="acme-global-bucket", Tagging={"TagSet": [{"Key": "Project", "Value": "acme"}]})
    run = audit(CHECK, regions=(REGION, "eu-west-1"))
    buckets = [f for f in run.findings if f.resource.type == "AWS::S3::Bucket"]
    assert [(f.resource.id, f.region) for f in buckets] == [("acme-global-bucket", REGION)]


def test_arn_shapes_map_to_types_and_ids():
    from checks.tagging.checks import cloudformation_type, split_arn

    cases = {
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vpc-flow-log/acme": ("logs", "log-group",
                                                                             "/aws/vpc-flow-log/acme"),
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:acme/prod/db-AbCdEf": ("secretsmanager", "secret",
                                                                                  "acme/prod/db-AbCdEf"),
        f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:rds:db-2026": ("rds", "snapshot", "rds:db-2026"),
        f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts": ("sns", "", "alerts"),
        "arn:aws:s3:::acme-data": ("s3", "", "acme-data"),
    }
    for arn, expected in cases.items():
        assert split_arn(arn) == expected
    assert cloudformation_type("logs", "log-group") == "AWS::Logs::LogGroup"
    assert cloudformation_type("sns", "") == "AWS::SNS::Topic"
    assert cloudformation_type("backup", "backup-vault") == "AWS::BACKUP::BackupVault"
