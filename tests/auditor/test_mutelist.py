"""The mutelist: matching, expiry, and one-line errors with the line for malformed files."""
from __future__ import annotations

from datetime import date

import pytest

from auditor.errors import ConfigError
from auditor.models import Status
from auditor.mutelist import Mutelist

from ..reports.conftest import sample_run  # noqa: F401 - the fixed run the report tests use

TODAY = date(2026, 11, 26)


def _muted(sample_run, text):
    return {f.resource.id: (f.muted, f.mute_reason) for f in Mutelist.parse(text).apply(
        [f for f in sample_run.findings if not f.muted], TODAY)}


def test_rule_mutes_matching_failures_with_reason_and_owner(sample_run):
    result = _muted(sample_run, """
rules:
  - check: "s3_bucket_*"
    resource: "arn:aws:s3:::bucket-one"
    reason: Accepted until the migration
    owner: data-team
""")
    assert result["bucket-one"] == (True, "Accepted until the migration (owner: data-team)")
    assert result["hostile-bucket"][0] is False


def test_pass_findings_are_never_muted(sample_run):
    result = _muted(sample_run, "rules:\n  - {check: '*', reason: all, owner: me}\n")
    assert result["bucket-two"] == (False, "")  # PASS
    assert result["bucket-one"][0] and result["123456789012"][0]  # FAIL and ERROR


def test_a_rule_for_failures_never_mutes_an_error(sample_run):
    result = _muted(sample_run, "rules:\n  - {check: '*', reason: accepted, owner: me, status: FAIL}\n")
    assert result["bucket-one"][0] is True  # FAIL
    assert result["123456789012"] == (False, "")  # ERROR: could not be checked, so it stays in sight
    only_errors = _muted(sample_run, "rules:\n  - {check: '*', reason: known gap, owner: me, status: error}\n")
    assert only_errors["123456789012"][0] is True and only_errors["bucket-one"][0] is False


def test_account_region_tags_and_regex(sample_run):
    text = """
rules:
  - check: "*"
    account: "1234*"
    region: "us-*"
    resource: "regex:arn:aws:s3:::hostile-.*"
    tags: {Owner: "<script>*"}
    reason: r
    owner: o
"""
    result = _muted(sample_run, text)
    assert result["hostile-bucket"][0] is True and result["bucket-one"][0] is False
    assert _muted(sample_run, text.replace('"us-*"', '"eu-*"'))["hostile-bucket"][0] is False


def test_expired_rules_do_not_mute_and_are_listed(sample_run):
    mutelist = Mutelist.parse("rules:\n  - {check: '*', reason: old, owner: o, expires: 2026-11-01}\n")
    findings = mutelist.apply(sample_run.findings[:1], TODAY)
    assert findings[0].muted is False and findings[0].status is Status.FAIL
    assert [r.check for r in mutelist.expired_rules(TODAY)] == ["*"]
    assert not Mutelist.parse("rules:\n  - {check: '*', reason: r, owner: o, expires: 2026-11-27}\n"
                              ).expired_rules(TODAY)


def test_json_is_accepted():
    assert len(Mutelist.parse('{"rules": [{"check": "x_y_z", "reason": "r", "owner": "o"}]}').rules) == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("rules:\n  - check: a\n    owner: o\n", "line 2: the rule needs a non-empty 'reason'"),
        ("rules:\n  - {check: a, reason: r, owner: o}\n  - {check: b, reason: r, owner: o, colour: red}\n",
         "line 3: unknown key 'colour'"),
        ("rules:\n  - {check: a, reason: r, owner: o, expires: soon}\n", "line 2: 'expires' must be a date"),
        ("rules:\n  - {check: a, reason: r, owner: o, resource: 'regex:('}\n", "line 2: bad regular expression"),
        ("rules:\n  - {check: a, reason: r, owner: o, status: PASS}\n", "line 2: 'status' must be one of FAIL, ERROR"),
        ("rules: [\n", "not valid YAML or JSON"),
        ("- a\n", "line 1: expected a mapping with a 'rules' list"),
    ],
)
def test_malformed_files_name_the_line(text, message):
    with pytest.raises(ConfigError, match=message):
        Mutelist.parse(text, "mute.yaml")


def test_engine_applies_the_mutelist_and_reports_expired_rules(audit, aws):
    from auditor import AuditConfig, Parameters, run_audit

    from ..conftest import ALL_CHECKS, BOTO

    mutelist = Mutelist.parse("""
rules:
  - {check: guardduty_detector_enabled, region: us-east-1, reason: sandbox account, owner: secops}
  - {check: guardduty_detector_enabled, region: eu-west-1, reason: old, owner: secops, expires: 2020-01-01}
""")
    config = AuditConfig(regions=("us-east-1", "eu-west-1"), parameters=Parameters.load(), mutelist=mutelist)
    run = run_audit(config, boto_session=BOTO, checks=[ALL_CHECKS["guardduty_detector_enabled"]])
    assert {f.region: f.muted for f in run.findings} == {"us-east-1": True, "eu-west-1": False}
    assert [r["expires"] for r in run.expired_mutes] == ["2020-01-01"]
    assert run.mutelist_rules == 2
