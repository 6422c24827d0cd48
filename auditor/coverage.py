"""Which controls of a framework the registered checks implement: computed from the checks' declarations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .catalogue import catalogue
from .check import Check
from .errors import ConfigError


@dataclass(frozen=True)
class ControlCoverage:
    id: str
    title: str
    service: str  # the AWS service (FSBP, Security Hub) or the CIS section ("1", "3", ...)
    assessment: str  # CIS: Automated / Manual; Security Hub: the control's severity
    checks: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return bool(self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "service": self.service, "assessment": self.assessment,
                "checks": list(self.checks), "covered": self.covered}


def _sort_key(control_id: str) -> tuple[Any, ...]:
    head, _, tail = control_id.partition(".")
    parts = [head] + tail.split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def coverage(framework: str, checks: Iterable[type[Check]]) -> list[ControlCoverage]:
    frameworks = catalogue()
    if framework not in frameworks:
        raise ConfigError(f"unknown framework '{framework}' (known: {', '.join(sorted(frameworks))})")
    implementing: dict[str, list[str]] = {}
    for check in checks:
        for control in check.compliance:
            if control.framework == framework:
                implementing.setdefault(control.id, []).append(check.id)
    rows = []
    for control_id, entry in frameworks[framework]["controls"].items():
        cis = framework.startswith("cis-")
        rows.append(
            ControlCoverage(
                id=control_id,
                title=entry["title"],
                service=control_id.split(".")[0] if cis else entry.get("service", ""),
                assessment=entry.get("assessment", "") if cis else entry.get("severity", ""),
                checks=tuple(sorted(implementing.get(control_id, ()))),
            )
        )
    unknown = sorted(set(implementing) - {r.id for r in rows})
    if unknown:
        raise ConfigError(f"checks declare {framework} controls that are not in the catalogue: {', '.join(unknown)}")
    return sorted(rows, key=lambda r: _sort_key(r.id))
