"""The Lambda handler, called in-process under moto: reports to a moto bucket, notifications to a moto topic."""
from __future__ import annotations

import json
import sys
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
    # Deployed into a VPC, the function's role may manage network interfaces (Lambda needs it); the audit still
    # cannot: its gateway refuses the call before it is sent, whatever the credentials allow. The very same
    # credentials do create one outside the gateway.
    ec2 = BOTO.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    audit_ec2 = session.client("ec2", REGION)
    with pytest.raises(ReadOnlyViolation, match="ec2:CreateNetworkInterface"):
        audit_ec2.create_network_interface(SubnetId=subnet)
    interface = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    with pytest.raises(ReadOnlyViolation, match="ec2:DeleteNetworkInterface"):
        audit_ec2.delete_network_interface(NetworkInterfaceId=interface)
    with pytest.raises(ReadOnlyViolation, match="ec2:AssignPrivateIpAddresses"):
        audit_ec2.assign_private_ip_addresses(NetworkInterfaceId=interface, SecondaryPrivateIpAddressCount=1)
    assert [i["NetworkInterfaceId"] for i in ec2.describe_network_interfaces()["NetworkInterfaces"]] == [interface]
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


FAN_OUT = {"AWS_AUDIT_REGIONS": f"{REGION},eu-west-1,eu-central-1", "AWS_AUDIT_SERVICES": "s3,ec2",
           "AWS_AUDIT_CHECKS": "s3_bucket_versioning_enabled,ec2_ebs_default_encryption_enabled"}


def test_fan_out_plans_audits_shards_and_merges_with_a_failed_shard_as_errors(
        account: dict[str, Any], capsys: Any) -> None:
    """plan -> shard (one) -> shard_failed (one) -> aggregate, as the state machine calls them; the third shard
    left nothing at all (its child execution failed even to record its failure)."""
    prefix = f"{ACCOUNT}/shards/exec-1/"
    plan = _invoke(account, {"mode": "plan", "run_id": "exec-1"}, **FAN_OUT)
    assert plan == {"run_id": "exec-1", "bucket": BUCKET, "key": f"{prefix}plan.json", "count": 3}
    shards = _read(account, plan["key"])  # the JSON array the Distributed Map's ItemReader reads
    assert [(s["region"], s["include_global"]) for s in shards] == [
        ("eu-central-1", False), ("eu-west-1", False), (REGION, True)]
    lost, failed, audited = shards

    # Each child execution gets {run_id, shard} from the Map's ItemSelector.
    done = _invoke(account, {"mode": "shard", "run_id": "exec-1", "shard": audited}, **FAN_OUT)
    assert done == {"run_id": "exec-1", "shard": f"{ACCOUNT}-{REGION}", "key": f"{prefix}{ACCOUNT}-{REGION}.json"}
    error = {"Error": "Lambda.Unknown", "Cause": "The function ran out of memory"}  # the catcher's $.error
    recorded = _invoke(account, {"mode": "shard_failed", "run_id": "exec-1", "shard": failed, "error": error},
                       **FAN_OUT)
    assert recorded["key"] == f"{prefix}{ACCOUNT}-eu-west-1.error.json"
    record = _read(account, recorded["key"])
    assert (record["shard"], record["error"], record["cause"]) == (failed, "Lambda.Unknown", error["Cause"])

    merged = _invoke(account, {"mode": "aggregate", "run_id": "exec-1", "bucket": BUCKET, "key": plan["key"]},
                     **FAN_OUT)
    report = _read(account, f"{ACCOUNT}/latest.json")
    assert report["run"]["regions"] == ["eu-central-1", "eu-west-1", REGION]
    # No planned shard is missing: the regional check has a row in every planned region, the global one ran once.
    rows = {(f["check_id"], f["region"], f["status"]) for f in report["findings"]}
    assert {(c, r) for c, r, _ in rows if c == "ec2_ebs_default_encryption_enabled"} == {
        ("ec2_ebs_default_encryption_enabled", s["region"]) for s in shards}
    errors = {f["region"]: f for f in report["findings"] if f["status"] == "ERROR"}
    assert set(errors) == {"eu-west-1", "eu-central-1"}
    assert all(f["check_id"] == "ec2_ebs_default_encryption_enabled" for f in errors.values())
    # The failure record keeps the cause; the shard that left nothing says so.
    assert "Lambda.Unknown" in errors["eu-west-1"]["message"]
    assert errors["eu-west-1"]["evidence"]["cause"] == error["Cause"]
    assert "ShardReportMissing" in errors["eu-central-1"]["message"]
    assert "neither a report nor a failure record" in errors["eu-central-1"]["evidence"]["cause"]
    assert any(f["status"] == "FAIL" and f["resource"]["id"] == "plain-data" for f in report["findings"])
    manifest = _read(account, merged["report"].removeprefix(f"s3://{BUCKET}/").replace(".json", ".shards.json"))
    assert manifest["shards"] == sorted(f"{ACCOUNT}-{s['region']}" for s in shards)
    assert manifest["failed_shards"] == [f"{ACCOUNT}-eu-central-1", f"{ACCOUNT}-eu-west-1"]
    assert merged["notified"] and merged["findings"]["ERROR"] == 2

    logged = {line.get("phase"): line for line in _logged(capsys.readouterr().out)}
    assert logged["shard_failed"]["shard"] == f"{ACCOUNT}-eu-west-1"
    assert logged["aggregate"]["missing"] == [f"{ACCOUNT}-eu-central-1"] and logged["aggregate"]["shards"] == 3


def test_aggregating_without_a_plan_is_refused(account: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="no shard plan"):
        _invoke(account, {"mode": "aggregate", "run_id": "never-planned"}, **FAN_OUT)


# Seventeen regions, as an account with every default region enabled has.
SEVENTEEN_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-west-1",
                     "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
                     "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2")
SMALL = 4 * 1024  # Step Functions' limit is 256 KB; what passes between the states stays far below it


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def test_what_passes_between_the_states_stays_small_for_an_organization_of_1700_shards(
        account: dict[str, Any], aws: boto3.Session, capsys: Any) -> None:
    """100 accounts (the function's and 99 members, in a simulated organization) x 17 regions, through the
    handler. Every event a state sends and every answer it passes on is measured; the shard list stays in S3."""
    org = aws.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    for n in range(99):
        org.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")
    extra = {**FAN_OUT, "AWS_AUDIT_REGIONS": ",".join(SEVENTEEN_REGIONS), "AWS_AUDIT_ORG_ROLE": "AuditRole"}
    sizes: dict[str, int] = {}

    plan_event = {"mode": "plan", "run_id": "exec-big"}
    plan = _invoke(account, plan_event, **extra)
    sizes["plan event"], sizes["plan answer"] = _size(plan_event), _size(plan)
    assert plan["count"] == 1700
    shards = _read(account, plan["key"])
    assert len({(s["account"], s["region"]) for s in shards}) == len(shards) == 1700
    assert len({s["account"] for s in shards}) == 100 and sum(s["include_global"] for s in shards) == 100
    listed = len(account["s3"].get_object(Bucket=BUCKET, Key=plan["key"])["Body"].read())
    assert listed > 128 * 1024  # the list itself: half the state limit already, before any shard has a result

    # The Map's ItemSelector gives each child {run_id, shard}; the child sends the shard (or its failure) on.
    item = max(({"run_id": plan["run_id"], "shard": s} for s in shards), key=_size)
    member = item["shard"]
    assert member["role_arn"]  # the largest item is a member account's shard (it carries the role)
    shard_event = {"mode": "shard", **item}
    error = {"Error": "States.Timeout", "Cause": json.dumps({"errorMessage": "Task timed out after 900.00 seconds",
                                                             "errorType": "Sandbox.Timedout"})}
    failed_event = {"mode": "shard_failed", **item, "error": error}
    sizes.update({"map item": _size(item), "shard event": _size(shard_event),
                  "shard_failed event": _size(failed_event)})
    # One member shard audited for real (the role is assumed in the simulated member account), one recorded failed.
    sizes["shard answer"] = _size(_invoke(account, shard_event, **extra))
    other = next(s for s in shards if s["account"] != member["account"])
    sizes["shard_failed answer"] = _size(_invoke(account, {**failed_event, "shard": other}, **extra))
    # Each child's own output is {} (OutputPath null): what the Map collects before discarding it.
    sizes["map results (discarded)"] = _size([{}] * plan["count"])

    aggregate_event = {"mode": "aggregate", "run_id": plan["run_id"], "bucket": plan["bucket"], "key": plan["key"]}
    merged = _invoke(account, aggregate_event, **extra)
    sizes["aggregate event"], sizes["aggregate answer"] = _size(aggregate_event), _size(merged)

    with capsys.disabled():  # shown with `pytest -s`
        sys.stderr.write(f"\npayload sizes for 1,700 shards (bytes): {sizes}; the shard list in S3: {listed}\n")
    assert all(size < SMALL for name, size in sizes.items() if name != "map results (discarded)"), sizes
    assert sizes["map results (discarded)"] < 6 * 1024, sizes  # 3 bytes a shard: 256 KB at ~87,000 shards

    # And not one of the 1,700 planned shards is missing from the merged report.
    manifest = _read(account, merged["report"].removeprefix(f"s3://{BUCKET}/").replace(".json", ".shards.json"))
    assert manifest["shards"] == sorted(f"{s['account']}-{s['region']}" for s in shards)
    assert len(manifest["failed_shards"]) == 1699  # all but the one audited
    report = _read(account, f"{ACCOUNT}/latest.json")
    regional = {(f["account"], f["region"]) for f in report["findings"]
                if f["check_id"] == "ec2_ebs_default_encryption_enabled"}
    assert regional == {(s["account"], s["region"]) for s in shards}
    logged = {line.get("phase"): line for line in _logged(capsys.readouterr().out)}
    assert len(logged["aggregate"]["missing"]) == 1698


def _accepted(*rules: dict[str, str]) -> str:
    """AWS_AUDIT_ACCEPTED as the stack sets it: a mutelist document in compact JSON."""
    return json.dumps({"rules": list(rules)}, separators=(",", ":"))


PLAIN_DATA_ACCEPTED = {"check": "s3_bucket_versioning_enabled", "resource": "arn:aws:s3:::plain-data",
                       "reason": "Scratch data, rebuilt every night", "owner": "aws-audit deploy"}


def test_the_stacks_accepted_findings_are_muted_with_their_reason_and_never_notify(account: dict[str, Any]) -> None:
    result = _invoke(account, {"run_id": "run-1", "accepted": _accepted()},  # an event cannot change what is muted
                     AWS_AUDIT_ACCEPTED=_accepted(PLAIN_DATA_ACCEPTED))
    report = _read(account, f"{ACCOUNT}/latest.json")
    rows = {(f["check_id"], f["resource"]["id"]): f for f in report["findings"]}
    muted = rows[("s3_bucket_versioning_enabled", "plain-data")]
    assert muted["status"] == "FAIL" and muted["muted"] is True
    assert muted["mute_reason"] == "Scratch data, rebuilt every night (owner: aws-audit deploy)"
    # Only that exact resource: the report bucket's own versioning finding is not touched.
    assert rows[("s3_bucket_versioning_enabled", BUCKET)]["muted"] is False
    assert report["summary"]["mutelist"]["rules"] == 1 and report["summary"]["totals"]["muted"] == 1
    (message,) = _messages(account)
    listed = {(line.split()[2], line.split("Bucket ")[-1].split()[0]) for line in message["Message"].splitlines()
              if line.startswith("- [")}
    assert ("s3_bucket_versioning_enabled", BUCKET) in listed and ("s3_bucket_public_access_blocked", "plain-data") \
        in listed
    assert ("s3_bucket_versioning_enabled", "plain-data") not in listed
    assert result["findings"]["FAIL"] == sum(f["status"] == "FAIL" and not f["muted"] for f in report["findings"])


def test_a_malformed_accepted_list_fails_the_invocation(account: dict[str, Any]) -> None:
    from auditor.errors import ConfigError

    with pytest.raises(ConfigError, match="AWS_AUDIT_ACCEPTED.*'owner'"):
        _invoke(account, AWS_AUDIT_ACCEPTED=_accepted({"check": "s3_*", "reason": "no owner"}))


def test_fan_out_shards_and_aggregation_mute_the_accepted_findings(account: dict[str, Any]) -> None:
    """A shard mutes as `run` does; the aggregation mutes what it made itself (a lost shard's ERROR rows)."""
    lost_shard = {"check": "ec2_ebs_default_encryption_enabled", "region": "eu-central-1",
                  "resource": f"arn:aws:::{ACCOUNT}", "reason": "Region being decommissioned",
                  "owner": "aws-audit deploy"}
    extra = {**FAN_OUT, "AWS_AUDIT_ACCEPTED": _accepted(PLAIN_DATA_ACCEPTED, lost_shard)}
    plan = _invoke(account, {"mode": "plan", "run_id": "exec-m"}, **extra)
    shards = _read(account, plan["key"])
    home = next(s for s in shards if s["region"] == REGION)
    done = _invoke(account, {"mode": "shard", "run_id": "exec-m", "shard": home}, **extra)
    shard_report = _read(account, done["key"])
    (plain,) = [f for f in shard_report["findings"] if f["resource"]["id"] == "plain-data"]
    assert plain["muted"] and plain["mute_reason"].startswith("Scratch data")

    merged = _invoke(account, {"mode": "aggregate", "run_id": "exec-m", "key": plan["key"]}, **extra)
    report = _read(account, f"{ACCOUNT}/latest.json")
    muted = {(f["check_id"], f["region"], f["resource"]["id"]): f["mute_reason"] for f in report["findings"]
             if f["muted"]}
    assert muted == {
        ("s3_bucket_versioning_enabled", REGION, "plain-data"): "Scratch data, rebuilt every night (owner: aws-audit "
                                                                "deploy)",
        ("ec2_ebs_default_encryption_enabled", "eu-central-1", ACCOUNT): "Region being decommissioned (owner: "
                                                                          "aws-audit deploy)",
    }
    # The other lost shard's rows are not covered by a rule: they stay ERROR and count.
    assert merged["findings"]["ERROR"] == 1
    assert report["summary"]["mutelist"]["rules"] == 2
    (message,) = _messages(account)
    assert "plain-data" not in message["Message"]
