"""A fixed audit run, built by hand (no AWS), for report tests. It carries hostile strings on purpose."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from auditor.models import (
    ApiError,
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

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\u202etxt.exe'

REMEDIATION = Remediation(
    text="Block public access.",
    cli="aws s3api put-public-access-block --bucket <name> ...",
    terraform='resource "aws_s3_bucket_public_access_block" "data" {}',
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
)


def _check(cid: str, service: str, severity: Severity, category: Category = Category.SECURITY) -> CheckSummary:
    return CheckSummary(
        id=cid,
        title=f"{cid} title",
        service=service,
        severity=severity,
        category=category,
        risk="Risk text.",
        remediation=REMEDIATION,
        compliance=(Control("aws-fsbp", "S3.8"),),
    )


def _finding(check: CheckSummary, status: Status, rid: str, name: str = "", region: str = "us-east-1",
             tags: dict[str, str] | None = None, muted: bool = False) -> Finding:
    return Finding(
        check_id=check.id,
        title=check.title,
        service=check.service,
        severity=check.severity,
        category=check.category,
        status=status,
        message=f"{check.id} on {name or rid}.",
        resource=Resource(id=rid, type="AWS::S3::Bucket", arn=f"arn:aws:s3:::{rid}", name=name or rid,
                          region=region, tags=tags or {}),
        region=region,
        account="123456789012",
        evidence={"detail": name or rid},
        compliance=check.compliance,
        remediation=check.remediation,
        muted=muted,
        mute_reason="accepted risk" if muted else "",
    )


@pytest.fixture
def sample_run() -> AuditRun:
    s3 = _check("s3_bucket_public_access_blocked", "s3", Severity.HIGH)
    gd = _check("guardduty_detector_enabled", "guardduty", Severity.HIGH)
    quiet = _check("rds_instance_storage_encrypted", "rds", Severity.MEDIUM)  # ran, found no resources
    findings = (
        _finding(s3, Status.FAIL, "bucket-one"),
        _finding(s3, Status.FAIL, "hostile-bucket", name=HOSTILE, tags={"Owner": HOSTILE, "x": "javascript:alert(3)"}),
        _finding(s3, Status.PASS, "bucket-two"),
        _finding(s3, Status.FAIL, "bucket-muted", muted=True),
        _finding(gd, Status.ERROR, "123456789012", region="eu-west-1"),
    )
    return AuditRun(
        tool_version="0.1.0",
        account="123456789012",
        partition="aws",
        caller_arn="arn:aws:iam::123456789012:user/auditor",
        regions=("us-east-1", "eu-west-1"),
        started=datetime(2026, 11, 26, 12, 0, 0, tzinfo=timezone.utc),
        finished=datetime(2026, 11, 26, 12, 0, 42, tzinfo=timezone.utc),
        checks=(gd, quiet, s3),
        findings=findings,
        api_calls={"s3:ListBuckets": 1, "guardduty:ListDetectors": 2},
        errors=(ApiError("guardduty", "ListDetectors", "guardduty:ListDetectors", "eu-west-1", "AccessDenied", "no"),),
    )
