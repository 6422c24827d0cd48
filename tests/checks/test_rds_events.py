"""RDS event subscriptions (region-level: absence FAILs) and RDS Proxy TLS."""
from __future__ import annotations

import pytest

from auditor import Status

from ..conftest import statuses

RULES = {  # check id -> (source type, the categories it requires)
    "rds_event_subscription_cluster_events_enabled": ("db-cluster", ["failure", "maintenance"]),
    "rds_event_subscription_instance_events_enabled": ("db-instance",
                                                       ["configuration change", "failure", "maintenance"]),
    "rds_event_subscription_parameter_group_events_enabled": ("db-parameter-group", ["configuration change"]),
    "rds_event_subscription_security_group_events_enabled": ("db-security-group",
                                                             ["configuration change", "failure"]),
}
PROXY = "rds_proxy_tls_required"


def subscribe(aws, name: str, source_type: str | None, categories: list[str], enabled: bool = True,
              source_ids: list[str] | None = None) -> None:
    topic = aws.client("sns").create_topic(Name="rds-alerts")["TopicArn"]
    options: dict = {"SourceType": source_type} if source_type else {}
    if source_ids:
        options["SourceIds"] = source_ids
    aws.client("rds").create_event_subscription(SubscriptionName=name, SnsTopicArn=topic, EventCategories=categories,
                                                Enabled=enabled, **options)


@pytest.mark.parametrize("check_id", sorted(RULES))
def test_no_subscription_fails_the_region(audit, check_id):
    run = audit(check_id)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert finding.resource.type == "AWS::::Account" and finding.region == "us-east-1"
    assert finding.evidence["covering_subscriptions"] == []
    assert "No enabled RDS event subscription in us-east-1" in finding.message


@pytest.mark.parametrize("check_id", sorted(RULES))
def test_subscription_with_the_required_categories_passes(audit, aws, check_id):
    source_type, categories = RULES[check_id]
    subscribe(aws, "critical", source_type, categories)
    run = audit(check_id)
    [finding] = run.findings
    assert finding.status is Status.PASS
    assert finding.evidence["covering_subscriptions"] == ["critical"]
    assert finding.evidence["required_categories"] == categories


@pytest.mark.parametrize("check_id", sorted(RULES))
def test_incomplete_disabled_or_narrow_subscriptions_fail(audit, aws, check_id):
    source_type, categories = RULES[check_id]
    subscribe(aws, "partial", source_type, categories[:1] if len(categories) > 1 else ["deletion"])
    subscribe(aws, "off", source_type, categories, enabled=False)
    subscribe(aws, "one-source", source_type, categories, source_ids=["some-db"])
    run = audit(check_id)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert sorted(s["name"] for s in finding.evidence["other_subscriptions"]) == ["off", "one-source", "partial"]


def test_subscription_for_all_sources_and_categories_covers_every_rule(audit, aws):
    subscribe(aws, "everything", None, [])
    run = audit(*RULES)
    assert {f.check_id: f.status.value for f in run.findings} == {check_id: "PASS" for check_id in RULES}


def test_denied_subscription_read_is_error(audit, aws, faults):
    faults.deny("rds", "DescribeEventSubscriptions")
    run = audit("rds_event_subscription_instance_events_enabled")
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "rds:DescribeEventSubscriptions"


# -- proxies ---------------------------------------------------------------------------------------------------------
def make_proxy(aws, name: str, require_tls: bool) -> None:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")["Subnet"]["SubnetId"] for n in (1, 2)]
    aws.client("rds").create_db_proxy(
        DBProxyName=name, EngineFamily="POSTGRESQL", RoleArn="arn:aws:iam::123456789012:role/proxy",
        Auth=[{"SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db", "IAMAuth": "DISABLED"}],
        VpcSubnetIds=subnets, RequireTLS=require_tls)


def test_proxy_without_tls_fails_with_tls_passes(audit, aws):
    make_proxy(aws, "strict", True)
    make_proxy(aws, "lax", False)
    run = audit(PROXY)
    assert statuses(run) == {"strict": "PASS", "lax": "FAIL"}
    lax = next(f for f in run.findings if f.resource.id == "lax")
    assert lax.evidence == {"require_tls": False, "engine_family": "POSTGRESQL"}
    assert lax.resource.type == "AWS::RDS::DBProxy" and "does not require TLS" in lax.message


def test_no_proxies_no_findings(audit):
    run = audit(PROXY)
    assert run.findings == () and run.errors == ()
