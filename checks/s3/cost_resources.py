"""The full lifecycle rules of a bucket, for the cost checks (`resources.bucket_lifecycle` keeps only rule ids).
The read is the same GetBucketLifecycleConfiguration call, shared through the memo."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from auditor import CheckContext, collector

from .resources import Bucket


@dataclass(frozen=True)
class LifecycleRule:
    id: str
    enabled: bool
    transitions: tuple[tuple[str, str], ...]  # (storage class, "N days" or "on <date>")
    expiration: str  # "N days" / "on <date>"; "" when the rule does not expire current objects
    noncurrent_expiration_days: int | None


def _when(item: Mapping[str, Any]) -> str:
    if item.get("Days") is not None:
        return f"{item['Days']} days"
    if item.get("Date"):
        return f"on {item['Date']}"
    return ""


def _rule(raw: Mapping[str, Any]) -> LifecycleRule:
    transitions = list(raw.get("Transitions") or [])
    if raw.get("Transition"):  # the legacy single-transition form
        transitions.append(raw["Transition"])
    noncurrent = raw.get("NoncurrentVersionExpiration") or {}
    return LifecycleRule(
        id=str(raw.get("ID", "")),
        enabled=raw.get("Status") == "Enabled",
        transitions=tuple((str(t.get("StorageClass", "")), _when(t)) for t in transitions),
        expiration=_when(raw.get("Expiration") or {}),
        noncurrent_expiration_days=int(noncurrent["NoncurrentDays"]) if noncurrent.get("NoncurrentDays") else None,
    )


@collector
def lifecycle_rules(ctx: CheckContext, bucket: Bucket) -> tuple[LifecycleRule, ...]:
    answer = ctx.call("s3", "GetBucketLifecycleConfiguration", region=bucket.region, Bucket=bucket.name) or {}
    return tuple(_rule(r) for r in answer.get("Rules") or [])
