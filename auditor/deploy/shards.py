"""Fan-out: which (account, region) shards a run is split into, and how shard reports merge into one report.

Pure functions of JSON report documents (the `json` format, see reports/json_report.py): no AWS, no clock.

`merge_documents` is associative and commutative — merging shard reports in any order or grouping gives the same
document — so the aggregation step does not care in which order the Map state's iterations finished, and
`merge_stream` can fold the reports in as they are read, a batch at a time. A shard that failed after its retries,
or left no report at all, is turned into ERROR rows by `failed_shard_document` (one per check it should have run),
and then merged like any other shard: it is never missing data.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from functools import reduce
from typing import Any, Iterable, Mapping, Sequence

from ..models import finding_id

SCHEMA_VERSION = "1.0"
GLOBAL = "global"
ACCOUNT_RESOURCE_TYPE = "AWS::::Account"


@dataclass(frozen=True)
class Shard:
    """One invocation's share of a run: one account in one region. `include_global` marks the one shard per
    account that also runs the account-level (global) checks, so they run once, not once per region."""

    account: str
    region: str
    include_global: bool = False
    role_arn: str | None = None  # None: the account of the function itself

    @property
    def id(self) -> str:
        return f"{self.account}-{self.region}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Shard":
        return cls(account=str(data["account"]), region=str(data["region"]),
                   include_global=bool(data.get("include_global", False)), role_arn=data.get("role_arn"))


def plan_shards(
    home_account: str,
    regions: Iterable[str],
    *,
    home_region: str,
    member_accounts: Iterable[str] = (),
    role_name: str | None = None,
    partition: str = "aws",
) -> list[Shard]:
    """One shard per (account, enabled region). The global checks of each account run in its home-region shard
    (or its first region when the home region is not audited). Member accounts are entered through `role_name`."""
    regions = sorted(set(regions))
    if not regions:
        raise ValueError("no region to audit")
    accounts = sorted({home_account, *member_accounts})
    if len(accounts) > 1 and not role_name:
        raise ValueError("member accounts need a role name to assume")
    global_region = home_region if home_region in regions else regions[0]
    shards = []
    for account in accounts:
        role = None if account == home_account else f"arn:{partition}:iam::{account}:role/{role_name}"
        shards.extend(Shard(account, region, region == global_region, role) for region in regions)
    return shards


# -- merging ------------------------------------------------------------------------------------------------------
def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _pick(a: Mapping[str, Any], b: Mapping[str, Any]) -> Mapping[str, Any]:
    """A deterministic choice between two versions of the same item (the same finding reported by two shards):
    commutative and associative because it is a total order on the canonical text."""
    return a if _canonical(a) >= _canonical(b) else b


def _union_by(key: str, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Mapping[str, Any]] = {}
    for item in items:
        k = item[key]
        out[k] = _pick(out[k], item) if k in out else item
    return out


def _finding_order(f: Mapping[str, Any]) -> tuple[str, ...]:
    # The engine's order: account, service, check, region, resource, status.
    resource = f["resource"]
    return (f["account"], f["service"], f["check_id"], f["region"], resource.get("arn") or
            f"{resource['type']}/{resource['id']}", f["status"])


def _union_unique(items: Iterable[Any]) -> list[Any]:
    seen = {_canonical(x): x for x in items}
    return [seen[k] for k in sorted(seen)]


def _combine(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every field is a min, a max, a union or a sum over the documents: order and grouping cannot matter."""
    runs = [d["run"] for d in documents]
    api_calls: Counter[str] = Counter()
    for run in runs:
        api_calls.update(run.get("api_calls", {}))
    findings = _union_by("id", (_strip_finding(f) for d in documents for f in d.get("findings", []))).values()
    checks = _union_by("id", (c for d in documents for c in d.get("checks", []))).values()
    tool = reduce(_pick, (d.get("tool", {}) for d in documents))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": dict(tool),
        "run": {
            "account": min(r["account"] for r in runs),
            "accounts": sorted({a for r in runs for a in _accounts(r)}),
            "partition": min(r["partition"] for r in runs),
            "caller_arn": min(r["caller_arn"] for r in runs),
            "regions": sorted({g for r in runs for g in r["regions"]}),
            "started": min(r["started"] for r in runs),
            "finished": max(r["finished"] for r in runs),
            "api_calls": dict(sorted(api_calls.items())),
            "errors": _union_unique(e for r in runs for e in r.get("errors", [])),
            "shards": sorted({s for r in runs for s in r.get("shards", [])}),
            "failed_shards": sorted({s for r in runs for s in r.get("failed_shards", [])}),
        },
        "checks": sorted(checks, key=lambda c: c["id"]),
        "findings": sorted(findings, key=_finding_order),
    }


def merge_documents(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two report documents (shards, or already merged groups of shards) into one.

    Findings are the union by finding id (the same finding from two shards is kept once, chosen by a total order),
    API call counts add up, the run spans the earliest start to the latest finish. The summary is not merged
    (counts of overlapping findings would double): `finalize_document` recomputes it once, after the last merge.
    """
    return _combine([a, b])


def _accounts(run: Mapping[str, Any]) -> list[str]:
    return list(run.get("accounts") or [run["account"]])


def _strip_finding(finding: Mapping[str, Any]) -> Mapping[str, Any]:
    return {k: v for k, v in finding.items() if k != "new"}


def merge_all(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """All shard reports as one (the same document as merging them pairwise in any order)."""
    if not documents:
        raise ValueError("nothing to merge: no shard report")
    return _combine(documents)


def merge_stream(documents: Iterable[Mapping[str, Any]], *, batch: int = 64) -> dict[str, Any]:
    """Merge documents as they arrive, holding at most `batch` unmerged ones besides the merge so far.

    The aggregation reads one shard report after another from S3; an organization's run has thousands, and holding
    every one of them next to their merge would need memory for both. Because merging is associative and
    commutative, folding in batches gives the same document as `merge_all` over the whole list.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    merged: dict[str, Any] | None = None
    pending: list[Mapping[str, Any]] = []
    for document in documents:
        pending.append(document)
        if len(pending) == batch:
            merged = _combine(pending if merged is None else [merged, *pending])
            pending = []
    if merged is None:
        return merge_all(pending)
    return _combine([merged, *pending]) if pending else merged


def shard_document(document: Mapping[str, Any], shard: Shard) -> dict[str, Any]:
    """A shard's own report, marked with the shard it came from (so the merged report lists its shards)."""
    out = dict(document)
    out["run"] = {**document["run"], "shards": [shard.id], "accounts": [shard.account]}
    out.pop("summary", None)
    return out


def failed_shard_document(
    shard: Shard,
    checks: Sequence[Mapping[str, Any]],
    *,
    error: str,
    cause: str,
    at: str,
    partition: str = "aws",
    tool_version: str = "",
) -> dict[str, Any]:
    """The report of a shard that failed after its retries: one ERROR finding per check the shard should have run.

    `checks` are the `checks` entries of a report (id, title, service, severity, category, compliance) plus
    `scope` ("regional" or "global"); global checks count only for the shard that includes them.
    """
    findings = []
    for check in checks:
        is_global = check.get("scope") == GLOBAL
        if is_global and not shard.include_global:
            continue
        region = GLOBAL if is_global else shard.region
        arn = f"arn:{partition}:::{shard.account}"
        findings.append({
            "id": finding_id(check["id"], shard.account, region, arn),
            "check_id": check["id"], "title": check["title"], "service": check["service"],
            "severity": check["severity"], "category": check["category"], "status": "ERROR",
            "message": f"Could not run {check['id']} for account {shard.account} in {region}: "
                       f"shard {shard.id} failed after its retries ({error}).",
            "resource": {"arn": arn, "id": shard.account, "type": ACCOUNT_RESOURCE_TYPE, "name": shard.account,
                         "tags": {}},
            "region": region, "account": shard.account,
            "evidence": {"shard": shard.id, "error": error, "cause": cause[:500]},
            "compliance": list(check.get("compliance", [])), "remediation": None, "muted": False,
            "mute_reason": "",
        })
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aws-audit", "version": tool_version},
        "run": {
            "account": shard.account, "accounts": [shard.account], "partition": partition,
            "caller_arn": "", "regions": [shard.region], "started": at, "finished": at, "api_calls": {},
            "errors": [], "shards": [shard.id], "failed_shards": [shard.id],
        },
        "checks": [{k: v for k, v in c.items() if k != "scope"} for c in checks
                   if c.get("scope") != GLOBAL or shard.include_global],
        "findings": sorted(findings, key=_finding_order),
    }


def finalize_document(merged: Mapping[str, Any]) -> dict[str, Any]:
    """The merged report as a complete `json` report: summary and duration computed once, over all shards."""
    from datetime import datetime

    from reports.base import summarize
    from reports.load import run_from_document

    run = run_from_document({**merged, "summary": {}})
    started = datetime.fromisoformat(merged["run"]["started"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(merged["run"]["finished"].replace("Z", "+00:00"))
    fanout_only = {"accounts", "shards", "failed_shards"}  # not part of the report schema: see fanout_manifest
    document = {k: v for k, v in merged.items() if k != "findings"}
    document["run"] = {**{k: v for k, v in merged["run"].items() if k not in fanout_only},
                       "duration_seconds": round((finished - started).total_seconds(), 3),
                       "api_calls_total": sum(merged["run"].get("api_calls", {}).values())}
    document["summary"] = summarize(run)
    document["findings"] = list(merged["findings"])
    return document


def fanout_manifest(merged: Mapping[str, Any]) -> dict[str, Any]:
    """What a fanned-out run was made of: accounts, shards, and the shards that failed (reported as ERROR rows)."""
    run = merged["run"]
    return {"accounts": list(run.get("accounts", [])), "shards": list(run.get("shards", [])),
            "failed_shards": list(run.get("failed_shards", []))}
