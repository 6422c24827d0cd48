"""ASFF (validated against botocore's own Security Hub input shape), OCSF, EMF metrics, Security Hub import."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from botocore.validate import ParamValidator

from auditor.models import Status
from reports.interchange import AsffReporter, MetricsReporter, OcsfReporter, asff_resource_type

from ..conftest import BOTO


def _validate_asff(findings):
    shape = BOTO._session.get_service_model("securityhub").operation_model("BatchImportFindings").input_shape  # noqa: SLF001
    report = ParamValidator().validate({"Findings": findings}, shape)
    assert not report.has_errors(), report.generate_report()


def test_asff_is_valid_batch_import_input(sample_run):
    findings = json.loads(AsffReporter().render(sample_run))
    _validate_asff(findings)
    by_id = {f["Id"]: f for f in findings}
    assert len(by_id) == len(sample_run.findings)
    first = findings[0]
    assert first["Compliance"]["Status"] == "FAILED" and first["Severity"]["Label"] == "HIGH"
    assert first["Resources"][0] == {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::bucket-one", "Partition": "aws",
                                     "Region": "us-east-1"}
    assert {f["Workflow"]["Status"] for f in findings} == {"NEW", "RESOLVED", "SUPPRESSED"}


@pytest.mark.parametrize("cfn, asff", [("AWS::EC2::Instance", "AwsEc2Instance"), ("AWS::RDS::DBInstance",
                                                                                     "AwsRdsDbInstance"),
                                       ("AWS::::Account", "AwsAccount"), ("AWS::IAM::User", "AwsIamUser")])
def test_asff_resource_types(cfn, asff):
    assert asff_resource_type(cfn) == asff


OCSF_REQUIRED = {"activity_id", "category_uid", "class_uid", "finding_info", "metadata", "severity_id", "time",
                 "type_uid", "cloud"}


def test_ocsf_detection_finding_field_rules(sample_run):
    findings = json.loads(OcsfReporter().render(sample_run))
    for f in findings:
        assert OCSF_REQUIRED <= set(f)
        assert (f["class_uid"], f["category_uid"], f["type_uid"]) == (2004, 2, 200401)
        assert f["type_uid"] == f["class_uid"] * 100 + f["activity_id"]
        assert f["severity_id"] in range(0, 7) and f["status_id"] in (0, 1, 2, 3, 4, 99)
        assert isinstance(f["time"], int) and f["finding_info"]["uid"] and f["finding_info"]["title"]
        assert f["metadata"]["version"].startswith("1.") and f["metadata"]["product"]["name"] == "aws-audit"
        assert f["cloud"]["provider"] == "AWS" and f["cloud"]["account"]["uid"] == "123456789012"
    assert {f["status"] for f in findings} == {"New", "Resolved", "Suppressed"}


def test_metrics_are_embedded_metric_format(sample_run):
    lines = [json.loads(line) for line in MetricsReporter().render(sample_run).splitlines()]
    for line in lines:
        directive = line["_aws"]["CloudWatchMetrics"][0]
        for dimension in directive["Dimensions"][0]:
            assert dimension in line
        for metric in directive["Metrics"]:
            assert isinstance(line[metric["Name"]], (int, float))
    s3_high = next(x for x in lines if x.get("Service") == "s3" and x.get("Severity") == "high")
    assert (s3_high["FailedFindings"], s3_high["EvaluatedFindings"]) == (2, 3)  # the muted one is left out
    assert lines[-1]["ErrorFindings"] == 1


def test_security_hub_import_in_batches_of_100(aws, sample_run):
    from auditor.securityhub import import_findings

    many = tuple(replace(sample_run.findings[0], resource=replace(sample_run.findings[0].resource, id=f"b-{i}",
                                                                    arn=f"arn:aws:s3:::b-{i}"))
                 for i in range(250))
    calls = []
    BOTO.events.register("before-call.securityhub.BatchImportFindings", lambda **kw: calls.append(1))
    try:
        result = import_findings(replace(sample_run, findings=many), BOTO)
    finally:
        BOTO.events.unregister("before-call.securityhub.BatchImportFindings")
    assert result == {"imported": 250, "failed": 0} and len(calls) == 3
    stored = aws.client("securityhub").get_findings(MaxResults=100)["Findings"]
    assert stored and stored[0]["GeneratorId"] == "aws-audit/s3_bucket_public_access_blocked"


def test_error_findings_are_not_available_in_asff(sample_run):
    error = next(f for f in sample_run.findings if f.status is Status.ERROR)
    [document] = json.loads(AsffReporter().render(replace(sample_run, findings=(error,))))
    assert document["Compliance"]["Status"] == "NOT_AVAILABLE" and document["Resources"][0]["Region"] == "eu-west-1"
