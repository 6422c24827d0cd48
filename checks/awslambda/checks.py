"""Lambda checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.secrets import find_secrets

from .resources import functions


class LambdaFunctionNoEnvironmentSecrets(Check):
    """Lambda environment variables are configuration, not a vault: anyone with `lambda:GetFunctionConfiguration`
    or `lambda:ListFunctions` (broad, commonly granted reads) sees them in clear text, and every published version
    keeps its copy for good. Credentials belong in Secrets Manager or Parameter Store, read at run time by the
    function's role (the AWS Parameters and Secrets Lambda Extension caches them). Access keys, tokens,
    connection strings with a password, and high-entropy values under secret-looking names are reported; the
    values themselves never are."""

    id = "lambda_function_no_environment_secrets"
    service = "lambda"
    severity = Severity.HIGH
    title = "Lambda functions keep no secrets in environment variables"
    risk = "Secrets in environment variables are readable by anyone who can read the function's configuration."
    remediation = Remediation(
        text="Store the secret in Secrets Manager, give the function's role secretsmanager:GetSecretValue on it, "
             "pass only the secret's ARN in the environment and read the value at run time. Rotate the exposed "
             "secret: published versions still hold it.",
        cli="aws lambda update-function-configuration --function-name <function> "
            "--environment 'Variables={DB_SECRET_ARN=<secret ARN>}'",
        terraform='resource "aws_lambda_function" "api" {\n'
                  '  function_name = "${var.project}-api"\n\n'
                  '  environment {\n'
                  '    variables = {\n'
                  '      NODE_ENV      = "production"\n'
                  '      DB_SECRET_ARN = aws_secretsmanager_secret.db.arn\n'
                  '    }\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html",
    )
    api_calls = ("lambda:ListFunctions",)
    parameters = ("secrets.key_markers", "secrets.min_entropy", "secrets.min_length")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for function in functions(ctx):
            if function.environment_error and not function.environment:
                yield ctx.error(
                    function.resource,
                    f"Lambda function {function.name} did not return its environment variables "
                    f"({function.environment_error}).",
                    {"error_code": function.environment_error},
                )
                continue
            hits = find_secrets(
                function.environment,
                markers=ctx.param("secrets.key_markers"),
                min_entropy=float(ctx.param("secrets.min_entropy")),
                min_length=int(ctx.param("secrets.min_length")),
            )
            if hits:
                keys = ", ".join(sorted({h.key for h in hits}))
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} has secrets in environment variable(s) {keys}.",
                    {"secrets": [h.to_evidence() for h in hits]},
                )
            else:
                yield ctx.passed(
                    function.resource,
                    f"Lambda function {function.name} has no secrets in its environment variables.",
                    {"variables": len(function.environment)},
                )


class LambdaFunctionXrayTracingActive(Check):
    """With active X-Ray tracing, Lambda samples and records every invocation, including the calls the function
    makes to other AWS services. The traces show where a request went and what it touched: the trail an
    investigation follows when a function is abused, and the map that reveals unexpected downstream calls. In
    PassThrough mode a function is traced only when an upstream service already decided to sample the request."""

    id = "lambda_function_xray_tracing_active"
    service = "lambda"
    severity = Severity.LOW
    title = "Lambda functions have active X-Ray tracing"
    risk = "Without traces, what an invocation called and where it failed or was abused cannot be reconstructed."
    remediation = Remediation(
        text="Set the function's tracing mode to Active and allow its role to write traces "
             "(the AWSXRayDaemonWriteAccess managed policy).",
        cli="aws lambda update-function-configuration --function-name <function> --tracing-config Mode=Active",
        terraform='resource "aws_lambda_function" "api" {\n'
                  '  function_name = "${var.project}-api"\n\n'
                  '  tracing_config {\n'
                  '    mode = "Active"  # X-Ray tracing\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
    )
    compliance = ()  # no FSBP or CIS control; the seed guide enables it on every function
    api_calls = ("lambda:ListFunctions",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for function in functions(ctx):
            evidence = {"tracing_mode": function.tracing_mode}
            if function.tracing_mode == "Active":
                yield ctx.passed(function.resource, f"Lambda function {function.name} has active X-Ray tracing.",
                                 evidence)
            else:
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} has X-Ray tracing in {function.tracing_mode or 'no'} mode, "
                    "not Active.",
                    evidence,
                )


class LambdaFunctionRuntimeSupported(Check):
    """AWS stops applying security patches to a Lambda runtime when it is deprecated, then blocks creating and
    later updating functions that use it. A function on a deprecated runtime keeps running on an unpatched
    language runtime and operating system, and can no longer be fixed quickly when a vulnerability is found.
    Container-image functions bring their own runtime and are outside this check."""

    id = "lambda_function_runtime_supported"
    service = "lambda"
    severity = Severity.MEDIUM
    title = "Lambda functions use a supported runtime"
    risk = "Deprecated runtimes receive no security patches, and functions on them soon cannot be updated."
    remediation = Remediation(
        text="Test the function on a supported runtime version and update it; the deprecated runtimes are listed "
             "in the lambda.deprecated_runtimes parameter.",
        cli="aws lambda update-function-configuration --function-name <function> --runtime nodejs22.x",
        terraform='resource "aws_lambda_function" "api" {\n'
                  '  function_name = "${var.project}-api"\n'
                  '  handler       = "index.handler"\n'
                  '  runtime       = "nodejs22.x"\n'
                  '}',
        url="https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html",
    )
    compliance = (Control("aws-fsbp", "Lambda.2"),)
    api_calls = ("lambda:ListFunctions",)
    parameters = ("lambda.deprecated_runtimes",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        deprecated = {str(r).lower() for r in ctx.param("lambda.deprecated_runtimes")}
        for function in functions(ctx):
            evidence = {"runtime": function.runtime, "package_type": function.package_type}
            if function.runtime is None:
                kind = "a container image, which brings its own runtime" if function.is_image else \
                    "deployed without a managed runtime"
                yield ctx.passed(function.resource, f"Lambda function {function.name} is {kind}.", evidence)
            elif function.runtime.lower() in deprecated:
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} uses the deprecated runtime {function.runtime}.",
                    evidence,
                )
            else:
                yield ctx.passed(
                    function.resource,
                    f"Lambda function {function.name} uses the supported runtime {function.runtime}.",
                    evidence,
                )
