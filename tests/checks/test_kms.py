"""KMS checks, under moto through the real engine.

Moto cannot create AWS managed keys (describing alias/aws/s3 makes a customer managed key) and answers
GetKeyRotationStatus for asymmetric keys where AWS refuses it: the AWS managed shape is covered with a recorded
DescribeKey response served by a botocore `before-call` hook.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Iterator

import pytest
from botocore.awsrequest import AWSResponse

from auditor import Status

from ..conftest import ACCOUNT, BOTO, REGION, statuses

OTHER = "111122223333"


@pytest.fixture
def kms(aws: Any) -> Any:
    return aws.client("kms", region_name=REGION)


@pytest.fixture
def iam(aws: Any) -> Any:
    return aws.client("iam")


def new_key(kms: Any, **options: Any) -> str:
    return kms.create_key(Description="test key", **options)["KeyMetadata"]["KeyId"]


def key_policy(*statements: dict[str, Any]) -> str:
    owner = {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [owner, *statements]})


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# -- kms_key_not_pending_deletion ----------------------------------------------------------------------------------
def test_key_pending_deletion_fails(audit, kms):
    doomed, kept = new_key(kms), new_key(kms)
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    run = audit("kms_key_not_pending_deletion")
    assert statuses(run) == {doomed: "FAIL", kept: "PASS"}
    failed = next(f for f in run.findings if f.status is Status.FAIL)
    assert failed.evidence["key_state"] == "PendingDeletion" and failed.evidence["deletion_date"]
    assert failed.resource.arn == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{doomed}"
    assert failed.message.startswith(f"KMS key {doomed} is scheduled for deletion (")


def test_key_not_pending_deletion_passes(audit, kms):
    key_id = new_key(kms)
    kms.disable_key(KeyId=key_id)
    assert statuses(audit("kms_key_not_pending_deletion")) == {key_id: "PASS"}


def test_no_keys_no_findings(audit):
    assert audit("kms_key_not_pending_deletion", "kms_key_rotation_enabled", "kms_key_policy_not_public",
                 "kms_customer_policy_decrypt_not_on_all_keys", "kms_inline_policy_decrypt_not_on_all_keys"
                 ).findings == ()


def test_denied_describe_key_is_error_for_the_key(audit, kms, faults):
    key_id = new_key(kms)
    faults.deny("kms", "DescribeKey")
    [finding] = audit("kms_key_not_pending_deletion").findings
    assert (finding.status, finding.resource.id) == (Status.ERROR, key_id)
    assert (finding.evidence["iam_action"], finding.evidence["error_code"]) == ("kms:DescribeKey", "AccessDenied")


def test_denied_list_keys_is_error(audit, faults):
    faults.deny("kms", "ListKeys")
    [finding] = audit("kms_key_rotation_enabled").findings
    assert (finding.status, finding.evidence["iam_action"]) == (Status.ERROR, "kms:ListKeys")


@pytest.fixture
def aws_managed(kms: Any) -> Iterator[str]:
    """A key that DescribeKey reports as AWS managed, in AWS's shape (moto cannot make one)."""
    key_id = new_key(kms)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)  # would fail every check if evaluated
    metadata = {"KeyMetadata": {
        "AWSAccountId": ACCOUNT, "KeyId": key_id, "Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
        "Enabled": False, "Description": "Default key that protects my S3 objects when no other key is defined",
        "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "PendingDeletion", "Origin": "AWS_KMS", "KeyManager": "AWS",
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False,
    }}

    def handler(**_: Any) -> Any:
        return AWSResponse("https://recorded", 200, {}, None), copy.deepcopy(metadata)

    event = "before-call.kms.DescribeKey"
    BOTO.events.register_first(event, handler)
    yield key_id
    BOTO.events.unregister(event, handler)


def test_aws_managed_keys_are_not_evaluated(audit, aws_managed):
    run = audit("kms_key_not_pending_deletion", "kms_key_rotation_enabled", "kms_key_policy_not_public")
    assert run.findings == ()


# -- kms_key_rotation_enabled --------------------------------------------------------------------------------------
def test_rotation_disabled_fails(audit, kms):
    rotated, unrotated = new_key(kms), new_key(kms)
    kms.enable_key_rotation(KeyId=rotated)
    run = audit("kms_key_rotation_enabled")
    assert statuses(run) == {rotated: "PASS", unrotated: "FAIL"}
    failed = next(f for f in run.findings if f.status is Status.FAIL)
    assert failed.evidence["rotation_enabled"] is False and failed.evidence["key_spec"] == "SYMMETRIC_DEFAULT"
    assert failed.message == f"KMS key {unrotated} has automatic rotation disabled."


def test_rotation_enabled_passes_and_unrotatable_keys_are_skipped(audit, kms):
    rotated = new_key(kms)
    kms.enable_key_rotation(KeyId=rotated)
    new_key(kms, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    new_key(kms, Origin="EXTERNAL")
    doomed = new_key(kms)
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    assert statuses(audit("kms_key_rotation_enabled")) == {rotated: "PASS"}


def test_denied_rotation_status_is_error_for_the_key(audit, kms, faults):
    key_id = new_key(kms)
    faults.deny("kms", "GetKeyRotationStatus")
    [finding] = audit("kms_key_rotation_enabled").findings
    assert (finding.status, finding.resource.id, finding.evidence["iam_action"]) == (
        Status.ERROR, key_id, "kms:GetKeyRotationStatus")


# -- kms_key_policy_not_public -------------------------------------------------------------------------------------
def test_public_key_policy_fails(audit, kms):
    public, restricted, default = new_key(kms), new_key(kms), new_key(kms)
    kms.put_key_policy(KeyId=public, PolicyName="default", Policy=key_policy(
        {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:Encrypt"],
         "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))
    kms.put_key_policy(KeyId=restricted, PolicyName="default", Policy=key_policy(
        {"Sid": "ViaAccount", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": OTHER}}}))
    run = audit("kms_key_policy_not_public")
    assert statuses(run) == {public: "FAIL", restricted: "PASS", default: "PASS"}
    failed = next(f for f in run.findings if f.status is Status.FAIL)
    assert failed.evidence["public_actions"] == ["kms:Decrypt", "kms:Encrypt"]
    assert failed.message == f"The key policy of KMS key {public} allows anyone to use it."


def test_default_key_policy_passes(audit, kms):
    key_id = new_key(kms)
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=key_policy(
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
         "Action": "kms:Decrypt", "Resource": "*"}))
    [finding] = audit("kms_key_policy_not_public").findings
    assert (finding.status, finding.evidence["other_accounts"]) == (Status.PASS, [OTHER])


def test_denied_key_policy_is_error_for_the_key(audit, kms, faults):
    key_id = new_key(kms)
    faults.deny("kms", "GetKeyPolicy")
    [finding] = audit("kms_key_policy_not_public").findings
    assert (finding.status, finding.resource.id, finding.evidence["iam_action"]) == (
        Status.ERROR, key_id, "kms:GetKeyPolicy")


# -- kms_customer_policy_decrypt_not_on_all_keys / kms_inline_policy_decrypt_not_on_all_keys ----------------------
def test_customer_policy_decrypt_on_all_keys_fails(audit, iam, kms):
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{new_key(kms)}"
    iam.create_policy(PolicyName="decrypt-all", PolicyDocument=document(
        {"Sid": "All", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}))
    iam.create_policy(PolicyName="reencrypt-all", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:ReEncrypt*", "Resource": "arn:aws:kms:*:*:key/*"}))
    iam.create_policy(PolicyName="one-key", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}))
    iam.create_policy(PolicyName="one-region", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"}))
    run = audit("kms_customer_policy_decrypt_not_on_all_keys")
    assert statuses(run) == {"decrypt-all": "FAIL", "reencrypt-all": "FAIL", "one-key": "PASS", "one-region": "PASS"}
    decrypt_all = next(f for f in run.findings if f.resource.id == "decrypt-all")
    assert decrypt_all.evidence["actions"] == ["kms:Decrypt"]
    assert decrypt_all.message == "The IAM policy decrypt-all allows kms:Decrypt on every KMS key."
    assert next(f for f in run.findings if f.resource.id == "reencrypt-all").evidence["actions"] == [
        "kms:ReEncryptFrom"]


def test_customer_policy_decrypt_actions_are_a_parameter(audit, iam):
    iam.create_policy(PolicyName="encrypt-all", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}))
    assert statuses(audit("kms_customer_policy_decrypt_not_on_all_keys")) == {"encrypt-all": "PASS"}
    run = audit("kms_customer_policy_decrypt_not_on_all_keys", params={"kms.decrypt_actions": ["kms:Encrypt"]})
    assert statuses(run) == {"encrypt-all": "FAIL"}


def test_inline_policy_decrypt_on_all_keys_fails(audit, iam):
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=document(
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName="app", PolicyName="decrypt", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="decrypt-but-denied", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}))
    run = audit("kms_inline_policy_decrypt_not_on_all_keys")
    assert statuses(run) == {"role/app/decrypt": "FAIL", "group/readers/decrypt-but-denied": "PASS"}
    failed = next(f for f in run.findings if f.status is Status.FAIL)
    assert failed.evidence["actions"] == ["kms:Decrypt", "kms:ReEncryptFrom"]
    assert failed.evidence["principal"] == "app"


def test_inline_policy_scoped_decrypt_passes(audit, iam):
    iam.create_user(UserName="analyst")
    iam.put_user_policy(UserName="analyst", PolicyName="decrypt", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abc"}))
    assert statuses(audit("kms_inline_policy_decrypt_not_on_all_keys")) == {"user/analyst/decrypt": "PASS"}


def test_denied_authorization_details_is_error(audit, faults):
    faults.deny("iam", "GetAccountAuthorizationDetails")
    [finding] = audit("kms_inline_policy_decrypt_not_on_all_keys").findings
    assert (finding.status, finding.evidence["iam_action"]) == (Status.ERROR, "iam:GetAccountAuthorizationDetails")


def test_key_deleted_after_listing_is_skipped(audit, kms, faults):
    new_key(kms)
    faults.deny("kms", "DescribeKey", code="NotFoundException", status=400)
    assert audit("kms_key_not_pending_deletion").findings == ()


def test_rotation_status_is_not_asked_of_keys_that_cannot_rotate(audit, kms, faults):
    # Real AWS refuses GetKeyRotationStatus for asymmetric keys (moto answers False): it must not be asked.
    new_key(kms, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    faults.deny("kms", "GetKeyRotationStatus", code="UnsupportedOperationException", status=400)
    assert audit("kms_key_rotation_enabled").findings == ()
