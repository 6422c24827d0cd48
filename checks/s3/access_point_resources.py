"""S3 access points, Multi-Region Access Points and directory buckets.

- Access points are regional: ListAccessPoints answers for the Region it is sent to, without the access point's
  Block Public Access settings, so each one is read with GetAccessPoint (per access point, through `ctx.each`).
- Multi-Region Access Points are account-wide and managed only through US West (Oregon) in the aws partition.
- Directory buckets (S3 Express One Zone) are regional: ListDirectoryBuckets answers for the Region's endpoint.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from auditor import CheckContext, Resource, collector

from .resources import PublicAccessBlock

# Where Multi-Region Access Point requests go, per partition (elsewhere: the audit's home Region).
MULTI_REGION_CONTROL_REGION = {"aws": "us-west-2"}
DIRECTORY_BUCKET_SUFFIX = "--x-s3"


def _pages(ctx: CheckContext, operation: str, region: str | None, **params: Any) -> Iterator[dict[str, Any]]:
    """Every page of an S3 Control listing botocore has no paginator for (NextToken in, NextToken out)."""
    token: str | None = None
    while True:
        page = ctx.call("s3control", operation, region=region, **params, **({"NextToken": token} if token else {}))
        yield page or {}
        token = (page or {}).get("NextToken")
        if not token:
            return


# -- access points ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessPoint:
    name: str
    bucket: str
    arn: str
    region: str
    network_origin: str  # Internet or VPC

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::S3::AccessPoint", arn=self.arn, name=self.name, region=self.region)


@collector
def access_points(ctx: CheckContext) -> tuple[AccessPoint, ...]:
    found = []
    for page in _pages(ctx, "ListAccessPoints", None, AccountId=ctx.account):
        for entry in page.get("AccessPointList") or []:
            name = str(entry["Name"])
            found.append(AccessPoint(
                name=name,
                bucket=str(entry.get("Bucket") or ""),
                arn=str(entry.get("AccessPointArn") or ctx.arn("s3", f"accesspoint/{name}")),
                region=ctx.region,
                network_origin=str(entry.get("NetworkOrigin") or ""),
            ))
    return tuple(sorted(found, key=lambda a: a.name))


@collector
def access_point_public_access_block(ctx: CheckContext, access_point: AccessPoint) -> PublicAccessBlock:
    answer = ctx.call("s3control", "GetAccessPoint", AccountId=ctx.account, Name=access_point.name) or {}
    if "PublicAccessBlockConfiguration" not in answer:
        return PublicAccessBlock(configured=False)
    return PublicAccessBlock.from_response(answer)


# -- Multi-Region Access Points -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MultiRegionAccessPoint:
    name: str
    alias: str
    arn: str
    regions: tuple[str, ...]  # the Regions of its buckets
    public_access_block: PublicAccessBlock

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::S3::MultiRegionAccessPoint", arn=self.arn, name=self.name)


@collector
def multi_region_access_points(ctx: CheckContext) -> tuple[MultiRegionAccessPoint, ...]:
    region = MULTI_REGION_CONTROL_REGION.get(ctx.partition, ctx.region)
    found = []
    for page in _pages(ctx, "ListMultiRegionAccessPoints", region, AccountId=ctx.account):
        for entry in page.get("AccessPoints") or []:
            alias = str(entry.get("Alias") or "")
            block = entry.get("PublicAccessBlock")
            found.append(MultiRegionAccessPoint(
                name=str(entry["Name"]),
                alias=alias,
                arn=f"arn:{ctx.partition}:s3::{ctx.account}:accesspoint/{alias}",
                regions=tuple(sorted({str(r.get("Region")) for r in entry.get("Regions") or [] if r.get("Region")})),
                public_access_block=PublicAccessBlock.from_response(
                    None if block is None else {"PublicAccessBlockConfiguration": block}),
            ))
    return tuple(sorted(found, key=lambda m: m.name))


# -- directory buckets ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DirectoryBucket:
    name: str
    arn: str
    region: str

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::S3Express::DirectoryBucket", arn=self.arn, name=self.name,
                        region=self.region)


@collector
def directory_buckets(ctx: CheckContext) -> tuple[DirectoryBucket, ...]:
    found = []
    for entry in (ctx.call("s3", "ListDirectoryBuckets") or {}).get("Buckets") or []:
        name = str(entry["Name"])
        # Directory bucket names always end in --x-s3; anything else is not one (moto lists every bucket).
        if not name.endswith(DIRECTORY_BUCKET_SUFFIX):
            continue
        region = str(entry.get("BucketRegion") or ctx.region)
        if region != ctx.region:
            continue
        found.append(DirectoryBucket(
            name=name,
            arn=str(entry.get("BucketArn") or ctx.arn("s3express", f"bucket/{name}")),
            region=region,
        ))
    return tuple(sorted(found, key=lambda b: b.name))


@collector
def directory_bucket_enabled_lifecycle_rules(ctx: CheckContext, bucket: DirectoryBucket) -> tuple[str, ...]:
    answer = ctx.call("s3", "GetBucketLifecycleConfiguration", region=bucket.region, Bucket=bucket.name) or {}
    return tuple(str(r.get("ID") or f"#{i}") for i, r in enumerate(answer.get("Rules") or [])
                 if r.get("Status") == "Enabled")
