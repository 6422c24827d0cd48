"""AWS Budgets: a monthly cost budget with the seed guide's alerts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Scope, Severity, collector

# Budgets is a global service; its endpoint lives in the partition's home region.
HOME_REGION = {"aws": "us-east-1", "aws-cn": "cn-northwest-1", "aws-us-gov": "us-gov-west-1"}


@dataclass(frozen=True)
class Notification:
    kind: str  # ACTUAL | FORECASTED
    comparison: str  # GREATER_THAN | LESS_THAN | EQUAL_TO
    threshold: float
    threshold_type: str  # PERCENTAGE | ABSOLUTE_VALUE

    def describe(self) -> str:
        unit = "%" if self.threshold_type == "PERCENTAGE" else " (absolute)"
        return f"{self.kind} {self.comparison} {self.threshold:g}{unit}"


@dataclass(frozen=True)
class Budget:
    name: str
    budget_type: str
    time_unit: str
    limit: str


@collector
def budgets(ctx: CheckContext) -> list[Budget]:
    region = HOME_REGION.get(ctx.partition, ctx.region)
    response = ctx.call("budgets", "DescribeBudgets", region=region, AccountId=ctx.account) or {}
    found = []
    for item in response.get("Budgets", []):
        limit = item.get("BudgetLimit") or {}
        found.append(Budget(
            name=str(item.get("BudgetName", "")), budget_type=str(item.get("BudgetType", "")),
            time_unit=str(item.get("TimeUnit", "")),
            limit=f"{limit.get('Amount', '')} {limit.get('Unit', '')}".strip(),
        ))
    return sorted(found, key=lambda b: b.name)


@collector
def notifications(ctx: CheckContext, budget_name: str) -> list[Notification]:
    region = HOME_REGION.get(ctx.partition, ctx.region)
    response = ctx.call("budgets", "DescribeNotificationsForBudget", region=region, AccountId=ctx.account,
                        BudgetName=budget_name) or {}
    return [
        Notification(kind=str(n.get("NotificationType", "")), comparison=str(n.get("ComparisonOperator", "")),
                     threshold=float(n.get("Threshold", 0) or 0), threshold_type=str(n.get("ThresholdType",
                                                                                           "PERCENTAGE")))
        for n in response.get("Notifications", [])
    ]


class BudgetsCostBudgetAlertsConfigured(Check):
    """Without a budget nobody hears about a runaway bill until the invoice arrives: a forgotten test cluster, a
    NAT gateway moving terabytes, a leaked key mining cryptocurrency. The seed guide keeps a monthly COST budget
    that alerts when forecasted spend passes 80 % of the limit (time to act) and when actual spend passes 100 %.
    The account passes when at least one COST budget has both alerts (a FORECASTED percentage alert at or below
    parameter budgets.forecasted_alert_max_percent and an ACTUAL one at or below budgets.actual_alert_max_percent),
    with GREATER_THAN comparisons. Whether the alerts reach a subscriber is not read."""

    id = "budgets_cost_budget_alerts_configured"
    service = "budgets"
    severity = Severity.MEDIUM
    category = Category.COST
    title = "A cost budget alerts on forecasted and actual overspend"
    risk = "Cost overruns (a forgotten resource, a compromised account) go unnoticed until the monthly invoice."
    remediation = Remediation(
        text="Create a monthly COST budget with a FORECASTED alert at 80 % and an ACTUAL alert at 100 % of the "
        "limit, sent to a monitored address.",
        cli="aws budgets create-budget --account-id <account-id> --budget file://budget.json "
        "--notifications-with-subscribers file://notifications.json",
        terraform='resource "aws_budgets_budget" "monthly" {\n'
                  '  name         = "${var.project}-monthly-budget"\n'
                  '  budget_type  = "COST"\n'
                  '  limit_amount = var.monthly_budget\n'
                  '  limit_unit   = "USD"\n'
                  '  time_unit    = "MONTHLY"\n\n'
                  '  notification {\n'
                  '    comparison_operator        = "GREATER_THAN"\n'
                  '    threshold                  = 80\n'
                  '    threshold_type             = "PERCENTAGE"\n'
                  '    notification_type          = "FORECASTED"\n'
                  '    subscriber_email_addresses = [var.budget_alert_email]\n'
                  '  }\n\n'
                  '  notification {\n'
                  '    comparison_operator        = "GREATER_THAN"\n'
                  '    threshold                  = 100\n'
                  '    threshold_type             = "PERCENTAGE"\n'
                  '    notification_type          = "ACTUAL"\n'
                  '    subscriber_email_addresses = [var.budget_alert_email]\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-create.html",
    )
    # IAM authorises every Budgets read with budgets:ViewBudget; the names below are the API operations.
    api_calls = ("budgets:ViewBudget",)
    scope = Scope.GLOBAL
    parameters = ("budgets.forecasted_alert_max_percent", "budgets.actual_alert_max_percent")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        forecast_max = float(ctx.param("budgets.forecasted_alert_max_percent"))
        actual_max = float(ctx.param("budgets.actual_alert_max_percent"))
        account = ctx.account_resource()
        cost_budgets = [b for b in budgets(ctx) if b.budget_type == "COST"]
        seen: dict[str, Any] = {}
        for budget in cost_budgets:
            alerts = notifications(ctx, budget.name)
            seen[budget.name] = [a.describe() for a in alerts]
            if _has_alert(alerts, "FORECASTED", forecast_max) and _has_alert(alerts, "ACTUAL", actual_max):
                yield ctx.passed(account, f"Account {ctx.account} has cost budget {budget.name} ({budget.time_unit} "
                                 f"{budget.limit}) alerting on forecasted and actual overspend.",
                                 {"budget": budget.name, "alerts": seen[budget.name]})
                return
        evidence = {"cost_budgets": seen, "required": [f"FORECASTED GREATER_THAN <= {forecast_max:g}%",
                                                       f"ACTUAL GREATER_THAN <= {actual_max:g}%"]}
        if not cost_budgets:
            yield ctx.failed(account, f"Account {ctx.account} has no AWS cost budget.", evidence)
        else:
            yield ctx.failed(account, f"Account {ctx.account} has no cost budget with both a forecasted alert at "
                             f"{forecast_max:g}% and an actual alert at {actual_max:g}%.", evidence)


def _has_alert(alerts: list[Notification], kind: str, max_percent: float) -> bool:
    return any(a.kind == kind and a.threshold_type == "PERCENTAGE" and a.comparison == "GREATER_THAN"
               and a.threshold <= max_percent for a in alerts)
