"""The S3 bucket a trail delivers to: where it lives, whether anyone can read it, whether access to it is logged.

The bucket is found through ListBuckets (shared with the S3 checks); a bucket it does not list belongs to another
account (a central log archive, typically), and is read anyway — its owner may have granted this account read
access — so a denied read there is an ERROR naming the action, not a guess. Every per-bucket read goes to the
bucket's own region, through the S3 package's collectors where they exist, so the S3 checks and these share one
request per bucket.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor import CheckContext, collector
from auditor.policy import PolicyError, parse_policy
from checks.s3.resources import (
    Bucket,
    PublicAccessBlock,
    account_public_access_block,
    bucket_policy,
    bucket_public_access_block,
    bucket_region,
)

# ACL grantees that mean "everyone" and "any AWS account holder".
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}


@dataclass(frozen=True)
class TrailBucket:
    name: str
    region: str
    in_account: bool  # listed by the audited account's ListBuckets

    def as_bucket(self, ctx: CheckContext) -> Bucket:
        return Bucket(name=self.name, region=self.region, arn=f"arn:{ctx.partition}:s3:::{self.name}")


@dataclass(frozen=True)
class BucketExposure:
    """Why a bucket is public (empty when it is not), and the Block Public Access settings that apply."""

    public_grants: tuple[str, ...]
    block: PublicAccessBlock

    @property
    def public(self) -> bool:
        return bool(self.public_grants)


@collector
def trail_bucket(ctx: CheckContext, name: str) -> TrailBucket:
    listed = (ctx.call("s3", "ListBuckets") or {}).get("Buckets", [])
    entry = next((b for b in listed if b.get("Name") == name), None)
    region = (entry or {}).get("BucketRegion")
    if not region:
        answer = ctx.call("s3", "GetBucketLocation", Bucket=name) or {}
        region = bucket_region(answer.get("LocationConstraint"))
    return TrailBucket(name=name, region=region, in_account=entry is not None)


@collector
def bucket_exposure(ctx: CheckContext, located: TrailBucket) -> BucketExposure:
    bucket = located.as_bucket(ctx)
    block = bucket_public_access_block(ctx, bucket)
    if located.in_account:  # the account-level settings apply only to the account's own buckets
        block = block.combined(account_public_access_block(ctx))
    grants: list[str] = []
    # RestrictPublicBuckets makes a public policy grant nothing to anyone outside the account and AWS services;
    # IgnorePublicAcls makes S3 disregard public ACL grants. What they neutralise need not be read.
    if not block.restrict_public_buckets:
        grants.extend(_public_policy_grants(bucket_policy(ctx, bucket).text, ctx.account))
    if not block.ignore_public_acls:
        acl = ctx.call("s3", "GetBucketAcl", region=bucket.region, Bucket=bucket.name) or {}
        grants.extend(_public_acl_grants(acl))
    return BucketExposure(public_grants=tuple(grants), block=block)


def _public_policy_grants(text: str | None, owner: str) -> list[str]:
    if not text:
        return []
    try:
        access = parse_policy(text).access(owner)
    except PolicyError:
        return []  # S3 only stores valid JSON policies; an unreadable one grants nothing we can name
    if not access.is_public():
        return []
    return [f"bucket policy allows {', '.join(sorted(access.public_actions))} to anyone"]


def _public_acl_grants(acl: dict[str, Any]) -> list[str]:
    found = []
    for grant in acl.get("Grants") or []:
        group = PUBLIC_GROUPS.get(str((grant.get("Grantee") or {}).get("URI", "")))
        if group:
            found.append(f"ACL grants {grant.get('Permission', 'access')} to {group}")
    return found


@dataclass(frozen=True)
class AccessLogging:
    target_bucket: str | None

    @property
    def enabled(self) -> bool:
        return self.target_bucket is not None


@collector
def bucket_access_logging(ctx: CheckContext, located: TrailBucket) -> AccessLogging:
    answer = ctx.call("s3", "GetBucketLogging", region=located.region, Bucket=located.name) or {}
    return AccessLogging(target_bucket=(answer.get("LoggingEnabled") or {}).get("TargetBucket") or None)
