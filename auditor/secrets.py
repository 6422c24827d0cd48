"""Finding secrets in configuration (environment variables, user data) without ever repeating them.

A detected secret is reported as `SecretHit`: the key it sits under, what kind it looks like, and a short
fingerprint (a salted, slow hash, truncated) so two reports can tell "the same secret" apart from "a new one".
The value itself never leaves this module. `redact_evidence` is applied to every finding's evidence as a
second line of defence against a check that puts a raw value there by mistake.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

# AWS's own documentation examples: not secrets.
DOCUMENTATION_EXAMPLES = frozenset(
    {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAI44QH8DHBEXAMPLE",
     "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}
)

ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
SECRET_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
CONNECTION_STRING = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@[^\s/]+", re.IGNORECASE)
TOKEN_FORMATS = {
    "github_token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "slack_token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    "stripe_key": re.compile(r"\b[sr]k_live_[A-Za-z0-9]{20,}\b"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "slack_webhook": re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
}
# Values that point at a secret rather than contain one.
REFERENCE = re.compile(r"^(arn:|\{\{resolve:|\$\{|ssm:|secretsmanager:|/)", re.IGNORECASE)
ASSIGNMENT = re.compile(r"""(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*[:=]\s*["']?(?P<value>[^\s"';&]+)""")
# Key names that hold the *name* or location of a secret, not the secret (SECRET_ARN, TOKEN_URL, PASSWORD_FILE).
REFERENCE_KEY = re.compile(
    r"(_|-|\.)(NAME|ARN|ID|PATH|FILE|URL|URI|ENDPOINT|REGION|TTL|LENGTH|HEADER|MODE|TYPE|EXPIRY|TIMEOUT|POLICY)$",
    re.IGNORECASE,
)
PLAIN_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^@\s]*$", re.IGNORECASE)

REDACTED = "***redacted***"


@dataclass(frozen=True)
class SecretHit:
    key: str
    kind: str
    fingerprint: str

    def to_evidence(self) -> dict[str, str]:
        return {"key": self.key, "kind": self.kind, "fingerprint": self.fingerprint, "value": REDACTED}


def fingerprint(value: str) -> str:
    """Stable, short and slow to invert: enough to compare two reports, useless for guessing the value."""
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), b"aws-audit/secret-fingerprint/v1", 20_000)
    return "sha256:" + digest[:5].hex()


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _pattern_hits(key: str, value: str) -> Iterable[tuple[str, str]]:
    """(kind, secret) pairs found in a value by pattern alone."""
    for match in ACCESS_KEY_ID.finditer(value):
        if match.group(0) not in DOCUMENTATION_EXAMPLES:
            yield "aws_access_key_id", match.group(0)
    if PRIVATE_KEY.search(value):
        yield "private_key", value
    for match in CONNECTION_STRING.finditer(value):
        password = match.group(1)
        if not REFERENCE.match(password) and password not in ("${password}", "password"):
            yield "connection_string_password", password
    for kind, pattern in TOKEN_FORMATS.items():
        for match in pattern.finditer(value):
            yield kind, match.group(0)
    if "secret" in key.lower() or "aws_secret" in value.lower():
        for match in SECRET_ACCESS_KEY.finditer(value):
            candidate = match.group(0)
            if candidate not in DOCUMENTATION_EXAMPLES and entropy(candidate) >= 4.0:
                yield "aws_secret_access_key", candidate


def _looks_secret_by_name(key: str, value: str, markers: Iterable[str], min_entropy: float, min_length: int) -> bool:
    lowered = key.lower()
    if not any(marker in lowered for marker in markers) or REFERENCE_KEY.search(key):
        return False
    if len(value) < min_length or REFERENCE.match(value) or PLAIN_URL.match(value):
        return False
    if value in DOCUMENTATION_EXAMPLES:
        return False
    return entropy(value) >= min_entropy


def find_secrets(
    variables: Mapping[str, str],
    *,
    markers: Iterable[str],
    min_entropy: float,
    min_length: int,
) -> list[SecretHit]:
    """Secrets among key -> value pairs (environment variables, container environment)."""
    markers = tuple(m.lower() for m in markers)
    hits: dict[tuple[str, str], SecretHit] = {}
    for key, value in variables.items():
        value = "" if value is None else str(value)
        for kind, secret in _pattern_hits(key, value):
            hits.setdefault((key, fingerprint(secret)), SecretHit(key, kind, fingerprint(secret)))
        if not any(k == key for k, _ in hits) and _looks_secret_by_name(key, value, markers, min_entropy, min_length):
            hits[(key, fingerprint(value))] = SecretHit(key, "named_secret", fingerprint(value))
        # Assignments inside a value: JAVA_OPTS="-Ddb.password=... -Xmx1g".
        for match in ASSIGNMENT.finditer(value):
            inner, secret = match.group("key"), match.group("value")
            if inner != key and _looks_secret_by_name(inner, secret, markers, min_entropy, min_length):
                hits.setdefault((key, fingerprint(secret)), SecretHit(f"{key}: {inner}", "named_secret",
                                                                      fingerprint(secret)))
    return sorted(hits.values(), key=lambda h: (h.key, h.kind))


def find_secrets_in_text(text: str, **options: Any) -> list[SecretHit]:
    """Secrets in free text (EC2 user data, scripts): `KEY=value` assignments plus patterns anywhere."""
    pairs = {f"line {n}": line for n, line in enumerate(text.splitlines(), 1)}
    hits = {(h.kind, h.fingerprint): h for h in find_secrets(pairs, **{**options, "markers": ()})}
    for n, line in enumerate(text.splitlines(), 1):
        for match in ASSIGNMENT.finditer(line):
            key, value = match.group("key"), match.group("value")
            if _looks_secret_by_name(key, value, options["markers"], options["min_entropy"], options["min_length"]):
                hit = SecretHit(f"line {n}: {key}", "named_secret", fingerprint(value))
                hits.setdefault((hit.kind, hit.fingerprint), hit)
    return sorted(hits.values(), key=lambda h: (h.key, h.kind))


def redact_text(text: str) -> str:
    """Mask anything in a string that matches a secret pattern."""
    text = ACCESS_KEY_ID.sub(lambda m: m.group(0) if m.group(0) in DOCUMENTATION_EXAMPLES else REDACTED, text)
    text = CONNECTION_STRING.sub(lambda m: m.group(0).replace(m.group(1), REDACTED), text)
    if PRIVATE_KEY.search(text):
        return REDACTED
    for pattern in TOKEN_FORMATS.values():
        text = pattern.sub(REDACTED, text)
    return text


_SECRET_KEY_NAMES = re.compile(r"password|passwd|secret|token|private_?key|credential", re.IGNORECASE)
_SAFE_KEY_NAMES = frozenset({"key", "kind", "fingerprint", "secrets", "iam_action", "error_code", "api"})


def redact_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `evidence` in which nothing that looks like a secret value survives."""

    def walk(key: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(str(k), v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(key, v) for v in value]
        if isinstance(value, str):
            if value != REDACTED and key not in _SAFE_KEY_NAMES and _SECRET_KEY_NAMES.search(key) and value:
                return REDACTED
            return redact_text(value)
        return value

    return {k: walk(str(k), v) for k, v in evidence.items()}
