"""`--security-hub`: import the run's findings into AWS Security Hub as ASFF.

This is the one write an audit may make, and only when the user asks for it: it does not go through the
read-only gateway (which would refuse it), but through its own client, after the audit has finished.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .errors import AuditError
from .models import AuditRun

BATCH = 100  # BatchImportFindings takes at most 100 findings per call


def import_findings(run: AuditRun, boto_session: boto3.Session | None = None) -> dict[str, int]:
    """Import every finding into Security Hub in its region; returns {"imported": n, "failed": m}."""
    from reports.interchange import asff_finding

    session = boto_session or boto3.Session()
    by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in run.findings:
        document = asff_finding(finding, run)
        by_region[document["Resources"][0]["Region"]].append(document)
    imported = failed = 0
    for region, documents in sorted(by_region.items()):
        client = session.client("securityhub", region_name=region)
        for start in range(0, len(documents), BATCH):
            try:
                answer = client.batch_import_findings(Findings=documents[start:start + BATCH])
            except (ClientError, BotoCoreError) as exc:
                code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
                raise AuditError(f"Security Hub import failed in {region}: {code or exc}") from None
            imported += answer.get("SuccessCount", 0)
            failed += answer.get("FailedCount", 0)
    return {"imported": imported, "failed": failed}
