import io
import json
import zipfile
from typing import Any

import pytest

from auditor import AuditRun, Status

from ..conftest import ACCOUNT, BOTO, REGION, statuses

ENV_SECRETS = "lambda_function_no_environment_secrets"
XRAY = "lambda_function_xray_tracing_active"
RUNTIME = "lambda_function_runtime_supported"

# Built at run time so no credential-shaped literal sits in the source.
ACCESS_KEY_ID = "AKIA" + "Q7R2ZT4XW9PL3MNB"
DB_PASSWORD = "Xq7#mP2$" + "vL9!tR4w"
DB_URL_PASSWORD = "s3cr" + "etPw"
DB_URL = f"postgres://app:{DB_URL_PASSWORD}@db.internal:5432/app"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create_function(aws, name: str, *, runtime: str = "python3.12", **extra: Any) -> str:
    iam = aws.client("iam")
    try:
        role = iam.get_role(RoleName="lambda-exec")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                           "Action": "sts:AssumeRole"}],
        }))["Role"]["Arn"]
    if extra.get("PackageType") == "Image":
        params = {"Code": {"ImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:latest"}, **extra}
    else:
        params = {"Runtime": runtime, "Handler": "index.handler", "Code": {"ZipFile": _zip()}, **extra}
    return aws.client("lambda").create_function(FunctionName=name, Role=role, **params)["FunctionArn"]


def assert_no_leak(run: AuditRun, *values: str) -> None:
    for finding in run.findings:
        dumped = json.dumps(finding.to_dict())
        for value in values:
            assert value not in dumped
            assert value not in finding.message


# -- secrets in the environment -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID, "aws_access_key_id"),
        ("DB_PASSWORD", DB_PASSWORD, "named_secret"),
        ("DATABASE_URL", DB_URL, "connection_string_password"),
    ],
)
def test_env_secrets_fail_without_revealing_the_value(audit, aws, key, value, kind):
    arn = create_function(aws, "api", Environment={"Variables": {"NODE_ENV": "production", key: value}})
    run = audit(ENV_SECRETS)
    assert statuses(run) == {"api": "FAIL"}
    [finding] = run.findings
    assert finding.resource.arn == arn
    assert finding.resource.type == "AWS::Lambda::Function"
    [hit] = finding.evidence["secrets"]
    assert (hit["key"], hit["kind"], hit["value"]) == (key, kind, "***redacted***")
    assert hit["fingerprint"].startswith("sha256:")
    assert key in finding.message and "api" in finding.message
    assert_no_leak(run, value, DB_URL_PASSWORD)


def test_env_secrets_report_every_exposed_variable(audit, aws):
    create_function(aws, "api", Environment={"Variables": {"DB_PASSWORD": DB_PASSWORD, "AWS_KEY": ACCESS_KEY_ID}})
    run = audit(ENV_SECRETS)
    [finding] = run.findings
    assert sorted(h["key"] for h in finding.evidence["secrets"]) == ["AWS_KEY", "DB_PASSWORD"]
    assert_no_leak(run, DB_PASSWORD, ACCESS_KEY_ID)


def test_env_secrets_pass_with_references_examples_and_placeholders(audit, aws):
    create_function(aws, "api", Environment={"Variables": {
        "NODE_ENV": "production",
        "TABLE_NAME": "orders",
        "DB_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf",
        "API_TOKEN_PARAM": "/prod/api/token",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",  # AWS's documentation example
        "DB_PASSWORD": "changeme",  # low entropy: a placeholder, not reported by default
        "PWD": "abc",  # shorter than secrets.min_length
    }})
    create_function(aws, "bare")
    run = audit(ENV_SECRETS)
    assert statuses(run) == {"api": "PASS", "bare": "PASS"}
    assert {f.resource.id: f.evidence["variables"] for f in run.findings} == {"api": 7, "bare": 0}


def test_env_secrets_thresholds_come_from_parameters(audit, aws):
    create_function(aws, "api", Environment={"Variables": {"DB_PASSWORD": "changeme"}})
    run = audit(ENV_SECRETS, params={"secrets.min_entropy": 2.0})
    assert statuses(run) == {"api": "FAIL"}
    assert_no_leak(run, "changeme")


def test_env_secrets_no_functions_no_findings(audit):
    assert audit(ENV_SECRETS).findings == ()


def test_denied_list_functions_is_error_naming_the_action(audit, aws, faults):
    create_function(aws, "api", Environment={"Variables": {"DB_PASSWORD": DB_PASSWORD}})
    faults.deny("lambda", "ListFunctions", code="AccessDeniedException")
    run = audit(ENV_SECRETS, XRAY, RUNTIME)
    assert len(run.findings) == 3
    for finding in run.findings:
        assert finding.status is Status.ERROR
        assert finding.evidence["iam_action"] == "lambda:ListFunctions"
        assert finding.evidence["error_code"] == "AccessDeniedException"
    assert run.api_calls.get("lambda:ListFunctions", 0) == 0  # refused before anything was sent


def test_env_secrets_unreadable_environment_is_error(audit, aws):
    # Real AWS answers Environment.Error (no Variables) when it cannot decrypt the variables; moto never does.
    create_function(aws, "api", Environment={"Variables": {"DB_PASSWORD": DB_PASSWORD}})

    def kms_error(parsed: dict[str, Any], **_: Any) -> None:
        for item in parsed.get("Functions", []):
            item["Environment"] = {"Error": {"ErrorCode": "KMSAccessDeniedException", "Message": "simulated"}}

    BOTO.events.register("after-call.lambda.ListFunctions", kms_error)
    try:
        run = audit(ENV_SECRETS)
    finally:
        BOTO.events.unregister("after-call.lambda.ListFunctions", kms_error)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence == {"error_code": "KMSAccessDeniedException"}


# -- X-Ray tracing --------------------------------------------------------------------------------------------
def test_xray_fails_in_passthrough_mode(audit, aws):
    create_function(aws, "plain")
    create_function(aws, "passthrough", TracingConfig={"Mode": "PassThrough"})
    run = audit(XRAY)
    assert statuses(run) == {"plain": "FAIL", "passthrough": "FAIL"}
    assert {f.evidence["tracing_mode"] for f in run.findings} == {"PassThrough"}


def test_xray_passes_when_active(audit, aws):
    create_function(aws, "traced", TracingConfig={"Mode": "Active"})
    run = audit(XRAY)
    assert statuses(run) == {"traced": "PASS"}
    assert run.findings[0].evidence == {"tracing_mode": "Active"}


def test_xray_no_functions_no_findings(audit):
    assert audit(XRAY).findings == ()


# -- runtimes -------------------------------------------------------------------------------------------------
def test_runtime_fails_when_deprecated(audit, aws):
    create_function(aws, "old", runtime="python3.7")
    run = audit(RUNTIME)
    assert statuses(run) == {"old": "FAIL"}
    assert run.findings[0].evidence == {"runtime": "python3.7", "package_type": "Zip"}
    assert "python3.7" in run.findings[0].message


def test_runtime_passes_when_supported_and_for_container_images(audit, aws):
    create_function(aws, "current", runtime="python3.12")
    create_function(aws, "image", PackageType="Image")
    run = audit(RUNTIME)
    assert statuses(run) == {"current": "PASS", "image": "PASS"}
    image = next(f for f in run.findings if f.resource.id == "image")
    assert image.evidence == {"runtime": None, "package_type": "Image"}
    assert "container image" in image.message


def test_runtime_list_comes_from_parameters(audit, aws):
    create_function(aws, "current", runtime="python3.12")
    run = audit(RUNTIME, params={"lambda.deprecated_runtimes": ["python3.12"]})
    assert statuses(run) == {"current": "FAIL"}


def test_runtime_no_functions_no_findings(audit):
    assert audit(RUNTIME).findings == ()
