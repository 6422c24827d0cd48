from auditor import Status

from ..conftest import statuses

CHECK = "s3_bucket_lifecycle_archives_objects"
GUIDE_RULE = {
    "ID": "archive", "Status": "Enabled", "Filter": {},
    "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}, {"Days": 180, "StorageClass": "GLACIER"}],
    "Expiration": {"Days": 365}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
}


def bucket(aws, name: str, *rules: dict) -> str:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name)
    if rules:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": list(rules)})
    return name


def test_fails_without_rules_or_with_part_of_the_pattern(audit, aws):
    bare = bucket(aws, "acme-bare")
    partial = bucket(aws, "acme-partial", {"ID": "ia", "Status": "Enabled", "Filter": {},
                                           "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]})
    disabled = bucket(aws, "acme-disabled", {**GUIDE_RULE, "Status": "Disabled"})
    run = audit(CHECK)
    assert statuses(run) == {bare: "FAIL", partial: "FAIL", disabled: "FAIL"}
    [p] = [f for f in run.findings if f.resource.id == partial]
    assert p.evidence["missing_steps"] == ["archive_transition", "expiration", "noncurrent_version_expiration"]
    assert "archive transition, expiration, noncurrent version expiration" in p.message
    [d] = [f for f in run.findings if f.resource.id == disabled]
    assert "no enabled lifecycle rule" in d.message


def test_passes_with_the_guides_rule_or_the_steps_spread_over_rules(audit, aws):
    guide = bucket(aws, "acme-guide", GUIDE_RULE)
    split = bucket(
        aws, "acme-split",
        {"ID": "tiers", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "DEEP_ARCHIVE"}],
         "Expiration": {"Days": 730}},
        {"ID": "versions", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 7}},
    )
    run = audit(CHECK)
    assert statuses(run) == {guide: "PASS", split: "PASS"}
    [g] = [f for f in run.findings if f.resource.id == guide]
    assert g.evidence["steps"]["archive_transition"] == ["archive: GLACIER after 180 days"]


def test_archive_classes_are_a_parameter(audit, aws):
    guide = bucket(aws, "acme-guide", GUIDE_RULE)
    run = audit(CHECK, params={"cost.s3_archive_classes": ["DEEP_ARCHIVE"]})
    assert statuses(run) == {guide: "FAIL"}


def test_no_buckets_no_findings(audit):
    assert audit(CHECK).findings == ()


def test_denied_lifecycle_read_is_error(audit, aws, faults):
    bucket(aws, "acme-any")
    faults.deny("s3", "GetBucketLifecycleConfiguration")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "s3:GetLifecycleConfiguration"
