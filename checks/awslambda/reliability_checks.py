"""Lambda reliability checks: failed asynchronous invocations are kept somewhere."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Severity

from .reliability_resources import async_invoke_config, dead_letter_targets
from .resources import Function, functions


class LambdaFunctionFailureDestinationConfigured(Check):
    """Lambda retries a failed asynchronous invocation (S3 and SNS notifications, EventBridge rules, ...) twice,
    then discards the event. Unless the function has a dead-letter queue (DeadLetterConfig) or an on-failure
    destination (asynchronous invocation configuration), those events are lost without a trace and nobody can
    replay them. Functions with neither fail. The check cannot tell whether a function is ever invoked
    asynchronously: mute it for functions only called synchronously (API Gateway, function URLs, event source
    mappings, whose failures are handled by the caller or the mapping's own on-failure destination)."""

    id = "lambda_function_failure_destination_configured"
    service = "lambda"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Lambda functions keep failed asynchronous events"
    risk = "Events whose processing fails after the retries are dropped silently and cannot be replayed."
    remediation = Remediation(
        text="Give the function an on-failure destination (SQS queue, SNS topic, EventBridge bus or another "
        "function) for asynchronous invocations, or a dead-letter queue, and alarm on it.",
        cli="aws lambda put-function-event-invoke-config --function-name <function> --destination-config "
        "'{\"OnFailure\":{\"Destination\":\"<sqs-queue-arn>\"}}'",
        terraform='resource "aws_lambda_function_event_invoke_config" "api" {\n'
                  '  function_name = aws_lambda_function.api.function_name\n\n'
                  '  destination_config {\n'
                  '    on_failure {\n'
                  '      destination = aws_sqs_queue.api_failures.arn\n'
                  '    }\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    )
    api_calls = ("lambda:ListFunctions", "lambda:GetFunctionEventInvokeConfig")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        dead_letters = dead_letter_targets(ctx)

        def judge(function: Function) -> Iterator[Finding]:
            config = async_invoke_config(ctx, function.arn)
            on_failure = config.on_failure if config else ""
            dead_letter = dead_letters.get(function.name, "")
            evidence: dict[str, Any] = {"dead_letter_target": dead_letter or None,
                                        "on_failure_destination": on_failure or None,
                                        "async_invoke_config": config is not None}
            if on_failure or dead_letter:
                where = (f"an on-failure destination {on_failure}" if on_failure
                         else f"a dead-letter queue {dead_letter}")
                yield ctx.passed(function.resource, f"Lambda function {function.name} sends failed asynchronous "
                                 f"events to {where}.", evidence)
            else:
                yield ctx.failed(function.resource, f"Lambda function {function.name} has neither a dead-letter queue "
                                 "nor an on-failure destination for asynchronous invocations.", evidence)

        yield from ctx.each(functions(ctx), judge)
