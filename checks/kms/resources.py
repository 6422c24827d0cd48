"""KMS keys of a region: ListKeys, then DescribeKey, GetKeyRotationStatus and GetKeyPolicy per key.

The per-key reads are separate collectors so that a read denied for one key (a key policy that does not let the
auditor in is common) makes only that key ERROR.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auditor import CheckContext, Resource, collector
from auditor.policy import Policy, parse_policy

# Key states in which a key can be used or re-enabled; the others (pending deletion, pending import, being
# created, unavailable) are reported by state alone.
USABLE_STATES = frozenset({"Enabled", "Disabled"})
PENDING_DELETION_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


@dataclass(frozen=True)
class KeyRef:
    """A key as ListKeys names it, before it is described."""

    key_id: str
    arn: str

    @property
    def resource(self) -> Resource:
        return Resource(id=self.key_id, type="AWS::KMS::Key", arn=self.arn, name=self.key_id)


@dataclass(frozen=True)
class Key:
    key_id: str
    arn: str
    description: str
    manager: str  # "CUSTOMER" | "AWS"
    state: str
    spec: str  # "SYMMETRIC_DEFAULT", "RSA_2048", "HMAC_256", ...
    usage: str
    origin: str  # "AWS_KMS" | "EXTERNAL" | "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE"
    multi_region_replica: bool
    deletion_date: datetime | None

    @property
    def customer_managed(self) -> bool:
        return self.manager != "AWS"

    @property
    def pending_deletion(self) -> bool:
        return self.state in PENDING_DELETION_STATES

    @property
    def usable(self) -> bool:
        return self.state in USABLE_STATES

    @property
    def rotatable(self) -> bool:
        """Automatic rotation exists only for symmetric encryption keys whose material KMS generated."""
        return self.spec == "SYMMETRIC_DEFAULT" and self.origin == "AWS_KMS"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.key_id, type="AWS::KMS::Key", arn=self.arn, name=self.key_id)

    def evidence(self) -> dict[str, object]:
        return {"key_state": self.state, "key_spec": self.spec, "key_manager": self.manager,
                "description": self.description}


@collector
def key_refs(ctx: CheckContext) -> tuple[KeyRef, ...]:
    listed = (ctx.call("kms", "ListKeys") or {}).get("Keys", [])
    return tuple(KeyRef(key_id=k["KeyId"], arn=k.get("KeyArn", "")) for k in listed if k.get("KeyId"))


@collector
def key(ctx: CheckContext, key_id: str) -> Key | None:
    """DescribeKey; None when the key disappeared since it was listed."""
    response = ctx.call("kms", "DescribeKey", KeyId=key_id)
    if response is None:
        return None
    meta = response.get("KeyMetadata", {})
    spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    replica = (meta.get("MultiRegionConfiguration") or {}).get("MultiRegionKeyType") == "REPLICA"
    return Key(
        key_id=meta.get("KeyId", key_id),
        arn=meta.get("Arn", ""),
        description=meta.get("Description", ""),
        manager=meta.get("KeyManager", "CUSTOMER"),
        state=meta.get("KeyState", "Enabled" if meta.get("Enabled", True) else "Disabled"),
        spec=spec,
        usage=meta.get("KeyUsage", ""),
        origin=meta.get("Origin", "AWS_KMS"),
        multi_region_replica=replica,
        deletion_date=meta.get("DeletionDate"),
    )


def customer_key(ctx: CheckContext, ref: KeyRef) -> Key | None:
    """The described key when it is customer managed, else None (AWS managed keys are AWS's to run)."""
    described = key(ctx, ref.key_id)
    return described if described is not None and described.customer_managed else None


@collector
def rotation_enabled(ctx: CheckContext, key_id: str) -> bool:
    response = ctx.call("kms", "GetKeyRotationStatus", KeyId=key_id) or {}
    return bool(response.get("KeyRotationEnabled"))


@collector
def key_policy(ctx: CheckContext, key_id: str) -> Policy:
    """The key policy (every key has exactly one, named "default")."""
    response = ctx.call("kms", "GetKeyPolicy", KeyId=key_id, PolicyName="default") or {}
    return parse_policy(response.get("Policy"))
