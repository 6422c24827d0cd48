from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from auditor import Status
from checks.cloudtrail.resources import management_events_of, s3_data_events_of

from ..conftest import ACCOUNT, BOTO, statuses

LOGGING = "cloudtrail_multi_region_trail_logging"
VALIDATION = "cloudtrail_trail_log_file_validation_enabled"
KMS = "cloudtrail_trail_kms_encrypted"
TWO_REGIONS = ("us-east-1", "eu-west-1")
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def make_trail(aws, name: str, region: str = "us-east-1", *, logging: bool = True, **options: Any) -> str:
    bucket = f"{name}-logs"
    s3 = aws.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    cloudtrail = aws.client("cloudtrail", region_name=region)
    arn = cloudtrail.create_trail(Name=name, S3BucketName=bucket, **options)["TrailARN"]
    if logging:
        cloudtrail.start_logging(Name=name)
    return arn


@pytest.fixture
def hooks(aws) -> Iterator[Callable[[str, Any], None]]:
    """Register botocore handlers on the shared session for one test (moto shapes, region-specific faults)."""
    registered: list[tuple[str, Any]] = []

    def register(event: str, handler: Any) -> None:
        BOTO.events.register_first(event, handler)
        registered.append((event, handler))

    yield register
    for event, handler in registered:
        BOTO.events.unregister(event, handler)


def deny_in(region: str, operation: str) -> Any:
    from botocore.awsrequest import AWSResponse

    def handler(context: dict[str, Any], **_: Any) -> Any:
        if context.get("client_region") != region:
            return None
        body = {"Error": {"Code": "AccessDenied", "Message": "simulated"}, "ResponseMetadata": {}}
        return AWSResponse("https://simulated", 403, {}, None), body

    return handler


# -- region-level logging --------------------------------------------------------------------------------------
def test_no_trail_fails_every_region(audit):
    run = audit(LOGGING, regions=TWO_REGIONS)
    assert {f.region: (f.status, f.resource.id) for f in run.findings} == {
        "us-east-1": (Status.FAIL, ACCOUNT),
        "eu-west-1": (Status.FAIL, ACCOUNT),
    }
    assert all("No CloudTrail trail applies" in f.message for f in run.findings)


def test_trail_that_is_not_logging_fails(audit, aws):
    make_trail(aws, "stopped", logging=False, IsMultiRegionTrail=True)
    run = audit(LOGGING)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert finding.evidence["trails"] == [
        {"name": "stopped", "home_region": "us-east-1", "multi_region": True, "logging": False}
    ]


def test_logging_multi_region_trail_passes_every_region(audit, aws):
    make_trail(aws, "org-audit", IsMultiRegionTrail=True)
    run = audit(LOGGING, regions=TWO_REGIONS)
    assert {f.region: f.status for f in run.findings} == {"us-east-1": Status.PASS, "eu-west-1": Status.PASS}
    for finding in run.findings:
        assert "org-audit" in finding.message
        assert finding.evidence["trails"][0]["management_events"] == "All"
    # The trail is read in its home region once, however many regions it covers.
    assert run.api_calls["cloudtrail:GetTrailStatus"] == 1


def test_single_region_trail_covers_only_its_home_region(audit, aws):
    make_trail(aws, "local", IsMultiRegionTrail=False)
    run = audit(LOGGING, regions=TWO_REGIONS)
    assert {f.region: f.status for f in run.findings} == {"us-east-1": Status.PASS, "eu-west-1": Status.FAIL}


def test_trail_without_write_management_events_fails(audit, aws, hooks):
    make_trail(aws, "reads-only", IsMultiRegionTrail=True)
    aws.client("cloudtrail").put_event_selectors(
        TrailName="reads-only",
        EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}],
    )

    def has_custom_selectors(parsed: dict[str, Any], **_: Any) -> None:  # moto always reports False
        for trail in parsed.get("trailList", []):
            trail["HasCustomEventSelectors"] = True

    hooks("after-call.cloudtrail.DescribeTrails", has_custom_selectors)
    run = audit(LOGGING)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert finding.evidence["trails"][0]["management_events"] == "ReadOnly"
    assert "cloudtrail:GetEventSelectors" in run.actions_used[LOGGING]


def test_denied_trail_status_is_error_naming_the_action(audit, aws, faults):
    make_trail(aws, "audit", IsMultiRegionTrail=True)
    faults.deny("cloudtrail", "GetTrailStatus")
    run = audit(LOGGING)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "cloudtrail:GetTrailStatus"
    assert finding.evidence["error_code"] == "AccessDenied"


def test_denied_describe_trails_is_error(audit, faults):
    faults.deny("cloudtrail", "DescribeTrails")
    run = audit(LOGGING, VALIDATION, KMS)
    assert {f.check_id for f in run.findings} == {LOGGING, VALIDATION, KMS}
    for finding in run.findings:
        assert finding.status is Status.ERROR
        assert finding.evidence["iam_action"] == "cloudtrail:DescribeTrails"
        assert finding.evidence["error_code"] == "AccessDenied"


# -- per-trail checks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", [VALIDATION, KMS])
def test_no_trails_no_findings(audit, check_id):
    run = audit(check_id, regions=TWO_REGIONS)
    assert run.findings == ()
    assert run.errors == ()


def test_trail_without_log_file_validation_fails(audit, aws):
    make_trail(aws, "plain")
    run = audit(VALIDATION)
    assert statuses(run) == {"plain": "FAIL"}
    assert run.findings[0].evidence["log_file_validation"] is False
    assert run.findings[0].resource.type == "AWS::CloudTrail::Trail"


def test_trail_with_log_file_validation_passes(audit, aws):
    make_trail(aws, "validated", EnableLogFileValidation=True)
    make_trail(aws, "plain")
    run = audit(VALIDATION)
    assert statuses(run) == {"validated": "PASS", "plain": "FAIL"}


def test_trail_without_kms_key_fails(audit, aws):
    make_trail(aws, "plain")
    run = audit(KMS)
    assert statuses(run) == {"plain": "FAIL"}
    assert run.findings[0].evidence["kms_key_id"] is None


def test_trail_with_kms_key_passes(audit, aws):
    make_trail(aws, "encrypted", KmsKeyId=KEY_ARN)
    run = audit(KMS)
    assert statuses(run) == {"encrypted": "PASS"}
    assert run.findings[0].evidence["kms_key_id"] == KEY_ARN


def test_multi_region_trail_is_reported_once_in_its_home_region(audit, aws):
    arn = make_trail(aws, "org-audit", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    make_trail(aws, "irish", region="eu-west-1")
    run = audit(VALIDATION, KMS, regions=TWO_REGIONS)
    rows = sorted((f.check_id, f.resource.id, f.region, f.status.value) for f in run.findings)
    assert rows == [
        (KMS, "irish", "eu-west-1", "FAIL"),
        (KMS, "org-audit", "us-east-1", "FAIL"),
        (VALIDATION, "irish", "eu-west-1", "FAIL"),
        (VALIDATION, "org-audit", "us-east-1", "PASS"),
    ]
    assert next(f for f in run.findings if f.resource.id == "org-audit").resource.arn == arn


def test_unreadable_region_is_error_and_other_trails_still_reported(audit, aws, hooks):
    make_trail(aws, "local")
    hooks("before-call.cloudtrail.DescribeTrails", deny_in("eu-west-1", "DescribeTrails"))
    run = audit(KMS, regions=TWO_REGIONS)
    assert sorted((f.resource.id, f.region, f.status.value) for f in run.findings) == [
        (ACCOUNT, "eu-west-1", "ERROR"),
        ("local", "us-east-1", "FAIL"),
    ]
    error = next(f for f in run.findings if f.status is Status.ERROR)
    assert error.evidence["iam_action"] == "cloudtrail:DescribeTrails"


# -- event selectors, in the shapes AWS returns ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "label"),
    [
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}, "All"),
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},
                             {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]}, "All"),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, "None"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]},
         "All"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                         {"Field": "readOnly", "Equals": ["false"]}]}]},
         "WriteOnly"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                         {"Field": "resources.type",
                                                          "Equals": ["AWS::S3::Object"]}]}]}, "None"),
        ({}, "None"),
    ],
)
def test_management_events_of_selectors(response, label):
    assert management_events_of(response).label == label


# -- at least one trail logging (account level) ----------------------------------------------------------------
ACCOUNT_TRAIL = "cloudtrail_account_trail_enabled"


def test_no_trail_fails_the_account(audit):
    run = audit(ACCOUNT_TRAIL, regions=TWO_REGIONS)
    [finding] = run.findings
    assert (finding.status, finding.resource.id, finding.region) == (Status.FAIL, ACCOUNT, "global")
    assert finding.evidence["trails"] == []


def test_trail_not_logging_fails_the_account(audit, aws):
    make_trail(aws, "stopped", logging=False)
    run = audit(ACCOUNT_TRAIL)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert finding.evidence["trails"] == [
        {"name": "stopped", "home_region": "us-east-1", "multi_region": False, "logging": False}]


def test_one_logging_trail_anywhere_passes_the_account(audit, aws):
    make_trail(aws, "stopped", logging=False)
    make_trail(aws, "irish", region="eu-west-1")
    run = audit(ACCOUNT_TRAIL, regions=TWO_REGIONS)
    [finding] = run.findings
    assert finding.status is Status.PASS
    assert "irish" in finding.message and "stopped" not in finding.message


def test_denied_status_with_no_logging_trail_proven_is_error(audit, aws, faults):
    make_trail(aws, "audit")
    faults.deny("cloudtrail", "GetTrailStatus")
    run = audit(ACCOUNT_TRAIL)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "cloudtrail:GetTrailStatus"


# -- CloudWatch Logs integration -------------------------------------------------------------------------------
CWL = "cloudtrail_trail_cloudwatch_logs_integrated"
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:cloudtrail:*"
LOGS_ROLE = "arn:aws:iam::123456789012:role/cloudtrail-logs"


def delivered_hours_ago(hours: float) -> Any:
    """GetTrailStatus as AWS answers for a trail with CloudWatch Logs: moto never sets the delivery time."""
    from datetime import datetime, timedelta, timezone

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        parsed["LatestCloudWatchLogsDeliveryTime"] = datetime.now(timezone.utc) - timedelta(hours=hours)

    return handler


def test_trail_without_log_group_fails(audit, aws):
    make_trail(aws, "plain")
    run = audit(CWL)
    assert statuses(run) == {"plain": "FAIL"}
    assert run.findings[0].evidence["log_group_arn"] is None
    assert "cloudtrail:GetTrailStatus" not in run.actions_used[CWL]


def test_log_group_that_never_received_events_fails(audit, aws):
    make_trail(aws, "wired", CloudWatchLogsLogGroupArn=LOG_GROUP, CloudWatchLogsRoleArn=LOGS_ROLE)
    run = audit(CWL)
    assert statuses(run) == {"wired": "FAIL"}
    assert "never delivered" in run.findings[0].message


def test_recent_delivery_passes(audit, aws, hooks):
    make_trail(aws, "wired", CloudWatchLogsLogGroupArn=LOG_GROUP, CloudWatchLogsRoleArn=LOGS_ROLE)
    make_trail(aws, "plain")
    hooks("after-call.cloudtrail.GetTrailStatus", delivered_hours_ago(1))
    run = audit(CWL)
    assert statuses(run) == {"wired": "PASS", "plain": "FAIL"}
    wired = next(f for f in run.findings if f.resource.id == "wired")
    assert wired.evidence["log_group_arn"] == LOG_GROUP
    assert wired.evidence["latest_delivery"] is not None


def test_stale_delivery_fails_unless_the_threshold_allows_it(audit, aws, hooks):
    make_trail(aws, "wired", CloudWatchLogsLogGroupArn=LOG_GROUP, CloudWatchLogsRoleArn=LOGS_ROLE)
    hooks("after-call.cloudtrail.GetTrailStatus", delivered_hours_ago(30))
    run = audit(CWL)
    assert statuses(run) == {"wired": "FAIL"}
    assert "more than 24 hours ago" in run.findings[0].message
    lenient = audit(CWL, params={"cloudtrail.cloudwatch_logs_delivery_max_age_hours": 48})
    assert statuses(lenient) == {"wired": "PASS"}


def test_denied_status_makes_only_that_trail_error(audit, aws, faults):
    make_trail(aws, "wired", CloudWatchLogsLogGroupArn=LOG_GROUP, CloudWatchLogsRoleArn=LOGS_ROLE)
    make_trail(aws, "plain")
    faults.deny("cloudtrail", "GetTrailStatus")
    run = audit(CWL)
    assert statuses(run) == {"wired": "ERROR", "plain": "FAIL"}


# -- the trail's bucket ----------------------------------------------------------------------------------------
PRIVATE = "cloudtrail_trail_bucket_private"
ACCESS_LOGGING = "cloudtrail_trail_bucket_access_logging_enabled"
PUBLIC_READ_POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", '
    '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::leaky-logs/*"}]}'
)


def test_private_bucket_passes(audit, aws):
    make_trail(aws, "private")
    run = audit(PRIVATE)
    assert statuses(run) == {"private": "PASS"}
    evidence = run.findings[0].evidence
    assert evidence["bucket"] == "private-logs" and evidence["bucket_in_account"] is True
    assert evidence["public_grants"] == []


def test_bucket_with_public_policy_fails(audit, aws):
    make_trail(aws, "leaky")
    aws.client("s3").put_bucket_policy(Bucket="leaky-logs", Policy=PUBLIC_READ_POLICY)
    run = audit(PRIVATE)
    assert statuses(run) == {"leaky": "FAIL"}
    assert run.findings[0].evidence["public_grants"] == ["bucket policy allows s3:GetObject to anyone"]


def test_bucket_with_public_acl_fails(audit, aws):
    make_trail(aws, "leaky")
    aws.client("s3").put_bucket_acl(Bucket="leaky-logs", ACL="public-read")
    run = audit(PRIVATE)
    assert statuses(run) == {"leaky": "FAIL"}
    assert run.findings[0].evidence["public_grants"] == ["ACL grants READ to AllUsers"]


def test_block_public_access_neutralises_public_grants(audit, aws):
    make_trail(aws, "leaky")
    s3 = aws.client("s3")
    s3.put_bucket_policy(Bucket="leaky-logs", Policy=PUBLIC_READ_POLICY)
    s3.put_bucket_acl(Bucket="leaky-logs", ACL="public-read")
    s3.put_public_access_block(Bucket="leaky-logs", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    run = audit(PRIVATE)
    assert statuses(run) == {"leaky": "PASS"}
    # What Block Public Access neutralises is not read.
    assert not {"s3:GetBucketPolicy", "s3:GetBucketAcl"} & run.actions_used[PRIVATE]


def test_bucket_of_another_account_is_read_and_a_denied_read_is_error(audit, aws, hooks, faults):
    make_trail(aws, "central")

    def not_listed(parsed: dict[str, Any], **_: Any) -> None:  # the bucket belongs to a log-archive account
        parsed["Buckets"] = [b for b in parsed.get("Buckets", []) if b["Name"] != "central-logs"]

    hooks("after-call.s3.ListBuckets", not_listed)
    readable = audit(PRIVATE)
    assert statuses(readable) == {"central": "PASS"}
    assert readable.findings[0].evidence["bucket_in_account"] is False
    assert "s3:GetAccountPublicAccessBlock" not in readable.actions_used[PRIVATE]
    faults.deny("s3", "GetBucketLocation")
    denied = audit(PRIVATE)
    [finding] = denied.findings
    assert (finding.status, finding.resource.id) == (Status.ERROR, "central")
    assert finding.evidence["iam_action"] == "s3:GetBucketLocation"


def test_denied_bucket_policy_read_is_error_naming_the_action(audit, aws, faults):
    make_trail(aws, "audit")
    faults.deny("s3", "GetBucketPolicy")
    run = audit(PRIVATE)
    [finding] = run.findings
    assert (finding.status, finding.resource.id) == (Status.ERROR, "audit")
    assert finding.evidence["iam_action"] == "s3:GetBucketPolicy"


def test_bucket_without_access_logging_fails(audit, aws):
    make_trail(aws, "quiet")
    run = audit(ACCESS_LOGGING)
    assert statuses(run) == {"quiet": "FAIL"}
    assert run.findings[0].evidence["access_log_bucket"] is None


def test_bucket_with_access_logging_passes(audit, aws):
    make_trail(aws, "logged")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="access-logs")
    s3.put_bucket_acl(Bucket="access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket="logged-logs", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "cloudtrail/"}})
    run = audit(ACCESS_LOGGING)
    assert statuses(run) == {"logged": "PASS"}
    assert run.findings[0].evidence["access_log_bucket"] == "access-logs"


@pytest.mark.parametrize("check_id", [CWL, PRIVATE, ACCESS_LOGGING])
def test_no_trails_no_findings_for_new_trail_checks(audit, check_id):
    run = audit(check_id)
    assert run.findings == ()
    assert run.errors == ()


# -- S3 object-level logging (data events) ---------------------------------------------------------------------
WRITES = "cloudtrail_s3_write_data_events_logged"
READS = "cloudtrail_s3_read_data_events_logged"
ALL_S3_ADVANCED = [
    {"Name": "Management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
    {"Name": "S3", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                      {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]},
]


def test_no_trail_fails_both_data_event_checks(audit):
    run = audit(WRITES, READS)
    assert {(f.check_id, f.status, f.resource.id) for f in run.findings} == {
        (WRITES, Status.FAIL, ACCOUNT), (READS, Status.FAIL, ACCOUNT)}


def test_write_only_selector_for_all_buckets_passes_writes_only(audit, aws):
    make_trail(aws, "objects", IsMultiRegionTrail=True)
    aws.client("cloudtrail").put_event_selectors(TrailName="objects", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    run = audit(WRITES, READS)
    assert {f.check_id: f.status.value for f in run.findings} == {WRITES: "PASS", READS: "FAIL"}
    read = next(f for f in run.findings if f.check_id == READS)
    assert read.evidence["trails"][0]["s3_data_events"] == "WriteOnly"


def test_advanced_selector_for_all_buckets_passes_both(audit, aws):
    make_trail(aws, "objects", IsMultiRegionTrail=True)
    aws.client("cloudtrail").put_event_selectors(TrailName="objects", AdvancedEventSelectors=ALL_S3_ADVANCED)
    run = audit(WRITES, READS)
    assert {f.check_id: f.status.value for f in run.findings} == {WRITES: "PASS", READS: "PASS"}
    assert all("objects" in f.message for f in run.findings)


@pytest.mark.parametrize("multi_region, logging", [(False, True), (True, False)])
def test_trail_that_is_single_region_or_not_logging_fails(audit, aws, multi_region, logging):
    make_trail(aws, "objects", IsMultiRegionTrail=multi_region, logging=logging)
    aws.client("cloudtrail").put_event_selectors(TrailName="objects", AdvancedEventSelectors=ALL_S3_ADVANCED)
    run = audit(WRITES)
    assert [f.status for f in run.findings] == [Status.FAIL]


def test_denied_event_selectors_is_error(audit, aws, faults):
    make_trail(aws, "objects", IsMultiRegionTrail=True)
    faults.deny("cloudtrail", "GetEventSelectors")
    run = audit(WRITES)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "cloudtrail:GetEventSelectors"


@pytest.mark.parametrize(
    ("response", "label"),
    [
        ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::"]}]}]}, "All"),
        ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::one-bucket/"]}]}]}, "None"),
        ({"EventSelectors": [{"ReadWriteType": "ReadOnly", "DataResources": [
            {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]}, "None"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "readOnly", "Equals": ["true"]}]}]}, "ReadOnly"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::"]}]}]}, "All"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::one-bucket/"]}]}]}, "None"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "eventName", "Equals": ["PutObject"]}]}]}, "None"),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}]}]}, "None"),
    ],
)
def test_s3_data_events_of_selectors(response, label):
    assert s3_data_events_of(response).label == label
