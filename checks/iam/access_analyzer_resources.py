"""IAM Access Analyzer analyzers of a region, as the checks need them."""
from __future__ import annotations

from dataclasses import dataclass

from auditor import CheckContext, collector

# Analyzer types that look for access from outside the zone of trust (the account or the organization);
# the other types analyze unused or internal access.
EXTERNAL_ACCESS_TYPES = frozenset({"ACCOUNT", "ORGANIZATION"})


@dataclass(frozen=True)
class Analyzer:
    name: str
    arn: str
    type: str  # ACCOUNT, ORGANIZATION, ACCOUNT_UNUSED_ACCESS, ...
    status: str  # ACTIVE, CREATING, DISABLED, FAILED
    status_reason: str = ""

    @property
    def external_access(self) -> bool:
        return self.type in EXTERNAL_ACCESS_TYPES

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    def evidence(self) -> dict[str, str]:
        facts = {"name": self.name, "type": self.type, "status": self.status}
        if self.status_reason:
            facts["status_reason"] = self.status_reason
        return facts


@collector
def analyzers(ctx: CheckContext) -> list[Analyzer]:
    """Every analyzer in the region, of any type."""
    response = ctx.call("accessanalyzer", "ListAnalyzers") or {}
    return [
        Analyzer(
            name=str(item.get("name", "")),
            arn=str(item.get("arn", "")),
            type=str(item.get("type", "")),
            status=str(item.get("status", "")),
            status_reason=str((item.get("statusReason") or {}).get("code", "")),
        )
        for item in response.get("analyzers") or []
    ]
