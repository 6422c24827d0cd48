"""Auditing an organization: active members only, one worker budget, consolidated report, ERROR rows for an
account whose role cannot be assumed."""
from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from auditor import AuditConfig, Status, run_audit
from auditor.errors import ConfigError
from auditor.organization import OrgOptions

from ..conftest import ALL_CHECKS, BOTO

CHECK = ALL_CHECKS["guardduty_detector_enabled"]


@pytest.fixture
def org(aws):
    """An organization with two active members (one in an OU) and a suspended one."""
    client = aws.client("organizations")
    client.create_organization(FeatureSet="ALL")
    ids = [client.create_account(AccountName=n, Email=f"{n}@example.com")["CreateAccountStatus"]["AccountId"]
           for n in ("prod", "dev", "gone")]
    client.close_account(AccountId=ids[2])
    root = client.list_roots()["Roots"][0]["Id"]
    ou = client.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    client.move_account(AccountId=ids[0], SourceParentId=root, DestinationParentId=ou)
    # The prod account has GuardDuty on; the others do not.
    _member_session(aws, ids[0]).client("guardduty").create_detector(Enable=True)
    return {"prod": ids[0], "dev": ids[1], "suspended": ids[2], "ou": ou, "management": "123456789012"}


def _member_session(aws: boto3.Session, account: str) -> boto3.Session:
    creds = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/AuditRole",
                                          RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name="us-east-1")


def _audit(**options: Any):
    config = AuditConfig(regions=("us-east-1",), workers=4,
                         organization=OrgOptions(role_name="AuditRole", **options))
    return run_audit(config, boto_session=BOTO, checks=[CHECK])


def test_every_active_account_is_audited_and_suspended_ones_are_skipped(org):
    run = _audit()
    assert set(run.accounts) == {org["management"], org["prod"], org["dev"]}
    assert {f.account: f.status for f in run.findings} == {
        org["management"]: Status.FAIL, org["prod"]: Status.PASS, org["dev"]: Status.FAIL}


def test_ou_accounts_and_exclusions(org):
    assert _audit(ou=org["ou"]).accounts == (org["prod"],)
    assert org["dev"] not in _audit(exclude=(org["dev"],)).accounts
    assert _audit(accounts=(org["dev"],)).accounts == (org["dev"],)
    with pytest.raises(ConfigError, match="not in the organization"):
        _audit(accounts=("999999999999",))


def test_an_account_whose_role_cannot_be_assumed_is_error_rows_not_missing(org):
    def deny_dev(params: dict[str, Any], **_: Any) -> Any:
        if org["dev"] in str(params):  # the serialized request names the role ARN
            body = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}, "ResponseMetadata": {}}
            return AWSResponse("https://simulated", 403, {}, None), body
        return None

    BOTO.events.register_first("before-call.sts.AssumeRole", deny_dev)
    try:
        run = _audit()
    finally:
        BOTO.events.unregister("before-call.sts.AssumeRole", deny_dev)
    dev = [f for f in run.findings if f.account == org["dev"]]
    assert [(f.status, f.evidence["iam_action"], f.evidence["error_code"]) for f in dev] == [
        (Status.ERROR, "sts:AssumeRole", "AccessDenied")]
    assert {f.account for f in run.findings if f.status is not Status.ERROR} == {org["management"], org["prod"]}


def test_consolidated_report_has_per_account_summary_and_files(org, tmp_path):
    import io
    import json

    from auditor.runner import OutputOptions, write_reports

    run = _audit()
    written = write_reports(run, OutputOptions(formats=("json",), output_dir=tmp_path), io.StringIO(), io.StringIO())
    names = sorted(p.name.rsplit("-", 1)[0] for p in written)  # without the timestamp
    assert names == sorted(["aws-audit-org-123456789012"] + [f"aws-audit-{a}" for a in run.accounts])
    consolidated = json.loads(next(p for p in written if "-org-" in p.name).read_text())
    assert set(consolidated["summary"]["by_account"]) == set(run.accounts)
    assert consolidated["run"]["accounts"] == list(run.accounts)


def test_listing_needs_organization_permissions(org, faults):
    faults.deny("organizations", "ListAccounts")
    with pytest.raises(ConfigError, match=r"cannot list the organization's accounts \(organizations:ListAccounts: "
                                          r"AccessDenied\)"):
        _audit()
