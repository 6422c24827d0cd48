"""The IAM policy analyser: hand-written documents, then properties over generated ones."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.policy import Policy, PolicyError, Principal, parse_policy

OWNER = "123456789012"
OTHER = "111122223333"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


# -- parsing -------------------------------------------------------------------------------------------------------
def test_parses_dict_json_and_url_encoded_json_alike() -> None:
    document = doc(allow("s3:GetObject", "arn:aws:s3:::b/*", Sid="Read"))
    as_json = json.dumps(document)
    for form in (document, as_json, quote(as_json)):
        policy = parse_policy(form)
        (statement,) = policy.statements
        assert statement.sid == "Read"
        assert statement.effect == "Allow"
        assert statement.actions == ("s3:GetObject",)
        assert statement.resources == ("arn:aws:s3:::b/*",)
        assert statement.principals is None


def test_single_statement_object_and_empty_documents() -> None:
    assert len(parse_policy({"Statement": allow()}).statements) == 1
    assert parse_policy(None).statements == ()
    assert parse_policy("").statements == ()
    assert not parse_policy(None).allows("s3:GetObject")


def test_malformed_document_is_refused() -> None:
    with pytest.raises(PolicyError):
        parse_policy("not json at all")
    with pytest.raises(PolicyError):
        parse_policy("[1, 2]")


def test_principal_forms() -> None:
    policy = parse_policy(doc(
        allow("s3:*", Principal="*"),
        allow("s3:*", Principal={"AWS": ["arn:aws:iam::111122223333:root", "444455556666"],
                                 "Service": "lambda.amazonaws.com",
                                 "Federated": "cognito-identity.amazonaws.com",
                                 "CanonicalUser": "abc123"}),
    ))
    assert policy.statements[0].principals == frozenset({Principal("AWS", "*")})
    assert policy.statements[1].principals == frozenset({
        Principal("AWS", "arn:aws:iam::111122223333:root"), Principal("AWS", "444455556666"),
        Principal("Service", "lambda.amazonaws.com"), Principal("Federated", "cognito-identity.amazonaws.com"),
        Principal("CanonicalUser", "abc123"),
    })
    assert Principal("AWS", "arn:aws:iam::111122223333:role/x").account == OTHER
    assert not Principal("AWS", "arn:aws:iam::111122223333:role/x").is_account_root
    assert Principal("AWS", "111122223333").is_account_root


# -- identity policies ---------------------------------------------------------------------------------------------
def test_wildcards_in_actions_are_case_insensitive() -> None:
    policy = parse_policy(doc(allow("S3:Get*", "arn:aws:s3:::data/*")))
    assert policy.allows("s3:GetObject", "arn:aws:s3:::data/report.csv")
    assert policy.allows("s3:getobjectacl", "arn:aws:s3:::data/x")
    assert not policy.allows("s3:PutObject", "arn:aws:s3:::data/x")
    assert not policy.allows("s3:GetObject", "arn:aws:s3:::other/x")
    assert not policy.allows("s3:GetObject", "*")  # not every resource
    assert not policy.allows("s3:*", "arn:aws:s3:::data/x")  # not every action


def test_explicit_deny_wins() -> None:
    policy = parse_policy(doc(allow("s3:*"), deny("s3:DeleteBucket")))
    assert policy.allows("s3:GetObject", "arn:aws:s3:::b")
    assert not policy.allows("s3:DeleteBucket", "arn:aws:s3:::b")
    assert not policy.allows("s3:*")
    assert "s3" not in policy.admin_services()


def test_conditional_deny_does_not_cancel() -> None:
    policy = parse_policy(doc(allow(), deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})))
    assert policy.grants_full_admin()


def test_full_admin_forms() -> None:
    assert parse_policy(doc(allow("*", "*"))).grants_full_admin()
    assert parse_policy(doc(allow(["*:*"], ["*"]))).grants_full_admin()
    assert parse_policy(doc(allow("*", "*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))) \
        .grants_full_admin()
    assert not parse_policy(doc(allow("*", "arn:aws:s3:::b"))).grants_full_admin()
    assert not parse_policy(doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})).grants_full_admin()
    assert not parse_policy(doc(allow("*", "*"), deny("iam:*"))).grants_full_admin()
    assert parse_policy(doc(allow("*", "*"))).admin_services() == frozenset({"*"})


def test_not_action_and_not_resource() -> None:
    policy = parse_policy(doc({"Effect": "Allow", "NotAction": ["iam:*"], "NotResource": "arn:aws:s3:::secret"}))
    assert policy.allows("s3:GetObject", "arn:aws:s3:::public")
    assert not policy.allows("iam:CreateUser", "arn:aws:s3:::public")
    assert not policy.allows("s3:GetObject", "arn:aws:s3:::secret")
    assert not policy.allows("s3:GetObject", "*")


def test_admin_services_and_all_resource_actions() -> None:
    policy = parse_policy(doc(
        allow(["s3:*", "ec2:Describe*"]),
        allow("iam:*", "arn:aws:iam::123456789012:role/app"),
        allow(["kms:Decrypt", "iam:PassRole"]),
    ))
    assert policy.admin_services() == frozenset({"s3"})
    assert policy.allows_on_all_resources("kms:Decrypt")
    assert policy.allows_on_all_resources("iam:PassRole")
    assert not policy.allows_on_all_resources("kms:ReEncryptFrom")


# -- resource and trust policies -----------------------------------------------------------------------------------
def test_public_principal_and_restricting_conditions() -> None:
    def public(*statements: dict[str, Any]) -> frozenset[str]:
        return parse_policy(doc(*statements)).access(OWNER).public_actions

    assert public(allow("s3:GetObject", Principal="*")) == {"s3:GetObject"}
    assert public(allow("s3:GetObject", Principal={"AWS": "*"})) == {"s3:GetObject"}
    assert public(allow("s3:GetObject", Principal={"AWS": ["*"]})) == {"s3:GetObject"}
    for operator, key, value in [
        ("StringEquals", "aws:SourceAccount", OTHER),
        ("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
        ("StringEquals", "aws:SourceVpc", "vpc-111"),
        ("StringEquals", "aws:PrincipalOrgID", "o-abc"),
        ("StringEqualsIfExists", "aws:PrincipalAccount", OTHER),
        ("ForAnyValue:StringLike", "aws:userid", "AIDA*"),
        ("ArnLike", "aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic"),
        ("ArnEquals", "aws:SourceOwner", OWNER),
        ("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
    ]:
        restricted = allow("s3:GetObject", Principal="*", Condition={operator: {key: value}})
        assert public(restricted) == frozenset(), (operator, key)
    assert public(allow("s3:GetObject", Principal="*",
                        Condition={"Bool": {"aws:SecureTransport": "true"}})) == {"s3:GetObject"}
    assert public(allow("s3:GetObject", Principal="*",
                        Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})) == {"s3:GetObject"}
    assert public(allow("s3:GetObject", Principal="*",
                        Condition={"StringLike": {"aws:SourceAccount": "*"}})) == {"s3:GetObject"}
    assert public(allow("s3:GetObject", Principal="*",
                        Condition={"StringNotEquals": {"aws:SourceAccount": OTHER}})) == {"s3:GetObject"}


def test_unconditional_deny_to_anyone_removes_public_access() -> None:
    policy = parse_policy(doc(allow("s3:GetObject", "arn:aws:s3:::b/*", Principal="*"),
                              deny("s3:*", "arn:aws:s3:::b/*", Principal="*")))
    assert not policy.access(OWNER).is_public()
    tls_only = parse_policy(doc(allow("s3:GetObject", "arn:aws:s3:::b/*", Principal="*"),
                                deny("s3:*", "arn:aws:s3:::b/*", Principal="*",
                                     Condition={"Bool": {"aws:SecureTransport": "false"}})))
    assert tls_only.access(OWNER).is_public()


def test_cross_account_services_and_roots() -> None:
    access = parse_policy(doc(
        allow("sts:AssumeRole", Principal={"AWS": f"arn:aws:iam::{OTHER}:root"}),
        allow("sts:AssumeRole", Principal={"AWS": "444455556666"},
              Condition={"StringEquals": {"sts:ExternalId": "x"}}),
        allow("kms:Decrypt", Principal={"AWS": "arn:aws:iam::777788889999:role/reader"}),
        allow("kms:*", Principal={"AWS": f"arn:aws:iam::{OWNER}:root"}),
        allow("sts:AssumeRole", Principal={"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]}),
    )).access(OWNER)
    assert not access.is_public()
    assert dict(access.cross_account) == {
        OTHER: {"sts:AssumeRole"}, "444455556666": {"sts:AssumeRole"}, "777788889999": {"kms:Decrypt"},
    }
    assert access.unconditioned_root_accounts == {OTHER}
    assert access.services == {"lambda.amazonaws.com", "ecs-tasks.amazonaws.com"}


def test_not_action_grant_to_anyone_is_public() -> None:
    access = parse_policy(doc({"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteBucket",
                               "Resource": "*"})).access(OWNER)
    assert access.public_actions == {"* except s3:DeleteBucket"}


def test_statement_helpers() -> None:
    (statement,) = parse_policy(doc(allow("sts:AssumeRole", Principal={"AWS": OTHER},
                                          Condition={"StringEquals": {"sts:ExternalId": ["abc"]}}))).statements
    assert statement.condition_values("STS:externalid") == ("abc",)
    assert statement.condition_values("sts:ExternalId", operators=["StringLike"]) == ()
    assert statement.has_conditions


# -- properties ----------------------------------------------------------------------------------------------------
SERVICES = ["s3", "iam", "kms", "ec2", "*"]
NAMES = ["GetObject", "Get*", "PutObject", "*", "Decrypt", "PassRole", "List?ucket"]
action_patterns = st.one_of(
    st.just("*"), st.builds(lambda s, n: f"{s}:{n}", st.sampled_from(SERVICES), st.sampled_from(NAMES))
)
resource_patterns = st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b", "arn:aws:kms:*:*:key/*",
                                     "arn:aws:iam::123456789012:role/*"])
concrete_actions = st.builds(lambda s, n: f"{s}:{n}", st.sampled_from(["s3", "iam", "kms", "ec2", "S3"]),
                             st.sampled_from(["GetObject", "PutObject", "Decrypt", "PassRole", "ListBucket",
                                              "getobject"]))
concrete_resources = st.sampled_from(["arn:aws:s3:::b/x", "arn:aws:s3:::b", "arn:aws:kms:us-east-1:1:key/k",
                                      "arn:aws:iam::123456789012:role/app", "*"])
conditions = st.sampled_from([
    None,
    {"Bool": {"aws:SecureTransport": "false"}},
    {"StringEquals": {"aws:SourceAccount": OTHER}},
    {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}},
])
principals = st.sampled_from([None, "*", {"AWS": "*"}, {"AWS": OTHER}, {"AWS": f"arn:aws:iam::{OTHER}:root"},
                              {"Service": "lambda.amazonaws.com"}, {"AWS": [OWNER, "444455556666"]}])


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(action_patterns, min_size=1, max_size=3))
    statement["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = actions if len(actions) > 1 else actions[0]
    resources = draw(st.lists(resource_patterns, min_size=1, max_size=2))
    statement["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = resources
    principal = draw(principals)
    if principal is not None:
        statement["Principal"] = principal
    condition = draw(conditions)
    if condition is not None:
        statement["Condition"] = condition
    return statement


documents = st.lists(statements(), min_size=1, max_size=4)


def answers(policy: Policy, queries: list[tuple[str, str]]) -> tuple[Any, ...]:
    access = policy.access(OWNER)
    return (
        tuple(policy.allows(a, r) for a, r in queries),
        policy.grants_full_admin(),
        policy.admin_services(),
        access.public_actions,
        dict(access.cross_account),
        access.services,
        access.unconditioned_root_accounts,
    )


queries = st.lists(st.tuples(concrete_actions, concrete_resources), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(documents, concrete_actions, concrete_resources)
def test_a_deny_everything_statement_denies_everything(raw: list[dict[str, Any]], action: str, resource: str) -> None:
    policy = parse_policy(doc(*raw, deny("*", "*")))
    assert not policy.allows(action, resource)
    assert not policy.grants_full_admin()
    assert policy.admin_services() == frozenset()


@settings(max_examples=100, deadline=None)
@given(documents, st.randoms(use_true_random=False), queries)
def test_order_and_form_do_not_change_answers(raw: list[dict[str, Any]], rnd: Any, qs: list[tuple[str, str]]) -> None:
    shuffled = list(raw)
    rnd.shuffle(shuffled)
    expected = answers(parse_policy(doc(*raw)), qs)
    assert answers(parse_policy(doc(*shuffled)), qs) == expected
    if len(raw) == 1:
        assert answers(parse_policy({"Statement": raw[0]}), qs) == expected


@settings(max_examples=100, deadline=None)
@given(documents, queries)
def test_url_encoding_does_not_change_answers(raw: list[dict[str, Any]], qs: list[tuple[str, str]]) -> None:
    text = json.dumps(doc(*raw))
    expected = answers(parse_policy(doc(*raw)), qs)
    assert answers(parse_policy(quote(text)), qs) == answers(parse_policy(text), qs) == expected


@settings(max_examples=100, deadline=None)
@given(documents, queries)
def test_full_admin_allows_everything(raw: list[dict[str, Any]], qs: list[tuple[str, str]]) -> None:
    policy = parse_policy(doc(*raw))
    if policy.grants_full_admin():
        assert all(policy.allows(a, r) for a, r in qs)
        assert "*" in policy.admin_services()


@settings(max_examples=100, deadline=None)
@given(documents, queries)
def test_allowing_a_pattern_allows_what_it_names(raw: list[dict[str, Any]], qs: list[tuple[str, str]]) -> None:
    policy = parse_policy(doc(*raw))
    for service in policy.admin_services() - {"*"}:
        assert all(policy.allows(a, r) for a, r in qs if a.lower().startswith(service + ":"))


@settings(max_examples=100, deadline=None)
@given(documents, st.sampled_from(["s3:GetObject", "sts:AssumeRole"]))
def test_a_source_account_condition_is_never_public(raw: list[dict[str, Any]], action: str) -> None:
    for statement in raw:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": OTHER}}
    raw.append(allow(action, Principal="*", Condition={"StringEquals": {"aws:SourceAccount": OTHER}}))
    assert not parse_policy(doc(*raw)).access(OWNER).is_public()


@settings(max_examples=100, deadline=None)
@given(documents)
def test_adding_a_deny_never_widens_access(raw: list[dict[str, Any]]) -> None:
    before = parse_policy(doc(*raw)).access(OWNER)
    after = parse_policy(doc(*raw, deny("s3:*", "*", Principal="*"))).access(OWNER)
    assert after.public_actions <= before.public_actions
    assert after.services <= before.services


# -- more edge cases -----------------------------------------------------------------------------------------------
def test_for_all_values_conditions_do_not_restrict() -> None:
    """ForAllValues is true when the key is absent, so it limits nobody."""
    policy = parse_policy(doc(allow("s3:GetObject", Principal="*",
                                    Condition={"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-1"}})))
    assert policy.access(OWNER).is_public()


def test_not_principal_in_an_allow_is_public() -> None:
    policy = parse_policy(doc({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                               "Action": "s3:GetObject", "Resource": "*"}))
    assert policy.access(OWNER).public_actions == {"s3:GetObject"}


def test_deny_with_not_action_cancels_the_rest() -> None:
    policy = parse_policy(doc(allow(), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}))
    assert policy.allows("s3:GetObject", "arn:aws:s3:::b/k")
    assert not policy.allows("iam:CreateUser", "*")
    assert not policy.grants_full_admin()


def test_arn_with_wildcard_account_is_anyone() -> None:
    access = parse_policy(doc(allow("sts:AssumeRole", Principal={"AWS": "arn:aws:iam::*:root"}))).access(OWNER)
    assert access.public_actions == {"sts:AssumeRole"}


def test_unknown_effect_grants_nothing() -> None:
    policy = parse_policy(doc({"Effect": "Permit", "Action": "*", "Resource": "*"}))
    assert not policy.allows("s3:GetObject") and not policy.access(OWNER).is_public()
    assert parse_policy(doc({"Effect": "allow", "Action": "*", "Resource": "*"})).grants_full_admin()


def test_summary_describes_a_statement() -> None:
    (statement,) = parse_policy(doc(allow("sts:AssumeRole", Principal={"AWS": OTHER},
                                          Condition={"StringEquals": {"sts:ExternalId": "x"}}))).statements
    assert statement.summary() == {"sid": "#0", "effect": "Allow", "action": ["sts:AssumeRole"], "resource": ["*"],
                                   "principal": [f"AWS:{OTHER}"], "condition_keys": ["sts:ExternalId"]}


def test_deny_unless_from_a_vpc_endpoint_keeps_a_public_grant_private() -> None:
    bucket = "arn:aws:s3:::b/*"
    grant = allow("s3:GetObject", bucket, Principal="*")
    vpce_only = deny("s3:*", bucket, Principal="*", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
    assert not parse_policy(doc(grant, vpce_only)).access(OWNER).is_public()
    # Another condition ANDed into the Deny lets requests that fail it through: still public.
    partial = deny("s3:*", bucket, Principal="*", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"},
                                                             "Bool": {"aws:SecureTransport": "true"}})
    assert parse_policy(doc(grant, partial)).access(OWNER).is_public()
    # A Deny on other resources leaves the grant public.
    elsewhere = deny("s3:*", "arn:aws:s3:::other/*", Principal="*",
                     Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
    assert parse_policy(doc(grant, elsewhere)).access(OWNER).is_public()


def test_arn_conditions_with_any_account_do_not_restrict() -> None:
    def public(value: str) -> bool:
        return parse_policy(doc(allow("s3:GetObject", Principal="*", Condition={
            "ArnLike": {"aws:PrincipalArn": value}}))).access(OWNER).is_public()

    assert public("arn:aws:iam::*:role/reader")
    assert not public(f"arn:aws:iam::{OTHER}:role/reader")
    assert not parse_policy(doc(allow("s3:PutObject", Principal="*", Condition={
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::source-bucket"}}))).access(OWNER).is_public()


def test_service_principals_without_a_source_condition_are_unrestricted() -> None:
    access = parse_policy(doc(
        allow("lambda:InvokeFunction", Principal={"Service": "s3.amazonaws.com"}),
        allow("lambda:InvokeFunction", Principal={"Service": "sns.amazonaws.com"},
              Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{OWNER}:topic"}}),
    )).access(OWNER)
    assert access.services == {"s3.amazonaws.com", "sns.amazonaws.com"}
    assert access.unrestricted_services == {"s3.amazonaws.com"}
    assert not access.is_public()
