"""The HTML report: one self-contained page for people (inline CSS and JS, nothing loaded from elsewhere).

The header and the executive summary (counts, compliance per framework, small inline SVG charts) are rendered
here, escaped, so they also read without JavaScript and in print. The findings are embedded as a compact document
(`page_document`): each check's text once, each finding a short record pointing at it, repeated strings interned;
the browser expands and renders only what is on screen, a page at a time, so 100,000 findings stay usable.
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

from auditor.catalogue import catalogue
from auditor.models import AuditRun, Finding, Severity, Status

from .base import summarize

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


def _bar(parts: Iterable[tuple[int, str]], total: int = 0) -> str:
    """A small inline SVG stacked bar: parts are (count, css class); it fills count/total of its width."""
    parts = [(n, cls) for n, cls in parts if n]
    total = total or sum(n for n, _ in parts)
    label = ", ".join(f"{cls.split('-')[-1]} {n:,}" for n, cls in parts) or "none"
    rects, x = [], 0.0
    for n, cls in parts:
        width = 100 * n / total
        rects.append(f'<rect class="{cls}" x="{x:.2f}" width="{width:.2f}" height="10"><title>{label}</title></rect>')
        x += width
    return (f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{_text(label)}">'
            f'<rect class="track" width="100" height="10"></rect>{"".join(rects)}</svg>')


def _status_bar(counts: dict[str, int], total: int = 0) -> str:
    return _bar(((counts[s], f"st-{s}") for s in ("FAIL", "ERROR", "PASS")), total)


def _compliance(run: AuditRun, by_check: dict[str, dict[str, Any]]) -> str:
    """Per framework: passed / evaluated (PASS + FAIL, not muted) findings of the checks that declare its controls,
    and how many of the framework's catalogue controls a check of this run declares."""
    frameworks = catalogue()
    declared: dict[str, set[str]] = {}
    checks: dict[str, set[str]] = {}
    for c in run.checks:
        for x in c.compliance:
            declared.setdefault(x.framework, set()).add(x.id)
            checks.setdefault(x.framework, set()).add(c.id)
    rows = []
    for name in sorted(set(frameworks) | set(declared)):
        controls = frameworks.get(name, {}).get("controls", {})
        ids = checks.get(name, set())
        passed = sum(by_check[c]["PASS"] for c in ids)
        failed = sum(by_check[c]["FAIL"] for c in ids)
        covered = len(declared.get(name, set()) & set(controls))
        score = (f'<span class="score">{100 * passed / (passed + failed):.0f}%</span> '
                 f'{_bar([(passed, "st-PASS"), (failed, "st-FAIL")])}'
                 f'<span class="note">{passed:,} of {passed + failed:,} passed</span>'
                 if passed + failed else '<span class="note">nothing evaluated</span>')
        share = f"{100 * covered / len(controls):.0f}%" if controls else "-"
        rows.append([f'{_text(frameworks.get(name, {}).get("title", name))}<div class="note mono">{_text(name)}</div>',
                     score, f'{covered:,} of {len(controls):,} ({share}) {_bar([(covered, "covered")], len(controls))}',
                     f"{len(ids):,}"])
    return _table("Compliance by framework (muted and ERROR findings not counted)",
                  ["Framework", "Score: passed / evaluated", "Catalogue controls with a check in this run", "Checks"],
                  rows)


def _tile(cls: str, data: str, n: int, label: str) -> str:
    """A summary count; clicking it (with JavaScript) filters the findings below. Arguments are trusted literals."""
    return (f'<button type="button" class="tile {cls}{" zero" if not n else ""}" {data}>'
            f'<span class="n">{n:,}</span><span class="l">{label}</span></button>')


STATUS_CODES = {Status.FAIL: 0, Status.ERROR: 1, Status.PASS: 2}  # the page's STATUSES, in this order
MUTED, NEW = 1, 2  # finding record flags
_MARKS = "\x01\x02\x03"  # in a message template: the resource's name, id and region
_HAS_MARK = re.compile("[\x01-\x03]")


def page_document(run: AuditRun) -> dict[str, Any]:
    """The findings as the page reads them; lossless for what the page shows (the finding ids are left out).

    `strings` holds every repeated string once; the numbers below marked * are indexes into it.
    - `checks`: one entry per distinct (check id, title, service, severity, category, compliance, remediation) of
      the findings, usually one per check, with the check's risk.
    - `resources`: [region*, account*, type*, id, name (0: the id), arn (a number n: strings[n] + the id), tags].
    - `findings`: [check, status (FAIL, ERROR, PASS = 0, 1, 2), flags (MUTED | NEW), resource, message (a number:
      a template* whose \x01 \x02 \x03 stand for the resource's name, id and region), evidence ([key*, value*
      or [a non-string value], ...]), mute reason*]. Trailing empty values are left off.
    """
    risks = {c.id: c.risk for c in run.checks}
    strings: dict[str, int] = {}
    variants: dict[tuple[Any, ...], int] = {}
    checks: list[dict[str, Any]] = []
    resources: dict[tuple[Any, ...], int] = {}
    resource_records: list[list[Any]] = []

    def intern(value: str) -> int:
        return strings.setdefault(value, len(strings))

    def check_of(f: Finding) -> int:
        key = (f.check_id, f.title, f.service, f.severity, f.category, f.compliance, f.remediation)
        if key not in variants:
            variants[key] = len(checks)
            rem = f.remediation
            checks.append({
                "id": f.check_id, "title": f.title, "service": f.service, "severity": f.severity.value,
                "category": f.category.value, "risk": risks.get(f.check_id, ""),
                "remediation": {"text": rem.text, "cli": rem.cli, "terraform": rem.terraform, "url": rem.url}
                if rem else None,
                "compliance": [[c.framework, c.id] for c in f.compliance],
            })
        return variants[key]

    def resource_of(f: Finding) -> int:
        r = f.resource
        key = (f.region, f.account, r.type, r.id, r.name, r.arn, tuple(r.tags.items()))
        if key not in resources:
            resources[key] = len(resource_records)
            arn = intern(r.arn[: -len(r.id)]) if r.id and len(r.arn) > len(r.id) and r.arn.endswith(r.id) else r.arn
            name = 0 if r.id and r.name == r.id else r.name
            record = [intern(f.region), intern(f.account), intern(r.type), r.id, name, arn, dict(r.tags)]
            resource_records.append(record if r.tags else record[:-1])
        return resources[key]

    def message_of(f: Finding) -> str | int:
        values = (f.resource.name, f.resource.id, f.region)
        message = f.message
        if _HAS_MARK.search("".join((message, *values))):
            return message
        for value, mark in sorted(zip(values, _MARKS, strict=True), key=lambda pair: -len(pair[0])):
            if value:
                message = message.replace(value, mark)
        return intern(message)

    new = run.new_findings
    records = []
    for f in run.findings:
        flags = (MUTED if f.muted else 0) | (NEW if new is not None and f.id in new else 0)
        evidence: list[Any] = []
        for key, value in f.evidence.items():
            evidence += [intern(key), intern(value) if isinstance(value, str) else [value]]
        record = [check_of(f), STATUS_CODES[f.status], flags, resource_of(f), message_of(f), evidence,
                  intern(f.mute_reason) if f.mute_reason else ""]
        while len(record) > 5 and not record[-1]:
            record.pop()
        records.append(record)
    return {
        "format": 1,
        "account": run.account,
        "regions": list(run.regions),
        "checks": checks,
        "strings": list(strings),
        "resources": resource_records,
        "findings": records,
    }


def _header(run: AuditRun) -> str:
    items = [
        ("Account", run.account),
        ("Partition", run.partition),
        ("Caller", run.caller_arn),
        (f"Regions ({len(run.regions)})", ", ".join(run.regions) or "none"),
        ("Started", run.started.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        ("Duration", _duration(run.duration_seconds)),
        ("Checks", f"{len(run.checks):,}"),
        ("API requests", f"{sum(run.api_calls.values()):,}"),
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
    widest = {part: max((sum(c.values()) for c in summary[part].values()), default=0)
              for part in ("by_service", "by_category")}
    services = _table(
        "By service (muted findings not counted)",
        ["Service", *statuses, ""],
        (
            [f'<button type="button" class="linkish" data-service="{_text(name)}">{_text(name)}</button>',
             *(_count(counts[s]) for s in statuses), _status_bar(counts, widest["by_service"])]
            for name, counts in summary["by_service"].items()
        ),
    )
    categories = _table(
        "By category",
        ["Category", *statuses, ""],
        ([f'<button type="button" class="linkish" data-category="{_text(name)}">{_text(name)}</button>',
          *(_count(counts[s]) for s in statuses), _status_bar(counts, widest["by_category"])]
         for name, counts in summary["by_category"].items()),
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
        f'<div class="wide">{_status_bar(totals)}</div>'
        f'<h3>Failing, by severity</h3><div class="tiles" aria-label="Failures by severity">{sev_tiles}</div>'
        f'<div class="wide">{_bar((fail_by_severity[s.value], f"sev-{s.value}") for s in reversed(Severity))}</div>'
        f"{muted}"
        f'<div class="tables">{services}{categories}</div>'
        f'<div class="tables">{_compliance(run, summary["by_check"])}</div>'
        f'<section class="unchecked" aria-labelledby="unchecked-h"><h3 id="unchecked-h">What could not be checked'
        f"</h3>{unchecked}</section>"
    )


class HtmlReporter:
    name = "html"
    extension = "html"

    def render(self, run: AuditRun) -> str:
        template, script_hash = _template()
        values = {
            "TITLE": _text(f"aws-audit report — {run.account}"),
            "ACCOUNT": _text(run.account),
            "HEADER": _header(run),
            "SUMMARY": _summary(run, summarize(run)),
            "SCRIPT_HASH": script_hash,
            "REPORT_DATA": embed_json(page_document(run)),
        }
        # One pass, so a value that happens to contain @@NAME@@ is never expanded itself.
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
