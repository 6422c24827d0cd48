"""The findings the stack declares on its own resources: one declaration, the same rules in the template, the
function's environment and the mutelist file; exact resources only; small enough for Lambda's environment."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from auditor.deploy.accepted import (
    ENVIRONMENT_VARIABLE,
    OWNER,
    PLACEHOLDERS,
    REASONS,
    accepted_findings,
    environment_value,
    mutelist_yaml,
    resolve,
    stack_values,
    summary_lines,
)
from auditor.deploy.template import StackOptions, build_template
from auditor.mutelist import Mutelist

CODE = "artifacts/aws-audit-lambda-0123456789abcdef.zip"
VPC = {"subnet_ids": ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"),
       "security_group_ids": ("sg-0123456789abcdef0",)}
VALUES = stack_values(partition="aws", account="123456789012", region="eu-west-1",
                      bucket="aws-audit-reports-123456789012-eu-west-1")
LAMBDA_ENVIRONMENT_LIMIT = 4 * 1024  # bytes, all variables together (Lambda quotas)


def _sub(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)


def test_the_stack_declares_its_four_exceptions_and_in_a_vpc_three() -> None:
    rules = accepted_findings(StackOptions())
    assert [r["check"] for r in rules] == ["s3_bucket_mfa_delete_enabled", "s3_bucket_cross_region_replication_enabled",
                                           "s3_bucket_access_logging_enabled", "lambda_function_in_vpc"]
    assert {r["check"] for r in accepted_findings(StackOptions(**VPC))} == set(REASONS) - {"lambda_function_in_vpc"}
    assert all(r["owner"] == OWNER and r["reason"] == REASONS[r["check"]] for r in rules)
    resolved = {r["check"]: r["resource"] for r in resolve(rules, VALUES)}
    assert resolved == {
        "s3_bucket_mfa_delete_enabled": "arn:aws:s3:::aws-audit-reports-123456789012-eu-west-1",
        "s3_bucket_cross_region_replication_enabled": "arn:aws:s3:::aws-audit-reports-123456789012-eu-west-1",
        "s3_bucket_access_logging_enabled": "arn:aws:s3:::aws-audit-reports-123456789012-eu-west-1",
        "lambda_function_in_vpc": "arn:aws:lambda:eu-west-1:123456789012:function:aws-audit",
    }


@pytest.mark.parametrize("options", [StackOptions(), StackOptions(stack_name="audit-prod", bucket_name="acme-reports",
                                                                  fan_out=True, **VPC)], ids=["default", "named-vpc"])
def test_every_rule_names_one_exact_resource_of_the_stack(options: StackOptions) -> None:
    bucket = options.bucket_name or VALUES["ReportBucket"]
    for rule in resolve(accepted_findings(options), {**VALUES, "ReportBucket": bucket}):
        assert set(rule) == {"check", "resource", "reason", "owner", "status"}  # no account/region/tag globs either
        assert rule["status"] == "FAIL"  # an ERROR on the stack (a check that could not run) is never hidden
        assert not set("*?[]") & set(rule["resource"]) and not rule["resource"].startswith("regex:"), rule
        assert rule["check"] in REASONS and rule["reason"].strip() and "${" not in rule["reason"]
        assert rule["resource"] in {f"arn:aws:s3:::{bucket}",
                                    f"arn:aws:lambda:eu-west-1:123456789012:function:{options.stack_name}"}


def test_the_functions_environment_holds_the_same_rules_as_a_mutelist_document() -> None:
    options = StackOptions(stack_name="audit-prod")
    function = build_template(options, code_key=CODE)["Resources"]["Function"]["Properties"]
    value = function["Environment"]["Variables"][ENVIRONMENT_VARIABLE]
    assert value == environment_value(accepted_findings(options))
    # The only variables are the ones CloudFormation fills in (the bucket by Ref, which the function has already).
    assert set(re.findall(r"\$\{([^}]+)\}", value["Fn::Sub"])) <= {"AWS::Partition", "AWS::Region",
                                                                   "AWS::AccountId", "ReportBucket"}
    text = _sub(value["Fn::Sub"], VALUES)
    assert json.loads(text) == {"rules": resolve(accepted_findings(options), VALUES)}
    assert " " not in text.split('"reason"')[0]  # compact JSON
    parsed = Mutelist.parse(text, ENVIRONMENT_VARIABLE)  # what the handler does with it
    assert [(r.check, r.resource, r.reason, r.owner, r.account, r.region) for r in parsed.rules] == [
        (r["check"], r["resource"], r["reason"], OWNER, "*", "*") for r in resolve(accepted_findings(options), VALUES)]


def test_literal_text_cannot_reach_the_substitution() -> None:
    with pytest.raises(ValueError, match="reason"):
        environment_value([{"check": "x", "resource": "arn:aws:s3:::b", "reason": "costs ${AWS::AccountId}",
                            "owner": OWNER}])


def _resolved_environment(template: dict[str, Any], values: dict[str, str], topic: str) -> dict[str, str]:
    variables = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    substitute = {**values, "NotificationTopic": topic}

    def one(value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return substitute[value["Ref"]]
        return _sub(value["Fn::Sub"], substitute)

    return {key: one(value) for key, value in variables.items()}


def test_the_environment_stays_well_under_lambdas_4_kb_at_the_longest_names() -> None:
    """Lambda refuses a function whose environment variables total more than 4 KB. Measured with the longest names
    the stack allows: a 64-character function (stack) name, a 63-character bucket, a long region and partition, an
    email topic, an organization role and a region list, and a JSON encoding of the whole map."""
    options = StackOptions(stack_name="a" * 64, bucket_name="b" * 63, notify_email="secops@example.com",
                           fan_out=True, org_role_name="r" * 64,
                           regions=("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"))
    values = stack_values(partition="aws-us-gov", account="123456789012", region="ap-southeast-5", bucket="b" * 63)
    topic = f"arn:aws-us-gov:sns:ap-southeast-5:123456789012:{'a' * 64}-findings"
    environment = _resolved_environment(build_template(options, code_key=CODE), values, topic)
    accepted = len(environment[ENVIRONMENT_VARIABLE].encode())
    total = len(json.dumps(environment, separators=(",", ":")).encode())
    assert accepted < 2048, accepted  # half the limit at most, for the declared exceptions
    assert total < 3 * 1024, total  # and a quarter of it left for the user's --check/--service lists

    default = _resolved_environment(build_template(StackOptions(), code_key=CODE), VALUES, topic)
    assert len(default[ENVIRONMENT_VARIABLE].encode()) < accepted


def test_the_mutelist_file_is_what_run_mutelist_reads() -> None:
    rules = resolve(accepted_findings(StackOptions()), VALUES)
    text = mutelist_yaml("aws-audit", rules, "Account 123456789012, region eu-west-1.")
    assert text.startswith("# ") and "aws-audit run --mutelist accepted-findings.yaml" in text
    parsed = Mutelist.parse(text, "accepted-findings.yaml")
    assert [(r.check, r.resource, r.reason, r.owner) for r in parsed.rules] == [
        (r["check"], r["resource"], r["reason"], r["owner"]) for r in rules]
    assert summary_lines(rules)[0] == (f"s3_bucket_mfa_delete_enabled on arn:aws:s3:::{VALUES['ReportBucket']}: "
                                       f"{REASONS['s3_bucket_mfa_delete_enabled']}")


def test_placeholders_match_nothing_until_replaced() -> None:
    values = stack_values(partition=PLACEHOLDERS["AWS::Partition"], account=PLACEHOLDERS["AWS::AccountId"],
                          region=PLACEHOLDERS["AWS::Region"], bucket="aws-audit-reports-<account-id>-<region>")
    for rule in resolve(accepted_findings(StackOptions()), values):
        assert "<partition>" in rule["resource"] and not set("*?[]") & set(rule["resource"])


def test_the_readme_gives_every_reason_word_for_word() -> None:
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").split())
    for check, reason in REASONS.items():
        assert f"| `{check}` |" in readme and reason in readme, check
