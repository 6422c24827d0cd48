"""The HTML report: one self-contained page for people (inline CSS and JS, nothing loaded from elsewhere).

The page embeds exactly the JSON report document and the browser renders the findings from it, a page at a time,
so a run with thousands of findings stays quick. The header and the summary are rendered here, escaped, so they
also read without JavaScript and in print.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from html import escape
from importlib import resources
from typing import Any, Iterable

from auditor.models import AuditRun, Severity, Status

from .json_report import report_document

_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")
_APP_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
# Characters that could end the <script> element or a JS line, or reorder what a reader sees (bidi controls).
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def embed_json(document: Any) -> str:
    """JSON that is safe inside <script type="application/json">: nothing in a string can close the element."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text(value: Any) -> str:
    """Escaped for HTML; invisible bidi controls are shown as [U+202E] so they cannot disguise a value."""
    return escape(_BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value)))


@cache
def _template() -> tuple[str, str]:
    """The template and the CSP hash of its one inline script (the page runs no other script)."""
    text = resources.files("reports").joinpath("templates/report.html").read_text(encoding="utf-8")
    scripts = _APP_SCRIPT.findall(text)
    if len(scripts) != 1 or _PLACEHOLDER.search(scripts[0]):
        raise RuntimeError("reports/templates/report.html must hold exactly one static <script>")
    digest = hashlib.sha256(scripts[0].encode("utf-8")).digest()
    return text, "sha256-" + base64.b64encode(digest).decode("ascii")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{seconds:.1f} s"


def _table(caption: str, headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A small table; cells are already-escaped HTML."""
    head = "".join(f'<th scope="col">{h}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _count(n: int) -> str:
    return f'<span class="{"num" if n else "num zero"}">{n:,}</span>'


def _tile(cls: str, data: str, n: int, label: str) -> str:
    """A summary count; clicking it (with JavaScript) filters the findings below. Arguments are trusted literals."""
    return (f'<button type="button" class="tile {cls}{" zero" if not n else ""}" {data}>'
            f'<span class="n">{n:,}</span><span class="l">{label}</span></button>')


def _header(run: AuditRun, doc: dict[str, Any]) -> str:
    items = [
        ("Account", run.account),
        ("Partition", run.partition),
        ("Caller", run.caller_arn),
        (f"Regions ({len(run.regions)})", ", ".join(run.regions) or "none"),
        ("Started", run.started.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        ("Duration", _duration(run.duration_seconds)),
        ("Checks", f"{len(run.checks):,}"),
        ("API requests", f"{doc['run']['api_calls_total']:,}"),
        ("Tool", f"aws-audit {run.tool_version}"),
    ]
    return "".join(f"<div><dt>{_text(k)}</dt><dd>{_text(v)}</dd></div>" for k, v in items)


def _summary(run: AuditRun, summary: dict[str, Any]) -> str:
    totals = summary["totals"]
    statuses = [s.value for s in Status]
    tiles = [_tile(f"st-{s}", f'data-status="{s}"', totals[s], s) for s in ("FAIL", "ERROR", "PASS")]
    tiles.append(_tile("muted", 'data-muted="1"', totals["muted"], "muted"))
    fail_by_severity = summary["by_status_severity"]["FAIL"]
    sev_tiles = "".join(
        _tile(f"sev-{s.value}", f'data-sev="{s.value}"', fail_by_severity[s.value], s.value) for s in reversed(Severity)
    )
    services = _table(
        "By service (muted findings not counted)",
        ["Service", *statuses],
        (
            [f'<button type="button" class="linkish" data-service="{_text(name)}">{_text(name)}</button>',
             *(_count(counts[s]) for s in statuses)]
            for name, counts in summary["by_service"].items()
        ),
    )
    categories = _table(
        "By category",
        ["Category", *statuses],
        ([_text(name), *(_count(counts[s]) for s in statuses)] for name, counts in summary["by_category"].items()),
    )
    errors = totals["ERROR"]
    if errors or run.errors:
        unchecked = (
            f"<p><strong>{errors:,} result(s) could not be evaluated (ERROR).</strong> "
            "They are neither passes nor failures: the auditor could not read what it needed. "
            "Grant the IAM actions below (or enable the region) and run again.</p>"
        )
        if run.errors:
            unchecked += _table(
                "AWS API errors",
                ["IAM action", "Error code", "Region", "API call", "Message"],
                (
                    [f"<code>{_text(e.iam_action)}</code>", f"<code>{_text(e.code)}</code>", _text(e.region or "-"),
                     _text(f"{e.service}:{e.operation}"), _text(e.message)]
                    for e in run.errors
                ),
            )
    else:
        unchecked = "<p>Every selected check could read what it needed: no ERROR results.</p>"
    muted = (
        f'<p class="note">{totals["muted"]:,} finding(s) muted by the mutelist, not counted above '
        "(tick “show muted” below to see them).</p>"
        if totals["muted"]
        else ""
    )
    return (
        f'<div class="tiles" aria-label="Results by status">{"".join(tiles)}</div>'
        f'<h3>Failing, by severity</h3><div class="tiles" aria-label="Failures by severity">{sev_tiles}</div>'
        f"{muted}"
        f'<div class="tables">{services}{categories}</div>'
        f'<section class="unchecked" aria-labelledby="unchecked-h"><h3 id="unchecked-h">What could not be checked'
        f"</h3>{unchecked}</section>"
    )


class HtmlReporter:
    name = "html"
    extension = "html"

    def render(self, run: AuditRun) -> str:
        doc = report_document(run)
        template, script_hash = _template()
        values = {
            "TITLE": _text(f"aws-audit report — {run.account}"),
            "ACCOUNT": _text(run.account),
            "HEADER": _header(run, doc),
            "SUMMARY": _summary(run, doc["summary"]),
            "SCRIPT_HASH": script_hash,
            "REPORT_DATA": embed_json(doc),
        }
        # One pass, so a value that happens to contain @@NAME@@ is never expanded itself.
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
