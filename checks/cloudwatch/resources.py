"""What the CIS monitoring recommendations look at: the CloudWatch Logs log groups CloudTrail trails deliver to,
the metric filters on those log groups, the CloudWatch alarms on the filters' metrics and the subscribers of the
SNS topics those alarms notify.

Trails, and the log group each delivers to (`CloudWatchLogsLogGroupArn`), come from the CloudTrail collectors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from auditor import CheckContext, collector

# A subscription that is not (or no longer) confirmed has one of these instead of an ARN.
UNCONFIRMED_SUBSCRIPTIONS = frozenset({"PendingConfirmation", "Deleted"})


@dataclass(frozen=True)
class LogGroup:
    arn: str  # as CloudTrail reports it: arn:aws:logs:<region>:<account>:log-group:<name>:*
    name: str
    region: str


@dataclass(frozen=True)
class MetricTransformation:
    name: str
    namespace: str


@dataclass(frozen=True)
class MetricFilter:
    name: str
    log_group: str
    pattern: str
    metrics: tuple[MetricTransformation, ...]


@dataclass(frozen=True)
class Alarm:
    name: str
    arn: str
    actions_enabled: bool
    alarm_actions: tuple[str, ...]
    metrics: tuple[MetricTransformation, ...]  # the metric it watches, or each metric of a metric-math alarm

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(a for a in self.alarm_actions if a.split(":")[2:3] == ["sns"])


@dataclass(frozen=True)
class Subscription:
    arn: str
    protocol: str

    @property
    def confirmed(self) -> bool:
        return self.arn.startswith("arn:") and self.arn not in UNCONFIRMED_SUBSCRIPTIONS


def log_group_of(arn: str) -> LogGroup | None:
    """The log group named by a trail's CloudWatchLogsLogGroupArn, None when it is not a log-group ARN."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return LogGroup(arn=arn, name=parts[6], region=parts[3])


def _metrics(items: Any) -> tuple[MetricTransformation, ...]:
    return tuple(
        MetricTransformation(str(m.get("metricName", "")), str(m.get("metricNamespace", ""))) for m in items or []
    )


@collector
def metric_filters(ctx: CheckContext, group: LogGroup) -> tuple[MetricFilter, ...]:
    response = ctx.call("logs", "DescribeMetricFilters", region=group.region, logGroupName=group.name) or {}
    return tuple(
        MetricFilter(
            name=str(item.get("filterName", "")),
            log_group=str(item.get("logGroupName", group.name)),
            pattern=str(item.get("filterPattern", "")),
            metrics=_metrics(item.get("metricTransformations")),
        )
        for item in response.get("metricFilters", [])
        # DescribeMetricFilters matches logGroupName exactly, but keep to the group asked about.
        if item.get("logGroupName", group.name) == group.name
    )


def _alarm_metrics(item: Mapping[str, Any]) -> tuple[MetricTransformation, ...]:
    if item.get("MetricName"):
        return (MetricTransformation(str(item["MetricName"]), str(item.get("Namespace", ""))),)
    found = []
    for query in item.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric.get("MetricName"):
            found.append(MetricTransformation(str(metric["MetricName"]), str(metric.get("Namespace", ""))))
    return tuple(found)


@collector
def metric_alarms(ctx: CheckContext, region: str) -> tuple[Alarm, ...]:
    response = ctx.call("cloudwatch", "DescribeAlarms", region=region) or {}
    return tuple(
        Alarm(
            name=str(item.get("AlarmName", "")),
            arn=str(item.get("AlarmArn", "")),
            actions_enabled=bool(item.get("ActionsEnabled", True)),
            alarm_actions=tuple(str(a) for a in item.get("AlarmActions") or []),
            metrics=_alarm_metrics(item),
        )
        for item in response.get("MetricAlarms", [])
    )


@collector
def topic_subscriptions(ctx: CheckContext, topic_arn: str) -> tuple[Subscription, ...]:
    region = topic_arn.split(":")[3]
    response = ctx.call("sns", "ListSubscriptionsByTopic", region=region, TopicArn=topic_arn) or {}
    return tuple(
        Subscription(arn=str(item.get("SubscriptionArn", "")), protocol=str(item.get("Protocol", "")))
        for item in response.get("Subscriptions", [])
    )
