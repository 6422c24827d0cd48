"""The real command, as a user runs it: reports, exit codes, and one-line errors for bad input."""
from __future__ import annotations

import json

import jsonschema
import pytest

from reports.json_report import schema

from .conftest import aws_audit

pytestmark = pytest.mark.e2e
GUARDDUTY = ("--check", "guardduty_detector_enabled")


def _assert_one_line_error(result, code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("aws-audit: error:"), result.stderr
    assert text in lines[0]


def test_run_writes_a_schema_valid_json_report(server_env, server_session, moto_server, tmp_path):
    server_session.client("guardduty", endpoint_url=moto_server).create_detector(Enable=True)
    result = aws_audit(["run", "--region", "us-east-1", "--region", "eu-west-1", *GUARDDUTY,
                        "--output-dir", "reports", "--no-progress"], server_env, tmp_path)
    assert result.returncode == 0, result.stderr
    [report] = (tmp_path / "reports").glob("aws-audit-123456789012-*.json")
    assert (tmp_path / "reports" / report.name.replace(".json", ".html")).exists()
    document = json.loads(report.read_text())
    jsonschema.validate(document, schema())
    assert {(f["region"], f["status"]) for f in document["findings"]} == {("us-east-1", "PASS"), ("eu-west-1", "FAIL")}
    assert document["run"]["api_calls"]["guardduty:ListDetectors"] == 2
    assert "guardduty" in result.stdout and "Top failing checks" in result.stdout


def test_fail_on_sets_exit_code_1(server_env, server_session, tmp_path):
    result = aws_audit(["run", "--region", "us-east-1", *GUARDDUTY, "--fail-on", "high",
                        "--format", "json", "--output-dir", "out", "--quiet"], server_env, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_fail_on_above_the_failing_severity_is_0(server_env, server_session, tmp_path):
    result = aws_audit(["run", "--region", "us-east-1", *GUARDDUTY, "--fail-on", "critical",
                        "--format", "table"], server_env, tmp_path)
    assert result.returncode == 0, result.stderr


def test_unknown_profile(server_env, tmp_path):
    _assert_one_line_error(aws_audit(["run", "--profile", "nope"], server_env, tmp_path), 2,
                           "AWS profile 'nope' is not configured")


def test_no_credentials(server_env, tmp_path):
    env = {k: v for k, v in server_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    _assert_one_line_error(aws_audit(["run", "--region", "us-east-1"], env, tmp_path), 2, "no AWS credentials")


def test_unknown_region(server_env, tmp_path):
    _assert_one_line_error(aws_audit(["run", "--region", "us-east-9"], server_env, tmp_path), 2,
                           "unknown region us-east-9")


def test_unknown_check(server_env, tmp_path):
    _assert_one_line_error(aws_audit(["run", "--check", "nope_*"], server_env, tmp_path), 2,
                           "no check matches 'nope_*'")


def test_unknown_service(server_env, tmp_path):
    _assert_one_line_error(aws_audit(["run", "--service", "nosuch"], server_env, tmp_path), 2,
                           "unknown service nosuch")


def test_malformed_config(server_env, tmp_path):
    (tmp_path / "bad.yaml").write_text("iam:\n  access_key_max_age_days: soon\n")
    _assert_one_line_error(aws_audit(["run", "--config", "bad.yaml"], server_env, tmp_path), 2,
                           "'iam.access_key_max_age_days' expects integer")


def test_unknown_format(server_env, tmp_path):
    _assert_one_line_error(
        aws_audit(["run", "--region", "us-east-1", *GUARDDUTY, "--format", "json,pdf"], server_env,
                  tmp_path), 2, "unknown format pdf")


def test_bad_option_is_a_usage_error(server_env, tmp_path):
    result = aws_audit(["run", "--workers", "0"], server_env, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_unwritable_output_dir(server_env, tmp_path):
    (tmp_path / "file").write_text("")
    _assert_one_line_error(aws_audit(["run", "--region", "us-east-1", *GUARDDUTY, "--output-dir",
                                      "file/sub"], server_env, tmp_path), 2, "cannot create output directory")


def test_list_checks_and_permissions(server_env, tmp_path):
    listed = aws_audit(["list-checks", "--format", "json"], server_env, tmp_path)
    assert listed.returncode == 0
    checks = json.loads(listed.stdout)
    assert {"guardduty_detector_enabled"} <= {c["id"] for c in checks}
    policy = json.loads(aws_audit(["permissions", *GUARDDUTY], server_env, tmp_path).stdout)
    assert policy["Statement"][0]["Action"] == [
        "ec2:DescribeRegions", "guardduty:GetDetector", "guardduty:ListDetectors", "sts:GetCallerIdentity"]
