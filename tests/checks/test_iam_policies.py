"""IAM policy checks (checks/iam/policy_checks.py), under moto through the real engine.

All of them read one GetAccountAuthorizationDetails. Moto's answer lacks the PolicyName and PolicyId of customer
managed policies; real AWS's shape (URL-encoded documents, names present) is covered with a recorded response
served by a botocore `before-call` hook (botocore's own `after-call` decoding then runs as it does for AWS).
"""
from __future__ import annotations

import copy
import json
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from botocore.awsrequest import AWSResponse

from auditor import Status

from ..conftest import ACCOUNT, BOTO, statuses

OTHER = "111122223333"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SCOPED = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadWriteObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": "arn:aws:s3:::data/*"},
]}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal: Any, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return document(statement)


ECS_TRUST = trust({"Service": "ecs-tasks.amazonaws.com"})


@pytest.fixture
def iam(aws: Any) -> Any:
    return aws.client("iam")


def only(run: Any) -> Any:
    [finding] = run.findings
    return finding


# -- iam_inline_policy_no_full_admin -------------------------------------------------------------------------------
def test_inline_admin_fails_for_users_groups_and_roles(audit, iam):
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    iam.create_group(GroupName="ops")
    iam.put_group_policy(GroupName="ops", PolicyName="all", PolicyDocument=document(
        {"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    iam.put_role_policy(RoleName="app", PolicyName="scoped", PolicyDocument=json.dumps(SCOPED))
    iam.put_role_policy(RoleName="app", PolicyName="admin-but-iam", PolicyDocument=document(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}))
    run = audit("iam_inline_policy_no_full_admin")
    assert statuses(run) == {"user/bob/admin": "FAIL", "group/ops/all": "FAIL", "role/app/scoped": "PASS",
                             "role/app/admin-but-iam": "PASS"}
    failed = next(f for f in run.findings if f.resource.id == "user/bob/admin")
    assert failed.resource.type == "AWS::IAM::UserPolicy"
    assert failed.message == "The inline policy admin of IAM user bob allows every action on every resource."
    assert failed.evidence["statements"] == [{"sid": "#0", "effect": "Allow", "action": ["*"], "resource": ["*"]}]
    assert failed.evidence["principal_arn"] == f"arn:aws:iam::{ACCOUNT}:user/bob"
    assert len({f.id for f in run.findings}) == 4  # inline policies of one role get distinct finding ids


def test_inline_admin_passes_with_scoped_policy(audit, iam):
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    iam.put_role_policy(RoleName="app", PolicyName="scoped", PolicyDocument=json.dumps(SCOPED))
    finding = only(audit("iam_inline_policy_no_full_admin"))
    assert (finding.status, finding.resource.id) == (Status.PASS, "role/app/scoped")


def test_inline_admin_no_inline_policies_no_findings(audit, iam):
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    assert audit("iam_inline_policy_no_full_admin").findings == ()


def test_denied_authorization_details_is_error(audit, faults):
    faults.deny("iam", "GetAccountAuthorizationDetails")
    finding = only(audit("iam_inline_policy_no_full_admin"))
    assert finding.status is Status.ERROR
    assert (finding.evidence["iam_action"], finding.evidence["error_code"]) == (
        "iam:GetAccountAuthorizationDetails", "AccessDenied")


# -- iam_policy_no_service_wildcard_actions ------------------------------------------------------------------------
def test_service_wildcard_fails_and_scoped_passes(audit, iam):
    iam.create_policy(PolicyName="s3-all", PolicyDocument=document(
        {"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "arn:aws:s3:::data"}))
    iam.create_policy(PolicyName="scoped", PolicyDocument=json.dumps(SCOPED))
    iam.create_policy(PolicyName="denies-all", PolicyDocument=document(
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))
    iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    iam.create_policy(PolicyName="all-but-iam", PolicyDocument=document(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
    run = audit("iam_policy_no_service_wildcard_actions")
    assert statuses(run) == {"s3-all": "FAIL", "scoped": "PASS", "denies-all": "PASS", "admin": "FAIL",
                             "all-but-iam": "FAIL"}
    failed = next(f for f in run.findings if f.resource.id == "s3-all")
    assert failed.evidence["service_wildcards"] == ["s3:*"]
    assert failed.evidence["statements"] == [
        {"sid": "#0", "effect": "Allow", "action": ["s3:*", "ec2:Describe*"], "resource": ["arn:aws:s3:::data"]}]
    assert failed.resource.arn == f"arn:aws:iam::{ACCOUNT}:policy/s3-all"
    assert failed.message == "IAM policy s3-all allows every action of a service (s3:*)."
    assert next(f for f in run.findings if f.resource.id == "all-but-iam").evidence["service_wildcards"] == [
        "* except iam:*"]


def test_service_wildcard_only_the_default_version_counts(audit, iam):
    arn = iam.create_policy(PolicyName="evolving", PolicyDocument=document(
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(SCOPED), SetAsDefault=True)
    finding = only(audit("iam_policy_no_service_wildcard_actions"))
    assert (finding.status, finding.evidence["default_version"]) == (Status.PASS, "v2")


def test_service_wildcard_no_policies_no_findings(audit):
    assert audit("iam_policy_no_service_wildcard_actions").findings == ()


# -- iam_policy_pass_role_restricted -------------------------------------------------------------------------------
def test_pass_role_on_every_role_fails(audit, iam):
    iam.create_policy(PolicyName="deployer", PolicyDocument=document(
        {"Sid": "Pass", "Effect": "Allow", "Action": ["iam:PassRole", "ecs:UpdateService"], "Resource": "*"}))
    iam.create_user(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="pass-any-role", PolicyDocument=document(
        {"Effect": "Allow", "Action": "iam:Pass*", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"}))
    iam.put_user_policy(UserName="ci", PolicyName="pass-app-role", PolicyDocument=document(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/app"}))
    run = audit("iam_policy_pass_role_restricted")
    assert statuses(run) == {"deployer": "FAIL", "user/ci/pass-any-role": "FAIL", "user/ci/pass-app-role": "PASS"}
    deployer = next(f for f in run.findings if f.resource.id == "deployer")
    assert deployer.evidence["statements"][0]["sid"] == "Pass"
    assert deployer.message == "The IAM policy deployer allows iam:PassRole on every role."


def test_pass_role_scoped_passes(audit, iam):
    iam.create_policy(PolicyName="deployer", PolicyDocument=document(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/app-*"}))
    assert statuses(audit("iam_policy_pass_role_restricted")) == {"deployer": "PASS"}


def test_pass_role_no_policies_no_findings(audit):
    assert audit("iam_policy_pass_role_restricted").findings == ()


# -- iam_role_trust_policy_not_public ------------------------------------------------------------------------------
def test_public_trust_fails_and_restricted_trust_passes(audit, iam):
    iam.create_role(RoleName="open", AssumeRolePolicyDocument=trust("*"))
    iam.create_role(RoleName="open-with-external-id", AssumeRolePolicyDocument=trust(
        {"AWS": "*"}, {"StringEquals": {"sts:ExternalId": "shared"}}))
    iam.create_role(RoleName="org-only", AssumeRolePolicyDocument=trust(
        {"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    run = audit("iam_role_trust_policy_not_public")
    assert statuses(run) == {"open": "FAIL", "open-with-external-id": "FAIL", "org-only": "PASS", "app": "PASS"}
    failed = next(f for f in run.findings if f.resource.id == "open")
    assert failed.evidence == {"public_actions": ["sts:AssumeRole"]}
    assert failed.resource.arn == f"arn:aws:iam::{ACCOUNT}:role/open"


def test_public_trust_passes_for_service_roles(audit, iam):
    iam.create_role(RoleName="lambda", AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"}))
    assert statuses(audit("iam_role_trust_policy_not_public")) == {"lambda": "PASS"}


def test_public_trust_no_roles_no_findings(audit):
    assert audit("iam_role_trust_policy_not_public").findings == ()


# -- iam_role_cross_account_trust_requires_external_id -------------------------------------------------------------
def test_cross_account_without_external_id_fails(audit, iam):
    # The seed guide's CrossAccountDeployRole: another account's root, with an external ID (good).
    iam.create_role(RoleName="CrossAccountDeployRole", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{OTHER}:root"}, {"StringEquals": {"sts:ExternalId": "acme-deploy"}}))
    iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{OTHER}:role/scanner"}))
    iam.create_role(RoleName="optional-id", AssumeRolePolicyDocument=trust(
        {"AWS": OTHER}, {"StringEqualsIfExists": {"sts:ExternalId": "x"}}))
    iam.create_role(RoleName="same-account", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    run = audit("iam_role_cross_account_trust_requires_external_id")
    assert statuses(run) == {"CrossAccountDeployRole": "PASS", "vendor": "FAIL", "optional-id": "FAIL",
                             "same-account": "PASS", "app": "PASS"}
    vendor = next(f for f in run.findings if f.resource.id == "vendor")
    assert vendor.evidence == {"trusted_accounts": [OTHER], "without_external_id": [OTHER]}
    assert vendor.message == f"IAM role vendor can be assumed from account(s) {OTHER} without an external ID."


def test_cross_account_trusted_accounts_are_a_parameter(audit, iam):
    iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{OTHER}:role/scanner"}))
    run = audit("iam_role_cross_account_trust_requires_external_id", params={"iam.trusted_account_ids": [OTHER]})
    assert statuses(run) == {"vendor": "PASS"}


def test_cross_account_no_roles_no_findings(audit):
    assert audit("iam_role_cross_account_trust_requires_external_id").findings == ()


# -- iam_role_cross_account_root_trust_conditioned -----------------------------------------------------------------
def test_unconditioned_root_trust_fails(audit, iam):
    iam.create_role(RoleName="open-to-account", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{OTHER}:root"}))
    iam.create_role(RoleName="bare-account-id", AssumeRolePolicyDocument=trust({"AWS": [OTHER]}))
    iam.create_role(RoleName="CrossAccountDeployRole", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{OTHER}:root"}, {"StringEquals": {"sts:ExternalId": "acme-deploy"}}))
    iam.create_role(RoleName="named-role", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{OTHER}:role/ci"}))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    run = audit("iam_role_cross_account_root_trust_conditioned")
    assert statuses(run) == {"open-to-account": "FAIL", "bare-account-id": "FAIL", "CrossAccountDeployRole": "PASS",
                             "named-role": "PASS", "app": "PASS"}
    failed = next(f for f in run.findings if f.resource.id == "open-to-account")
    assert failed.evidence == {"unconditioned_accounts": [OTHER]}


def test_root_trust_passes_for_service_roles(audit, iam):
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    assert statuses(audit("iam_role_cross_account_root_trust_conditioned")) == {"app": "PASS"}


def test_root_trust_no_roles_no_findings(audit):
    assert audit("iam_role_cross_account_root_trust_conditioned").findings == ()


# -- AWS's real response shape -------------------------------------------------------------------------------------
def real_authorization_details() -> dict[str, Any]:
    """GetAccountAuthorizationDetails as AWS documents it: documents URL-encoded, names and ids present."""
    admin = quote(json.dumps(ADMIN))
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [{
            "Path": "/", "RoleName": "legacy", "RoleId": "AROAEXAMPLE", "Arn": f"arn:aws:iam::{ACCOUNT}:role/legacy",
            "AssumeRolePolicyDocument": quote(trust("*")),
            "InstanceProfileList": [], "RolePolicyList": [{"PolicyName": "everything", "PolicyDocument": admin}],
            "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess",
                                         "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "Tags": [{"Key": "Environment", "Value": "prod"}],
        }],
        "Policies": [{
            "PolicyName": "kms-admin", "PolicyId": "ANPAEXAMPLE", "Arn": f"arn:aws:iam::{ACCOUNT}:policy/kms-admin",
            "Path": "/", "DefaultVersionId": "v3", "AttachmentCount": 2, "IsAttachable": True,
            "PolicyVersionList": [
                {"Document": quote(json.dumps(SCOPED)), "VersionId": "v1", "IsDefaultVersion": False},
                {"Document": quote(document({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})),
                 "VersionId": "v3", "IsDefaultVersion": True},
            ],
        }],
        "IsTruncated": False,
    }


@pytest.fixture
def recorded(aws: Any) -> Iterator[None]:
    def handler(**_: Any) -> Any:
        return AWSResponse("https://recorded", 200, {}, None), copy.deepcopy(real_authorization_details())

    event = "before-call.iam.GetAccountAuthorizationDetails"
    BOTO.events.register_first(event, handler)
    yield
    BOTO.events.unregister(event, handler)


def test_real_shape(audit, recorded):
    run = audit("iam_inline_policy_no_full_admin", "iam_policy_no_service_wildcard_actions",
                "iam_role_trust_policy_not_public")
    by_check = {f.check_id: f for f in run.findings}
    assert by_check["iam_inline_policy_no_full_admin"].status is Status.FAIL
    assert by_check["iam_inline_policy_no_full_admin"].resource.id == "role/legacy/everything"
    wildcard = by_check["iam_policy_no_service_wildcard_actions"]
    assert (wildcard.status, wildcard.resource.id, wildcard.evidence["default_version"],
            wildcard.evidence["attachment_count"]) == (Status.FAIL, "kms-admin", "v3", 2)
    public = by_check["iam_role_trust_policy_not_public"]
    assert (public.status, dict(public.resource.tags)) == (Status.FAIL, {"Environment": "prod"})


# -- iam_role_web_identity_trust_restricted ------------------------------------------------------------------------
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def web_identity(provider: str, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": provider},
                                 "Action": "sts:AssumeRoleWithWebIdentity"}
    if condition:
        statement["Condition"] = condition
    return document(statement)


def test_web_identity_trust_without_subject_fails(audit, iam):
    aud = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
    iam.create_role(RoleName="any-repo", AssumeRolePolicyDocument=web_identity(GITHUB, {"StringEquals": aud}))
    iam.create_role(RoleName="wildcard-repo", AssumeRolePolicyDocument=web_identity(GITHUB, {
        "StringEquals": aud, "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}))
    iam.create_role(RoleName="our-repo", AssumeRolePolicyDocument=web_identity(GITHUB, {
        "StringEquals": aud, "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:*"}}))
    iam.create_role(RoleName="any-pool", AssumeRolePolicyDocument=web_identity("cognito-identity.amazonaws.com"))
    iam.create_role(RoleName="our-pool", AssumeRolePolicyDocument=web_identity("cognito-identity.amazonaws.com", {
        "StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:12345678-aaaa-bbbb-cccc-123456789012"}}))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    run = audit("iam_role_web_identity_trust_restricted")
    assert statuses(run) == {"any-repo": "FAIL", "wildcard-repo": "FAIL", "our-repo": "PASS", "any-pool": "FAIL",
                             "our-pool": "PASS", "app": "PASS"}
    failed = next(f for f in run.findings if f.resource.id == "any-repo")
    assert failed.evidence == {"oidc_providers": [GITHUB],
                               "missing_conditions": ["token.actions.githubusercontent.com:sub"]}
    assert failed.message == f"IAM role any-repo can be assumed with any token from {GITHUB}."


def test_web_identity_passes_for_saml_and_service_roles(audit, iam):
    saml = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"
    iam.create_role(RoleName="sso", AssumeRolePolicyDocument=document(
        {"Effect": "Allow", "Principal": {"Federated": saml}, "Action": "sts:AssumeRoleWithSAML",
         "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ECS_TRUST)
    assert statuses(audit("iam_role_web_identity_trust_restricted")) == {"sso": "PASS", "app": "PASS"}


def test_web_identity_no_roles_no_findings(audit):
    assert audit("iam_role_web_identity_trust_restricted").findings == ()
