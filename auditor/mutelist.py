"""The mutelist: accepted findings, each with a reason, an owner and an optional expiry date.

    rules:
      - check: "s3_bucket_versioning_enabled"   # id glob (required)
        account: "123456789012"                 # glob (optional)
        region: "eu-*"                          # glob (optional)
        resource: "arn:aws:s3:::legacy-*"       # ARN or id glob, or "regex:<pattern>" (optional)
        tags: {Environment: dev}                # every tag must match, values are globs (optional)
        status: FAIL                            # FAIL or ERROR; without it, both (optional)
        reason: "Legacy uploads, deleted in Q1" # required
        owner: "platform-team"                  # required
        expires: 2027-01-31                     # optional; from that day on the rule no longer mutes

A muted finding stays in every report, marked muted with the rule's reason; it just no longer counts towards
the summary or the exit code. PASS findings are never muted. A rule with `status: FAIL` never mutes an ERROR:
an accepted finding that could not even be checked stays a finding the reader must see. Expired rules are
reported, not applied.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .errors import ConfigError
from .models import Finding, Status

KEYS = {"check", "account", "region", "resource", "tags", "reason", "owner", "expires", "status"}
STATUSES = ("FAIL", "ERROR")


@dataclass(frozen=True)
class MuteRule:
    check: str
    reason: str
    owner: str
    account: str = "*"
    region: str = "*"
    resource: str = "*"
    tags: Mapping[str, str] = field(default_factory=dict)
    expires: date | None = None
    status: str = "*"
    line: int = 0

    def expired(self, today: date) -> bool:
        return self.expires is not None and today >= self.expires

    def matches(self, finding: Finding) -> bool:
        if not fnmatch.fnmatchcase(finding.check_id, self.check):
            return False
        if self.status != "*" and finding.status.value != self.status:
            return False
        if not fnmatch.fnmatchcase(finding.account, self.account):
            return False
        if not fnmatch.fnmatchcase(finding.region, self.region):
            return False
        if not self._resource_matches(finding):
            return False
        tags = finding.resource.tags
        return all(key in tags and fnmatch.fnmatchcase(tags[key], value) for key, value in self.tags.items())

    def _resource_matches(self, finding: Finding) -> bool:
        candidates = [finding.resource.arn, finding.resource.id]
        if self.resource.startswith("regex:"):
            pattern = re.compile(self.resource[len("regex:"):])
            return any(c and pattern.fullmatch(c) for c in candidates)
        return any(c and fnmatch.fnmatchcase(c, self.resource) for c in candidates)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "account": self.account, "region": self.region, "resource": self.resource,
                "tags": dict(self.tags), "reason": self.reason, "owner": self.owner,
                "expires": self.expires.isoformat() if self.expires else None,
                **({"status": self.status} if self.status != "*" else {})}


@dataclass(frozen=True)
class Mutelist:
    rules: tuple[MuteRule, ...]
    source: str = ""

    @classmethod
    def load(cls, path: str | Path) -> "Mutelist":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read mutelist {path}: {exc.strerror}") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str = "mutelist") -> "Mutelist":
        try:
            root = yaml.compose(text)  # nodes keep their line numbers for error messages
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{source}{where}: not valid YAML or JSON") from None
        if root is None:
            return cls((), source)
        data = yaml.safe_load(text)
        if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
            raise ConfigError(f"{source} line {root.start_mark.line + 1}: expected a mapping with a 'rules' list")
        rules_node = next(v for k, v in root.value if k.value == "rules")
        rules = tuple(
            _rule(item, node.start_mark.line + 1, source) for item, node in zip(data["rules"], rules_node.value,
                                                                              strict=True)
        )
        return cls(rules, source)

    def apply(self, findings: Iterable[Finding], today: date) -> tuple[Finding, ...]:
        active = [r for r in self.rules if not r.expired(today)]
        out = []
        for finding in findings:
            if finding.status is not Status.PASS and not finding.muted:
                rule = next((r for r in active if r.matches(finding)), None)
                if rule is not None:
                    finding = replace(finding, muted=True, mute_reason=f"{rule.reason} (owner: {rule.owner})")
            out.append(finding)
        return tuple(out)

    def expired_rules(self, today: date) -> list[MuteRule]:
        return [r for r in self.rules if r.expired(today)]


def _rule(item: Any, line: int, source: str) -> MuteRule:
    where = f"{source} line {line}"
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: a rule must be a mapping")
    unknown = sorted(set(item) - KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(sorted(KEYS))})")
    for required in ("check", "reason", "owner"):
        if not isinstance(item.get(required), str) or not item[required].strip():
            raise ConfigError(f"{where}: the rule needs a non-empty '{required}'")
    for key in ("account", "region", "resource"):
        if key in item and not isinstance(item[key], (str, int)):
            raise ConfigError(f"{where}: '{key}' must be a string")
    tags = item.get("tags", {})
    if not isinstance(tags, Mapping) or not all(isinstance(v, (str, int)) for v in tags.values()):
        raise ConfigError(f"{where}: 'tags' must map tag keys to values")
    expires = item.get("expires")
    if isinstance(expires, datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            raise ConfigError(f"{where}: 'expires' must be a date (YYYY-MM-DD)") from None
    elif expires is not None and not isinstance(expires, date):
        raise ConfigError(f"{where}: 'expires' must be a date (YYYY-MM-DD)")
    status = str(item.get("status", "*")).upper()
    if status not in (*STATUSES, "*"):
        raise ConfigError(f"{where}: 'status' must be one of {', '.join(STATUSES)}")
    resource = str(item.get("resource", "*"))
    if resource.startswith("regex:"):
        try:
            re.compile(resource[len("regex:"):])
        except re.error as exc:
            raise ConfigError(f"{where}: bad regular expression in 'resource': {exc}") from None
    return MuteRule(
        check=item["check"], reason=item["reason"].strip(), owner=item["owner"].strip(),
        account=str(item.get("account", "*")), region=str(item.get("region", "*")), resource=resource,
        tags={str(k): str(v) for k, v in tags.items()}, expires=expires, status=status, line=line,
    )
