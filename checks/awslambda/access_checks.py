"""Who can invoke a Lambda function: its resource-based policy and its function URL."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.policy import Policy, PolicyError, Statement, parse_policy

from .resources import Function, function_policy, function_url, functions

# Bucket names are global and S3 ARNs hold no account: a grant to S3 is pinned only by a condition on the
# source's account or organisation, not by aws:SourceArn alone.
S3_PRINCIPAL = "s3.amazonaws.com"
ACCOUNT_CONDITION_KEYS = ("aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths")
MATCHING_OPERATORS = ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike")


def _pins_source_account(statement: Statement) -> bool:
    return any(
        values and all(v.strip() and set(v.strip()) - {"*", "?"} for v in values)
        for values in (statement.condition_values(key, MATCHING_OPERATORS) for key in ACCOUNT_CONDITION_KEYS)
    )


def _unconditioned_s3_grants(policy: Policy) -> list[str]:
    """Sids of Allow statements for the S3 service principal with no condition naming the source account."""
    return [
        statement.sid
        for statement in policy.allow_statements
        if statement.principals
        and any(p.kind == "Service" and p.value.lower() == S3_PRINCIPAL for p in statement.principals)
        and not _pins_source_account(statement)
    ]


class LambdaFunctionPolicyNotPublic(Check):
    """A function's resource-based policy decides who, besides identities of the account, may invoke or manage
    it. A statement for Principal "*" (or {"AWS": "*"}) without a condition that pins the caller (aws:SourceArn,
    aws:SourceAccount, aws:PrincipalOrgID, ...) lets anyone with an AWS account invoke the function: run its code
    with its role's permissions, read what it returns and run up the bill. A grant to Amazon S3 without
    aws:SourceAccount is treated as public too, as Security Hub does, because a bucket with the expected name can
    be created in any account (Security Hub Lambda.1). The unqualified function's policy is evaluated; aliases
    and versions have their own."""

    id = "lambda_function_policy_not_public"
    service = "lambda"
    severity = Severity.CRITICAL
    title = "Lambda function policies prohibit public access"
    risk = "Anyone on the internet with an AWS account can invoke a function whose policy is public."
    remediation = Remediation(
        text="Remove the public statement (aws lambda remove-permission) and grant invocation to the specific "
             "account, service or resource that needs it, with aws:SourceArn and aws:SourceAccount conditions for "
             "service principals.",
        cli="aws lambda remove-permission --function-name <function> --statement-id <sid>",
        terraform='resource "aws_lambda_permission" "apigw" {\n'
                  '  statement_id  = "AllowAPIGateway"\n'
                  '  action        = "lambda:InvokeFunction"\n'
                  "  function_name = aws_lambda_function.api.function_name\n"
                  '  principal     = "apigateway.amazonaws.com"\n'
                  '  source_arn    = "${aws_apigatewayv2_api.main.execution_arn}/*/*"\n'
                  "}",
        url="https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html",
    )
    compliance = (Control("aws-fsbp", "Lambda.1"),)
    api_calls = ("lambda:ListFunctions", "lambda:GetPolicy")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(function: Function) -> Iterator[Finding]:
            document = function_policy(ctx, function.arn)
            if document is None:
                yield ctx.passed(function.resource,
                                 f"Lambda function {function.name} has no resource-based policy.", {"policy": False})
                return
            try:
                policy = parse_policy(document)
            except PolicyError as exc:
                yield ctx.error(function.resource,
                                f"Lambda function {function.name} has a policy that could not be read: {exc}.",
                                {"policy": True})
                return
            access = policy.access(ctx.account)
            s3_grants = _unconditioned_s3_grants(policy)
            evidence: dict[str, Any] = {
                "public_actions": sorted(access.public_actions),
                "unconditioned_s3_statements": s3_grants,
                "cross_account": sorted(access.cross_account),
                "services": sorted(access.services),
            }
            if access.is_public():
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} has a policy that lets anyone call "
                    f"{', '.join(sorted(access.public_actions))}.",
                    evidence,
                )
            elif s3_grants:
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} lets Amazon S3 invoke it without a source account "
                    f"condition ({', '.join(s3_grants)}).",
                    evidence,
                )
            else:
                yield ctx.passed(function.resource,
                                 f"Lambda function {function.name} has a policy that grants no public access.",
                                 evidence)

        yield from ctx.each(functions(ctx), one)


class LambdaFunctionUrlAuthRequired(Check):
    """A function URL is an HTTPS endpoint that invokes the function directly, without API Gateway. With
    AuthType NONE, Lambda does not authenticate requests: whoever knows the URL can invoke the function as far as
    its resource-based policy allows, and a URL created with AuthType NONE normally comes with a policy that
    allows everyone. There is then no authentication, throttling per client or WAF in front of the code. With
    AWS_IAM, callers must sign requests with credentials allowed lambda:InvokeFunctionUrl. Functions without a
    URL pass. The unqualified function's URL is evaluated; URLs on aliases are not."""

    id = "lambda_function_url_auth_required"
    service = "lambda"
    severity = Severity.HIGH
    title = "Lambda function URLs require IAM authentication"
    risk = "A function URL without authentication lets anyone on the internet invoke the function."
    remediation = Remediation(
        text="Set the function URL's auth type to AWS_IAM and grant lambda:InvokeFunctionUrl only to the callers "
             "that need it, or delete the URL and expose the function through API Gateway with an authorizer.",
        cli="aws lambda update-function-url-config --function-name <function> --auth-type AWS_IAM",
        terraform='resource "aws_lambda_function_url" "api" {\n'
                  "  function_name      = aws_lambda_function.api.function_name\n"
                  '  authorization_type = "AWS_IAM"\n'
                  "}",
        url="https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",
    )
    api_calls = ("lambda:ListFunctions", "lambda:GetFunctionUrlConfig")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def one(function: Function) -> Iterator[Finding]:
            url = function_url(ctx, function.arn)
            if url is None:
                yield ctx.passed(function.resource, f"Lambda function {function.name} has no function URL.",
                                 {"function_url": None})
            elif url.unauthenticated:
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} has a function URL that requires no authentication.",
                    {"function_url": url.url, "auth_type": url.auth_type},
                )
            else:
                yield ctx.passed(
                    function.resource,
                    f"Lambda function {function.name} has a function URL that requires {url.auth_type} "
                    "authentication.",
                    {"function_url": url.url, "auth_type": url.auth_type},
                )

        yield from ctx.each(functions(ctx), one)
