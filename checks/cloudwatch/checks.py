"""CIS monitoring checks (section 4): a metric filter and an alarm with a confirmed subscriber for each activity.

Every check here is a `MonitoredActivityCheck` naming one entry of `benchmark.MONITORED_ACTIVITIES`; the base
class derives the title, remediation and controls from that entry and walks the chain the benchmark describes:

    multi-region trail, logging all management events  ->  its CloudWatch Logs log group
      ->  a metric filter whose pattern is at least as broad as the benchmark's  ->  an alarm on the filter's metric
      ->  an SNS topic among the alarm's actions  ->  at least one confirmed subscription

One finding per account: PASS names the filter and alarm of the first complete chain; FAIL names the furthest
link reached and what is missing after it; ERROR when no chain passed and one could not be read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, Iterator

from auditor import Check, CheckContext, Control, DataUnavailable, Finding, Remediation, Scope, Severity
from auditor.catalogue import control
from checks.cloudtrail.resources import Trail, management_events, trail_status, trails

from .benchmark import ACTIVITIES, MonitoredActivity
from .filter_pattern import FilterPattern, FilterPatternError, covers, parse
from .resources import Alarm, LogGroup, MetricFilter, log_group_of, metric_alarms, metric_filters, topic_subscriptions

NAMESPACE = "CISBenchmark"


class Stage(IntEnum):
    """How far along the chain an account got, in order."""

    NO_TRAIL = 0
    NO_FILTER = 1
    NO_ALARM = 2
    NO_TOPIC = 3
    NO_SUBSCRIBER = 4
    COMPLETE = 5


@dataclass
class _Walk:
    """The furthest stage reached, what was found on the way, and the reads that failed."""

    stage: Stage = Stage.NO_TRAIL
    log_groups: list[str] = field(default_factory=list)
    filter: MetricFilter | None = None
    alarm: Alarm | None = None
    topics: tuple[str, ...] = ()
    confirmed: int = 0
    unparsed: list[str] = field(default_factory=list)
    errors: list[DataUnavailable] = field(default_factory=list)

    def reach(self, stage: Stage, **found: Any) -> None:
        if stage > self.stage:
            self.stage = stage
            for name, value in found.items():
                setattr(self, name, value)


def _controls(activity: MonitoredActivity) -> tuple[Control, ...]:
    cis = (Control("cis-aws-3.0", activity.cis), Control("cis-aws-4.0.1", activity.cis))
    if activity.securityhub is None:
        return cis
    for framework in ("aws-fsbp", "aws-securityhub"):
        if control(framework, activity.securityhub) is not None:
            return (Control(framework, activity.securityhub), *cis)
    # The shipped catalogue lacks the Security Hub control this CIS item maps to. Declaring the CIS item alone
    # would contradict the catalogue's CIS-to-Security Hub map, so the item is declared once the catalogue has it.
    return ()


def _remediation(activity: MonitoredActivity) -> Remediation:
    metric = activity.metric_name
    anchor = f"#{activity.securityhub.lower().replace('.', '-')}" if activity.securityhub else ""
    return Remediation(
        text="On the CloudWatch Logs log group of a multi-region trail, create a metric filter for "
             f"{activity.activity} with the CIS pattern, an alarm on its metric, and point the alarm at an SNS "
             "topic with a confirmed subscriber.",
        cli=f"aws logs put-metric-filter --log-group-name <trail-log-group> --filter-name {metric} "
            f"--metric-transformations metricName={metric},metricNamespace={NAMESPACE},metricValue=1 "
            f"--filter-pattern '{activity.pattern}' && "
            f"aws cloudwatch put-metric-alarm --alarm-name {metric}-alarm --metric-name {metric} "
            f"--namespace {NAMESPACE} --statistic Sum --period 300 --evaluation-periods 1 --threshold 1 "
            "--comparison-operator GreaterThanOrEqualToThreshold --alarm-actions <sns-topic-arn>",
        terraform=(
            f'resource "aws_cloudwatch_log_metric_filter" "{activity.key}" {{\n'
            f'  name           = "{metric}"\n'
            '  log_group_name = aws_cloudwatch_log_group.cloudtrail.name\n'
            f"  pattern        = {json.dumps(activity.pattern)}\n"
            "\n"
            "  metric_transformation {\n"
            f'    name      = "{metric}"\n'
            f'    namespace = "{NAMESPACE}"\n'
            '    value     = "1"\n'
            "  }\n"
            "}\n"
            "\n"
            f'resource "aws_cloudwatch_metric_alarm" "{activity.key}" {{\n'
            f'  alarm_name          = "${{var.project}}-{metric}"\n'
            f"  metric_name         = aws_cloudwatch_log_metric_filter.{activity.key}.metric_transformation[0].name\n"
            f'  namespace           = "{NAMESPACE}"\n'
            '  statistic           = "Sum"\n'
            "  period              = 300\n"
            "  evaluation_periods  = 1\n"
            "  threshold           = 1\n"
            '  comparison_operator = "GreaterThanOrEqualToThreshold"\n'
            "  alarm_actions       = [aws_sns_topic.security_alerts.arn]\n"
            "\n"
            "  tags = local.common_tags\n"
            "}"
        ),
        url=f"https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html{anchor}",
    )


class MonitoredActivityCheck(Check):
    """Base of the CIS monitoring checks; a subclass names its `activity` and adds `id`, `risk` and a docstring."""

    activity: ClassVar[MonitoredActivity]
    service = "cloudwatch"
    severity = Severity.LOW
    scope = Scope.GLOBAL
    api_calls = (
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "logs:DescribeMetricFilters",
        "cloudwatch:DescribeAlarms",
        "sns:ListSubscriptionsByTopic",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        activity = cls.__dict__.get("activity")
        if activity is not None:
            cls.title = f"A log metric filter and alarm exist for {activity.activity}"
            cls.remediation = _remediation(activity)
            cls.compliance = _controls(activity)
        super().__init_subclass__(**kwargs)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        walk = _Walk()
        trail_facts = self._walk(ctx, parse(self.activity.pattern), walk)
        account = ctx.account_resource()
        evidence = self._evidence(walk, trail_facts)
        if walk.stage is Stage.COMPLETE:
            yield ctx.passed(account, self._message(ctx, walk), evidence)
        elif walk.errors:  # no chain was proved complete, and one could not be read
            yield ctx.unavailable(account, walk.errors[0])
        else:
            yield ctx.failed(account, self._message(ctx, walk), evidence)

    # -- the chain ----------------------------------------------------------------------------------------------
    def _walk(self, ctx: CheckContext, required: FilterPattern, walk: _Walk) -> list[dict[str, Any]]:
        inventory = trails(ctx)
        walk.errors.extend(inventory.unreadable)
        facts: list[dict[str, Any]] = []
        delivering: dict[str, LogGroup] = {}
        for trail in inventory.trails:
            group = log_group_of(trail.cloudwatch_log_group_arn or "")
            trail_facts = {**trail.summary(), "log_group": group.name if group else None}
            facts.append(trail_facts)
            if group is None or not trail.multi_region:
                continue
            try:
                if self._records_all_management_events(ctx, trail, trail_facts):
                    delivering.setdefault(group.arn, group)
            except DataUnavailable as exc:
                walk.errors.append(exc)
                trail_facts["error"] = f"{exc.error.iam_action} failed with {exc.error.code}"
        walk.log_groups = sorted(g.name for g in delivering.values())
        for group in delivering.values():
            walk.reach(Stage.NO_FILTER)
            try:
                self._walk_log_group(ctx, group, required, walk)
            except DataUnavailable as exc:
                walk.errors.append(exc)
            if walk.stage is Stage.COMPLETE:
                break
        return facts

    @staticmethod
    def _records_all_management_events(ctx: CheckContext, trail: Trail, facts: dict[str, Any]) -> bool:
        status = trail_status(ctx, trail)
        facts["logging"] = status.logging
        if not status.logging:
            return False
        events = management_events(ctx, trail)
        facts["management_events"] = events.label
        return events.all

    def _walk_log_group(self, ctx: CheckContext, group: LogGroup, required: FilterPattern, walk: _Walk) -> None:
        for metric_filter in metric_filters(ctx, group):
            try:
                matches = covers(parse(metric_filter.pattern), required)
            except FilterPatternError:
                walk.unparsed.append(metric_filter.name)
                continue
            if not matches:
                continue
            walk.reach(Stage.NO_ALARM, filter=metric_filter)
            alarms = [a for a in metric_alarms(ctx, group.region) if set(a.metrics) & set(metric_filter.metrics)]
            for alarm in alarms:
                walk.reach(Stage.NO_TOPIC, filter=metric_filter, alarm=alarm)
                topics = alarm.topics if alarm.actions_enabled else ()
                if topics:
                    walk.reach(Stage.NO_SUBSCRIBER, filter=metric_filter, alarm=alarm, topics=topics)
                for topic in topics:
                    try:
                        confirmed = sum(1 for s in topic_subscriptions(ctx, topic) if s.confirmed)
                    except DataUnavailable as exc:
                        walk.errors.append(exc)
                        continue
                    if confirmed:
                        walk.reach(Stage.COMPLETE, filter=metric_filter, alarm=alarm, topics=(topic,),
                                   confirmed=confirmed)
                        return

    # -- reporting -------------------------------------------------------------------------------------------
    def _message(self, ctx: CheckContext, walk: _Walk) -> str:
        what = self.activity.activity
        account = f"Account {ctx.account}"
        groups = ", ".join(walk.log_groups)
        if walk.stage is Stage.NO_TRAIL:
            return (f"{account} has no multi-region CloudTrail trail that logs all management events to CloudWatch "
                    f"Logs, so nothing can alarm on {what}.")
        if walk.stage is Stage.NO_FILTER:
            return f"{account} has no metric filter for {what} on the CloudTrail log group {groups}."
        assert walk.filter is not None
        filter_name = walk.filter.name
        if walk.stage is Stage.NO_ALARM:
            metrics = ", ".join(f"{m.namespace}/{m.name}" for m in walk.filter.metrics) or "none"
            return (f"{account} has metric filter {filter_name} for {what} on log group {walk.filter.log_group}, "
                    f"but no CloudWatch alarm on its metric {metrics}.")
        assert walk.alarm is not None
        alarm = walk.alarm.name
        if walk.stage is Stage.NO_TOPIC:
            return (f"{account} has alarm {alarm} on metric filter {filter_name} for {what}, but it notifies no "
                    "SNS topic (or its actions are disabled).")
        topics = ", ".join(walk.topics)
        if walk.stage is Stage.NO_SUBSCRIBER:
            return (f"{account} has alarm {alarm} on metric filter {filter_name} for {what}, but its SNS topic "
                    f"{topics} has no confirmed subscriber.")
        return (f"{account} alarms on {what}: metric filter {filter_name} on log group {walk.filter.log_group} "
                f"feeds alarm {alarm}, which notifies SNS topic {topics} ({walk.confirmed} confirmed "
                "subscriber(s)).")

    @staticmethod
    def _evidence(walk: _Walk, trail_facts: list[dict[str, Any]]) -> dict[str, Any]:
        evidence: dict[str, Any] = {"trails": trail_facts, "log_groups": walk.log_groups}
        if walk.stage is not Stage.COMPLETE:
            evidence["missing"] = _MISSING[walk.stage]
        if walk.filter is not None:
            evidence["metric_filter"] = {"name": walk.filter.name, "pattern": walk.filter.pattern}
        if walk.alarm is not None:
            evidence["alarm"] = walk.alarm.name
        if walk.topics:
            evidence["sns_topics"] = list(walk.topics)
            evidence["confirmed_subscriptions"] = walk.confirmed
        if walk.unparsed:
            evidence["unparsed_filters"] = walk.unparsed
        return evidence


_MISSING = {
    Stage.NO_TRAIL: "multi-region trail logging all management events to CloudWatch Logs",
    Stage.NO_FILTER: "matching metric filter",
    Stage.NO_ALARM: "alarm on the filter's metric",
    Stage.NO_TOPIC: "SNS topic among the alarm's actions",
    Stage.NO_SUBSCRIBER: "confirmed subscriber of the alarm's SNS topic",
}


# -- one check per CIS recommendation ------------------------------------------------------------------------------
class CloudwatchUnauthorizedApiCallsMonitored(MonitoredActivityCheck):
    """Repeated AccessDenied and UnauthorizedOperation errors are often the first visible sign of an attacker
    probing what stolen credentials can do, or of a misconfigured application. An alarm on them brings the probing
    to someone's attention while it is still going on, instead of during a later investigation."""

    id = "cloudwatch_unauthorized_api_calls_monitored"
    activity = ACTIVITIES["unauthorized_api_calls"]
    risk = "Credential probing and privilege escalation attempts go unnoticed until damage is done."


class CloudwatchConsoleSigninWithoutMfaMonitored(MonitoredActivityCheck):
    """A console sign-in without MFA means a password alone was enough to get in. An alarm on it shows users who
    still have no MFA and sign-ins made with a stolen password, while there is still time to act."""

    id = "cloudwatch_console_signin_without_mfa_monitored"
    activity = ACTIVITIES["console_signin_without_mfa"]
    risk = "Sign-ins protected by a password alone, including with stolen passwords, go unnoticed."


class CloudwatchRootAccountUsageMonitored(MonitoredActivityCheck):
    """The root user cannot be restricted by any policy and should almost never be used. Every use of it is worth a
    human look: an alarm catches both bad habits and an attacker who obtained the root credentials."""

    id = "cloudwatch_root_account_usage_monitored"
    activity = ACTIVITIES["root_account_usage"]
    risk = "Use of the account's unrestricted root user, legitimate or not, goes unnoticed."


class CloudwatchIamPolicyChangesMonitored(MonitoredActivityCheck):
    """Changes to IAM policies change who can do what in the account. An alarm on them surfaces privilege
    escalation and accidental over-granting soon after they happen."""

    id = "cloudwatch_iam_policy_changes_monitored"
    activity = ACTIVITIES["iam_policy_changes"]
    risk = "Privilege escalation through new or changed IAM policies goes unnoticed."


class CloudwatchCloudtrailConfigChangesMonitored(MonitoredActivityCheck):
    """Stopping, deleting or reconfiguring a trail is how an intruder blinds the account's audit record. An alarm on
    CloudTrail configuration changes reports the attempt even when the trail itself stops recording."""

    id = "cloudwatch_cloudtrail_config_changes_monitored"
    activity = ACTIVITIES["cloudtrail_config_changes"]
    risk = "An intruder can stop or reconfigure audit logging without anyone being told."


class CloudwatchConsoleAuthFailuresMonitored(MonitoredActivityCheck):
    """Failed console sign-ins in numbers point to password guessing against the account's users. An alarm on them
    shortens the time to lock the targeted users or block the source."""

    id = "cloudwatch_console_auth_failures_monitored"
    activity = ACTIVITIES["console_auth_failures"]
    risk = "Brute-force attempts against console passwords go unnoticed."


class CloudwatchKmsKeyDisableOrDeletionMonitored(MonitoredActivityCheck):
    """Disabling or scheduling the deletion of a customer managed KMS key makes the data it encrypts unreadable,
    permanently once the key is deleted. An alarm on these events leaves time to cancel the deletion."""

    id = "cloudwatch_kms_key_disable_or_deletion_monitored"
    activity = ACTIVITIES["kms_key_disable_or_deletion"]
    risk = "A disabled or deleted KMS key can make encrypted data permanently unreadable before anyone notices."


class CloudwatchS3BucketPolicyChangesMonitored(MonitoredActivityCheck):
    """Bucket policies, ACLs, CORS, lifecycle and replication settings decide who can read a bucket and where its
    data goes. An alarm on their changes catches a bucket opened to the world or data copied elsewhere."""

    id = "cloudwatch_s3_bucket_policy_changes_monitored"
    activity = ACTIVITIES["s3_bucket_policy_changes"]
    risk = "A bucket policy or ACL change that exposes data goes unnoticed."


class CloudwatchConfigChangesMonitored(MonitoredActivityCheck):
    """AWS Config keeps the account's configuration history. Stopping its recorder or changing its delivery channel
    ends that history; an alarm on these changes reports it."""

    id = "cloudwatch_config_changes_monitored"
    activity = ACTIVITIES["config_changes"]
    risk = "Configuration recording can be stopped without anyone being told."


class CloudwatchSecurityGroupChangesMonitored(MonitoredActivityCheck):
    """Security groups are the firewall of every instance, database and load balancer. An alarm on their changes
    surfaces a port opened to the internet soon after it happens."""

    id = "cloudwatch_security_group_changes_monitored"
    activity = ACTIVITIES["security_group_changes"]
    risk = "A security group opened to the internet goes unnoticed."


class CloudwatchNaclChangesMonitored(MonitoredActivityCheck):
    """Network ACLs filter traffic in and out of whole subnets. An alarm on their changes surfaces a subnet opened
    to traffic it should not receive."""

    id = "cloudwatch_nacl_changes_monitored"
    activity = ACTIVITIES["nacl_changes"]
    risk = "A network ACL change that exposes a subnet goes unnoticed."


class CloudwatchNetworkGatewayChangesMonitored(MonitoredActivityCheck):
    """Internet and customer gateways are the doors between a VPC and other networks. An alarm on their changes
    surfaces a new path into or out of the account's networks."""

    id = "cloudwatch_network_gateway_changes_monitored"
    activity = ACTIVITIES["network_gateway_changes"]
    risk = "A new network path into or out of a VPC goes unnoticed."


class CloudwatchRouteTableChangesMonitored(MonitoredActivityCheck):
    """Route tables decide where traffic goes. An alarm on their changes surfaces traffic redirected through an
    unexpected gateway or a private subnet made reachable from the internet."""

    id = "cloudwatch_route_table_changes_monitored"
    activity = ACTIVITIES["route_table_changes"]
    risk = "Traffic redirected by a changed route table goes unnoticed."


class CloudwatchVpcChangesMonitored(MonitoredActivityCheck):
    """VPCs, their attributes and their peering connections define the account's network boundaries. An alarm on
    their changes surfaces a network joined to another or a boundary removed."""

    id = "cloudwatch_vpc_changes_monitored"
    activity = ACTIVITIES["vpc_changes"]
    risk = "A VPC peering or boundary change that connects networks goes unnoticed."


class CloudwatchOrganizationsChangesMonitored(MonitoredActivityCheck):
    """AWS Organizations changes move accounts, change service control policies and invite or remove members:
    they change the guard rails of every account in the organization. An alarm on them reports each change."""

    id = "cloudwatch_organizations_changes_monitored"
    activity = ACTIVITIES["organizations_changes"]
    risk = "Changes to the organization's accounts and guard rails go unnoticed."
