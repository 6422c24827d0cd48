import json

import jsonschema

from auditor.models import Status
from reports.json_report import JsonReporter, report_document, schema


def test_report_validates_against_shipped_schema(sample_run):
    document = json.loads(JsonReporter().render(sample_run))
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(document, schema())
    assert document["schema_version"] == "1.0"


def test_summary_counts_exclude_muted_and_include_quiet_checks(sample_run):
    summary = report_document(sample_run)["summary"]
    assert summary["totals"] == {"PASS": 1, "FAIL": 2, "ERROR": 1, "muted": 1, "findings": 5}
    assert summary["by_status_severity"]["FAIL"]["high"] == 2
    assert summary["by_service"]["rds"] == {"PASS": 0, "FAIL": 0, "ERROR": 0}
    assert summary["by_check"]["rds_instance_storage_encrypted"]["FAIL"] == 0
    assert summary["by_check"]["s3_bucket_public_access_blocked"]["muted"] == 1


def test_run_section_has_identity_timing_calls_and_errors(sample_run):
    run = report_document(sample_run)["run"]
    assert run["duration_seconds"] == 42
    assert run["api_calls_total"] == 3
    assert run["errors"][0]["iam_action"] == "guardduty:ListDetectors"
    assert run["started"].endswith("Z")


def test_schema_rejects_a_finding_without_status(sample_run):
    document = report_document(sample_run)
    del document["findings"][0]["status"]
    try:
        jsonschema.validate(document, schema())
    except jsonschema.ValidationError as exc:
        assert "status" in exc.message
    else:
        raise AssertionError("schema accepted a finding without status")


def test_finding_ids_are_stable(sample_run):
    first = [f.id for f in sample_run.findings]
    assert first == [f.id for f in sample_run.findings]
    assert len(set(first)) == len(first)
    assert all(f.status in Status for f in sample_run.findings)
