"""The Lambda entry point of a deployed aws-audit: `auditor.lambda_handler.handler(event, context)`.

Configuration comes from the environment the stack sets (AWS_AUDIT_*) and can be overridden per event (`bucket`,
`regions`, `services`, `checks`, `exclude_checks`, `fail_on`, `topic_arn`, `workers`). AWS_AUDIT_ACCEPTED, the
findings the stack declares on its own resources (auditor/deploy/accepted.py), is a mutelist applied to every run,
in every mode that audits or aggregates; it comes from the environment only, never from an event. Modes
(`event["mode"]`):

- `run` (default, the schedule): audit, then write s3://BUCKET/<account>/<yyyy>/<mm>/<dd>/<run-id>.json and .html and
  <account>/latest.json, print the metrics (CloudWatch Embedded Metric Format) to the log, diff against the previous
  latest.json and notify SNS of new FAIL findings at or above fail-on;
- `plan`, `shard`, `shard_failed`, `aggregate`: the steps of the fan-out state machine (see
  auditor/deploy/template.py). Step Functions limits what passes between states, and a Lambda payload, to 256 KB,
  and an organization's run has thousands of shards, so only S3 keys pass between the steps; the data stays in the
  report bucket under <account>/shards/<run-id>/:
  - `plan` lists the (account, region) shards, writes them as plan.json (a JSON array the Distributed Map reads)
    and returns {run_id, bucket, key, count};
  - `shard` audits one shard and writes <shard-id>.json;
  - `shard_failed` writes <shard-id>.error.json (the error and its cause) for a shard that failed after its retries;
  - `aggregate` gets {run_id, bucket, key}, reads the plan, and for every planned shard its report, else its failure
    record, else makes the shard ERROR rows (ShardReportMissing) — no planned shard is ever missing from the merged
    report — then does what `run` does after its audit.

The audit goes through the normal engine and its read-only `AwsSession`; the reports and the notification go through
separate writer clients, which the audit never sees. One JSON line per phase is logged.
"""
from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

import boto3
from botocore.exceptions import ClientError

from .config import DEFAULT_WORKERS, AuditConfig, Selection
from .models import AuditRun, Finding, Scope, Severity
from .mutelist import Mutelist
from .session import AwsSession

ENV_PREFIX = "AWS_AUDIT_"
ACCEPTED = ENV_PREFIX + "ACCEPTED"
MAX_LISTED = 50


# -- configuration --------------------------------------------------------------------------------------------------
def _items(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)


@dataclass(frozen=True)
class Settings:
    bucket: str
    regions: tuple[str, ...] = ()
    selection: Selection = Selection()
    fail_on: Severity | None = Severity.HIGH
    topic_arn: str | None = None
    workers: int = DEFAULT_WORKERS
    org_role: str | None = None
    accepted: Mutelist | None = None  # the stack's declared exceptions, muted in every run

    @classmethod
    def load(cls, environ: Mapping[str, str], event: Mapping[str, Any]) -> "Settings":
        def get(name: str) -> Any:
            return event[name] if name in event else environ.get(ENV_PREFIX + name.upper())

        bucket = get("bucket")
        if not bucket:
            raise ValueError("no report bucket: set AWS_AUDIT_BUCKET or pass 'bucket' in the event")
        fail_on = (get("fail_on") or "high").strip().lower()
        return cls(
            bucket=bucket,
            regions=_items(get("regions")),
            selection=Selection(services=_items(get("services")), include=_items(get("checks")),
                                exclude=_items(get("exclude_checks"))),
            fail_on=None if fail_on == "none" else Severity.parse(fail_on),
            topic_arn=get("topic_arn") or None,
            workers=int(get("workers") or DEFAULT_WORKERS),
            org_role=get("org_role") or None,
            # Environment only: an event may narrow or redirect a run, but never mute anything.
            accepted=Mutelist.parse(environ[ACCEPTED], ACCEPTED) if environ.get(ACCEPTED) else None,
        )


# -- logging ----------------------------------------------------------------------------------------------------------
def log_phase(phase: str, run_id: str, **fields: Any) -> None:
    """One structured line per phase (CloudWatch Logs Insights reads the fields)."""
    record = {"level": "INFO", "logger": "aws_audit.lambda", "phase": phase, "run_id": run_id, **fields}
    sys.stdout.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class _Timer:
    def __init__(self) -> None:
        self.start = time.monotonic()

    @property
    def ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)


# -- writing: the deployed function's own bucket and topic, never through the audit's gateway --------------------------
class ReportStore:
    def __init__(self, boto_session: boto3.Session, bucket: str, region: str | None = None) -> None:
        self.bucket = bucket
        self.s3 = boto_session.client("s3", region_name=region)

    def put(self, key: str, body: str, content_type: str) -> str:
        # A checksum: the bucket's Object Lock default retention makes S3 require one on every upload.
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type,
                           ChecksumAlgorithm="SHA256")
        return f"s3://{self.bucket}/{key}"

    def get_json(self, key: str) -> Any:
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise
        return json.loads(answer["Body"].read())

    def keys(self, prefix: str) -> set[str]:
        """The keys under `prefix`: one listing tells which shards left what, instead of a failed read per absence
        (S3 answers a read of a missing key with 404 only to a caller allowed to list the bucket, else with 403)."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}


def run_prefix(account: str, started: datetime, run_id: str) -> str:
    return f"{account}/{started:%Y/%m/%d}/{run_id}"


def latest_key(account: str) -> str:
    return f"{account}/latest.json"


def shards_prefix(account: str, run_id: str) -> str:
    return f"{account}/shards/{run_id}/"


def plan_key(account: str, run_id: str) -> str:
    return f"{shards_prefix(account, run_id)}plan.json"


def shard_key(account: str, run_id: str, shard_id: str) -> str:
    return f"{shards_prefix(account, run_id)}{shard_id}.json"


def failure_key(account: str, run_id: str, shard_id: str) -> str:
    return f"{shards_prefix(account, run_id)}{shard_id}.error.json"


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


# -- the audit -----------------------------------------------------------------------------------------------------
def audit_config(settings: Settings, *, regions: tuple[str, ...] | None = None,
                 role_arn: str | None = None) -> AuditConfig:
    return AuditConfig(regions=settings.regions if regions is None else regions, role_arn=role_arn,
                       selection=settings.selection, workers=settings.workers, max_attempts=8,
                       mutelist=settings.accepted)


def audit_session(config: AuditConfig, boto_session: boto3.Session | None) -> AwsSession:
    """The audit's session: the same read-only gateway as `aws-audit run` (every non-read operation refused)."""
    return AwsSession(config, boto_session)


def _selected_checks(settings: Settings, include_global: bool = True) -> list[Any]:
    from .registry import select_checks

    checks = select_checks(settings.selection)
    return checks if include_global else [c for c in checks if c.scope is not Scope.GLOBAL]


# -- after the audit: reports, metrics, diff, notification -------------------------------------------------------------
def new_failing(run: AuditRun, previous: Mapping[str, Any] | None, fail_on: Severity | None) -> list[Finding]:
    """FAIL findings at or above `fail_on` that the previous run did not have failing (all of them on a first run)."""
    from reports.diff import new_failing_ids

    failing = run.failing(at_least=fail_on) if fail_on is not None else []
    if previous is None:
        return failing
    ids = new_failing_ids(previous, failing)
    return [f for f in failing if f.id in ids]


def notification(run: AuditRun, findings: list[Finding], fail_on: Severity, report_uri: str) -> tuple[str, str]:
    subject = f"aws-audit: {len(findings)} new failing finding(s) at or above {fail_on.value} in {run.account}"
    lines = [f"aws-audit found {len(findings)} new FAIL finding(s) at or above {fail_on.value} in account "
             f"{run.account} (run of {run.started:%Y-%m-%d %H:%M} UTC), compared with the previous run.", "",
             f"Report: {report_uri}", ""]
    ranked = sorted(findings, key=lambda f: (-f.severity.rank, f.check_id, f.region, f.resource.key))
    lines += [f"- [{f.severity.value}] {f.check_id} ({f.region}): {f.message}" for f in ranked[:MAX_LISTED]]
    if len(ranked) > MAX_LISTED:
        lines.append(f"... and {len(ranked) - MAX_LISTED} more in the report.")
    return subject[:100], "\n".join(lines) + "\n"


def publish(run: AuditRun, run_id: str, settings: Settings, boto_session: boto3.Session,
            extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    from reports.html import HtmlReporter
    from reports.interchange import MetricsReporter
    from reports.json_report import JsonReporter

    store = ReportStore(boto_session, settings.bucket)
    timer = _Timer()
    previous = store.get_json(latest_key(run.account))
    new = new_failing(run, previous, settings.fail_on)
    if previous is not None:
        from reports.diff import new_failing_ids

        run = replace(run, new_findings=new_failing_ids(previous, run.findings))
    log_phase("diff", run_id, previous=previous["run"]["started"] if previous else None, new_failing=len(new),
              fail_on=settings.fail_on.value if settings.fail_on else None, duration_ms=timer.ms)

    timer = _Timer()
    prefix = run_prefix(run.account, run.started, run_id)
    document = JsonReporter().render(run)
    report_uri = store.put(f"{prefix}.json", document, "application/json")
    store.put(f"{prefix}.html", HtmlReporter().render(run), "text/html; charset=utf-8")
    if extra:
        store.put(f"{prefix}.shards.json", json.dumps(extra, indent=2) + "\n", "application/json")
    store.put(latest_key(run.account), document, "application/json")
    log_phase("write", run_id, report=report_uri, duration_ms=timer.ms)

    # Embedded Metric Format: CloudWatch turns these log lines into metrics (no PutMetricData, no extra permission).
    metrics = MetricsReporter().render(run)
    sys.stdout.write(metrics)
    sys.stdout.flush()
    log_phase("metrics", run_id, lines=metrics.count("\n"))

    notified = False
    if new and settings.topic_arn and settings.fail_on is not None:
        timer = _Timer()
        subject, message = notification(run, new, settings.fail_on, report_uri)
        region = settings.topic_arn.split(":")[3]
        boto_session.client("sns", region_name=region).publish(
            TopicArn=settings.topic_arn, Subject=subject, Message=message)
        notified = True
        log_phase("notify", run_id, topic=settings.topic_arn, new_failing=len(new), duration_ms=timer.ms)
    counts = {s: sum(1 for f in run.findings if f.status.value == s and not f.muted) for s in ("PASS", "FAIL", "ERROR")}
    return {"run_id": run_id, "account": run.account, "report": report_uri, "new_failing": len(new),
            "notified": notified, "findings": counts}


# -- the modes ---------------------------------------------------------------------------------------------------------
def _run_id(event: Mapping[str, Any], context: Any) -> str:
    if event.get("run_id"):
        return str(event["run_id"])
    request = getattr(context, "aws_request_id", None) or uuid.uuid4().hex
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{request.replace('-', '')[:8]}"


def _own_account(context: Any, boto_session: boto3.Session) -> str:
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    if len(parts) > 4 and parts[4].isdigit():
        return parts[4]
    return boto_session.client("sts").get_caller_identity()["Account"]


def _run(event: Mapping[str, Any], context: Any, settings: Settings, boto_session: boto3.Session) -> dict[str, Any]:
    from .engine import run_audit

    run_id = _run_id(event, context)
    timer = _Timer()
    config = audit_config(settings)
    session = audit_session(config, boto_session)
    log_phase("start", run_id, mode="run", account=session.identity.account, bucket=settings.bucket,
              regions=list(settings.regions) or "enabled")
    run = run_audit(config, session=session)
    log_phase("audit", run_id, findings=len(run.findings), failing=len(run.failing()), errors=len(run.errors),
              regions=list(run.regions), api_calls=sum(run.api_calls.values()), duration_ms=timer.ms)
    return publish(run, run_id, settings, boto_session)


def _plan(event: Mapping[str, Any], context: Any, settings: Settings, boto_session: boto3.Session) -> dict[str, Any]:
    from .deploy.shards import plan_shards

    run_id = _run_id(event, context)
    session = audit_session(audit_config(settings), boto_session)
    regions = session.resolve_regions(settings.regions)
    members: list[str] = []
    if settings.org_role:
        from .organization import OrgOptions, member_accounts

        members = member_accounts(session, OrgOptions(role_name=settings.org_role))
    shards = plan_shards(session.identity.account, regions, home_region=session.home_region,
                         member_accounts=members, role_name=settings.org_role,
                         partition=session.identity.partition)
    # The list goes to S3, not into the answer: 1,700 shards (100 accounts x 17 regions) are ~200 KB of JSON, and
    # Step Functions refuses a state output over 256 KB. The Distributed Map reads the array from the object itself.
    key = plan_key(_own_account(context, boto_session), run_id)
    body = json.dumps([s.to_dict() for s in shards], separators=(",", ":")) + "\n"
    ReportStore(boto_session, settings.bucket).put(key, body, "application/json")
    log_phase("plan", run_id, shards=len(shards), regions=list(regions), accounts=len(members) or 1, key=key)
    return {"run_id": run_id, "bucket": settings.bucket, "key": key, "count": len(shards)}


def _shard(event: Mapping[str, Any], context: Any, settings: Settings, boto_session: boto3.Session) -> dict[str, Any]:
    from reports.json_report import report_document

    from .deploy.shards import Shard, shard_document
    from .engine import run_audit

    run_id = _run_id(event, context)
    shard = Shard.from_dict(event["shard"])
    timer = _Timer()
    config = audit_config(settings, regions=(shard.region,), role_arn=shard.role_arn)
    run = run_audit(config, session=audit_session(config, boto_session),
                    checks=_selected_checks(settings, include_global=shard.include_global))
    document = shard_document(report_document(run), shard)
    key = shard_key(_own_account(context, boto_session), run_id, shard.id)
    ReportStore(boto_session, settings.bucket).put(key, json.dumps(document) + "\n", "application/json")
    log_phase("shard", run_id, shard=shard.id, findings=len(run.findings), key=key, duration_ms=timer.ms)
    return {"run_id": run_id, "shard": shard.id, "key": key}


def _shard_failed(event: Mapping[str, Any], context: Any, settings: Settings,
                  boto_session: boto3.Session) -> dict[str, Any]:
    """A shard that still failed after its retries: its error and cause are kept in S3, so the aggregation can say
    why its checks are ERROR (the state machine passes no result on to the aggregation)."""
    from .deploy.shards import Shard

    run_id = _run_id(event, context)
    shard = Shard.from_dict(event["shard"])
    error = event.get("error") or {}
    record = {"shard": shard.to_dict(), "error": str(error.get("Error") or "Unknown"),
              "cause": str(error.get("Cause") or ""), "at": _utc_now()}
    key = failure_key(_own_account(context, boto_session), run_id, shard.id)
    ReportStore(boto_session, settings.bucket).put(key, json.dumps(record) + "\n", "application/json")
    log_phase("shard_failed", run_id, shard=shard.id, error=record["error"], key=key)
    return {"run_id": run_id, "shard": shard.id, "key": key}


def check_descriptions(checks: list[Any]) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "service": c.service, "severity": c.severity.value,
             "category": c.category.value, "risk": c.risk, "scope": c.scope.value,
             "compliance": [{"framework": x.framework, "id": x.id} for x in c.compliance]} for c in checks]


def _aggregate(event: Mapping[str, Any], context: Any, settings: Settings,
               boto_session: boto3.Session) -> dict[str, Any]:
    from reports.load import run_from_document

    from .deploy.shards import Shard, failed_shard_document, fanout_manifest, finalize_document, merge_stream

    run_id = _run_id(event, context)
    timer = _Timer()
    own = _own_account(context, boto_session)
    store = ReportStore(boto_session, settings.bucket)
    key = str(event.get("key") or plan_key(own, run_id))
    planned = store.get_json(key)
    if not isinstance(planned, list):
        raise ValueError(f"no shard plan at s3://{settings.bucket}/{key}")
    shards = [Shard.from_dict(item) for item in planned]
    present = store.keys(shards_prefix(own, run_id))
    now = _utc_now()
    checks: list[dict[str, Any]] | None = None
    missing: list[str] = []

    def failed(shard: Shard, error: str, cause: str, at: str) -> dict[str, Any]:
        nonlocal checks
        checks = checks if checks is not None else check_descriptions(_selected_checks(settings))
        return failed_shard_document(shard, checks, error=error, cause=cause, at=at)

    def documents() -> Iterator[dict[str, Any]]:
        """Every planned shard, read one at a time: its report, else its failure record, else ERROR rows."""
        for shard in shards:
            report_key, record_key = shard_key(own, run_id, shard.id), failure_key(own, run_id, shard.id)
            document = store.get_json(report_key) if report_key in present else None
            if document is not None:
                yield document
                continue
            record = store.get_json(record_key) if record_key in present else None
            if record is not None:
                yield failed(shard, str(record.get("error", "Unknown")), str(record.get("cause", "")),
                             str(record.get("at") or now))
                continue
            missing.append(shard.id)
            yield failed(shard, "ShardReportMissing", f"shard {shard.id} left neither a report nor a failure "
                         f"record under s3://{settings.bucket}/{shards_prefix(own, run_id)}", now)

    merged = merge_stream(documents())
    manifest = fanout_manifest(merged)
    run = replace(run_from_document(finalize_document(merged)), account=own, accounts=tuple(manifest["accounts"]))
    run = _mute_accepted(run, settings.accepted)
    log_phase("aggregate", run_id, shards=len(shards), failed_shards=manifest["failed_shards"], missing=missing,
              findings=len(run.findings), duration_ms=timer.ms)
    return publish(run, run_id, settings, boto_session, extra=manifest)


def _mute_accepted(run: AuditRun, accepted: Mutelist | None) -> AuditRun:
    """The merged run muted as each shard's audit was: the shards applied the rules already, and the findings the
    aggregation made itself (a failed shard's ERROR rows) go through them too. A muted finding stays muted."""
    if accepted is None:
        return run
    today = run.started.date()
    return replace(run, findings=accepted.apply(run.findings, today), mutelist_rules=len(accepted.rules),
                   expired_mutes=tuple(r.to_dict() for r in accepted.expired_rules(today)))


MODES = {"run": _run, "plan": _plan, "shard": _shard, "shard_failed": _shard_failed, "aggregate": _aggregate}


def run_handler(event: Mapping[str, Any] | None, context: Any, *,
                boto_session: boto3.Session | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    event = dict(event or {})
    if event.get("source") == "aws.events":  # a schedule's own event carries nothing for us
        event = {}
    mode = event.get("mode", "run")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (expected one of: {', '.join(MODES)})")
    settings = Settings.load(os.environ if environ is None else environ, event)
    return MODES[mode](event, context, settings, boto_session or boto3.Session())


def handler(event: Mapping[str, Any] | None, context: Any) -> dict[str, Any]:
    return run_handler(event, context)
