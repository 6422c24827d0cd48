"""The terminal summary: findings by service x status, then the checks that fail most."""
from __future__ import annotations

from collections import Counter

from tabulate import tabulate

from auditor.models import AuditRun, Status

from .base import summarize

TOP_FAILING = 10


class TableReporter:
    name = "table"
    extension = ""

    def render(self, run: AuditRun) -> str:
        summary = summarize(run)
        statuses = [s.value for s in Status]
        rows = [[service, *(counts[s] for s in statuses)] for service, counts in summary["by_service"].items()]
        totals = summary["totals"]
        rows.append(["total", *(totals[s] for s in statuses)])
        lines = [
            f"aws-audit {run.tool_version} - account {run.account} ({run.partition}), "
            f"{len(run.regions)} region(s), {len(run.checks)} checks, {run.duration_seconds:.1f}s, "
            f"{sum(run.api_calls.values())} API requests",
            "",
            tabulate(rows, headers=["service", *statuses], tablefmt="simple"),
        ]
        if len(summary["by_account"]) > 1:
            acct_rows = [[a, *(n[s] for s in statuses)] for a, n in summary["by_account"].items()]
            lines += ["", tabulate(acct_rows, headers=["account", *statuses], tablefmt="simple")]
        if summary["by_category"] and len(summary["by_category"]) > 1:
            cat_rows = [[c, *(n[s] for s in statuses)] for c, n in summary["by_category"].items()]
            lines += ["", tabulate(cat_rows, headers=["category", *statuses], tablefmt="simple")]
        failing = Counter(f.check_id for f in run.failing())
        if failing:
            meta = {c.id: c for c in run.checks}
            top = [
                [meta[cid].severity.value, cid, n, meta[cid].title]
                for cid, n in sorted(failing.items(), key=lambda kv: (-meta[kv[0]].severity.rank, -kv[1], kv[0]))
            ][:TOP_FAILING]
            lines += ["", "Top failing checks:", tabulate(top, headers=["severity", "check", "resources", "title"])]
        if run.new_findings is not None:
            lines += ["", f"{len(run.new_findings)} failing finding(s) new since the baseline."]
        if totals["muted"]:
            lines += ["", f"{totals['muted']} finding(s) muted."]
        for rule in run.expired_mutes:
            lines.append(f"Mutelist rule for {rule['check']} (owner {rule['owner']}) expired on {rule['expires']}: "
                         "it no longer mutes.")
        errors = [f for f in run.findings if f.status is Status.ERROR]
        if errors:
            lines += ["", f"{len(errors)} result(s) could not be evaluated (ERROR):"]
            reasons = Counter(
                (f.evidence.get("iam_action", f.check_id), f.evidence.get("error_code", "exception"), f.region)
                for f in errors
            )
            lines += [
                f"  {action} -> {code} in {region} ({n})" for (action, code, region), n in sorted(reasons.items())
            ]
        return "\n".join(lines) + "\n"
