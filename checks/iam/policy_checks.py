"""IAM policy checks read through `auditor.policy`: administrator grants, service wildcards, iam:PassRole on every
role, and role trust policies (public trust, cross-account trust without an external ID, whole-account trust
without conditions, OIDC trust that does not say whose tokens).

Every document comes from one `GetAccountAuthorizationDetails` read (see policy_resources.py).
"""
from __future__ import annotations

from typing import Any, Iterator, Union

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity
from auditor.policy import Policy, Statement

from .policy_resources import AUTHORIZATION_DETAILS, CustomerPolicy, InlinePolicy, Role, authorization_details

TRUSTED_ACCOUNTS = "iam.trusted_account_ids"
AnyPolicy = Union[CustomerPolicy, InlinePolicy]
ASSUME_ROLE = "sts:AssumeRole"
EXTERNAL_ID = "sts:ExternalId"

_SCOPED_POLICY_TERRAFORM = (
    'resource "aws_iam_policy" "s3_access" {\n'
    '  name = "${var.project}-s3-access"\n\n'
    "  policy = jsonencode({\n"
    '    Version = "2012-10-17"\n'
    "    Statement = [{\n"
    '      Sid      = "ReadWriteObjects"\n'
    '      Effect   = "Allow"\n'
    '      Action   = ["s3:GetObject", "s3:PutObject"]\n'
    '      Resource = "${aws_s3_bucket.data.arn}/*"\n'
    "    }]\n"
    "  })\n"
    "}"
)
_CROSS_ACCOUNT_TERRAFORM = (
    'resource "aws_iam_role" "cross_account" {\n'
    '  name = "CrossAccountDeployRole"\n\n'
    "  assume_role_policy = jsonencode({\n"
    '    Version = "2012-10-17"\n'
    "    Statement = [{\n"
    '      Effect = "Allow"\n'
    "      Principal = {\n"
    '        AWS = "arn:aws:iam::${var.trusted_account_id}:root"\n'
    "      }\n"
    '      Action = "sts:AssumeRole"\n'
    "      Condition = {\n"
    "        StringEquals = {\n"
    '          "sts:ExternalId" = var.external_id\n'
    "        }\n"
    "      }\n"
    "    }]\n"
    "  })\n"
    "}"
)
_TRUST_CLI = "aws iam update-assume-role-policy --role-name <role> --policy-document file://trust.json"
_TRUST_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html"


def _document_error(ctx: CheckContext, item: AnyPolicy | Role, label: str) -> Finding:
    return ctx.error(item.resource, f"The policy document of {label} could not be read: {item.malformed}.",
                     {"reason": item.malformed})


def _inline_evidence(item: InlinePolicy) -> dict[str, Any]:
    return {"principal_type": item.principal_kind, "principal": item.principal_name,
            "principal_arn": item.principal_arn}


def _managed_evidence(item: CustomerPolicy) -> dict[str, Any]:
    return {"default_version": item.default_version_id, "attachment_count": item.attachment_count}


def _evidence(item: AnyPolicy) -> dict[str, Any]:
    return _inline_evidence(item) if isinstance(item, InlinePolicy) else _managed_evidence(item)


def _statements(statements: tuple[Statement, ...]) -> list[dict[str, Any]]:
    return [s.summary() for s in statements]


# -- administrator grants ------------------------------------------------------------------------------------------
class IamInlinePolicyNoFullAdmin(Check):
    """An inline policy that allows every action on every resource makes its user, group or role an administrator,
    able to read all data, change every setting and grant itself anything. Inline policies are easy to miss:
    they are not listed among the account's policies and cannot be reused or reviewed in one place. Every inline
    policy of every user, group and role is evaluated; a Deny without conditions in the same document that takes
    any action back means the policy is not full administrator access."""

    id = "iam_inline_policy_no_full_admin"
    service = "iam"
    severity = Severity.HIGH
    title = 'Inline policies of users, groups and roles do not allow "*" on "*"'
    risk = "The user, group or role holding the inline policy has full administrative control of the account."
    remediation = Remediation(
        text="Replace the inline policy with a customer managed policy that grants only the actions and resources "
        "needed; keep full administrator access to a few break-glass roles.",
        cli="aws iam delete-role-policy --role-name <role> --policy-name <policy>  # or delete-user-policy / "
        "delete-group-policy, after attaching a least-privilege policy",
        terraform=_SCOPED_POLICY_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    )
    compliance = (
        Control("aws-fsbp", "IAM.1"),
        Control("cis-aws-3.0", "1.16"),
        Control("cis-aws-4.0.1", "1.16"),
    )
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for item in authorization_details(ctx).inline_policies:
            if item.malformed:
                yield _document_error(ctx, item, item.label)
                continue
            evidence = _inline_evidence(item)
            admin = item.policy.full_admin_statements()
            if admin:
                yield ctx.failed(item.resource, f"The {item.label} allows every action on every resource.",
                                 {**evidence, "statements": _statements(admin)})
            else:
                yield ctx.passed(item.resource, f'The {item.label} does not allow "*" on "*".', evidence)


class IamPolicyNoServiceWildcardActions(Check):
    """A statement that allows `service:*` grants every action of that service, including the ones added later
    and the ones that change permissions, delete data or turn off logging. Naming the actions a workload needs
    keeps a leaked credential from doing more. `"*"` and NotAction grants count too: they give every action of
    many services. Resources are not considered, as in Security Hub. Every customer managed policy's default
    version is evaluated, attached or not (a policy can be attached at any time)."""

    id = "iam_policy_no_service_wildcard_actions"
    service = "iam"
    severity = Severity.LOW
    title = "Customer managed policies do not allow all actions of a service"
    risk = "Principals holding the policy can perform every action of the service, including destructive ones."
    remediation = Remediation(
        text='Replace "service:*" with the specific actions the principals need, as a new default policy version.',
        cli="aws iam create-policy-version --policy-arn <policy-arn> "
        "--policy-document file://least-privilege.json --set-as-default",
        terraform=_SCOPED_POLICY_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    )
    compliance = (Control("aws-fsbp", "IAM.21"),)
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for item in authorization_details(ctx).customer_policies:
            if item.malformed:
                yield _document_error(ctx, item, item.label)
                continue
            wildcards = service_wildcards(item.policy)
            evidence = _managed_evidence(item)
            if wildcards:
                yield ctx.failed(
                    item.resource,
                    f"IAM policy {item.name} allows every action of a service ({', '.join(sorted(wildcards))}).",
                    {**evidence, "service_wildcards": sorted(wildcards),
                     "statements": _statements(tuple(s for s in item.policy.allow_statements
                                                     if any(a in wildcards for a in s.granted_actions)))},
                )
            else:
                yield ctx.passed(item.resource, f"IAM policy {item.name} allows no service's every action.", evidence)


def service_wildcards(policy: Policy) -> frozenset[str]:
    """The grants of every action of a service, as written: `service:*`, `*` (`*:*`), or a NotAction grant
    ("* except ..."), in Allow statements whatever their resources or conditions."""
    found: set[str] = set()
    for statement in policy.allow_statements:
        if statement.not_actions is not None:
            found.update(statement.granted_actions)
            continue
        for action in statement.actions:
            service, _, name = action.partition(":")
            if action.strip() == "*" or (name.strip() == "*" and "?" not in service and service.strip()):
                found.add(action)
    return frozenset(found)


class IamPolicyPassRoleRestricted(Check):
    """iam:PassRole lets a principal hand a role to a service (an EC2 instance, a Lambda function, an ECS task),
    which then acts with that role's permissions. Allowed on every role, it lets the holder run code with any
    role of the account, administrator roles included: a well-known privilege escalation path. Customer managed
    policies (default version) and inline policies of users, groups and roles are evaluated; a grant on
    `arn:aws:iam::<account>:role/*` counts as every role."""

    id = "iam_policy_pass_role_restricted"
    service = "iam"
    severity = Severity.HIGH
    title = "IAM policies do not allow iam:PassRole on every role"
    risk = "The holder can pass any role, including administrator roles, to a service and act with its permissions."
    remediation = Remediation(
        text="Allow iam:PassRole only on the roles the principal must pass, and only to the service that needs "
        "them (condition iam:PassedToService).",
        cli="aws iam create-policy-version --policy-arn <policy-arn> "
        "--policy-document file://pass-role-scoped.json --set-as-default",
        terraform='resource "aws_iam_policy" "deploy" {\n'
        '  name = "${var.project}-deploy"\n\n'
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Sid      = "PassAppRole"\n'
        '      Effect   = "Allow"\n'
        '      Action   = ["iam:PassRole"]\n'
        "      Resource = aws_iam_role.app.arn\n"
        "      Condition = {\n"
        "        StringEquals = {\n"
        '          "iam:PassedToService" = "ecs-tasks.amazonaws.com"\n'
        "        }\n"
        "      }\n"
        "    }]\n"
        "  })\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
    )
    compliance = ()  # no FSBP or CIS control; the seed guide's least-privilege policies
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        details = authorization_details(ctx)
        every_role = f"arn:{ctx.partition}:iam::{ctx.account}:role/*"
        items: tuple[AnyPolicy, ...] = details.customer_policies + details.inline_policies
        for item in items:
            if item.malformed:
                yield _document_error(ctx, item, item.label)
                continue
            evidence = _evidence(item)
            if item.policy.allows("iam:PassRole", every_role):
                granting = item.policy.allowing_statements("iam:PassRole", every_role)
                yield ctx.failed(item.resource, f"The {item.label} allows iam:PassRole on every role.",
                                 {**evidence, "statements": _statements(granting)})
            else:
                yield ctx.passed(item.resource, f"The {item.label} does not allow iam:PassRole on every role.",
                                 evidence)


# -- role trust policies -------------------------------------------------------------------------------------------
class IamRoleTrustPolicyNotPublic(Check):
    """A trust policy says who may assume a role. Principal "*" (or {"AWS": "*"}) without a condition that
    restricts who (an account, an organization, a source ARN) lets any AWS account in the world assume the role
    and act with its permissions. An sts:ExternalId condition does not count: it is a shared value, not an
    identity check. Service and federated principals are judged by other means and pass here."""

    id = "iam_role_trust_policy_not_public"
    service = "iam"
    severity = Severity.CRITICAL
    title = "Role trust policies do not let anyone assume the role"
    risk = "Anyone with an AWS account can assume the role and use its permissions."
    remediation = Remediation(
        text="Name the accounts, roles or services that may assume the role in the trust policy's Principal, or "
        "restrict a wildcard principal with aws:PrincipalOrgID or aws:PrincipalAccount.",
        cli=_TRUST_CLI,
        terraform=_CROSS_ACCOUNT_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html",
    )
    compliance = ()  # no FSBP or CIS control; the seed guide's cross-account pattern names the trusted account
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for role in authorization_details(ctx).roles:
            if role.malformed:
                yield _document_error(ctx, role, f"the trust policy of IAM role {role.name}")
                continue
            public = role.trust.access(ctx.account).public_actions
            if public:
                yield ctx.failed(role.resource, f"IAM role {role.name} can be assumed by anyone.",
                                 {"public_actions": sorted(public)})
            else:
                yield ctx.passed(role.resource, f"IAM role {role.name} cannot be assumed by just anyone.",
                                 {"public_actions": []})


class IamRoleCrossAccountTrustRequiresExternalId(Check):
    """A role that another account may assume should require the external ID agreed with that account
    (`sts:ExternalId` under StringEquals or StringLike). Without it, a third party acting for several customers
    can be tricked into using its access to your role on someone else's behalf (the confused deputy problem).
    Roles trusted only by services, federated identity providers or principals of this account pass. Accounts
    listed in the parameter iam.trusted_account_ids (for example your own organization's) are exempt."""

    id = "iam_role_cross_account_trust_requires_external_id"
    service = "iam"
    severity = Severity.MEDIUM
    title = "Roles that other accounts can assume require an external ID"
    risk = "A third party with access to the role can be made to use it on behalf of someone else."
    remediation = Remediation(
        text="Add a Condition with StringEquals sts:ExternalId set to the external ID agreed with the trusted "
        "account to every trust statement naming another account.",
        cli=_TRUST_CLI,
        terraform=_CROSS_ACCOUNT_TERRAFORM,
        url=_TRUST_URL,
    )
    compliance = ()  # no FSBP or CIS control; the seed guide's cross-account pattern
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL
    parameters = (TRUSTED_ACCOUNTS,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        exempt = {str(a) for a in ctx.param(TRUSTED_ACCOUNTS)} | {ctx.account}
        for role in authorization_details(ctx).roles:
            if role.malformed:
                yield _document_error(ctx, role, f"the trust policy of IAM role {role.name}")
                continue
            missing: set[str] = set()
            trusted: set[str] = set()
            for statement in role.trust.allow_statements:
                if statement.principals is None or not statement.touches_action(ASSUME_ROLE):
                    continue
                for principal in statement.principals:
                    outside = "*" if principal.is_anyone else principal.account
                    if principal.kind != "AWS" or outside is None or outside in exempt:
                        continue
                    trusted.add(outside)
                    if not requires_external_id(statement):
                        missing.add(outside)
            evidence = {"trusted_accounts": sorted(trusted), "without_external_id": sorted(missing)}
            if missing:
                yield ctx.failed(role.resource, f"IAM role {role.name} can be assumed from account(s) "
                                                f"{', '.join(sorted(missing))} without an external ID.", evidence)
            elif trusted:
                yield ctx.passed(role.resource, f"IAM role {role.name} requires an external ID from every other "
                                                f"account that can assume it.", evidence)
            else:
                yield ctx.passed(role.resource, f"IAM role {role.name} cannot be assumed from another account "
                                                f"outside the trusted ones.", evidence)


def requires_external_id(statement: Statement) -> bool:
    """A StringEquals/StringLike sts:ExternalId condition that must be present (no IfExists, no ForAllValues)."""
    for operator, keys in statement.conditions.items():
        lowered = operator.lower()
        if lowered.endswith("ifexists") or lowered.startswith("forallvalues:"):
            continue
        if lowered.split(":", 1)[-1] not in ("stringequals", "stringlike"):
            continue
        if any(key.lower() == EXTERNAL_ID.lower() and any(v.strip("*?") for v in values)
               for key, values in keys.items()):
            return True
    return False


class IamRoleCrossAccountRootTrustConditioned(Check):
    """Trusting another account as a whole (its id or arn:aws:iam::<id>:root) delegates the choice of who may
    assume the role to that account's administrators: any of its users or roles allowed sts:AssumeRole there
    can use it. With no condition at all (no external ID, no MFA, no organization or principal restriction),
    nothing on this side narrows that. Trusting a named role of the other account, or adding conditions,
    passes."""

    id = "iam_role_cross_account_root_trust_conditioned"
    service = "iam"
    severity = Severity.MEDIUM
    title = "Roles trusting another whole account have conditions"
    risk = "Any principal of the other account that is allowed sts:AssumeRole can assume the role."
    remediation = Remediation(
        text="Name the specific role of the other account in the trust policy, or add conditions (sts:ExternalId, "
        "aws:PrincipalArn, aws:MultiFactorAuthPresent) to the statement that trusts its root.",
        cli=_TRUST_CLI,
        terraform=_CROSS_ACCOUNT_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
    )
    compliance = ()  # no FSBP or CIS control; the seed guide's cross-account pattern adds a condition
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for role in authorization_details(ctx).roles:
            if role.malformed:
                yield _document_error(ctx, role, f"the trust policy of IAM role {role.name}")
                continue
            roots = role.trust.access(ctx.account).unconditioned_root_accounts
            evidence = {"unconditioned_accounts": sorted(roots)}
            if roots:
                yield ctx.failed(role.resource, f"IAM role {role.name} trusts account(s) {', '.join(sorted(roots))} "
                                                f"as a whole with no condition.", evidence)
            else:
                yield ctx.passed(role.resource, f"IAM role {role.name} trusts no other whole account without "
                                                f"conditions.", evidence)


COGNITO = "cognito-identity.amazonaws.com"
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"


class IamRoleWebIdentityTrustRestricted(Check):
    """A role trusting an OpenID Connect provider (GitHub Actions, EKS, GitLab, Cognito...) can be assumed with
    any token that provider issues unless the trust policy names whose tokens: the `sub` claim
    (`token.actions.githubusercontent.com:sub` = `repo:<org>/<repo>:...`) or, for Cognito, the identity pool
    (`cognito-identity.amazonaws.com:aud`). Without it, any GitHub repository in the world, or any workload of a
    shared issuer, can assume the role. The audience of most providers (`sts.amazonaws.com`) is the same for
    everyone and does not count. SAML and roles without federated principals pass."""

    id = "iam_role_web_identity_trust_restricted"
    service = "iam"
    severity = Severity.HIGH
    title = "Roles trusting an OIDC provider restrict whose tokens may assume them"
    risk = "Anyone who can obtain a token from the provider, such as any GitHub repository, can assume the role."
    remediation = Remediation(
        text="Add a StringEquals or StringLike condition on the provider's sub claim naming your repositories, "
        "service accounts or subjects (for Cognito, StringEquals cognito-identity.amazonaws.com:aud = your "
        "identity pool id).",
        cli=_TRUST_CLI,
        terraform='resource "aws_iam_role" "github_deploy" {\n'
        '  name = "${var.project}-github-deploy"\n\n'
        "  assume_role_policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Effect = "Allow"\n'
        "      Principal = {\n"
        "        Federated = aws_iam_openid_connect_provider.github.arn\n"
        "      }\n"
        '      Action = "sts:AssumeRoleWithWebIdentity"\n'
        "      Condition = {\n"
        "        StringEquals = {\n"
        '          "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"\n'
        "        }\n"
        "        StringLike = {\n"
        '          "token.actions.githubusercontent.com:sub" = "repo:${var.github_org}/${var.project}:*"\n'
        "        }\n"
        "      }\n"
        "    }]\n"
        "  })\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html",
    )
    compliance = ()  # no FSBP or CIS control; the least privilege of the seed guide applied to federated trust
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for role in authorization_details(ctx).roles:
            if role.malformed:
                yield _document_error(ctx, role, f"the trust policy of IAM role {role.name}")
                continue
            providers: set[str] = set()
            unrestricted: dict[str, str] = {}  # provider -> the condition key it lacks
            for statement in role.trust.allow_statements:
                if statement.principals is None or not statement.touches_action(WEB_IDENTITY):
                    continue
                for principal in statement.principals:
                    if principal.kind != "Federated" or "saml-provider/" in principal.value:
                        continue
                    providers.add(principal.value)
                    required = subject_key(principal.value)
                    if not names_subjects(statement, required):
                        unrestricted[principal.value] = required
            evidence = {"oidc_providers": sorted(providers),
                        "missing_conditions": sorted(set(unrestricted.values()))}
            if unrestricted:
                yield ctx.failed(role.resource, f"IAM role {role.name} can be assumed with any token from "
                                                f"{', '.join(sorted(unrestricted))}.", evidence)
            elif providers:
                yield ctx.passed(role.resource, f"IAM role {role.name} names whose tokens from its OIDC "
                                                f"provider(s) may assume it.", evidence)
            else:
                yield ctx.passed(role.resource, f"IAM role {role.name} trusts no OIDC provider.", evidence)


def subject_key(provider: str) -> str:
    """The condition key that says whose tokens: Cognito's identity pool (aud), otherwise the subject (sub)."""
    if provider == COGNITO:
        return f"{COGNITO}:aud"
    host = provider.split(":oidc-provider/", 1)[-1]
    return f"{host}:sub"


def names_subjects(statement: Statement, key: str) -> bool:
    """A StringEquals/StringLike condition on `key` (ForAnyValue allowed, not ForAllValues) whose values all name
    someone in particular: not only wildcards, not GitHub's "repo:*"."""
    values: list[str] = []
    for operator, keys in statement.conditions.items():
        lowered = operator.lower()
        if lowered.startswith("forallvalues:") or lowered.split(":", 1)[-1] not in ("stringequals", "stringlike"):
            continue
        values.extend(v.strip() for name, found in keys.items() if name.lower() == key.lower() for v in found)
    return bool(values) and all(v.strip("*?") not in ("", "repo:") for v in values)
