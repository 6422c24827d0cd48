"""Who can reach a bucket: public read and write, other accounts, ACL grants."""
from typing import Any

import pytest

from auditor import Status
from checks.s3.policy import grants_action, matching_grants

from ..conftest import ACCOUNT, BOTO, statuses
from .test_s3 import ALL_ON, block_account, by_bucket, deny_for_bucket, make_bucket, put_policy  # noqa: F401

OTHER_ACCOUNT = "210987654321"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def allow(bucket: str, action: Any, principal: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Sid": extra.pop("Sid", "Grant"), "Effect": "Allow", "Principal": principal, "Action": action,
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], **extra}


def grant_acl(s3, bucket: str, grantee: dict[str, str], permission: str) -> None:
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": {"ID": owner["ID"]}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": grantee, "Permission": permission}]})


# -- s3_bucket_public_read_prohibited -------------------------------------------------------------------------------
def test_public_read_per_bucket(audit, aws):
    s3 = make_bucket(aws, "private-bucket")
    for name in ("acl-bucket", "policy-bucket", "vpce-bucket", "tls-bucket", "upload-bucket", "shielded-bucket"):
        make_bucket(aws, name)
    s3.put_bucket_acl(Bucket="acl-bucket", ACL="public-read")
    put_policy(s3, "policy-bucket", [allow("policy-bucket", ["s3:Get*", "s3:PutObject"], {"AWS": "*"})])
    put_policy(s3, "vpce-bucket", [allow("vpce-bucket", "s3:GetObject", Condition={
        "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})])
    put_policy(s3, "tls-bucket", [allow("tls-bucket", "s3:GetObject", Condition={
        "Bool": {"aws:SecureTransport": "true"}})])
    put_policy(s3, "upload-bucket", [allow("upload-bucket", "s3:PutObject")])
    s3.put_bucket_acl(Bucket="shielded-bucket", ACL="public-read")
    put_policy(s3, "shielded-bucket", [allow("shielded-bucket", "s3:*")])
    s3.put_public_access_block(Bucket="shielded-bucket", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})

    run = audit("s3_bucket_public_read_prohibited")
    assert statuses(run) == {"private-bucket": "PASS", "acl-bucket": "FAIL", "policy-bucket": "FAIL",
                             "vpce-bucket": "PASS", "tls-bucket": "FAIL", "upload-bucket": "PASS",
                             "shielded-bucket": "PASS"}
    found = by_bucket(run)
    assert found["acl-bucket"].evidence["public_acl_grants"] == [
        {"grantee": "AllUsers", "type": "Group", "permission": "READ"}]
    assert found["acl-bucket"].evidence["public_policy_actions"] == []
    assert "AllUsers READ" in found["acl-bucket"].message
    assert found["policy-bucket"].evidence["public_policy_actions"] == ["s3:Get*"]
    assert found["tls-bucket"].evidence["public_policy_actions"] == ["s3:GetObject"]
    assert found["private-bucket"].evidence == {"public_acl_grants": [], "public_policy_actions": [],
                                                "ignore_public_acls": False, "restrict_public_buckets": False}
    assert found["shielded-bucket"].evidence["public_acl_grants"] == []
    assert "Block Public Access" in found["shielded-bucket"].message


def test_public_read_account_block_voids_policy_but_not_acl(audit, aws):
    s3 = make_bucket(aws, "mixed-bucket")
    s3.put_bucket_acl(Bucket="mixed-bucket", ACL="authenticated-read")
    put_policy(s3, "mixed-bucket", [allow("mixed-bucket", "s3:GetObject")])
    block_account(aws, RestrictPublicBuckets=True)
    [finding] = audit("s3_bucket_public_read_prohibited").findings
    assert finding.status is Status.FAIL
    assert finding.evidence["public_acl_grants"] == [
        {"grantee": "AuthenticatedUsers", "type": "Group", "permission": "READ"}]
    assert finding.evidence["public_policy_actions"] == []
    assert finding.evidence["restrict_public_buckets"] is True


def test_public_read_denied_acl_read_is_error_for_that_bucket(audit, aws, deny_for_bucket):  # noqa: F811
    make_bucket(aws, "open-bucket")
    make_bucket(aws, "secret-bucket")
    deny_for_bucket("GetBucketAcl", "secret-bucket")
    run = audit("s3_bucket_public_read_prohibited")
    assert statuses(run) == {"open-bucket": "PASS", "secret-bucket": "ERROR"}
    assert by_bucket(run)["secret-bucket"].evidence["iam_action"] == "s3:GetBucketAcl"


# -- s3_bucket_public_write_prohibited ------------------------------------------------------------------------------
def test_public_write_per_bucket(audit, aws):
    s3 = make_bucket(aws, "private-bucket")
    for name in ("rw-bucket", "reader-bucket", "star-bucket", "org-bucket", "blocked-bucket"):
        make_bucket(aws, name)
    grant_acl(s3, "rw-bucket", {"Type": "Group", "URI": ALL_USERS}, "WRITE")
    s3.put_bucket_acl(Bucket="reader-bucket", ACL="public-read")
    put_policy(s3, "star-bucket", [allow("star-bucket", "*")])
    put_policy(s3, "org-bucket", [allow("org-bucket", "s3:PutObject", Condition={
        "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})])
    put_policy(s3, "blocked-bucket", [allow("blocked-bucket", "s3:PutObject")])
    s3.put_public_access_block(Bucket="blocked-bucket", PublicAccessBlockConfiguration=ALL_ON)

    run = audit("s3_bucket_public_write_prohibited")
    assert statuses(run) == {"private-bucket": "PASS", "rw-bucket": "FAIL", "reader-bucket": "PASS",
                             "star-bucket": "FAIL", "org-bucket": "PASS", "blocked-bucket": "PASS"}
    found = by_bucket(run)
    assert found["rw-bucket"].evidence["public_acl_grants"] == [
        {"grantee": "AllUsers", "type": "Group", "permission": "WRITE"}]
    assert found["star-bucket"].evidence["public_policy_actions"] == ["*"]
    assert "public write access" in found["star-bucket"].message


def test_public_write_from_canned_acl_real_shape(audit, aws):
    """Recorded response: for the canned ACL public-read-write AWS lists AllUsers twice (READ and WRITE); moto
    keeps only the first grant per grantee, so the real GetBucketAcl answer is replayed."""
    s3 = make_bucket(aws, "rw-bucket")
    owner = s3.get_bucket_acl(Bucket="rw-bucket")["Owner"]

    def real_acl(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Grants"] = [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "WRITE"},
        ]

    BOTO.events.register("after-call.s3.GetBucketAcl", real_acl)
    try:
        run = audit("s3_bucket_public_read_prohibited", "s3_bucket_public_write_prohibited")
    finally:
        BOTO.events.unregister("after-call.s3.GetBucketAcl", real_acl)
    found = {f.check_id: f for f in run.findings}
    assert found["s3_bucket_public_write_prohibited"].status is Status.FAIL
    assert found["s3_bucket_public_write_prohibited"].evidence["public_acl_grants"] == [
        {"grantee": "AllUsers", "type": "Group", "permission": "WRITE"}]
    assert found["s3_bucket_public_read_prohibited"].evidence["public_acl_grants"] == [
        {"grantee": "AllUsers", "type": "Group", "permission": "READ"}]


# -- s3_bucket_cross_account_access_restricted ----------------------------------------------------------------------
def test_cross_account_per_bucket(audit, aws):
    s3 = make_bucket(aws, "nopolicy-bucket")
    for name in ("shared-bucket", "handed-bucket", "open-bucket", "own-bucket"):
        make_bucket(aws, name)
    put_policy(s3, "shared-bucket", [allow("shared-bucket", ["s3:GetObject", "s3:ListBucket"],
                                           {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})])
    put_policy(s3, "handed-bucket", [allow("handed-bucket", "s3:Put*",
                                           {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/admin"})])
    put_policy(s3, "open-bucket", [allow("open-bucket", "s3:PutBucketPolicy")])
    put_policy(s3, "own-bucket", [allow("own-bucket", "s3:*", {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"})])

    run = audit("s3_bucket_cross_account_access_restricted")
    assert statuses(run) == {"nopolicy-bucket": "PASS", "shared-bucket": "PASS", "handed-bucket": "FAIL",
                             "open-bucket": "FAIL", "own-bucket": "PASS"}
    found = by_bucket(run)
    assert found["nopolicy-bucket"].evidence == {"policy": None}
    assert found["shared-bucket"].evidence == {"other_accounts": [OTHER_ACCOUNT], "denied_actions_granted": {}}
    assert found["handed-bucket"].evidence["denied_actions_granted"] == {OTHER_ACCOUNT: ["s3:Put*"]}
    assert f"account {OTHER_ACCOUNT}" in found["handed-bucket"].message
    assert found["open-bucket"].evidence["denied_actions_granted"] == {"*": ["s3:PutBucketPolicy"]}
    assert found["own-bucket"].evidence == {"other_accounts": [], "denied_actions_granted": {}}


def test_cross_account_denied_actions_are_a_parameter(audit, aws):
    s3 = make_bucket(aws, "shared-bucket")
    put_policy(s3, "shared-bucket", [allow("shared-bucket", "s3:GetObject", {"AWS": OTHER_ACCOUNT})])
    [finding] = audit("s3_bucket_cross_account_access_restricted",
                      params={"s3.cross_account_denied_actions": ["s3:GetObject"]}).findings
    assert finding.status is Status.FAIL
    assert finding.evidence["denied_actions_granted"] == {OTHER_ACCOUNT: ["s3:GetObject"]}


# -- s3_bucket_acl_grants_owner_only --------------------------------------------------------------------------------
def test_acl_grants_per_bucket(audit, aws):
    s3 = make_bucket(aws, "legacy-bucket")  # moto: no ownership controls, as a bucket from before 2023 on AWS
    s3.create_bucket(Bucket="enforced-bucket", ObjectOwnership="BucketOwnerEnforced")
    s3.create_bucket(Bucket="granting-bucket", ObjectOwnership="ObjectWriter")
    grant_acl(s3, "granting-bucket", {"Type": "CanonicalUser", "ID": "abcdef0123456789"}, "READ")
    s3.create_bucket(Bucket="logging-bucket", ObjectOwnership="BucketOwnerPreferred")
    s3.put_bucket_acl(Bucket="logging-bucket", ACL="log-delivery-write")

    run = audit("s3_bucket_acl_grants_owner_only")
    assert statuses(run) == {"legacy-bucket": "PASS", "enforced-bucket": "PASS", "granting-bucket": "FAIL",
                             "logging-bucket": "FAIL"}
    found = by_bucket(run)
    assert found["enforced-bucket"].evidence == {"object_ownership": "BucketOwnerEnforced", "acl_grants": []}
    assert found["legacy-bucket"].evidence == {"object_ownership": "ObjectWriter", "acl_grants": []}
    assert "ACLs enabled" in found["legacy-bucket"].message
    assert found["granting-bucket"].evidence["acl_grants"] == [
        {"grantee": "abcdef0123456789", "type": "CanonicalUser", "permission": "READ"}]
    assert {g["grantee"] for g in found["logging-bucket"].evidence["acl_grants"]} == {"LogDelivery"}


def test_acl_ownership_denied_names_the_action(audit, aws, faults):
    make_bucket(aws, "hidden-bucket")
    faults.deny("s3", "GetBucketOwnershipControls")
    [finding] = audit("s3_bucket_acl_grants_owner_only").findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "s3:GetBucketOwnershipControls"


# -- matching granted actions ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("granted", "action", "matches"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("S3:getobject", "s3:GetObject", True),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:*", "s3:PutBucketPolicy", True),
        ("*", "s3:DeleteObject", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:GetObjectAcl", "s3:GetObject", False),
        ("s3:Put*", "s3:GetObject", False),
        ("* except s3:Get*", "s3:GetObject", False),
        ("* except s3:GetObject, s3:ListBucket", "s3:PutObject", True),
    ],
)
def test_grants_action(granted, action, matches):
    assert grants_action(granted, action) is matches


def test_matching_grants_keeps_only_those_that_matter():
    assert matching_grants({"s3:GetBucketAcl", "s3:Get*", "s3:PutObject"}, ["s3:GetObject"]) == ["s3:Get*"]
