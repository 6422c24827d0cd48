"""Real-browser tests of the HTML report: Debian's /usr/bin/chromium driven by Playwright (never `playwright install`).

Skipped, not failed, when the playwright package or /usr/bin/chromium is missing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest

from reports.html import HtmlReporter
from tests.reports.conftest import sample_run  # noqa: F401 - the fixed run with hostile strings, as a fixture here

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the HTML report in headless Chromium (Playwright)")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed ({exc})")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Report:
    """An opened report, with everything the page said or asked for while it ran."""

    page: Any
    console: list[str] = field(default_factory=list)  # warnings and errors (a CSP violation is one)
    errors: list[str] = field(default_factory=list)  # uncaught exceptions
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt, dismissed
    requests: list[str] = field(default_factory=list)  # anything but the page itself

    def status(self) -> str:
        return self.page.inner_text("#status-line")

    def chip(self, fieldset: str, text: str) -> None:
        self.page.locator(f"#{fieldset} button", has_text=text).click()
        self.rendered()

    def search(self, text: str) -> None:
        before = self.renders()
        self.page.fill("#f-search", text)
        self.wait_render(before)

    def renders(self) -> int:
        return self.page.evaluate("performance.getEntriesByName('aws-audit:rendered').length")

    def rendered(self) -> None:
        self.wait_render(0)

    def wait_render(self, renders_before: int) -> None:
        """Waits until the page has rendered again (a function: the page's CSP forbids Playwright's string eval)."""
        self.page.wait_for_function("n => performance.getEntriesByName('aws-audit:rendered').length > n",
                                    arg=renders_before)


@pytest.fixture
def open_report(browser, tmp_path):
    contexts = []

    def _open(run) -> Report:
        path = tmp_path / "report.html"
        path.write_text(HtmlReporter().render(run), encoding="utf-8")
        context = browser.new_context(java_script_enabled=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        report = Report(page)
        page.on("console", lambda m: m.type in ("error", "warning") and report.console.append(m.text))
        page.on("pageerror", lambda e: report.errors.append(str(e)))
        page.on("dialog", lambda d: (report.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: r.url != path.as_uri() and report.requests.append(r.url))
        page.goto(path.as_uri())
        report.rendered()
        return report

    yield _open
    for context in contexts:
        context.close()
