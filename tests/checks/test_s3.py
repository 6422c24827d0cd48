import json
from typing import Any, Iterator

import pytest

from auditor import Status
from auditor.policy import parse_policy
from checks.s3.policy import evaluate_transport
from checks.s3.resources import Encryption, PublicAccessBlock, bucket_region

from ..conftest import ACCOUNT, ALL_CHECKS, BOTO, statuses

S3_CHECKS = sorted(c for c in ALL_CHECKS if c.startswith("s3_"))
BUCKET_CHECKS = [c for c in S3_CHECKS if c.startswith("s3_bucket_")]
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# -- helpers ----------------------------------------------------------------------------------------------------
def make_bucket(aws, name: str, region: str = "us-east-1"):
    s3 = aws.client("s3", region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return s3


def block_account(aws, **settings: bool) -> None:
    aws.client("s3control").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={**dict.fromkeys(ALL_ON, False), **settings}
    )


def encrypt(s3, bucket: str, algorithm: str, key: str | None = None) -> None:
    default: dict[str, Any] = {"SSEAlgorithm": algorithm}
    if key:
        default["KMSMasterKeyID"] = key
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default,
                                                      "BucketKeyEnabled": bool(key)}]},
    )


def put_policy(s3, bucket: str, statements: Any) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def deny_https(bucket: str, **overrides: Any) -> dict[str, Any]:
    statement = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    statement.update(overrides)
    return statement


def by_bucket(run) -> dict[str, Any]:
    return {f.resource.id: f for f in run.findings}


@pytest.fixture
def deny_for_bucket(aws) -> Iterator[Any]:
    """Answer AccessDenied to one S3 operation for one bucket only (moto has no fault injection)."""
    from botocore.awsrequest import AWSResponse

    registered = []

    def deny(operation: str, bucket: str) -> None:
        def handler(context: dict[str, Any], **_: Any) -> Any:
            if (context.get("s3_redirect") or {}).get("bucket") != bucket:
                return None
            body = {"Error": {"Code": "AccessDenied", "Message": "simulated AccessDenied"}, "ResponseMetadata": {}}
            return AWSResponse("https://simulated", 403, {}, None), body

        event = f"before-call.s3.{operation}"
        BOTO.events.register_first(event, handler)
        registered.append((event, handler))

    yield deny
    for event, handler in registered:
        BOTO.events.unregister(event, handler)


# -- every check: no buckets, listing, regions --------------------------------------------------------------------
@pytest.mark.parametrize("check_id", BUCKET_CHECKS)
def test_no_buckets_no_findings(audit, check_id):
    run = audit(check_id)
    assert run.findings == ()


def test_account_check_reports_once_without_buckets(audit):
    run = audit("s3_account_public_access_blocked")
    assert [(f.resource.id, f.resource.type, f.region) for f in run.findings] == [
        (ACCOUNT, "AWS::::Account", "global")
    ]


@pytest.mark.parametrize("check_id", BUCKET_CHECKS)
def test_bucket_outside_audited_regions_is_not_reported(audit, aws, check_id):
    s3 = make_bucket(aws, "home-bucket")
    far = make_bucket(aws, "far-bucket", "eu-west-1")
    for client, name in ((s3, "home-bucket"), (far, "far-bucket")):  # versioned: in scope of every bucket check
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    run = audit(check_id)
    assert set(statuses(run)) == {"home-bucket"}


def test_bucket_in_audited_region_is_reported_with_its_region_and_read_there(audit, aws):
    make_bucket(aws, "home-bucket")
    eu = make_bucket(aws, "eu-bucket", "eu-west-1")
    eu.put_bucket_versioning(Bucket="eu-bucket", VersioningConfiguration={"Status": "Enabled"})
    asked_from: dict[str, str] = {}

    def record(context: dict[str, Any], **_: Any) -> None:
        asked_from[context["s3_redirect"]["bucket"]] = context["client_region"]

    BOTO.events.register("before-call.s3.GetBucketVersioning", record)
    try:
        run = audit("s3_bucket_versioning_enabled", regions=("us-east-1", "eu-west-1"))
    finally:
        BOTO.events.unregister("before-call.s3.GetBucketVersioning", record)
    found = by_bucket(run)
    assert {name: (f.status.value, f.region, f.resource.region) for name, f in found.items()} == {
        "home-bucket": ("FAIL", "us-east-1", "us-east-1"),
        "eu-bucket": ("PASS", "eu-west-1", "eu-west-1"),
    }
    assert found["eu-bucket"].resource.arn == "arn:aws:s3:::eu-bucket"
    assert found["eu-bucket"].resource.type == "AWS::S3::Bucket"
    assert asked_from == {"home-bucket": "us-east-1", "eu-bucket": "eu-west-1"}


def test_bucket_region_from_list_buckets_skips_get_bucket_location(audit, aws):
    make_bucket(aws, "listed-bucket", "eu-west-1")

    def add_bucket_region(parsed: dict[str, Any], **_: Any) -> None:  # the shape real AWS answers with
        for bucket in parsed.get("Buckets", []):
            bucket["BucketRegion"] = "eu-west-1"

    BOTO.events.register("after-call.s3.ListBuckets", add_bucket_region)
    try:
        run = audit("s3_bucket_versioning_enabled", regions=("us-east-1", "eu-west-1"))
    finally:
        BOTO.events.unregister("after-call.s3.ListBuckets", add_bucket_region)
    assert [(f.resource.id, f.region) for f in run.findings] == [("listed-bucket", "eu-west-1")]
    assert not any(call.endswith("GetBucketLocation") for call in run.api_calls)


@pytest.mark.parametrize(
    ("location", "region"), [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("ap-south-2", "ap-south-2")]
)
def test_bucket_region_from_location_constraint(location, region):
    assert bucket_region(location) == region


def test_denied_bucket_listing_is_one_error(audit, aws, faults):
    make_bucket(aws, "some-bucket")
    faults.deny("s3", "ListBuckets")
    run = audit("s3_bucket_versioning_enabled")
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "s3:ListAllMyBuckets"


def test_unreadable_bucket_location_is_error_for_that_bucket(audit, aws, faults):
    make_bucket(aws, "where-bucket")
    faults.deny("s3", "GetBucketLocation")
    run = audit("s3_bucket_versioning_enabled")
    [finding] = run.findings
    assert (finding.resource.id, finding.status) == ("where-bucket", Status.ERROR)
    assert finding.evidence["iam_action"] == "s3:GetBucketLocation"


def test_calls_made_are_declared(audit, aws):
    s3 = make_bucket(aws, "busy-bucket")
    put_policy(s3, "busy-bucket", [deny_https("busy-bucket")])
    for check_id in S3_CHECKS:  # one run each: collectors are shared, so the first check to read records it
        run = audit(check_id)
        used = run.actions_used[check_id]
        assert used and used <= set(ALL_CHECKS[check_id].api_calls), check_id
        assert not [f for f in run.findings if f.status is Status.ERROR], check_id


# -- s3_account_public_access_blocked -----------------------------------------------------------------------------
def test_account_block_fails_when_absent(audit):
    [finding] = audit("s3_account_public_access_blocked").findings
    assert finding.status is Status.FAIL
    assert finding.evidence["settings"] is None
    assert ACCOUNT in finding.message


def test_account_block_fails_when_partial(audit, aws):
    block_account(aws, BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=True)
    [finding] = audit("s3_account_public_access_blocked").findings
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == ["RestrictPublicBuckets"]


def test_account_block_passes_when_all_on(audit, aws):
    block_account(aws, **ALL_ON)
    [finding] = audit("s3_account_public_access_blocked").findings
    assert finding.status is Status.PASS
    assert finding.evidence["settings"] == ALL_ON


def test_account_block_denied_is_error(audit, faults):
    faults.deny("s3control", "GetPublicAccessBlock")
    [finding] = audit("s3_account_public_access_blocked").findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "s3:GetAccountPublicAccessBlock"
    assert finding.evidence["error_code"] == "AccessDenied"


# -- s3_bucket_public_access_blocked ------------------------------------------------------------------------------
def test_bucket_block_per_bucket(audit, aws):
    s3 = make_bucket(aws, "open-bucket")
    make_bucket(aws, "half-bucket")
    make_bucket(aws, "closed-bucket")
    s3.put_public_access_block(Bucket="closed-bucket", PublicAccessBlockConfiguration=ALL_ON)
    s3.put_public_access_block(Bucket="half-bucket",
                               PublicAccessBlockConfiguration={**ALL_ON, "RestrictPublicBuckets": False})
    run = audit("s3_bucket_public_access_blocked")
    assert statuses(run) == {"open-bucket": "FAIL", "half-bucket": "FAIL", "closed-bucket": "PASS"}
    found = by_bucket(run)
    assert found["open-bucket"].evidence["bucket"] is None
    assert found["open-bucket"].evidence["missing"] == list(ALL_ON)
    assert found["half-bucket"].evidence["missing"] == ["RestrictPublicBuckets"]
    assert found["closed-bucket"].evidence["covered_by"] == "bucket"


def test_bucket_covered_by_account_block(audit, aws):
    make_bucket(aws, "plain-bucket")
    block_account(aws, **ALL_ON)
    [finding] = audit("s3_bucket_public_access_blocked").findings
    assert finding.status is Status.PASS
    assert finding.evidence["covered_by"] == "account"
    assert finding.evidence["account"] == ALL_ON
    assert "account" in finding.message


def test_bucket_and_account_settings_combine(audit, aws):
    s3 = make_bucket(aws, "split-bucket")
    s3.put_public_access_block(Bucket="split-bucket", PublicAccessBlockConfiguration={
        **dict.fromkeys(ALL_ON, False), "BlockPublicAcls": True, "IgnorePublicAcls": True})
    block_account(aws, BlockPublicPolicy=True)
    [finding] = audit("s3_bucket_public_access_blocked").findings
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == ["RestrictPublicBuckets"]
    block_account(aws, BlockPublicPolicy=True, RestrictPublicBuckets=True)
    [finding] = audit("s3_bucket_public_access_blocked").findings
    assert finding.status is Status.PASS
    assert finding.evidence["covered_by"] == "bucket and account"


def test_bucket_block_denied_is_error_for_that_bucket_only(audit, aws, deny_for_bucket):
    s3 = make_bucket(aws, "secret-bucket")
    make_bucket(aws, "closed-bucket")
    s3.put_public_access_block(Bucket="closed-bucket", PublicAccessBlockConfiguration=ALL_ON)
    deny_for_bucket("GetPublicAccessBlock", "secret-bucket")
    run = audit("s3_bucket_public_access_blocked")
    assert statuses(run) == {"secret-bucket": "ERROR", "closed-bucket": "PASS"}
    assert by_bucket(run)["secret-bucket"].evidence["iam_action"] == "s3:GetBucketPublicAccessBlock"


def test_bucket_block_unreadable_but_account_covers(audit, aws, deny_for_bucket):
    make_bucket(aws, "secret-bucket")
    block_account(aws, **ALL_ON)
    deny_for_bucket("GetPublicAccessBlock", "secret-bucket")
    [finding] = audit("s3_bucket_public_access_blocked").findings
    assert finding.status is Status.PASS
    assert finding.evidence["bucket"] == "unreadable"
    assert finding.evidence["covered_by"] == "account"


# -- s3_bucket_default_encryption_enabled / s3_bucket_kms_encrypted ---------------------------------------------
def test_default_encryption_per_bucket(audit, aws):
    s3 = make_bucket(aws, "bare-bucket")  # moto answers "not found"; AWS would answer SSE-S3
    make_bucket(aws, "sse-s3-bucket")
    make_bucket(aws, "kms-bucket")
    encrypt(s3, "sse-s3-bucket", "AES256")
    encrypt(s3, "kms-bucket", "aws:kms", KMS_KEY)
    run = audit("s3_bucket_default_encryption_enabled")
    assert statuses(run) == {"bare-bucket": "FAIL", "sse-s3-bucket": "PASS", "kms-bucket": "PASS"}
    found = by_bucket(run)
    assert found["bare-bucket"].evidence["algorithm"] is None
    assert found["sse-s3-bucket"].evidence["algorithm"] == "AES256"
    assert found["kms-bucket"].evidence == {"algorithm": "aws:kms", "kms_key": KMS_KEY, "bucket_key_enabled": True}


def test_kms_encryption_per_bucket(audit, aws):
    s3 = make_bucket(aws, "bare-bucket")
    make_bucket(aws, "sse-s3-bucket")
    make_bucket(aws, "kms-bucket")
    make_bucket(aws, "aws-managed-bucket")
    encrypt(s3, "sse-s3-bucket", "AES256")
    encrypt(s3, "kms-bucket", "aws:kms", KMS_KEY)
    encrypt(s3, "aws-managed-bucket", "aws:kms")
    run = audit("s3_bucket_kms_encrypted")
    assert statuses(run) == {"bare-bucket": "FAIL", "sse-s3-bucket": "FAIL", "kms-bucket": "PASS",
                             "aws-managed-bucket": "PASS"}
    found = by_bucket(run)
    assert "AES256" in found["sse-s3-bucket"].message
    assert found["kms-bucket"].evidence["kms_key"] == KMS_KEY
    assert "aws/s3" in found["aws-managed-bucket"].message


@pytest.mark.parametrize("check_id", ["s3_bucket_default_encryption_enabled", "s3_bucket_kms_encrypted"])
def test_denied_encryption_read_is_error_for_that_bucket_only(audit, aws, deny_for_bucket, check_id):
    s3 = make_bucket(aws, "secret-bucket")
    make_bucket(aws, "kms-bucket")
    make_bucket(aws, "bare-bucket")
    encrypt(s3, "secret-bucket", "aws:kms", KMS_KEY)
    encrypt(s3, "kms-bucket", "aws:kms", KMS_KEY)
    deny_for_bucket("GetBucketEncryption", "secret-bucket")
    run = audit(check_id)
    assert statuses(run) == {"secret-bucket": "ERROR", "kms-bucket": "PASS", "bare-bucket": "FAIL"}
    error = by_bucket(run)["secret-bucket"]
    assert error.evidence["iam_action"] == "s3:GetEncryptionConfiguration"
    assert error.evidence["error_code"] == "AccessDenied"
    assert "secret-bucket" in error.message and "AccessDenied" in error.message


def test_encryption_from_recorded_aws_responses():
    # GetBucketEncryption on a bucket with no explicit setting, as AWS answers since January 2023.
    sse_s3 = {
        "ResponseMetadata": {"HTTPStatusCode": 200},
        "ServerSideEncryptionConfiguration": {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": False,
                    "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]},
                }
            ]
        },
    }
    parsed = Encryption.from_response(sse_s3)
    assert (parsed.enabled, parsed.uses_kms, parsed.algorithm, parsed.kms_key) == (True, False, "AES256", None)
    dsse = {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms:dsse", "KMSMasterKeyID": KMS_KEY}, "BucketKeyEnabled": True}]}}
    parsed = Encryption.from_response(dsse)
    assert (parsed.uses_kms, parsed.kms_key, parsed.bucket_key_enabled) == (True, KMS_KEY, True)
    assert not Encryption.from_response(None).enabled
    assert not Encryption.from_response({"ServerSideEncryptionConfiguration": {"Rules": []}}).enabled


def test_public_access_block_from_recorded_response():
    parsed = PublicAccessBlock.from_response({"PublicAccessBlockConfiguration": {**ALL_ON, "IgnorePublicAcls": False}})
    assert (parsed.configured, parsed.all_on, parsed.missing) == (True, False, ["IgnorePublicAcls"])
    assert not PublicAccessBlock.from_response(None).configured


# -- s3_bucket_tls_required ---------------------------------------------------------------------------------------
def test_tls_fails_without_policy(audit, aws):
    make_bucket(aws, "open-bucket")
    [finding] = audit("s3_bucket_tls_required").findings
    assert finding.status is Status.FAIL
    assert finding.evidence == {"policy": None}


def test_tls_passes_with_single_statement(audit, aws):
    s3 = make_bucket(aws, "tls-bucket")
    s3.put_bucket_policy(Bucket="tls-bucket", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": deny_https("tls-bucket")}))
    [finding] = audit("s3_bucket_tls_required").findings
    assert finding.status is Status.PASS
    assert finding.evidence == {"statement": "DenyInsecureTransport"}


def test_tls_passes_with_statement_list_and_bool_if_exists(audit, aws):
    s3 = make_bucket(aws, "tls-bucket")
    put_policy(s3, "tls-bucket", [
        {"Sid": "ReadForRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::tls-bucket/*"},
        deny_https("tls-bucket", Sid="HttpsOnly", Principal={"AWS": "*"}, Action=["s3:*"],
                   Resource="arn:aws:s3:::tls-bucket/*",
                   Condition={"BoolIfExists": {"aws:SecureTransport": ["false"]}}),
    ])
    [finding] = audit("s3_bucket_tls_required").findings
    assert finding.status is Status.PASS
    assert finding.evidence == {"statement": "HttpsOnly"}


def test_tls_fails_when_policy_denies_something_else(audit, aws):
    s3 = make_bucket(aws, "other-bucket")
    put_policy(s3, "other-bucket", [
        {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
         "Resource": "arn:aws:s3:::other-bucket"},
        deny_https("other-bucket", Sid="AllowHttpsOnly", Effect="Allow",
                   Condition={"Bool": {"aws:SecureTransport": "true"}}),
    ])
    [finding] = audit("s3_bucket_tls_required").findings
    assert finding.status is Status.FAIL
    assert finding.evidence == {"statements": 2}
    assert "other-bucket" in finding.message


def test_tls_fails_when_only_some_actions_are_denied(audit, aws):
    s3 = make_bucket(aws, "part-bucket")
    put_policy(s3, "part-bucket", [deny_https("part-bucket", Sid="GetsOnly", Action=["s3:Get*", "s3:Put*"])])
    [finding] = audit("s3_bucket_tls_required").findings
    assert finding.status is Status.FAIL
    assert finding.evidence["partial_denials"][0]["statement"] == "GetsOnly"
    assert finding.evidence["partial_denials"][0]["actions"] == ["s3:get*", "s3:put*"]


def test_tls_per_bucket_with_a_denied_read(audit, aws, deny_for_bucket):
    s3 = make_bucket(aws, "tls-bucket")
    make_bucket(aws, "open-bucket")
    make_bucket(aws, "secret-bucket")
    put_policy(s3, "tls-bucket", [deny_https("tls-bucket")])
    deny_for_bucket("GetBucketPolicy", "secret-bucket")
    run = audit("s3_bucket_tls_required")
    assert statuses(run) == {"tls-bucket": "PASS", "open-bucket": "FAIL", "secret-bucket": "ERROR"}
    assert by_bucket(run)["secret-bucket"].evidence["iam_action"] == "s3:GetBucketPolicy"


@pytest.mark.parametrize(
    ("overrides", "enforced"),
    [
        ({}, True),
        ({"Action": "*"}, True),
        ({"Action": "S3:*"}, True),
        ({"Action": ["s3:Get*", "s3:*"]}, True),
        ({"Sid": None}, True),
        ({"Resource": "*"}, True),
        ({"Condition": {"Bool": {"aws:SecureTransport": False}}}, True),
        ({"Principal": {"AWS": ["*"]}}, True),
        ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, False),
        ({"Effect": "Allow"}, False),
        ({"Action": "s3:GetObject"}, False),
        ({"Resource": "arn:aws:s3:::b-bucket"}, False),  # the bucket, but none of its objects
        ({"Resource": "arn:aws:s3:::b-bucket/public/*"}, False),
        ({"Condition": {"Bool": {"aws:SecureTransport": "true"}}}, False),
        ({"Condition": {"Bool": {"aws:SecureTransport": "false"},
                        "StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}, False),
        ({"Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}, False),
        ({"Condition": None}, False),
    ],
)
def test_transport_statement_rules(overrides, enforced):
    policy = parse_policy({"Version": "2012-10-17", "Statement": [deny_https("b-bucket", **overrides)]})
    verdict = evaluate_transport(policy, "arn:aws:s3:::b-bucket")
    assert verdict.enforced is enforced


# -- s3_bucket_versioning_enabled ---------------------------------------------------------------------------------
def test_versioning_per_bucket(audit, aws):
    s3 = make_bucket(aws, "new-bucket")
    make_bucket(aws, "paused-bucket")
    make_bucket(aws, "kept-bucket")
    s3.put_bucket_versioning(Bucket="paused-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket="paused-bucket", VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_versioning(Bucket="kept-bucket", VersioningConfiguration={"Status": "Enabled"})
    run = audit("s3_bucket_versioning_enabled")
    assert statuses(run) == {"new-bucket": "FAIL", "paused-bucket": "FAIL", "kept-bucket": "PASS"}
    found = by_bucket(run)
    assert found["new-bucket"].evidence["status"] == "Disabled"
    assert found["paused-bucket"].evidence["status"] == "Suspended"
    assert found["kept-bucket"].evidence["status"] == "Enabled"


# -- s3_bucket_lifecycle_configured -------------------------------------------------------------------------------
def test_lifecycle_per_bucket(audit, aws):
    s3 = make_bucket(aws, "bare-bucket")
    make_bucket(aws, "idle-bucket")
    make_bucket(aws, "tidy-bucket")
    rule = {"ID": "archive", "Filter": {"Prefix": ""}, "Expiration": {"Days": 365},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket="idle-bucket", LifecycleConfiguration={
        "Rules": [{**rule, "Status": "Disabled"}]})
    s3.put_bucket_lifecycle_configuration(Bucket="tidy-bucket", LifecycleConfiguration={
        "Rules": [{**rule, "Status": "Enabled"}]})
    run = audit("s3_bucket_lifecycle_configured")
    assert statuses(run) == {"bare-bucket": "FAIL", "idle-bucket": "FAIL", "tidy-bucket": "PASS"}
    found = by_bucket(run)
    assert found["bare-bucket"].evidence == {"rules": [], "enabled_rules": []}
    assert found["idle-bucket"].evidence == {"rules": ["archive"], "enabled_rules": []}
    assert found["tidy-bucket"].evidence == {"rules": ["archive"], "enabled_rules": ["archive"]}
