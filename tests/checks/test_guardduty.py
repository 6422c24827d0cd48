from auditor import Status

from ..conftest import ACCOUNT, statuses


def test_fails_when_no_detector(audit):
    run = audit("guardduty_detector_enabled")
    assert [(f.status, f.resource.id, f.region) for f in run.findings] == [(Status.FAIL, ACCOUNT, "us-east-1")]
    assert "no detector" in run.findings[0].message


def test_fails_when_detector_disabled(audit, aws):
    aws.client("guardduty").create_detector(Enable=False)
    run = audit("guardduty_detector_enabled")
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert run.findings[0].evidence["detectors"][0]["status"] == "DISABLED"


def test_passes_with_enabled_detector(audit, aws):
    detector = aws.client("guardduty").create_detector(Enable=True)["DetectorId"]
    run = audit("guardduty_detector_enabled")
    assert statuses(run) == {detector: "PASS"}


def test_reports_each_region_separately(audit, aws):
    aws.client("guardduty", region_name="us-east-1").create_detector(Enable=True)
    run = audit("guardduty_detector_enabled", regions=("us-east-1", "eu-west-1"))
    assert {f.region: f.status.value for f in run.findings} == {"us-east-1": "PASS", "eu-west-1": "FAIL"}


def test_denied_read_is_error_naming_the_action(audit, faults):
    faults.deny("guardduty", "ListDetectors")
    run = audit("guardduty_detector_enabled")
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "guardduty:ListDetectors"
    assert finding.evidence["error_code"] == "AccessDenied"
