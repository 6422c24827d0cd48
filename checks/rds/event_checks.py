"""RDS event notification subscriptions (one result per region) and RDS Proxy TLS (one per proxy).

The four subscription checks differ only in the source type and event categories they require, so they are
rows of `SUBSCRIPTION_RULES` turned into check classes by `_define`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.check import camel_case

from .resources import EventSubscription, db_proxies, event_subscriptions


@dataclass(frozen=True)
class SubscriptionRule:
    id: str
    control: str
    source_type: str  # db-instance, db-cluster, db-parameter-group, db-security-group
    noun: str  # "DB instances"
    categories: tuple[str, ...]


SUBSCRIPTION_RULES = (
    SubscriptionRule("rds_event_subscription_cluster_events_enabled", "RDS.19", "db-cluster", "DB clusters",
                     ("failure", "maintenance")),
    SubscriptionRule("rds_event_subscription_instance_events_enabled", "RDS.20", "db-instance", "DB instances",
                     ("configuration change", "failure", "maintenance")),
    SubscriptionRule("rds_event_subscription_parameter_group_events_enabled", "RDS.21", "db-parameter-group",
                     "DB parameter groups", ("configuration change",)),
    SubscriptionRule("rds_event_subscription_security_group_events_enabled", "RDS.22", "db-security-group",
                     "DB security groups", ("configuration change", "failure")),
)


def covers(subscription: EventSubscription, rule: SubscriptionRule) -> bool:
    """An enabled subscription for every source of the type (no source ids) and at least the required
    categories (no categories means all of them). A subscription without a source type covers every type."""
    return (
        subscription.enabled
        and subscription.source_type in (None, rule.source_type)
        and not subscription.source_ids
        and (not subscription.categories or set(rule.categories) <= set(subscription.categories))
    )


def _listing(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


class EventSubscriptionCheck(Check):
    """Shared evaluation of the subscription rows: one finding per region."""

    rule: ClassVar[SubscriptionRule]
    api_calls = ("rds:DescribeEventSubscriptions",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        rule = self.rule
        wanted = _listing(rule.categories)
        subscriptions = event_subscriptions(ctx)
        matching = [s for s in subscriptions if covers(s, rule)]
        evidence = {
            "source_type": rule.source_type,
            "required_categories": list(rule.categories),
            "covering_subscriptions": [s.name for s in matching],
            "other_subscriptions": [
                {"name": s.name, "enabled": s.enabled, "source_type": s.source_type, "categories": list(s.categories),
                 "limited_to_sources": len(s.source_ids)}
                for s in subscriptions if s not in matching and s.source_type in (None, rule.source_type)
            ],
        }
        resource = ctx.account_resource()
        if matching:
            yield ctx.passed(resource, f"RDS event subscription {matching[0].name} notifies {wanted} events of all "
                             f"{rule.noun} in {ctx.region}.", evidence)
        else:
            yield ctx.failed(resource, f"No enabled RDS event subscription in {ctx.region} notifies {wanted} events "
                             f"of all {rule.noun}.", evidence)


def _define(rule: SubscriptionRule) -> type[Check]:
    name = camel_case(rule.id)
    categories = ", ".join(rule.categories)
    return type(name, (EventSubscriptionCheck,), {
        "__doc__": f"An RDS event subscription sends {categories} events of {rule.noun} to an SNS topic, so "
                   f"failures, forced maintenance and configuration changes reach people while they happen "
                   f"instead of being found in the console later. One result per region; a subscription counts "
                   f"when it is enabled, covers all {rule.noun} and at least these categories.",
        "__module__": __name__, "__qualname__": name, "rule": rule,
        "id": rule.id, "service": "rds", "severity": Severity.LOW, "category": Category.OPERATIONS,
        "title": f"An RDS event subscription notifies critical events of {rule.noun}",
        "risk": f"Failures and unexpected changes of {rule.noun} go unnoticed until users report an outage.",
        "remediation": Remediation(
            text=f"Create an RDS event subscription for source type {rule.source_type} with the categories "
                 f"{categories}, sending to an SNS topic that people receive.",
            cli=f"aws rds create-event-subscription --subscription-name {rule.source_type}-events --sns-topic-arn "
                f"<topic-arn> --source-type {rule.source_type} --event-categories "
                + " ".join(f'"{c}"' for c in rule.categories),
            terraform=f'resource "aws_db_event_subscription" "{rule.source_type.replace("-", "_")}" {{\n'
                      f'  name        = "${{var.project}}-{rule.source_type}-events"\n'
                      f'  sns_topic   = aws_sns_topic.alerts.arn\n'
                      f'  source_type = "{rule.source_type}"\n'
                      f'  event_categories = [{", ".join(chr(34) + c + chr(34) for c in rule.categories)}]\n'
                      f'}}',
            url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Subscribing.html"),
        "compliance": (Control("aws-fsbp", rule.control),),
    })


for _rule in SUBSCRIPTION_RULES:
    globals()[camel_case(_rule.id)] = _define(_rule)


class RdsProxyTlsRequired(Check):
    """An RDS Proxy that does not require TLS accepts plain-text connections from clients, exposing queries,
    results and database credentials to anyone who can observe the network path between the application and
    the proxy."""

    id = "rds_proxy_tls_required"
    service = "rds"
    severity = Severity.MEDIUM
    title = "RDS proxies require TLS for client connections"
    risk = "Credentials and data travel in plain text between clients and the proxy."
    remediation = Remediation(
        text="Turn on Require Transport Layer Security for the proxy and make clients connect with TLS.",
        cli="aws rds modify-db-proxy --db-proxy-name <proxy> --require-tls",
        terraform='resource "aws_db_proxy" "main" {\n'
                  '  name = "${var.project}-proxy"\n'
                  '  # ...\n'
                  '  require_tls = true\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security",
    )
    compliance = (Control("aws-fsbp", "RDS.43"),)
    api_calls = ("rds:DescribeDBProxies",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for proxy in db_proxies(ctx):
            evidence = {"require_tls": proxy.require_tls, "engine_family": proxy.engine_family}
            if proxy.require_tls:
                yield ctx.passed(proxy.resource, f"RDS proxy {proxy.name} requires TLS.", evidence)
            else:
                yield ctx.failed(proxy.resource, f"RDS proxy {proxy.name} does not require TLS.", evidence)
