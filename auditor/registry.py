"""Discovery of checks and reporters through Python entry points.

Built-in checks are registered exactly like third-party ones: an entry point in the `aws_audit.checks` group
names a package (its modules named `checks` or `*_checks` are loaded), a module (every `Check` subclass defined
in it), or a single `Check` class. Finding the entry
points and importing them are separate steps, so `list-checks` can say which plugin failed to import.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Iterable

from .check import Check
from .config import Selection
from .errors import ConfigError, PluginError

CHECKS_GROUP = "aws_audit.checks"
REPORTERS_GROUP = "aws_audit.reporters"


def find(group: str) -> list[EntryPoint]:
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def _load(ep: EntryPoint) -> Any:
    try:
        loaded = ep.load()
        return _checks_in(loaded) if ep.group == CHECKS_GROUP else loaded
    except PluginError:
        raise
    except Exception as exc:  # a broken plugin is named, not hidden
        raise PluginError(f"plugin '{ep.name}' ({ep.value}) in {ep.group} failed to load: {exc}") from None


def _check_modules(package: ModuleType) -> list[ModuleType]:
    """A package's modules named `checks` or `*_checks` (a service's checks split by resource)."""
    names = sorted(
        info.name for info in pkgutil.iter_modules(package.__path__)
        if info.name == "checks" or info.name.endswith("_checks")
    )
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def _checks_in(obj: Any) -> list[type[Check]]:
    if inspect.isclass(obj) and issubclass(obj, Check) and "id" in obj.__dict__:
        return [obj]
    if isinstance(obj, ModuleType) and hasattr(obj, "__path__"):
        return [check for module in _check_modules(obj) for check in _checks_in(module)]
    if isinstance(obj, ModuleType):
        return [
            member
            for _, member in inspect.getmembers(obj, inspect.isclass)
            if issubclass(member, Check) and "id" in member.__dict__ and member.__module__ == obj.__name__
        ]
    raise PluginError(f"{obj!r} is neither a Check class nor a module of checks")


def load_checks(entry_points_: Iterable[EntryPoint] | None = None) -> dict[str, type[Check]]:
    checks: dict[str, type[Check]] = {}
    for ep in entry_points_ if entry_points_ is not None else find(CHECKS_GROUP):
        for check in _load(ep):
            other = checks.get(check.id)
            if other is not None and other is not check:
                raise PluginError(
                    f"check id '{check.id}' is defined twice: {other.__module__} and {check.__module__}"
                )
            checks[check.id] = check
    return dict(sorted(checks.items()))


def select_checks(selection: Selection, available: dict[str, type[Check]] | None = None) -> list[type[Check]]:
    """The checks a selection names; an include pattern or service that matches nothing is a usage error."""
    available = load_checks() if available is None else available
    services = {c.service for c in available.values()}
    unknown_services = [s for s in selection.services if s not in services]
    if unknown_services:
        raise ConfigError(
            f"unknown service {', '.join(unknown_services)} (known: {', '.join(sorted(services))})"
        )
    import fnmatch

    for pattern in selection.include + selection.exclude:
        if not any(fnmatch.fnmatchcase(cid, pattern) for cid in available):
            raise ConfigError(f"no check matches '{pattern}' (see 'aws-audit list-checks')")
    chosen = [c for c in available.values() if selection.matches(c)]
    if not chosen:
        raise ConfigError("the selection matches no check")
    return chosen


def load_reporters() -> dict[str, Any]:
    return {ep.name: _load(ep) for ep in find(REPORTERS_GROUP)}
