"""The reporter protocol and what every report shares: the summary counts."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Protocol

from auditor.models import AuditRun, Severity, Status


class Reporter(Protocol):
    """A report format. `extension` is the file suffix; a reporter without one writes to the terminal."""

    name: str
    extension: str

    def render(self, run: AuditRun) -> str: ...


def _status_counts() -> dict[str, int]:
    return {s.value: 0 for s in Status}


def summarize(run: AuditRun) -> dict[str, Any]:
    """Counts by status x severity, by service, by category and by check (checks with no resources included)."""
    by_status_severity = {s.value: {v.value: 0 for v in reversed(Severity)} for s in Status}
    by_service: dict[str, dict[str, int]] = defaultdict(_status_counts)
    by_category: dict[str, dict[str, int]] = defaultdict(_status_counts)
    by_check: dict[str, dict[str, Any]] = {}
    by_account: dict[str, dict[str, int]] = {account: _status_counts() for account in run.accounts}
    for check in run.checks:
        by_service[check.service]  # noqa: B018 - a service whose checks found nothing still appears
        by_category[check.category.value]  # noqa: B018
        by_check[check.id] = {
            "title": check.title,
            "service": check.service,
            "severity": check.severity.value,
            "category": check.category.value,
            **_status_counts(),
            "muted": 0,
        }
    totals = Counter({s.value: 0 for s in Status})
    muted = 0
    for f in run.findings:
        if f.muted:
            muted += 1
            if f.check_id in by_check:
                by_check[f.check_id]["muted"] += 1
            continue
        totals[f.status.value] += 1
        by_status_severity[f.status.value][f.severity.value] += 1
        by_service[f.service][f.status.value] += 1
        by_category[f.category.value][f.status.value] += 1
        by_account.setdefault(f.account, _status_counts())[f.status.value] += 1
        if f.check_id in by_check:
            by_check[f.check_id][f.status.value] += 1
    return {
        "totals": {**dict(totals), "muted": muted, "findings": len(run.findings)},
        "by_status_severity": by_status_severity,
        "by_service": dict(sorted(by_service.items())),
        "by_category": dict(sorted(by_category.items())),
        "by_check": by_check,
        "by_account": by_account,
        "mutelist": {"rules": run.mutelist_rules, "expired": [dict(r) for r in run.expired_mutes]},
    }


def report_basename(run: AuditRun) -> str:
    prefix = "aws-audit-org" if len(run.accounts) > 1 else "aws-audit"
    return f"{prefix}-{run.account}-{run.started.strftime('%Y%m%dT%H%M%SZ')}"


def for_account(run: AuditRun, account: str) -> AuditRun:
    """The part of an organization run that concerns one account."""
    from dataclasses import replace

    return replace(run, account=account, accounts=(account,),
                   findings=tuple(f for f in run.findings if f.account == account))
