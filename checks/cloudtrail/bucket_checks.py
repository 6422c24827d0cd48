"""Checks of the S3 bucket each trail delivers its log files to (one finding per trail, as Security Hub reports)."""
from __future__ import annotations

from typing import Callable, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity

from .bucket_resources import bucket_access_logging, bucket_exposure, trail_bucket
from .resources import Trail, trails

BUCKET_READS = ("cloudtrail:DescribeTrails", "s3:ListAllMyBuckets", "s3:GetBucketLocation")


def each_trail_with_bucket(ctx: CheckContext, evaluate_one: Callable[[Trail], Iterator[Finding]]) -> Iterator[Finding]:
    """Evaluate every trail that names a bucket; an unreadable region or bucket makes only that subject ERROR."""
    inventory = trails(ctx)
    for exc in inventory.unreadable:
        yield ctx.unavailable(ctx.account_resource(exc.error.region), exc)
    yield from ctx.each([t for t in inventory.trails if t.s3_bucket], evaluate_one)


class CloudtrailTrailBucketPrivate(Check):
    """The trail's bucket holds the full record of the account's activity: who called what, from where, on which
    resources. Readable by anyone, it maps the account for an attacker, and writable by anyone, it can be
    poisoned. The bucket is public when its policy allows anyone without a condition that restricts who, or its
    ACL grants AllUsers or AuthenticatedUsers, and Block Public Access (bucket or account) does not neutralise
    it. A bucket in another account is read too; a denied read there is an ERROR."""

    id = "cloudtrail_trail_bucket_private"
    service = "cloudtrail"
    severity = Severity.CRITICAL
    title = "The S3 bucket of each CloudTrail trail is not publicly accessible"
    risk = "Anyone on the internet can read (or tamper with) the record of the account's activity."
    remediation = Remediation(
        text="Turn on all four Block Public Access settings on the trail's bucket, and remove bucket policy "
             "statements and ACL grants that allow everyone.",
        cli="aws s3api put-public-access-block --bucket <bucket> --public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        terraform=(
            'resource "aws_s3_bucket_public_access_block" "cloudtrail" {\n'
            "  bucket                  = aws_s3_bucket.cloudtrail.id\n"
            "  block_public_acls       = true\n"
            "  block_public_policy     = true\n"
            "  ignore_public_acls      = true\n"
            "  restrict_public_buckets = true\n"
            "}"
        ),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html",
    )
    compliance = (Control("aws-securityhub", "CloudTrail.6"),)
    api_calls = (
        *BUCKET_READS,
        "s3:GetBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
    )
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(trail: Trail) -> Iterator[Finding]:
            bucket = trail_bucket(ctx, str(trail.s3_bucket))
            exposure = bucket_exposure(ctx, bucket)
            evidence = {**trail.summary(), "bucket": bucket.name, "bucket_in_account": bucket.in_account,
                        "public_access_block": exposure.block.evidence(),
                        "public_grants": list(exposure.public_grants)}
            if exposure.public:
                yield ctx.failed(trail.resource, f"CloudTrail trail {trail.name} delivers to bucket {bucket.name}, "
                                 f"which is publicly accessible ({'; '.join(exposure.public_grants)}).", evidence)
            else:
                yield ctx.passed(trail.resource, f"CloudTrail trail {trail.name} delivers to bucket {bucket.name}, "
                                 f"which is not publicly accessible.", evidence)

        yield from each_trail_with_bucket(ctx, evaluate_one)


class CloudtrailTrailBucketAccessLoggingEnabled(Check):
    """Server access logging on the trail's bucket records every request made to the log files themselves: who
    read them, who deleted them. Without it, an attacker who reads the logs to learn the account, or deletes
    them to hide, leaves no trace."""

    id = "cloudtrail_trail_bucket_access_logging_enabled"
    service = "cloudtrail"
    severity = Severity.LOW
    title = "The S3 bucket of each CloudTrail trail has server access logging enabled"
    risk = "Reads and deletions of CloudTrail log files are not recorded."
    remediation = Remediation(
        text="Enable server access logging on the trail's bucket, to a separate log bucket.",
        cli="aws s3api put-bucket-logging --bucket <bucket> --bucket-logging-status "
            "'{\"LoggingEnabled\":{\"TargetBucket\":\"<log-bucket>\",\"TargetPrefix\":\"cloudtrail/\"}}'",
        terraform=(
            'resource "aws_s3_bucket_logging" "cloudtrail" {\n'
            "  bucket        = aws_s3_bucket.cloudtrail.id\n"
            "  target_bucket = aws_s3_bucket.access_logs.id\n"
            '  target_prefix = "cloudtrail/"\n'
            "}"
        ),
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html",
    )
    compliance = (
        Control("aws-securityhub", "CloudTrail.7"),
        Control("cis-aws-3.0", "3.4"),
        Control("cis-aws-4.0.1", "3.4"),
    )
    api_calls = (*BUCKET_READS, "s3:GetBucketLogging")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(trail: Trail) -> Iterator[Finding]:
            bucket = trail_bucket(ctx, str(trail.s3_bucket))
            logging = bucket_access_logging(ctx, bucket)
            evidence = {**trail.summary(), "bucket": bucket.name, "access_log_bucket": logging.target_bucket}
            if logging.enabled:
                yield ctx.passed(trail.resource, f"CloudTrail trail {trail.name} delivers to bucket {bucket.name}, "
                                 f"which logs access to {logging.target_bucket}.", evidence)
            else:
                yield ctx.failed(trail.resource, f"CloudTrail trail {trail.name} delivers to bucket {bucket.name}, "
                                 f"which has server access logging disabled.", evidence)

        yield from each_trail_with_bucket(ctx, evaluate_one)
