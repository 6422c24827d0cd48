"""The audit engine: select checks, plan (check, region) units, run them on a thread pool, gather an AuditRun.

A unit that raises never stops the run: a read that could not be made becomes an ERROR finding naming the IAM
action and the error code; any other exception becomes an ERROR finding naming the exception. Findings a unit
yielded before it failed are kept.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

import boto3

from . import __version__
from .api import ApiCache
from .check import Check, CheckContext
from .config import AuditConfig
from .errors import DataUnavailable
from .models import AuditRun, CheckSummary, Finding, Scope
from .registry import select_checks
from .session import AwsSession

log = logging.getLogger("aws_audit")

ProgressCallback = Callable[[int, int, str, str, int], None]  # done, total, service, region, throttled so far


@dataclass(frozen=True)
class Unit:
    check: type[Check]
    region: str


def plan_units(checks: Iterable[type[Check]], regions: tuple[str, ...], home_region: str) -> list[Unit]:
    units = []
    for check in checks:
        if check.scope is Scope.GLOBAL:
            units.append(Unit(check, home_region))
        else:
            units.extend(Unit(check, region) for region in regions)
    # Spread services across the pool so one service's rate limit does not hold every worker.
    return sorted(units, key=lambda u: (u.region, u.check.service, u.check.id))


def _summary(check: type[Check]) -> CheckSummary:
    return CheckSummary(
        id=check.id,
        title=check.title,
        service=check.service,
        severity=check.severity,
        category=check.category,
        risk=check.risk,
        remediation=check.remediation,
        compliance=check.compliance,
    )


def evaluate_unit(ctx: CheckContext) -> list[Finding]:
    """Run one check in one region; always returns, never raises."""
    check = ctx.check
    findings: list[Finding] = []
    try:
        findings.extend(check().evaluate(ctx))
    except DataUnavailable as exc:
        e = exc.error
        findings.append(
            ctx.error(
                ctx.account_resource(),
                f"Could not run {check.id} in {ctx.finding_region}: {e.iam_action} failed with {e.code}.",
                {"api": f"{e.service}.{e.operation}", "iam_action": e.iam_action, "error_code": e.code,
                 "error_message": e.message},
            )
        )
    except Exception as exc:  # a bug in one check must not cost the other results
        log.exception("check %s failed in %s", check.id, ctx.region)
        findings.append(
            ctx.error(
                ctx.account_resource(),
                f"{check.id} failed in {ctx.finding_region}: {type(exc).__name__}: {exc}",
                {"exception": type(exc).__name__},
            )
        )
    return findings


def run_audit(
    config: AuditConfig,
    *,
    session: AwsSession | None = None,
    boto_session: boto3.Session | None = None,
    checks: list[type[Check]] | None = None,
    progress: ProgressCallback | None = None,
) -> AuditRun:
    started = datetime.now(timezone.utc)
    selected = checks if checks is not None else select_checks(config.selection)
    session = session or AwsSession(config, boto_session)
    regions = session.resolve_regions(config.regions)
    home = session.home_region if session.home_region in regions else regions[0]
    api = ApiCache(session)
    units = plan_units(selected, regions, home)
    identity = session.identity
    contexts = [
        CheckContext(
            check=u.check,
            account=identity.account,
            partition=identity.partition,
            region=u.region,
            regions=regions,
            api=api,
            params=config.parameters,
            now=started,
        )
        for u in units
    ]
    findings: list[Finding] = []
    done = 0
    with ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="aws-audit") as pool:
        futures = {pool.submit(evaluate_unit, ctx): ctx for ctx in contexts}
        for future in as_completed(futures):
            ctx = futures[future]
            findings.extend(future.result())
            done += 1
            if progress:
                progress(done, len(contexts), ctx.check.service, ctx.region, session.throttled)
    findings.sort(key=lambda f: (f.service, f.check_id, f.region, f.resource.key, f.status.value))
    mutelist = config.mutelist
    if mutelist is not None:
        findings = list(mutelist.apply(findings, started.date()))
    return AuditRun(
        tool_version=__version__,
        account=identity.account,
        partition=identity.partition,
        caller_arn=identity.arn,
        regions=regions,
        started=started,
        finished=datetime.now(timezone.utc),
        checks=tuple(_summary(c) for c in sorted(selected, key=lambda c: c.id)),
        findings=tuple(findings),
        api_calls=dict(sorted(session.requests.items())),
        errors=api.errors,
        actions_used={c.id: frozenset().union(*(x.actions_used for x in contexts if x.check is c))
                      for c in selected},
        expired_mutes=tuple(r.to_dict() for r in mutelist.expired_rules(started.date())) if mutelist else (),
        mutelist_rules=len(mutelist.rules) if mutelist else 0,
    )
