"""IAM users, access keys, policies, MFA devices, server certificates, the password policy, the account summary
and the credential report.

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
from auditor.check import utc_datetime
from auditor.models import ApiError
from auditor.policy import parse_policy

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
class Credential:
    """A password or an access key, as the credential report describes it.

    `issued` is when the credential was set (the password's last change, else the user's creation; the key's
    last rotation): a credential that was never used has been idle since then.
    """

    kind: str  # "password", "access_key_1" or "access_key_2"
    issued: datetime | None
    last_used: datetime | None

    @property
    def label(self) -> str:
        return "console password" if self.kind == "password" else self.kind.replace("_", " ")

    def idle_days(self, now: datetime) -> int | None:
        """Days since the last use, or since issue when never used; None when the report gives neither."""
        since = self.last_used or self.issued
        return None if since is None else (now - since).days

    def evidence(self, now: datetime) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "last_used": self.last_used.isoformat() if self.last_used else "never",
            "idle_days": self.idle_days(now),
        }


@dataclass(frozen=True)
class CredentialReportRow:
    """One line of the credential report: an IAM user, or the root user (`<root_account>`).

    Dates the report gives as `N/A`, `no_information` or `not_supported` are None.
    """

    user: str
    arn: str
    password_enabled: bool  # "not_supported" for the root user reads as False
    mfa_active: bool
    created: datetime | None = None
    password_last_used: datetime | None = None
    password_last_changed: datetime | None = None
    access_keys: tuple[Credential, ...] = ()  # the active access keys only
    keys_last_used: tuple[datetime, ...] = ()  # the last use of each access key, active or not

    @property
    def is_root(self) -> bool:
        return self.user == ROOT_ROW

    @property
    def resource(self) -> Resource:
        return Resource(id=self.user, type="AWS::IAM::User", arn=self.arn, name=self.user)

    @property
    def password(self) -> Credential | None:
        if not self.password_enabled:
            return None
        return Credential("password", self.password_last_changed or self.created, self.password_last_used)

    @property
    def credentials(self) -> tuple[Credential, ...]:
        """The enabled credentials: the console password (if any) and the active access keys."""
        password = self.password
        return ((password,) if password else ()) + self.access_keys

    @property
    def application_user(self) -> bool:
        """A user with active access keys and no console password: a program, not a person, signs in as it."""
        return bool(self.access_keys) and not self.password_enabled

    def last_activity(self) -> datetime | None:
        """The latest use of the password or of any access key (active or not), for the root user's row."""
        used = [d for d in (self.password_last_used, *self.keys_last_used) if d is not None]
        return max(used) if used else None


@dataclass(frozen=True)
class CredentialReport:
    generated: datetime | None
    rows: tuple[CredentialReportRow, ...]

    @property
    def users(self) -> tuple[CredentialReportRow, ...]:
        """The IAM users, without the root user's row."""
        return tuple(r for r in self.rows if not r.is_root)

    @property
    def root(self) -> CredentialReportRow | None:
        """The root user's row; AWS always writes it (moto does not)."""
        return next((r for r in self.rows if r.is_root), None)


REQUIRED_COLUMNS = ("user", "arn", "password_enabled", "mfa_active")


def parse_credential_report(content: bytes | str) -> tuple[CredentialReportRow, ...]:
    """The rows of the CSV that GetCredentialReport returns (boto3 gives the decoded bytes).

    Only `REQUIRED_COLUMNS` must be present; a missing date column reads as "no date".
    """
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"the IAM credential report has no column {', '.join(missing)}")
    return tuple(_report_row(row) for row in reader if row.get("user"))


def _report_row(row: Mapping[str, str | None]) -> CredentialReportRow:
    keys = tuple(
        Credential(f"access_key_{n}", utc_datetime(row.get(f"access_key_{n}_last_rotated")),
                   utc_datetime(row.get(f"access_key_{n}_last_used_date")))
        for n in (1, 2)
        if _flag(row.get(f"access_key_{n}_active"))
    )
    return CredentialReportRow(
        user=row["user"] or "",
        arn=row["arn"] or "",
        password_enabled=_flag(row["password_enabled"]),
        mfa_active=_flag(row["mfa_active"]),
        created=utc_datetime(row.get("user_creation_time")),
        password_last_used=utc_datetime(row.get("password_last_used")),
        password_last_changed=utc_datetime(row.get("password_last_changed")),
        access_keys=keys,
        keys_last_used=tuple(
            d for d in (utc_datetime(row.get(f"access_key_{n}_last_used_date")) for n in (1, 2)) if d is not None
        ),
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
        generated=utc_datetime(response.get("GeneratedTime")),
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


def full_admin_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The statements, as written, that on their own allow every action on every resource (for evidence).

    `NotAction` is not counted: it grants much, but not necessarily everything.
    """
    return [s for s in statements(document) if parse_policy({"Statement": [s]}).grants_full_admin()]


def allows_full_admin(document: Mapping[str, Any]) -> bool:
    """Some Allow grants "*" on "*" and no Deny in the document cancels it."""
    return parse_policy(document).grants_full_admin()


# -- password policy -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PasswordPolicy:
    """The account's IAM password policy. Settings IAM leaves out of its answer read as "not required"."""

    minimum_length: int
    require_uppercase: bool
    require_lowercase: bool
    require_symbols: bool
    require_numbers: bool
    reuse_prevention: int | None  # None: reuse is not prevented
    max_age_days: int | None  # None: passwords never expire


@collector
def password_policy(ctx: CheckContext) -> PasswordPolicy | None:
    """None when the account has no password policy (IAM answers NoSuchEntity)."""
    response = ctx.call("iam", "GetAccountPasswordPolicy")
    if response is None:
        return None
    policy = response.get("PasswordPolicy", {})
    return PasswordPolicy(
        minimum_length=int(policy.get("MinimumPasswordLength") or 0),
        require_uppercase=bool(policy.get("RequireUppercaseCharacters")),
        require_lowercase=bool(policy.get("RequireLowercaseCharacters")),
        require_symbols=bool(policy.get("RequireSymbols")),
        require_numbers=bool(policy.get("RequireNumbers")),
        reuse_prevention=int(policy["PasswordReusePrevention"]) if policy.get("PasswordReusePrevention") else None,
        max_age_days=int(policy["MaxPasswordAge"]) if policy.get("MaxPasswordAge") else None,
    )


# -- MFA devices -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VirtualMfaDevice:
    serial_number: str
    user_arn: str  # the ARN of the user it is assigned to; the root user's is arn:<partition>:iam::<account>:root

    @property
    def assigned_to_root(self) -> bool:
        return self.user_arn.endswith(":root") or self.serial_number.endswith(":mfa/root-account-mfa-device")


@collector
def assigned_virtual_mfa_devices(ctx: CheckContext) -> tuple[VirtualMfaDevice, ...]:
    response = ctx.call("iam", "ListVirtualMFADevices", AssignmentStatus="Assigned") or {}
    return tuple(
        VirtualMfaDevice(serial_number=d.get("SerialNumber", ""), user_arn=(d.get("User") or {}).get("Arn", ""))
        for d in response.get("VirtualMFADevices", [])
    )


# -- policies of users, and who holds a managed policy ---------------------------------------------------------
@collector
def attached_user_policy_arns(ctx: CheckContext, user_name: str) -> tuple[str, ...]:
    response = ctx.call("iam", "ListAttachedUserPolicies", UserName=user_name) or {}
    return tuple(p.get("PolicyArn", "") for p in response.get("AttachedPolicies", []))


@collector
def inline_user_policy_names(ctx: CheckContext, user_name: str) -> tuple[str, ...]:
    return tuple((ctx.call("iam", "ListUserPolicies", UserName=user_name) or {}).get("PolicyNames", []))


@dataclass(frozen=True)
class PolicyHolder:
    """A user, group or role a managed policy is attached to."""

    kind: str  # "user" | "group" | "role"
    name: str
    arn: str

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type=f"AWS::IAM::{self.kind.capitalize()}", arn=self.arn, name=self.name)


def aws_managed_policy_arn(ctx: CheckContext, name: str) -> str:
    return f"arn:{ctx.partition}:iam::aws:policy/{name}"


@collector
def policy_holders(ctx: CheckContext, policy_arn: str) -> tuple[PolicyHolder, ...]:
    """The users, groups and roles a managed policy is attached to (none when the policy does not exist).

    ListEntitiesForPolicy names the entities but gives no ARN; it is built from the account, path and name.
    """
    response = ctx.call("iam", "ListEntitiesForPolicy", PolicyArn=policy_arn) or {}
    holders = []
    for kind, key, name_key in (("user", "PolicyUsers", "UserName"), ("group", "PolicyGroups", "GroupName"),
                                ("role", "PolicyRoles", "RoleName")):
        for entity in response.get(key, []):
            name, path = entity.get(name_key, ""), entity.get("Path") or "/"
            holders.append(PolicyHolder(kind, name, f"arn:{ctx.partition}:iam::{ctx.account}:{kind}{path}{name}"))
    return tuple(holders)


# -- server certificates ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServerCertificate:
    name: str
    arn: str
    certificate_id: str
    expiration: datetime | None

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::IAM::ServerCertificate", arn=self.arn, name=self.name)


@collector
def server_certificates(ctx: CheckContext) -> tuple[ServerCertificate, ...]:
    listed = (ctx.call("iam", "ListServerCertificates") or {}).get("ServerCertificateMetadataList", [])
    return tuple(
        ServerCertificate(
            name=c.get("ServerCertificateName", ""),
            arn=c.get("Arn", ""),
            certificate_id=c.get("ServerCertificateId", ""),
            expiration=utc_datetime(c.get("Expiration")),
        )
        for c in listed
    )


# -- EC2 instances' roles (CIS 1.18) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceRoleUse:
    """An EC2 instance and the instance profile (role) it runs with, if any."""

    instance_id: str
    region: str
    arn: str
    instance_profile_arn: str  # "" when the instance has no instance profile
    tags: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")

    @property
    def resource(self) -> Resource:
        return Resource(id=self.instance_id, type="AWS::EC2::Instance", arn=self.arn, name=self.name,
                        region=self.region, tags=self.tags)


@collector
def instance_roles(ctx: CheckContext) -> tuple[InstanceRoleUse, ...]:
    """Instances of the region that are not terminated, with their instance profile: derived from the EC2
    collector, so DescribeInstances is read and parsed once for the EC2 and the IAM checks."""
    from checks.ec2.resources import instances

    return tuple(
        InstanceRoleUse(instance_id=i.id, region=i.region, arn=i.arn, instance_profile_arn=i.instance_profile_arn,
                        tags=i.tags)
        for i in instances(ctx)
    )
