from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from auditor import Status
from checks.guardduty.resources import features_of

from ..conftest import ACCOUNT, BOTO, statuses

DETECTOR = "guardduty_detector_enabled"
# check id -> the Features entry that turns its protection plan on.
PLANS: dict[str, dict[str, Any]] = {
    "guardduty_eks_audit_logs_enabled": {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"},
    "guardduty_lambda_protection_enabled": {"Name": "LAMBDA_NETWORK_LOGS", "Status": "ENABLED"},
    "guardduty_eks_runtime_monitoring_enabled": {
        "Name": "RUNTIME_MONITORING", "Status": "ENABLED",
        "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"}]},
    "guardduty_ec2_malware_protection_enabled": {"Name": "EBS_MALWARE_PROTECTION", "Status": "ENABLED"},
    "guardduty_rds_protection_enabled": {"Name": "RDS_LOGIN_EVENTS", "Status": "ENABLED"},
    "guardduty_s3_protection_enabled": {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
    "guardduty_runtime_monitoring_enabled": {"Name": "RUNTIME_MONITORING", "Status": "ENABLED"},
    "guardduty_ecs_runtime_monitoring_enabled": {
        "Name": "RUNTIME_MONITORING", "Status": "ENABLED",
        "AdditionalConfiguration": [{"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"}]},
    "guardduty_ec2_runtime_monitoring_enabled": {
        "Name": "RUNTIME_MONITORING", "Status": "ENABLED",
        "AdditionalConfiguration": [{"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]},
}

# GetDetector as AWS answers it today (recorded shape, values chosen per test): every feature listed, the older
# DataSources structure alongside. moto returns only the features a detector was created with.
RECORDED_DETECTOR: dict[str, Any] = {
    "Status": "ENABLED",
    "ServiceRole": "arn:aws:iam::123456789012:role/aws-service-role/guardduty.amazonaws.com/"
                   "AWSServiceRoleForAmazonGuardDuty",
    "FindingPublishingFrequency": "SIX_HOURS",
    "DataSources": {
        "CloudTrail": {"Status": "ENABLED"},
        "DNSLogs": {"Status": "ENABLED"},
        "FlowLogs": {"Status": "ENABLED"},
        "S3Logs": {"Status": "ENABLED"},
        "Kubernetes": {"AuditLogs": {"Status": "DISABLED"}},
        "MalwareProtection": {"ScanEc2InstanceWithFindings": {"EbsVolumes": {"Status": "ENABLED"}},
                              "ServiceRole": "arn:aws:iam::123456789012:role/aws-service-role/"
                                             "malware-protection.guardduty.amazonaws.com/"
                                             "AWSServiceRoleForAmazonGuardDutyMalwareProtection"},
    },
    "Features": [
        {"Name": "CLOUD_TRAIL", "Status": "ENABLED"},
        {"Name": "DNS_LOGS", "Status": "ENABLED"},
        {"Name": "FLOW_LOGS", "Status": "ENABLED"},
        {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
        {"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED"},
        {"Name": "EBS_MALWARE_PROTECTION", "Status": "ENABLED"},
        {"Name": "RDS_LOGIN_EVENTS", "Status": "ENABLED"},
        {"Name": "EKS_RUNTIME_MONITORING", "Status": "DISABLED",
         "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "DISABLED"}]},
        {"Name": "LAMBDA_NETWORK_LOGS", "Status": "DISABLED"},
        {"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
         "AdditionalConfiguration": [{"Name": "EKS_ADDON_MANAGEMENT", "Status": "ENABLED"},
                                     {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "DISABLED"},
                                     {"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]},
    ],
}


@pytest.fixture
def hooks(aws) -> Iterator[Callable[[str, Any], None]]:
    registered: list[tuple[str, Any]] = []

    def register(event: str, handler: Any) -> None:
        BOTO.events.register_first(event, handler)
        registered.append((event, handler))

    yield register
    for event, handler in registered:
        BOTO.events.unregister(event, handler)


# -- detector ---------------------------------------------------------------------------------------------------
def test_fails_when_no_detector(audit):
    run = audit(DETECTOR)
    assert [(f.status, f.resource.id, f.region) for f in run.findings] == [(Status.FAIL, ACCOUNT, "us-east-1")]
    assert "no detector" in run.findings[0].message


def test_fails_when_detector_disabled(audit, aws):
    aws.client("guardduty").create_detector(Enable=False)
    run = audit(DETECTOR)
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert run.findings[0].evidence["detectors"][0]["status"] == "DISABLED"


def test_passes_with_enabled_detector(audit, aws):
    detector = aws.client("guardduty").create_detector(Enable=True)["DetectorId"]
    run = audit(DETECTOR)
    assert statuses(run) == {detector: "PASS"}


def test_reports_each_region_separately(audit, aws):
    aws.client("guardduty", region_name="us-east-1").create_detector(Enable=True)
    run = audit(DETECTOR, regions=("us-east-1", "eu-west-1"))
    assert {f.region: f.status.value for f in run.findings} == {"us-east-1": "PASS", "eu-west-1": "FAIL"}


def test_denied_read_is_error_naming_the_action(audit, faults):
    faults.deny("guardduty", "ListDetectors")
    run = audit(DETECTOR)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "guardduty:ListDetectors"
    assert finding.evidence["error_code"] == "AccessDenied"


# -- protection plans ---------------------------------------------------------------------------------------------
def test_plans_fail_without_a_detector(audit):
    run = audit(*PLANS)
    assert {f.check_id: (f.status, f.resource.id) for f in run.findings} == {
        check_id: (Status.FAIL, ACCOUNT) for check_id in PLANS}
    assert all("no enabled detector" in f.message for f in run.findings)


def test_plans_fail_on_a_disabled_detector_even_with_features_on(audit, aws):
    aws.client("guardduty").create_detector(Enable=False, Features=list(PLANS.values()))
    run = audit(*PLANS)
    assert {f.status for f in run.findings} == {Status.FAIL}
    assert {f.resource.id for f in run.findings} == {ACCOUNT}


@pytest.mark.parametrize("check_id", sorted(PLANS))
def test_plan_passes_when_its_feature_is_enabled(audit, aws, check_id):
    others = [feature for cid, feature in PLANS.items() if feature["Name"] != PLANS[check_id]["Name"]]
    detector = aws.client("guardduty").create_detector(Enable=True, Features=[PLANS[check_id], *others])["DetectorId"]
    run = audit(*PLANS)
    outcome = {f.check_id: f.status for f in run.findings}
    assert outcome[check_id] is Status.PASS
    mine = next(f for f in run.findings if f.check_id == check_id)
    assert mine.resource.id == detector and mine.resource.type == "AWS::GuardDuty::Detector"
    assert mine.evidence["features"][PLANS[check_id]["Name"]] == "ENABLED"


def test_plan_fails_when_its_feature_is_disabled(audit, aws):
    detector = aws.client("guardduty").create_detector(
        Enable=True, Features=[{"Name": "S3_DATA_EVENTS", "Status": "DISABLED"}])["DetectorId"]
    run = audit("guardduty_s3_protection_enabled", "guardduty_rds_protection_enabled")
    assert {(f.check_id, f.resource.id, f.status) for f in run.findings} == {
        ("guardduty_s3_protection_enabled", detector, Status.FAIL),
        ("guardduty_rds_protection_enabled", detector, Status.FAIL),
    }
    s3 = next(f for f in run.findings if f.check_id == "guardduty_s3_protection_enabled")
    assert s3.evidence == {"features": {"S3_DATA_EVENTS": "DISABLED"}}
    rds = next(f for f in run.findings if f.check_id == "guardduty_rds_protection_enabled")
    assert rds.evidence == {"features": None}  # not mentioned at all


def test_runtime_monitoring_without_agent_management_fails_the_agent_checks(audit, aws):
    aws.client("guardduty").create_detector(Enable=True, Features=[{"Name": "RUNTIME_MONITORING", "Status": "ENABLED"}])
    run = audit("guardduty_runtime_monitoring_enabled", "guardduty_ecs_runtime_monitoring_enabled",
                "guardduty_ec2_runtime_monitoring_enabled", "guardduty_eks_runtime_monitoring_enabled")
    assert {f.check_id: f.status.value for f in run.findings} == {
        "guardduty_runtime_monitoring_enabled": "PASS",
        "guardduty_ecs_runtime_monitoring_enabled": "FAIL",
        "guardduty_ec2_runtime_monitoring_enabled": "FAIL",
        "guardduty_eks_runtime_monitoring_enabled": "FAIL",
    }
    ecs = next(f for f in run.findings if f.check_id == "guardduty_ecs_runtime_monitoring_enabled")
    assert ecs.evidence["agent_management"] == {"RUNTIME_MONITORING": None}


def test_legacy_data_sources_are_read_when_features_are_absent(audit, aws):
    # moto keeps DataSources from CreateDetector but reports an empty Features list.
    aws.client("guardduty").create_detector(Enable=True, DataSources={"S3Logs": {"Enable": True}})
    run = audit("guardduty_s3_protection_enabled", "guardduty_eks_audit_logs_enabled")
    assert {f.check_id: f.status.value for f in run.findings} == {
        "guardduty_s3_protection_enabled": "PASS",
        "guardduty_eks_audit_logs_enabled": "FAIL",
    }


def test_recorded_aws_response_shape(audit, aws, hooks):
    """AWS lists every feature (with agent settings) and the DataSources alongside; moto cannot return this."""
    detector = aws.client("guardduty").create_detector(Enable=True)["DetectorId"]

    def recorded(parsed: dict[str, Any], **_: Any) -> None:
        parsed.update(RECORDED_DETECTOR)

    hooks("after-call.guardduty.GetDetector", recorded)
    run = audit(*PLANS)
    assert {f.check_id: f.status.value for f in run.findings} == {
        "guardduty_eks_audit_logs_enabled": "FAIL",
        "guardduty_lambda_protection_enabled": "FAIL",
        "guardduty_eks_runtime_monitoring_enabled": "PASS",  # through RUNTIME_MONITORING's EKS add-on management
        "guardduty_ec2_malware_protection_enabled": "PASS",
        "guardduty_rds_protection_enabled": "PASS",
        "guardduty_s3_protection_enabled": "PASS",
        "guardduty_runtime_monitoring_enabled": "PASS",
        "guardduty_ecs_runtime_monitoring_enabled": "FAIL",
        "guardduty_ec2_runtime_monitoring_enabled": "PASS",
    }
    assert {f.resource.id for f in run.findings} == {detector}


def test_features_win_over_data_sources():
    detail = {"Features": [{"Name": "S3_DATA_EVENTS", "Status": "DISABLED"}],
              "DataSources": {"S3Logs": {"Status": "ENABLED"}, "Kubernetes": {"AuditLogs": {"Status": "ENABLED"}}}}
    found = features_of(detail)
    assert found["S3_DATA_EVENTS"].enabled is False
    assert found["EKS_AUDIT_LOGS"].enabled is True


def test_denied_get_detector_is_error_for_every_plan(audit, aws, faults):
    aws.client("guardduty").create_detector(Enable=True)
    faults.deny("guardduty", "GetDetector")
    run = audit(*PLANS)
    assert len(run.findings) == len(PLANS)
    for finding in run.findings:
        assert finding.status is Status.ERROR
        assert finding.evidence["iam_action"] == "guardduty:GetDetector"
