"""CloudTrail trails, their logging status and the management events they record.

DescribeTrails in a region answers with the trails that apply to it, so a multi-region (or organization) trail
appears in every region as a "shadow" copy. `trails` reads each audited region once and keeps one copy per
TrailARN, so per-trail checks report each trail once, in its home region. Follow-up reads for a trail go to its
home region when that region is audited (one request per trail for the whole run), otherwise to the region asking,
with the trail's ARN, which CloudTrail accepts for shadow trails.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
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
    cloudwatch_log_group_arn: str | None = None

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
    latest_cloudwatch_logs_delivery: datetime | None = None
    latest_cloudwatch_logs_delivery_error: str | None = None


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
        cloudwatch_log_group_arn=item.get("CloudWatchLogsLogGroupArn") or None,
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
        latest_cloudwatch_logs_delivery=_timestamp(response.get("LatestCloudWatchLogsDeliveryTime")),
        latest_cloudwatch_logs_delivery_error=response.get("LatestCloudWatchLogsDeliveryError") or None,
    )


def _timestamp(value: Any) -> datetime | None:
    """botocore parses timestamps to aware datetimes; anything else (absent, moto's empty strings) is None."""
    return value if isinstance(value, datetime) else None


@collector
def management_events(ctx: CheckContext, trail: Trail) -> ManagementEvents:
    # A trail without custom event selectors records all management events, read and write.
    if not trail.custom_event_selectors:
        return ManagementEvents(read=True, write=True)
    response = ctx.call("cloudtrail", "GetEventSelectors", region=_read_region(ctx, trail), TrailName=trail.arn)
    if response is None:  # the trail was deleted since it was listed
        return ManagementEvents(read=False, write=False)
    return management_events_of(response)


@collector
def s3_data_events(ctx: CheckContext, trail: Trail) -> DataEvents:
    """Which S3 object-level events the trail records for every bucket. The selectors are always read: moto
    reports HasCustomEventSelectors false whatever was put, and the read is the same one management_events makes."""
    response = ctx.call("cloudtrail", "GetEventSelectors", region=_read_region(ctx, trail), TrailName=trail.arn)
    return s3_data_events_of(response or {})


def _read_write(read_only: Mapping[str, Any] | None) -> tuple[bool, bool]:
    """Which of read and write events an advanced selector's `readOnly` field lets through."""
    if read_only is None:
        return True, True
    if read_only.get("Equals"):
        return "true" in read_only["Equals"], "false" in read_only["Equals"]
    excluded = read_only.get("NotEquals") or []
    return "true" not in excluded, "false" not in excluded


def _basic_kind(selector: Mapping[str, Any]) -> tuple[bool, bool]:
    kind = selector.get("ReadWriteType", "All")
    return kind in ("All", "ReadOnly"), kind in ("All", "WriteOnly")


def _fields(selector: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(f.get("Field")): f for f in selector.get("FieldSelectors") or []}


def management_events_of(response: Mapping[str, Any]) -> ManagementEvents:
    """Read/write management-event coverage of a GetEventSelectors response (basic or advanced selectors)."""
    read = write = False
    for selector in response.get("EventSelectors") or []:
        if not selector.get("IncludeManagementEvents", True):
            continue
        r, w = _basic_kind(selector)
        read, write = read or r, write or w
    for selector in response.get("AdvancedEventSelectors") or []:
        fields = _fields(selector)
        if "Management" not in ((fields.get("eventCategory") or {}).get("Equals") or []):
            continue
        r, w = _read_write(fields.get("readOnly"))
        read, write = read or r, write or w
    return ManagementEvents(read=read, write=write)


# "Every bucket" in an S3 data resource or resources.ARN selector: the bare service prefix, as the console and
# the CloudTrail documentation write it (arn:aws:s3), or the empty bucket ARN (arn:aws:s3:::).
_ALL_BUCKETS = re.compile(r"arn:[a-z-]+:s3(:::)?/?")
S3_OBJECT = "AWS::S3::Object"
# Advanced-selector fields that do not narrow which S3 objects are logged (readOnly is weighed separately).
_NEUTRAL_FIELDS = frozenset({"eventCategory", "resources.type", "readOnly", "resources.ARN"})


@dataclass(frozen=True)
class DataEvents:
    """Whether a trail records S3 object-level read and write events for all buckets."""

    read: bool
    write: bool

    @property
    def label(self) -> str:
        return {(True, True): "All", (True, False): "ReadOnly", (False, True): "WriteOnly"}.get(
            (self.read, self.write), "None")


def _all_buckets_arn_field(field: Mapping[str, Any] | None) -> bool:
    if field is None:
        return True
    operators = {k for k, v in field.items() if k != "Field" and v}
    return operators == {"StartsWith"} and any(_ALL_BUCKETS.fullmatch(str(v)) for v in field["StartsWith"])


def s3_data_events_of(response: Mapping[str, Any]) -> DataEvents:
    """S3 object-level coverage, for all buckets, of a GetEventSelectors response (basic or advanced)."""
    read = write = False
    for selector in response.get("EventSelectors") or []:
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") != S3_OBJECT:
                continue
            if any(_ALL_BUCKETS.fullmatch(str(v)) for v in resource.get("Values") or []):
                r, w = _basic_kind(selector)
                read, write = read or r, write or w
    for selector in response.get("AdvancedEventSelectors") or []:
        fields = _fields(selector)
        if "Data" not in ((fields.get("eventCategory") or {}).get("Equals") or []):
            continue
        if S3_OBJECT not in ((fields.get("resources.type") or {}).get("Equals") or []):
            continue
        if set(fields) - _NEUTRAL_FIELDS or not _all_buckets_arn_field(fields.get("resources.ARN")):
            continue  # narrowed to some buckets, events, callers ...
        r, w = _read_write(fields.get("readOnly"))
        read, write = read or r, write or w
    return DataEvents(read=read, write=write)
