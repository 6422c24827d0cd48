"""IAM users, access keys, customer managed policies, the account summary and the credential report.

IAM is global: every read goes to the home region of the run, and the checks that use these collectors are
`Scope.GLOBAL`, so each collector runs once per audit.
"""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Mapping
from urllib.parse import unquote

from auditor import CheckContext, DataUnavailable, Resource, collector
from auditor.models import ApiError

ROOT_ROW = "<root_account>"
CREDENTIAL_REPORT_WAIT = "iam.credential_report_wait_seconds"


# -- account summary -------------------------------------------------------------------------------------------
@collector
def account_summary(ctx: CheckContext) -> Mapping[str, int]:
    """GetAccountSummary's SummaryMap: counts and flags such as AccountAccessKeysPresent (root keys)."""
    return dict((ctx.call("iam", "GetAccountSummary") or {}).get("SummaryMap", {}))


# -- users and access keys -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class User:
    name: str
    arn: str
    user_id: str
    created: datetime | None

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::IAM::User", arn=self.arn, name=self.name)


@collector
def users(ctx: CheckContext) -> tuple[User, ...]:
    listed = (ctx.call("iam", "ListUsers") or {}).get("Users", [])
    return tuple(
        User(name=u["UserName"], arn=u.get("Arn", ""), user_id=u.get("UserId", ""), created=u.get("CreateDate"))
        for u in listed
    )


@dataclass(frozen=True)
class AccessKey:
    """An access key's metadata. The key id is not a secret, but only its last four characters are shown."""

    id: str
    status: str
    created: datetime

    @property
    def active(self) -> bool:
        return self.status == "Active"

    @property
    def masked_id(self) -> str:
        return "****" + self.id[-4:]

    def age_days(self, now: datetime) -> int:
        return (now - self.created).days


@collector
def access_keys(ctx: CheckContext, user_name: str) -> tuple[AccessKey, ...]:
    listed = (ctx.call("iam", "ListAccessKeys", UserName=user_name) or {}).get("AccessKeyMetadata", [])
    return tuple(
        AccessKey(id=k["AccessKeyId"], status=k.get("Status", ""), created=k["CreateDate"]) for k in listed
    )


# -- credential report -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CredentialReportRow:
    """One line of the credential report: an IAM user, or the root user (`<root_account>`)."""

    user: str
    arn: str
    password_enabled: bool  # "not_supported" for the root user reads as False
    mfa_active: bool

    @property
    def is_root(self) -> bool:
        return self.user == ROOT_ROW

    @property
    def resource(self) -> Resource:
        return Resource(id=self.user, type="AWS::IAM::User", arn=self.arn, name=self.user)


@dataclass(frozen=True)
class CredentialReport:
    generated: datetime | None
    rows: tuple[CredentialReportRow, ...]

    @property
    def users(self) -> tuple[CredentialReportRow, ...]:
        """The IAM users, without the root user's row."""
        return tuple(r for r in self.rows if not r.is_root)


REQUIRED_COLUMNS = ("user", "arn", "password_enabled", "mfa_active")


def parse_credential_report(content: bytes | str) -> tuple[CredentialReportRow, ...]:
    """The rows of the CSV that GetCredentialReport returns (boto3 gives the decoded bytes)."""
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"the IAM credential report has no column {', '.join(missing)}")
    return tuple(
        CredentialReportRow(
            user=row["user"],
            arn=row["arn"],
            password_enabled=_flag(row["password_enabled"]),
            mfa_active=_flag(row["mfa_active"]),
        )
        for row in reader
        if row.get("user")
    )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _poll_delays(total_seconds: float) -> Iterator[float]:
    """Pauses between polls: 0.25 s doubling up to 2 s, adding up to `total_seconds`.

    A count of pauses rather than a deadline on the clock, so a frozen clock cannot make the wait endless.
    """
    delay, left = 0.25, float(total_seconds)
    while left > 0:
        step = min(delay, left)
        yield step
        left -= step
        delay = min(delay * 2, 2.0)


@collector
def credential_report(ctx: CheckContext) -> CredentialReport:
    """Generate (or reuse: IAM keeps a report for four hours) the credential report and read it.

    Raises `DataUnavailable` with code `ReportNotReady` when the report is not ready within the configured wait.
    """
    try:
        ctx.call("iam", "GenerateCredentialReport", fresh=True)
    except DataUnavailable:
        # Without the right to generate one, a report generated recently by someone else may still be readable.
        response = ctx.call("iam", "GetCredentialReport", fresh=True)
        if response is None:
            raise
        return _credential_report(response)
    delays = _poll_delays(ctx.param(CREDENTIAL_REPORT_WAIT))
    while True:
        response = ctx.call("iam", "GetCredentialReport", fresh=True)  # None: not ready yet
        if response is not None:
            return _credential_report(response)
        delay = next(delays, None)
        if delay is None:
            raise DataUnavailable(
                ApiError(
                    service="iam",
                    operation="GetCredentialReport",
                    iam_action="iam:GetCredentialReport",
                    region=ctx.region,
                    code="ReportNotReady",
                    message=f"the credential report was not ready after {ctx.param(CREDENTIAL_REPORT_WAIT)} s",
                )
            )
        time.sleep(delay)


def _credential_report(response: Mapping[str, Any]) -> CredentialReport:
    return CredentialReport(
        generated=response.get("GeneratedTime"),
        rows=parse_credential_report(response.get("Content") or b""),
    )


# -- customer managed policies ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    arn: str
    policy_id: str
    default_version_id: str
    attachment_count: int

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::IAM::Policy", arn=self.arn, name=self.name)


@collector
def attached_customer_policies(ctx: CheckContext) -> tuple[ManagedPolicy, ...]:
    """Customer managed policies attached to at least one user, group or role.

    A policy attached to nothing grants nothing; CIS 1.16 and FSBP IAM.1 judge the attached ones.
    """
    listed = (ctx.call("iam", "ListPolicies", Scope="Local", OnlyAttached=True) or {}).get("Policies", [])
    return tuple(
        ManagedPolicy(
            name=p["PolicyName"],
            arn=p["Arn"],
            policy_id=p.get("PolicyId", ""),
            default_version_id=p.get("DefaultVersionId", ""),
            attachment_count=int(p.get("AttachmentCount", 0)),
        )
        for p in listed
    )


@collector
def policy_document(ctx: CheckContext, policy_arn: str, version_id: str) -> dict[str, Any]:
    response = ctx.call("iam", "GetPolicyVersion", PolicyArn=policy_arn, VersionId=version_id) or {}
    return parse_policy_document(response.get("PolicyVersion", {}).get("Document"))


# -- policy documents ------------------------------------------------------------------------------------------
def parse_policy_document(document: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """A policy document as a dict. boto3 decodes documents itself; IAM's raw form is URL-encoded JSON."""
    if document is None:
        return {}
    if isinstance(document, Mapping):
        return dict(document)
    try:
        parsed = json.loads(document)
    except json.JSONDecodeError:
        parsed = json.loads(unquote(document))
    return parsed if isinstance(parsed, dict) else {}


def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The statements of a document; `Statement` may be a single object or a list."""
    found = document.get("Statement", [])
    found = [found] if isinstance(found, Mapping) else found
    return [s for s in found if isinstance(s, Mapping)] if isinstance(found, list) else []


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def full_admin_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Statements that allow every action on every resource (`Action: "*"` with `Resource: "*"`).

    `NotAction` is not counted here: it grants much, but not necessarily everything.
    """
    return [
        s
        for s in statements(document)
        if s.get("Effect") == "Allow"
        and any(a.strip() in ("*", "*:*") for a in _values(s.get("Action")))
        and any(r.strip() == "*" for r in _values(s.get("Resource")))
    ]


def allows_full_admin(document: Mapping[str, Any]) -> bool:
    return bool(full_admin_statements(document))
