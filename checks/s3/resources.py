"""S3 buckets and their settings, as the checks need them.

Buckets are listed once per run, account-wide (ListBuckets is global), and kept only when they live in an
audited region. Every per-bucket read goes to the bucket's own region. A per-bucket read that fails raises
`DataUnavailable`, so a check that evaluates buckets through `each_bucket` reports ERROR for that bucket alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from auditor import CheckContext, DataUnavailable, Finding, Resource, collector
from auditor.models import ApiError
from auditor.policy import Policy, parse_policy

# GetBucketLocation answers None (or "") for us-east-1 and the legacy "EU" for eu-west-1.
_LEGACY_LOCATIONS = {"": "us-east-1", "EU": "eu-west-1"}

KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str  # "" when the location could not be read (see `location_error`)
    arn: str
    location_error: ApiError | None = None

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::S3::Bucket", arn=self.arn, name=self.name, region=self.region)


def bucket_region(location: str | None) -> str:
    """The region a GetBucketLocation `LocationConstraint` (or a ListBuckets `BucketRegion`) names."""
    location = location or ""
    return _LEGACY_LOCATIONS.get(location, location)


@collector
def buckets(ctx: CheckContext) -> tuple[Bucket, ...]:
    """The account's buckets in the audited regions (plus any whose region could not be read)."""
    listed = (ctx.call("s3", "ListBuckets") or {}).get("Buckets", [])

    def locate(entry: dict) -> Bucket | None:
        name = entry["Name"]
        arn = f"arn:{ctx.partition}:s3:::{name}"
        region = entry.get("BucketRegion")
        if not region:
            try:
                answer = ctx.call("s3", "GetBucketLocation", Bucket=name) or {}
            except DataUnavailable as exc:
                # Where it lives is unknown, so it may be in an audited region: keep it, and let each check
                # report ERROR for it rather than silently leaving it out.
                return Bucket(name=name, region="", arn=arn, location_error=exc.error)
            region = bucket_region(answer.get("LocationConstraint"))
        return Bucket(name=name, region=region, arn=arn) if region in ctx.regions else None

    # One GetBucketLocation per bucket when ListBuckets gives no region: concurrently, not one after another.
    found = [bucket for bucket in ctx.map(locate, listed) if bucket is not None]
    return tuple(sorted(found, key=lambda b: b.name))


def each_bucket(ctx: CheckContext, evaluate_one: Callable[[Bucket], Iterable[Finding]]) -> Iterator[Finding]:
    """Evaluate every audited bucket; a read that fails for one bucket makes only that bucket ERROR."""

    def located_then_evaluated(bucket: Bucket) -> Iterable[Finding]:
        if bucket.location_error is not None:
            raise DataUnavailable(bucket.location_error)
        return evaluate_one(bucket)

    yield from ctx.each(buckets(ctx), located_then_evaluated)


# -- public access block ----------------------------------------------------------------------------------------
PUBLIC_ACCESS_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@dataclass(frozen=True)
class PublicAccessBlock:
    """The four S3 Block Public Access settings; `configured` is False when none was ever set."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False
    configured: bool = True

    @classmethod
    def from_response(cls, response: Mapping[str, Any] | None) -> "PublicAccessBlock":
        if response is None:
            return cls(configured=False)
        config = response.get("PublicAccessBlockConfiguration", {})
        return cls(
            block_public_acls=bool(config.get("BlockPublicAcls")),
            ignore_public_acls=bool(config.get("IgnorePublicAcls")),
            block_public_policy=bool(config.get("BlockPublicPolicy")),
            restrict_public_buckets=bool(config.get("RestrictPublicBuckets")),
        )

    @property
    def settings(self) -> dict[str, bool]:
        return {
            "BlockPublicAcls": self.block_public_acls,
            "IgnorePublicAcls": self.ignore_public_acls,
            "BlockPublicPolicy": self.block_public_policy,
            "RestrictPublicBuckets": self.restrict_public_buckets,
        }

    @property
    def all_on(self) -> bool:
        return all(self.settings.values())

    @property
    def missing(self) -> list[str]:
        return [name for name, on in self.settings.items() if not on]

    def combined(self, other: "PublicAccessBlock") -> "PublicAccessBlock":
        """What S3 enforces when two levels apply: the most restrictive of each setting."""
        return PublicAccessBlock(
            block_public_acls=self.block_public_acls or other.block_public_acls,
            ignore_public_acls=self.ignore_public_acls or other.ignore_public_acls,
            block_public_policy=self.block_public_policy or other.block_public_policy,
            restrict_public_buckets=self.restrict_public_buckets or other.restrict_public_buckets,
            configured=self.configured or other.configured,
        )

    def evidence(self) -> dict[str, bool] | None:
        return self.settings if self.configured else None


@collector
def account_public_access_block(ctx: CheckContext) -> PublicAccessBlock:
    return PublicAccessBlock.from_response(ctx.call("s3control", "GetPublicAccessBlock", AccountId=ctx.account))


@collector
def bucket_public_access_block(ctx: CheckContext, bucket: Bucket) -> PublicAccessBlock:
    return PublicAccessBlock.from_response(
        ctx.call("s3", "GetPublicAccessBlock", region=bucket.region, Bucket=bucket.name)
    )


# -- default encryption ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Encryption:
    """The bucket's default encryption rule. `algorithm` is None when no default encryption is configured."""

    algorithm: str | None
    kms_key: str | None = None
    bucket_key_enabled: bool = False

    @classmethod
    def from_response(cls, response: Mapping[str, Any] | None) -> "Encryption":
        rules = ((response or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
        for rule in rules:
            default = rule.get("ApplyServerSideEncryptionByDefault") or {}
            if default.get("SSEAlgorithm"):
                return cls(
                    algorithm=default["SSEAlgorithm"],
                    kms_key=default.get("KMSMasterKeyID"),
                    bucket_key_enabled=bool(rule.get("BucketKeyEnabled")),
                )
        return cls(algorithm=None)

    @property
    def enabled(self) -> bool:
        return self.algorithm is not None

    @property
    def uses_kms(self) -> bool:
        return self.algorithm in KMS_ALGORITHMS

    def evidence(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "kms_key": self.kms_key, "bucket_key_enabled": self.bucket_key_enabled}


@collector
def bucket_encryption(ctx: CheckContext, bucket: Bucket) -> Encryption:
    return Encryption.from_response(ctx.call("s3", "GetBucketEncryption", region=bucket.region, Bucket=bucket.name))


# -- versioning -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Versioning:
    status: str  # "Enabled", "Suspended", or "Disabled" when versioning was never turned on
    mfa_delete: str

    @property
    def enabled(self) -> bool:
        return self.status == "Enabled"


@collector
def bucket_versioning(ctx: CheckContext, bucket: Bucket) -> Versioning:
    answer = ctx.call("s3", "GetBucketVersioning", region=bucket.region, Bucket=bucket.name) or {}
    return Versioning(status=answer.get("Status", "Disabled"), mfa_delete=answer.get("MFADelete", "Disabled"))


# -- lifecycle ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lifecycle:
    rule_ids: tuple[str, ...]
    enabled_rule_ids: tuple[str, ...]


@collector
def bucket_lifecycle(ctx: CheckContext, bucket: Bucket) -> Lifecycle:
    answer = ctx.call("s3", "GetBucketLifecycleConfiguration", region=bucket.region, Bucket=bucket.name) or {}
    rules = answer.get("Rules") or []
    return Lifecycle(
        rule_ids=tuple(r.get("ID", "") for r in rules),
        enabled_rule_ids=tuple(r.get("ID", "") for r in rules if r.get("Status") == "Enabled"),
    )


# -- bucket policy --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BucketPolicy:
    """The bucket policy document; `text` is None when the bucket has no policy."""

    text: str | None

    def parsed(self) -> Policy:
        """The policy, read by the shared analyser (empty when there is none). Raises `PolicyError` (a
        ValueError) when the text is not a JSON policy document."""
        return parse_policy(self.text)


@collector
def bucket_policy(ctx: CheckContext, bucket: Bucket) -> BucketPolicy:
    answer = ctx.call("s3", "GetBucketPolicy", region=bucket.region, Bucket=bucket.name)
    return BucketPolicy(text=None if answer is None else answer.get("Policy"))
