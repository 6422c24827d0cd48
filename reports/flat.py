"""Flat formats for pipelines: CSV (one row per finding), JSON Lines, and a summary document for dashboards."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

from auditor.models import AuditRun, Finding

from .base import summarize

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("id", "status", "severity", "category", "service", "check_id", "title", "account", "region",
               "resource_type", "resource_id", "resource_arn", "resource_name", "message", "muted", "mute_reason",
               "compliance", "remediation")


def neutralise(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is escaped with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _row(f: Finding) -> list[str]:
    values = (f.id, f.status.value, f.severity.value, f.category.value, f.service, f.check_id, f.title, f.account,
              f.region, f.resource.type, f.resource.id, f.resource.arn, f.resource.name, f.message, f.muted,
              f.mute_reason, " ".join(str(c) for c in f.compliance), f.remediation.text if f.remediation else "")
    return [neutralise(v) for v in values]


class CsvReporter:
    name = "csv"
    extension = "csv"

    def render(self, run: AuditRun) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_row(f) for f in run.findings)
        return out.getvalue()


class JsonLinesReporter:
    """One finding per line, with the run's identity, for log pipelines."""

    name = "jsonl"
    extension = "jsonl"

    def render(self, run: AuditRun) -> str:
        started = run.started.isoformat().replace("+00:00", "Z")
        lines = (json.dumps({"run_started": started, "tool_version": run.tool_version, **f.to_dict()},
                            ensure_ascii=False, separators=(",", ":")) for f in run.findings)
        return "".join(line + "\n" for line in lines)


class SummaryReporter:
    """The counts a dashboard needs, without the findings."""

    name = "summary"
    extension = "summary.json"

    def render(self, run: AuditRun) -> str:
        summary = summarize(run)
        totals = summary["totals"]
        evaluated = totals["PASS"] + totals["FAIL"]
        rows = []
        for finding in run.findings:
            if not finding.muted:
                rows.append((finding.severity.value, finding.status.value, finding.service, finding.category.value))
        counts: dict[tuple[str, str, str, str], int] = {}
        for key in rows:
            counts[key] = counts.get(key, 0) + 1
        document = {
            "account": run.account,
            "started": run.started.isoformat().replace("+00:00", "Z"),
            "duration_seconds": round(run.duration_seconds, 3),
            "regions": list(run.regions),
            "score": round(100 * totals["PASS"] / evaluated, 1) if evaluated else None,
            "totals": totals,
            "errors": len(run.errors),
            "counts": [{"severity": s, "status": st, "service": sv, "category": c, "count": n}
                       for (s, st, sv, c), n in sorted(counts.items())],
        }
        return json.dumps(document, indent=2) + "\n"
