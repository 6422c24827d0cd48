"""Read a saved JSON report back into an AuditRun, so any format can be re-rendered without touching AWS."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from auditor.errors import AuditError
from auditor.models import (
    ApiError,
    AuditRun,
    Category,
    CheckSummary,
    Control,
    Finding,
    Remediation,
    Resource,
    Severity,
    Status,
)

from .json_report import SCHEMA_VERSION


def read_document(path: str | Path) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditError(f"cannot read report {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise AuditError(f"{path} is not JSON (line {exc.lineno}): {exc.msg}") from None
    if not isinstance(document, dict) or "findings" not in document or "run" not in document:
        raise AuditError(f"{path} is not an aws-audit JSON report")
    major = str(document.get("schema_version", "")).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise AuditError(f"{path} has report schema {document.get('schema_version')!r}; this version reads "
                         f"{SCHEMA_VERSION.split('.')[0]}.x")
    return document


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _remediation(data: Mapping[str, Any] | None) -> Remediation | None:
    return Remediation(**{k: data.get(k, "") for k in ("text", "cli", "terraform", "url")}) if data else None


def _controls(items: list[Mapping[str, str]]) -> tuple[Control, ...]:
    return tuple(Control(c["framework"], c["id"]) for c in items)


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    resource = data["resource"]
    return Finding(
        check_id=data["check_id"], title=data["title"], service=data["service"],
        severity=Severity(data["severity"]), category=Category(data["category"]), status=Status(data["status"]),
        message=data["message"],
        resource=Resource(id=resource["id"], type=resource["type"], arn=resource.get("arn", ""),
                          name=resource.get("name", ""), region=data["region"], tags=resource.get("tags", {})),
        region=data["region"], account=data["account"], evidence=data.get("evidence", {}),
        compliance=_controls(data.get("compliance", [])), remediation=_remediation(data.get("remediation")),
        muted=data.get("muted", False), mute_reason=data.get("mute_reason", ""),
    )


def run_from_document(document: Mapping[str, Any]) -> AuditRun:
    run = document["run"]
    findings = tuple(finding_from_dict(f) for f in document["findings"])
    remediation_of = {f.check_id: f.remediation for f in findings if f.remediation}
    checks = tuple(
        CheckSummary(id=c["id"], title=c["title"], service=c["service"], severity=Severity(c["severity"]),
                     category=Category(c["category"]), risk=c.get("risk", ""),
                     remediation=remediation_of.get(c["id"]) or Remediation(text=""),
                     compliance=_controls(c.get("compliance", [])))
        for c in document.get("checks", [])
    )
    mutelist = document.get("summary", {}).get("mutelist", {})
    return AuditRun(
        tool_version=document.get("tool", {}).get("version", ""), account=run["account"],
        partition=run["partition"], caller_arn=run["caller_arn"], regions=tuple(run["regions"]),
        started=_time(run["started"]), finished=_time(run["finished"]), checks=checks, findings=findings,
        api_calls=run.get("api_calls", {}), errors=tuple(ApiError(**e) for e in run.get("errors", [])),
        expired_mutes=tuple(mutelist.get("expired", ())), mutelist_rules=mutelist.get("rules", 0),
        accounts=tuple(run.get("accounts", (run["account"],))),
    )
