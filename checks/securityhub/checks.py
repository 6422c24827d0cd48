"""Security Hub checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity


class SecurityhubHubEnabled(Check):
    """Security Hub gathers findings from GuardDuty, Inspector, Macie, Config rules and tools like this one, and
    runs the security standards continuously. It is regional: a region without it has no continuous checking and
    nowhere for findings to be collected."""

    id = "securityhub_hub_enabled"
    service = "securityhub"
    severity = Severity.MEDIUM
    title = "Security Hub is enabled in every audited region"
    risk = "Findings from other services are not collected, and the standards are not checked continuously."
    remediation = Remediation(
        text="Enable Security Hub in every region you use, with the FSBP and CIS standards.",
        cli="aws securityhub enable-security-hub --enable-default-standards --region <region>",
        terraform='resource "aws_securityhub_account" "main" {}\n\n'
                  'resource "aws_securityhub_standards_subscription" "fsbp" {\n'
                  '  standards_arn = "arn:aws:securityhub:${var.region}::standards/aws-foundational-security-best-'
                  'practices/v/1.0.0"\n  depends_on    = [aws_securityhub_account.main]\n}',
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-settingup.html",
    )
    compliance = (Control("cis-aws-3.0", "4.16"), Control("cis-aws-4.0.1", "4.16"))
    api_calls = ("securityhub:DescribeHub",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        hub = ctx.call("securityhub", "DescribeHub")
        resource = ctx.account_resource(ctx.region)
        if hub is None:
            yield ctx.failed(resource, f"Security Hub is not enabled in {ctx.region}.", {"enabled": False})
            return
        evidence = {"enabled": True, "hub_arn": hub.get("HubArn", ""), "subscribed_at": hub.get("SubscribedAt", "")}
        yield ctx.passed(resource, f"Security Hub is enabled in {ctx.region}.", evidence)
