"""GuardDuty detectors, as the checks need them."""
from __future__ import annotations

from dataclasses import dataclass

from auditor import CheckContext, Resource, collector


@dataclass(frozen=True)
class Detector:
    id: str
    region: str
    status: str
    arn: str

    @property
    def enabled(self) -> bool:
        return self.status == "ENABLED"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::GuardDuty::Detector", arn=self.arn, name=self.id, region=self.region)


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
            )
        )
    return found
