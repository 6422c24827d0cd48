"""What the Lambda reliability checks need beyond `resources.py`: dead-letter queues (from the same ListFunctions
read) and asynchronous invocation settings."""
from __future__ import annotations

from dataclasses import dataclass

from auditor import CheckContext, collector


@collector
def dead_letter_targets(ctx: CheckContext) -> dict[str, str]:
    """function name -> the ARN of its dead-letter queue or topic, for functions that have one."""
    items = (ctx.call("lambda", "ListFunctions") or {}).get("Functions", [])
    return {
        str(item["FunctionName"]): str((item.get("DeadLetterConfig") or {}).get("TargetArn"))
        for item in items if (item.get("DeadLetterConfig") or {}).get("TargetArn")
    }


@dataclass(frozen=True)
class AsyncInvokeConfig:
    on_failure: str  # destination ARN; "" when none
    max_retry_attempts: int | None
    max_event_age_seconds: int | None


@collector
def async_invoke_config(ctx: CheckContext, function_arn: str) -> AsyncInvokeConfig | None:
    """The unqualified function's asynchronous invocation settings; None when it has none."""
    response = ctx.call("lambda", "GetFunctionEventInvokeConfig", FunctionName=function_arn)
    if response is None:
        return None
    failure = ((response.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return AsyncInvokeConfig(
        on_failure=str(failure or ""),
        max_retry_attempts=response.get("MaximumRetryAttempts"),
        max_event_age_seconds=response.get("MaximumEventAgeInSeconds"),
    )
