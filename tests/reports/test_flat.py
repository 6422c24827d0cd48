"""CSV, JSON Lines and the dashboard summary; re-rendering a saved report; comparing two runs."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from click.testing import CliRunner

from auditor.cli import main
from auditor.models import Severity, Status
from reports.diff import diff_documents, new_failing_ids
from reports.flat import CsvReporter, JsonLinesReporter, SummaryReporter, neutralise
from reports.json_report import JsonReporter, report_document
from reports.load import run_from_document

from .conftest import HOSTILE


def test_csv_one_row_per_finding_and_no_formula_injection(sample_run):
    hostile = replace(sample_run.findings[0], message="=HYPERLINK(\"http://evil\",\"x\")")
    run = replace(sample_run, findings=(hostile, *sample_run.findings[1:]))
    rows = list(csv.DictReader(io.StringIO(CsvReporter().render(run))))
    assert len(rows) == len(run.findings)
    assert rows[0]["message"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert [neutralise(v) for v in ("+1", "-1", "@x", "ok", 3)] == ["'+1", "'-1", "'@x", "ok", "3"]
    assert any(r["resource_name"] == HOSTILE for r in rows)  # kept as text, quoted by the CSV writer


def test_jsonl_is_one_parseable_finding_per_line(sample_run):
    lines = JsonLinesReporter().render(sample_run).splitlines()
    assert len(lines) == len(sample_run.findings)
    first = json.loads(lines[0])
    assert first["run_started"] == "2026-11-26T12:00:00Z" and first["check_id"] == sample_run.findings[0].check_id


def test_summary_document(sample_run):
    summary = json.loads(SummaryReporter().render(sample_run))
    assert summary["totals"]["FAIL"] == 2 and summary["totals"]["muted"] == 1
    assert summary["score"] == round(100 * 1 / 3, 1)
    assert {"severity": "high", "status": "FAIL", "service": "s3", "category": "security", "count": 2} in \
        summary["counts"]


def test_saved_report_renders_back_to_the_same_document(sample_run):
    document = report_document(sample_run)
    again = report_document(run_from_document(json.loads(JsonReporter().render(sample_run))))
    assert again == document


def test_report_command_rerenders_without_aws(sample_run, tmp_path):
    saved = tmp_path / "run.json"
    saved.write_text(JsonReporter().render(sample_run))
    result = CliRunner().invoke(main, ["report", str(saved), "--format", "csv,html", "--output-dir",
                                       str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".csv", ".html"]


def test_report_command_rejects_a_file_that_is_not_a_report(tmp_path):
    (tmp_path / "x.json").write_text("[1, 2]")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "x.json"), "--format", "csv"])
    assert result.exit_code == 2 and "is not an aws-audit JSON report" in result.output


def _with(run, **changes_by_resource):
    findings = []
    for f in run.findings:
        change = changes_by_resource.get(f.resource.id.replace("-", "_"))
        findings.append(replace(f, **change) if change else f)
    return replace(run, findings=tuple(findings))


def test_diff_new_resolved_still_failing_and_changed_severity(sample_run):
    old = report_document(sample_run)
    newer = _with(sample_run, bucket_one={"status": Status.PASS}, bucket_two={"status": Status.FAIL},
                  hostile_bucket={"severity": Severity.CRITICAL})
    result = diff_documents(old, report_document(newer)).to_dict()
    assert result["counts"] == {"new": 1, "resolved": 1, "still_failing": 1, "changed_severity": 1}
    assert result["changed_severity"][0]["old_severity"] == "high"
    assert new_failing_ids(old, newer.findings) == {next(f.id for f in newer.findings
                                                         if f.resource.id == "bucket-two")}


def test_diff_command_formats(sample_run, tmp_path):
    (tmp_path / "a.json").write_text(JsonReporter().render(sample_run))
    (tmp_path / "b.json").write_text(JsonReporter().render(_with(sample_run, bucket_one={"status": Status.PASS})))
    runner = CliRunner()
    table = runner.invoke(main, ["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert table.exit_code == 0 and "1 resolved" in table.output
    as_json = json.loads(runner.invoke(main, ["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                                              "--format", "json"]).output)
    assert as_json["counts"]["resolved"] == 1
    page = runner.invoke(main, ["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--format", "html"])
    assert "<script>" not in page.output and "&lt;script&gt;alert(1)" in page.output  # the hostile name, escaped


def test_baseline_marks_new_findings_in_the_json_report(sample_run):
    marked = replace(sample_run, new_findings=frozenset({sample_run.findings[0].id}))
    findings = json.loads(JsonReporter().render(marked))["findings"]
    assert [f["new"] for f in findings] == [True, False, False, False, False]
    assert "new" not in json.loads(JsonReporter().render(sample_run))["findings"][0]
