"""Run configuration (`AuditConfig`) and check parameters (`Parameters`).

Check parameters have documented defaults in `defaults.yaml` shipped with the package. A user file given with
`--config` overrides keys; every key it names must exist in the defaults and have the same type.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError
from .models import Category, Severity

# Requests in flight at once. Chosen on the benchmark's sweep (bench/results/latest.json, "worker_sweep": the same
# 1,000-resource account at 50 ms): 16 is the largest count at which the audit stays within 1.5x of its lower bound
# `requests x latency / workers`, i.e. the workers still spend their time waiting on AWS. Past it the audit is bound
# by its own CPU (botocore's per-request work runs under one GIL): 32 workers are ~1.4x faster for twice the
# concurrent load on the account's API quotas, which its production workloads share, and IAM and S3 publish no
# read rate to pace to (the benchmark shows what throttling costs under adaptive retries). Accounts far from the
# auditor (higher latency) gain more from --workers 32.
DEFAULT_WORKERS = 16


def _load_defaults() -> dict[str, Any]:
    text = resources.files("auditor").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        inner = {_type_name(v) for v in value}
        return f"list of {inner.pop()}" if len(inner) == 1 else "list"
    return type(value).__name__


def _conforms(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, list):
        if not isinstance(value, list):
            return False
        if not default:
            return True
        return all(_conforms(item, default[0]) for item in value)
    return isinstance(value, type(default))


@dataclass(frozen=True)
class Parameters:
    """Check parameters by dotted key (`iam.access_key_max_age_days`)."""

    values: Mapping[str, Any]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Parameters":
        defaults = _flatten(_load_defaults())
        if path is None:
            return cls(defaults)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            tree = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            problem = f": {exc.problem}" if getattr(exc, "problem", None) else ""
            raise ConfigError(f"config file {path} is not valid YAML{where}{problem}") from None
        if not isinstance(tree, Mapping):
            raise ConfigError(f"config file {path} must be a mapping of sections to settings")
        merged = dict(defaults)
        for key, value in _flatten(tree).items():
            if key not in defaults:
                sections = {k.split(".")[0] for k in defaults}
                hint = "" if key.split(".")[0] in sections else f" (sections: {', '.join(sorted(sections))})"
                raise ConfigError(f"config file {path}: unknown key '{key}'{hint}")
            if not _conforms(value, defaults[key]):
                raise ConfigError(
                    f"config file {path}: '{key}' expects {_type_name(defaults[key])}, "
                    f"got {_type_name(value)} ({value!r})"
                )
            merged[key] = value
        return cls(merged)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __contains__(self, key: object) -> bool:
        return key in self.values


@dataclass(frozen=True)
class Selection:
    """Which checks to run."""

    services: tuple[str, ...] = ()
    include: tuple[str, ...] = ()  # id globs
    exclude: tuple[str, ...] = ()  # id globs
    min_severity: Severity | None = None
    categories: tuple[Category, ...] = ()

    def matches(self, check: Any) -> bool:
        if self.services and check.service not in self.services:
            return False
        if self.include and not any(fnmatch.fnmatchcase(check.id, p) for p in self.include):
            return False
        if any(fnmatch.fnmatchcase(check.id, p) for p in self.exclude):
            return False
        if self.min_severity and check.severity.rank < self.min_severity.rank:
            return False
        if self.categories and check.category not in self.categories:
            return False
        return True


@dataclass(frozen=True)
class AuditConfig:
    """Everything one audit needs to know; built by the CLI or the Lambda handler, never mutated."""

    profile: str | None = None
    regions: tuple[str, ...] = ()  # empty: every region enabled for the account
    role_arn: str | None = None
    external_id: str | None = None
    selection: Selection = field(default_factory=Selection)
    parameters: Parameters = field(default_factory=Parameters.load)
    mutelist: Any = None  # auditor.mutelist.Mutelist: accepted findings, applied after the checks ran
    organization: Any = None  # auditor.organization.OrgOptions: audit member accounts through a role
    workers: int = DEFAULT_WORKERS
    max_attempts: int = 10
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if self.max_attempts < 1:
            raise ConfigError("retry attempts must be at least 1")
