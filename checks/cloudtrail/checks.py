"""CloudTrail checks: region- and account-level logging checks, and per-trail configuration checks.

The trail's S3 bucket is checked in `bucket_checks.py`, S3 object-level (data event) logging in
`data_event_checks.py`.
"""
from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any, Callable, Iterator

from auditor import Check, CheckContext, Control, DataUnavailable, Finding, Remediation, Scope, Severity

from .resources import Trail, TrailInventory, management_events, regional_trails, trail_status, trails

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


def account_verdict(
    ctx: CheckContext,
    inventory: TrailInventory,
    judge: Callable[[Trail], tuple[bool, dict[str, Any]]],
    passed: Callable[[list[Trail]], str],
    failed: str,
) -> Finding:
    """One account-level finding: PASS when some trail satisfies `judge`, ERROR when none does but a region or a
    trail could not be read (it might have), FAIL otherwise. `judge` may raise DataUnavailable."""
    satisfying: list[Trail] = []
    seen: list[dict[str, Any]] = []
    unreadable: DataUnavailable | None = inventory.unreadable[0] if inventory.unreadable else None
    for trail in inventory.trails:
        try:
            ok, facts = judge(trail)
        except DataUnavailable as exc:
            unreadable = unreadable or exc
            ok, facts = False, {"error": f"{exc.error.iam_action} failed with {exc.error.code}"}
        seen.append({**trail.summary(), **facts})
        if ok:
            satisfying.append(trail)
    account = ctx.account_resource()
    evidence = {"trails": seen}
    if satisfying:
        return ctx.passed(account, passed(satisfying), evidence)
    if unreadable is not None:
        return ctx.unavailable(account, unreadable)
    return ctx.failed(account, failed, evidence)


class CloudtrailAccountTrailEnabled(Check):
    """Without at least one trail that is logging, the account keeps only the 90-day CloudTrail event history:
    no durable, tamper-evident record of API activity exists to investigate an incident or prove compliance."""

    id = "cloudtrail_account_trail_enabled"
    service = "cloudtrail"
    severity = Severity.HIGH
    title = "At least one CloudTrail trail is logging"
    risk = "API activity older than 90 days is lost, and no log can be handed to investigators or auditors."
    remediation = Remediation(
        text="Create a multi-region trail that delivers to an S3 bucket, and start logging.",
        cli="aws cloudtrail create-trail --name <trail> --s3-bucket-name <bucket> --is-multi-region-trail && "
            "aws cloudtrail start-logging --name <trail>",
        terraform=TRAIL_TERRAFORM,
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-create-and-update-a-trail.html",
    )
    compliance = (Control("aws-securityhub", "CloudTrail.3"),)
    api_calls = ("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def logging(trail: Trail) -> tuple[bool, dict[str, Any]]:
            status = trail_status(ctx, trail)
            return status.logging, {"logging": status.logging}

        yield account_verdict(
            ctx, trails(ctx), logging,
            passed=lambda found: f"CloudTrail trail(s) {', '.join(t.name for t in found)} are logging.",
            failed=f"No CloudTrail trail is logging in account {ctx.account}.",
        )


class CloudtrailTrailCloudwatchLogsIntegrated(Check):
    """Delivering a trail to CloudWatch Logs makes API activity searchable within minutes and lets metric
    filters and alarms react to it (root sign-ins, policy changes, disabled logging). A log group that has stopped
    receiving events (a deleted role, a changed policy) is as blind as none, so the last delivery must be recent
    (parameter `cloudtrail.cloudwatch_logs_delivery_max_age_hours`)."""

    id = "cloudtrail_trail_cloudwatch_logs_integrated"
    service = "cloudtrail"
    severity = Severity.LOW
    title = "CloudTrail trails deliver their events to CloudWatch Logs"
    risk = "Suspicious API activity raises no alarm, and is only found later, if at all, in S3 log files."
    remediation = Remediation(
        text="Send the trail to a CloudWatch Logs log group, with a role CloudTrail can assume to write to it.",
        cli="aws cloudtrail update-trail --name <trail> --cloud-watch-logs-log-group-arn <log-group-arn> "
            "--cloud-watch-logs-role-arn <role-arn>",
        terraform=(
            'resource "aws_cloudtrail" "main" {\n'
            '  name                       = "${var.project}-trail"\n'
            '  s3_bucket_name             = aws_s3_bucket.cloudtrail.id\n'
            '  is_multi_region_trail      = true\n'
            '  cloud_watch_logs_group_arn = "${aws_cloudwatch_log_group.cloudtrail.arn}:*"\n'
            '  cloud_watch_logs_role_arn  = aws_iam_role.cloudtrail_logs.arn\n'
            '\n'
            '  tags = local.common_tags\n'
            '}'
        ),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html",
    )
    compliance = (Control("aws-fsbp", "CloudTrail.5"),)
    api_calls = ("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus")
    scope = Scope.GLOBAL
    parameters = ("cloudtrail.cloudwatch_logs_delivery_max_age_hours",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        inventory = trails(ctx)
        for exc in inventory.unreadable:
            yield ctx.unavailable(ctx.account_resource(exc.error.region), exc)
        max_hours = ctx.param("cloudtrail.cloudwatch_logs_delivery_max_age_hours")

        def evaluate_one(trail: Trail) -> Iterator[Finding]:
            evidence: dict[str, Any] = {**trail.summary(), "log_group_arn": trail.cloudwatch_log_group_arn}
            if trail.cloudwatch_log_group_arn is None:
                yield ctx.failed(trail.resource, f"CloudTrail trail {trail.name} does not deliver to CloudWatch "
                                 f"Logs.", evidence)
                return
            status = trail_status(ctx, trail)
            delivered = status.latest_cloudwatch_logs_delivery
            evidence["latest_delivery"] = delivered.isoformat() if delivered else None
            evidence["latest_delivery_error"] = status.latest_cloudwatch_logs_delivery_error
            if delivered is None:
                yield ctx.failed(trail.resource, f"CloudTrail trail {trail.name} has never delivered to its "
                                 f"CloudWatch Logs log group.", evidence)
            elif ctx.now - delivered > timedelta(hours=max_hours):
                yield ctx.failed(trail.resource, f"CloudTrail trail {trail.name} last delivered to CloudWatch Logs "
                                 f"on {delivered.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC, more than "
                                 f"{max_hours} hours ago.", evidence)
            else:
                yield ctx.passed(trail.resource, f"CloudTrail trail {trail.name} delivers to CloudWatch Logs.",
                                 evidence)

        yield from ctx.each(inventory.trails, evaluate_one)
