"""Access points, Multi-Region Access Points and directory buckets."""
from typing import Any, Iterator

import pytest

from auditor import Status

from ..conftest import ACCOUNT, BOTO, statuses
from .test_s3 import ALL_ON, make_bucket

ALL_OFF = dict.fromkeys(ALL_ON, False)


# -- s3_access_point_public_access_blocked --------------------------------------------------------------------------
def test_access_points_per_access_point(audit, aws):
    make_bucket(aws, "data-bucket")
    control = aws.client("s3control")
    control.create_access_point(AccountId=ACCOUNT, Name="locked-ap", Bucket="data-bucket")  # all four on by default
    control.create_access_point(AccountId=ACCOUNT, Name="open-ap", Bucket="data-bucket",
                                PublicAccessBlockConfiguration={**ALL_OFF, "BlockPublicPolicy": True})
    run = audit("s3_access_point_public_access_blocked")
    assert statuses(run) == {"locked-ap": "PASS", "open-ap": "FAIL"}
    found = {f.resource.id: f for f in run.findings}
    assert found["locked-ap"].evidence == {"bucket": "data-bucket", "network_origin": "Internet", "settings": ALL_ON}
    assert found["open-ap"].evidence["missing"] == ["BlockPublicAcls", "IgnorePublicAcls", "RestrictPublicBuckets"]
    assert found["open-ap"].resource.type == "AWS::S3::AccessPoint"
    assert found["open-ap"].resource.arn == f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/open-ap"
    assert found["open-ap"].region == "us-east-1"
    assert "open-ap" in found["open-ap"].message


def test_access_points_listed_over_several_pages(audit, aws):
    """Recorded responses: botocore has no paginator for ListAccessPoints and moto answers in one page, so two
    pages are replayed as AWS sends them; each access point is then read from moto."""
    from botocore.awsrequest import AWSResponse

    make_bucket(aws, "data-bucket")
    control = aws.client("s3control")
    entries = {}
    for name in ("first-ap", "second-ap"):
        control.create_access_point(AccountId=ACCOUNT, Name=name, Bucket="data-bucket")
        entries[name] = {"Name": name, "Bucket": "data-bucket", "NetworkOrigin": "Internet",
                         "AccessPointArn": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{name}"}
    pages = [{"AccessPointList": [entries["first-ap"]], "NextToken": "page-2"},
             {"AccessPointList": [entries["second-ap"]]}]

    def listed(**_: Any) -> Any:
        return AWSResponse("https://simulated", 200, {}, None), {**pages.pop(0), "ResponseMetadata": {}}

    BOTO.events.register_first("before-call.s3-control.ListAccessPoints", listed)
    try:
        run = audit("s3_access_point_public_access_blocked")
    finally:
        BOTO.events.unregister("before-call.s3-control.ListAccessPoints", listed)
    assert statuses(run) == {"first-ap": "PASS", "second-ap": "PASS"}
    assert pages == []


def test_access_points_none(audit, aws):
    make_bucket(aws, "data-bucket")
    assert audit("s3_access_point_public_access_blocked").findings == ()


def test_access_point_denied_read_is_error_for_it(audit, aws, faults):
    make_bucket(aws, "data-bucket")
    aws.client("s3control").create_access_point(AccountId=ACCOUNT, Name="some-ap", Bucket="data-bucket")
    faults.deny("s3control", "GetAccessPoint")
    [finding] = audit("s3_access_point_public_access_blocked").findings
    assert (finding.resource.id, finding.status) == ("some-ap", Status.ERROR)
    assert finding.evidence["iam_action"] == "s3:GetAccessPoint"


# -- s3_multi_region_access_point_public_access_blocked -------------------------------------------------------------
def test_multi_region_access_points(audit, aws):
    make_bucket(aws, "east-bucket")
    make_bucket(aws, "west-bucket", "us-west-2")
    control = aws.client("s3control", region_name="us-west-2")  # where AWS manages them
    for name, block in (("guarded-mrap", ALL_ON), ("open-mrap", {**ALL_OFF, "IgnorePublicAcls": True})):
        control.create_multi_region_access_point(AccountId=ACCOUNT, ClientToken=name, Details={
            "Name": name, "PublicAccessBlock": block,
            "Regions": [{"Bucket": "east-bucket"}, {"Bucket": "west-bucket"}]})
    run = audit("s3_multi_region_access_point_public_access_blocked")
    assert statuses(run) == {"guarded-mrap": "PASS", "open-mrap": "FAIL"}
    found = {f.resource.id: f for f in run.findings}
    assert found["open-mrap"].evidence["missing"] == ["BlockPublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
    assert found["guarded-mrap"].evidence["settings"] == ALL_ON
    assert found["open-mrap"].region == "global"
    assert found["open-mrap"].resource.arn.startswith(f"arn:aws:s3::{ACCOUNT}:accesspoint/")


def test_multi_region_access_points_none(audit, aws):
    make_bucket(aws, "east-bucket")
    run = audit("s3_multi_region_access_point_public_access_blocked")
    assert run.findings == ()
    assert any("ListMultiRegionAccessPoints" in call for call in run.api_calls)


def test_multi_region_access_points_denied(audit, aws, faults):
    faults.deny("s3control", "ListMultiRegionAccessPoints")
    [finding] = audit("s3_multi_region_access_point_public_access_blocked").findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "s3:ListMultiRegionAccessPoints"


# -- s3_directory_bucket_lifecycle_configured -----------------------------------------------------------------------
SCRATCH = "scratch--use1-az4--x-s3"
IDLE = "idle--use1-az4--x-s3"


@pytest.fixture
def directory_buckets(aws) -> Iterator[Any]:
    """Recorded responses: moto cannot create directory buckets (and lists general purpose buckets as directory
    buckets), so ListDirectoryBuckets and the buckets' lifecycle reads answer as AWS does."""
    from botocore.awsrequest import AWSResponse

    lifecycles: dict[str, Any] = {}

    def listed(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Buckets"] = parsed.get("Buckets", []) + [
            {"Name": name, "BucketRegion": "us-east-1",
             "BucketArn": f"arn:aws:s3express:us-east-1:{ACCOUNT}:bucket/{name}"} for name in lifecycles]

    def lifecycle(params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        name = (context.get("s3_redirect") or {}).get("bucket") or ""
        if name not in lifecycles:
            return None
        rules = lifecycles[name]
        if rules is None:
            return AWSResponse("https://simulated", 404, {}, None), {
                "Error": {"Code": "NoSuchLifecycleConfiguration", "Message": "none"}, "ResponseMetadata": {}}
        return AWSResponse("https://simulated", 200, {}, None), {"Rules": rules, "ResponseMetadata": {}}

    hooks = [("after-call.s3.ListDirectoryBuckets", listed),
             ("before-call.s3.GetBucketLifecycleConfiguration", lifecycle)]
    for event, handler in hooks:
        BOTO.events.register_first(event, handler)
    yield lifecycles
    for event, handler in hooks:
        BOTO.events.unregister(event, handler)


def test_directory_buckets_lifecycle(audit, aws, directory_buckets):
    directory_buckets[SCRATCH] = [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""},
                                   "Expiration": {"Days": 7}}]
    directory_buckets[IDLE] = None
    run = audit("s3_directory_bucket_lifecycle_configured")
    assert statuses(run) == {SCRATCH: "PASS", IDLE: "FAIL"}
    found = {f.resource.id: f for f in run.findings}
    assert found[SCRATCH].evidence == {"enabled_rules": ["expire"]}
    assert found[IDLE].evidence == {"enabled_rules": []}
    assert found[IDLE].resource.type == "AWS::S3Express::DirectoryBucket"
    assert found[IDLE].resource.arn == f"arn:aws:s3express:us-east-1:{ACCOUNT}:bucket/{IDLE}"


def test_directory_bucket_with_disabled_rule_fails(audit, aws, directory_buckets):
    directory_buckets[IDLE] = [{"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 7}}]
    [finding] = audit("s3_directory_bucket_lifecycle_configured").findings
    assert (finding.resource.id, finding.status) == (IDLE, Status.FAIL)


def test_general_purpose_buckets_are_not_directory_buckets(audit, aws):
    make_bucket(aws, "general-bucket")  # moto lists it from ListDirectoryBuckets too
    run = audit("s3_directory_bucket_lifecycle_configured")
    assert run.findings == ()
    assert run.actions_used["s3_directory_bucket_lifecycle_configured"] == {"s3express:ListAllMyDirectoryBuckets"}


def test_directory_buckets_denied(audit, aws, faults):
    faults.deny("s3", "ListDirectoryBuckets")
    [finding] = audit("s3_directory_bucket_lifecycle_configured").findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "s3express:ListAllMyDirectoryBuckets"
