"""S3 cost checks: the seed guide's archive lifecycle pattern."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Scope, Severity

from .checks import LIST_BUCKETS
from .cost_resources import lifecycle_rules
from .resources import Bucket, each_bucket


class S3BucketLifecycleArchivesObjects(Check):
    """s3_bucket_lifecycle_configured checks that a bucket has a lifecycle rule at all; this check looks for the
    seed guide's archive pattern, which is what actually bends the storage bill: current objects move to an
    infrequent-access class (STANDARD_IA at 90 days), then to an archive class (GLACIER at 180 days), and expire
    (365 days), while noncurrent versions expire (30 days). The steps may be spread over several enabled rules.
    Which storage classes count for each step are parameters (cost.s3_infrequent_access_classes,
    cost.s3_archive_classes). Buckets whose data must never expire should say so with a mute, not a missing rule."""

    id = "s3_bucket_lifecycle_archives_objects"
    service = "s3"
    severity = Severity.LOW
    category = Category.COST
    title = "S3 buckets tier, archive and expire objects with lifecycle rules"
    risk = "Objects stay in S3 Standard forever: the storage bill grows with every object ever written."
    remediation = Remediation(
        text="Add an enabled lifecycle rule that transitions objects to STANDARD_IA, then GLACIER, expires them, "
        "and expires noncurrent versions (the seed guide's 90/180/365/30 days).",
        cli="aws s3api put-bucket-lifecycle-configuration --bucket <bucket> --lifecycle-configuration "
        "'{\"Rules\":[{\"ID\":\"archive\",\"Status\":\"Enabled\",\"Filter\":{},\"Transitions\":["
        "{\"Days\":90,\"StorageClass\":\"STANDARD_IA\"},{\"Days\":180,\"StorageClass\":\"GLACIER\"}],"
        "\"Expiration\":{\"Days\":365},\"NoncurrentVersionExpiration\":{\"NoncurrentDays\":30}}]}'",
        terraform='resource "aws_s3_bucket_lifecycle_configuration" "data" {\n'
                  '  bucket = aws_s3_bucket.data.id\n\n'
                  '  rule {\n'
                  '    id     = "archive"\n'
                  '    status = "Enabled"\n\n'
                  '    transition {\n'
                  '      days          = 90\n'
                  '      storage_class = "STANDARD_IA"\n'
                  '    }\n\n'
                  '    transition {\n'
                  '      days          = 180\n'
                  '      storage_class = "GLACIER"\n'
                  '    }\n\n'
                  '    expiration {\n'
                  '      days = 365\n'
                  '    }\n\n'
                  '    noncurrent_version_expiration {\n'
                  '      noncurrent_days = 30\n'
                  '    }\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html",
    )
    api_calls = (*LIST_BUCKETS, "s3:GetLifecycleConfiguration")
    scope = Scope.GLOBAL
    parameters = ("cost.s3_infrequent_access_classes", "cost.s3_archive_classes")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        infrequent = {str(c).upper() for c in ctx.param("cost.s3_infrequent_access_classes")}
        archive = {str(c).upper() for c in ctx.param("cost.s3_archive_classes")}

        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            enabled = [r for r in lifecycle_rules(ctx, bucket) if r.enabled]
            steps: dict[str, list[str]] = {
                "infrequent_access_transition": [f"{r.id}: {c} after {w}" for r in enabled
                                                 for c, w in r.transitions if c.upper() in infrequent],
                "archive_transition": [f"{r.id}: {c} after {w}" for r in enabled
                                       for c, w in r.transitions if c.upper() in archive],
                "expiration": [f"{r.id}: {r.expiration}" for r in enabled if r.expiration],
                "noncurrent_version_expiration": [f"{r.id}: {r.noncurrent_expiration_days} days" for r in enabled
                                                  if r.noncurrent_expiration_days is not None],
            }
            missing = [step for step, found in steps.items() if not found]
            evidence: dict[str, Any] = {"enabled_rules": [r.id for r in enabled], "steps": steps,
                                        "missing_steps": missing}
            if not missing:
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} tiers, archives and expires objects and "
                                 "expires noncurrent versions.", evidence)
            elif not enabled:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has no enabled lifecycle rule, so nothing "
                                 "is ever tiered, archived or expired.", evidence)
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name}'s lifecycle rules lack "
                                 f"{', '.join(s.replace('_', ' ') for s in missing)}.", evidence)

        yield from each_bucket(ctx, evaluate_bucket)
