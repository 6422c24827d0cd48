"""Shard planning and report merging (pure functions)."""
from __future__ import annotations

import random
from functools import reduce
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.deploy.shards import (
    Shard,
    failed_shard_document,
    fanout_manifest,
    finalize_document,
    merge_all,
    merge_documents,
    merge_stream,
    plan_shards,
)
from auditor.models import finding_id
from reports.json_report import schema

ACCOUNT = "123456789012"
MEMBER = "210987654321"


# -- planning -----------------------------------------------------------------------------------------------------
def test_one_shard_per_region_and_the_global_checks_once_in_the_home_region() -> None:
    shards = plan_shards(ACCOUNT, ["eu-west-1", "us-east-1", "ap-south-1"], home_region="us-east-1")
    assert [s.region for s in shards] == ["ap-south-1", "eu-west-1", "us-east-1"]
    assert [s.region for s in shards if s.include_global] == ["us-east-1"]
    assert all(s.role_arn is None for s in shards)


def test_the_global_checks_go_to_the_first_region_when_the_home_region_is_not_audited() -> None:
    shards = plan_shards(ACCOUNT, ["eu-west-1", "eu-central-1"], home_region="us-east-1")
    assert [s.region for s in shards if s.include_global] == ["eu-central-1"]


def test_member_accounts_are_entered_through_the_named_role() -> None:
    shards = plan_shards(ACCOUNT, ["us-east-1", "eu-west-1"], home_region="us-east-1", member_accounts=[MEMBER],
                         role_name="AuditRole")
    assert len(shards) == 4
    member = [s for s in shards if s.account == MEMBER]
    assert {s.role_arn for s in member} == {f"arn:aws:iam::{MEMBER}:role/AuditRole"}
    assert sum(s.include_global for s in member) == 1
    assert Shard.from_dict(member[0].to_dict()) == member[0]


def test_planning_refuses_what_cannot_run() -> None:
    with pytest.raises(ValueError, match="no region"):
        plan_shards(ACCOUNT, [], home_region="us-east-1")
    with pytest.raises(ValueError, match="role name"):
        plan_shards(ACCOUNT, ["us-east-1"], home_region="us-east-1", member_accounts=[MEMBER])


# -- merging ------------------------------------------------------------------------------------------------------
CHECKS = [
    {"id": "s3_bucket_versioning_enabled", "title": "S3 versioning", "service": "s3", "severity": "low",
     "category": "security", "risk": "", "compliance": [], "scope": "global"},
    {"id": "ec2_ebs_encryption_by_default_enabled", "title": "EBS default encryption", "service": "ec2",
     "severity": "medium", "category": "security", "risk": "", "compliance": [], "scope": "regional"},
]


def _finding(check: dict[str, Any], account: str, region: str, resource: str, status: str) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{resource}"
    return {
        "id": finding_id(check["id"], account, region, arn), "check_id": check["id"], "title": check["title"],
        "service": check["service"], "severity": check["severity"], "category": check["category"],
        "status": status, "message": f"{resource} is {status}.",
        "resource": {"arn": arn, "id": resource, "type": "AWS::S3::Bucket", "name": resource, "tags": {}},
        "region": region, "account": account, "evidence": {}, "compliance": [], "remediation": None,
        "muted": False, "mute_reason": "",
    }


def _shard_doc(account: str, region: str, findings: list[dict[str, Any]], minute: int,
               calls: dict[str, int]) -> dict[str, Any]:
    return {
        "schema_version": "1.0", "tool": {"name": "aws-audit", "version": "0.1.0"},
        "run": {"account": account, "accounts": [account], "partition": "aws",
                "caller_arn": f"arn:aws:sts::{account}:assumed-role/aws-audit/x", "regions": [region],
                "started": f"2026-11-26T06:{minute:02d}:00Z", "finished": f"2026-11-26T06:{minute + 1:02d}:30Z",
                "api_calls": calls, "errors": [], "shards": [f"{account}-{region}"]},
        "checks": [{k: v for k, v in c.items() if k != "scope"} for c in CHECKS],
        "findings": findings,
    }


@st.composite
def shard_documents(draw: Any) -> list[dict[str, Any]]:
    regions = ["us-east-1", "eu-west-1", "ap-south-1"]
    documents = []
    for index in range(draw(st.integers(1, 5))):
        account = draw(st.sampled_from([ACCOUNT, MEMBER]))
        region = draw(st.sampled_from(regions))
        findings = [
            _finding(draw(st.sampled_from(CHECKS)), account, region, draw(st.sampled_from(["a", "b", "c"])),
                     draw(st.sampled_from(["PASS", "FAIL", "ERROR"])))
            for _ in range(draw(st.integers(0, 4)))
        ]
        calls = {"s3:ListBuckets": draw(st.integers(0, 3)), "ec2:DescribeRegions": draw(st.integers(0, 2))}
        documents.append(_shard_doc(account, region, findings, index, calls))
    return documents


def _random_tree_merge(documents: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    items = list(documents)
    while len(items) > 1:
        i = rng.randrange(len(items) - 1)
        items[i:i + 2] = [merge_documents(items[i], items[i + 1])]
    return merge_all(items) if len(documents) == 1 else items[0]


@settings(max_examples=60, deadline=None)
@given(shard_documents(), st.randoms(use_true_random=False))
def test_merging_in_any_order_and_grouping_gives_the_same_report(documents: list[dict[str, Any]],
                                                                  rng: random.Random) -> None:
    left_fold = reduce(merge_documents, documents[1:], merge_all(documents[:1]))
    shuffled = list(documents)
    rng.shuffle(shuffled)
    assert _random_tree_merge(shuffled, rng) == left_fold
    assert merge_all(list(reversed(documents))) == left_fold
    # Counting is additive, and the final report's counts do not depend on the order either.
    assert finalize_document(merge_all(shuffled))["summary"] == finalize_document(left_fold)["summary"]


@given(shard_documents(), shard_documents(), shard_documents())
@settings(max_examples=30, deadline=None)
def test_merge_is_associative_and_commutative(a: list[Any], b: list[Any], c: list[Any]) -> None:
    x, y, z = merge_all(a), merge_all(b), merge_all(c)
    assert merge_documents(merge_documents(x, y), z) == merge_documents(x, merge_documents(y, z))
    assert merge_documents(x, y) == merge_documents(y, x)


@settings(max_examples=40, deadline=None)
@given(shard_documents(), shard_documents(), st.integers(1, 4))
def test_merging_a_stream_in_batches_gives_the_same_report_as_merging_the_whole_list(
        a: list[dict[str, Any]], b: list[dict[str, Any]], batch: int) -> None:
    documents = a + b
    consumed = []

    def reading() -> Any:  # a generator, as the aggregation reads shard reports one at a time
        for document in documents:
            consumed.append(document["run"]["shards"][0])
            yield document

    assert merge_stream(reading(), batch=batch) == merge_all(documents)
    assert len(consumed) == len(documents)


def test_a_stream_with_nothing_to_merge_or_a_bad_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to merge"):
        merge_stream(iter(()))
    with pytest.raises(ValueError, match="batch"):
        merge_stream([], batch=0)


def test_the_merged_report_is_a_valid_report_with_everything_counted() -> None:
    us = _shard_doc(ACCOUNT, "us-east-1", [_finding(CHECKS[0], ACCOUNT, "global", "a", "FAIL"),
                                           _finding(CHECKS[1], ACCOUNT, "us-east-1", "b", "PASS")], 0,
                    {"s3:ListBuckets": 1})
    eu = _shard_doc(ACCOUNT, "eu-west-1", [_finding(CHECKS[1], ACCOUNT, "eu-west-1", "b", "FAIL")], 3,
                    {"s3:ListBuckets": 2})
    merged = merge_all([eu, us])
    document = finalize_document(merged)
    jsonschema.validate(document, schema())
    assert document["run"]["regions"] == ["eu-west-1", "us-east-1"]
    assert document["run"]["api_calls"] == {"s3:ListBuckets": 3}
    assert document["run"]["started"] == "2026-11-26T06:00:00Z"
    assert document["run"]["finished"] == "2026-11-26T06:04:30Z"
    assert document["summary"]["totals"]["FAIL"] == 2 and document["summary"]["totals"]["PASS"] == 1
    assert fanout_manifest(merged)["shards"] == [f"{ACCOUNT}-eu-west-1", f"{ACCOUNT}-us-east-1"]


def test_a_failed_shard_becomes_error_rows_never_missing_data() -> None:
    shard = Shard(MEMBER, "eu-west-1", include_global=True, role_arn=f"arn:aws:iam::{MEMBER}:role/AuditRole")
    failed = failed_shard_document(shard, CHECKS, error="States.Timeout", cause="Task timed out", at="2026-11-26T06:"
                                   "10:00Z")
    rows = failed["findings"]
    assert {(f["check_id"], f["region"], f["status"]) for f in rows} == {
        ("s3_bucket_versioning_enabled", "global", "ERROR"),
        ("ec2_ebs_encryption_by_default_enabled", "eu-west-1", "ERROR")}
    assert all("States.Timeout" in f["message"] and f["account"] == MEMBER for f in rows)

    not_home = failed_shard_document(Shard(MEMBER, "us-east-1"), CHECKS, error="X", cause="", at="2026-11-26T06:10:00Z")
    assert [f["check_id"] for f in not_home["findings"]] == ["ec2_ebs_encryption_by_default_enabled"]

    ok = _shard_doc(ACCOUNT, "us-east-1", [_finding(CHECKS[1], ACCOUNT, "us-east-1", "b", "PASS")], 0, {})
    merged = merge_all([ok, failed])
    document = finalize_document(merged)
    jsonschema.validate(document, schema())
    assert document["summary"]["totals"]["ERROR"] == 2
    assert fanout_manifest(merged)["failed_shards"] == [shard.id]
    assert sorted(fanout_manifest(merged)["accounts"]) == [ACCOUNT, MEMBER]


def test_nothing_to_merge_is_an_error() -> None:
    with pytest.raises(ValueError, match="nothing to merge"):
        merge_all([])
