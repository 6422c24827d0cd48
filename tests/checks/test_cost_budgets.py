from typing import Any

from auditor import Status

from ..conftest import ACCOUNT, BOTO

CHECK = "budgets_cost_budget_alerts_configured"


def budget(aws, name: str, alerts: list[tuple[str, float]], budget_type: str = "COST") -> None:
    subscribers = [{"SubscriptionType": "EMAIL", "Address": "finops@example.com"}]
    aws.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={"BudgetName": name, "BudgetLimit": {"Amount": "100", "Unit": "USD"}, "TimeUnit": "MONTHLY",
                "BudgetType": budget_type},
        NotificationsWithSubscribers=[
            {"Notification": {"NotificationType": kind, "ComparisonOperator": "GREATER_THAN", "Threshold": threshold,
                              "ThresholdType": "PERCENTAGE"}, "Subscribers": subscribers}
            for kind, threshold in alerts
        ],
    )


def test_fails_without_any_budget(audit):
    [finding] = audit(CHECK).findings
    assert finding.status is Status.FAIL
    assert finding.resource.type == "AWS::::Account" and finding.region == "global"
    assert "no AWS cost budget" in finding.message
    assert finding.evidence["cost_budgets"] == {}


def test_fails_when_alerts_are_missing_or_too_late(audit, aws):
    budget(aws, "actual-only", [("ACTUAL", 100.0)])
    budget(aws, "late-forecast", [("FORECASTED", 95.0), ("ACTUAL", 100.0)])
    [finding] = audit(CHECK).findings
    assert finding.status is Status.FAIL
    assert "forecasted alert at 80%" in finding.message
    assert finding.evidence["cost_budgets"] == {
        "actual-only": ["ACTUAL GREATER_THAN 100%"],
        "late-forecast": ["FORECASTED GREATER_THAN 95%", "ACTUAL GREATER_THAN 100%"],
    }


def test_passes_with_the_guides_budget(audit, aws):
    budget(aws, "acme-monthly", [("FORECASTED", 80.0), ("ACTUAL", 100.0)])
    [finding] = audit(CHECK).findings
    assert finding.status is Status.PASS
    assert finding.evidence["budget"] == "acme-monthly"
    assert "acme-monthly" in finding.message


def test_usage_budget_does_not_count(audit, aws):
    budget(aws, "usage", [("FORECASTED", 80.0), ("ACTUAL", 100.0)], budget_type="USAGE")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.FAIL


def test_real_not_found_answer_means_no_budgets(audit, aws):
    """Recorded response: AWS answers DescribeBudgets with NotFoundException when the account has no budget
    (moto answers an empty list)."""
    from botocore.awsrequest import AWSResponse

    def not_found(**_: Any) -> Any:
        body = {"Error": {"Code": "NotFoundException", "Message": f"Account {ACCOUNT} has no budgets"},
                "ResponseMetadata": {}}
        return AWSResponse("https://budgets.amazonaws.com", 400, {}, None), body

    BOTO.events.register_first("before-call.budgets.DescribeBudgets", not_found)
    try:
        [finding] = audit(CHECK).findings
    finally:
        BOTO.events.unregister("before-call.budgets.DescribeBudgets", not_found)
    assert finding.status is Status.FAIL and "no AWS cost budget" in finding.message


def test_denied_read_is_error(audit, aws, faults):
    faults.deny("budgets", "DescribeBudgets")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "budgets:ViewBudget"  # IAM names every Budgets read so
