"""CloudTrail trails, their logging status and the management events they record.

DescribeTrails in a region answers with the trails that apply to it, so a multi-region (or organization) trail
appears in every region as a "shadow" copy. `trails` reads each audited region once and keeps one copy per
TrailARN, so per-trail checks report each trail once, in its home region. Follow-up reads for a trail go to its
home region when that region is audited (one request per trail for the whole run), otherwise to the region asking,
with the trail's ARN, which CloudTrail accepts for shadow trails.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from auditor import CheckContext, DataUnavailable, Resource, collector


@dataclass(frozen=True)
class Trail:
    name: str
    arn: str
    home_region: str
    multi_region: bool
    organization_trail: bool
    log_file_validation: bool
    kms_key_id: str | None
    s3_bucket: str | None
    custom_event_selectors: bool

    def applies_to(self, region: str) -> bool:
        return self.multi_region or self.home_region == region

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::CloudTrail::Trail", arn=self.arn, name=self.name,
                        region=self.home_region)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "home_region": self.home_region, "multi_region": self.multi_region}


@dataclass(frozen=True)
class TrailInventory:
    """Every trail visible from the audited regions, once each, and the regions whose trails could not be read."""

    trails: tuple[Trail, ...]
    unreadable: tuple[DataUnavailable, ...] = ()


@dataclass(frozen=True)
class TrailStatus:
    logging: bool
    latest_delivery_error: str | None


@dataclass(frozen=True)
class ManagementEvents:
    """Which management events a trail records."""

    read: bool
    write: bool

    @property
    def all(self) -> bool:
        return self.read and self.write

    @property
    def label(self) -> str:
        return {(True, True): "All", (True, False): "ReadOnly", (False, True): "WriteOnly"}.get(
            (self.read, self.write), "None")


def _home_region(item: Mapping[str, Any], fallback: str) -> str:
    if item.get("HomeRegion"):
        return str(item["HomeRegion"])
    arn_parts = str(item.get("TrailARN", "")).split(":")
    return arn_parts[3] if len(arn_parts) > 3 and arn_parts[3] else fallback


def _trail(item: Mapping[str, Any], region: str) -> Trail:
    return Trail(
        name=item["Name"],
        arn=item.get("TrailARN", ""),
        home_region=_home_region(item, region),
        multi_region=bool(item.get("IsMultiRegionTrail", False)),
        organization_trail=bool(item.get("IsOrganizationTrail", False)),
        log_file_validation=bool(item.get("LogFileValidationEnabled", False)),
        kms_key_id=item.get("KmsKeyId") or None,
        s3_bucket=item.get("S3BucketName"),
        custom_event_selectors=bool(item.get("HasCustomEventSelectors", False)),
    )


@collector
def regional_trails(ctx: CheckContext, region: str) -> list[Trail]:
    """The trails DescribeTrails returns in `region`: its own trails and shadow copies of multi-region ones."""
    response = ctx.call("cloudtrail", "DescribeTrails", region=region) or {}
    return [_trail(item, region) for item in response.get("trailList", [])]


@collector
def trails(ctx: CheckContext) -> TrailInventory:
    """Every trail of the audited regions, de-duplicated by TrailARN."""
    by_arn: dict[str, Trail] = {}
    unreadable: list[DataUnavailable] = []
    for region in ctx.regions:
        try:
            found = regional_trails(ctx, region)
        except DataUnavailable as exc:
            unreadable.append(exc)
            continue
        for trail in found:
            by_arn.setdefault(trail.arn or f"{trail.home_region}/{trail.name}", trail)
    ordered = sorted(by_arn.values(), key=lambda t: (t.home_region, t.name))
    return TrailInventory(tuple(ordered), tuple(unreadable))


def _read_region(ctx: CheckContext, trail: Trail) -> str:
    return trail.home_region if trail.home_region in ctx.regions else ctx.region


@collector
def trail_status(ctx: CheckContext, trail: Trail) -> TrailStatus:
    response = ctx.call("cloudtrail", "GetTrailStatus", region=_read_region(ctx, trail), Name=trail.arn) or {}
    return TrailStatus(
        logging=bool(response.get("IsLogging", False)),
        latest_delivery_error=response.get("LatestDeliveryError") or None,
    )


@collector
def management_events(ctx: CheckContext, trail: Trail) -> ManagementEvents:
    # A trail without custom event selectors records all management events, read and write.
    if not trail.custom_event_selectors:
        return ManagementEvents(read=True, write=True)
    response = ctx.call("cloudtrail", "GetEventSelectors", region=_read_region(ctx, trail), TrailName=trail.arn)
    if response is None:  # the trail was deleted since it was listed
        return ManagementEvents(read=False, write=False)
    return management_events_of(response)


def management_events_of(response: Mapping[str, Any]) -> ManagementEvents:
    """Read/write management-event coverage of a GetEventSelectors response (basic or advanced selectors)."""
    read = write = False
    for selector in response.get("EventSelectors") or []:
        if not selector.get("IncludeManagementEvents", True):
            continue
        kind = selector.get("ReadWriteType", "All")
        read = read or kind in ("All", "ReadOnly")
        write = write or kind in ("All", "WriteOnly")
    for selector in response.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        category = fields.get("eventCategory") or {}
        if "Management" not in (category.get("Equals") or []):
            continue
        read_only = fields.get("readOnly")
        if read_only is None:
            read = write = True
        elif read_only.get("Equals"):
            read = read or "true" in read_only["Equals"]
            write = write or "false" in read_only["Equals"]
        else:
            excluded = read_only.get("NotEquals") or []
            read = read or "true" not in excluded
            write = write or "false" not in excluded
    return ManagementEvents(read=read, write=write)
