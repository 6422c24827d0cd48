"""The stack's template: what moto ignores is asserted here, on the template itself, and by cfn-lint."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.deploy.template import (
    MAP_CONCURRENCY,
    MAP_LABEL,
    StackOptions,
    build_template,
    memory_for_workers,
    render,
    state_machine_definition,
)
from auditor.models import Severity

CODE = "artifacts/aws-audit-lambda-0123456789abcdef.zip"
TOPIC = "arn:aws:sns:us-east-1:123456789012:security-alerts"
SUBNETS = ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788")
SECURITY_GROUPS = ("sg-0123456789abcdef0",)


def _permissions(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["permissions", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


VARIANTS = {  # built when asked: the least-privilege policy is whatever `permissions` prints at that moment
    "bootstrap": lambda: (StackOptions(), None),
    "default": lambda: (StackOptions(notify_email="security@example.com"), CODE),
    "existing-topic-least-privilege": lambda: (
        StackOptions(sns_topic_arn=TOPIC, least_privilege_policy=_permissions()), CODE),
    "fan-out-organization": lambda: (StackOptions(fan_out=True, org_role_name="AuditRole",
                                                  fail_on=Severity.CRITICAL, services=("s3", "iam")), CODE),
    "vpc-least-privilege": lambda: (StackOptions(subnet_ids=SUBNETS, security_group_ids=SECURITY_GROUPS,
                                                 least_privilege_policy=_permissions("--service", "lambda")), CODE),
}


def _template(name: str) -> dict[str, Any]:
    options, code = VARIANTS[name]()
    return build_template(options, code_key=code)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_accepts_every_variant(tmp_path: Path) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    if cfn_lint is None:
        pytest.skip("cfn-lint is not installed (pip install cfn-lint)")
    paths = []
    for name in VARIANTS:
        path = tmp_path / f"{name}.json"
        path.write_text(render(_template(name)), encoding="utf-8")
        paths.append(str(path))
    result = subprocess.run([cfn_lint, "--format", "parseable", *paths], capture_output=True, text=True,
                            timeout=120, check=False)
    problems = [line for line in result.stdout.splitlines() if line.strip()]
    # W3037 (unknown IAM action) can only come from the checks' declared `api_calls`, which the least-privilege
    # policy is made of: reported as a warning here (it is the checks' bug), not as the template's.
    unknown_actions = [p for p in problems if ":W3037:" in p and "least-privilege" in p]
    for line in unknown_actions:
        warnings.warn(f"a check declares an action IAM does not know: {line.split(':W3037:')[1]}", stacklevel=1)
    assert [p for p in problems if p not in unknown_actions] == [], result.stdout + result.stderr
    assert result.returncode in (0, 4 if unknown_actions else 0), result.stderr  # 4: warnings only


def test_the_report_bucket_is_built_the_way_the_guide_builds_s3() -> None:
    template = _template("default")
    (bucket,) = _of_type(template, "AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                     "KMSMasterKeyID": {"Fn::GetAtt": ["ReportKey", "Arn"]}}
    assert rule["BucketKeyEnabled"] is True
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in lifecycle["Transitions"]] == [
        ("STANDARD_IA", 90), ("GLACIER", 180)]
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert lifecycle["ExpirationInDays"] == 365
    assert props["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 30}

    (policy,) = _of_type(template, "AWS::S3::BucketPolicy").values()
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [{"Fn::GetAtt": ["ReportBucket", "Arn"]}, {"Fn::Sub": "${ReportBucket.Arn}/*"}]

    (key,) = _of_type(template, "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"


def test_the_function_is_arm64_python312_traced_with_a_retained_log() -> None:
    template = _template("default")
    (function,) = _of_type(template, "AWS::Lambda::Function").values()
    props = function["Properties"]
    assert props["Runtime"] == "python3.12" and props["Architectures"] == ["arm64"]
    assert props["Handler"] == "auditor.lambda_handler.handler"
    assert props["Timeout"] == 900 and props["MemorySize"] == memory_for_workers(16) == 1024
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["Code"] == {"S3Bucket": {"Ref": "ReportBucket"}, "S3Key": CODE}
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}
    env = props["Environment"]["Variables"]
    assert env["AWS_AUDIT_BUCKET"] == {"Ref": "ReportBucket"} and env["AWS_AUDIT_FAIL_ON"] == "high"
    assert env["AWS_AUDIT_TOPIC_ARN"] == {"Ref": "NotificationTopic"}
    (log_group,) = _of_type(template, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert log_group["Properties"]["LogGroupName"] == "/aws/lambda/aws-audit"
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["ReportKey", "Arn"]}
    assert memory_for_workers(64) == 4096

    (invoke,) = _of_type(template, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke["Properties"]["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["FailedRunQueue", "Arn"]}}}
    (queue,) = _of_type(template, "AWS::SQS::Queue").values()
    assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["ReportKey", "Arn"]}

    (schedule,) = _of_type(template, "AWS::Events::Rule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 day)"
    assert schedule["Properties"]["Targets"] == [{"Id": "audit", "Arn": {"Fn::GetAtt": ["Function", "Arn"]}}]
    (permission,) = _of_type(template, "AWS::Lambda::Permission").values()
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": ["Schedule", "Arn"]}

    (topic,) = _of_type(template, "AWS::SNS::Topic").values()
    assert topic["Properties"]["Subscription"] == [{"Protocol": "email", "Endpoint": "security@example.com"}]
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "ReportKey"}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def test_the_role_reads_with_the_managed_audit_policies_and_writes_only_its_own_things() -> None:
    role = _template("default")["Resources"]["FunctionRole"]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/SecurityAudit"},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/job-function/ViewOnlyAccess"}]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in _statements(role)}
    assert grants == {
        "WriteOwnReports": (["s3:PutObject", "s3:GetObject"], {"Fn::Sub": "${ReportBucket.Arn}/${AWS::AccountId}/*"}),
        "ListOwnReports": ("s3:ListBucket", {"Fn::GetAtt": ["ReportBucket", "Arn"]}),
        "UseReportKey": (["kms:GenerateDataKey", "kms:Decrypt"], {"Fn::GetAtt": ["ReportKey", "Arn"]}),
        "OwnLogGroup": (["logs:CreateLogStream", "logs:PutLogEvents"], {"Fn::Sub": "${FunctionLogGroup.Arn}"}),
        "RecordFailedRuns": ("sqs:SendMessage", {"Fn::GetAtt": ["FailedRunQueue", "Arn"]}),
        "Tracing": (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
        "NotifyNewFindings": ("sns:Publish", {"Ref": "NotificationTopic"}),
    }
    assert not any("*" in json.dumps(s["Action"]) and s["Sid"] != "Tracing" for s in _statements(role))
    # Without subnets nothing of EC2: the network-interface grant exists only for a function in a VPC.
    assert [p["PolicyName"] for p in role["Properties"]["Policies"]] == ["write-own-reports"]
    assert "ec2:" not in json.dumps(role) and "VpcConfig" not in _template("default")["Resources"]["Function"][
        "Properties"]


def test_in_a_vpc_the_role_gets_exactly_what_lambda_documents_scoped_to_the_given_subnets() -> None:
    template = _template("vpc-least-privilege")
    function = template["Resources"]["Function"]["Properties"]
    assert function["VpcConfig"] == {"SubnetIds": list(SUBNETS), "SecurityGroupIds": list(SECURITY_GROUPS)}
    role = template["Resources"]["FunctionRole"]
    own, vpc = role["Properties"]["Policies"]
    # The role's own things are unchanged: writing its reports, logs, queue and traces, and nothing else.
    assert own["PolicyName"] == "write-own-reports" and "ec2:" not in json.dumps(own)
    assert {s["Sid"] for s in own["PolicyDocument"]["Statement"]} == {
        "WriteOwnReports", "ListOwnReports", "UseReportKey", "OwnLogGroup", "RecordFailedRuns", "Tracing"}
    # The one grant beyond them, in its own policy: Lambda manages the function's network interfaces.
    assert vpc["PolicyName"] == "run-in-vpc"
    ec2 = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}"
    interfaces = {"Fn::Sub": f"{ec2}:network-interface/*"}
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in vpc["PolicyDocument"]["Statement"]}
    assert grants == {
        "LambdaCreatesItsInterfacesInTheGivenSubnets": ("ec2:CreateNetworkInterface", [
            interfaces, *({"Fn::Sub": f"{ec2}:subnet/{s}"} for s in SUBNETS),
            {"Fn::Sub": f"{ec2}:security-group/{SECURITY_GROUPS[0]}"}]),
        "LambdaDescribesItsNetwork": (["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], "*"),
        "LambdaRemovesAndReaddressesItsInterfaces": (["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                                                      "ec2:UnassignPrivateIpAddresses"], interfaces),
    }
    # The actions of AWSLambdaVPCAccessExecutionRole, less logs:CreateLogGroup (the stack creates the log group).
    actions = {a for s in vpc["PolicyDocument"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                                      else s["Action"])}
    assert actions == {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                       "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in vpc["PolicyDocument"]["Statement"])


def test_subnets_and_security_groups_go_together_and_must_be_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="give both or neither"):
        StackOptions(subnet_ids=SUBNETS)
    with pytest.raises(ValueError, match="give both or neither"):
        StackOptions(security_group_ids=SECURITY_GROUPS)
    with pytest.raises(ValueError, match="not a subnet ID"):
        StackOptions(subnet_ids=("subnet-1/*",), security_group_ids=SECURITY_GROUPS)
    with pytest.raises(ValueError, match="not a security group ID"):
        StackOptions(subnet_ids=SUBNETS, security_group_ids=("${AWS::AccountId}",))
    refused = CliRunner().invoke(main, ["deploy", "--dry-run", "--deps", "local", "--output-dir", str(tmp_path),
                                        "--subnet-ids", ",".join(SUBNETS)])
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        "aws-audit: error: --subnet-ids and --security-group-ids go together: give both or neither"]
    assert list(tmp_path.iterdir()) == []


def test_least_privilege_grants_exactly_what_permissions_prints() -> None:
    template = _template("existing-topic-least-privilege")
    role = template["Resources"]["FunctionRole"]
    assert "ManagedPolicyArns" not in role["Properties"]
    (read,) = _of_type(template, "AWS::IAM::ManagedPolicy").values()
    assert read["Properties"]["PolicyDocument"] == _permissions()
    assert read["Properties"]["Roles"] == [{"Ref": "FunctionRole"}]
    assert "AWS::SNS::Topic" not in {r["Type"] for r in template["Resources"].values()}
    assert {"Sid": "NotifyNewFindings", "Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC} in \
        _statements(role)
    assert len(json.dumps(read["Properties"]["PolicyDocument"], separators=(",", ":"))) < 6144  # managed limit


def test_the_cli_builds_the_least_privilege_policy_of_the_selected_checks(aws: Any, tmp_path: Path) -> None:
    """Under moto: a dry run asks STS who the caller is (for accepted-findings.yaml)."""
    result = CliRunner().invoke(main, ["deploy", "--dry-run", "--deps", "local", "--output-dir", str(tmp_path),
                                       "--least-privilege", "--service", "s3", "--sns-topic", TOPIC])
    assert result.exit_code == 0, result.output
    template = json.loads((tmp_path / "aws-audit.template.json").read_text())
    (read,) = _of_type(template, "AWS::IAM::ManagedPolicy").values()
    assert read["Properties"]["PolicyDocument"] == _permissions("--service", "s3")


def _reachable(states: dict[str, Any], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        todo += [state["Next"]] if "Next" in state else []
        todo += [c["Next"] for c in state.get("Catch", [])]
    return seen


def _check_machine(machine: dict[str, Any]) -> None:
    states = machine["States"]
    assert machine["StartAt"] in states
    assert _reachable(states, machine["StartAt"]) == set(states)
    for name, state in states.items():
        assert state.get("End") is True or state.get("Next") in states, name
        for catch in state.get("Catch", []):
            assert catch["Next"] in states
        if state["Type"] == "Map":
            _check_machine(state["ItemProcessor"])


def test_the_state_machine_plans_maps_shards_with_retry_and_catch_then_aggregates() -> None:
    template = _template("fan-out-organization")
    (machine,) = _of_type(template, "AWS::StepFunctions::StateMachine").values()
    separator, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]
    arn = "arn:aws:lambda:us-east-1:123456789012:function:aws-audit"
    assert separator == "" and parts.count({"Fn::GetAtt": ["Function", "Arn"]}) == 4
    definition = json.loads("".join(arn if isinstance(p, dict) else p for p in parts))
    assert json.dumps(definition).count(arn) == 4
    assert definition == json.loads(json.dumps(state_machine_definition()).replace("${FunctionArn}", arn))
    _check_machine(definition)
    states = definition["States"]
    assert [states[n]["Type"] for n in ("Plan", "Shards", "Aggregate")] == ["Task", "Map", "Task"]
    assert all(states[n]["Retry"] for n in ("Plan", "Aggregate"))

    # Plan passes on where the shard list is, not the list.
    plan = states["Plan"]
    assert plan["Parameters"]["Payload"] == {"mode": "plan", "run_id.$": "$$.Execution.Name"}
    assert plan["ResultSelector"] == {"run_id.$": "$.Payload.run_id", "bucket.$": "$.Payload.bucket",
                                      "key.$": "$.Payload.key", "count.$": "$.Payload.count"}

    # A Distributed Map reads the list from S3 itself and keeps nothing of its children's results.
    shards = states["Shards"]
    assert "ItemsPath" not in shards
    assert shards["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert shards["ItemReader"] == {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                                    "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}}
    assert shards["ItemSelector"] == {"run_id.$": "$.run_id", "shard.$": "$$.Map.Item.Value"}
    assert shards["MaxConcurrency"] == MAP_CONCURRENCY and shards["Label"] == MAP_LABEL
    assert shards["ToleratedFailurePercentage"] == 100  # a child that fails does not stop the run
    assert shards["ResultPath"] is None and "ResultSelector" not in shards
    children = shards["ItemProcessor"]["States"]
    assert all(state["OutputPath"] is None for state in children.values())  # each child's result is {}

    audit = children["AuditShard"]
    assert audit["Parameters"]["Payload"] == {"mode": "shard", "run_id.$": "$.run_id", "shard.$": "$.shard"}
    assert any(r["ErrorEquals"] == ["States.ALL"] and r["MaxAttempts"] >= 1 for r in audit["Retry"])
    assert audit["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordShardFailure"}]
    record = children["RecordShardFailure"]
    assert record["Type"] == "Task" and record["Retry"] and "Catch" not in record
    assert record["Parameters"]["Payload"] == {"mode": "shard_failed", "run_id.$": "$.run_id", "shard.$": "$.shard",
                                               "error.$": "$.error"}

    aggregate = states["Aggregate"]
    assert aggregate["Parameters"]["Payload"] == {"mode": "aggregate", "run_id.$": "$.run_id", "bucket.$": "$.bucket",
                                                  "key.$": "$.key"}

    (schedule,) = _of_type(template, "AWS::Events::Rule").values()
    assert schedule["Properties"]["Targets"][0]["Arn"] == {"Ref": "StateMachine"}
    assert "AWS::Lambda::Permission" not in {r["Type"] for r in template["Resources"].values()}
    function = template["Resources"]["Function"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == MAP_CONCURRENCY + 2
    assert function["Environment"]["Variables"]["AWS_AUDIT_ORG_ROLE"] == "AuditRole"
    assert function["Environment"]["Variables"]["AWS_AUDIT_SERVICES"] == "s3,iam"
    assume = [s for s in _statements(template["Resources"]["FunctionRole"]) if s["Sid"] == "EnterMemberAccounts"]
    assert assume[0]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/AuditRole"}


def test_the_state_machine_role_grants_what_a_distributed_map_needs_and_no_more() -> None:
    template = _template("fan-out-organization")
    machine = template["Resources"]["StateMachine"]["Properties"]
    assert machine["RoleArn"] == {"Fn::GetAtt": ["StateMachineRole", "Arn"]} and machine["StateMachineName"] == \
        "aws-audit"
    role = template["Resources"]["StateMachineRole"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "states.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in _statements(role)}
    machine_arn = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:aws-audit"
    assert {sid: grant for sid, grant in grants.items() if sid not in {"Tracing", "DeliverLogs"}} == {
        "InvokeAudit": ("lambda:InvokeFunction", [{"Fn::GetAtt": ["Function", "Arn"]},
                                                  {"Fn::Sub": "${Function.Arn}:*"}]),
        # The plan is read under the stack account's own prefix only (the function writes nowhere else).
        "ReadShardPlan": ("s3:GetObject", {"Fn::Sub": "${ReportBucket.Arn}/${AWS::AccountId}/shards/*"}),
        # The bucket is encrypted with the stack's key: reading the plan needs Decrypt, through S3 only.
        "DecryptShardPlan": ("kms:Decrypt", {"Fn::GetAtt": ["ReportKey", "Arn"]}),
        "StartShardExecutions": ("states:StartExecution", {"Fn::Sub": machine_arn}),
        "WatchShardExecutions": (["states:DescribeExecution", "states:StopExecution"], {"Fn::Sub": (
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:aws-audit/*")}),
    }
    (decrypt,) = [s for s in _statements(role) if s["Sid"] == "DecryptShardPlan"]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}}
    bucket = template["Resources"]["ReportBucket"]["Properties"]["BucketEncryption"]
    assert bucket["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == \
        decrypt["Resource"]
    # The role names the state machine by its ARN, never by a reference to it (that would be a cycle).
    assert "StateMachine" not in json.dumps(role).replace("StateMachineRole", "")
    actions = [a for s in _statements(role) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not [a for a in actions if "*" in a]
    assert all(s["Resource"] == "*" for s in _statements(role) if s["Sid"] in {"Tracing", "DeliverLogs"})

    # The function reads and lists what it wrote under its own prefix: the plan, the shard reports, failure records.
    function = {s["Sid"]: s for s in _statements(template["Resources"]["FunctionRole"])}
    assert "s3:GetObject" in function["WriteOwnReports"]["Action"]
    assert function["WriteOwnReports"]["Resource"] == {"Fn::Sub": "${ReportBucket.Arn}/${AWS::AccountId}/*"}
    assert function["ListOwnReports"]["Condition"] == {
        "StringLike": {"s3:prefix": [{"Fn::Sub": "${AWS::AccountId}/*"}]}}


def test_the_bootstrap_step_is_the_key_and_the_bucket_only() -> None:
    assert set(_template("bootstrap")["Resources"]) == {"ReportKey", "ReportKeyAlias", "ReportBucket",
                                                       "ReportBucketPolicy"}


def test_contradictory_options_are_refused() -> None:
    with pytest.raises(ValueError, match="exclude each other"):
        StackOptions(notify_email="a@example.com", sns_topic_arn=TOPIC)
    with pytest.raises(ValueError, match="--fan-out"):
        StackOptions(org_role_name="AuditRole")
