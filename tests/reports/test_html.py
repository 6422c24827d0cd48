import base64
import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.models import Remediation
from reports.html import HtmlReporter, embed_json, page_document

from .conftest import HOSTILE

DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)
APP_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
HARNESS = Path(__file__).with_name("dom_harness.js")
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH")


def render(run) -> str:
    return HtmlReporter().render(run)


def embedded(html: str) -> str:
    matches = DATA.findall(html)
    assert len(matches) == 1
    return matches[0]


def outside_data(html: str) -> str:
    return DATA.sub("", html)


def expand(doc: dict) -> list[dict]:
    """The findings of the page's compact document, as Finding.to_dict() has them (without the id): what the page's
    script reads, decoded independently (the layout is documented on reports.html.page_document)."""
    strings, out = doc["strings"], []
    for record in doc["findings"]:
        check, status, flags, res, message, evidence, mute = (record + [[], ""])[:7]
        c = doc["checks"][check]
        region, account, rtype, rid, name, arn, tags = (doc["resources"][res] + [{}])[:7]
        region, account, name = strings[region], strings[account], rid if name == 0 else name
        if isinstance(message, int):
            marks = dict(zip("\x01\x02\x03", (name, rid, region), strict=True))
            message = re.sub("[\x01-\x03]", lambda m, marks=marks: marks[m.group()], strings[message])
        out.append({
            "check_id": c["id"], "title": c["title"], "service": c["service"], "severity": c["severity"],
            "category": c["category"], "status": ["FAIL", "ERROR", "PASS"][status], "message": message,
            "resource": {"arn": strings[arn] + rid if isinstance(arn, int) else arn, "id": rid,
                         "type": strings[rtype], "name": name, "tags": tags},
            "region": region, "account": account,
            "evidence": {strings[k]: strings[v] if isinstance(v, int) else v[0]
                         for k, v in zip(evidence[::2], evidence[1::2], strict=True)},
            "compliance": [{"framework": f, "id": i} for f, i in c["compliance"]],
            "remediation": c["remediation"], "muted": bool(flags & 1), "mute_reason": strings[mute] if mute else "",
            **({"new": bool(flags & 2)} if doc.get("baseline") else {}),
        })
    return out


def expected(run) -> list[dict]:
    return [{k: v for k, v in f.to_dict().items() if k != "id"} for f in run.findings]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_registered_as_the_html_reporter():
    (ep,) = [ep for ep in entry_points(group="aws_audit.reporters") if ep.name == "html"]
    reporter = ep.load()()
    assert (reporter.name, reporter.extension) == ("html", "html")


def test_page_loads_nothing_from_elsewhere(sample_run):
    html = render(sample_run)
    lowered = html.lower()
    for needle in ("<script src", "<link", "@import", "<img", "<iframe", "<object", "<embed", "srcset", "<base",
                   "@font-face", "fonts.googleapis", "cdn"):
        assert needle not in lowered, needle
    assert not re.search(r"url\(\s*['\"]?\s*(https?:|//|data:)", lowered)
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert "url(" not in style
    for tag, attrs in tags(html):
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
        if tag == "script":
            assert attrs in ({}, {"type": "application/json", "id": "report-data"})
    # No address at all outside the data: the page's code and styles name no host.
    assert "://" not in outside_data(html)


def test_content_security_policy_allows_only_the_page_script(sample_run):
    html = render(sample_run)
    (script,) = APP_SCRIPT.findall(html)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp


def test_embedded_document_holds_every_finding_losslessly(sample_run):
    text = embedded(render(sample_run))
    for raw in ("<", ">", "&", "\u2028", "\u2029", "\u202e"):
        assert raw not in text
    assert "\\u003c" in text  # the hostile strings are there, escaped
    doc = json.loads(text)
    assert doc == page_document(sample_run)
    assert expand(doc) == expected(sample_run)
    assert {c["id"]: c["risk"] for c in doc["checks"]} == {
        "s3_bucket_public_access_blocked": "Risk text.", "guardduty_detector_enabled": "Risk text."}


def test_new_and_muted_findings_are_flagged(sample_run):
    (one,) = [f for f in sample_run.findings if f.resource.id == "bucket-one"]
    doc = page_document(replace(sample_run, new_findings=frozenset({one.id})))
    assert [r[2] for r in doc["findings"]] == [2, 0, 0, 1, 0]  # bucket-one is new, bucket-muted muted
    assert [r[2] for r in page_document(sample_run)["findings"]] == [0, 0, 0, 1, 0]


def test_each_checks_text_is_embedded_once_whatever_the_number_of_findings(sample_run):
    (one,) = [f for f in sample_run.findings if f.resource.id == "bucket-one"]
    many = tuple(replace(one, resource=replace(one.resource, id=f"b{n}", arn=f"arn:aws:s3:::b{n}", name=f"b{n}"),
                         message=f"{one.check_id} on b{n}.") for n in range(2000))
    run = replace(sample_run, findings=many)
    text = embedded(render(run))
    assert text.count("Block public access.") == 1 and text.count("Risk text.") == 1
    assert text.count("us-east-1") == 2 and text.count("AWS::S3::Bucket") == 1  # interned (run regions + table)
    assert len(text) / len(many) < 60  # a finding, its resource and its evidence value: ~40 bytes
    assert expand(json.loads(text)) == expected(run)


_text = st.text(st.sampled_from("ab-\x01\x02\x03<é\u202e"), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rid=_text, name=_text, region=_text, message=_text, arn=_text, evidence=_text)
def test_message_templates_and_arn_prefixes_decode_to_the_original(sample_run, rid, name, region, message, arn,
                                                                     evidence):
    (one,) = [f for f in sample_run.findings if f.resource.id == "bucket-one"]
    finding = replace(one, region=region, message=f"{message}{name}{rid}{region}{message}", evidence={evidence: 1},
                      resource=replace(one.resource, id=rid, name=name, arn=arn + rid, tags={name: rid}))
    run = replace(sample_run, findings=(finding, replace(finding, message=message, evidence={"k": evidence})))
    assert expand(json.loads(embed_json(page_document(run)))) == expected(run)


def test_embed_json_cannot_end_the_script_element():
    value = {"k</script>": "</script><!--<script>&amp;\u2028\u2029\u202e", "n": [1, 2.5, None, True]}
    text = embed_json(value)
    assert not re.search(r"[<>&\u2028\u2029\u202e]", text)
    assert json.loads(text) == value


def test_hostile_strings_never_appear_raw(sample_run):
    hostile_run = replace(sample_run, caller_arn=HOSTILE, account=HOSTILE,
                          regions=(HOSTILE,), tool_version=HOSTILE,
                          errors=tuple(replace(e, message=HOSTILE, iam_action=HOSTILE) for e in sample_run.errors))
    for run in (sample_run, hostile_run):
        html = render(run)
        for needle in ("<script>alert", "<img src=x", "\u202e"):
            assert needle not in html, needle
        # "onerror=" survives only as text (escaped, or inside a JSON string): no element gets such an attribute.
        assert [t for t, attrs in tags(html) if any(a.startswith("on") for a in attrs)] == []
        assert [t for t, _ in tags(html)].count("script") == 2
        assert expand(json.loads(embedded(html))) == expected(run)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in outside_data(render(hostile_run))


def test_javascript_url_is_never_a_link(sample_run):
    html = render(sample_run)
    assert "javascript:alert(3)" in embedded(html)  # the tag value is data...
    assert "javascript:" not in outside_data(html)  # ...and nothing outside the data turns it into markup
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "document.write" not in html


def test_a_value_that_looks_like_a_placeholder_is_not_expanded(sample_run):
    run = replace(sample_run, caller_arn="@@REPORT_DATA@@ @@SUMMARY@@", account="@@HEADER@@")
    html = render(run)
    assert len(DATA.findall(html)) == 1
    assert json.loads(embedded(html))["account"] == "@@HEADER@@"
    assert "<dd>@@REPORT_DATA@@ @@SUMMARY@@</dd>" in html


def test_header_shows_account_and_run_details(sample_run):
    html = render(sample_run)
    assert "<title>aws-audit report — 123456789012</title>" in html
    header = html.split('<header class="page">', 1)[1].split("</header>", 1)[0]
    for text in ("123456789012", "aws", "arn:aws:iam::123456789012:user/auditor", "us-east-1, eu-west-1",
                 "2026-11-26 12:00:00 UTC", "42.0 s", "aws-audit 0.1.0", "<dt>API requests</dt><dd>3</dd>"):
        assert text in header, text


def test_summary_shows_counts_errors_and_muted(sample_run):
    html = render(sample_run)
    summary = html.split('id="summary-h"', 1)[1].split('id="findings-h"', 1)[0]

    def tile(attr: str) -> str:
        return re.search(rf'{attr}[^>]*><span class="n">([\d,]+)</span>', summary).group(1)

    assert tile('data-status="FAIL"') == "2"
    assert tile('data-status="ERROR"') == "1"
    assert tile('data-status="PASS"') == "1"
    assert tile('data-muted="1"') == "1"
    assert tile('data-sev="high"') == "2"
    assert "1 result(s) could not be evaluated (ERROR)" in summary
    assert "1 finding(s) muted" in summary
    assert "<code>guardduty:ListDetectors</code>" in summary and "<code>AccessDenied</code>" in summary
    assert 'data-service="rds"' in summary  # a check that found nothing still shows its service


def test_summary_shows_compliance_per_framework_and_inline_charts(sample_run):
    summary = render(sample_run).split('id="summary-h"', 1)[1].split('id="findings-h"', 1)[0]
    fsbp = summary.split("AWS Foundational Security Best Practices", 1)[1].split("</tr>", 1)[0]
    # all three checks declare aws-fsbp S3.8: PASS 1, FAIL 2 (the muted FAIL and the ERROR are not evaluated)
    assert '<span class="score">33%</span>' in fsbp and "1 of 3 passed" in fsbp
    assert "1 of 123 (1%)" in fsbp  # catalogue controls with a check in this run
    cis = summary.split("CIS AWS Foundations Benchmark v4.0.1", 1)[1].split("</tr>", 1)[0]
    assert "nothing evaluated" in cis and "0 of 64 (0%)" in cis
    assert summary.count("<svg") >= 10 and "xmlns" not in summary  # drawn inline, nothing to fetch
    assert '<rect class="st-FAIL" x="0.00" width="50.00" height="10"><title>FAIL 2, ERROR 1, PASS 1</title>' in summary


def test_summary_says_so_when_everything_could_be_read(sample_run):
    run = replace(sample_run, errors=(), findings=tuple(f for f in sample_run.findings if f.status.value != "ERROR"))
    summary = render(run).split('id="summary-h"', 1)[1].split('id="findings-h"', 1)[0]
    assert "no ERROR results" in summary and "AWS API errors" not in summary


# ---- the page script, run under node against a small fake DOM (skipped without node) ----

def drive(tmp_path: Path, run, **options) -> dict:
    page = tmp_path / "report.html"
    page.write_text(render(run), encoding="utf-8")
    done = subprocess.run([NODE, str(HARNESS), str(page), json.dumps(options)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_node
def test_page_script_parses(sample_run, tmp_path):
    (script,) = APP_SCRIPT.findall(render(sample_run))
    path = tmp_path / "app.js"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@needs_node
def test_default_view_shows_unmuted_failures_grouped_by_check(sample_run, tmp_path):
    page = drive(tmp_path, sample_run)
    assert page["status_line"] == "2 findings in 1 check match."
    assert (page["groups"], page["rows"]) == (1, 2)
    assert "bucket-one" in page["text"] and "bucket-two" not in page["text"] and "bucket-muted" not in page["text"]
    for text in ("Risk text.", "Block public access.", "aws s3api put-public-access-block",
                 "aws_s3_bucket_public_access_block", "Owner=", "us-east-1"):
        assert text in page["text"], text


@needs_node
def test_pass_error_and_muted_findings_are_behind_the_filters(sample_run, tmp_path):
    page = drive(tmp_path, sample_run, statuses=["FAIL", "ERROR", "PASS"], muted=True, expand=True)
    assert page["status_line"] == "5 findings in 2 checks match."
    assert page["rows"] == 5
    for text in ("bucket-two", "bucket-muted", "Muted: accepted risk", "guardduty_detector_enabled", "ERROR"):
        assert text in page["text"], text


@needs_node
def test_only_https_aws_documentation_becomes_a_link(sample_run, tmp_path):
    page = drive(tmp_path, sample_run, statuses=["FAIL", "ERROR", "PASS"], muted=True, expand=True)
    assert "x=javascript:alert(3)" in page["text"]  # shown as text
    assert {link["href"] for link in page["links"]} == {
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"
    }
    assert all(link["rel"] == "noopener noreferrer" for link in page["links"])
    assert page["other_hrefs"] == []
    # Hostile values reach the page as text, with the bidi override made visible.
    assert "<script>alert(1)</script>" in page["text"] and "[U+202E]txt.exe" in page["text"]

    for url in ("javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "http://docs.aws.amazon.com/x",
                "https://docs.aws.amazon.com.evil.example/x", "https://evil.example/?docs.aws.amazon.com"):
        bad = Remediation(text="t", url=url)
        run = replace(sample_run, findings=tuple(replace(f, remediation=bad) for f in sample_run.findings))
        page = drive(tmp_path, run, statuses=["FAIL", "ERROR", "PASS"], muted=True, expand=True)
        assert page["links"] == [], url
        assert url in page["text"]


@needs_node
def test_by_resource_view_shows_a_resource_with_all_its_findings(sample_run, tmp_path):
    (gd_error,) = [f for f in sample_run.findings if f.status.value == "ERROR"]
    (one,) = [f for f in sample_run.findings if f.resource.id == "bucket-one"]
    extra = replace(gd_error, status=one.status, resource=one.resource, region=one.region, message="gd on one.")
    run = replace(sample_run, findings=sample_run.findings + (extra,))
    page = drive(tmp_path, run, view="resource", expand=True)
    assert page["status_line"] == "3 findings on 2 resources match."
    assert (page["groups"], page["rows"]) == (2, 3)
    assert "guardduty_detector_enabled title" in page["text"] and "gd on one." in page["text"]
    assert "Owner=" in page["text"] and "<script>alert(1)</script>" in page["text"]


@needs_node
def test_search_matches_resource_names_arns_and_messages(sample_run, tmp_path):
    everything = {"statuses": ["FAIL", "ERROR", "PASS"], "muted": True}
    assert drive(tmp_path, sample_run, search="BUCKET-TWO", **everything)["status_line"].startswith("1 finding ")
    assert drive(tmp_path, sample_run, search="arn:aws:s3:::hostile", **everything)["rows"] == 1
    assert drive(tmp_path, sample_run, search="guardduty_detector", **everything)["groups"] == 1
    assert drive(tmp_path, sample_run, search="s3 nothing-like-this", **everything)["groups"] == 0


@needs_node
def test_large_runs_render_a_page_at_a_time(sample_run, tmp_path):
    (check_finding,) = [f for f in sample_run.findings if f.resource.id == "bucket-one"]
    many = tuple(
        replace(check_finding, check_id=f"check_{n % 120:03d}",
                resource=replace(check_finding.resource, id=f"r{n}", arn=f"arn:aws:s3:::r{n}", name=f"r{n}"))
        for n in range(3000)
    )
    run = replace(sample_run, findings=many)
    page = drive(tmp_path, run)
    assert page["status_line"] == "3,000 findings in 120 checks match; showing the first 40 checks."
    assert page["initial_groups"] == 40 and page["initial_rows"] == 0  # groups start closed, rows built on open
    page = drive(tmp_path, run, expand=True)
    assert page["rows"] == 40 * 25
    page = drive(tmp_path, run, expand=True, more=True)
    assert (page["groups"], page["rows"]) == (120, 3000)
