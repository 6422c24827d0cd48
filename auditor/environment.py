"""Which environment a resource belongs to, and why we think so.

The seed guide sizes production and everything else differently (a NAT gateway per Availability Zone, Multi-AZ
databases, two tasks at least in production; one NAT gateway elsewhere), so several checks need to know. The answer
comes from the resource's environment tag (parameter `tags.environment_key`, default `Environment`): production when
its value is one of `tags.production_values` (case-insensitive). A resource without that tag takes the account-level
environment (`tags.account_environment`, set by `aws-audit run --environment prod`). Without either, the
environment is unknown, and each check decides which side is safer and says so in its message.

    env = environment_of(ctx, resource.tags)
    env.production          # True / False
    env.known               # False when neither the tag nor --environment says
    env.reason              # "tag Environment=prod", "account default --environment prod", ...
    env.evidence()          # {"environment": "production", "environment_basis": "tag Environment=prod"}

A check that calls `environment_of` declares `ENVIRONMENT_PARAMETERS` among its `parameters`.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:
    from .check import CheckContext

ENVIRONMENT_PARAMETERS = ("tags.environment_key", "tags.production_values", "tags.account_environment")


class EnvironmentKind(str, Enum):
    PRODUCTION = "production"
    NON_PRODUCTION = "non-production"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Environment:
    kind: EnvironmentKind
    value: str  # the tag value or the account default; "" when unknown
    reason: str  # why: "tag Environment=prod", "account default --environment prod", ...

    @property
    def production(self) -> bool:
        return self.kind is EnvironmentKind.PRODUCTION

    @property
    def known(self) -> bool:
        return self.kind is not EnvironmentKind.UNKNOWN

    @property
    def name(self) -> str:
        return self.kind.value

    def describe(self) -> str:
        """For messages: 'production (tag Environment=prod)'."""
        return f"{self.name} ({self.reason})"

    def evidence(self) -> dict[str, Any]:
        return {"environment": self.name, "environment_basis": self.reason}


def _as_mapping(tags: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(k): str(v) for k, v in tags}


def classify(tags: Mapping[str, str] | Iterable[tuple[str, str]] | None, *, environment_key: str,
             production_values: Iterable[str], account_environment: str) -> Environment:
    """The environment the tags (or, without the tag, the account default) name; see the module docstring."""
    production = {str(v).strip().lower() for v in production_values}
    tag_map = _as_mapping(tags)
    # The exact key first; tags written by hand are often "environment" or "ENVIRONMENT".
    key = environment_key if environment_key in tag_map else next(
        (k for k in tag_map if k.lower() == environment_key.lower()), None)
    if key is not None and tag_map[key].strip():
        value = tag_map[key].strip()
        kind = EnvironmentKind.PRODUCTION if value.lower() in production else EnvironmentKind.NON_PRODUCTION
        return Environment(kind, value, f"tag {key}={value}")
    account = account_environment.strip()
    if account:
        kind = EnvironmentKind.PRODUCTION if account.lower() in production else EnvironmentKind.NON_PRODUCTION
        return Environment(kind, account, f"no {environment_key} tag; account default --environment {account}")
    return Environment(EnvironmentKind.UNKNOWN, "", f"no {environment_key} tag and no --environment")


def environment_of(ctx: "CheckContext", tags: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Environment:
    """The environment of a resource with these tags, from the run's parameters."""
    return classify(
        tags,
        environment_key=str(ctx.param("tags.environment_key")),
        production_values=[str(v) for v in ctx.param("tags.production_values") or ()],
        account_environment=str(ctx.param("tags.account_environment") or ""),
    )
