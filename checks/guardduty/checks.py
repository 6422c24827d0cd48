"""GuardDuty checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import detectors


class GuarddutyDetectorEnabled(Check):
    """GuardDuty analyses CloudTrail, VPC flow logs and DNS logs for threats such as credential exfiltration,
    crypto-mining and reconnaissance. It works per region, so a region without an enabled detector is a region
    where an attacker is not watched."""

    id = "guardduty_detector_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty has an enabled detector in every audited region"
    risk = "Threats in a region without an enabled detector go unnoticed."
    remediation = Remediation(
        text="Enable GuardDuty in every region you use (and in those you do not, to catch misuse).",
        cli="aws guardduty create-detector --enable --region <region>",
        terraform='resource "aws_guardduty_detector" "main" {\n  enable = true\n}',
        url="https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html",
    )
    compliance = (Control("aws-fsbp", "GuardDuty.1"),)
    api_calls = ("guardduty:ListDetectors", "guardduty:GetDetector")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        found = detectors(ctx)
        enabled = [d for d in found if d.enabled]
        if enabled:
            for detector in enabled:
                yield ctx.passed(detector.resource, f"GuardDuty detector {detector.id} is enabled in {ctx.region}.")
            return
        evidence = {"detectors": [{"id": d.id, "status": d.status} for d in found]}
        message = (
            f"GuardDuty detector(s) in {ctx.region} are not enabled."
            if found
            else f"GuardDuty has no detector in {ctx.region}."
        )
        yield ctx.failed(ctx.account_resource(ctx.region), message, evidence)
