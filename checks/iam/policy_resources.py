"""IAM policies as the policy checks read them: customer managed policies, inline policies and role trust policies.

One paginated `GetAccountAuthorizationDetails` gives every user, group and role with its inline and attached
policies, and every customer managed policy with all its versions: a handful of requests for the whole account,
where per-principal reads would cost several requests per user, group and role. AWS managed policies are not
requested (there are over a thousand, with all their versions); their ARNs still appear in the attachments.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from auditor import CheckContext, Resource, collector
from auditor.policy import Policy, PolicyError, parse_policy

AUTHORIZATION_DETAILS = "iam:GetAccountAuthorizationDetails"
_FILTER = ["User", "Group", "Role", "LocalManagedPolicy"]
_PRINCIPAL_TYPES = {"user": "AWS::IAM::User", "group": "AWS::IAM::Group", "role": "AWS::IAM::Role"}
_INLINE_TYPES = {"user": "AWS::IAM::UserPolicy", "group": "AWS::IAM::GroupPolicy", "role": "AWS::IAM::RolePolicy"}


@dataclass(frozen=True)
class InlinePolicy:
    """A policy embedded in one user, group or role. It has no ARN of its own: its id names both."""

    principal_kind: str  # "user" | "group" | "role"
    principal_name: str
    principal_arn: str
    name: str
    policy: Policy = field(compare=False)
    malformed: str = ""  # why the document could not be read, when it could not

    @property
    def label(self) -> str:
        return f"inline policy {self.name} of IAM {self.principal_kind} {self.principal_name}"

    @property
    def resource(self) -> Resource:
        # No ARN: the principal's ARN is shared by all its inline policies, and a finding's id derives from it.
        return Resource(
            id=f"{self.principal_kind}/{self.principal_name}/{self.name}",
            type=_INLINE_TYPES[self.principal_kind],
            name=self.name,
        )


@dataclass(frozen=True)
class CustomerPolicy:
    """A customer managed policy and its default version's document."""

    name: str
    arn: str
    policy_id: str
    default_version_id: str
    attachment_count: int
    policy: Policy = field(compare=False)
    malformed: str = ""

    @property
    def label(self) -> str:
        return f"IAM policy {self.name}"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::IAM::Policy", arn=self.arn, name=self.name)


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    path: str
    trust: Policy = field(compare=False)
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)
    malformed: str = ""

    @property
    def service_linked(self) -> bool:
        return self.path.startswith("/aws-service-role/")

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::IAM::Role", arn=self.arn, name=self.name, tags=dict(self.tags))


@dataclass(frozen=True)
class AuthorizationDetails:
    inline_policies: tuple[InlinePolicy, ...]
    customer_policies: tuple[CustomerPolicy, ...]
    roles: tuple[Role, ...]
    # principal ARN -> ARNs of the managed policies (AWS or customer) attached to it
    attachments: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)


@collector
def authorization_details(ctx: CheckContext) -> AuthorizationDetails:
    response = ctx.call("iam", "GetAccountAuthorizationDetails", Filter=_FILTER) or {}
    inline: list[InlinePolicy] = []
    attachments: dict[str, tuple[str, ...]] = {}
    for kind, list_key, name_key, policies_key in (
        ("user", "UserDetailList", "UserName", "UserPolicyList"),
        ("group", "GroupDetailList", "GroupName", "GroupPolicyList"),
        ("role", "RoleDetailList", "RoleName", "RolePolicyList"),
    ):
        for principal in response.get(list_key) or []:
            name, arn = principal.get(name_key, ""), principal.get("Arn", "")
            attachments[arn] = tuple(a.get("PolicyArn", "") for a in principal.get("AttachedManagedPolicies") or [])
            for embedded in principal.get(policies_key) or []:
                policy, malformed = _parse(embedded.get("PolicyDocument"))
                inline.append(InlinePolicy(kind, name, arn, embedded.get("PolicyName", ""), policy, malformed))
    roles = []
    for role in response.get("RoleDetailList") or []:
        trust, malformed = _parse(role.get("AssumeRolePolicyDocument"))
        roles.append(Role(name=role.get("RoleName", ""), arn=role.get("Arn", ""), path=role.get("Path", "/"),
                          trust=trust, tags=_tags(role.get("Tags")), malformed=malformed))
    return AuthorizationDetails(
        inline_policies=tuple(inline),
        customer_policies=tuple(_customer_policy(p) for p in response.get("Policies") or []),
        roles=tuple(roles),
        attachments=attachments,
    )


def _customer_policy(raw: Mapping[str, Any]) -> CustomerPolicy:
    arn = raw.get("Arn", "")
    default_version = raw.get("DefaultVersionId", "")
    versions = raw.get("PolicyVersionList") or []
    default = next((v for v in versions if v.get("IsDefaultVersion")), None) or next(
        (v for v in versions if v.get("VersionId") == default_version), {}
    )
    policy, malformed = _parse(default.get("Document"))
    return CustomerPolicy(
        name=raw.get("PolicyName") or arn.rsplit("/", 1)[-1],  # moto omits PolicyName here
        arn=arn,
        policy_id=raw.get("PolicyId", ""),
        default_version_id=default.get("VersionId") or default_version,
        attachment_count=int(raw.get("AttachmentCount") or 0),
        policy=policy,
        malformed=malformed,
    )


def _parse(document: Any) -> tuple[Policy, str]:
    try:
        return parse_policy(document), ""
    except PolicyError as exc:
        return Policy(), str(exc)


def _tags(raw: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in raw or [] if "Key" in t}
