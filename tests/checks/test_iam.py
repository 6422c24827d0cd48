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
from checks.iam.resources import allows_full_admin, parse_credential_report, parse_policy_document

from ..conftest import ACCOUNT, BOTO, statuses

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

    def respond(self, operation: str, body: dict[str, Any]) -> None:
        def handler(**_: Any) -> Any:
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
