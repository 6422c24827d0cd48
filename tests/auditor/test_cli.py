"""The CLI in-process (click's runner) where a subprocess cannot reach: fault injection, role assumption, progress."""
from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from auditor import AuditConfig
from auditor.cli import main
from auditor.progress import ProgressBar
from auditor.session import AwsSession

from ..conftest import BOTO


@pytest.fixture
def cli(monkeypatch, aws):
    """Run `aws-audit` with the shared session, so faults injected on it reach the audit."""
    import auditor.session as session_module

    monkeypatch.setattr(session_module.boto3, "Session", lambda profile_name=None, **kw: BOTO)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_denied_api_gives_error_rows_and_exit_3(cli, faults, tmp_path):
    faults.deny("guardduty", "ListDetectors")
    result = cli("run", "--region", "us-east-1", "--check", "guardduty_detector_enabled", "--format", "json",
                 "--output-dir", str(tmp_path))
    assert result.exit_code == 3
    [report] = tmp_path.glob("*.json")
    [finding] = json.loads(report.read_text())["findings"]
    assert finding["status"] == "ERROR" and finding["evidence"]["iam_action"] == "guardduty:ListDetectors"


def test_failures_beat_errors_in_the_exit_code(cli, faults, aws, tmp_path):
    faults.deny("guardduty", "ListDetectors")  # ERROR for guardduty; EBS default encryption is off: FAIL (medium)
    result = cli("run", "--region", "us-east-1", "--service", "guardduty", "--check", "*_enabled",
                 "--service", "ec2", "--fail-on", "medium", "--format", "table")
    assert result.exit_code == 1, result.output


def test_table_output_names_what_could_not_be_read(cli, faults):
    faults.deny("guardduty", "ListDetectors")
    result = cli("run", "--region", "us-east-1", "--service", "guardduty", "--format", "table")
    assert "guardduty:ListDetectors -> AccessDenied in us-east-1" in result.output


def test_assumed_role_is_the_audited_identity(aws):
    role = aws.client("iam").create_role(
        RoleName="Audit",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    session = AwsSession(AuditConfig(role_arn=role, external_id="xyz"), BOTO)
    assert session.identity.arn.startswith("arn:aws:sts::123456789012:assumed-role/Audit/aws-audit")


def test_progress_bar_counts_units_and_clears_itself():
    stream = io.StringIO()
    bar = ProgressBar(stream, min_interval=0)
    bar(1, 4, "s3", "global")
    assert "1/4 checks" in stream.getvalue() and "s3 global" in stream.getvalue()
    bar(4, 4, "ec2", "eu-west-1")
    assert stream.getvalue().endswith("\r")


def test_progress_bar_says_when_aws_throttles_and_keeps_ticking():
    stream = io.StringIO()
    bar = ProgressBar(stream, min_interval=0, tick=0.01)
    bar(1, 4, "ec2", "us-east-1", throttled=3)
    import time

    time.sleep(0.05)  # the ticker redraws while no unit finishes
    assert stream.getvalue().count("\r[") > 1
    assert "AWS throttled 3 request(s), retrying with backoff" in stream.getvalue()
    bar(4, 4, "ec2", "us-east-1", throttled=3)


def test_throttling_is_counted_by_the_session(aws, faults):
    faults.throttle("ec2", "DescribeVolumes")
    session = AwsSession(AuditConfig(max_attempts=3), BOTO)
    from auditor.api import ApiCache
    from auditor.errors import DataUnavailable

    with pytest.raises(DataUnavailable):
        ApiCache(session).call("ec2", "DescribeVolumes", "us-east-1")
    assert session.throttled >= 2


def test_organization_options_need_each_other(cli):
    runner_result = cli("run", "--role-name", "AuditRole")
    assert runner_result.exit_code == 2 and "need --org" in runner_result.output
    runner_result = cli("run", "--org")
    assert runner_result.exit_code == 2 and "--org needs --role-name" in runner_result.output


def test_progress_bar_reads_live_figures_and_says_which_services_are_paced():
    stream = io.StringIO()
    bar = ProgressBar(stream, min_interval=0, tick=0.01)
    live = {"throttled": 0, "pacing": ()}
    bar.watch(lambda: (live["throttled"], live["pacing"]))
    bar(1, 4, "lambda", "eu-west-1")
    assert "pacing" not in stream.getvalue() and "throttled" not in stream.getvalue()
    live.update(throttled=2, pacing=("ec2", "lambda"))
    import time

    deadline = time.monotonic() + 5
    while "pacing ec2, lambda" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)  # no unit finishes: the ticker alone brings the news
    assert "pacing ec2, lambda to AWS's published request rate" in stream.getvalue()
    assert "AWS throttled 2 request(s)" in stream.getvalue()
    bar(4, 4, "lambda", "eu-west-1")


def test_the_engine_gives_the_progress_bar_its_live_figures(aws):
    from auditor.engine import run_audit

    from .test_engine import FakeAccountGlobal

    class Recording:
        def __init__(self) -> None:
            self.status = None
            self.calls = 0

        def watch(self, status):
            self.status = status

        def __call__(self, *args, **kwargs):
            self.calls += 1

    progress = Recording()
    run_audit(AuditConfig(regions=("us-east-1",), workers=2), boto_session=BOTO, checks=[FakeAccountGlobal],
              progress=progress)
    assert progress.calls == 1
    assert progress.status() == (0, ())
