"""An IAM policy analyser shared by identity checks and resource-policy checks.

`parse_policy(document)` reads an identity policy, a resource policy (S3 bucket, Lambda function, KMS key) or a role
trust policy, given as a dict, a JSON string or IAM's URL-encoded JSON string, into a `Policy` that answers:

- identity questions (`allows`, `grants_full_admin`, `admin_services`, `allows_on_all_resources`): what a
  principal holding the policy may do. They answer "could this be allowed": an Allow counts whatever its
  Condition (the condition may well hold), a Deny cancels only when it has no Condition (a conditional Deny may
  not apply). Every question about a pattern ("s3:*", Resource "*") means "for every action and resource it
  names": one Allow statement must cover all of it, and no unconditional Deny may touch any of it.
- resource-policy questions (`access(owner_account)`): who outside the owner account is allowed what — anyone
  (public), other accounts, service principals — counting only conditions that really restrict who can act
  (aws:SourceAccount, aws:PrincipalOrgID, aws:SourceVpce, ... under StringEquals/StringLike/ArnEquals/ArnLike/
  IpAddress and their ForAnyValue/IfExists forms), not conditions on unrelated keys (aws:SecureTransport), nor
  values naming no one ("*", 0.0.0.0/0, an ARN in any account). An unconditional Deny takes a grant back; so does
  a Deny to everyone "unless" a restricting key matches (StringNotEquals aws:SourceVpce), which leaves access
  only to those it names.

Actions match case-insensitively with `*` and `?` wildcards; resources match case-sensitively. This module reads
no AWS API: it is pure and safe to call from any thread.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import unquote

__all__ = ["Access", "Policy", "PolicyError", "Principal", "Statement", "parse_policy"]

ALLOW = "Allow"
DENY = "Deny"
ANYONE = "*"

# Condition keys that, compared for equality or a match, restrict who can use a grant.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceArn",
        "aws:SourceIp",
        "aws:VpcSourceIp",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:userid",
        "aws:username",
        "kms:CallerAccount",
        "lambda:EventSourceToken",
    )
)
# Condition operators that compare for equality or a match (negated operators do not restrict who).
RESTRICTING_OPERATORS = frozenset(
    o.lower() for o in ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress")
)
# Their negations: in a Deny, "deny unless the key matches" leaves access only to those who match.
NEGATED_RESTRICTING_OPERATORS = frozenset(
    o.lower()
    for o in ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
              "NotIpAddress")
)
# Keys whose values are ARNs: an ARN with a wildcard account names no one in particular.
_ARN_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class PolicyError(ValueError):
    """A policy document that is not JSON, or not a JSON object."""


# -- the model -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """One principal of a resource or trust policy. `value` is "*" for anyone."""

    kind: str  # "AWS" | "Service" | "Federated" | "CanonicalUser"
    value: str

    @property
    def is_anyone(self) -> bool:
        """Principal "*", {"AWS": "*"}, or an ARN whose account is a wildcard."""
        if self.kind != "AWS":
            return False
        return self.value == ANYONE or (self.value.startswith("arn:") and _arn_account(self.value) == ANYONE)

    @property
    def account(self) -> str | None:
        """The account of an AWS principal: a bare account id, arn:...:iam::ID:root, or any ARN in that account."""
        if self.kind != "AWS":
            return None
        if _ACCOUNT_ID.match(self.value):
            return self.value
        account = _arn_account(self.value) if self.value.startswith("arn:") else None
        return account if account and _ACCOUNT_ID.match(account) else None

    @property
    def is_account_root(self) -> bool:
        """A whole account: its bare id or arn:<partition>:iam::<id>:root."""
        if self.kind != "AWS":
            return False
        return bool(_ACCOUNT_ID.match(self.value)) or (
            self.account is not None and self.value.split(":", 5)[-1] == "root"
        )

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Statement:
    """One statement, normalised: every list is a tuple of strings as written."""

    sid: str
    effect: str  # "Allow" | "Deny" (as written when it is neither)
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None  # None with not_resources None: no Resource element (trust policies)
    not_resources: tuple[str, ...] | None = None
    principals: frozenset[Principal] | None = None  # None: an identity policy statement (no Principal)
    # operator -> condition key -> values, e.g. {"StringEquals": {"aws:SourceAccount": ("111122223333",)}}
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    not_principals: frozenset[Principal] | None = None  # NotPrincipal, rarely used

    @property
    def is_allow(self) -> bool:
        return self.effect == ALLOW

    @property
    def is_deny(self) -> bool:
        return self.effect == DENY

    @property
    def has_conditions(self) -> bool:
        return any(self.conditions.values())

    def condition_values(self, key: str, operators: Iterable[str] | None = None) -> tuple[str, ...]:
        """The values given for a condition key (case-insensitive) under any operator, or only under `operators`
        (compared without ForAnyValue:/ForAllValues: and IfExists, case-insensitively)."""
        wanted = {o.lower() for o in operators} if operators is not None else None
        found: list[str] = []
        for operator, keys in self.conditions.items():
            if wanted is not None and _base_operator(operator) not in wanted:
                continue
            for name, values in keys.items():
                if name.lower() == key.lower():
                    found.extend(values)
        return tuple(found)

    @property
    def restricts_principals(self) -> bool:
        """Whether a condition limits who can use the statement (an account, an organisation, a VPC, a network...)."""
        return any(
            base in RESTRICTING_OPERATORS and _restricting_key(key, values)
            for base, key, values in self._condition_terms()
        )

    @property
    def denies_all_but_someone(self) -> bool:
        """A Deny whose every condition is a negated restriction ("unless from this VPC endpoint / organization /
        account"): it applies to everyone except those the conditions name, so only they keep access."""
        terms = list(self._condition_terms(include_for_all_values=True))
        return self.is_deny and bool(terms) and all(
            base in NEGATED_RESTRICTING_OPERATORS and _restricting_key(key, values) for base, key, values in terms
        )

    def _condition_terms(self, include_for_all_values: bool = False) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        """(base operator, key, values) for each condition; ForAllValues terms, true when the key is absent,
        restrict nothing and are left out unless asked for."""
        for operator, keys in self.conditions.items():
            if operator.lower().startswith("forallvalues:") and not include_for_all_values:
                continue
            base = _base_operator(operator)
            for key, values in keys.items():
                yield base, key, values

    # -- matching ----------------------------------------------------------------------------------------------
    def covers_action(self, action: str) -> bool:
        """Every action `action` names is in this statement."""
        if self.not_actions is not None:
            return not any(_overlap(p, action, fold=True) for p in _actions(self.not_actions))
        return any(_covers(p, action, fold=True) for p in _actions(self.actions))

    def touches_action(self, action: str) -> bool:
        """Some action `action` names is in this statement."""
        if self.not_actions is not None:
            return not any(_covers(p, action, fold=True) for p in _actions(self.not_actions))
        return any(_overlap(p, action, fold=True) for p in _actions(self.actions))

    def covers_resource(self, resource: str) -> bool:
        if self.not_resources is not None:
            return not any(_overlap(p, resource) for p in self.not_resources)
        if self.resources is None:
            return True
        return any(_covers(p, resource) for p in self.resources)

    def touches_resource(self, resource: str) -> bool:
        if self.not_resources is not None:
            return not any(_covers(p, resource) for p in self.not_resources)
        if self.resources is None:
            return True
        return any(_overlap(p, resource) for p in self.resources)

    def covers_principal(self, principal: Principal) -> bool:
        if self.principals is None:
            return self.not_principals is not None and principal not in self.not_principals
        return any(p == principal or p.is_anyone or (p.value == ANYONE and p.kind == principal.kind)
                   for p in self.principals)

    def summary(self) -> dict[str, Any]:
        """A small description for evidence: sid, effect, the action and resource elements as written."""
        described: dict[str, Any] = {"sid": self.sid, "effect": self.effect}
        if self.not_actions is not None:
            described["not_action"] = list(self.not_actions)
        else:
            described["action"] = list(self.actions)
        if self.not_resources is not None:
            described["not_resource"] = list(self.not_resources)
        elif self.resources is not None:
            described["resource"] = list(self.resources)
        if self.principals is not None:
            described["principal"] = sorted(str(p) for p in self.principals)
        if self.has_conditions:
            described["condition_keys"] = sorted({k for keys in self.conditions.values() for k in keys})
        return described

    @property
    def granted_actions(self) -> tuple[str, ...]:
        """The actions as written, or for NotAction one entry "* except a, b"."""
        if self.not_actions is not None:
            return ("* except " + ", ".join(self.not_actions),)
        return self.actions


@dataclass(frozen=True)
class Access:
    """Who outside the owner account a resource or trust policy lets in."""

    public_actions: frozenset[str]  # allowed to anyone with no restricting condition (NotAction: "* except ...")
    cross_account: Mapping[str, frozenset[str]]  # other account id -> actions allowed to it
    services: frozenset[str]  # service principals, e.g. "lambda.amazonaws.com"
    unconditioned_root_accounts: frozenset[str]  # other accounts trusted as a whole, with no Condition at all
    federated: frozenset[str] = frozenset()  # federated principals (identity providers)
    # service principals granted with no condition restricting on whose behalf (aws:SourceAccount, aws:SourceArn):
    # any customer's resource of that service can then use the grant (Security Hub's Lambda.1 calls this public)
    unrestricted_services: frozenset[str] = frozenset()

    def is_public(self) -> bool:
        return bool(self.public_actions)


class Policy:
    """A parsed policy document."""

    def __init__(self, statements: Iterable[Statement] = (), version: str = "") -> None:
        self.statements: tuple[Statement, ...] = tuple(statements)
        self.version = version

    def __repr__(self) -> str:
        return f"Policy({len(self.statements)} statements)"

    @property
    def allow_statements(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.is_allow)

    @property
    def unconditional_denies(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.is_deny and not s.has_conditions)

    # -- identity policies -------------------------------------------------------------------------------------
    def allowing_statements(self, action: str, resource: str = "*") -> tuple[Statement, ...]:
        """The Allow statements that cover every action and resource named (whatever their conditions)."""
        return tuple(s for s in self.allow_statements if s.covers_action(action) and s.covers_resource(resource))

    def denied(self, action: str, resource: str = "*") -> bool:
        """An unconditional Deny touches some of the actions and resources named."""
        return any(s.touches_action(action) and s.touches_resource(resource) for s in self.unconditional_denies)

    def allows(self, action: str, resource: str = "*") -> bool:
        """Some Allow covers `action` on `resource` and no unconditional Deny touches them (wildcards allowed)."""
        return bool(self.allowing_statements(action, resource)) and not self.denied(action, resource)

    def grants_full_admin(self) -> bool:
        """Allow of "*" (or "*:*") on "*" — a NotAction never covers "*" — not cancelled by a Deny."""
        return self.allows("*", "*")

    def full_admin_statements(self) -> tuple[Statement, ...]:
        """The statements that grant full admin (empty when a Deny cancels it)."""
        return self.allowing_statements("*", "*") if self.grants_full_admin() else ()

    def admin_services(self) -> frozenset[str]:
        """Services S (lower case) named in an Allow whose "S:*" is allowed on "*"; "*" too when full admin."""
        candidates = {
            a.split(":", 1)[0].strip().lower()
            for s in self.allow_statements
            for a in s.actions
            if ":" in a and not any(c in a.split(":", 1)[0] for c in "*?")
        }
        found = {service for service in candidates if self.allows(f"{service}:*", "*")}
        if self.grants_full_admin():
            found.add(ANYONE)
        return frozenset(found)

    def allows_on_all_resources(self, action: str) -> bool:
        """`action` (e.g. "kms:Decrypt", "iam:PassRole") is allowed with Resource "*"."""
        return self.allows(action, "*")

    # -- resource and trust policies ---------------------------------------------------------------------------
    def access(self, owner_account: str) -> Access:
        """Who outside `owner_account` the Allow statements let in, less what unconditional Denies take back."""
        public: set[str] = set()
        cross: dict[str, set[str]] = {}
        services: set[str] = set()
        unrestricted_services: set[str] = set()
        federated: set[str] = set()
        roots: set[str] = set()
        for statement in self.allow_statements:
            principals = statement.principals
            if principals is None:
                if statement.not_principals is None:
                    continue  # an identity statement: nobody in particular
                principals = frozenset({Principal("AWS", ANYONE)})  # NotPrincipal in an Allow: everyone else
            for principal in principals:
                kept = tuple(a for a in statement.granted_actions if not self._denied_to(principal, a, statement))
                if not kept:
                    continue
                if principal.kind == "Service":
                    services.add(principal.value)
                    if not statement.restricts_principals:
                        unrestricted_services.add(principal.value)
                elif principal.kind == "Federated":
                    federated.add(principal.value)
                elif principal.is_anyone:
                    if not statement.restricts_principals:
                        public.update(a for a in kept if not self._reserved(a, statement))
                elif principal.kind == "AWS":
                    account = principal.account
                    if account is None or account == owner_account:
                        continue
                    cross.setdefault(account, set()).update(kept)
                    if principal.is_account_root and not statement.has_conditions:
                        roots.add(account)
        return Access(
            public_actions=frozenset(public),
            cross_account=MappingProxyType({k: frozenset(v) for k, v in cross.items()}),
            services=frozenset(services),
            unconditioned_root_accounts=frozenset(roots),
            federated=frozenset(federated),
            unrestricted_services=frozenset(unrestricted_services),
        )

    def _reserved(self, action: str, allowed_by: Statement) -> bool:
        """A Deny to everyone "unless from this VPC endpoint / organization / account" covers the action on
        everything the Allow granted: only those it names keep access."""
        denied_action = "*" if action.startswith("* except ") else action
        granted = _granted_resources(allowed_by)
        anyone = Principal("AWS", ANYONE)
        return any(
            deny.denies_all_but_someone
            and deny.principals is not None
            and deny.covers_principal(anyone)
            and deny.covers_action(denied_action)
            and all(deny.covers_resource(r) for r in granted)
            for deny in self.statements
        )

    def _denied_to(self, principal: Principal, action: str, allowed_by: Statement) -> bool:
        """An unconditional Deny for this principal covers the action on everything the Allow granted."""
        denied_action = "*" if action.startswith("* except ") else action
        granted = _granted_resources(allowed_by)
        return any(
            deny.principals is not None
            and deny.covers_principal(principal)
            and deny.covers_action(denied_action)
            and all(deny.covers_resource(r) for r in granted)
            for deny in self.unconditional_denies
        )


def _granted_resources(statement: Statement) -> tuple[str, ...]:
    if statement.resources is not None and statement.not_resources is None:
        return statement.resources
    return ("*",)


# -- parsing -------------------------------------------------------------------------------------------------------
def parse_policy(document: str | Mapping[str, Any] | None) -> Policy:
    """A `Policy` from a dict, a JSON string or IAM's URL-encoded JSON string; None or "" is an empty policy.

    Raises `PolicyError` (a ValueError) when a string is not a JSON object.
    """
    if document is None:
        return Policy()
    if isinstance(document, (bytes, bytearray)):
        document = document.decode("utf-8")
    if isinstance(document, str):
        document = _load_json(document)
    if not isinstance(document, Mapping):
        raise PolicyError(f"a policy document must be a JSON object, not {type(document).__name__}")
    raw = document.get("Statement", [])
    raw_statements = [raw] if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    return Policy(
        (_statement(s, i) for i, s in enumerate(raw_statements) if isinstance(s, Mapping)),
        version=str(document.get("Version", "")),
    )


def _load_json(text: str) -> Any:
    text = text.strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return json.loads(unquote(text))
    except json.JSONDecodeError as exc:
        raise PolicyError(f"the policy document is not JSON: {exc}") from None


def _statement(raw: Mapping[str, Any], index: int) -> Statement:
    effect = str(raw.get("Effect", "")).strip()
    if effect.lower() in ("allow", "deny"):
        effect = effect.capitalize()
    return Statement(
        sid=str(raw.get("Sid", "") or f"#{index}"),
        effect=effect,
        actions=_strings(raw.get("Action")),
        not_actions=_strings(raw["NotAction"]) if "NotAction" in raw else None,
        resources=_strings(raw["Resource"]) if "Resource" in raw else None,
        not_resources=_strings(raw["NotResource"]) if "NotResource" in raw else None,
        principals=_principals(raw["Principal"]) if "Principal" in raw else None,
        conditions=_conditions(raw.get("Condition")),
        not_principals=_principals(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
    )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value.strip(),)
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if isinstance(v, (str, int)) and not isinstance(v, bool))
    return ()


def _principals(value: Any) -> frozenset[Principal]:
    if isinstance(value, str):
        return frozenset({Principal("AWS", value.strip())}) if value.strip() == ANYONE else frozenset()
    if not isinstance(value, Mapping):
        return frozenset()
    return frozenset(Principal(str(kind), v) for kind, values in value.items() for v in _strings(values))


def _conditions(value: Any) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    if not isinstance(value, Mapping):
        return MappingProxyType({})
    parsed: dict[str, Mapping[str, tuple[str, ...]]] = {}
    for operator, keys in value.items():
        if isinstance(keys, Mapping):
            parsed[str(operator)] = MappingProxyType(
                {str(k): _condition_values(v) for k, v in keys.items()}
            )
    return MappingProxyType(parsed)


def _condition_values(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in values if v is not None)


def _base_operator(operator: str) -> str:
    base = operator.split(":", 1)[-1].lower()
    return base[: -len("ifexists")] if base.endswith("ifexists") else base


def _restricting_key(key: str, values: tuple[str, ...]) -> bool:
    lowered = key.lower()
    return lowered in RESTRICTING_KEYS and bool(values) and all(_restrictive_value(lowered, v) for v in values)


def _restrictive_value(key: str, value: str) -> bool:
    """A condition value that names something: not only wildcards, not an address range covering everything,
    not an ARN in any account."""
    stripped = value.strip()
    if not stripped or set(stripped) <= {"*", "?"}:
        return False
    if key in _ARN_KEYS and stripped.startswith("arn:"):
        account = _arn_account(stripped)
        return not (account and set(account) <= {"*", "?"})
    if "/" in stripped:
        try:
            return ipaddress.ip_network(stripped, strict=False).prefixlen > 0
        except ValueError:
            pass
    return True


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else None


def _actions(patterns: Iterable[str]) -> Iterable[str]:
    # Every action has a colon, so "*:*" names every action, as "*" does.
    return ("*" if p.strip() == "*:*" else p for p in patterns)


# -- wildcard patterns ---------------------------------------------------------------------------------------------
def _covers(pattern: str, query: str, fold: bool = False) -> bool:
    """Every string `query` matches (it may hold `*` and `?`) is matched by `pattern`."""
    if fold:
        pattern, query = pattern.lower(), query.lower()
    return _covers_from(pattern, query, 0, 0)


@lru_cache(maxsize=65536)
def _covers_from(pattern: str, query: str, i: int, j: int) -> bool:
    # The query's `*` may only be absorbed by the pattern's `*`; its `?` by the pattern's `*` or `?`.
    while True:
        if i == len(pattern):
            return j == len(query)
        p = pattern[i]
        if p == "*":
            return _covers_from(pattern, query, i + 1, j) or (
                j < len(query) and _covers_from(pattern, query, i, j + 1)
            )
        if j == len(query):
            return False
        q = query[j]
        if q == "*" or (q == "?" and p != "?") or (p not in "?" and p != q):
            return False
        i, j = i + 1, j + 1


def _overlap(a: str, b: str, fold: bool = False) -> bool:
    """Some string is matched by both patterns."""
    if fold:
        a, b = a.lower(), b.lower()
    return _overlap_from(a, b, 0, 0)


@lru_cache(maxsize=65536)
def _overlap_from(a: str, b: str, i: int, j: int) -> bool:
    if i == len(a) and j == len(b):
        return True
    if i < len(a) and a[i] == "*":
        if _overlap_from(a, b, i + 1, j) or (j < len(b) and _overlap_from(a, b, i, j + 1)):
            return True
        return False
    if j < len(b) and b[j] == "*":
        return _overlap_from(a, b, i, j + 1) or (i < len(a) and _overlap_from(a, b, i + 1, j))
    if i == len(a) or j == len(b):
        return False
    if a[i] == "?" or b[j] == "?" or a[i] == b[j]:
        return _overlap_from(a, b, i + 1, j + 1)
    return False
