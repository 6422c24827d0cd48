from freezegun import freeze_time

from auditor import Status

from ..conftest import REGION, statuses

ATTACHED = "ec2_ebs_volume_attached"
GP3 = "ec2_ebs_volume_gp3_type"
SNAPSHOT = "ec2_ebs_snapshot_not_stale"
GENERATION = "ec2_instance_current_generation"


def volume(aws, size: int = 100, volume_type: str = "gp2", region: str = REGION) -> str:
    return aws.client("ec2", region_name=region).create_volume(
        Size=size, AvailabilityZone=f"{region}a", VolumeType=volume_type)["VolumeId"]


def launch(aws, instance_type: str) -> str:
    return aws.client("ec2").run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                           InstanceType=instance_type)["Instances"][0]["InstanceId"]


def one(run, resource_id: str):
    [finding] = [f for f in run.findings if f.resource.id == resource_id]
    return finding


# -- unattached volumes --------------------------------------------------------------------------------------
def test_unattached_volume_fails_with_its_monthly_cost(audit, aws):
    loose = volume(aws, 100, "gp2")
    instance = launch(aws, "t3.micro")
    run = audit(ATTACHED)
    [root] = [f.resource.id for f in run.findings if f.resource.id != loose]
    assert statuses(run) == {loose: "FAIL", root: "PASS"}
    finding = one(run, loose)
    assert finding.evidence["estimated_monthly_cost_usd"] == 10.0  # 100 GB x $0.10 gp2 in us-east-1
    assert "us-east-1" in finding.evidence["price_basis"]
    assert "about $10.00 a month" in finding.message and loose in finding.message
    assert instance in one(run, root).message


def test_unpriced_type_is_unknown_not_borrowed(audit, aws):
    """The table has no price for 'standard' (magnetic) volumes: the estimate says unknown, never a gp2 price."""
    loose = volume(aws, 100, "standard")
    finding = one(audit(ATTACHED), loose)
    assert finding.status is Status.FAIL
    assert finding.evidence["estimated_monthly_cost_usd"] == "unknown"
    assert "unknown amount" in finding.message


def test_region_without_prices_is_unknown_not_borrowed(audit, aws):
    """gp2 is priced in us-east-1 but the table lists no prices for ap-southeast-1: unknown, never us-east-1's."""
    region = "ap-southeast-1"
    loose = volume(aws, 100, "gp2", region=region)
    run = audit(ATTACHED, GP3, regions=(region,))
    assert {f.check_id: f.status for f in run.findings if f.resource.id == loose} == {ATTACHED: Status.FAIL,
                                                                                     GP3: Status.FAIL}
    for finding in run.findings:
        evidence = finding.evidence
        assert "unknown" in (evidence.get("estimated_monthly_cost_usd"), evidence.get("estimated_monthly_saving_usd"))
        assert region in evidence["price_basis"] and "us-east-1" not in evidence["price_basis"]


def test_no_volumes_no_findings(audit):
    assert audit(ATTACHED, GP3).findings == ()


# -- gp2 -> gp3 ----------------------------------------------------------------------------------------------
def test_gp2_volume_fails_with_saving_gp3_passes(audit, aws):
    old = volume(aws, 100, "gp2")
    new = volume(aws, 100, "gp3")
    big = volume(aws, 2000, "gp2")
    run = audit(GP3)
    assert statuses(run) == {old: "FAIL", new: "PASS", big: "FAIL"}
    assert one(run, old).evidence["estimated_monthly_saving_usd"] == 2.0  # 100 x (0.10 - 0.08)
    # 2,000 GiB of gp2 has 6,000 baseline IOPS: 3,000 extra gp3 IOPS x $0.005 are netted out.
    assert one(run, big).evidence["estimated_monthly_saving_usd"] == 25.0
    assert "IOPS" in one(run, big).evidence["price_basis"]
    assert "save about $2.00 a month" in one(run, old).message


# -- stale snapshots -----------------------------------------------------------------------------------------
def test_old_snapshot_without_ami_fails_recent_and_ami_backed_pass(audit, aws):
    ec2 = aws.client("ec2")
    source = volume(aws, 40, "gp3")
    with freeze_time("2023-01-10"):
        stale = ec2.create_snapshot(VolumeId=source)["SnapshotId"]
        # moto ignores the mappings given and makes the image a root snapshot of its own: that one backs it.
        ec2.register_image(Name="app", RootDeviceName="/dev/xvda")
    [image] = ec2.describe_images(Owners=["self"])["Images"]
    backing = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    fresh = ec2.create_snapshot(VolumeId=source)["SnapshotId"]
    run = audit(SNAPSHOT)
    assert statuses(run) == {stale: "FAIL", backing: "PASS", fresh: "PASS"}
    failed = one(run, stale)
    assert failed.evidence["age_days"] > 365 and failed.evidence["used_by_ami"] is None
    assert failed.evidence["estimated_monthly_cost_upper_bound_usd"] == 2.0  # 40 GB x $0.05
    assert "backs AMI" in one(run, backing).message


def test_snapshot_age_threshold_is_a_parameter(audit, aws):
    ec2 = aws.client("ec2")
    source = volume(aws, 10, "gp3")
    with freeze_time("2023-01-10"):
        snap = ec2.create_snapshot(VolumeId=source)["SnapshotId"]
    assert statuses(audit(SNAPSHOT, params={"cost.snapshot_max_age_days": 100000})) == {snap: "PASS"}


def test_no_snapshots_no_findings(audit):
    assert audit(SNAPSHOT).findings == ()


def test_denied_images_read_is_error_for_each_snapshot(audit, aws, faults):
    aws.client("ec2").create_snapshot(VolumeId=volume(aws, 10, "gp3"))
    faults.deny("ec2", "DescribeImages")
    [finding] = audit(SNAPSHOT).findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "ec2:DescribeImages"


# -- previous generation -------------------------------------------------------------------------------------
def test_previous_generation_fails_with_cost_current_passes(audit, aws):
    old = launch(aws, "m4.large")
    unpriced = launch(aws, "m3.medium")
    current = launch(aws, "m5.large")
    run = audit(GENERATION)
    assert statuses(run) == {old: "FAIL", unpriced: "FAIL", current: "PASS"}
    assert one(run, old).evidence["estimated_monthly_cost_when_running_usd"] == 73.0  # $0.10 x 730 h
    assert one(run, unpriced).evidence["estimated_monthly_cost_when_running_usd"] == "unknown"
    assert "m4.large" in one(run, old).message


def test_previous_generation_families_are_a_parameter(audit, aws):
    old = launch(aws, "m4.large")
    assert statuses(audit(GENERATION, params={"cost.previous_generation_families": ["t1"]})) == {old: "PASS"}


def test_no_instances_no_generation_findings(audit):
    assert audit(GENERATION).findings == ()
