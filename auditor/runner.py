"""What `aws-audit run` and `aws-audit demo` do once their options are parsed: audit, report, decide the exit code.

Kept out of cli.py so the CLI stays a thin layer of option parsing, and the Lambda handler can reuse it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from .config import AuditConfig
from .engine import ProgressCallback, fewer_collections, run_audit
from .errors import AuditError, ExitCode
from .models import AuditRun, Severity
from .registry import load_reporters


@dataclass(frozen=True)
class OutputOptions:
    formats: tuple[str, ...] = ("table", "json", "html")
    output_dir: Path = Path("out")
    fail_on: Severity | None = None
    quiet: bool = False
    baseline: Path | None = None  # a previous JSON report: new failing findings are marked
    security_hub: bool = False  # import the findings into Security Hub (the one, opt-in, write)


def exit_code(run: AuditRun, fail_on: Severity | None) -> ExitCode:
    """FAILED beats INCOMPLETE: a confirmed failure is the stronger signal; the ERRORs are still in every report."""
    if fail_on is not None and run.failing(at_least=fail_on):
        return ExitCode.FAILED
    if run.has_errors:
        return ExitCode.INCOMPLETE
    return ExitCode.OK


def prepare_output_dir(options: OutputOptions) -> None:
    if not any(f != "table" for f in options.formats):
        return
    try:
        options.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"cannot create output directory {options.output_dir}: {exc.strerror}") from None


def write_reports(run: AuditRun, options: OutputOptions, stdout: TextIO, stderr: TextIO) -> list[Path]:
    from reports.base import report_basename

    reporters = load_reporters()
    unknown = [f for f in options.formats if f not in reporters]
    if unknown:
        raise AuditError(f"unknown format {', '.join(unknown)} (available: {', '.join(sorted(reporters))})")
    written = []
    for name in options.formats:
        reporter = reporters[name]()
        if not reporter.extension:
            if not options.quiet:
                stdout.write(reporter.render(run))
            continue
        path = options.output_dir / f"{report_basename(run)}.{reporter.extension}"
        try:
            with path.open("w", encoding="utf-8") as out:
                if hasattr(reporter, "write"):  # streams: large runs are never held twice
                    reporter.write(run, out)
                else:
                    out.write(reporter.render(run))
        except OSError as exc:
            raise AuditError(f"cannot write {path}: {exc.strerror}") from None
        written.append(path)
    if len(run.accounts) > 1:  # an organization: one set of files per account beside the consolidated one
        from reports.base import for_account

        for account in run.accounts:
            part = for_account(run, account)
            for name in options.formats:
                reporter = reporters[name]()
                if reporter.extension:
                    path = options.output_dir / f"{report_basename(part)}.{reporter.extension}"
                    path.write_text(reporter.render(part), encoding="utf-8")
                    written.append(path)
    if not options.quiet:
        for path in written:
            stderr.write(f"wrote {path}\n")
    return written


def execute(
    config: AuditConfig,
    options: OutputOptions,
    *,
    progress: ProgressCallback | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> ExitCode:
    prepare_output_dir(options)
    baseline = None
    if options.baseline is not None:
        from reports.load import read_document

        baseline = read_document(options.baseline)  # read first: a bad baseline fails before the audit
    with fewer_collections():  # the reports too: a dictionary or more per finding
        run = run_audit(config, progress=progress)
        if baseline is not None:
            from reports.diff import new_failing_ids

            run = replace(run, new_findings=new_failing_ids(baseline, run.findings))
        write_reports(run, options, stdout or sys.stdout, stderr or sys.stderr)
    if options.security_hub:
        from .securityhub import import_findings

        result = import_findings(run)
        if not options.quiet:
            (stderr or sys.stderr).write(
                f"imported {result['imported']} finding(s) into Security Hub ({result['failed']} failed)\n")
    return exit_code(run, options.fail_on)
