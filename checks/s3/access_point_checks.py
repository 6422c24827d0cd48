"""S3 access point checks: Block Public Access on access points (per Region) and on Multi-Region Access Points
(account-wide)."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity

from .access_point_resources import (
    AccessPoint,
    access_point_public_access_block,
    access_points,
    multi_region_access_points,
)


class S3AccessPointPublicAccessBlocked(Check):
    """An access point has its own Block Public Access settings, applied on top of the bucket's and the
    account's. With all four on, no access point policy can open the bucket's data to the internet through it.
    The settings can only be chosen when the access point is created."""

    id = "s3_access_point_public_access_blocked"
    service = "s3"
    severity = Severity.CRITICAL
    title = "S3 access points block public access"
    risk = "An access point policy can grant anyone on the internet access to the bucket's data through it."
    remediation = Remediation(
        text="Create a replacement access point with all four Block Public Access settings on (they cannot be "
             "changed afterwards), move clients to it, and delete the old one.",
        cli="aws s3control create-access-point --account-id <account-id> --name <name> --bucket <bucket> "
            "--public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        terraform='resource "aws_s3_access_point" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n"
                  '  name   = "data"\n\n'
                  "  public_access_block_configuration {\n"
                  "    block_public_acls       = true\n"
                  "    block_public_policy     = true\n"
                  "    ignore_public_acls      = true\n"
                  "    restrict_public_buckets = true\n"
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-bpa-settings.html",
    )
    compliance = (Control("aws-fsbp", "S3.19"),)
    api_calls = ("s3:ListAccessPoints", "s3:GetAccessPoint")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_access_point(access_point: AccessPoint) -> Iterator[Finding]:
            block = access_point_public_access_block(ctx, access_point)
            evidence = {"bucket": access_point.bucket, "network_origin": access_point.network_origin,
                        "settings": block.evidence()}
            if block.all_on:
                yield ctx.passed(access_point.resource,
                                 f"Access point {access_point.name} blocks public access with all four settings.",
                                 evidence)
            else:
                yield ctx.failed(access_point.resource,
                                 f"Access point {access_point.name} does not block public access: "
                                 f"{', '.join(block.missing)} off.", {**evidence, "missing": block.missing})

        yield from ctx.each(access_points(ctx), evaluate_access_point)


class S3MultiRegionAccessPointPublicAccessBlocked(Check):
    """A Multi-Region Access Point routes requests to buckets in several Regions. Its Block Public Access
    settings decide whether its policy can make all of them reachable from the internet at once; they are fixed
    at creation."""

    id = "s3_multi_region_access_point_public_access_blocked"
    service = "s3"
    severity = Severity.HIGH
    title = "S3 Multi-Region Access Points block public access"
    risk = "A Multi-Region Access Point policy can grant anyone access to the data of buckets in several Regions."
    remediation = Remediation(
        text="Create a replacement Multi-Region Access Point with all four Block Public Access settings on (they "
             "cannot be changed afterwards), move clients to it, and delete the old one.",
        cli="aws s3control create-multi-region-access-point --region us-west-2 --account-id <account-id> "
            "--details '{\"Name\":\"<name>\",\"PublicAccessBlock\":{\"BlockPublicAcls\":true,"
            "\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":true,\"RestrictPublicBuckets\":true},"
            "\"Regions\":[{\"Bucket\":\"<bucket-1>\"},{\"Bucket\":\"<bucket-2>\"}]}'",
        terraform='resource "aws_s3control_multi_region_access_point" "data" {\n'
                  "  details {\n"
                  '    name = "data"\n\n'
                  "    public_access_block {\n"
                  "      block_public_acls       = true\n"
                  "      block_public_policy     = true\n"
                  "      ignore_public_acls      = true\n"
                  "      restrict_public_buckets = true\n"
                  "    }\n\n"
                  "    region {\n"
                  "      bucket = aws_s3_bucket.primary.id\n"
                  "    }\n"
                  "    region {\n"
                  "      bucket = aws_s3_bucket.secondary.id\n"
                  "    }\n"
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-block-public-access.html",
    )
    compliance = (Control("aws-fsbp", "S3.24"),)
    api_calls = ("s3:ListMultiRegionAccessPoints",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for access_point in multi_region_access_points(ctx):
            block = access_point.public_access_block
            evidence = {"alias": access_point.alias, "regions": list(access_point.regions),
                        "settings": block.evidence()}
            if block.all_on:
                yield ctx.passed(access_point.resource, f"Multi-Region Access Point {access_point.name} blocks "
                                                        f"public access with all four settings.", evidence)
            else:
                yield ctx.failed(access_point.resource, f"Multi-Region Access Point {access_point.name} does not "
                                                        f"block public access: {', '.join(block.missing)} off.",
                                 {**evidence, "missing": block.missing})
