from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from auditor import Status
from checks.cloudtrail.resources import management_events_of

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
