"""The `Check` base class and the `CheckContext` a check evaluates against.

A check is a class whose attributes are its metadata and whose docstring is its long description. Its
`evaluate(ctx)` reads typed resources from collectors (functions decorated with `@collector` that read only
through `ctx.call`) and yields findings built with `ctx.passed`, `ctx.failed` and `ctx.error`.

    class S3BucketVersioningEnabled(Check):
        \"\"\"Versioning keeps every version of every object, so a delete or overwrite can be undone.\"\"\"
        id = "s3_bucket_versioning_enabled"
        service = "s3"
        ...
        def evaluate(self, ctx):
            for bucket in buckets(ctx):
                ...
"""
from __future__ import annotations

import contextvars
import functools
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, TypeVar

from .api import ApiCache, iam_action, is_read_action
from .config import Parameters
from .errors import DataUnavailable
from .fanout import FanOut
from .models import Category, Control, Finding, Remediation, Resource, Scope, Severity, Status

ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+){2,}$")
R = TypeVar("R")


def utc_datetime(value: Any) -> datetime | None:
    """A time from an AWS answer as an aware UTC datetime: botocore's datetimes (a naive one is UTC) or an ISO 8601
    string (credential report columns, a simulator's quirks); None for anything else ("N/A", empty, absent)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def camel_case(check_id: str) -> str:
    return "".join(part.capitalize() for part in check_id.split("_"))


class Check:
    """Base class of every check. Subclasses set the metadata below and implement `evaluate`."""

    id: ClassVar[str]
    service: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[Category] = Category.SECURITY
    title: ClassVar[str]
    risk: ClassVar[str]
    remediation: ClassVar[Remediation]
    compliance: ClassVar[tuple[Control, ...]] = ()
    api_calls: ClassVar[tuple[str, ...]]
    scope: ClassVar[Scope] = Scope.REGIONAL
    parameters: ClassVar[tuple[str, ...]] = ()  # keys of defaults.yaml this check reads

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" not in cls.__dict__:  # an intermediate base class, not a check
            return
        problems = _metadata_problems(cls)
        if problems:
            raise TypeError(f"check {cls.__module__}.{cls.__name__} is invalid: " + "; ".join(problems))

    def evaluate(self, ctx: "CheckContext") -> Iterable[Finding]:
        raise NotImplementedError

    @classmethod
    def description(cls) -> str:
        return " ".join((cls.__doc__ or "").split())


def _metadata_problems(cls: type[Check]) -> list[str]:
    problems = []
    for name in ("service", "severity", "title", "risk", "remediation", "api_calls"):
        if not hasattr(cls, name):
            problems.append(f"missing '{name}'")
    if problems:
        return problems
    if not ID_PATTERN.match(cls.id):
        problems.append(f"id '{cls.id}' is not <service>_<resource>_<state> in snake_case")
    elif not cls.id.startswith(cls.service.replace("-", "") + "_"):
        problems.append(f"id '{cls.id}' does not start with its service '{cls.service}_'")
    if cls.__name__ != camel_case(cls.id):
        problems.append(f"class name should be {camel_case(cls.id)}")
    if not isinstance(cls.severity, Severity):
        problems.append("severity must be a Severity")
    if not isinstance(cls.category, Category):
        problems.append("category must be a Category")
    if not isinstance(cls.remediation, Remediation) or not cls.remediation.text:
        problems.append("remediation must be a Remediation with text")
    if not all(isinstance(c, Control) for c in cls.compliance):
        problems.append("compliance must hold Control values")
    if not cls.api_calls:
        problems.append("api_calls must name the IAM actions the check needs")
    not_reads = [a for a in cls.api_calls if not is_read_action(a)]
    if not_reads:
        problems.append(f"api_calls must be read-only, not {', '.join(not_reads)}")
    if not (cls.__doc__ or "").strip():
        problems.append("a docstring (the long description) is required")
    if not cls.title or not cls.risk:
        problems.append("title and risk must not be empty")
    return problems


@dataclass
class CheckContext:
    """What one (check, region) unit of work sees. Built by the engine; checks only read from it."""

    check: type[Check]
    account: str
    partition: str
    region: str  # where API calls go; for global checks, the home region
    regions: tuple[str, ...]  # every audited region
    api: ApiCache
    params: Parameters
    now: datetime
    fanout: "FanOut | None" = None  # per-resource concurrency; None: one resource after another
    actions_used: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- reading AWS -----------------------------------------------------------------------------------------
    def call(
        self, service: str, operation: str, /, region: str | None = None, *, fresh: bool = False, **params: Any
    ) -> dict[str, Any] | None:
        """A read through the run's shared cache. `None` means "not configured"; see `ApiCache.call`."""
        self.record_actions({iam_action(service, operation)})
        return self.api.call(service, operation, region or self.region, fresh=fresh, **params)

    def record_actions(self, actions: set[str] | frozenset[str]) -> None:
        """Note IAM actions this unit relies on, including those a shared collector read for it earlier."""
        with self._lock:
            self.actions_used.update(actions)
        for recording in _RECORDINGS.get():
            recording.update(actions)

    def param(self, key: str) -> Any:
        if key not in self.check.parameters:
            raise KeyError(f"{self.check.id} reads parameter '{key}' without declaring it in `parameters`")
        return self.params[key]

    @property
    def finding_region(self) -> str:
        return "global" if self.check.scope is Scope.GLOBAL else self.region

    # -- resources -------------------------------------------------------------------------------------------
    def account_resource(self, region: str | None = None) -> Resource:
        """The account (in a region) as the subject of account- or region-level findings."""
        return Resource(
            id=self.account,
            type="AWS::::Account",
            arn=f"arn:{self.partition}:::{self.account}",
            name=self.account,
            region=region or self.finding_region,
        )

    def arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region is None else region}:" \
               f"{self.account if account is None else account}:{resource}"

    # -- findings --------------------------------------------------------------------------------------------
    def passed(self, resource: Resource, message: str, evidence: Mapping[str, Any] | None = None) -> Finding:
        return self._finding(Status.PASS, resource, message, evidence)

    def failed(self, resource: Resource, message: str, evidence: Mapping[str, Any] | None = None) -> Finding:
        return self._finding(Status.FAIL, resource, message, evidence)

    def error(self, resource: Resource, message: str, evidence: Mapping[str, Any] | None = None) -> Finding:
        return self._finding(Status.ERROR, resource, message, evidence)

    def unavailable(self, resource: Resource, exc: DataUnavailable) -> Finding:
        e = exc.error
        return self.error(
            resource,
            f"Could not evaluate {resource.name or resource.id}: {e.iam_action} failed with {e.code} in {e.region}.",
            {"api": f"{e.service}.{e.operation}", "iam_action": e.iam_action, "error_code": e.code,
             "error_message": e.message},
        )

    def each(self, resources: Iterable[R], evaluate_one: Callable[[R], Iterable[Finding]],
             resource_of: Callable[[R], Resource] = lambda r: r.resource) -> Iterator[Finding]:  # type: ignore
        """Evaluate resources one by one; a read that fails for one resource makes only that one ERROR.

        With a fan-out pool (the engine's, when it runs more than one worker) the resources are evaluated
        concurrently and their findings still come back in order.
        """
        items = list(resources)

        def evaluate(item: R) -> list[Finding]:
            try:
                return list(evaluate_one(item))
            except DataUnavailable as exc:
                return [self.unavailable(resource_of(item), exc)]

        if self.fanout is None:
            for item in items:
                yield from evaluate(item)
            return
        for outcome in self.fanout.map(evaluate, items):
            if outcome.error is not None:
                raise outcome.error
            yield from outcome.value or ()

    def map(self, fn: Callable[[R], Any], items: Iterable[R]) -> list[Any]:
        """`fn` over `items` (concurrently with a fan-out pool), in order; the first exception is raised."""
        items = list(items)
        if self.fanout is None:
            return [fn(item) for item in items]
        results = []
        for outcome in self.fanout.map(fn, items):
            if outcome.error is not None:
                raise outcome.error
            results.append(outcome.value)
        return results

    def _finding(self, status: Status, resource: Resource, message: str,
                 evidence: Mapping[str, Any] | None) -> Finding:
        from .secrets import redact_evidence

        check = self.check
        return Finding(
            check_id=check.id,
            title=check.title,
            service=check.service,
            severity=check.severity,
            category=check.category,
            status=status,
            message=message,
            resource=resource,
            region=resource.region or self.finding_region,
            account=self.account,
            evidence=redact_evidence(evidence or {}),
            compliance=check.compliance,
            remediation=check.remediation,
        )


def collector(fn: Callable[..., R]) -> Callable[..., R]:
    """Memoise a resource collector for the run: `fn(ctx, *args)` runs once per (region, args)."""

    @functools.wraps(fn)
    def wrapper(ctx: CheckContext, *args: Any) -> R:
        key = ("collector", fn.__module__, fn.__qualname__, ctx.region, args)
        outcome = ctx.api.memo(key, lambda: _recorded(fn, ctx, args))
        # Every check that uses the collector relies on the reads it made, even when the memo answered.
        ctx.record_actions(outcome.actions)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value  # type: ignore[return-value]

    return wrapper


@dataclass(frozen=True)
class _Outcome:
    value: Any
    error: BaseException | None
    actions: frozenset[str]


# The IAM actions read by the collectors being computed in this thread (collectors may nest).
_RECORDINGS: contextvars.ContextVar[tuple[set[str], ...]] = contextvars.ContextVar("recordings", default=())


def _recorded(fn: Callable[..., Any], ctx: CheckContext, args: tuple[Any, ...]) -> _Outcome:
    recording: set[str] = set()
    token = _RECORDINGS.set(_RECORDINGS.get() + (recording,))
    try:
        return _Outcome(fn(ctx, *args), None, frozenset(recording))
    except Exception as exc:  # memoised with the actions, re-raised to every caller
        return _Outcome(None, exc, frozenset(recording))
    finally:
        _RECORDINGS.reset(token)
