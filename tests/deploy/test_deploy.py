"""`deploy` and `undeploy` against moto's CloudFormation (in-process)."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.deploy.accepted import CONFIG_KEY, REASONS
from auditor.deploy.bundle import Bundle
from auditor.deploy.deploy import Deployer
from auditor.deploy.template import StackOptions, state_machine_definition
from auditor.errors import AuditError
from auditor.mutelist import Mutelist
from tests.conftest import ACCOUNT, REGION
from tests.deploy.conftest import MOTO_UNSUPPORTED

pytestmark = MOTO_UNSUPPORTED

BUCKET = f"aws-audit-reports-{ACCOUNT}-{REGION}"


def _types(session: boto3.Session, stack: str = "aws-audit") -> dict[str, str]:
    resources = session.client("cloudformation", region_name=REGION).describe_stack_resources(
        StackName=stack)["StackResources"]
    return {r["LogicalResourceId"]: r["ResourceType"] for r in resources if r.get("LogicalResourceId")}


def test_deploy_creates_one_stack_with_the_bundle_uploaded(deploy: Any, aws: boto3.Session, bundle: Bundle) -> None:
    result = deploy(StackOptions(notify_email="security@example.com", schedule="rate(12 hours)"))
    assert result.action == "created"
    assert result.outputs["ReportBucket"] == BUCKET and result.outputs["FunctionName"] == "aws-audit"
    assert set(_types(aws).values()) >= {"AWS::KMS::Key", "AWS::S3::Bucket", "AWS::IAM::Role", "AWS::Logs::LogGroup",
                                         "AWS::Lambda::Function", "AWS::Events::Rule", "AWS::Lambda::Permission",
                                         "AWS::SNS::Topic"}
    stored = aws.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=bundle.key)
    assert stored["Body"].read() == bundle.data and stored["Metadata"]["sha256"] == bundle.sha256

    function = aws.client("lambda", region_name=REGION).get_function(FunctionName="aws-audit")
    config = function["Configuration"]
    assert config["Runtime"] == "python3.12" and config["Timeout"] == 900 and config["MemorySize"] == 1024
    assert config["Handler"] == "auditor.lambda_handler.handler"
    assert config["Environment"]["Variables"]["AWS_AUDIT_BUCKET"] == BUCKET
    assert config["Environment"]["Variables"]["AWS_AUDIT_TOPIC_ARN"] == result.outputs["TopicArn"]
    assert function["Concurrency"]["ReservedConcurrentExecutions"] == 1

    events = aws.client("events", region_name=REGION)
    (rule,) = events.list_rules()["Rules"]
    assert rule["ScheduleExpression"] == "rate(12 hours)"
    assert events.list_targets_by_rule(Rule=rule["Name"])["Targets"][0]["Arn"] == config["FunctionArn"]
    policy = json.loads(aws.client("lambda", region_name=REGION).get_policy(FunctionName="aws-audit")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}

    subscriptions = aws.client("sns", region_name=REGION).list_subscriptions_by_topic(
        TopicArn=result.outputs["TopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "security@example.com")]


def test_deploying_again_updates_the_same_stack_without_uploading_again(deploy: Any) -> None:
    deploy()
    deploy.messages.clear()
    result = deploy(StackOptions(schedule="cron(0 6 * * ? *)"))
    assert result.action in {"updated", "unchanged"}
    assert any("already uploaded" in m for m in deploy.messages)
    assert not any(m.startswith("creating") for m in deploy.messages)


def test_fan_out_deploys_the_state_machine_on_the_schedule(deploy: Any, aws: boto3.Session) -> None:
    result = deploy(StackOptions(fan_out=True))
    machine = aws.client("stepfunctions", region_name=REGION).describe_state_machine(
        stateMachineArn=result.outputs["StateMachineArn"])
    definition = json.loads(machine["definition"])
    expected = json.loads(json.dumps(state_machine_definition()).replace("${FunctionArn}",
                                                                         result.outputs["FunctionArn"]))
    assert definition == expected
    events = aws.client("events", region_name=REGION)
    (rule,) = events.list_rules()["Rules"]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == result.outputs["StateMachineArn"] and target["RoleArn"]
    concurrency = aws.client("lambda", region_name=REGION).get_function_concurrency(FunctionName="aws-audit")
    assert concurrency["ReservedConcurrentExecutions"] == 12


def test_undeploy_keeps_the_report_bucket_and_its_key(deploy: Any, aws: boto3.Session) -> None:
    result = deploy()
    Deployer(aws, REGION, poll_seconds=0.01).undeploy("aws-audit")
    cfn = aws.client("cloudformation", region_name=REGION)
    assert [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "aws-audit"] == [
        "DELETE_COMPLETE"]
    assert BUCKET in [b["Name"] for b in aws.client("s3", region_name=REGION).list_buckets()["Buckets"]]
    key = aws.client("kms", region_name=REGION).describe_key(KeyId=result.outputs["ReportKeyArn"])["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    with pytest.raises(Exception, match="Function not found"):
        aws.client("lambda", region_name=REGION).get_function(FunctionName="aws-audit")


def test_undeploy_with_delete_bucket_empties_and_deletes_it(deploy: Any, aws: boto3.Session) -> None:
    result = deploy()
    s3 = aws.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key=f"{ACCOUNT}/latest.json", Body=b"{}", ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=BUCKET, Key=f"{ACCOUNT}/latest.json", Body=b"{ }", ChecksumAlgorithm="SHA256")
    Deployer(aws, REGION, poll_seconds=0.01).undeploy("aws-audit", delete_bucket=True)
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    key = aws.client("kms", region_name=REGION).describe_key(KeyId=result.outputs["ReportKeyArn"])["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"


def test_undeploy_of_a_missing_stack_says_so(aws: boto3.Session) -> None:
    with pytest.raises(AuditError, match="no stack aws-audit"):
        Deployer(aws, REGION).undeploy("aws-audit")


def test_dry_run_writes_the_template_and_the_bundle_and_changes_nothing(aws: boto3.Session, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["deploy", "--dry-run", "--deps", "local", "--output-dir", str(tmp_path),
                                       "--fan-out", "--notify-email", "security@example.com", "--fail-on", "critical",
                                       "--schedule", "rate(6 hours)", "--subnet-ids", "subnet-0a1b2c3d,subnet-4e5f6a7b",
                                       "--security-group-ids", "sg-0123abcd"])
    assert result.exit_code == 0, result.output
    template = json.loads((tmp_path / "aws-audit.template.json").read_text())
    assert template["Resources"]["Function"]["Properties"]["VpcConfig"] == {
        "SubnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"], "SecurityGroupIds": ["sg-0123abcd"]}
    # The stack's accepted findings, for the account STS names and the session's region, as a mutelist.
    accepted = Mutelist.load(tmp_path / "accepted-findings.yaml")
    assert [(r.check, r.resource, r.owner) for r in accepted.rules] == [
        (check, f"arn:aws:s3:::{BUCKET}", "aws-audit deploy") for check in (
            "s3_bucket_mfa_delete_enabled", "s3_bucket_cross_region_replication_enabled",
            "s3_bucket_access_logging_enabled")]  # in a VPC: lambda_function_in_vpc is not an exception
    assert f"wrote {tmp_path / 'accepted-findings.yaml'}" in result.output
    (zip_path,) = tmp_path.glob("aws-audit-lambda-*.zip")
    assert zipfile.ZipFile(io.BytesIO(zip_path.read_bytes())).testzip() is None
    assert template["Resources"]["Schedule"]["Properties"]["ScheduleExpression"] == "rate(6 hours)"
    assert template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]["AWS_AUDIT_FAIL_ON"] == \
        "critical"
    assert template["Resources"]["Function"]["Properties"]["Code"]["S3Key"].endswith(zip_path.name)
    assert aws.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"] == []
    assert aws.client("s3", region_name=REGION).list_buckets()["Buckets"] == []


def test_a_dry_run_that_cannot_ask_sts_leaves_placeholders_that_match_nothing(tmp_path: Path) -> None:
    """No moto here: the profile does not exist, so nothing is asked of anyone."""
    result = CliRunner().invoke(main, ["deploy", "--dry-run", "--deps", "local", "--output-dir", str(tmp_path),
                                       "--profile", "no-such-profile"])
    assert result.exit_code == 0, result.output
    assert "placeholders for what is not known" in result.output and "no-such-profile" in result.output
    text = (tmp_path / "accepted-findings.yaml").read_text()
    assert "replace them before use" in text
    rules = Mutelist.parse(text).rules
    assert {r.resource for r in rules} == {"arn:<partition>:s3:::aws-audit-reports-<account-id>-<region>",
                                           "arn:<partition>:lambda:<region>:<account-id>:function:aws-audit"}


def test_deploy_writes_the_accepted_findings_to_the_bucket_once(deploy: Any, aws: boto3.Session) -> None:
    result = deploy(StackOptions(stack_name="audit-x"))
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:audit-x"
    assert [(r["check"], r["resource"]) for r in result.accepted] == [
        ("s3_bucket_mfa_delete_enabled", f"arn:aws:s3:::{BUCKET}"),
        ("s3_bucket_cross_region_replication_enabled", f"arn:aws:s3:::{BUCKET}"),
        ("s3_bucket_access_logging_enabled", f"arn:aws:s3:::{BUCKET}"),
        ("lambda_function_in_vpc", function_arn)]
    assert result.accepted_uri == f"s3://{BUCKET}/{CONFIG_KEY}" and CONFIG_KEY == "config/accepted-findings.yaml"
    s3 = aws.client("s3", region_name=REGION)
    stored = Mutelist.parse(s3.get_object(Bucket=BUCKET, Key=CONFIG_KEY)["Body"].read().decode())
    assert [(r.check, r.resource, r.reason) for r in stored.rules] == [
        (r["check"], r["resource"], REASONS[r["check"]]) for r in result.accepted]
    # The function's own environment holds the very same rules.
    environment = aws.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName="audit-x")["Environment"]["Variables"]
    assert json.loads(environment["AWS_AUDIT_ACCEPTED"]) == {"rules": list(result.accepted)}

    deploy.messages.clear()
    again = deploy(StackOptions(stack_name="audit-x"))
    assert again.accepted == result.accepted and not any("accepted findings" in m for m in deploy.messages)
    assert len(s3.list_object_versions(Bucket=BUCKET, Prefix=CONFIG_KEY)["Versions"]) == 1


def test_the_commands_deploy_and_undeploy_through_the_cli(aws: boto3.Session) -> None:
    runner = CliRunner()
    deployed = runner.invoke(main, ["deploy", "--region", REGION, "--deps", "local", "--stack-name", "audit-cli",
                                    "--bucket", "audit-cli-reports", "--sns-topic",
                                    f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts", "--reserved-concurrency", "3",
                                    "--workers", "32"])
    assert deployed.exit_code == 0, deployed.output
    assert "stack audit-cli created" in deployed.output and "ReportBucket: audit-cli-reports" in deployed.output
    accepted = deployed.output.split("accepted findings (")[1].splitlines()[1:]
    assert accepted == [f"  {check} on {resource}: {REASONS[check]}" for check, resource in [
        ("s3_bucket_mfa_delete_enabled", "arn:aws:s3:::audit-cli-reports"),
        ("s3_bucket_cross_region_replication_enabled", "arn:aws:s3:::audit-cli-reports"),
        ("s3_bucket_access_logging_enabled", "arn:aws:s3:::audit-cli-reports"),
        ("lambda_function_in_vpc", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:audit-cli")]]
    assert "s3://audit-cli-reports/config/accepted-findings.yaml" in deployed.output
    function = aws.client("lambda", region_name=REGION).get_function(FunctionName="audit-cli")
    assert function["Concurrency"]["ReservedConcurrentExecutions"] == 3
    assert function["Configuration"]["MemorySize"] == 2048
    refused = runner.invoke(main, ["deploy", "--dry-run", "--deps", "local", "--notify-email", "a@example.com",
                                   "--sns-topic", f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"])
    assert refused.exit_code == 2 and "exclude each other" in refused.output
    removed = runner.invoke(main, ["undeploy", "--region", REGION, "--stack-name", "audit-cli"])
    assert removed.exit_code == 0, removed.output
    assert "kept bucket audit-cli-reports" in removed.output
