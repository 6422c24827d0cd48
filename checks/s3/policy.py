"""Reading bucket policies, on top of the shared policy analyser (`auditor.policy`).

- Does a statement deny every request made over plain HTTP? A statement enforces TLS when it denies, to everyone,
  every S3 action on every object of the bucket, under the sole condition that `aws:SecureTransport` is false. A
  statement with further conditions (a VPC endpoint, a principal tag, ...) denies HTTP only sometimes, so it does
  not count.
- Which of the actions a policy grants matter for a question (public read, public write, administration).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from auditor.policy import Policy, Statement

SECURE_TRANSPORT_KEY = "aws:securetransport"
BOOL_OPERATORS = frozenset({"bool", "boolifexists"})


def _only_insecure_transport_condition(statement: Statement) -> bool:
    """The condition holds exactly when the request is not over TLS (and for nothing else)."""
    if len(statement.conditions) != 1:
        return False
    [(operator, tests)] = statement.conditions.items()
    if operator.lower() not in BOOL_OPERATORS or len(tests) != 1:
        return False
    [(key, values)] = tests.items()
    return key.lower() == SECURE_TRANSPORT_KEY and bool(values) and all(v.lower() == "false" for v in values)


def _denies_http(statement: Statement) -> bool:
    return (
        statement.is_deny
        and statement.principals is not None
        and any(p.is_anyone for p in statement.principals)
        and _only_insecure_transport_condition(statement)
    )


@dataclass(frozen=True)
class TransportVerdict:
    enforced: bool
    statement: str = ""  # the Sid (or position) of the statement that enforces TLS
    partial: tuple[dict[str, Any], ...] = ()  # HTTP denials that miss some actions or objects


def evaluate_transport(policy: Policy, bucket_arn: str) -> TransportVerdict:
    """Whether the policy denies every S3 action on every object of the bucket over plain HTTP."""
    partial = []
    for statement in policy.statements:
        if not _denies_http(statement):
            continue
        if statement.covers_action("s3:*") and statement.covers_resource(f"{bucket_arn}/*"):
            return TransportVerdict(enforced=True, statement=statement.sid)
        partial.append({"statement": statement.sid,
                        "actions": [a.lower() for a in statement.actions],
                        "resources": list(statement.resources or ())})
    return TransportVerdict(enforced=False, partial=tuple(partial))


# -- which granted actions matter ---------------------------------------------------------------------------------
NOT_ACTION_PREFIX = "* except "  # how the policy analyser writes a NotAction grant: "* except a, b"


def _glob(pattern: str) -> re.Pattern[str]:
    """An IAM action pattern (`*` and `?` wildcards, case-insensitive) as a regular expression."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


def grants_action(granted: str, action: str) -> bool:
    """Whether a granted action element (as the policy analyser reports it) allows `action`."""
    granted = granted.strip()
    if granted.startswith(NOT_ACTION_PREFIX):
        excepted = [p.strip() for p in granted[len(NOT_ACTION_PREFIX):].split(",")]
        return not any(_glob(p).fullmatch(action) for p in excepted if p)
    return bool(_glob(granted).fullmatch(action))


def matching_grants(granted: Iterable[str], actions: Iterable[str]) -> list[str]:
    """The granted action elements that allow at least one of `actions`, sorted."""
    wanted = [str(a) for a in actions]
    return sorted({g for g in granted if any(grants_action(g, a) for a in wanted)})
