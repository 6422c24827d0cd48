"""The engine: planning, isolation of failures, nothing lost, exit codes."""
from __future__ import annotations

from typing import Iterator

import pytest

from auditor import AuditConfig, Check, CheckContext, Finding, Remediation, Scope, Severity, Status, run_audit
from auditor.engine import plan_units
from auditor.errors import ExitCode
from auditor.runner import exit_code

from ..conftest import BOTO


class _Base(Check):
    service = "fake"
    severity = Severity.LOW
    title = "A test check"
    risk = "None."
    remediation = Remediation(text="Nothing to do.")
    api_calls = ("ec2:DescribeVpcs",)


class FakeVpcListed(_Base):
    """Passes for every VPC it reads."""

    id = "fake_vpc_listed"

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for vpc in ctx.call("ec2", "DescribeVpcs")["Vpcs"]:
            yield ctx.passed(ctx.account_resource(), f"VPC {vpc['VpcId']} listed.")


class FakeCheckBroken(_Base):
    """Yields one finding, then fails with a bug."""

    id = "fake_check_broken"

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield ctx.failed(ctx.account_resource(), "found before the crash")
        raise ZeroDivisionError("boom")


class FakeCheckWrites(_Base):
    """A buggy check that tries to write."""

    id = "fake_check_writes"

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        ctx.call("ec2", "CreateVpc", CidrBlock="10.9.0.0/16")
        yield ctx.passed(ctx.account_resource(), "never reached")


class FakeAccountGlobal(_Base):
    """Runs once per account."""

    id = "fake_account_global"
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield ctx.passed(ctx.account_resource(), f"home {ctx.region}")


def _run(*checks: type[Check], regions=("us-east-1",)):
    return run_audit(AuditConfig(regions=regions, max_attempts=1, workers=4), boto_session=BOTO, checks=list(checks))


def test_a_crashing_check_becomes_error_and_keeps_what_it_found(aws):
    run = _run(FakeCheckBroken, FakeVpcListed)
    by_check = {(f.check_id, f.status) for f in run.findings}
    assert ("fake_check_broken", Status.FAIL) in by_check
    assert ("fake_check_broken", Status.ERROR) in by_check
    assert ("fake_vpc_listed", Status.PASS) in by_check  # the run went on
    error = next(f for f in run.findings if f.status is Status.ERROR)
    assert "ZeroDivisionError" in error.message


def test_a_write_attempt_is_an_error_and_never_reaches_aws(aws):
    before = aws.client("ec2").describe_vpcs()["Vpcs"]
    run = _run(FakeCheckWrites)
    [finding] = run.findings
    assert finding.status is Status.ERROR and "ReadOnlyViolation" in finding.message
    assert aws.client("ec2").describe_vpcs()["Vpcs"] == before
    assert "ec2:CreateVpc" not in run.api_calls


def test_denied_read_for_a_whole_check_is_one_error_naming_the_action(aws, faults):
    faults.deny("ec2", "DescribeVpcs", code="UnauthorizedOperation")
    run = _run(FakeVpcListed, regions=("us-east-1", "eu-west-1"))
    assert [(f.status, f.region, f.evidence["iam_action"], f.evidence["error_code"]) for f in run.findings] == [
        (Status.ERROR, "eu-west-1", "ec2:DescribeVpcs", "UnauthorizedOperation"),
        (Status.ERROR, "us-east-1", "ec2:DescribeVpcs", "UnauthorizedOperation"),
    ]
    assert {e.region for e in run.errors} == {"us-east-1", "eu-west-1"}


def test_global_checks_run_once_and_regional_checks_per_region():
    units = plan_units([FakeAccountGlobal, FakeVpcListed], ("eu-west-1", "us-east-1"), "us-east-1")
    assert sorted((u.check.id, u.region) for u in units) == [
        ("fake_account_global", "us-east-1"),
        ("fake_vpc_listed", "eu-west-1"),
        ("fake_vpc_listed", "us-east-1"),
    ]


def test_global_findings_are_reported_in_region_global(aws):
    run = _run(FakeAccountGlobal, regions=("us-east-1", "eu-west-1"))
    [finding] = run.findings
    assert finding.region == "global"


def test_run_records_identity_regions_calls_and_actions(aws):
    run = _run(FakeVpcListed, regions=("us-east-1", "eu-west-1"))
    assert run.account == "123456789012" and run.partition == "aws"
    assert run.regions == ("us-east-1", "eu-west-1")
    assert run.api_calls["ec2:DescribeVpcs"] == 2
    assert run.actions_used["fake_vpc_listed"] == {"ec2:DescribeVpcs"}
    assert run.finished >= run.started


def test_unknown_region_is_a_usage_error(aws):
    from auditor.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown region mars-north-1"):
        _run(FakeVpcListed, regions=("mars-north-1",))


def test_default_regions_are_the_enabled_ones(aws):
    run = run_audit(AuditConfig(workers=8), boto_session=BOTO, checks=[FakeAccountGlobal])
    assert "us-east-1" in run.regions and "eu-west-1" in run.regions and len(run.regions) > 10


@pytest.mark.parametrize(
    "statuses, fail_on, expected",
    [
        ([], None, ExitCode.OK),
        ([(Status.FAIL, Severity.LOW)], None, ExitCode.OK),
        ([(Status.FAIL, Severity.LOW)], Severity.HIGH, ExitCode.OK),
        ([(Status.FAIL, Severity.HIGH)], Severity.HIGH, ExitCode.FAILED),
        ([(Status.FAIL, Severity.CRITICAL)], Severity.HIGH, ExitCode.FAILED),
        ([(Status.ERROR, Severity.LOW)], None, ExitCode.INCOMPLETE),
        ([(Status.ERROR, Severity.LOW), (Status.FAIL, Severity.HIGH)], Severity.MEDIUM, ExitCode.FAILED),
        ([(Status.ERROR, Severity.LOW), (Status.FAIL, Severity.LOW)], Severity.MEDIUM, ExitCode.INCOMPLETE),
    ],
)
def test_exit_code_precedence(sample_findings_run, statuses, fail_on, expected):
    assert exit_code(sample_findings_run(statuses), fail_on) is expected


def test_muted_failures_do_not_fail_the_run(sample_findings_run):
    run = sample_findings_run([(Status.FAIL, Severity.CRITICAL)], muted=True)
    assert exit_code(run, Severity.LOW) is ExitCode.OK


@pytest.fixture
def sample_findings_run():
    from dataclasses import replace
    from datetime import datetime, timezone

    from auditor.models import AuditRun, Category, Resource

    def build(statuses, muted=False):
        findings = tuple(
            Finding(check_id="fake_vpc_listed", title="t", service="fake", severity=sev,
                    category=Category.SECURITY, status=st, message="m", resource=Resource(id=str(i), type="AWS::X"),
                    region="us-east-1", account="123456789012")
            for i, (st, sev) in enumerate(statuses)
        )
        findings = tuple(replace(f, muted=muted) for f in findings)
        now = datetime.now(timezone.utc)
        return AuditRun("0", "123456789012", "aws", "arn", ("us-east-1",), now, now, (), findings, {}, ())

    return build


def test_audit_runs_the_garbage_collector_less_often_and_restores_it():
    import gc
    import threading

    from auditor.engine import AUDIT_GC_THRESHOLDS, fewer_collections

    before = gc.get_threshold()
    inside: list[tuple[int, ...]] = []
    entered, release = threading.Event(), threading.Event()

    def other_audit():
        with fewer_collections():
            entered.set()
            release.wait(5)

    with fewer_collections():
        inside.append(gc.get_threshold())
        worker = threading.Thread(target=other_audit)
        worker.start()
        entered.wait(5)
    inside.append(gc.get_threshold())  # the first audit ended; the other still runs
    release.set()
    worker.join()
    assert inside == [AUDIT_GC_THRESHOLDS, AUDIT_GC_THRESHOLDS]
    assert gc.get_threshold() == before


def test_times_from_answers_and_reports_are_aware_utc_or_none():
    from datetime import datetime, timedelta, timezone

    from auditor.check import utc_datetime

    utc = timezone.utc
    assert utc_datetime(datetime(2024, 3, 1, 12)) == datetime(2024, 3, 1, 12, tzinfo=utc)  # naive is UTC
    assert utc_datetime(datetime(2024, 3, 1, 14, tzinfo=timezone(timedelta(hours=2)))) == datetime(2024, 3, 1, 12,
                                                                                                  tzinfo=utc)
    assert utc_datetime(" 2024-03-01T12:00:00Z ") == datetime(2024, 3, 1, 12, tzinfo=utc)
    assert utc_datetime("2024-03-01T12:00:00+00:00") == datetime(2024, 3, 1, 12, tzinfo=utc)
    for nothing in (None, "", "N/A", "no_information", "not_supported", 17):
        assert utc_datetime(nothing) is None
