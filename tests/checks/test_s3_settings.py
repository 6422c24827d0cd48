"""Bucket settings checks: replication, server access logging, lifecycle of versioned buckets, event
notifications, Object Lock and MFA delete."""
import json
from typing import Any, Iterator

import pytest

from auditor import Status

from ..conftest import ACCOUNT, BOTO, statuses
from .test_s3 import by_bucket, deny_for_bucket, make_bucket  # noqa: F401 - deny_for_bucket is a fixture

ROLE = f"arn:aws:iam::{ACCOUNT}:role/replication"


@pytest.fixture
def recorded() -> Iterator[Any]:
    """Rewrite a parsed S3 response before the engine sees it: the real AWS shape where moto cannot produce it."""
    registered = []

    def record(operation: str, bucket: str, changes: dict[str, Any]) -> None:
        def handler(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            if (context.get("s3_redirect") or {}).get("bucket") == bucket:
                parsed.update(changes)

        event = f"after-call.s3.{operation}"
        BOTO.events.register(event, handler)
        registered.append((event, handler))

    yield record
    for event, handler in registered:
        BOTO.events.unregister(event, handler)


def versioned(aws, name: str, region: str = "us-east-1"):
    s3 = make_bucket(aws, name, region)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def replicate(s3, source: str, destination: str, **destination_extra: str) -> None:
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": [{
        "ID": f"to-{destination}", "Status": "Enabled", "Priority": 1, "Filter": {},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{destination}", **destination_extra},
    }]})


# -- s3_bucket_cross_region_replication_enabled --------------------------------------------------------------------
def test_replication_per_bucket(audit, aws):
    s3 = versioned(aws, "plain-bucket")
    versioned(aws, "same-bucket")
    versioned(aws, "cross-bucket")
    versioned(aws, "outside-bucket")
    versioned(aws, "replica-bucket", "eu-west-1")
    replicate(s3, "same-bucket", "plain-bucket")
    replicate(s3, "cross-bucket", "replica-bucket")
    replicate(s3, "outside-bucket", "partner-bucket", Account="210987654321")
    run = audit("s3_bucket_cross_region_replication_enabled", regions=("us-east-1", "eu-west-1"))
    assert statuses(run) == {"plain-bucket": "FAIL", "same-bucket": "FAIL", "cross-bucket": "PASS",
                             "outside-bucket": "PASS", "replica-bucket": "FAIL"}
    found = by_bucket(run)
    assert found["plain-bucket"].evidence == {"replication_rules": []}
    assert found["same-bucket"].evidence["replication_rules"] == [
        {"rule": "to-plain-bucket", "bucket": "plain-bucket", "region": "us-east-1"}]
    assert "within its own Region" in found["same-bucket"].message
    assert found["cross-bucket"].evidence["replication_rules"][0]["region"] == "eu-west-1"
    assert "eu-west-1" in found["cross-bucket"].message
    assert found["outside-bucket"].evidence["replication_rules"][0]["region"] is None


def test_replication_rule_disabled_fails(audit, aws):
    s3 = versioned(aws, "idle-bucket")
    versioned(aws, "target-bucket", "eu-west-1")
    replicate(s3, "idle-bucket", "target-bucket")
    config = s3.get_bucket_replication(Bucket="idle-bucket")["ReplicationConfiguration"]
    config["Rules"][0]["Status"] = "Disabled"
    s3.put_bucket_replication(Bucket="idle-bucket", ReplicationConfiguration=config)
    [finding] = audit("s3_bucket_cross_region_replication_enabled").findings
    assert (finding.resource.id, finding.status) == ("idle-bucket", Status.FAIL)


# -- s3_bucket_access_logging_enabled -------------------------------------------------------------------------------
def test_access_logging_per_bucket(audit, aws):
    s3 = make_bucket(aws, "logs-bucket")
    make_bucket(aws, "quiet-bucket")
    make_bucket(aws, "logged-bucket")
    s3.put_bucket_policy(Bucket="logs-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::logs-bucket/*"}]}))
    s3.put_bucket_logging(Bucket="logged-bucket", BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "logs-bucket", "TargetPrefix": "logged-bucket/"}})
    run = audit("s3_bucket_access_logging_enabled")
    assert statuses(run) == {"logs-bucket": "FAIL", "quiet-bucket": "FAIL", "logged-bucket": "PASS"}
    found = by_bucket(run)
    assert found["logged-bucket"].evidence == {"target_bucket": "logs-bucket", "target_prefix": "logged-bucket/"}
    assert found["quiet-bucket"].evidence == {"target_bucket": None}
    assert "quiet-bucket" in found["quiet-bucket"].message


def test_access_logging_denied_for_one_bucket(audit, aws, deny_for_bucket):  # noqa: F811
    make_bucket(aws, "open-bucket")
    make_bucket(aws, "secret-bucket")
    deny_for_bucket("GetBucketLogging", "secret-bucket")
    run = audit("s3_bucket_access_logging_enabled")
    assert statuses(run) == {"open-bucket": "FAIL", "secret-bucket": "ERROR"}
    assert by_bucket(run)["secret-bucket"].evidence["iam_action"] == "s3:GetBucketLogging"


# -- s3_bucket_versioned_lifecycle_configured -----------------------------------------------------------------------
def test_versioned_lifecycle_per_bucket(audit, aws):
    s3 = make_bucket(aws, "unversioned-bucket")
    versioned(aws, "piling-bucket")
    versioned(aws, "tidy-bucket")
    versioned(aws, "paused-bucket")
    s3.put_bucket_versioning(Bucket="paused-bucket", VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_lifecycle_configuration(Bucket="tidy-bucket", LifecycleConfiguration={"Rules": [{
        "ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]})
    run = audit("s3_bucket_versioned_lifecycle_configured")
    # Never-versioned buckets have no noncurrent versions: not reported.
    assert statuses(run) == {"piling-bucket": "FAIL", "tidy-bucket": "PASS", "paused-bucket": "FAIL"}
    found = by_bucket(run)
    assert found["tidy-bucket"].evidence == {"versioning": "Enabled", "rules": ["noncurrent"],
                                             "enabled_rules": ["noncurrent"]}
    assert found["paused-bucket"].evidence["versioning"] == "Suspended"


# -- s3_bucket_event_notifications_enabled --------------------------------------------------------------------------
def test_event_notifications_per_bucket(audit, aws):
    s3 = make_bucket(aws, "silent-bucket")
    make_bucket(aws, "queued-bucket")
    s3.put_bucket_notification_configuration(Bucket="queued-bucket", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:uploads",
                                 "Events": ["s3:ObjectCreated:*"]}]})
    run = audit("s3_bucket_event_notifications_enabled")
    assert statuses(run) == {"silent-bucket": "FAIL", "queued-bucket": "PASS"}
    found = by_bucket(run)
    assert found["queued-bucket"].evidence == {"eventbridge": False, "destinations": {"sqs": 1}}
    assert found["silent-bucket"].evidence == {"eventbridge": False, "destinations": {}}


def test_event_notifications_to_eventbridge(audit, aws, recorded):
    """Recorded response: moto answers {} after EventBridge delivery is enabled; AWS answers
    {"EventBridgeConfiguration": {}}."""
    s3 = make_bucket(aws, "bridged-bucket")
    s3.put_bucket_notification_configuration(Bucket="bridged-bucket",
                                             NotificationConfiguration={"EventBridgeConfiguration": {}})
    recorded("GetBucketNotificationConfiguration", "bridged-bucket", {"EventBridgeConfiguration": {}})
    [finding] = audit("s3_bucket_event_notifications_enabled").findings
    assert finding.status is Status.PASS
    assert finding.evidence == {"eventbridge": True, "destinations": {}}
    assert "eventbridge" in finding.message


def test_event_notifications_denied_names_the_action(audit, aws, faults):
    make_bucket(aws, "hidden-bucket")
    faults.deny("s3", "GetBucketNotificationConfiguration")
    [finding] = audit("s3_bucket_event_notifications_enabled").findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "s3:GetBucketNotification"


# -- s3_bucket_object_lock_enabled ----------------------------------------------------------------------------------
def test_object_lock_per_bucket(audit, aws):
    s3 = make_bucket(aws, "loose-bucket")
    s3.create_bucket(Bucket="vault-bucket", ObjectLockEnabledForBucket=True)  # moto: only at creation
    s3.create_bucket(Bucket="retained-bucket", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="retained-bucket", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}})
    run = audit("s3_bucket_object_lock_enabled")
    assert statuses(run) == {"loose-bucket": "FAIL", "vault-bucket": "PASS", "retained-bucket": "PASS"}
    found = by_bucket(run)
    assert found["loose-bucket"].evidence["object_lock"] == "Disabled"
    assert found["vault-bucket"].evidence == {"object_lock": "Enabled", "default_mode": None,
                                              "default_days": None, "default_years": None}
    assert found["retained-bucket"].evidence["default_mode"] == "COMPLIANCE"
    assert found["retained-bucket"].evidence["default_days"] == 30
    assert "COMPLIANCE" in found["retained-bucket"].message


# -- s3_bucket_mfa_delete_enabled -----------------------------------------------------------------------------------
def test_mfa_delete_per_bucket(audit, aws, recorded):
    """Recorded response: moto accepts MFADelete=Enabled but never reports it, so the guarded bucket's
    GetBucketVersioning answer is the one AWS gives."""
    versioned(aws, "guarded-bucket")
    versioned(aws, "unguarded-bucket")
    make_bucket(aws, "plain-bucket")
    recorded("GetBucketVersioning", "guarded-bucket", {"Status": "Enabled", "MFADelete": "Enabled"})
    run = audit("s3_bucket_mfa_delete_enabled")
    assert statuses(run) == {"guarded-bucket": "PASS", "unguarded-bucket": "FAIL", "plain-bucket": "FAIL"}
    found = by_bucket(run)
    assert found["guarded-bucket"].evidence == {"versioning": "Enabled", "mfa_delete": "Enabled"}
    assert found["unguarded-bucket"].evidence == {"versioning": "Enabled", "mfa_delete": "Disabled"}
    assert found["plain-bucket"].evidence == {"versioning": "Disabled", "mfa_delete": "Disabled"}
