from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import Control, Status
from checks.cloudwatch.benchmark import ACTIVITIES, MONITORED_ACTIVITIES
from checks.cloudwatch.checks import MonitoredActivityCheck, _controls
from checks.cloudwatch.filter_pattern import FilterPatternError, Op, Term, covers, implies, parse

from ..conftest import ACCOUNT, ALL_CHECKS, BOTO

CHECK_OF = {
    c.activity.key: c.id for c in ALL_CHECKS.values() if isinstance(c, type) and issubclass(c, MonitoredActivityCheck)
}
ROOT = CHECK_OF["root_account_usage"]
UNAUTHORIZED = CHECK_OF["unauthorized_api_calls"]
LOG_GROUP = "cloudtrail-events"
ROOT_PATTERN = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && ' \
               '$.eventType != "AwsServiceEvent" }'

# The patterns as the benchmark and Security Hub publish them, spelled differently from the table the checks use
# (no event source, other spacing and quoting, CIS 4.1's unparenthesised || and &&).
PUBLISHED_PATTERNS = {
    "unauthorized_api_calls": '{($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && '
                              '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }',
    "console_signin_without_mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    "root_account_usage": '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
                          '$.eventType !="AwsServiceEvent"}',
    "iam_policy_changes": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||"
                          "($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||"
                          "($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||"
                          "($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||"
                          "($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
                          "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||"
                          "($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "cloudtrail_config_changes": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
                                 "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
                                 "($.eventName = StopLogging) }",
    "console_auth_failures": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "kms_key_disable_or_deletion": "{($.eventSource = kms.amazonaws.com) && "
                                   "(($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    "s3_bucket_policy_changes": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
                                "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || "
                                "($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
                                "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
                                "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    "config_changes": "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
                      "($.eventName=DeleteDeliveryChannel) ||($.eventName=PutDeliveryChannel)||"
                      "($.eventName=PutConfigurationRecorder)) }",
    "security_group_changes": "{ ($.eventName = AuthorizeSecurityGroupIngress) || "
                              "($.eventName = AuthorizeSecurityGroupEgress) || "
                              "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) "
                              "|| ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    "nacl_changes": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
                    "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
                    "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    "network_gateway_changes": "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
                               "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
                               "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    "route_table_changes": "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || "
                           "($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
                           "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || "
                           "($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    "vpc_changes": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
                   "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
                   "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
                   "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || "
                   "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    "organizations_changes": '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") '
                             '|| ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || '
                             '($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || '
                             '($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
                             '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || '
                             '($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
                             '($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || '
                             '($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || '
                             '($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || '
                             '($.eventName = "UpdateOrganizationalUnit")) }',
}


# -- seeding ---------------------------------------------------------------------------------------------------
def make_trail(aws, *, log_group: bool = True, multi_region: bool = True, logging: bool = True) -> str:
    aws.client("s3").create_bucket(Bucket="audit-trail-logs")
    options: dict[str, Any] = {}
    if log_group:
        logs = aws.client("logs")
        logs.create_log_group(logGroupName=LOG_GROUP)
        options["CloudWatchLogsLogGroupArn"] = logs.describe_log_groups()["logGroups"][0]["arn"]
        options["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-to-logs"
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name="audit", S3BucketName="audit-trail-logs", IsMultiRegionTrail=multi_region, **options)
    if logging:
        cloudtrail.start_logging(Name="audit")
    return "audit"


def make_topic(aws, *, subscribed: bool = True) -> str:
    sns = aws.client("sns")
    topic = sns.create_topic(Name="security-alerts")["TopicArn"]
    if subscribed:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    return topic


def make_filter(aws, name: str, pattern: str, namespace: str = "CISBenchmark") -> None:
    aws.client("logs").put_metric_filter(
        logGroupName=LOG_GROUP, filterName=name, filterPattern=pattern,
        metricTransformations=[{"metricName": name, "metricNamespace": namespace, "metricValue": "1"}],
    )


def make_alarm(aws, metric: str, actions: list[str], namespace: str = "CISBenchmark", enabled: bool = True) -> None:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=f"{metric}-alarm", MetricName=metric, Namespace=namespace, Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=actions, ActionsEnabled=enabled,
    )


def monitor(aws, name: str, pattern: str, topic: str) -> None:
    make_filter(aws, name, pattern)
    make_alarm(aws, name, [topic])


@pytest.fixture
def hooks(aws) -> Iterator[Callable[[str, Any], None]]:
    """Register botocore handlers on the shared session for one test (shapes moto cannot produce)."""
    registered: list[tuple[str, Any]] = []

    def register(event: str, handler: Any) -> None:
        BOTO.events.register_first(event, handler)
        registered.append((event, handler))

    yield register
    for event, handler in registered:
        BOTO.events.unregister(event, handler)


def only(run) -> Any:
    [finding] = run.findings
    assert finding.resource.type == "AWS::::Account" and finding.resource.id == ACCOUNT
    assert finding.region == "global"
    return finding


# -- every check: absence, and the benchmark's own patterns -----------------------------------------------------
def test_every_monitoring_item_has_a_check():
    assert set(CHECK_OF) == {a.key for a in MONITORED_ACTIVITIES} == set(PUBLISHED_PATTERNS)
    assert {ALL_CHECKS[c].activity.cis for c in CHECK_OF.values()} == {f"4.{n}" for n in range(1, 16)}


def test_account_without_trails_fails_every_check(audit):
    run = audit(*CHECK_OF.values())
    assert {f.check_id: f.status for f in run.findings} == {c: Status.FAIL for c in CHECK_OF.values()}
    for finding in run.findings:
        assert finding.resource.id == ACCOUNT
        assert "has no multi-region CloudTrail trail that logs all management events to CloudWatch Logs" \
            in finding.message
        assert finding.evidence["trails"] == []
        assert finding.evidence["missing"] == "multi-region trail logging all management events to CloudWatch Logs"


def test_published_patterns_with_alarms_and_subscribers_pass_every_check(audit, aws):
    make_trail(aws)
    topic = make_topic(aws)
    for key, pattern in PUBLISHED_PATTERNS.items():
        monitor(aws, f"{key}_metric", pattern, topic)
    run = audit(*CHECK_OF.values())
    assert {f.check_id: f.status for f in run.findings} == {c: Status.PASS for c in CHECK_OF.values()}
    for finding in run.findings:
        key = ALL_CHECKS[finding.check_id].activity.key
        assert f"metric filter {key}_metric on log group {LOG_GROUP} feeds alarm {key}_metric-alarm" \
            in finding.message
        assert finding.evidence["sns_topics"] == [topic]
        assert finding.evidence["confirmed_subscriptions"] == 1
        assert "missing" not in finding.evidence


def test_controls_follow_the_catalogue_map():
    """A CIS item is declared with the Security Hub control it maps to, and only when the catalogue holds both."""
    organizations = ACTIVITIES["organizations_changes"]
    assert _controls(organizations) == (Control("cis-aws-3.0", "4.15"), Control("cis-aws-4.0.1", "4.15"))
    in_fsbp = dataclasses.replace(organizations, securityhub="CloudTrail.5")  # the mechanism, not a real mapping
    assert _controls(in_fsbp) == (
        Control("aws-fsbp", "CloudTrail.5"), Control("cis-aws-3.0", "4.15"), Control("cis-aws-4.0.1", "4.15"),
    )
    assert _controls(dataclasses.replace(organizations, securityhub="Nowhere.1")) == ()


def test_remediation_carries_the_benchmark_pattern():
    check = ALL_CHECKS[UNAUTHORIZED]
    assert f"--filter-pattern '{ACTIVITIES['unauthorized_api_calls'].pattern}'" in check.remediation.cli
    assert 'resource "aws_cloudwatch_metric_alarm" "unauthorized_api_calls"' in check.remediation.terraform


# -- the trail -------------------------------------------------------------------------------------------------
def test_trail_without_cloudwatch_logs_fails(audit, aws):
    make_trail(aws, log_group=False)
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.evidence["trails"] == [
        {"name": "audit", "home_region": "us-east-1", "multi_region": True, "log_group": None}
    ]


@pytest.mark.parametrize("trail", [{"multi_region": False}, {"logging": False}], ids=["single-region", "stopped"])
def test_trail_that_is_single_region_or_not_logging_fails_even_with_monitoring(audit, aws, trail):
    make_trail(aws, **trail)
    monitor(aws, "root_usage", ROOT_PATTERN, make_topic(aws))
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == "multi-region trail logging all management events to CloudWatch Logs"


# -- the metric filter -----------------------------------------------------------------------------------------
def test_filter_that_narrows_the_benchmark_pattern_fails(audit, aws):
    make_trail(aws)
    narrowed = ROOT_PATTERN.replace("}", '&& $.awsRegion = "us-east-1" }')
    monitor(aws, "root_usage", narrowed, make_topic(aws))
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.message == f"Account {ACCOUNT} has no metric filter for use of the root user on the CloudTrail " \
                              f"log group {LOG_GROUP}."
    assert finding.evidence["log_groups"] == [LOG_GROUP]


def test_filter_reordered_requoted_and_broadened_passes(audit, aws):
    make_trail(aws)
    broader = ('{ ($.eventType!=AwsServiceEvent && ($.userIdentity.invokedBy NOT EXISTS) && '
               '$.userIdentity.type=Root) || ($.eventName = "ConsoleLogin") }')
    monitor(aws, "root_usage", broader, make_topic(aws))
    finding = only(audit(ROOT))
    assert finding.status is Status.PASS
    assert finding.evidence["metric_filter"] == {"name": "root_usage", "pattern": broader}


def test_unparsable_filter_is_named_and_fails(audit, aws):
    make_trail(aws)
    monitor(aws, "plain_text", '"Root" ConsoleLogin', make_topic(aws))
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.evidence["unparsed_filters"] == ["plain_text"]


# -- the alarm and its subscribers -----------------------------------------------------------------------------
def test_filter_without_alarm_fails(audit, aws):
    make_trail(aws)
    make_filter(aws, "root_usage", ROOT_PATTERN)
    make_alarm(aws, "root_usage", [make_topic(aws)], namespace="Other")  # same metric name, other namespace
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.message.endswith("but no CloudWatch alarm on its metric CISBenchmark/root_usage.")


@pytest.mark.parametrize("enabled", [True, False], ids=["no-actions", "actions-disabled"])
def test_alarm_that_notifies_no_topic_fails(audit, aws, enabled):
    make_trail(aws)
    make_filter(aws, "root_usage", ROOT_PATTERN)
    make_alarm(aws, "root_usage", [make_topic(aws)] if not enabled else [], enabled=enabled)
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert "alarm root_usage-alarm on metric filter root_usage" in finding.message
    assert finding.evidence["missing"] == "SNS topic among the alarm's actions"


def test_topic_without_subscribers_fails(audit, aws):
    make_trail(aws)
    topic = make_topic(aws, subscribed=False)
    monitor(aws, "root_usage", ROOT_PATTERN, topic)
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.message.endswith(f"but its SNS topic {topic} has no confirmed subscriber.")


def test_pending_subscription_does_not_count(audit, aws, hooks):
    """Recorded shape: real SNS lists an unconfirmed email subscription with SubscriptionArn "PendingConfirmation";
    moto confirms email subscriptions at once, so the response is rewritten to the real shape."""
    make_trail(aws)
    topic = make_topic(aws)
    monitor(aws, "root_usage", ROOT_PATTERN, topic)

    def pending(parsed: dict[str, Any], **_: Any) -> None:
        for subscription in parsed.get("Subscriptions", []):
            subscription["SubscriptionArn"] = "PendingConfirmation"

    hooks("after-call.sns.ListSubscriptionsByTopic", pending)
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == "confirmed subscriber of the alarm's SNS topic"


def test_metric_math_alarm_counts(audit, aws, hooks):
    """Recorded shape: an alarm on a metric-math expression has no MetricName, only Metrics[].MetricStat."""
    make_trail(aws)
    topic = make_topic(aws)
    monitor(aws, "root_usage", ROOT_PATTERN, topic)

    def as_metric_math(parsed: dict[str, Any], **_: Any) -> None:
        for alarm in parsed.get("MetricAlarms", []):
            name, namespace = alarm.pop("MetricName"), alarm.pop("Namespace")
            alarm["Metrics"] = [
                {"Id": "m1", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": name},
                                            "Period": 300, "Stat": "Sum"}, "ReturnData": False},
                {"Id": "e1", "Expression": "m1 * 1", "ReturnData": True},
            ]

    hooks("after-call.cloudwatch.DescribeAlarms", as_metric_math)
    assert only(audit(ROOT)).status is Status.PASS


# -- reads that fail ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("service, operation, action", [
    ("logs", "DescribeMetricFilters", "logs:DescribeMetricFilters"),
    ("cloudwatch", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
    ("sns", "ListSubscriptionsByTopic", "sns:ListSubscriptionsByTopic"),
])
def test_denied_read_is_error_naming_the_action(audit, aws, faults, service, operation, action):
    make_trail(aws)
    monitor(aws, "root_usage", ROOT_PATTERN, make_topic(aws))
    faults.deny(service, operation)
    finding = only(audit(ROOT))
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == action
    assert finding.evidence["error_code"] == "AccessDenied"


def test_missing_log_group_means_no_filters(audit, aws, faults):
    make_trail(aws)
    faults.deny("logs", "DescribeMetricFilters", code="ResourceNotFoundException", status=400)
    finding = only(audit(ROOT))
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == "matching metric filter"


# -- the filter pattern parser ---------------------------------------------------------------------------------
def test_parse_normalises_quoting_spacing_and_parentheses():
    a = parse('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }')
    b = parse("{$.errorCode=AccessDenied*||(((($.errorCode=*UnauthorizedOperation))))}")
    assert a == b
    assert a.conjunctions == {
        frozenset({Term("$.errorCode", Op.EQ, "*UnauthorizedOperation")}),
        frozenset({Term("$.errorCode", Op.EQ, "AccessDenied*")}),
    }


def test_and_binds_tighter_than_or():
    pattern = parse("{ $.a = 1 || $.b = 2 && $.c = 3 }")
    assert pattern.conjunctions == {
        frozenset({Term("$.a", Op.EQ, "1")}),
        frozenset({Term("$.b", Op.EQ, "2"), Term("$.c", Op.EQ, "3")}),
    }


def test_parse_reads_every_operator():
    pattern = parse('{ $.a EXISTS && $.b NOT EXISTS && $.c IS NULL && $.d IS TRUE && $.e >= 5 && '
                    '$.f != "x \\" y" }')
    [conjunction] = pattern.conjunctions
    assert conjunction == {
        Term("$.a", Op.EXISTS), Term("$.b", Op.NOT_EXISTS), Term("$.c", Op.IS_NULL), Term("$.d", Op.IS_TRUE),
        Term("$.e", Op.GE, "5"), Term("$.f", Op.NE, 'x " y'),
    }


@pytest.mark.parametrize("text", ["", "ERROR", "{ $.a = 1", "{ $.a = }", "{ a = 1 }", "{ $.a = 1 } x",
                                  "{ $.a NOT 1 }", "{ ($.a = 1 }", "{ $.a IS MAYBE }"])
def test_parse_rejects_what_is_not_a_json_pattern(text):
    with pytest.raises(FilterPatternError):
        parse(text)


@pytest.mark.parametrize("given, wanted, expected", [
    (Term("$.e", Op.EQ, "AccessDeniedException"), Term("$.e", Op.EQ, "AccessDenied*"), True),
    (Term("$.e", Op.EQ, "AccessDenied*"), Term("$.e", Op.EQ, "*"), True),
    (Term("$.e", Op.EQ, "AccessDenied*"), Term("$.e", Op.EQ, "AccessDeniedException"), False),
    (Term("$.e", Op.EQ, "Access*"), Term("$.e", Op.EQ, "AccessDenied*"), False),
    (Term("$.e", Op.EQ, "a"), Term("$.f", Op.EQ, "a"), False),
    (Term("$.e", Op.EQ, "Yes"), Term("$.e", Op.NE, "No"), True),
    (Term("$.e", Op.EQ, "No"), Term("$.e", Op.NE, "No"), False),
    (Term("$.e", Op.NE, "No*"), Term("$.e", Op.NE, "Nope"), True),
    (Term("$.e", Op.NE, "Nope"), Term("$.e", Op.NE, "No*"), False),
    (Term("$.e", Op.EQ, "x"), Term("$.e", Op.EXISTS), True),
    (Term("$.e", Op.NOT_EXISTS), Term("$.e", Op.EXISTS), False),
])
def test_term_implication(given, wanted, expected):
    assert implies(given, wanted) is expected


def test_every_benchmark_pattern_parses_and_published_ones_cover_it():
    for activity in MONITORED_ACTIVITIES:
        required = parse(activity.pattern)
        assert covers(required, required)
        assert covers(parse(PUBLISHED_PATTERNS[activity.key]), required), activity.key


def test_a_missing_or_branch_fails_and_an_extra_one_does_not():
    required = parse(ACTIVITIES["cloudtrail_config_changes"].pattern)
    full = PUBLISHED_PATTERNS["cloudtrail_config_changes"]
    assert covers(parse(full.replace("}", "|| ($.eventName = GetTrail) }")), required)
    assert not covers(parse(full.replace("|| ($.eventName = StopLogging)", "")), required)


# Property tests: a pattern is a random expression tree over a few terms; rendering it with shuffled operands,
# random spacing, random redundant parentheses and random quoting never changes its normal form or verdict.
FIELDS = ("$.eventName", "$.errorCode", "$.userIdentity.type", "$.eventSource")
VALUES = ("CreateTrail", "AccessDenied*", "*Unauthorized", "Root", "iam.amazonaws.com", "x y")
terms = st.builds(
    Term,
    st.sampled_from(FIELDS),
    st.sampled_from([Op.EQ, Op.NE, Op.EXISTS, Op.NOT_EXISTS]),
    st.sampled_from(VALUES),
).map(lambda t: Term(t.field, t.op, t.value if t.op in (Op.EQ, Op.NE) else None))
trees = st.recursive(
    terms,
    lambda children: st.tuples(st.sampled_from(["&&", "||"]), st.lists(children, min_size=2, max_size=3)),
    max_leaves=8,
)


def render(tree: Any, rng: random.Random) -> str:
    def space() -> str:
        return rng.choice(["", " ", "  ", "\t"])

    def term(t: Term) -> str:
        if t.value is None:
            return f"{t.field} {t.op.value}"
        quoted = " " in t.value or rng.random() < 0.5
        value = f'"{t.value}"' if quoted else t.value
        return f"{t.field}{space()}{t.op.value}{space()}{value}"

    def node(n: Any) -> str:
        if isinstance(n, Term):
            text = term(n)
        else:
            operator, children = n
            parts = [f"({node(c)})" for c in children]
            rng.shuffle(parts)
            text = f"{space()}{operator}{space()}".join(parts)
        return f"({text})" if rng.random() < 0.3 else text

    return "{" + space() + node(tree) + space() + "}"


@settings(max_examples=100, deadline=None)
@given(tree=trees, seed=st.integers(0, 2**32), required_tree=trees)
def test_rendering_never_changes_the_normal_form_or_the_verdict(tree, seed, required_tree):
    first, second = render(tree, random.Random(seed)), render(tree, random.Random(seed + 1))
    assert parse(first) == parse(second)
    required = parse(render(required_tree, random.Random(seed)))
    assert covers(parse(first), required) == covers(parse(second), required)
    assert covers(parse(first), parse(second))


@settings(max_examples=100, deadline=None)
@given(tree=trees, extra=trees, seed=st.integers(0, 2**32))
def test_an_extra_or_branch_keeps_coverage_and_a_foreign_and_term_removes_it(tree, extra, seed):
    rng = random.Random(seed)
    required = parse(render(tree, rng))
    broadened = parse(render(("||", [tree, extra]), rng))
    assert covers(broadened, required)
    narrowed = parse(render(("&&", [tree, Term("$.awsRegion", Op.EQ, "eu-west-1")]), rng))
    assert covers(required, narrowed)
    assert not covers(narrowed, required)
