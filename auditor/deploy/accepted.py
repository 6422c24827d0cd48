"""The findings a deployed aws-audit knowingly does not satisfy on its own resources, declared by the stack itself.

The stack follows the guide its checks hold every account to, except where two of the guide's rules, or AWS itself,
make a check impossible or pointless to satisfy. Each such exception is a mutelist rule (auditor/mutelist.py) that
names one exact resource of the stack by its ARN (the bucket's, unique in its partition, or the function's, which
names its account and region; never a glob), the reason, and the owner "aws-audit deploy". `accepted_findings` is
the one place they are declared; they reach:

- the function's environment (AWS_AUDIT_ACCEPTED: a mutelist document as compact JSON, its ARNs filled in by
  CloudFormation), which the handler applies to every run, fanned out or not: the deployed auditor's own reports
  show these findings muted with their reason, and they never notify;
- accepted-findings.yaml, written by `deploy --dry-run` next to the template and by `deploy` to the report bucket
  (config/accepted-findings.yaml), for `aws-audit run --mutelist`; `deploy` also prints them, one line each.
"""
from __future__ import annotations

import json
import re
import textwrap
from typing import TYPE_CHECKING, Any, Mapping

import yaml

if TYPE_CHECKING:
    from .template import StackOptions

OWNER = "aws-audit deploy"
ENVIRONMENT_VARIABLE = "AWS_AUDIT_ACCEPTED"
FILE_NAME = "accepted-findings.yaml"
CONFIG_KEY = f"config/{FILE_NAME}"  # in the report bucket, outside every account prefix the function may write
# What a dry run that could not ask STS who the caller is writes instead (matching no finding until replaced).
PLACEHOLDERS = {"AWS::Partition": "<partition>", "AWS::AccountId": "<account-id>", "AWS::Region": "<region>"}

# The variables a rule may use: CloudFormation's pseudo parameters and the report bucket's name (Ref ReportBucket).
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
VARIABLES = ("AWS::Partition", "AWS::Region", "AWS::AccountId", "ReportBucket")

REASONS = {
    "s3_bucket_mfa_delete_enabled":
        "Only the root user with its MFA device can enable MFA delete (not CloudFormation, not a role), and S3 does "
        "not support lifecycle configuration on MFA delete buckets, which this bucket needs (archive, then expire). "
        "Object Lock (GOVERNANCE) protects the report versions instead.",
    "s3_bucket_cross_region_replication_enabled":
        "A single-region stack: versioning and Object Lock protect the reports in this region, and every scheduled "
        "run writes a fresh one. A replica would need a second bucket and key in another region, outside the stack.",
    "s3_bucket_access_logging_enabled":
        "S3 cannot deliver server access logs to a bucket with Object Lock (this one), so logging needs a second "
        "bucket, which could not have Object Lock and would itself fail this check. CloudTrail data events, where "
        "enabled, record object-level access.",
    "lambda_function_in_vpc":
        "Deployed without --subnet-ids and --security-group-ids: the function calls only public AWS API endpoints. "
        "Redeploy with both (private subnets with a NAT gateway route) to run it in a VPC.",
}


def accepted_findings(options: StackOptions) -> list[dict[str, Any]]:
    """The stack's declared exceptions as mutelist rules whose resource ARNs are CloudFormation Fn::Sub intrinsics
    (see VARIABLES). The function's ARN is built from its name: the function's own environment
    holds these rules, and a reference to the function from there would be a circular dependency."""
    bucket = "arn:${AWS::Partition}:s3:::${ReportBucket}"
    function = f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{options.stack_name}"
    declared = [
        ("s3_bucket_mfa_delete_enabled", bucket),
        ("s3_bucket_cross_region_replication_enabled", bucket),
        ("s3_bucket_access_logging_enabled", bucket),
    ]
    if not options.in_vpc:
        declared.append(("lambda_function_in_vpc", function))
    return [{"check": check, "resource": {"Fn::Sub": resource}, "reason": REASONS[check], "owner": OWNER,
             "status": "FAIL"}
            for check, resource in declared]


def _text(value: Any) -> str:
    return value["Fn::Sub"] if isinstance(value, Mapping) else str(value)


def environment_value(rules: list[dict[str, Any]]) -> dict[str, str]:
    """The rules as one mutelist document, compact JSON inside a single Fn::Sub (an environment variable is a
    string; CloudFormation fills in the ARNs). Literal text may not contain `${`: Fn::Sub would read it."""
    plain = [{key: _text(value) for key, value in rule.items()} for rule in rules]
    for rule in plain:
        for key in ("check", "reason", "owner"):
            if "${" in rule[key]:
                raise ValueError(f"accepted finding {rule['check']}: '${{' in its {key}")
    return {"Fn::Sub": json.dumps({"rules": plain}, separators=(",", ":"))}


def resolve(rules: list[dict[str, Any]], values: Mapping[str, str]) -> list[dict[str, str]]:
    """The rules with their variables filled in, as CloudFormation would: `values` maps each of VARIABLES."""
    def fill(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise ValueError(f"no value for ${{{match.group(1)}}} in an accepted finding")
            return values[match.group(1)]
        return _VARIABLE.sub(one, text)

    return [{key: fill(_text(value)) for key, value in rule.items()} for rule in rules]


def stack_values(*, partition: str, account: str, region: str, bucket: str) -> dict[str, str]:
    return {"AWS::Partition": partition, "AWS::AccountId": account, "AWS::Region": region, "ReportBucket": bucket}


def mutelist_yaml(stack_name: str, rules: list[dict[str, str]], note: str = "") -> str:
    """accepted-findings.yaml: a mutelist `aws-audit run --mutelist` reads (auditor/mutelist.py)."""
    header = [f"Findings the aws-audit stack {stack_name!r} declares on its own resources and knowingly does not",
              "satisfy, each with its reason (the deployed function mutes them in its own reports).",
              f"Audit with them: aws-audit run --mutelist {FILE_NAME}"]
    header += [wrapped for line in note.splitlines() for wrapped in textwrap.wrap(line, 116) or [""]]
    body = yaml.safe_dump({"rules": rules}, sort_keys=False, width=120, allow_unicode=True)
    return "".join(f"# {line}\n" for line in header) + body


def summary_lines(rules: list[dict[str, str]]) -> list[str]:
    """One line per accepted finding: check, resource, reason."""
    return [f"{rule['check']} on {rule['resource']}: {rule['reason']}" for rule in rules]
