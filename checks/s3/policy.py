"""Reading bucket policies: does a statement deny every request made over plain HTTP?

A statement enforces TLS when it denies, to everyone, every S3 action on every object of the bucket, under the sole
condition that `aws:SecureTransport` is false. A statement with further conditions (a VPC endpoint, a principal
tag, ...) denies HTTP only sometimes, so it does not count.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECURE_TRANSPORT_KEY = "aws:securetransport"
BOOL_OPERATORS = frozenset({"bool", "boolifexists"})
WILDCARDS = "*?"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def covers_everything_under(pattern: str, prefix: str) -> bool:
    """True when the IAM glob `pattern` matches every string that starts with `prefix`."""
    first = min((i for i, c in enumerate(pattern) if c in WILDCARDS), default=-1)
    if first < 0:
        return False
    head, tail = pattern[:first], pattern[first:]
    return set(tail) == {"*"} and prefix.startswith(head)


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict) and set(principal) == {"AWS"}:
        return "*" in _as_list(principal["AWS"])
    return False


def _is_false(value: Any) -> bool:
    values = _as_list(value)
    return bool(values) and all(str(v).lower() == "false" for v in values)


def _only_insecure_transport_condition(condition: Any) -> bool:
    """The condition holds exactly when the request is not over TLS (and for nothing else)."""
    if not isinstance(condition, dict) or len(condition) != 1:
        return False
    [(operator, tests)] = condition.items()
    if operator.lower() not in BOOL_OPERATORS or not isinstance(tests, dict) or len(tests) != 1:
        return False
    [(key, value)] = tests.items()
    return key.lower() == SECURE_TRANSPORT_KEY and _is_false(value)


def _denies_http(statement: dict[str, Any]) -> bool:
    return (
        str(statement.get("Effect", "")) == "Deny"
        and _is_everyone(statement.get("Principal"))
        and _only_insecure_transport_condition(statement.get("Condition"))
    )


@dataclass(frozen=True)
class TransportVerdict:
    enforced: bool
    statement: str = ""  # the Sid (or position) of the statement that enforces TLS
    partial: tuple[dict[str, Any], ...] = ()  # HTTP denials that miss some actions or objects


def evaluate_transport(statements: list[dict[str, Any]], bucket_arn: str) -> TransportVerdict:
    """Whether the statements deny every S3 action on every object of the bucket over plain HTTP."""
    partial = []
    for position, statement in enumerate(statements):
        if not _denies_http(statement):
            continue
        actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
        resources = [str(r) for r in _as_list(statement.get("Resource"))]
        all_actions = any(covers_everything_under(a, "s3:") for a in actions)
        all_objects = any(covers_everything_under(r, f"{bucket_arn}/") for r in resources)
        label = str(statement.get("Sid") or f"#{position}")
        if all_actions and all_objects:
            return TransportVerdict(enforced=True, statement=label)
        partial.append({"statement": label, "actions": actions, "resources": resources})
    return TransportVerdict(enforced=False, partial=tuple(partial))
