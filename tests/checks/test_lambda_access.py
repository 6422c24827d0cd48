"""Who can invoke a function: Lambda.1 (resource-based policy) and function URL authentication."""
import json
from typing import Any

from auditor import Status

from ..conftest import ACCOUNT, BOTO, REGION, statuses
from .test_lambda import create_function

POLICY = "lambda_function_policy_not_public"
URL = "lambda_function_url_auth_required"


def allow(function: str, sid: str, principal: str, **extra: Any) -> None:
    BOTO.client("lambda").add_permission(FunctionName=function, StatementId=sid, Action="lambda:InvokeFunction",
                                         Principal=principal, **extra)


def recorded_policy(statements: list[dict[str, Any]]):  # noqa: ANN201 - an after-call hook for GetPolicy
    def hook(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Policy"] = json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements})

    return hook


# -- Lambda.1 -------------------------------------------------------------------------------------------------
def test_policy_fails_when_anyone_may_invoke(audit, aws):
    create_function(aws, "open")
    allow("open", "everyone", "*")
    create_function(aws, "pinned")
    allow("pinned", "everyone-in-my-account", "*", SourceAccount=ACCOUNT)
    run = audit(POLICY)
    assert statuses(run) == {"open": "FAIL", "pinned": "PASS"}
    found = {f.resource.id: f for f in run.findings}
    assert found["open"].evidence["public_actions"] == ["lambda:InvokeFunction"]
    assert "lambda:InvokeFunction" in found["open"].message and "open" in found["open"].message
    assert found["pinned"].evidence["public_actions"] == []


def test_policy_fails_for_s3_without_source_account(audit, aws):
    bucket = "arn:aws:s3:::uploads"
    create_function(aws, "s3-any-account")
    allow("s3-any-account", "from-s3", "s3.amazonaws.com", SourceArn=bucket)
    create_function(aws, "s3-my-account")
    allow("s3-my-account", "from-s3", "s3.amazonaws.com", SourceArn=bucket, SourceAccount=ACCOUNT)
    create_function(aws, "api")
    allow("api", "AllowAPIGateway", "apigateway.amazonaws.com",
          SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/*/*")
    run = audit(POLICY)
    assert statuses(run) == {"s3-any-account": "FAIL", "s3-my-account": "PASS", "api": "PASS"}
    found = {f.resource.id: f for f in run.findings}
    assert found["s3-any-account"].evidence["unconditioned_s3_statements"] == ["from-s3"]
    assert found["api"].evidence["services"] == ["apigateway.amazonaws.com"]


def test_policy_passes_without_a_policy(audit, aws):
    create_function(aws, "private")
    run = audit(POLICY)
    assert statuses(run) == {"private": "PASS"}
    assert run.findings[0].evidence == {"policy": False}


def test_policy_real_shapes_account_principals_and_url_condition(audit, aws):
    # AWS's GetPolicy shapes (moto writes a bare account id as the principal and the URL auth type outside the
    # Condition): a cross-account grant is not public; the public function URL permission is.
    create_function(aws, "shared")
    allow("shared", "placeholder", "*")
    statements = [
        {"Sid": "partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shared"},
        {"Sid": "FunctionURLAllowPublicAccess", "Effect": "Allow", "Principal": "*",
         "Action": "lambda:InvokeFunctionUrl", "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shared",
         "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}},
    ]
    hook = recorded_policy(statements)
    BOTO.events.register("after-call.lambda.GetPolicy", hook)
    try:
        run = audit(POLICY)
        [finding] = run.findings
        assert finding.status is Status.FAIL
        assert finding.evidence["public_actions"] == ["lambda:InvokeFunctionUrl"]
        assert finding.evidence["cross_account"] == ["111122223333"]

        statements.pop()  # only the partner account left
        [finding] = audit(POLICY).findings
        assert finding.status is Status.PASS
        assert finding.evidence["cross_account"] == ["111122223333"]
    finally:
        BOTO.events.unregister("after-call.lambda.GetPolicy", hook)


def test_policy_denied_read_is_error_per_function(audit, aws, faults):
    create_function(aws, "a")
    create_function(aws, "b")
    faults.deny("lambda", "GetPolicy", code="AccessDeniedException")
    run = audit(POLICY)
    assert statuses(run) == {"a": "ERROR", "b": "ERROR"}
    assert {f.evidence["iam_action"] for f in run.findings} == {"lambda:GetPolicy"}


def test_no_functions_no_findings(audit):
    assert audit(POLICY, URL).findings == ()


# -- function URLs --------------------------------------------------------------------------------------------
def test_url_fails_without_authentication(audit, aws):
    lam = aws.client("lambda")
    create_function(aws, "public")
    url = lam.create_function_url_config(FunctionName="public", AuthType="NONE")["FunctionUrl"]
    create_function(aws, "signed")
    lam.create_function_url_config(FunctionName="signed", AuthType="AWS_IAM")
    create_function(aws, "no-url")
    run = audit(URL)
    assert statuses(run) == {"public": "FAIL", "signed": "PASS", "no-url": "PASS"}
    found = {f.resource.id: f for f in run.findings}
    assert found["public"].evidence == {"function_url": url, "auth_type": "NONE"}
    assert "no authentication" in found["public"].message
    assert found["signed"].evidence["auth_type"] == "AWS_IAM"
    assert found["no-url"].evidence == {"function_url": None}


def test_url_denied_read_is_error_naming_the_action(audit, aws, faults):
    create_function(aws, "public")
    faults.deny("lambda", "GetFunctionUrlConfig", code="AccessDeniedException")
    [finding] = audit(URL).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "lambda:GetFunctionUrlConfig"
    assert finding.evidence["error_code"] == "AccessDeniedException"
