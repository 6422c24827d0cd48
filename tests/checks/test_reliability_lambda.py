from auditor import Status

from ..conftest import ACCOUNT, BOTO, REGION, statuses
from .test_lambda import create_function

CHECK = "lambda_function_failure_destination_configured"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"


def test_function_without_dlq_or_destination_fails(audit, aws):
    create_function(aws, "cron")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.FAIL and finding.resource.id == "cron"
    assert finding.evidence == {"dead_letter_target": None, "on_failure_destination": None,
                                "async_invoke_config": False}
    assert "neither a dead-letter queue nor an on-failure destination" in finding.message


def test_async_config_without_on_failure_still_fails(audit, aws):
    create_function(aws, "retries-only")
    aws.client("lambda").put_function_event_invoke_config(FunctionName="retries-only", MaximumRetryAttempts=1)
    [finding] = audit(CHECK).findings
    assert finding.status is Status.FAIL and finding.evidence["async_invoke_config"] is True


def test_dead_letter_queue_or_on_failure_destination_passes(audit, aws):
    """The dead-letter queue comes from a recorded ListFunctions response: AWS returns each function's
    DeadLetterConfig there; moto 5.2 drops it (even from CreateFunction)."""
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    create_function(aws, "with-dlq")
    create_function(aws, "with-destination")
    aws.client("lambda").put_function_event_invoke_config(
        FunctionName="with-destination", DestinationConfig={"OnFailure": {"Destination": QUEUE}})

    def recorded(parsed, **_):
        for item in parsed.get("Functions", []):
            if item["FunctionName"] == "with-dlq":
                item["DeadLetterConfig"] = {"TargetArn": dlq}

    BOTO.events.register("after-call.lambda.ListFunctions", recorded)
    try:
        run = audit(CHECK)
    finally:
        BOTO.events.unregister("after-call.lambda.ListFunctions", recorded)
    assert statuses(run) == {"with-dlq": "PASS", "with-destination": "PASS"}
    [destination] = [f for f in run.findings if f.resource.id == "with-destination"]
    assert destination.evidence["on_failure_destination"] == QUEUE
    assert "on-failure destination" in destination.message
    [dead] = [f for f in run.findings if f.resource.id == "with-dlq"]
    assert dead.evidence["dead_letter_target"] == dlq and "dead-letter queue" in dead.message


def test_no_functions_no_findings(audit):
    assert audit(CHECK).findings == ()


def test_denied_invoke_config_read_is_error_per_function(audit, aws, faults):
    create_function(aws, "api")
    faults.deny("lambda", "GetFunctionEventInvokeConfig")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.ERROR and finding.resource.id == "api"
    assert finding.evidence["iam_action"] == "lambda:GetFunctionEventInvokeConfig"
