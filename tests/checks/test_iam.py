"""IAM checks, under moto through the real engine.

Moto cannot represent some real AWS states: the root user never has access keys or MFA in its account summary,
and its credential report has no `<root_account>` row. Those shapes are covered with recorded responses
(AWS's documented shapes) served by a botocore `before-call` hook, so they still go through the engine.
"""
from __future__ import annotations

import copy
import json
import time
from typing import Any, Iterator

import pytest
from botocore.awsrequest import AWSResponse
from freezegun import freeze_time

from auditor import Status
from checks.iam.resources import (
    allows_full_admin,
    full_admin_statements,
    parse_credential_report,
    parse_policy_document,
)

from ..conftest import ACCOUNT, BOTO, REGION, statuses

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SCOPED = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ReadWriteObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                   "Resource": "arn:aws:s3:::data/*"}],
}

# A credential report as real AWS returns it (columns abridged to those the parser needs and a few more):
# the root user's row comes first, with "not_supported" for its password.
REAL_REPORT = (
    "user,arn,user_creation_time,password_enabled,password_last_used,mfa_active,access_key_1_active\n"
    f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,"
    "2024-05-01T10:00:00+00:00,false,true\n"
    f"alice,arn:aws:iam::{ACCOUNT}:user/alice,2021-01-01T00:00:00+00:00,true,2024-05-02T10:00:00+00:00,false,false\n"
    f"bob,arn:aws:iam::{ACCOUNT}:user/bob,2021-01-01T00:00:00+00:00,true,no_information,true,false\n"
    f"ci,arn:aws:iam::{ACCOUNT}:user/ci,2021-01-01T00:00:00+00:00,false,N/A,false,true\n"
)


class Recorded:
    """Answer chosen IAM operations with a recorded response instead of moto's (moto cannot produce it)."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Any]] = []

    def respond(self, operation: str, body: dict[str, Any], **request: str) -> None:
        """Answer `operation` with `body`; with `request`, only calls whose parameters include it (else moto)."""

        def handler(params: dict[str, Any], **_: Any) -> Any:
            sent = params.get("body") or {}
            if any(sent.get(name) != value for name, value in request.items()):
                return None
            return AWSResponse("https://recorded", 200, {}, None), copy.deepcopy(body)

        event = f"before-call.iam.{operation}"
        BOTO.events.register_first(event, handler)
        self._handlers.append((event, handler))

    def clear(self) -> None:
        for event, handler in self._handlers:
            BOTO.events.unregister(event, handler)


@pytest.fixture
def recorded(aws: Any) -> Iterator[Recorded]:
    responses = Recorded()
    yield responses
    responses.clear()


def summary(**values: int) -> dict[str, Any]:
    return {"SummaryMap": {"Users": 0, "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0, **values}}


def error_of(run: Any) -> dict[str, Any]:
    [finding] = run.findings
    assert finding.status is Status.ERROR
    return dict(finding.evidence)


# -- iam_root_access_keys_absent ---------------------------------------------------------------------------------
def test_root_keys_pass_in_a_fresh_account(audit):
    """The account-level case with nothing configured: a new account has no root access keys, so PASS."""
    run = audit("iam_root_access_keys_absent")
    [finding] = run.findings
    assert (finding.status, finding.resource.id, finding.region) == (Status.PASS, ACCOUNT, "global")
    assert finding.evidence == {"account_access_keys_present": 0}


def test_root_keys_fail_when_present(audit, recorded):
    # Moto's account summary always says 0: the real AWS answer for an account whose root has a key.
    recorded.respond("GetAccountSummary", summary(AccountAccessKeysPresent=1))
    run = audit("iam_root_access_keys_absent")
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert run.findings[0].evidence == {"account_access_keys_present": 1}
    assert "has access keys" in run.findings[0].message


def test_root_keys_error_when_summary_lacks_the_flag(audit, recorded):
    recorded.respond("GetAccountSummary", {"SummaryMap": {"Users": 3}})
    run = audit("iam_root_access_keys_absent")
    assert statuses(run) == {ACCOUNT: "ERROR"}


def test_root_keys_error_when_summary_denied(audit, faults):
    faults.deny("iam", "GetAccountSummary")
    evidence = error_of(audit("iam_root_access_keys_absent"))
    assert (evidence["iam_action"], evidence["error_code"]) == ("iam:GetAccountSummary", "AccessDenied")


# -- iam_root_mfa_enabled ------------------------------------------------------------------------------------------
def test_root_mfa_fails_in_a_fresh_account(audit):
    """The account-level case with nothing configured: no MFA on the root user, so FAIL."""
    run = audit("iam_root_mfa_enabled")
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert run.findings[0].evidence == {"account_mfa_enabled": 0}


def test_root_mfa_passes_when_enabled(audit, recorded):
    # Moto cannot enable root MFA: the real AWS answer for an account whose root has an MFA device.
    recorded.respond("GetAccountSummary", summary(AccountMFAEnabled=1))
    run = audit("iam_root_mfa_enabled")
    assert statuses(run) == {ACCOUNT: "PASS"}


# -- iam_console_user_mfa_enabled ----------------------------------------------------------------------------------
def enable_mfa(iam: Any, user: str) -> None:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")


def test_console_mfa_fails_for_console_user_without_mfa(audit, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    run = audit("iam_console_user_mfa_enabled")
    assert statuses(run) == {"alice": "FAIL"}
    finding = run.findings[0]
    assert finding.evidence["password_enabled"] is True and finding.evidence["mfa_active"] is False
    assert finding.resource.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert finding.resource.type == "AWS::IAM::User"


def test_console_mfa_passes_for_console_user_with_mfa(audit, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Correct-Horse-9")
    enable_mfa(iam, "bob")
    run = audit("iam_console_user_mfa_enabled")
    assert statuses(run) == {"bob": "PASS"}
    assert run.findings[0].evidence["mfa_active"] is True


def test_console_mfa_skips_users_without_console_password(audit, aws):
    aws.client("iam").create_user(UserName="ci")
    assert audit("iam_console_user_mfa_enabled").findings == ()


def test_console_mfa_no_users_no_findings(audit):
    assert audit("iam_console_user_mfa_enabled").findings == ()


def test_console_mfa_on_a_real_report_skips_the_root_row(audit, recorded):
    recorded.respond("GetCredentialReport", {"Content": REAL_REPORT.encode(), "ReportFormat": "text/csv"})
    run = audit("iam_console_user_mfa_enabled")
    assert statuses(run) == {"alice": "FAIL", "bob": "PASS"}


def test_credential_report_parser_reads_the_real_shape():
    rows = {r.user: r for r in parse_credential_report(("\ufeff" + REAL_REPORT).encode())}
    assert set(rows) == {"<root_account>", "alice", "bob", "ci"}
    root = rows["<root_account>"]
    assert root.is_root and not root.password_enabled  # "not_supported"
    assert (rows["alice"].password_enabled, rows["alice"].mfa_active) == (True, False)
    assert (rows["bob"].password_enabled, rows["bob"].mfa_active) == (True, True)
    assert not rows["ci"].password_enabled


def test_credential_report_parser_refuses_an_unknown_shape():
    with pytest.raises(ValueError, match="mfa_active"):
        parse_credential_report("user,arn,password_enabled\nalice,arn,true\n")


def test_credential_report_never_ready_is_error_and_bounded(audit, aws, faults):
    aws.client("iam").create_user(UserName="alice")
    faults.deny("iam", "GetCredentialReport", code="ReportInProgress", status=410)
    started = time.monotonic()
    run = audit("iam_console_user_mfa_enabled", params={"iam.credential_report_wait_seconds": 0.5})
    assert time.monotonic() - started < 3
    evidence = error_of(run)
    assert (evidence["iam_action"], evidence["error_code"]) == ("iam:GetCredentialReport", "ReportNotReady")
    assert run.findings[0].resource.id == ACCOUNT


def test_credential_report_denied_is_error(audit, faults):
    faults.deny("iam", "GetCredentialReport")
    evidence = error_of(audit("iam_console_user_mfa_enabled"))
    assert (evidence["iam_action"], evidence["error_code"]) == ("iam:GetCredentialReport", "AccessDenied")


def test_generate_denied_without_existing_report_is_error(audit, faults):
    faults.deny("iam", "GenerateCredentialReport")
    evidence = error_of(audit("iam_console_user_mfa_enabled"))
    assert (evidence["iam_action"], evidence["error_code"]) == ("iam:GenerateCredentialReport", "AccessDenied")


def test_generate_denied_falls_back_to_an_existing_report(audit, faults, recorded):
    faults.deny("iam", "GenerateCredentialReport")
    recorded.respond("GetCredentialReport", {"Content": REAL_REPORT.encode(), "ReportFormat": "text/csv"})
    assert statuses(audit("iam_console_user_mfa_enabled")) == {"alice": "FAIL", "bob": "PASS"}


# -- iam_policy_no_full_admin --------------------------------------------------------------------------------------
def attached_policy(iam: Any, name: str, document: dict[str, Any]) -> str:
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName=f"{name}-role", PolicyArn=arn)
    return arn


def test_admin_policy_fails(audit, aws):
    arn = attached_policy(aws.client("iam"), "admin", ADMIN)
    run = audit("iam_policy_no_full_admin")
    assert statuses(run) == {"admin": "FAIL"}
    finding = run.findings[0]
    assert finding.resource.arn == arn and finding.resource.type == "AWS::IAM::Policy"
    assert finding.evidence["statements"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    assert finding.evidence["attachment_count"] == 1


def test_scoped_policy_passes(audit, aws):
    attached_policy(aws.client("iam"), "s3-access", SCOPED)
    run = audit("iam_policy_no_full_admin")
    assert statuses(run) == {"s3-access": "PASS"}


def test_only_the_default_version_counts(audit, aws):
    iam = aws.client("iam")
    arn = attached_policy(iam, "was-admin", ADMIN)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(SCOPED), SetAsDefault=True)
    run = audit("iam_policy_no_full_admin")
    assert statuses(run) == {"was-admin": "PASS"}
    assert run.findings[0].evidence["default_version"] == "v2"


def test_unattached_admin_policy_is_not_evaluated(audit, aws):
    # OnlyAttached: a policy attached to nothing grants nothing (CIS 1.16 "are not attached").
    aws.client("iam").create_policy(PolicyName="spare-admin", PolicyDocument=json.dumps(ADMIN))
    assert audit("iam_policy_no_full_admin").findings == ()


def test_no_policies_no_findings(audit):
    assert audit("iam_policy_no_full_admin").findings == ()


def test_denied_list_policies_is_error(audit, faults):
    faults.deny("iam", "ListPolicies")
    evidence = error_of(audit("iam_policy_no_full_admin"))
    assert (evidence["iam_action"], evidence["error_code"]) == ("iam:ListPolicies", "AccessDenied")


def test_denied_policy_version_is_error_for_that_policy(audit, aws, faults):
    attached_policy(aws.client("iam"), "admin", ADMIN)
    faults.deny("iam", "GetPolicyVersion")
    run = audit("iam_policy_no_full_admin")
    assert statuses(run) == {"admin": "ERROR"}
    assert run.findings[0].evidence["iam_action"] == "iam:GetPolicyVersion"


@pytest.mark.parametrize(
    ("statement", "admin"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["arn:aws:s3:::x", "*"]}, True),
        ({"Effect": "Allow", "Action": "*:*", "Resource": "*"}, True),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::x"}, False),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, False),
    ],
)
def test_full_admin_statements(statement, admin):
    assert allows_full_admin({"Version": "2012-10-17", "Statement": statement}) is admin
    assert allows_full_admin({"Version": "2012-10-17", "Statement": [statement]}) is admin


def test_full_admin_cancelled_by_a_deny_is_not_admin():
    # The shared policy analyser (auditor.policy) judges the document as a whole, not statement by statement.
    cancelled = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                                                        {"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    assert not allows_full_admin(cancelled)
    assert full_admin_statements(cancelled) == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def test_policy_document_in_iams_raw_url_encoded_form():
    raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C" \
          "%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D"
    assert allows_full_admin(parse_policy_document(raw))
    assert parse_policy_document(json.dumps(SCOPED)) == SCOPED


# -- iam_access_key_rotated ----------------------------------------------------------------------------------------
def user_with_key(aws: Any, name: str, created: str) -> str:
    iam = aws.client("iam")
    with freeze_time(created):
        iam.create_user(UserName=name)
        return iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]


def test_old_access_key_fails(audit, aws):
    key_id = user_with_key(aws, "deploy", "2024-01-01T12:00:00Z")
    with freeze_time("2024-06-01T12:00:00Z"):
        run = audit("iam_access_key_rotated")
    assert statuses(run) == {"deploy": "FAIL"}
    finding = run.findings[0]
    assert finding.evidence["active_keys"] == [{"access_key_id": "****" + key_id[-4:], "age_days": 152}]
    assert finding.evidence["max_age_days"] == 90
    assert key_id not in json.dumps(finding.to_dict())


def test_young_access_key_passes(audit, aws):
    user_with_key(aws, "deploy", "2024-01-01T12:00:00Z")
    with freeze_time("2024-02-01T12:00:00Z"):
        run = audit("iam_access_key_rotated")
    assert statuses(run) == {"deploy": "PASS"}
    assert run.findings[0].evidence["active_keys"][0]["age_days"] == 31


def test_max_age_is_a_parameter(audit, aws):
    user_with_key(aws, "deploy", "2024-01-01T12:00:00Z")
    with freeze_time("2024-02-01T12:00:00Z"):
        run = audit("iam_access_key_rotated", params={"iam.access_key_max_age_days": 30})
    assert statuses(run) == {"deploy": "FAIL"}


def test_inactive_old_key_is_not_evaluated(audit, aws):
    key_id = user_with_key(aws, "former", "2024-01-01T12:00:00Z")
    aws.client("iam").update_access_key(UserName="former", AccessKeyId=key_id, Status="Inactive")
    with freeze_time("2024-06-01T12:00:00Z"):
        assert audit("iam_access_key_rotated").findings == ()


def test_no_users_no_findings(audit):
    assert audit("iam_access_key_rotated").findings == ()


def test_denied_list_access_keys_is_error_for_that_user(audit, aws, faults):
    user_with_key(aws, "deploy", "2024-01-01T12:00:00Z")
    faults.deny("iam", "ListAccessKeys")
    run = audit("iam_access_key_rotated")
    assert statuses(run) == {"deploy": "ERROR"}
    assert run.findings[0].evidence["iam_action"] == "iam:ListAccessKeys"


# -- declarations ------------------------------------------------------------------------------------------------
def test_calls_made_are_declared(audit, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    iam.create_access_key(UserName="alice")
    attached_policy(iam, "admin", ADMIN)
    run = audit("iam_root_access_keys_absent", "iam_root_mfa_enabled", "iam_console_user_mfa_enabled",
                "iam_policy_no_full_admin", "iam_access_key_rotated")
    from ..conftest import ALL_CHECKS

    # Collectors are shared, so a check may be credited with fewer calls than it needs, never with more.
    for check_id, used in run.actions_used.items():
        assert used <= set(ALL_CHECKS[check_id].api_calls), check_id
    assert set().union(*run.actions_used.values()) == {a for c in run.actions_used for a in ALL_CHECKS[c].api_calls}


# -- password policy: one check per setting --------------------------------------------------------------------------
PASSWORD_CHECKS = (
    "iam_password_policy_min_length_sufficient",
    "iam_password_policy_reuse_prevented",
    "iam_password_policy_uppercase_required",
    "iam_password_policy_lowercase_required",
    "iam_password_policy_symbol_required",
    "iam_password_policy_number_required",
    "iam_password_policy_max_age_limited",
)
STRICT_PASSWORD_POLICY = dict(
    MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True, RequireUppercaseCharacters=True,
    RequireLowercaseCharacters=True, PasswordReusePrevention=24, MaxPasswordAge=90,
)


def by_check(run: Any) -> dict[str, Any]:
    """check id -> its single finding."""
    found: dict[str, Any] = {}
    for finding in run.findings:
        assert finding.check_id not in found, f"{finding.check_id} reported twice"
        found[finding.check_id] = finding
    return found


def test_password_policy_absent_fails_every_setting(audit):
    """The account-level case with nothing configured: no password policy at all, so each setting FAILs."""
    findings = by_check(audit(*PASSWORD_CHECKS))
    assert set(findings) == set(PASSWORD_CHECKS)
    for finding in findings.values():
        assert (finding.status, finding.resource.id, finding.region) == (Status.FAIL, ACCOUNT, "global")
        assert "has no IAM password policy" in finding.message
        assert finding.evidence == {"password_policy": None}


def test_password_policy_strict_passes_every_setting(audit, aws):
    aws.client("iam").update_account_password_policy(**STRICT_PASSWORD_POLICY)
    findings = by_check(audit(*PASSWORD_CHECKS))
    assert {c: f.status.value for c, f in findings.items()} == {c: "PASS" for c in PASSWORD_CHECKS}
    assert findings["iam_password_policy_min_length_sufficient"].evidence == {"minimum_length": 14, "required": 14}
    assert findings["iam_password_policy_reuse_prevented"].evidence == {"passwords_remembered": 24, "required": 24}
    assert findings["iam_password_policy_max_age_limited"].evidence == {"max_password_age_days": 90,
                                                                        "limit_days": 90}
    assert "at least 14 characters" in findings["iam_password_policy_min_length_sufficient"].message


def test_password_policy_weak_fails_every_setting(audit, aws):
    # IAM's default-like policy: 8 characters, no classes, no reuse prevention, no expiry (MaxPasswordAge 0).
    aws.client("iam").update_account_password_policy(MinimumPasswordLength=8)
    findings = by_check(audit(*PASSWORD_CHECKS))
    assert {c: f.status.value for c, f in findings.items()} == {c: "FAIL" for c in PASSWORD_CHECKS}
    assert findings["iam_password_policy_min_length_sufficient"].evidence["minimum_length"] == 8
    assert findings["iam_password_policy_reuse_prevented"].evidence["passwords_remembered"] == 0
    assert findings["iam_password_policy_max_age_limited"].evidence["max_password_age_days"] is None
    assert findings["iam_password_policy_symbol_required"].evidence == {"require_symbols": False}


@pytest.mark.parametrize(
    ("setting", "check_id"),
    [
        ({"MinimumPasswordLength": 13}, "iam_password_policy_min_length_sufficient"),
        ({"PasswordReusePrevention": 23}, "iam_password_policy_reuse_prevented"),
        ({"RequireUppercaseCharacters": False}, "iam_password_policy_uppercase_required"),
        ({"RequireLowercaseCharacters": False}, "iam_password_policy_lowercase_required"),
        ({"RequireSymbols": False}, "iam_password_policy_symbol_required"),
        ({"RequireNumbers": False}, "iam_password_policy_number_required"),
        ({"MaxPasswordAge": 91}, "iam_password_policy_max_age_limited"),
    ],
)
def test_password_policy_each_setting_fails_alone(audit, aws, setting, check_id):
    aws.client("iam").update_account_password_policy(**{**STRICT_PASSWORD_POLICY, **setting})
    findings = by_check(audit(*PASSWORD_CHECKS))
    assert {c for c, f in findings.items() if f.status is Status.FAIL} == {check_id}


def test_password_policy_thresholds_are_parameters(audit, aws):
    aws.client("iam").update_account_password_policy(**STRICT_PASSWORD_POLICY)
    run = audit("iam_password_policy_min_length_sufficient", "iam_password_policy_reuse_prevented",
                "iam_password_policy_max_age_limited",
                params={"iam.password_min_length": 16, "iam.password_reuse_prevention": 25,
                        "iam.password_max_age_days": 60})
    assert {f.status for f in run.findings} == {Status.FAIL}
    assert "at least 16 characters" in by_check(run)["iam_password_policy_min_length_sufficient"].message


def test_password_policy_denied_is_error(audit, faults):
    faults.deny("iam", "GetAccountPasswordPolicy")
    evidence = error_of(audit("iam_password_policy_symbol_required"))
    assert (evidence["iam_action"], evidence["error_code"]) == ("iam:GetAccountPasswordPolicy", "AccessDenied")


# -- credential report: idle credentials, MFA for all, application users, root use --------------------------------
REPORT_COLUMNS = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
    "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
    "access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
).split(",")
NOW = "2024-06-01T12:00:00+00:00"


def days_ago(days: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(NOW) - timedelta(days=days)).isoformat()


def report_row(user: str, **values: Any) -> str:
    """A credential report line as real AWS writes it; unset columns hold AWS's "N/A" or "false"."""
    arn = f"arn:aws:iam::{ACCOUNT}:root" if user == "<root_account>" else f"arn:aws:iam::{ACCOUNT}:user/{user}"
    row = {c: "N/A" for c in REPORT_COLUMNS}
    row.update(user=user, arn=arn, user_creation_time=days_ago(400), password_enabled="false", mfa_active="false",
               access_key_1_active="false", access_key_2_active="false", cert_1_active="false",
               cert_2_active="false")
    row.update(values)
    return ",".join(str(row[c]) for c in REPORT_COLUMNS)


def real_report(*rows: str) -> dict[str, Any]:
    content = "\n".join((",".join(REPORT_COLUMNS),) + rows) + "\n"
    from datetime import datetime

    return {"Content": content.encode(), "ReportFormat": "text/csv", "GeneratedTime": datetime.fromisoformat(NOW)}


def console(user: str, last_used: int | None, **values: Any) -> str:
    return report_row(user, password_enabled="true", password_last_changed=days_ago(300),
                      password_last_used=days_ago(last_used) if last_used is not None else "no_information",
                      **values)


def key(slot: int, rotated: int, last_used: int | None) -> dict[str, str]:
    return {f"access_key_{slot}_active": "true", f"access_key_{slot}_last_rotated": days_ago(rotated),
            f"access_key_{slot}_last_used_date": days_ago(last_used) if last_used is not None else "N/A"}


# A real account's report: the root row first, then users whose credentials tell the checks apart.
ACCOUNT_REPORT = real_report(
    report_row("<root_account>", password_enabled="not_supported", password_last_used=days_ago(200),
               password_last_changed="not_supported", mfa_active="true"),
    console("fresh", 5, mfa_active="true", **key(1, 100, 3)),  # password and key used this week
    console("stale", 100),  # password idle 100 days: fails the 90- and the 45-day rule
    console("lapsing", 60),  # password idle 60 days: fails only the 45-day rule
    console("spare-key", 2, **key(1, 1, None)),  # console user with a key made yesterday and never used
    report_row("ci-deployer", **key(1, 300, 2)),  # application user using its key
    report_row("old-app", **key(1, 500, 200), **key(2, 10, None)),  # application user with an idle key
)


@pytest.fixture
def account_report(recorded: Recorded) -> Recorded:
    recorded.respond("GetCredentialReport", ACCOUNT_REPORT)
    return recorded


def test_credential_report_parser_reads_dates_and_keys():
    rows = {r.user: r for r in parse_credential_report(ACCOUNT_REPORT["Content"])}
    stale = rows["stale"]
    assert stale.password is not None and stale.access_keys == ()
    assert stale.password.last_used.isoformat() == days_ago(100)
    old_app = rows["old-app"]
    assert old_app.application_user and not rows["spare-key"].application_user
    assert [(k.kind, k.last_used is None) for k in old_app.access_keys] == [("access_key_1", False),
                                                                            ("access_key_2", True)]
    assert rows["<root_account>"].password_last_used.isoformat() == days_ago(200)


def test_unused_credentials_fail_after_90_days(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_user_unused_credentials_removed")
    assert statuses(run) == {"fresh": "PASS", "stale": "FAIL", "lapsing": "PASS", "spare-key": "PASS",
                             "ci-deployer": "PASS", "old-app": "FAIL"}
    stale = by_resource(run)["stale"]
    assert "console password (100 days)" in stale.message
    assert stale.evidence["credentials"] == [{"kind": "password", "last_used": days_ago(100),
                                              "idle_days": 100}]
    assert "access key 1 (200 days)" in by_resource(run)["old-app"].message


def test_inactive_credentials_fail_after_45_days(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_user_inactive_credentials_disabled")
    assert statuses(run) == {"fresh": "PASS", "stale": "FAIL", "lapsing": "FAIL", "spare-key": "PASS",
                             "ci-deployer": "PASS", "old-app": "FAIL"}
    assert by_resource(run)["lapsing"].evidence["max_idle_days"] == 45


def test_never_used_password_is_idle_since_user_creation_under_moto(audit, aws):
    # moto's report: password_last_used "no_information" (never used); the user was created 152 days ago.
    iam = aws.client("iam")
    with freeze_time("2024-01-01T12:00:00Z"):
        iam.create_user(UserName="dormant")
        iam.create_login_profile(UserName="dormant", Password="Correct-Horse-9")
    with freeze_time("2024-02-01T12:00:00Z"):
        iam.create_user(UserName="newcomer")
        iam.create_login_profile(UserName="newcomer", Password="Correct-Horse-9")
    with freeze_time("2024-03-01T12:00:00Z"):
        run = audit("iam_user_unused_credentials_removed", "iam_user_inactive_credentials_disabled")
    results = {(f.check_id, f.resource.id): f.status.value for f in run.findings}
    assert results == {
        ("iam_user_unused_credentials_removed", "dormant"): "PASS",  # 60 days < 90
        ("iam_user_unused_credentials_removed", "newcomer"): "PASS",
        ("iam_user_inactive_credentials_disabled", "dormant"): "FAIL",  # 60 days >= 45
        ("iam_user_inactive_credentials_disabled", "newcomer"): "PASS",  # 29 days
    }


def test_idle_thresholds_are_parameters(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_user_unused_credentials_removed", params={"iam.unused_credentials_max_days": 4})
    assert statuses(run)["fresh"] == "FAIL"


def test_idle_credentials_no_users_no_findings(audit):
    assert audit("iam_user_unused_credentials_removed", "iam_user_inactive_credentials_disabled").findings == ()


def test_users_without_credentials_are_not_evaluated(audit, aws):
    aws.client("iam").create_user(UserName="placeholder")
    assert audit("iam_user_unused_credentials_removed").findings == ()


def by_resource(run: Any) -> dict[str, Any]:
    return {f.resource.id: f for f in run.findings}


def test_user_mfa_fails_and_passes(audit, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="ci")  # no password: still needs MFA for IAM.19
    iam.create_user(UserName="bob")
    enable_mfa(iam, "bob")
    run = audit("iam_user_mfa_enabled")
    assert statuses(run) == {"ci": "FAIL", "bob": "PASS"}
    assert by_resource(run)["ci"].evidence["mfa_active"] is False


def test_user_mfa_no_users_no_findings(audit):
    assert audit("iam_user_mfa_enabled").findings == ()


def test_user_mfa_skips_the_root_row_of_a_real_report(audit, account_report):
    run = audit("iam_user_mfa_enabled")
    assert "<root_account>" not in statuses(run)
    assert statuses(run)["fresh"] == "PASS" and statuses(run)["stale"] == "FAIL"


def test_console_user_never_used_key_fails(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_console_user_unused_access_keys_absent")
    # Only console users with an active key are evaluated: fresh used its key, spare-key never did.
    assert statuses(run) == {"fresh": "PASS", "spare-key": "FAIL"}
    assert by_resource(run)["spare-key"].evidence["never_used"] == ["access_key_1"]


def test_console_user_key_under_moto(audit, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    iam.create_access_key(UserName="alice")  # moto never records key use: "N/A"
    aws.client("iam").create_user(UserName="app")
    iam.create_access_key(UserName="app")  # no password: not a console user
    assert statuses(audit("iam_console_user_unused_access_keys_absent")) == {"alice": "FAIL"}


def test_console_user_keys_no_users_no_findings(audit):
    assert audit("iam_console_user_unused_access_keys_absent").findings == ()


def test_application_users_are_reported_and_idle_keys_fail(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_application_user_keys_in_use")
    assert statuses(run) == {"ci-deployer": "PASS", "old-app": "FAIL"}
    passed, failed = by_resource(run)["ci-deployer"], by_resource(run)["old-app"]
    assert passed.evidence["application_user"] is True and "IAM role" in passed.message
    assert failed.severity.value == "low" and "use an IAM role instead" in failed.message
    assert "access key 1 (200 days)" in failed.message and "access key 2" not in failed.message


def test_application_user_idle_days_is_a_parameter(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_application_user_keys_in_use", params={"iam.application_key_max_idle_days": 1})
    assert statuses(run) == {"ci-deployer": "FAIL", "old-app": "FAIL"}


def test_application_users_none_no_findings(audit, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    assert audit("iam_application_user_keys_in_use").findings == ()


def test_root_used_recently_fails(audit, recorded):
    recorded.respond("GetCredentialReport", real_report(
        report_row("<root_account>", password_enabled="not_supported", password_last_used=days_ago(3),
                   password_last_changed="not_supported")))
    with freeze_time(NOW):
        run = audit("iam_root_user_not_used_recently")
    [finding] = run.findings
    assert (finding.status, finding.resource.id) == (Status.FAIL, ACCOUNT)
    assert "used 3 days ago" in finding.message


def test_root_access_key_used_recently_fails(audit, recorded):
    # The root user's key, not its password, was used: the report's access_key_1_last_used_date column.
    recorded.respond("GetCredentialReport", real_report(
        report_row("<root_account>", password_enabled="not_supported", password_last_used="no_information",
                   **key(1, 700, 10))))
    with freeze_time(NOW):
        run = audit("iam_root_user_not_used_recently")
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert run.findings[0].evidence["access_keys_last_used"] == [days_ago(10)]


def test_root_not_used_recently_passes(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_root_user_not_used_recently")
    assert statuses(run) == {ACCOUNT: "PASS"}
    assert run.findings[0].evidence["console_last_used"] == days_ago(200)


def test_root_use_window_is_a_parameter(audit, account_report):
    with freeze_time(NOW):
        run = audit("iam_root_user_not_used_recently", params={"iam.root_recent_use_days": 365})
    assert statuses(run) == {ACCOUNT: "FAIL"}


def test_root_use_without_root_row_reports_nothing(audit):
    """moto's report has no <root_account> row (AWS's always has one): nothing to judge, no finding."""
    assert audit("iam_root_user_not_used_recently").findings == ()


# -- iam_user_single_active_access_key -----------------------------------------------------------------------------
def test_two_active_keys_fail_one_passes(audit, aws):
    iam = aws.client("iam")
    for name, keys in (("two-keys", 2), ("one-key", 1), ("no-key", 0)):
        iam.create_user(UserName=name)
        for _ in range(keys):
            iam.create_access_key(UserName=name)
    run = audit("iam_user_single_active_access_key")
    assert statuses(run) == {"two-keys": "FAIL", "one-key": "PASS"}
    assert len(by_resource(run)["two-keys"].evidence["active_keys"]) == 2
    assert all(k.startswith("****") for k in by_resource(run)["two-keys"].evidence["active_keys"])


def test_second_key_inactive_passes(audit, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="rotating")
    old = iam.create_access_key(UserName="rotating")["AccessKey"]["AccessKeyId"]
    iam.create_access_key(UserName="rotating")
    iam.update_access_key(UserName="rotating", AccessKeyId=old, Status="Inactive")
    assert statuses(audit("iam_user_single_active_access_key")) == {"rotating": "PASS"}


def test_single_key_no_users_no_findings(audit):
    assert audit("iam_user_single_active_access_key").findings == ()


# -- iam_root_hardware_mfa_enabled ---------------------------------------------------------------------------------
ROOT_VIRTUAL_MFA = f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"


def virtual_devices(*devices: tuple[str, str]) -> dict[str, Any]:
    return {"VirtualMFADevices": [{"SerialNumber": serial, "User": {"Arn": arn, "UserName": "", "UserId": "",
                                                                    "Path": "/"}} for serial, arn in devices],
            "IsTruncated": False}


def test_root_hardware_mfa_fails_without_any_mfa(audit):
    """The account-level case with nothing configured: root has no MFA at all."""
    run = audit("iam_root_hardware_mfa_enabled")
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert "no MFA device at all" in run.findings[0].message


def test_root_virtual_mfa_fails(audit, recorded):
    # moto cannot give the root user MFA: AWS's answers for a root user with a virtual device.
    recorded.respond("GetAccountSummary", summary(AccountMFAEnabled=1))
    recorded.respond("ListVirtualMFADevices", virtual_devices((ROOT_VIRTUAL_MFA, f"arn:aws:iam::{ACCOUNT}:root")),
                     AssignmentStatus="Assigned")
    run = audit("iam_root_hardware_mfa_enabled")
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert "uses a virtual MFA device" in run.findings[0].message
    assert run.findings[0].evidence["root_virtual_mfa_devices"] == [ROOT_VIRTUAL_MFA]


def test_root_hardware_mfa_passes(audit, aws, recorded):
    # Root MFA on, and the only virtual device (read from moto) belongs to an IAM user: root's is hardware.
    iam = aws.client("iam")
    iam.create_user(UserName="bob")
    enable_mfa(iam, "bob")
    recorded.respond("GetAccountSummary", summary(AccountMFAEnabled=1))
    run = audit("iam_root_hardware_mfa_enabled")
    assert statuses(run) == {ACCOUNT: "PASS"}
    assert run.findings[0].evidence["root_virtual_mfa_devices"] == []


def test_root_hardware_mfa_denied_device_list_is_error(audit, recorded, faults):
    recorded.respond("GetAccountSummary", summary(AccountMFAEnabled=1))
    faults.deny("iam", "ListVirtualMFADevices")
    evidence = error_of(audit("iam_root_hardware_mfa_enabled"))
    assert evidence["iam_action"] == "iam:ListVirtualMFADevices"


# -- iam_user_no_attached_policies ---------------------------------------------------------------------------------
def test_users_with_own_policies_fail_group_members_pass(audit, aws):
    iam = aws.client("iam")
    arn = iam.create_policy(PolicyName="s3-access", PolicyDocument=json.dumps(SCOPED))["Policy"]["Arn"]
    for name in ("attached", "inline", "member"):
        iam.create_user(UserName=name)
    iam.attach_user_policy(UserName="attached", PolicyArn=arn)
    iam.put_user_policy(UserName="inline", PolicyName="own", PolicyDocument=json.dumps(SCOPED))
    iam.create_group(GroupName="developers")
    iam.attach_group_policy(GroupName="developers", PolicyArn=arn)
    iam.add_user_to_group(GroupName="developers", UserName="member")
    run = audit("iam_user_no_attached_policies")
    assert statuses(run) == {"attached": "FAIL", "inline": "FAIL", "member": "PASS"}
    assert by_resource(run)["attached"].evidence == {"attached_policies": ["s3-access"], "inline_policies": []}
    assert by_resource(run)["inline"].evidence == {"attached_policies": [], "inline_policies": ["own"]}


def test_user_policies_no_users_no_findings(audit):
    assert audit("iam_user_no_attached_policies").findings == ()


def test_user_policies_denied_is_error_for_that_user(audit, aws, faults):
    aws.client("iam").create_user(UserName="alice")
    faults.deny("iam", "ListUserPolicies")
    run = audit("iam_user_no_attached_policies")
    assert statuses(run) == {"alice": "ERROR"}
    assert run.findings[0].evidence["iam_action"] == "iam:ListUserPolicies"


# -- iam_support_role_created --------------------------------------------------------------------------------------
SUPPORT_ARN = "arn:aws:iam::aws:policy/AWSSupportAccess"
CLOUDSHELL_ARN = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"



def entities(users: tuple[str, ...] = (), groups: tuple[str, ...] = (), roles: tuple[str, ...] = ()) -> dict[str, Any]:
    """ListEntitiesForPolicy as AWS answers it. moto attaches AWS managed policies only after loading all of them
    (MOTO_IAM_LOAD_MANAGED_POLICIES, ~5 s per test), so these tests answer with AWS's recorded shape instead."""
    return {
        "PolicyUsers": [{"UserName": u, "UserId": f"AIDA{u.upper()}"} for u in users],
        "PolicyGroups": [{"GroupName": g, "GroupId": f"AGPA{g.upper()}"} for g in groups],
        "PolicyRoles": [{"RoleName": r, "RoleId": f"AROA{r.upper()}"} for r in roles],
        "IsTruncated": False,
    }


def test_support_role_absent_fails(audit):
    """The account-level case with nothing configured: no support role."""
    run = audit("iam_support_role_created")
    assert statuses(run) == {ACCOUNT: "FAIL"}
    assert run.findings[0].evidence == {"support_roles": []}


def test_support_policy_on_a_user_only_fails(audit, recorded):
    recorded.respond("ListEntitiesForPolicy", entities(users=("helpdesk",)), PolicyArn=SUPPORT_ARN)
    assert statuses(audit("iam_support_role_created")) == {ACCOUNT: "FAIL"}


def test_support_role_passes(audit, recorded):
    recorded.respond("ListEntitiesForPolicy", entities(roles=("support",)), PolicyArn=SUPPORT_ARN)
    run = audit("iam_support_role_created")
    assert statuses(run) == {ACCOUNT: "PASS"}
    assert run.findings[0].evidence == {"support_roles": ["support"]}


def test_support_role_denied_is_error(audit, faults):
    faults.deny("iam", "ListEntitiesForPolicy")
    evidence = error_of(audit("iam_support_role_created"))
    assert (evidence["iam_action"], evidence["error_code"]) == ("iam:ListEntitiesForPolicy", "AccessDenied")


# -- iam_server_certificate_not_expired ----------------------------------------------------------------------------
def test_expired_server_certificate_fails(audit, aws):
    # moto reports every uploaded certificate as expiring in 2012.
    aws.client("iam").upload_server_certificate(ServerCertificateName="old-site", CertificateBody="body",
                                                PrivateKey="key")
    run = audit("iam_server_certificate_not_expired")
    assert statuses(run) == {"old-site": "FAIL"}
    finding = run.findings[0]
    assert finding.resource.type == "AWS::IAM::ServerCertificate"
    assert finding.resource.arn == f"arn:aws:iam::{ACCOUNT}:server-certificate/old-site"
    assert "expired on 2012-05-08" in finding.message


def test_valid_server_certificate_passes(audit, recorded):
    # moto cannot produce a certificate that has not expired: AWS's answer for one valid until 2099.
    from datetime import datetime, timezone

    recorded.respond("ListServerCertificates", {"ServerCertificateMetadataList": [{
        "Path": "/", "ServerCertificateName": "site", "ServerCertificateId": "ASCAEXAMPLE",
        "Arn": f"arn:aws:iam::{ACCOUNT}:server-certificate/site",
        "UploadDate": datetime(2024, 1, 1, tzinfo=timezone.utc),
        "Expiration": datetime(2099, 1, 1, tzinfo=timezone.utc)}], "IsTruncated": False})
    run = audit("iam_server_certificate_not_expired")
    assert statuses(run) == {"site": "PASS"}
    assert run.findings[0].evidence == {"expiration": "2099-01-01T00:00:00+00:00"}


def test_server_certificates_none_no_findings(audit):
    assert audit("iam_server_certificate_not_expired").findings == ()


# -- iam_cloudshell_full_access_not_attached -----------------------------------------------------------------------
def test_cloudshell_full_access_holders_fail(audit, recorded):
    recorded.respond("ListEntitiesForPolicy", entities(groups=("admins",), roles=("ops",)),
                     PolicyArn=CLOUDSHELL_ARN)
    run = audit("iam_cloudshell_full_access_not_attached")
    assert statuses(run) == {"ops": "FAIL", "admins": "FAIL"}
    role = by_resource(run)["ops"]
    assert (role.resource.type, role.resource.arn) == ("AWS::IAM::Role", f"arn:aws:iam::{ACCOUNT}:role/ops")
    assert by_resource(run)["admins"].resource.type == "AWS::IAM::Group"


def test_cloudshell_full_access_unattached_passes(audit):
    """The account-level case with nothing configured: nobody holds the policy, one account PASS."""
    run = audit("iam_cloudshell_full_access_not_attached")
    assert statuses(run) == {ACCOUNT: "PASS"}


def test_cloudshell_policy_missing_from_the_partition_passes(audit, faults):
    # IAM answers NoSuchEntity for an AWS managed policy a partition lacks: nobody can hold it.
    faults.deny("iam", "ListEntitiesForPolicy", code="NoSuchEntity", status=404)
    assert statuses(audit("iam_cloudshell_full_access_not_attached")) == {ACCOUNT: "PASS"}


# -- iam_instance_role_attached (regional: EC2 instances) -----------------------------------------------------------
def test_instances_with_and_without_roles(audit, aws):
    iam, ec2 = aws.client("iam"), aws.client("ec2")
    iam.create_role(RoleName="ec2-app-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.create_instance_profile(InstanceProfileName="ec2-app")
    iam.add_role_to_instance_profile(InstanceProfileName="ec2-app", RoleName="ec2-app-role")
    with_role = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                  IamInstanceProfile={"Name": "ec2-app"})["Instances"][0]["InstanceId"]
    without = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "legacy"}]}])["Instances"][0]["InstanceId"]
    run = audit("iam_instance_role_attached")
    assert statuses(run) == {with_role: "PASS", without: "FAIL"}
    failed = by_resource(run)[without]
    assert failed.resource.type == "AWS::EC2::Instance" and failed.region == REGION
    assert failed.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{without}"
    assert f"{without} (legacy)" in failed.message
    assert by_resource(run)[with_role].evidence["instance_profile"].endswith(":instance-profile/ec2-app")


def test_terminated_instance_is_not_evaluated(audit, aws):
    ec2 = aws.client("ec2")
    gone = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[gone])
    assert audit("iam_instance_role_attached").findings == ()


def test_instance_roles_denied_is_error(audit, faults):
    faults.deny("ec2", "DescribeInstances")
    evidence = error_of(audit("iam_instance_role_attached"))
    assert (evidence["iam_action"], evidence["error_code"]) == ("ec2:DescribeInstances", "AccessDenied")


def test_new_checks_together_read_only_what_they_declare(audit, aws):
    """Run side by side, sharing collectors (users, access keys, the credential report), no check is credited
    with a read it does not declare."""
    from ..conftest import ALL_CHECKS

    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    iam.create_access_key(UserName="alice")
    mine = [c for c in ALL_CHECKS if c.startswith("iam_") and ALL_CHECKS[c].__module__.split(".")[-1] in
            ("checks", "credential_checks", "password_policy_checks")]
    run = audit(*mine)
    assert not [f.message for f in run.findings if f.status is Status.ERROR]
    for check_id, used in run.actions_used.items():
        assert used and used <= set(ALL_CHECKS[check_id].api_calls), check_id
