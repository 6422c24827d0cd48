"""`make bench`: the HTML report at scale. Builds a synthetic run (default 100,000 findings from 60 checks in 3
regions, with long messages, evidence and tags), renders it, and opens it in headless Chromium (Debian's
/usr/bin/chromium driven by Playwright) to measure first paint, first groups rendered, searches and view changes.

    python -m bench.html_bench [--findings 100000] [--out bench/results/html.json]

Without Playwright or Chromium it still reports the render time and the file size.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from auditor.models import (
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
from reports.html import HtmlReporter, embed_json
from reports.json_report import report_document

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
# service, resource type, ARN pattern ({r} region, {a} account, {i} id), id pattern
SERVICES = [
    ("ec2", "AWS::EC2::Instance", "arn:aws:ec2:{r}:{a}:instance/{i}", "i-{h:017x}"),
    ("ec2", "AWS::EC2::SecurityGroup", "arn:aws:ec2:{r}:{a}:security-group/{i}", "sg-{h:017x}"),
    ("ec2", "AWS::EC2::Volume", "arn:aws:ec2:{r}:{a}:volume/{i}", "vol-{h:017x}"),
    ("s3", "AWS::S3::Bucket", "arn:aws:s3:::{i}", "data-{h:08x}-{r}"),
    ("iam", "AWS::IAM::Role", "arn:aws:iam::{a}:role/{i}", "service-role-{h:06x}"),
    ("lambda", "AWS::Lambda::Function", "arn:aws:lambda:{r}:{a}:function:{i}", "handler-{h:06x}"),
    ("rds", "AWS::RDS::DBInstance", "arn:aws:rds:{r}:{a}:db:{i}", "db-{h:06x}"),
    ("kms", "AWS::KMS::Key", "arn:aws:kms:{r}:{a}:key/{i}", "{h:08x}-1234-4abc-9def-{h:012x}"),
    ("ecs", "AWS::ECS::Service", "arn:aws:ecs:{r}:{a}:service/prod/{i}", "svc-{h:06x}"),
    ("vpc", "AWS::EC2::VPC", "arn:aws:ec2:{r}:{a}:vpc/{i}", "vpc-{h:017x}"),
]
FRAMEWORKS = {"aws-fsbp": ["EC2.2", "EC2.8", "S3.8", "IAM.1", "Lambda.1", "RDS.3", "KMS.4"],
              "cis-aws-4.0.1": ["1.4", "2.1.1", "3.1", "5.2"]}


def synthetic_run(findings: int, checks: int = 60, seed: int = 7) -> AuditRun:
    rnd = random.Random(seed)
    severities = list(Severity)
    summaries = []
    for n in range(checks):
        service, rtype, _, _ = SERVICES[n % len(SERVICES)]
        cid = f"{service}_check_{n:02d}"
        summaries.append(CheckSummary(
            id=cid, title=f"{rtype.split('::')[-1]} should follow hardening rule {n} (encryption, exposure, logging)",
            service=service, severity=severities[n % 5], category=list(Category)[n % 7 % 4],
            risk="An attacker who reaches this resource could read or change data, move laterally to other "
                 "workloads in the account, or hide their activity; the setting also fails common audits. " * 2,
            remediation=Remediation(
                text="Turn the setting on for every affected resource and enforce it with an SCP or AWS Config rule; "
                     "review who changed it and why.",
                cli=f"aws {service} modify-something --resource-id <id> --enable-protection --region <region>\n"
                    f"aws {service} describe-something --resource-id <id> --query 'Settings'",
                terraform=f'resource "aws_{service}_thing" "this" {{\n  protection_enabled = true\n'
                          '  encryption {\n    kms_key_id = aws_kms_key.this.arn\n  }\n}',
                url=f"https://docs.aws.amazon.com/{service}/latest/userguide/security-best-practices.html"),
            compliance=tuple(Control(fw, ids[(n + k) % len(ids)])
                             for k, (fw, ids) in enumerate(FRAMEWORKS.items()))[: 1 + n % 2],
        ))
    out = []
    per_check = findings // checks
    for n, check in enumerate(summaries):
        _, rtype, arn_pattern, id_pattern = SERVICES[n % len(SERVICES)]
        count = per_check + (1 if n < findings % checks else 0)
        for k in range(count):
            region = REGIONS[k % len(REGIONS)]
            h = k * 2654435761 & 0xFFFFFFFF  # every check of a resource type evaluates the same resources
            rid = id_pattern.format(h=h, r=region)
            status = Status.FAIL if rnd.random() < 0.55 else Status.ERROR if rnd.random() < 0.05 else Status.PASS
            tags = {"Name": f"{rid}-app", "team": rnd.choice(["payments", "search", "platform"]),
                    "env": rnd.choice(["prod", "staging"])} if k % 2 else {}
            out.append(Finding(
                check_id=check.id, title=check.title, service=check.service, severity=check.severity,
                category=check.category, status=status,
                message=f"{rtype.split('::')[-1]} {rid} in {region} "
                        + (f"allows 0.0.0.0/0 on port {rnd.choice([22, 3389, 5432, 6379])} and is not encrypted with "
                           f"a customer managed key; last changed {rnd.randrange(1, 400)} days ago by "
                           f"arn:aws:iam::123456789012:role/deployer-{rnd.randrange(100)}."
                           if status is Status.FAIL else "is configured as required."),
                resource=Resource(id=rid, type=rtype, arn=arn_pattern.format(r=region, a=ACCOUNT, i=rid),
                                  name=tags.get("Name", rid), region=region, tags=tags),
                region=region, account=ACCOUNT,
                evidence={"SettingValue": "disabled" if status is Status.FAIL else "enabled",
                          "LastModified": f"2026-{1 + k % 12:02d}-{1 + k % 28:02d}T10:{k % 60:02d}:00Z",
                          "PolicyStatement": '{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}'},
                compliance=check.compliance, remediation=check.remediation,
                muted=k % 50 == 0, mute_reason="accepted until the 2027 migration" if k % 50 == 0 else ""))
    started = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    return AuditRun(tool_version="bench", account=ACCOUNT, partition="aws",
                    caller_arn=f"arn:aws:iam::{ACCOUNT}:role/auditor", regions=REGIONS, started=started,
                    finished=started.replace(minute=9), checks=tuple(summaries), findings=tuple(out),
                    api_calls={"ec2:DescribeInstances": 30}, errors=())


def measure_browser(path: Path, searches: list[str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    marks = "performance.getEntriesByName('aws-audit:rendered')"
    results: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function(f"() => {marks}.length > 0", timeout=120_000)
        results["wall_open_seconds"] = round(time.perf_counter() - started, 3)
        timing = page.evaluate(f"""() => {{
            const paint = performance.getEntriesByType('paint');
            const fcp = paint.find(e => e.name === 'first-contentful-paint');
            const nav = performance.getEntriesByType('navigation')[0];
            return {{first_contentful_paint_ms: fcp ? fcp.startTime : null,
                     dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
                     first_groups_rendered_ms: {marks}[0].startTime,
                     dom_elements: document.getElementsByTagName('*').length,
                     js_heap_mb: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null,
                     status_line: document.getElementById('status-line').textContent}};
        }}""")
        results.update({k: round(v, 1) if isinstance(v, float) else v for k, v in timing.items()})

        def timed(action: str) -> float:
            """Runs `action` in the page and returns ms until the page has rendered again."""
            return round(page.evaluate(f"""async () => {{
                const before = {marks}.length, t0 = performance.now();
                {action};
                while ({marks}.length === before) await new Promise(r => setTimeout(r, 5));
                const entries = {marks};
                return entries[entries.length - 1].startTime - t0;
            }}"""), 1)

        search = "const s = document.getElementById('f-search'); s.value = {!r}; s.dispatchEvent(new Event('input'))"
        results["searches_ms"] = {}
        for term in searches:
            results["searches_ms"][term] = timed(search.format(term))
            results.setdefault("search_results", {})[term] = page.inner_text("#status-line")
        timed(search.format(""))
        results["all_statuses_and_muted_ms"] = timed(
            "document.querySelectorAll('#f-status button').forEach(b => b.getAttribute('aria-pressed') === 'false'"
            " && b.click()); const m = document.getElementById('f-muted'); m.checked = true;"
            " m.dispatchEvent(new Event('change'))")
        results["by_resource_view_ms"] = timed("document.querySelectorAll('#f-view button')[1].click()")
        results["by_resource_status_line"] = page.inner_text("#status-line")
        results["expand_all_ms"] = round(page.evaluate("""() => { const t0 = performance.now();
            document.getElementById('expand-all').click(); return performance.now() - t0; }"""), 1)
        results["dom_elements_expanded"] = page.evaluate("document.getElementsByTagName('*').length")
        results["page_errors"] = errors
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--out", default="bench/results/html.json")
    args = parser.parse_args()

    t0 = time.perf_counter()
    run = synthetic_run(args.findings)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = HtmlReporter().render(run)
    render = time.perf_counter() - t0
    full_json = len(embed_json(report_document(run)).encode())  # what the page embedded before the compact form
    size = len(html.encode())
    result: dict[str, Any] = {
        "findings": len(run.findings), "checks": len(run.checks), "regions": len(run.regions),
        "build_run_seconds": round(build, 2), "render_seconds": round(render, 2),
        "html_bytes": size, "html_mb": round(size / 1e6, 2), "bytes_per_finding": round(size / len(run.findings)),
        "full_document_bytes_per_finding": round(full_json / len(run.findings)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(html, encoding="utf-8")
        try:
            if not os.path.exists(CHROMIUM):
                raise RuntimeError(f"{CHROMIUM} is missing")
            searches = [run.findings[len(run.findings) // 3].resource.id, "0.0.0.0/0", "s3_check_13", "no-such-thing"]
            result["browser"] = measure_browser(path, searches)
        except (ImportError, RuntimeError) as exc:
            result["browser"] = {"skipped": str(exc)}

    b = result["browser"]
    rows = [("findings", f"{result['findings']:,}"), ("render (Python)", f"{result['render_seconds']} s"),
            ("file size", f"{result['html_mb']} MB ({result['bytes_per_finding']} B/finding; full JSON document "
                          f"{result['full_document_bytes_per_finding']} B/finding)")]
    if "skipped" in b:
        rows.append(("browser", "skipped: " + b["skipped"]))
    else:
        rows += [("first contentful paint", f"{b['first_contentful_paint_ms']} ms"),
                 ("first groups rendered", f"{b['first_groups_rendered_ms']} ms"),
                 ("DOM elements after load", f"{b['dom_elements']:,}"),
                 ("JS heap", f"{b['js_heap_mb']} MB" if b["js_heap_mb"] else "n/a"),
                 *((f"search {t!r}", f"{ms} ms (incl. 120 ms debounce): {b['search_results'][t]}")
                   for t, ms in b["searches_ms"].items()),
                 ("all statuses + muted", f"{b['all_statuses_and_muted_ms']} ms"),
                 ("switch to by-resource view", f"{b['by_resource_view_ms']} ms"),
                 ("expand all", f"{b['expand_all_ms']} ms"),
                 ("page errors", str(len(b["page_errors"])))]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
