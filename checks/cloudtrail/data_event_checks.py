"""S3 object-level logging: a logging multi-region trail that records S3 data events for every bucket.

Security Hub's S3.22 / S3.23 (CIS 3.8 / 3.9) are evaluated per account, as AWS Config's
cloudtrail-all-write-s3-data-event-check and cloudtrail-all-read-s3-data-event-check do: one trail covering all
current and future buckets satisfies them. A trail that selects only some buckets does not.
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity

from .checks import account_verdict
from .resources import Trail, s3_data_events, trail_status, trails

DATA_EVENTS_URL = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html"


def _remediation(direction: str) -> Remediation:
    return Remediation(
        text=f"Add an advanced event selector to a logging multi-region trail that records S3 data events "
             f"({direction} or all) for every bucket.",
        cli="aws cloudtrail put-event-selectors --trail-name <trail> --advanced-event-selectors "
            "'[{\"Name\":\"Management events\",\"FieldSelectors\":[{\"Field\":\"eventCategory\",\"Equals\":"
            "[\"Management\"]}]},{\"Name\":\"S3 data events\",\"FieldSelectors\":[{\"Field\":\"eventCategory\","
            "\"Equals\":[\"Data\"]},{\"Field\":\"resources.type\",\"Equals\":[\"AWS::S3::Object\"]}]}]'",
        terraform=(
            'resource "aws_cloudtrail" "main" {\n'
            '  name                  = "${var.project}-trail"\n'
            "  s3_bucket_name        = aws_s3_bucket.cloudtrail.id\n"
            "  is_multi_region_trail = true\n"
            "\n"
            "  advanced_event_selector {\n"
            '    name = "Management events"\n'
            "    field_selector {\n"
            '      field  = "eventCategory"\n'
            '      equals = ["Management"]\n'
            "    }\n"
            "  }\n"
            "\n"
            "  advanced_event_selector {\n"
            '    name = "S3 data events"\n'
            "    field_selector {\n"
            '      field  = "eventCategory"\n'
            '      equals = ["Data"]\n'
            "    }\n"
            "    field_selector {\n"
            '      field  = "resources.type"\n'
            '      equals = ["AWS::S3::Object"]\n'
            "    }\n"
            "  }\n"
            "\n"
            "  tags = local.common_tags\n"
            "}"
        ),
        url=DATA_EVENTS_URL,
    )


class CloudtrailS3DataEventsCheck(Check):
    """Base of the two S3 object-level logging checks (not a check itself: it has no id)."""

    direction: ClassVar[str]  # "read" or "write"
    api_calls = ("cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        direction = self.direction

        def covers(trail: Trail) -> tuple[bool, dict[str, Any]]:
            facts: dict[str, Any] = {}
            if not trail.multi_region:
                return False, facts
            events = s3_data_events(ctx, trail)
            facts["s3_data_events"] = events.label
            if not getattr(events, direction):
                return False, facts
            status = trail_status(ctx, trail)
            facts["logging"] = status.logging
            return status.logging, facts

        yield account_verdict(
            ctx, trails(ctx), covers,
            passed=lambda found: f"CloudTrail trail(s) {', '.join(t.name for t in found)} log S3 object-level "
                                 f"{direction} events for all buckets.",
            failed=f"No logging multi-region CloudTrail trail records S3 object-level {direction} events for all "
                   f"buckets in account {ctx.account}.",
        )


class CloudtrailS3WriteDataEventsLogged(CloudtrailS3DataEventsCheck):
    """Object-level write events (PutObject, DeleteObject, ...) are not management events: a trail records them
    only when its event selectors ask for S3 data events. Without them there is no record of who overwrote or
    deleted an object, which is what a ransomware or data-destruction investigation needs first."""

    id = "cloudtrail_s3_write_data_events_logged"
    service = "cloudtrail"
    severity = Severity.MEDIUM
    title = "CloudTrail logs S3 object-level write events for all buckets"
    risk = "Who changed or deleted S3 objects cannot be established."
    direction = "write"
    remediation = _remediation("write")
    compliance = (
        Control("aws-securityhub", "S3.22"),
        Control("cis-aws-3.0", "3.8"),
        Control("cis-aws-4.0.1", "3.8"),
    )


class CloudtrailS3ReadDataEventsLogged(CloudtrailS3DataEventsCheck):
    """Object-level read events (GetObject, ...) are recorded only when a trail's event selectors ask for S3
    data events. Without them, data exfiltration from a bucket leaves no record of what was read, or by whom."""

    id = "cloudtrail_s3_read_data_events_logged"
    service = "cloudtrail"
    severity = Severity.MEDIUM
    title = "CloudTrail logs S3 object-level read events for all buckets"
    risk = "What data was read from S3 buckets, and by whom, cannot be established after a breach."
    direction = "read"
    remediation = _remediation("read")
    compliance = (
        Control("aws-securityhub", "S3.23"),
        Control("cis-aws-3.0", "3.9"),
        Control("cis-aws-4.0.1", "3.9"),
    )
