"""S3 directory bucket (S3 Express One Zone) checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from .access_point_resources import DirectoryBucket, directory_bucket_enabled_lifecycle_rules, directory_buckets


class S3DirectoryBucketLifecycleConfigured(Check):
    """Directory buckets hold high-performance, single-Availability Zone data that is usually short-lived:
    intermediate results, caches, staging files. Without a lifecycle rule that expires it, it stays, and is
    paid for at S3 Express One Zone prices, forever."""

    id = "s3_directory_bucket_lifecycle_configured"
    service = "s3"
    severity = Severity.LOW
    category = Category.COST
    title = "S3 directory buckets have an enabled lifecycle rule"
    risk = "Objects in the directory bucket are kept, and paid for, until someone deletes them by hand."
    remediation = Remediation(
        text="Add a lifecycle configuration with an enabled rule that expires objects (and incomplete multipart "
             "uploads) to the directory bucket.",
        cli="aws s3api put-bucket-lifecycle-configuration --bucket <name>--<az-id>--x-s3 --lifecycle-configuration "
            "'{\"Rules\":[{\"ID\":\"expire\",\"Status\":\"Enabled\",\"Filter\":{},\"Expiration\":{\"Days\":7},"
            "\"AbortIncompleteMultipartUpload\":{\"DaysAfterInitiation\":1}}]}'",
        terraform='resource "aws_s3_bucket_lifecycle_configuration" "scratch" {\n'
                  "  bucket = aws_s3_directory_bucket.scratch.bucket\n\n"
                  "  rule {\n"
                  '    id     = "expire"\n'
                  '    status = "Enabled"\n'
                  "    filter {}\n\n"
                  "    expiration {\n"
                  "      days = 7\n"
                  "    }\n\n"
                  "    abort_incomplete_multipart_upload {\n"
                  "      days_after_initiation = 1\n"
                  "    }\n"
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/directory-buckets-objects-lifecycle.html",
    )
    compliance = (Control("aws-fsbp", "S3.25"),)
    # The engine records s3:GetLifecycleConfiguration for the read; AWS authorises it, for a directory bucket,
    # with s3express:GetLifecycleConfiguration, so both are listed for the least-privilege policy.
    api_calls = ("s3express:ListAllMyDirectoryBuckets", "s3:GetLifecycleConfiguration",
                 "s3express:GetLifecycleConfiguration")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: DirectoryBucket) -> Iterator[Finding]:
            enabled = directory_bucket_enabled_lifecycle_rules(ctx, bucket)
            if enabled:
                yield ctx.passed(bucket.resource, f"Directory bucket {bucket.name} has {len(enabled)} enabled "
                                                  f"lifecycle rule(s).", {"enabled_rules": list(enabled)})
            else:
                yield ctx.failed(bucket.resource, f"Directory bucket {bucket.name} has no enabled lifecycle rule.",
                                 {"enabled_rules": []})

        yield from ctx.each(directory_buckets(ctx), evaluate_bucket)
