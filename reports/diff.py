"""Compare two runs by stable finding id: what is newly failing, resolved, still failing, or changed severity."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any, Mapping

from tabulate import tabulate


def _failing(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f["id"]: f for f in document["findings"] if f["status"] == "FAIL" and not f.get("muted")}


@dataclass(frozen=True)
class Diff:
    old_started: str
    new_started: str
    new: tuple[Mapping[str, Any], ...]
    resolved: tuple[Mapping[str, Any], ...]
    still_failing: tuple[Mapping[str, Any], ...]
    changed_severity: tuple[tuple[Mapping[str, Any], Mapping[str, Any]], ...]

    def to_dict(self) -> dict[str, Any]:
        brief = lambda f: {k: f[k] for k in ("id", "check_id", "severity", "region", "message")}  # noqa: E731
        return {
            "old_run": self.old_started, "new_run": self.new_started,
            "counts": {"new": len(self.new), "resolved": len(self.resolved), "still_failing": len(self.still_failing),
                       "changed_severity": len(self.changed_severity)},
            "new": [brief(f) for f in self.new],
            "resolved": [brief(f) for f in self.resolved],
            "still_failing": [brief(f) for f in self.still_failing],
            "changed_severity": [{**brief(n), "old_severity": o["severity"]} for o, n in self.changed_severity],
        }


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> Diff:
    before, after = _failing(old), _failing(new)
    order = lambda f: (f["check_id"], f["region"], f["resource"]["id"])  # noqa: E731
    everything_old = {f["id"]: f for f in old["findings"]}
    changed = tuple(
        (everything_old[i], after[i]) for i in sorted(after, key=lambda i: order(after[i]))
        if i in everything_old and everything_old[i]["severity"] != after[i]["severity"]
    )
    return Diff(
        old_started=old["run"]["started"], new_started=new["run"]["started"],
        new=tuple(sorted((f for i, f in after.items() if i not in before), key=order)),
        resolved=tuple(sorted((f for i, f in before.items() if i not in after), key=order)),
        still_failing=tuple(sorted((f for i, f in after.items() if i in before), key=order)),
        changed_severity=changed,
    )


def new_failing_ids(baseline: Mapping[str, Any], findings: Any) -> frozenset[str]:
    """Ids of the FAIL findings of a run that the baseline run did not have failing."""
    before = _failing(baseline)
    return frozenset(f.id for f in findings if f.status.value == "FAIL" and not f.muted and f.id not in before)


def render_table(diff: Diff) -> str:
    data = diff.to_dict()
    lines = [f"{data['old_run']} -> {data['new_run']}: " + ", ".join(f"{n} {k.replace('_', ' ')}"
                                                                       for k, n in data["counts"].items())]
    for section in ("new", "resolved", "changed_severity"):
        rows = data[section]
        if rows:
            lines += ["", section.replace("_", " ").capitalize() + ":"]
            lines.append(tabulate([[r["severity"], r["check_id"], r["region"], r["message"]] for r in rows],
                                  headers=["severity", "check", "region", "finding"]))
    return "\n".join(lines) + "\n"


def render_json(diff: Diff) -> str:
    return json.dumps(diff.to_dict(), indent=2) + "\n"


def render_html(diff: Diff) -> str:
    data = diff.to_dict()
    parts = ["<!doctype html><html lang=en><head><meta charset=utf-8>",
             "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'\">",
             "<title>aws-audit diff</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
             "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left}"
             "</style></head><body>",
             f"<h1>aws-audit diff</h1><p>{html.escape(data['old_run'])} &rarr; {html.escape(data['new_run'])}</p>",
             "<ul>" + "".join(f"<li>{n} {html.escape(k.replace('_', ' '))}</li>" for k, n in data["counts"].items())
             + "</ul>"]
    for section in ("new", "resolved", "changed_severity", "still_failing"):
        rows = data[section]
        parts.append(f"<h2>{html.escape(section.replace('_', ' ').capitalize())} ({len(rows)})</h2>")
        if rows:
            parts.append("<table><tr><th>severity</th><th>check</th><th>region</th><th>finding</th></tr>")
            parts += [f"<tr><td>{html.escape(r['severity'])}</td><td>{html.escape(r['check_id'])}</td>"
                      f"<td>{html.escape(r['region'])}</td><td>{html.escape(r['message'])}</td></tr>" for r in rows]
            parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
