"""Per-bucket S3 settings beyond the basics in `resources.py`: server access logging, replication, event
notifications, Object Lock, object ownership and the bucket ACL.

Every read goes to the bucket's own region, is memoised per bucket, and raises `DataUnavailable` when it fails,
so checks evaluating buckets through `each_bucket` report ERROR for that bucket alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from auditor import CheckContext, collector

from .resources import Bucket

# ACL grantee groups that mean "anyone" and "anyone with an AWS account".
ALL_USERS_URI = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS_URI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_GROUPS = {ALL_USERS_URI: "AllUsers", AUTHENTICATED_USERS_URI: "AuthenticatedUsers"}
# ACL permissions that let the grantee read (list objects, read the ACL) or write (objects, the ACL).
ACL_READ_PERMISSIONS = frozenset({"READ", "READ_ACP", "FULL_CONTROL"})
ACL_WRITE_PERMISSIONS = frozenset({"WRITE", "WRITE_ACP", "FULL_CONTROL"})


# -- server access logging ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessLogging:
    target_bucket: str | None  # None when server access logging is off
    target_prefix: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.target_bucket)


@collector
def bucket_logging(ctx: CheckContext, bucket: Bucket) -> AccessLogging:
    # Logging off is an empty answer ({}), not an error.
    answer = ctx.call("s3", "GetBucketLogging", region=bucket.region, Bucket=bucket.name) or {}
    enabled = answer.get("LoggingEnabled") or {}
    return AccessLogging(target_bucket=enabled.get("TargetBucket") or None,
                         target_prefix=str(enabled.get("TargetPrefix") or ""))


# -- replication ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplicationRule:
    rule_id: str
    enabled: bool
    destination_bucket: str  # the destination bucket's name (from its ARN)
    destination_account: str | None


@dataclass(frozen=True)
class Replication:
    rules: tuple[ReplicationRule, ...]  # empty when no replication is configured

    @property
    def enabled_rules(self) -> tuple[ReplicationRule, ...]:
        return tuple(r for r in self.rules if r.enabled)


def _bucket_name_of(arn_or_name: str) -> str:
    return arn_or_name.rsplit(":", 1)[-1] if arn_or_name.startswith("arn:") else arn_or_name


@collector
def bucket_replication(ctx: CheckContext, bucket: Bucket) -> Replication:
    answer = ctx.call("s3", "GetBucketReplication", region=bucket.region, Bucket=bucket.name) or {}
    rules = (answer.get("ReplicationConfiguration") or {}).get("Rules") or []
    return Replication(rules=tuple(
        ReplicationRule(
            rule_id=str(rule.get("ID") or f"#{position}"),
            enabled=rule.get("Status") == "Enabled",
            destination_bucket=_bucket_name_of(str((rule.get("Destination") or {}).get("Bucket") or "")),
            destination_account=(rule.get("Destination") or {}).get("Account"),
        )
        for position, rule in enumerate(rules)
    ))


# -- event notifications ----------------------------------------------------------------------------------------
NOTIFICATION_KINDS = {
    "TopicConfigurations": "sns",
    "QueueConfigurations": "sqs",
    "LambdaFunctionConfigurations": "lambda",
}


@dataclass(frozen=True)
class Notifications:
    destinations: Mapping[str, int]  # kind (sns, sqs, lambda) -> number of configurations
    eventbridge: bool

    @property
    def enabled(self) -> bool:
        return self.eventbridge or any(self.destinations.values())


@collector
def bucket_notifications(ctx: CheckContext, bucket: Bucket) -> Notifications:
    answer = ctx.call("s3", "GetBucketNotificationConfiguration", region=bucket.region, Bucket=bucket.name) or {}
    return Notifications(
        destinations={kind: len(answer.get(key) or []) for key, kind in NOTIFICATION_KINDS.items()
                      if answer.get(key)},
        # Enabled EventBridge delivery is an empty object: {"EventBridgeConfiguration": {}}.
        eventbridge="EventBridgeConfiguration" in answer,
    )


# -- Object Lock ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectLock:
    enabled: bool
    default_mode: str | None = None  # GOVERNANCE or COMPLIANCE, when a default retention is set
    default_days: int | None = None
    default_years: int | None = None

    def evidence(self) -> dict[str, Any]:
        return {"object_lock": "Enabled" if self.enabled else "Disabled", "default_mode": self.default_mode,
                "default_days": self.default_days or None, "default_years": self.default_years or None}


@collector
def bucket_object_lock(ctx: CheckContext, bucket: Bucket) -> ObjectLock:
    answer = ctx.call("s3", "GetObjectLockConfiguration", region=bucket.region, Bucket=bucket.name) or {}
    config = answer.get("ObjectLockConfiguration") or {}
    retention = (config.get("Rule") or {}).get("DefaultRetention") or {}
    return ObjectLock(
        enabled=config.get("ObjectLockEnabled") == "Enabled",
        default_mode=retention.get("Mode"),
        default_days=retention.get("Days"),
        default_years=retention.get("Years"),
    )


# -- object ownership and ACL -----------------------------------------------------------------------------------
@collector
def bucket_object_ownership(ctx: CheckContext, bucket: Bucket) -> str:
    """BucketOwnerEnforced (ACLs disabled), BucketOwnerPreferred or ObjectWriter.

    No ownership controls at all means the bucket was created before they existed and uses ACLs: ObjectWriter.
    """
    answer = ctx.call("s3", "GetBucketOwnershipControls", region=bucket.region, Bucket=bucket.name)
    rules = ((answer or {}).get("OwnershipControls") or {}).get("Rules") or []
    for rule in rules:
        if rule.get("ObjectOwnership"):
            return str(rule["ObjectOwnership"])
    return "ObjectWriter"


@dataclass(frozen=True)
class Grant:
    grantee: str  # a canonical user id, an e-mail address, or a group name (AllUsers, AuthenticatedUsers, ...)
    kind: str  # CanonicalUser, AmazonCustomerByEmail or Group
    permission: str

    @property
    def public(self) -> bool:
        return self.kind == "Group" and self.grantee in PUBLIC_GROUPS.values()

    def evidence(self) -> dict[str, str]:
        return {"grantee": self.grantee, "type": self.kind, "permission": self.permission}


@dataclass(frozen=True)
class Acl:
    owner_id: str
    grants: tuple[Grant, ...]

    @property
    def others(self) -> tuple[Grant, ...]:
        """Grants to anyone but the bucket owner."""
        return tuple(g for g in self.grants if not (g.kind == "CanonicalUser" and g.grantee == self.owner_id))

    def public(self, permissions: frozenset[str]) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if g.public and g.permission in permissions)


def _grant(raw: Mapping[str, Any]) -> Grant:
    grantee = raw.get("Grantee") or {}
    kind = str(grantee.get("Type") or "")
    if kind == "Group":
        uri = str(grantee.get("URI") or "")
        name = PUBLIC_GROUPS.get(uri) or uri.rsplit("/", 1)[-1]
    else:
        name = str(grantee.get("ID") or grantee.get("EmailAddress") or "")
    return Grant(grantee=name, kind=kind, permission=str(raw.get("Permission") or ""))


@collector
def bucket_acl(ctx: CheckContext, bucket: Bucket) -> Acl:
    answer = ctx.call("s3", "GetBucketAcl", region=bucket.region, Bucket=bucket.name) or {}
    return Acl(owner_id=str((answer.get("Owner") or {}).get("ID") or ""),
               grants=tuple(_grant(g) for g in answer.get("Grants") or []))
