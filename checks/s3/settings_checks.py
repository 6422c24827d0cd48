"""S3 bucket checks on data protection and visibility: replication, server access logging, event notifications,
Object Lock, MFA delete, and lifecycle rules for versioned buckets.

Like every bucket check, these run once per account (`Scope.GLOBAL`) and report one result per bucket in an
audited region, read in the bucket's own region.
"""
from __future__ import annotations

from typing import Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Scope, Severity

from .checks import LIST_BUCKETS
from .resources import Bucket, bucket_lifecycle, bucket_versioning, buckets, each_bucket
from .settings_resources import bucket_logging, bucket_notifications, bucket_object_lock, bucket_replication


class S3BucketCrossRegionReplicationEnabled(Check):
    """Cross-Region replication keeps a copy of every new object in a bucket in another Region, so a regional
    outage, or the loss of the bucket, does not take the data with it. Replication to a bucket in the same Region
    protects against deletion but not against the loss of the Region."""

    id = "s3_bucket_cross_region_replication_enabled"
    service = "s3"
    severity = Severity.LOW
    category = Category.RELIABILITY
    title = "S3 buckets replicate objects to another Region"
    risk = "A regional outage or the loss of the bucket leaves no copy of the data elsewhere."
    remediation = Remediation(
        text="Enable versioning on the bucket and on a bucket in another Region, then add an enabled replication "
             "rule with that bucket as destination.",
        cli="aws s3api put-bucket-replication --bucket <bucket> --replication-configuration "
            "'{\"Role\":\"<replication-role-arn>\",\"Rules\":[{\"ID\":\"all\",\"Status\":\"Enabled\",\"Priority\":1,"
            "\"Filter\":{},\"DeleteMarkerReplication\":{\"Status\":\"Enabled\"},"
            "\"Destination\":{\"Bucket\":\"arn:aws:s3:::<replica-bucket>\"}}]}'",
        terraform='resource "aws_s3_bucket_replication_configuration" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n"
                  "  role   = aws_iam_role.replication.arn\n\n"
                  "  rule {\n"
                  '    id     = "all"\n'
                  '    status = "Enabled"\n'
                  "    filter {}\n\n"
                  "    delete_marker_replication {\n"
                  '      status = "Enabled"\n'
                  "    }\n\n"
                  "    destination {\n"
                  "      bucket = aws_s3_bucket.replica.arn  # in another Region\n"
                  "    }\n"
                  "  }\n\n"
                  "  depends_on = [aws_s3_bucket_versioning.data]\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html",
    )
    compliance = (Control("aws-securityhub", "S3.7"),)
    api_calls = (*LIST_BUCKETS, "s3:GetReplicationConfiguration")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            rules = bucket_replication(ctx, bucket).enabled_rules
            if not rules:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has no enabled replication rule.",
                                 {"replication_rules": []})
                return
            # A destination's Region is known only for the account's own buckets in audited Regions.
            regions = {b.name: b.region for b in buckets(ctx) if b.region}
            destinations = [{"rule": r.rule_id, "bucket": r.destination_bucket,
                             "region": None if r.destination_account not in (None, ctx.account)
                             else regions.get(r.destination_bucket)} for r in rules]
            evidence = {"replication_rules": destinations}
            other_region = [d for d in destinations if d["region"] and d["region"] != bucket.region]
            unknown_region = [d for d in destinations if not d["region"]]
            if other_region:
                target = other_region[0]
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} replicates to {target['bucket']} in "
                                                  f"{target['region']}.", evidence)
            elif unknown_region:
                yield ctx.passed(bucket.resource,
                                 f"Bucket {bucket.name} replicates to {unknown_region[0]['bucket']}, a bucket outside "
                                 f"the audited Regions or account.", evidence)
            else:
                yield ctx.failed(bucket.resource,
                                 f"Bucket {bucket.name} replicates only within its own Region {bucket.region}.",
                                 evidence)

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketAccessLoggingEnabled(Check):
    """Server access logs record every request made to the bucket: who asked, for which object, from where, and
    with what result. They are how an investigation finds out which objects were read or changed, and they are
    needed for security and access audits."""

    id = "s3_bucket_access_logging_enabled"
    service = "s3"
    severity = Severity.MEDIUM
    title = "S3 buckets have server access logging enabled"
    risk = "Requests to the bucket leave no record to investigate an incident or audit access with."
    remediation = Remediation(
        text="Enable server access logging on the bucket, delivering to a separate log bucket.",
        cli="aws s3api put-bucket-logging --bucket <bucket> --bucket-logging-status "
            "'{\"LoggingEnabled\":{\"TargetBucket\":\"<log-bucket>\",\"TargetPrefix\":\"<bucket>/\"}}'",
        terraform='resource "aws_s3_bucket_logging" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n\n"
                  "  target_bucket = aws_s3_bucket.logs.id\n"
                  '  target_prefix = "s3/${aws_s3_bucket.data.id}/"\n'
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html",
    )
    compliance = (Control("aws-fsbp", "S3.9"),)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketLogging")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            logging = bucket_logging(ctx, bucket)
            if logging.enabled:
                yield ctx.passed(bucket.resource,
                                 f"Bucket {bucket.name} logs server access to bucket {logging.target_bucket}.",
                                 {"target_bucket": logging.target_bucket, "target_prefix": logging.target_prefix})
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has server access logging off.",
                                 {"target_bucket": None})

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketVersionedLifecycleConfigured(Check):
    """A versioned bucket keeps every overwritten and deleted object as a noncurrent version. Without a lifecycle
    rule nothing ever expires them, so storage grows with every write and data meant to be deleted is kept.
    Buckets without versioning are out of scope here (see s3_bucket_lifecycle_configured)."""

    id = "s3_bucket_versioned_lifecycle_configured"
    service = "s3"
    severity = Severity.MEDIUM
    category = Category.COST
    title = "Versioned S3 buckets have an enabled lifecycle rule"
    risk = "Noncurrent versions pile up forever: storage costs only grow and deleted data is never removed."
    remediation = Remediation(
        text="Add an enabled lifecycle rule to the versioned bucket that expires (or transitions) noncurrent "
             "versions.",
        cli="aws s3api put-bucket-lifecycle-configuration --bucket <bucket> --lifecycle-configuration "
            "'{\"Rules\":[{\"ID\":\"noncurrent\",\"Status\":\"Enabled\",\"Filter\":{},"
            "\"NoncurrentVersionExpiration\":{\"NoncurrentDays\":30}}]}'",
        terraform='resource "aws_s3_bucket_lifecycle_configuration" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n\n"
                  "  rule {\n"
                  '    id     = "noncurrent"\n'
                  '    status = "Enabled"\n'
                  "    filter {}\n\n"
                  "    noncurrent_version_expiration {\n"
                  "      noncurrent_days = 30\n"
                  "    }\n"
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html",
    )
    compliance = (Control("aws-securityhub", "S3.10"),)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            versioning = bucket_versioning(ctx, bucket)
            if versioning.status == "Disabled":  # never versioned: no noncurrent versions to manage
                return
            lifecycle = bucket_lifecycle(ctx, bucket)
            evidence = {"versioning": versioning.status, "rules": list(lifecycle.rule_ids),
                        "enabled_rules": list(lifecycle.enabled_rule_ids)}
            if lifecycle.enabled_rule_ids:
                yield ctx.passed(bucket.resource,
                                 f"Versioned bucket {bucket.name} has {len(lifecycle.enabled_rule_ids)} enabled "
                                 f"lifecycle rule(s).", evidence)
            else:
                yield ctx.failed(bucket.resource,
                                 f"Versioned bucket {bucket.name} has no enabled lifecycle rule.", evidence)

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketEventNotificationsEnabled(Check):
    """Event notifications tell other systems, at once, that objects were created, deleted or restored: through
    SNS, SQS, Lambda or EventBridge. They let a team react to unexpected changes in a bucket (mass deletion, an
    unexpected upload) as they happen instead of finding out later."""

    id = "s3_bucket_event_notifications_enabled"
    service = "s3"
    severity = Severity.MEDIUM
    category = Category.OPERATIONS
    title = "S3 buckets send event notifications"
    risk = "Changes to the bucket's objects go unnoticed until someone looks."
    remediation = Remediation(
        text="Send the bucket's events to EventBridge (or configure an SNS, SQS or Lambda notification).",
        cli="aws s3api put-bucket-notification-configuration --bucket <bucket> --notification-configuration "
            "'{\"EventBridgeConfiguration\":{}}'",
        terraform='resource "aws_s3_bucket_notification" "data" {\n'
                  "  bucket      = aws_s3_bucket.data.id\n"
                  "  eventbridge = true\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html",
    )
    compliance = (Control("aws-securityhub", "S3.11"),)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketNotification")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            notifications = bucket_notifications(ctx, bucket)
            evidence = {"eventbridge": notifications.eventbridge, "destinations": dict(notifications.destinations)}
            if notifications.enabled:
                kinds = (["eventbridge"] if notifications.eventbridge else []) + sorted(notifications.destinations)
                yield ctx.passed(bucket.resource,
                                 f"Bucket {bucket.name} sends event notifications to {', '.join(kinds)}.", evidence)
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} sends no event notifications.", evidence)

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketObjectLockEnabled(Check):
    """Object Lock stores objects write-once-read-many: a locked object version cannot be overwritten or deleted
    until its retention period ends, not even by an administrator in compliance mode. It protects backups, logs
    and records against ransomware, mistakes and insiders, and meets retention rules that require immutability."""

    id = "s3_bucket_object_lock_enabled"
    service = "s3"
    severity = Severity.MEDIUM
    title = "S3 buckets have Object Lock enabled"
    risk = "Object versions can be deleted or overwritten by anyone with the permissions, including an attacker."
    remediation = Remediation(
        text="Enable versioning, then enable Object Lock on the bucket with a default retention period.",
        cli="aws s3api put-object-lock-configuration --bucket <bucket> --object-lock-configuration "
            "'{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{\"DefaultRetention\":{\"Mode\":\"GOVERNANCE\","
            "\"Days\":30}}}'",
        terraform='resource "aws_s3_bucket_object_lock_configuration" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n\n"
                  "  rule {\n"
                  "    default_retention {\n"
                  '      mode = "GOVERNANCE"\n'
                  "      days = 30\n"
                  "    }\n"
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
    )
    compliance = (Control("aws-securityhub", "S3.15"),)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketObjectLockConfiguration")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            lock = bucket_object_lock(ctx, bucket)
            if lock.enabled:
                retention = (f" with default {lock.default_mode} retention" if lock.default_mode
                             else " without a default retention")
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} has Object Lock enabled{retention}.",
                                 lock.evidence())
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} does not have Object Lock enabled.",
                                 lock.evidence())

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketMfaDeleteEnabled(Check):
    """With MFA delete, permanently deleting an object version or changing the bucket's versioning state needs
    the root user's MFA code as well as credentials. Stolen keys alone can then not destroy the versions that
    versioning keeps. Only the root user can turn it on, with the CLI or API."""

    id = "s3_bucket_mfa_delete_enabled"
    service = "s3"
    severity = Severity.LOW
    title = "S3 buckets have MFA delete enabled"
    risk = "Whoever holds credentials with delete permissions can permanently delete object versions."
    remediation = Remediation(
        text="As the root user, enable versioning with MFA delete on the bucket (the console cannot do it).",
        cli="aws s3api put-bucket-versioning --bucket <bucket> --versioning-configuration "
            "Status=Enabled,MFADelete=Enabled --mfa \"arn:aws:iam::<account-id>:mfa/root-account-mfa-device "
            "<mfa-code>\"",
        terraform='resource "aws_s3_bucket_versioning" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n"
                  '  mfa    = "${var.root_mfa_serial} ${var.root_mfa_code}"  # applied with root credentials\n\n'
                  "  versioning_configuration {\n"
                  '    status     = "Enabled"\n'
                  '    mfa_delete = "Enabled"\n'
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html",
    )
    compliance = (Control("aws-securityhub", "S3.20"), Control("cis-aws-3.0", "2.1.2"),
                  Control("cis-aws-4.0.1", "2.1.2"))
    api_calls = (*LIST_BUCKETS, "s3:GetBucketVersioning")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            versioning = bucket_versioning(ctx, bucket)
            evidence = {"versioning": versioning.status, "mfa_delete": versioning.mfa_delete}
            if versioning.mfa_delete == "Enabled":
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} has MFA delete enabled.", evidence)
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} does not have MFA delete enabled.",
                                 evidence)

        yield from each_bucket(ctx, evaluate_bucket)
