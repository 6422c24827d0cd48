"""The Lambda handler, called in-process under moto: reports to a moto bucket, notifications to a moto topic."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from auditor import lambda_handler
from auditor.errors import ReadOnlyViolation
from auditor.lambda_handler import run_handler
from tests.conftest import ACCOUNT, BOTO, REGION

BUCKET = "audit-reports"


@dataclass
class Context:
    aws_request_id: str = "5f0c2d1e-0000-4000-8000-000000000001"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:aws-audit"


@pytest.fixture
def account(aws: boto3.Session) -> dict[str, Any]:
    """A report bucket, a topic whose messages land in a queue we can read, and one unversioned bucket (a FAIL)."""
    s3 = aws.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="plain-data")
    sns, sqs = aws.client("sns", region_name=REGION), aws.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="findings")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return {"topic": topic, "queue": queue, "s3": s3, "sqs": sqs}


def _environ(account: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"AWS_AUDIT_BUCKET": BUCKET, "AWS_AUDIT_REGIONS": REGION, "AWS_AUDIT_SERVICES": "s3",
            "AWS_AUDIT_CHECKS": "s3_bucket_versioning_enabled,s3_bucket_public_access_blocked",
            "AWS_AUDIT_FAIL_ON": "low", "AWS_AUDIT_TOPIC_ARN": account["topic"], "AWS_AUDIT_WORKERS": "4", **extra}


def _invoke(account: dict[str, Any], event: dict[str, Any] | None = None, **extra: str) -> dict[str, Any]:
    return run_handler(event or {}, Context(), boto_session=BOTO, environ=_environ(account, **extra))


def _messages(account: dict[str, Any]) -> list[dict[str, Any]]:
    answer = account["sqs"].receive_message(QueueUrl=account["queue"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def _read(account: dict[str, Any], key: str) -> dict[str, Any]:
    return json.loads(account["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _logged(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_run_writes_the_reports_metrics_and_notifies(account: dict[str, Any], capsys: Any) -> None:
    result = _invoke(account, {"run_id": "run-1"})

    assert result["report"].startswith(f"s3://{BUCKET}/{ACCOUNT}/")
    key = result["report"].removeprefix(f"s3://{BUCKET}/")
    assert key.endswith("/run-1.json") and len(key.split("/")) == 5  # account/yyyy/mm/dd/run-id.json
    report = _read(account, key)
    assert report == _read(account, f"{ACCOUNT}/latest.json")
    html = account["s3"].get_object(Bucket=BUCKET, Key=key.replace(".json", ".html"))
    assert html["ContentType"].startswith("text/html") and b"<html" in html["Body"].read()
    failing = {f["resource"]["id"] for f in report["findings"] if f["status"] == "FAIL"}
    assert {"plain-data", BUCKET} <= failing

    logged = _logged(capsys.readouterr().out)
    phases = [line["phase"] for line in logged if "phase" in line]
    assert phases == ["start", "audit", "diff", "write", "metrics", "notify"]
    assert all(line["run_id"] == "run-1" for line in logged if "phase" in line)
    emf = [line for line in logged if "_aws" in line]
    assert {line["Service"] for line in emf if "Service" in line} == {"s3"}
    assert sum(line.get("FailedFindings", 0) for line in emf) == len(
        [f for f in report["findings"] if f["status"] == "FAIL"])

    (message,) = _messages(account)
    assert "new failing finding(s) at or above low" in message["Subject"]
    assert "plain-data" in message["Message"] and result["report"] in message["Message"]
    assert result["new_failing"] == sum(f["status"] == "FAIL" for f in report["findings"])
    assert result["notified"] is True


def test_only_new_failures_at_or_above_the_threshold_notify(account: dict[str, Any]) -> None:
    _invoke(account, {"run_id": "run-1"})
    _messages(account)

    second = _invoke(account, {"run_id": "run-2"})
    assert second["new_failing"] == 0 and not second["notified"] and _messages(account) == []

    account["s3"].create_bucket(Bucket="new-data")
    third = _invoke(account, {"run_id": "run-3"})
    assert third["new_failing"] >= 1 and third["notified"]
    (message,) = _messages(account)
    assert "new-data" in message["Message"] and "plain-data" not in message["Message"]
    report = _read(account, f"{ACCOUNT}/latest.json")
    assert {f["resource"]["id"] for f in report["findings"] if f.get("new")} == {"new-data"}

    account["s3"].create_bucket(Bucket="newer-data")
    quiet = _invoke(account, {"run_id": "run-4", "fail_on": "critical"})  # the event overrides the environment
    assert quiet["new_failing"] == 0 and not quiet["notified"] and _messages(account) == []


def test_the_audit_inside_the_handler_still_refuses_writes(account: dict[str, Any], monkeypatch: Any) -> None:
    sessions = []

    def recording(config: Any, boto_session: Any) -> Any:
        sessions.append(lambda_handler.AwsSession(config, boto_session))
        return sessions[-1]

    monkeypatch.setattr(lambda_handler, "audit_session", recording)
    result = _invoke(account, {"run_id": "guarded"})
    (session,) = sessions
    with pytest.raises(ReadOnlyViolation, match="s3:PutObject"):
        session.client("s3", REGION).put_object(Bucket=BUCKET, Key="x", Body=b"x")
    with pytest.raises(ReadOnlyViolation, match="sns:Publish"):
        session.client("sns", REGION).publish(TopicArn=account["topic"], Message="x")
    # Every request the audit made was a read; the reports and the notification went through the writer.
    report = _read(account, result["report"].removeprefix(f"s3://{BUCKET}/"))
    operations = {call.split(":")[1] for call in report["run"]["api_calls"]}
    assert operations and all(op.startswith(("Get", "List", "Describe")) for op in operations), operations


def test_the_lambda_entry_point_reads_its_environment_and_ignores_the_schedule_event(
        account: dict[str, Any], monkeypatch: Any) -> None:
    for name, value in _environ(account).items():
        monkeypatch.setenv(name, value)
    scheduled = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    result = lambda_handler.handler(scheduled, Context())
    assert result["account"] == ACCOUNT and result["findings"]["FAIL"] >= 2


def test_a_missing_bucket_or_an_unknown_mode_is_refused(account: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="no report bucket"):
        run_handler({}, Context(), boto_session=BOTO, environ={})
    with pytest.raises(ValueError, match="unknown mode"):
        _invoke(account, {"mode": "explode"})


def test_fan_out_plans_audits_shards_and_merges_with_a_failed_shard_as_errors(
        account: dict[str, Any], capsys: Any) -> None:
    extra = {"AWS_AUDIT_REGIONS": f"{REGION},eu-west-1", "AWS_AUDIT_SERVICES": "s3,ec2",
             "AWS_AUDIT_CHECKS": "s3_bucket_versioning_enabled,ec2_ebs_default_encryption_enabled"}
    plan = _invoke(account, {"mode": "plan", "run_id": "exec-1"}, **extra)
    assert plan["run_id"] == "exec-1"
    assert [(s["region"], s["include_global"]) for s in plan["shards"]] == [("eu-west-1", False), (REGION, True)]

    results = []
    for shard in plan["shards"]:
        if shard["region"] == "eu-west-1":  # this one failed after the state machine's retries
            results.append({"shard": shard, "error": {"Error": "Lambda.Unknown", "Cause": "out of memory"}})
            continue
        results.append(_invoke(account, {"mode": "shard", "run_id": "exec-1", "shard": shard}, **extra))
    assert results[1]["key"] == f"{ACCOUNT}/shards/exec-1/{ACCOUNT}-{REGION}.json"

    merged = _invoke(account, {"mode": "aggregate", "run_id": "exec-1", "results": results}, **extra)
    report = _read(account, f"{ACCOUNT}/latest.json")
    assert report["run"]["regions"] == ["eu-west-1", REGION]
    errors = [f for f in report["findings"] if f["status"] == "ERROR"]
    # The global check ran once, in the home region's shard; the failed shard's regional check is an ERROR row.
    assert [(f["check_id"], f["region"]) for f in errors] == [("ec2_ebs_default_encryption_enabled", "eu-west-1")]
    assert {(f["check_id"], f["region"]) for f in report["findings"] if f["status"] != "ERROR"} == {
        ("s3_bucket_versioning_enabled", REGION), ("ec2_ebs_default_encryption_enabled", REGION)}
    assert "Lambda.Unknown" in errors[0]["message"]
    assert any(f["status"] == "FAIL" and f["resource"]["id"] == "plain-data" for f in report["findings"])
    manifest = _read(account, merged["report"].removeprefix(f"s3://{BUCKET}/").replace(".json", ".shards.json"))
    assert manifest["failed_shards"] == [f"{ACCOUNT}-eu-west-1"]
    assert merged["notified"] and merged["findings"]["ERROR"] == 1
    assert "aggregate" in [line.get("phase") for line in _logged(capsys.readouterr().out)]
