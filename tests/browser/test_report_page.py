"""The HTML report in a real browser: it renders, filters, searches, shows resources, and runs nothing it carries."""
from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.models import Remediation, Status

pytestmark = pytest.mark.browser

ALL = ("ERROR", "PASS")  # the status chips that are off by default

PAYLOADS = (
    '<script>window.__pwned="script"</script>',
    '"><img src=x onerror="window.__pwned=\'img\'">',
    "'><svg onload=window.__pwned='svg'>",
    '</script><script>window.__pwned="json-break"</script><!--',
    'javascript:window.__pwned="url"',
    "\u202etxt.exe\u2066",
)
HOSTILE = " ".join(PAYLOADS)


def show_everything(report) -> None:
    for status in ALL:
        report.chip("f-status", status)
    report.page.check("#f-muted")
    report.page.click("#expand-all")


def test_page_renders_summary_and_the_failing_checks(open_report, sample_run):
    report = open_report(sample_run)
    page = report.page
    assert report.status() == "2 findings in 1 check match."
    assert page.inner_text('[data-status="FAIL"] .n') == "2"
    assert "33%" in page.inner_text("table:has(caption:text('Compliance by framework'))")
    group = page.locator("details.group")
    assert group.count() == 1 and group.get_attribute("open") is not None  # few findings: opened
    text = group.inner_text()
    for expected in ("s3_bucket_public_access_blocked title", "WHAT IS WRONG", "Risk text.", "Block public access.",
                     "aws s3api put-public-access-block", "aws_s3_bucket_public_access_block", "WHERE", "bucket-one"):
        assert expected in text, expected
    assert page.locator("details.group .row").count() == 2
    assert page.get_attribute("details.group a", "href").startswith("https://docs.aws.amazon.com/")
    assert (report.console, report.errors, report.dialogs, report.requests) == ([], [], [], [])


def test_filters_narrow_and_reset_restores(open_report, sample_run):
    report = open_report(sample_run)
    page = report.page
    for status in ALL:
        report.chip("f-status", status)
    assert report.status() == "4 findings in 2 checks match."
    page.check("#f-muted")
    assert report.status() == "5 findings in 2 checks match."
    page.select_option("#f-region", "eu-west-1")
    assert report.status() == "1 finding in 1 check match."
    page.select_option("#f-region", "")
    page.select_option("#f-service", "s3")
    assert report.status() == "4 findings in 1 check match."
    page.select_option("#f-category", "security")
    assert report.status() == "4 findings in 1 check match."
    report.chip("f-severity", "high")
    assert report.status() == "0 findings in 0 checks match."
    assert "No findings match these filters." in page.inner_text("#groups")
    page.click("#reset")
    page.wait_for_function("() => document.getElementById('status-line').textContent.startsWith('2 findings')")
    assert page.get_attribute("#f-status button:has-text('ERROR')", "aria-pressed") == "false"
    # A summary tile filters too.
    page.click('[data-status="PASS"]')
    assert report.status() == "1 finding in 1 check match."
    assert "bucket-two" in page.inner_text("#groups")
    assert report.errors == [] and report.console == []


def test_search_finds_names_arns_tags_and_messages(open_report, sample_run):
    report = open_report(sample_run)
    for status in ALL:
        report.chip("f-status", status)
    report.page.check("#f-muted")
    for text, status in (("BUCKET-TWO", "1 finding in 1 check match."),
                         ("arn:aws:s3:::hostile", "1 finding in 1 check match."),
                         ("owner=<script>", "1 finding in 1 check match."),
                         ("guardduty_detector", "1 finding in 1 check match."),
                         ("s3 nothing-like-this", "0 findings in 0 checks match."),
                         ("", "5 findings in 2 checks match.")):
        report.search(text)
        assert report.status() == status, text
    assert report.errors == []


def test_by_resource_view_shows_each_resource_with_all_its_findings(open_report, sample_run):
    (gd_error,) = [f for f in sample_run.findings if f.status is Status.ERROR]
    (one,) = [f for f in sample_run.findings if f.resource.id == "bucket-one"]
    extra = replace(gd_error, status=Status.FAIL, resource=one.resource, region=one.region, message="gd on one.")
    report = open_report(replace(sample_run, findings=sample_run.findings + (extra,)))
    page = report.page
    report.chip("f-view", "by resource")
    assert report.status() == "3 findings on 2 resources match."
    card = page.locator("details.group", has_text="bucket-one")
    card.locator("summary").click() if card.get_attribute("open") is None else None
    text = card.inner_text()
    assert "2 findings" in text and "guardduty_detector_enabled title" in text and "gd on one." in text
    assert "s3_bucket_public_access_blocked title" in text and "arn:aws:s3:::bucket-one" in text
    # From a finding to its check, and from a resource row back to all the resource's findings.
    before = report.renders()
    card.locator("button", has_text="the check's resources").first.click()
    report.wait_render(before)
    assert page.get_attribute("#f-view button:has-text('by check')", "aria-pressed") == "true"
    assert page.input_value("#f-search") in ("guardduty_detector_enabled", "s3_bucket_public_access_blocked")
    before = report.renders()
    page.locator("details.group .row button", has_text="all its findings").first.click()
    report.wait_render(before)
    assert report.status().endswith("on 1 resource match.")
    assert report.errors == []


def test_hostile_names_tags_and_messages_show_as_text_and_run_nothing(open_report, sample_run):
    evil = Remediation(text=HOSTILE, cli=HOSTILE, terraform=HOSTILE, url='javascript:window.__pwned="href"')
    findings = tuple(
        replace(f, title=HOSTILE, message=HOSTILE, mute_reason=HOSTILE if f.muted else "", remediation=evil,
                evidence={HOSTILE: HOSTILE, "n": 1}, region=HOSTILE if f.status is Status.ERROR else f.region,
                resource=replace(f.resource, name=f"{f.resource.id} {HOSTILE}",
                                 tags={HOSTILE: HOSTILE, "u": PAYLOADS[4]}))
        for f in sample_run.findings
    )
    run = replace(sample_run, findings=findings, caller_arn=HOSTILE, account=HOSTILE, regions=(HOSTILE, "us-east-1"))
    report = open_report(run)
    page = report.page
    show_everything(report)
    report.search("<script>")
    checks_view = page.inner_text("#groups")
    report.chip("f-view", "by resource")
    page.click("#expand-all")
    resources_view = page.inner_text("#groups")
    page.select_option("#f-region", HOSTILE)
    assert report.status() == "1 finding on 1 resource match."

    assert page.evaluate("window.__pwned") is None
    assert (report.dialogs, report.errors, report.console, report.requests) == ([], [], [], [])
    assert page.evaluate("""() => ({
        scripts: document.scripts.length,
        injected: document.querySelectorAll('img, iframe, object, embed, svg script, svg [onload]').length,
        handlers: [...document.querySelectorAll('*')]
            .filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).length,
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    })""") == {"scripts": 2, "injected": 0, "handlers": 0, "links": []}
    for text in (checks_view, resources_view, page.inner_text("header")):
        for payload in PAYLOADS[:5]:
            assert payload in text, payload
        assert "[U+202E]txt.exe[U+2066]" in text and "\u202e" not in text and "\u2066" not in text


def test_a_large_run_renders_a_page_at_a_time(open_report, sample_run):
    (one,) = [f for f in sample_run.findings if f.resource.id == "bucket-one"]
    many = tuple(replace(one, check_id=f"check_{n % 120:03d}", message=f"m{n}",
                         resource=replace(one.resource, id=f"r{n}", arn=f"arn:aws:s3:::r{n}", name=f"r{n}"))
                 for n in range(12_000))
    report = open_report(replace(sample_run, findings=many))
    page = report.page
    assert report.status() == "12,000 findings in 120 checks match; showing the first 40 checks."
    assert page.locator("details.group").count() == 40 and page.locator(".row").count() == 0
    page.click("#expand-all")
    assert page.locator(".row").count() == 40 * 50  # 100 per check, 50 shown
    page.locator("details.group").first.locator("button.more").click()
    assert page.locator("details.group").first.locator(".row").count() == 100
    page.click("#more-groups")
    assert page.locator("details.group").count() == 80
    report.search("r11999")
    assert report.status() == "1 finding in 1 check match."
    assert report.errors == []
