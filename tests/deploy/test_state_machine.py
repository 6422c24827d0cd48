"""The fan-out state machine's own definition, executed by moto's Step Functions interpreter, with its Lambda
invocations answered in-process by the handler: Plan writes the shard list to S3, the Distributed Map's ItemReader
reads it from there, a shard that fails after its retries is caught and recorded, Aggregate merges.

What the interpreter does not do, and where that is covered instead:
- it ignores ToleratedFailurePercentage (it says so when it parses it), so a child execution that fails outright
  would end the Map: the aggregation of a shard that left neither report nor failure record is driven through the
  handler in test_handler.py;
- it reads ToleratedFailurePercentage only as a decimal literal (100.0), where cfn-lint's schema has an integer:
  the copy executed here says 100.0;
- it waits out Retry intervals for real: the copy executed here waits 1 s between attempts instead of 2 s / 30 s
  growing, with the same number of attempts;
- it enforces neither IAM nor the 256 KB limit: the role is asserted on the template (test_template.py), and the
  sizes of what passes between the states are measured here and, for 1,700 shards, in test_handler.py.
"""
from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaFunction

from auditor.deploy.template import state_machine_definition
from auditor.lambda_handler import run_handler
from tests.conftest import ACCOUNT, BOTO, REGION

BUCKET = "audit-reports"
FAILING_REGION = "eu-west-1"
SMALL = 4 * 1024
ENVIRONMENT = {"AWS_AUDIT_BUCKET": BUCKET, "AWS_AUDIT_REGIONS": f"{REGION},{FAILING_REGION}",
               "AWS_AUDIT_SERVICES": "s3,ec2", "AWS_AUDIT_FAIL_ON": "none", "AWS_AUDIT_WORKERS": "4",
               "AWS_AUDIT_CHECKS": "s3_bucket_versioning_enabled,ec2_ebs_default_encryption_enabled"}


@dataclass
class _Context:
    invoked_function_arn: str
    aws_request_id: str


@pytest.fixture
def interpreter(monkeypatch: Any) -> Iterator[list[dict[str, Any]]]:
    """moto with its Step Functions interpreter on; every Lambda invocation runs the handler in-process (instead of
    a container) and is recorded. The shard in FAILING_REGION raises, on every attempt."""
    calls: list[dict[str, Any]] = []

    def invoke(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        calls.append(dict(event))
        try:
            if event.get("mode") == "shard" and event["shard"]["region"] == FAILING_REGION:
                raise MemoryError("the shard ran out of memory")
            context = _Context(function.function_arn, str(uuid.uuid4()))
            result = run_handler(event, context, boto_session=BOTO, environ=dict(function.environment_vars))
        except Exception as exc:  # what the Lambda runtime does with an unhandled exception
            return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}), True, ""
        return json.dumps(result), False, ""

    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", invoke)
    with mock_aws(config={"core": {"reset_boto3_session": False}, "stepfunctions": {"execute_state_machine": True}}):
        yield calls


def _executable(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition as the interpreter can run it in a test (see the module docstring)."""
    definition = json.loads(json.dumps(definition))
    definition["States"]["Shards"]["ToleratedFailurePercentage"] = float(
        definition["States"]["Shards"]["ToleratedFailurePercentage"])

    def shorten(node: Any) -> None:
        if isinstance(node, dict):
            if "IntervalSeconds" in node:
                node.update(IntervalSeconds=1, BackoffRate=1.0)
            for value in node.values():
                shorten(value)
        elif isinstance(node, list):
            for value in node:
                shorten(value)

    shorten(definition)
    return definition


def _function() -> str:
    iam = BOTO.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="aws-audit", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("auditor/__init__.py", "")  # never run: the handler answers in-process
    return BOTO.client("lambda", region_name=REGION).create_function(
        FunctionName="aws-audit", Runtime="python3.12", Role=role, Handler="auditor.lambda_handler.handler",
        Code={"ZipFile": code.getvalue()}, Environment={"Variables": ENVIRONMENT})["FunctionArn"]


def _finished(sfn: Any, execution: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180  # a bound against hanging, not a timing assertion
    while (answer := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not finish"
        time.sleep(0.2)
    return answer


def _read(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_the_definition_runs_plan_distributed_map_with_a_caught_failure_then_aggregate(
        interpreter: list[dict[str, Any]]) -> None:
    s3 = BOTO.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="plain-data")
    function = _function()
    definition = state_machine_definition()
    sfn = BOTO.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="aws-audit", roleArn=f"arn:aws:iam::{ACCOUNT}:role/aws-audit-states",
        definition=json.dumps(_executable(definition)).replace("${FunctionArn}", function))["stateMachineArn"]

    execution = sfn.start_execution(stateMachineArn=machine, name="exec-1")["executionArn"]
    finished = _finished(sfn, execution)
    assert finished["status"] == "SUCCEEDED", finished
    prefix = f"{ACCOUNT}/shards/exec-1/"
    report_uri = f"s3://{BUCKET}/{ACCOUNT}/"
    output = json.loads(finished["output"])
    assert set(output) == {"report", "new_failing"} and output["report"].startswith(report_uri)

    # The handler was called as the definition says: the failing shard as often as its retries allow, then once
    # to record its failure.
    attempts = 1 + max(r["MaxAttempts"] for r in definition["States"]["Shards"]["ItemProcessor"]["States"]
                       ["AuditShard"]["Retry"] if r["ErrorEquals"] == ["States.ALL"])
    modes = [(c["mode"], c.get("shard", {}).get("region")) for c in interpreter]
    assert modes[0] == ("plan", None) and modes[-1] == ("aggregate", None)
    assert sorted(modes[1:-1]) == sorted([("shard", REGION), *[("shard", FAILING_REGION)] * attempts,
                                          ("shard_failed", FAILING_REGION)])
    assert interpreter[-1] == {"mode": "aggregate", "run_id": "exec-1", "bucket": BUCKET, "key": f"{prefix}plan.json"}
    (recorded,) = [c for c in interpreter if c["mode"] == "shard_failed"]
    assert recorded["error"]["Error"] == "MemoryError" and "ran out of memory" in recorded["error"]["Cause"]

    # The data stayed in S3: the plan the ItemReader read, one report, one failure record.
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]}
    assert keys == {f"{prefix}plan.json", f"{prefix}{ACCOUNT}-{REGION}.json",
                    f"{prefix}{ACCOUNT}-{FAILING_REGION}.error.json"}
    assert [s["region"] for s in _read(s3, f"{prefix}plan.json")] == [FAILING_REGION, REGION]
    report = _read(s3, output["report"].removeprefix(f"s3://{BUCKET}/"))
    (error,) = [f for f in report["findings"] if f["status"] == "ERROR"]
    assert (error["check_id"], error["region"]) == ("ec2_ebs_default_encryption_enabled", FAILING_REGION)
    assert "MemoryError" in error["message"] and "ran out of memory" in error["evidence"]["cause"]
    assert any(f["status"] == "FAIL" and f["resource"]["id"] == "plain-data" for f in report["findings"])

    # What passed between the parent's states: small, and never the shard list (the children run as executions of
    # their own, with histories of their own).
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert {e["type"] for e in events} >= {"MapRunStarted", "MapRunSucceeded", "TaskSucceeded"}
    payloads = [text for e in events for name, details in e.items() if name.endswith("EventDetails")
                for field, text in details.items() if field in {"input", "output", "parameters"}]
    assert payloads and all(len(text.encode("utf-8")) < SMALL for text in payloads)
    assert not [text for text in payloads if "include_global" in text]
    (entered,) = [e for e in events if e["type"] == "MapStateEntered"]
    assert json.loads(entered["stateEnteredEventDetails"]["input"]) == {
        "run_id": "exec-1", "bucket": BUCKET, "key": f"{prefix}plan.json", "count": 2}
    (run,) = [e for e in events if e["type"] == "MapRunStarted"]
    assert ":mapRun:aws-audit/Shards:" in run["mapRunStartedEventDetails"]["mapRunArn"]  # the role's ARN pattern
