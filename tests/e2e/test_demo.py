"""`aws-audit demo` end to end, and contract checks that need a realistic account."""
from __future__ import annotations

import json

import jsonschema
import pytest

from auditor import AuditConfig, Status, run_audit
from auditor.demo import SIMULATOR_GAPS
from auditor.demo_account import seed_demo_account
from reports.json_report import schema

from ..conftest import ALL_CHECKS, BOTO
from .conftest import aws_audit

pytestmark = pytest.mark.e2e


def test_demo_command(server_env, tmp_path):
    env = {k: v for k, v in server_env.items() if k != "AWS_ENDPOINT_URL"}  # the demo starts its own server
    result = aws_audit(["demo", "--output-dir", "out", "--no-progress"], env, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    [report] = (tmp_path / "out").glob("aws-audit-123456789012-*.json")
    document = json.loads(report.read_text())
    jsonschema.validate(document, schema())
    assert document["run"]["regions"] == ["us-east-1", "eu-west-1"]
    by_service = document["summary"]["by_service"]
    assert set(by_service) == {c.service for c in ALL_CHECKS.values() if c.id not in SIMULATOR_GAPS}
    assert document["summary"]["totals"]["ERROR"] == 0
    # The simulated company gets some things right and some wrong in every service it uses.
    for service in ("ec2", "vpc", "iam", "s3", "rds", "ecs", "lambda", "guardduty"):
        assert by_service[service]["FAIL"] > 0 and by_service[service]["PASS"] > 0, service
    assert "Simulated account 123456789012" in result.stderr
    assert "werkzeug" not in result.stderr and "127.0.0.1 - -" not in result.stderr


@pytest.fixture(scope="module")
def demo_account():
    from moto import mock_aws

    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        seed_demo_account(BOTO, ("us-east-1", "eu-west-1"))
        yield BOTO


SIMULATED = sorted((c for c in ALL_CHECKS.values() if c.id not in SIMULATOR_GAPS), key=lambda c: c.id)


def test_simulator_gaps_name_real_checks():
    assert set(SIMULATOR_GAPS) <= set(ALL_CHECKS)


@pytest.mark.parametrize("check", SIMULATED, ids=lambda c: c.id)
def test_each_check_reads_only_what_it_declares(demo_account, check):
    """Run alone on a realistic account, a check's real reads are a subset of its `api_calls`, and it can read
    everything it needs (no ERROR) from a simulator that implements those reads."""
    run = run_audit(AuditConfig(regions=("us-east-1", "eu-west-1"), workers=4), boto_session=demo_account,
                    checks=[check])
    used = run.actions_used[check.id]
    assert used, "the check read nothing"
    assert used <= set(check.api_calls), f"undeclared reads: {sorted(used - set(check.api_calls))}"
    assert not [f.message for f in run.findings if f.status is Status.ERROR]


def test_secrets_never_reach_any_report(demo_account, tmp_path):
    from auditor.registry import load_reporters

    run = run_audit(AuditConfig(regions=("us-east-1", "eu-west-1"), workers=4), boto_session=demo_account,
                    checks=SIMULATED)
    assert any("secret" in f.check_id and f.status is Status.FAIL for f in run.findings)
    from auditor import demo_account as seeds

    planted = [value for name, value in vars(seeds).items() if name.startswith("FAKE_")]
    assert len(planted) >= 4
    for name, reporter in load_reporters().items():
        text = reporter().render(run)
        for value in planted:
            assert value not in text, f"{name} report shows a planted secret"
