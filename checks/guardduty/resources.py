"""GuardDuty detectors and the protection plans (features) they have turned on.

GetDetector answers, in AWS today, with a `Features` list: `[{"Name": "S3_DATA_EVENTS", "Status": "ENABLED",
"AdditionalConfiguration": [{"Name": ..., "Status": ...}]}]`, and still with the older `DataSources` structure for
the plans that existed before features did (S3 logs, EKS audit logs, EBS malware scans). Both are read: a feature
named in `Features` wins, and `DataSources` answers only for a feature `Features` does not mention (older
detectors, and moto, which returns an empty `Features` list unless the detector was created with one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from auditor import CheckContext, Resource, collector

ENABLED = "ENABLED"


@dataclass(frozen=True)
class FeatureState:
    """One GuardDuty feature: its status and the status of each of its additional configurations."""

    status: str
    additional: Mapping[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.status == ENABLED


@dataclass(frozen=True)
class Detector:
    id: str
    region: str
    status: str
    arn: str
    features: Mapping[str, FeatureState] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.status == ENABLED

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::GuardDuty::Detector", arn=self.arn, name=self.id, region=self.region)


# Feature name -> the path to its status in the older `DataSources` structure.
_DATA_SOURCE_PATHS: dict[str, tuple[str, ...]] = {
    "CLOUD_TRAIL": ("CloudTrail", "Status"),
    "DNS_LOGS": ("DNSLogs", "Status"),
    "FLOW_LOGS": ("FlowLogs", "Status"),
    "S3_DATA_EVENTS": ("S3Logs", "Status"),
    "EKS_AUDIT_LOGS": ("Kubernetes", "AuditLogs", "Status"),
    "EBS_MALWARE_PROTECTION": ("MalwareProtection", "ScanEc2InstanceWithFindings", "EbsVolumes", "Status"),
}


def _dig(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def features_of(detail: Mapping[str, Any]) -> dict[str, FeatureState]:
    """Feature name -> state, from a GetDetector response (Features first, DataSources for the rest)."""
    found: dict[str, FeatureState] = {}
    for feature in detail.get("Features") or []:
        name = feature.get("Name")
        if not name:
            continue
        additional = {
            str(extra["Name"]): str(extra.get("Status", ""))
            for extra in feature.get("AdditionalConfiguration") or []
            if extra.get("Name")
        }
        found[str(name)] = FeatureState(status=str(feature.get("Status", "")), additional=additional)
    sources = detail.get("DataSources") or {}
    for name, path in _DATA_SOURCE_PATHS.items():
        status = _dig(sources, path)
        if name not in found and isinstance(status, str):
            found[name] = FeatureState(status=status)
    return found


@collector
def detectors(ctx: CheckContext) -> list[Detector]:
    ids = (ctx.call("guardduty", "ListDetectors") or {}).get("DetectorIds", [])
    found = []
    for detector_id in ids:
        detail = ctx.call("guardduty", "GetDetector", DetectorId=detector_id) or {}
        found.append(
            Detector(
                id=detector_id,
                region=ctx.region,
                status=detail.get("Status", "UNKNOWN"),
                arn=ctx.arn("guardduty", f"detector/{detector_id}"),
                features=features_of(detail),
            )
        )
    return found
