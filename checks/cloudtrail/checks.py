"""CloudTrail checks: one region-level logging check, and per-trail configuration checks."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Check, CheckContext, Control, DataUnavailable, Finding, Remediation, Scope, Severity

from .resources import Trail, management_events, regional_trails, trail_status, trails

TRAIL_TERRAFORM = (
    'resource "aws_cloudtrail" "main" {\n'
    '  name                          = "${var.project}-trail"\n'
    '  s3_bucket_name                = aws_s3_bucket.cloudtrail.id\n'
    '  is_multi_region_trail         = true\n'
    '  include_global_service_events = true\n'
    '  enable_logging                = true\n'
    '  enable_log_file_validation    = true\n'
    '  kms_key_id                    = aws_kms_key.cloudtrail.arn\n'
    '\n'
    '  tags = local.common_tags\n'
    '}'
)


class CloudtrailMultiRegionTrailLogging(Check):
    """CloudTrail is the record of who did what in the account: every console sign-in and API call. Without a
    trail that is logging in a region, activity there leaves no durable record, so an intrusion cannot be
    investigated and changes cannot be attributed. A region counts as covered when a multi-region trail (or a
    trail whose home region it is) is logging and records read and write management events; one multi-region
    trail covers every region, including regions enabled later."""

    id = "cloudtrail_multi_region_trail_logging"
    service = "cloudtrail"
    severity = Severity.HIGH
    title = "A CloudTrail trail is logging management events in every audited region"
    risk = "API activity in a region without a logging trail leaves no audit record for investigations."
    remediation = Remediation(
        text="Create a multi-region trail that records all management events, and make sure it is logging.",
        cli="aws cloudtrail create-trail --name <trail> --s3-bucket-name <bucket> --is-multi-region-trail "
            "--enable-log-file-validation --kms-key-id <kms-key-arn> && aws cloudtrail start-logging --name <trail>",
        terraform=TRAIL_TERRAFORM,
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
            "receive-cloudtrail-log-files-from-multiple-regions.html",
    )
    compliance = (
        Control("aws-fsbp", "CloudTrail.1"),
        Control("cis-aws-3.0", "3.1"),
        Control("cis-aws-4.0.1", "3.1"),
    )
    api_calls = ("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        region = ctx.region
        applicable = [t for t in regional_trails(ctx, region) if t.applies_to(region)]
        covering: list[Trail] = []
        seen: list[dict[str, Any]] = []
        unreadable: DataUnavailable | None = None
        for trail in applicable:
            facts = trail.summary()
            try:
                status = trail_status(ctx, trail)
                facts["logging"] = status.logging
                if status.logging:
                    events = management_events(ctx, trail)
                    facts["management_events"] = events.label
                    if events.all:
                        covering.append(trail)
            except DataUnavailable as exc:
                unreadable = unreadable or exc
                facts["error"] = f"{exc.error.iam_action} failed with {exc.error.code}"
            seen.append(facts)

        account = ctx.account_resource(region)
        evidence = {"trails": seen}
        if covering:
            names = ", ".join(t.name for t in covering)
            yield ctx.passed(account, f"CloudTrail trail(s) {names} log all management events in {region}.", evidence)
        elif unreadable is not None:  # no trail proved to cover the region, and one could not be read
            yield ctx.unavailable(account, unreadable)
        elif applicable:
            yield ctx.failed(
                account, f"No CloudTrail trail that applies to {region} is logging all management events.", evidence
            )
        else:
            yield ctx.failed(account, f"No CloudTrail trail applies to {region}.", evidence)


class CloudtrailTrailLogFileValidationEnabled(Check):
    """Log file validation makes CloudTrail write a signed digest file every hour, so anyone can later prove
    that delivered log files were not modified or deleted. Without it, an attacker who reaches the log bucket can
    edit the record of their own actions undetected."""

    id = "cloudtrail_trail_log_file_validation_enabled"
    service = "cloudtrail"
    severity = Severity.LOW
    title = "CloudTrail trails have log file validation enabled"
    risk = "Tampering with or deleting delivered CloudTrail log files cannot be detected."
    remediation = Remediation(
        text="Enable log file validation on the trail.",
        cli="aws cloudtrail update-trail --name <trail> --enable-log-file-validation",
        terraform=TRAIL_TERRAFORM,
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-enabling.html",
    )
    compliance = (
        Control("aws-fsbp", "CloudTrail.4"),
        Control("cis-aws-3.0", "3.2"),
        Control("cis-aws-4.0.1", "3.2"),
    )
    api_calls = ("cloudtrail:DescribeTrails",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        inventory = trails(ctx)
        for exc in inventory.unreadable:
            yield ctx.unavailable(ctx.account_resource(exc.error.region), exc)
        for trail in inventory.trails:
            evidence = {**trail.summary(), "log_file_validation": trail.log_file_validation}
            if trail.log_file_validation:
                yield ctx.passed(trail.resource, f"CloudTrail trail {trail.name} has log file validation enabled.",
                                 evidence)
            else:
                yield ctx.failed(trail.resource, f"CloudTrail trail {trail.name} has log file validation disabled.",
                                 evidence)


class CloudtrailTrailKmsEncrypted(Check):
    """By default CloudTrail log files are encrypted with S3-managed keys, so anyone allowed to read the bucket
    can read the logs. Encrypting them with a KMS key adds a second, separately audited permission (kms:Decrypt)
    between a reader and the account's activity record."""

    id = "cloudtrail_trail_kms_encrypted"
    service = "cloudtrail"
    severity = Severity.MEDIUM
    title = "CloudTrail trails encrypt log files with a KMS key"
    risk = "Anyone who can read the log bucket can read the full record of the account's activity."
    remediation = Remediation(
        text="Encrypt the trail's log files with a customer managed KMS key whose key policy lets CloudTrail use it.",
        cli="aws cloudtrail update-trail --name <trail> --kms-key-id <kms-key-arn>",
        terraform=TRAIL_TERRAFORM,
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
            "encrypting-cloudtrail-log-files-with-aws-kms.html",
    )
    compliance = (
        Control("aws-fsbp", "CloudTrail.2"),
        Control("cis-aws-3.0", "3.5"),
        Control("cis-aws-4.0.1", "3.5"),
    )
    api_calls = ("cloudtrail:DescribeTrails",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        inventory = trails(ctx)
        for exc in inventory.unreadable:
            yield ctx.unavailable(ctx.account_resource(exc.error.region), exc)
        for trail in inventory.trails:
            if trail.kms_key_id:
                yield ctx.passed(trail.resource, f"CloudTrail trail {trail.name} encrypts its logs with a KMS key.",
                                 {**trail.summary(), "kms_key_id": trail.kms_key_id})
            else:
                yield ctx.failed(trail.resource, f"CloudTrail trail {trail.name} does not encrypt its logs with a "
                                 f"KMS key.", {**trail.summary(), "kms_key_id": None})
