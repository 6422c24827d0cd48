"""IAM Access Analyzer: an external access analyzer in every audited region."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .access_analyzer_resources import analyzers


class IamAccessAnalyzerEnabled(Check):
    """An external access analyzer of IAM Access Analyzer continuously reads the resource policies of S3
    buckets, IAM roles, KMS keys, Lambda functions, SQS queues, secrets and more, and reports every one that
    grants access to a principal outside the account (or, for an organization analyzer, outside the
    organization). Analyzers are regional: a region without one is a region where a bucket or key shared with
    the world goes unreported. Each audited region passes with an ACTIVE analyzer of type ACCOUNT or
    ORGANIZATION; unused-access and internal-access analyzers do not count. An organization analyzer lives in
    the management or delegated administrator account, so member accounts that rely on one fail here, as they
    do in Security Hub."""

    id = "iam_access_analyzer_enabled"
    service = "iam"
    severity = Severity.HIGH
    title = "IAM Access Analyzer has an active external access analyzer in every audited region"
    risk = "Resources shared outside the account in a region without an analyzer go unnoticed."
    remediation = Remediation(
        text="Create an external access analyzer (zone of trust: the account, or the organization from the "
        "delegated administrator account) in every region you use.",
        cli="aws accessanalyzer create-analyzer --analyzer-name external-access --type ACCOUNT --region <region>",
        terraform='resource "aws_accessanalyzer_analyzer" "main" {\n'
                  '  analyzer_name = "${var.project}-external-access"\n'
                  '  type          = "ACCOUNT"\n\n'
                  '  tags = local.common_tags\n'
                  '}',
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-getting-started.html",
    )
    compliance = (
        Control("aws-securityhub", "IAM.28"),
        Control("cis-aws-3.0", "1.20"),
        Control("cis-aws-4.0.1", "1.20"),
    )
    api_calls = ("access-analyzer:ListAnalyzers",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        found = analyzers(ctx)
        external = [a for a in found if a.external_access]
        active = [a for a in external if a.active]
        evidence = {"analyzers": [a.evidence() for a in found]}
        subject = ctx.account_resource(ctx.region)
        if active:
            names = ", ".join(a.name for a in active)
            yield ctx.passed(subject, f"IAM Access Analyzer has an active external access analyzer in "
                             f"{ctx.region} ({names}).", evidence)
        elif external:
            states = ", ".join(f"{a.name} is {a.status}" for a in external)
            yield ctx.failed(subject, f"IAM Access Analyzer has no active external access analyzer in "
                             f"{ctx.region} ({states}).", evidence)
        else:
            yield ctx.failed(subject, f"IAM Access Analyzer has no external access analyzer in {ctx.region}.",
                             evidence)
