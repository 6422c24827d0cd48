"""The data the engine produces: statuses, severities, findings and the run that holds them.

Everything here is immutable (frozen dataclasses, enums) so findings can be shared between threads and
reporters without copies or locks.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Mapping


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"


class Severity(str, Enum):
    INFORMATIONAL = "informational"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(
                f"unknown severity {text!r} (expected one of: {', '.join(s.value for s in cls)})"
            ) from None


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Category(str, Enum):
    SECURITY = "security"
    COST = "cost"
    RELIABILITY = "reliability"
    OPERATIONS = "operations"


class Scope(str, Enum):
    """Where a check runs: once per audited region, or once per account."""

    REGIONAL = "regional"
    GLOBAL = "global"


@dataclass(frozen=True)
class Control:
    """A compliance control a check evidences, e.g. Control("aws-fsbp", "S3.8")."""

    framework: str
    id: str

    def __str__(self) -> str:
        return f"{self.framework}:{self.id}"


@dataclass(frozen=True)
class Remediation:
    text: str
    cli: str = ""
    terraform: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class Resource:
    """What a finding is about. `type` uses CloudFormation resource type names (AWS::S3::Bucket)."""

    id: str
    type: str
    arn: str = ""
    name: str = ""
    region: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.arn or f"{self.type}/{self.id}"


@dataclass(frozen=True, slots=True)  # slots: a large account has hundreds of thousands of these
class Finding:
    check_id: str
    title: str
    service: str
    severity: Severity
    category: Category
    status: Status
    message: str
    resource: Resource
    region: str
    account: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    compliance: tuple[Control, ...] = ()
    remediation: Remediation | None = None
    muted: bool = False
    mute_reason: str = ""

    @property
    def id(self) -> str:
        return finding_id(self.check_id, self.account, self.region, self.resource.key)

    def to_dict(self) -> dict[str, Any]:
        remediation = self.remediation
        return {
            "id": self.id,
            "check_id": self.check_id,
            "title": self.title,
            "service": self.service,
            "severity": self.severity.value,
            "category": self.category.value,
            "status": self.status.value,
            "message": self.message,
            "resource": {
                "arn": self.resource.arn,
                "id": self.resource.id,
                "type": self.resource.type,
                "name": self.resource.name,
                "tags": dict(self.resource.tags),
            },
            "region": self.region,
            "account": self.account,
            "evidence": dict(self.evidence),
            "compliance": [{"framework": c.framework, "id": c.id} for c in self.compliance],
            "remediation": {
                "text": remediation.text,
                "cli": remediation.cli,
                "terraform": remediation.terraform,
                "url": remediation.url,
            }
            if remediation
            else None,
            "muted": self.muted,
            "mute_reason": self.mute_reason,
        }


def finding_id(check_id: str, account: str, region: str, resource_key: str) -> str:
    """Stable across runs: the same check on the same resource always gets the same id."""
    digest = hashlib.sha256("\x1f".join((check_id, account, region, resource_key)).encode())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class ApiError:
    """An AWS read that could not be made; the reason some checks report ERROR."""

    service: str
    operation: str
    iam_action: str
    region: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "service": self.service,
            "operation": self.operation,
            "iam_action": self.iam_action,
            "region": self.region,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class CheckSummary:
    """Per-check metadata the reports need, including checks that found no resources."""

    id: str
    title: str
    service: str
    severity: Severity
    category: Category
    risk: str
    remediation: Remediation
    compliance: tuple[Control, ...]


@dataclass(frozen=True)
class AuditRun:
    tool_version: str
    account: str
    partition: str
    caller_arn: str
    regions: tuple[str, ...]
    started: datetime
    finished: datetime
    checks: tuple[CheckSummary, ...]
    findings: tuple[Finding, ...]
    api_calls: Mapping[str, int]
    errors: tuple[ApiError, ...]
    # IAM actions each check's units asked for (not reported; used to prove `api_calls` declarations right).
    actions_used: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)
    # Mutelist rules past their expiry date: reported so their owners renew or drop them; they muted nothing.
    expired_mutes: tuple[Mapping[str, Any], ...] = ()
    mutelist_rules: int = 0
    # With --baseline: ids of FAIL findings the baseline run did not have failing (None: no baseline given).
    new_findings: frozenset[str] | None = None
    # Every account audited (an organization run has several; findings carry their account).
    accounts: tuple[str, ...] = ()

    @property
    def duration_seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    def failing(self, at_least: Severity | None = None) -> list[Finding]:
        return [
            f
            for f in self.findings
            if f.status is Status.FAIL
            and not f.muted
            and (at_least is None or f.severity.rank >= at_least.rank)
        ]

    @property
    def has_errors(self) -> bool:
        return any(f.status is Status.ERROR for f in self.findings)
