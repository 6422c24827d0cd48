"""Formats other tools ingest: AWS Security Finding Format (ASFF), OCSF Detection Finding, CloudWatch EMF metrics.

ASFF is what Security Hub imports (tests validate it against botocore's own BatchImportFindings input shape).
OCSF 1.1 Detection Finding (class 2004) is what security lakes and SIEMs ingest. The metrics format writes
CloudWatch Embedded Metric Format lines: counts of failing findings by service and severity, which CloudWatch
Logs turns into metrics a dashboard can chart.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from auditor.models import AuditRun, Finding, Severity, Status

ASFF_SEVERITY = {Severity.INFORMATIONAL: "INFORMATIONAL", Severity.LOW: "LOW", Severity.MEDIUM: "MEDIUM",
                 Severity.HIGH: "HIGH", Severity.CRITICAL: "CRITICAL"}
ASFF_COMPLIANCE = {Status.PASS: "PASSED", Status.FAIL: "FAILED", Status.ERROR: "NOT_AVAILABLE"}
# OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
OCSF_SEVERITY = {Severity.INFORMATIONAL: 1, Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4,
                 Severity.CRITICAL: 5}
OCSF_VERSION = "1.1.0"
METRICS_NAMESPACE = "aws-audit"


def _iso(run: AuditRun) -> str:
    return run.started.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _region(finding: Finding, run: AuditRun) -> str:
    return finding.region if finding.region != "global" else run.regions[0]


_ASFF_SERVICE = {"EC2": "Ec2", "RDS": "Rds", "IAM": "Iam", "KMS": "Kms", "ECS": "Ecs", "SNS": "Sns", "SQS": "Sqs",
                 "EFS": "Efs", "ECR": "Ecr", "EKS": "Eks"}


def asff_resource_type(cloudformation_type: str) -> str:
    """AWS::EC2::Instance -> AwsEc2Instance, AWS::RDS::DBInstance -> AwsRdsDbInstance (Security Hub's names)."""
    parts = [p for p in cloudformation_type.split("::")[1:] if p]
    if not parts:
        return "Other"
    service, rest = _ASFF_SERVICE.get(parts[0], parts[0]), "".join(parts[1:])
    if rest.startswith("DB"):
        rest = "Db" + rest[2:]
    return "Aws" + service + rest


def asff_finding(finding: Finding, run: AuditRun) -> dict[str, Any]:
    region = _region(finding, run)
    resource: dict[str, Any] = {"Type": asff_resource_type(finding.resource.type),
                                "Id": finding.resource.arn or finding.resource.id, "Partition": run.partition,
                                "Region": region}
    if finding.resource.tags:
        resource["Tags"] = {k[:128]: v[:256] for k, v in finding.resource.tags.items()}
    document: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": f"aws-audit/{finding.id}",
        "ProductArn": f"arn:{run.partition}:securityhub:{region}:{run.account}:product/{run.account}/default",
        "ProductName": "aws-audit",
        "CompanyName": "aws-audit",
        "GeneratorId": f"aws-audit/{finding.check_id}",
        "AwsAccountId": finding.account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": _iso(run),
        "UpdatedAt": _iso(run),
        "Severity": {"Label": ASFF_SEVERITY[finding.severity]},
        "Title": finding.title[:256],
        "Description": finding.message[:1024],
        "Resources": [resource],
        "Compliance": {"Status": ASFF_COMPLIANCE[finding.status],
                       "RelatedRequirements": [str(c) for c in finding.compliance][:32]},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "SUPPRESSED" if finding.muted else ("RESOLVED" if finding.status is Status.PASS
                                                                   else "NEW")},
        "ProductFields": {"aws-audit/CheckId": finding.check_id, "aws-audit/Category": finding.category.value},
    }
    if finding.remediation:
        recommendation = {"Text": finding.remediation.text[:512]}
        if finding.remediation.url:
            recommendation["Url"] = finding.remediation.url
        document["Remediation"] = {"Recommendation": recommendation}
    return document


class AsffReporter:
    name = "asff"
    extension = "asff.json"

    def render(self, run: AuditRun) -> str:
        return json.dumps([asff_finding(f, run) for f in run.findings], indent=1) + "\n"


def ocsf_finding(finding: Finding, run: AuditRun) -> dict[str, Any]:
    time_ms = int(run.started.timestamp() * 1000)
    status_id = 3 if finding.status is Status.PASS else (4 if finding.muted else 1)  # 1 New, 3 Resolved, 4 Suppressed
    return {
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "time": time_ms,
        "severity_id": OCSF_SEVERITY[finding.severity],
        "severity": finding.severity.value.capitalize(),
        "status_id": status_id,
        "status": {1: "New", 3: "Resolved", 4: "Suppressed"}[status_id],
        "status_code": finding.status.value,
        "status_detail": finding.mute_reason or finding.message,
        "message": finding.message,
        "finding_info": {
            "uid": finding.id,
            "title": finding.title,
            "desc": finding.message,
            "types": [finding.category.value],
            "created_time": time_ms,
            "analytic": {"uid": finding.check_id, "name": finding.check_id, "type_id": 1, "type": "Rule"},
        },
        "resources": [{
            "uid": finding.resource.arn or finding.resource.id,
            "name": finding.resource.name or finding.resource.id,
            "type": finding.resource.type,
            "region": finding.region,
            "cloud_partition": run.partition,
            "labels": [f"{k}:{v}" for k, v in finding.resource.tags.items()],
            "data": dict(finding.evidence),
        }],
        "cloud": {"provider": "AWS", "account": {"uid": finding.account, "type": "AWS Account", "type_id": 10},
                  "region": _region(finding, run)},
        "remediation": {"desc": finding.remediation.text if finding.remediation else "",
                        "references": [finding.remediation.url] if finding.remediation and finding.remediation.url
                        else []},
        "unmapped": {"compliance": [str(c) for c in finding.compliance]},
        "metadata": {"version": OCSF_VERSION, "product": {"name": "aws-audit", "vendor_name": "aws-audit",
                                                          "version": run.tool_version}},
    }


class OcsfReporter:
    name = "ocsf"
    extension = "ocsf.json"

    def render(self, run: AuditRun) -> str:
        return json.dumps([ocsf_finding(f, run) for f in run.findings], indent=1, ensure_ascii=False) + "\n"


class MetricsReporter:
    """CloudWatch Embedded Metric Format: one line per (service, severity) with failing and total counts."""

    name = "metrics"
    extension = "metrics.jsonl"

    def render(self, run: AuditRun) -> str:
        failing: Counter[tuple[str, str]] = Counter()
        evaluated: Counter[tuple[str, str]] = Counter()
        errors: Counter[str] = Counter()
        for f in run.findings:
            if f.muted:
                continue
            evaluated[(f.service, f.severity.value)] += f.status is not Status.ERROR
            failing[(f.service, f.severity.value)] += f.status is Status.FAIL
            errors[f.service] += f.status is Status.ERROR
        timestamp = int(run.finished.timestamp() * 1000)
        lines = []
        for (service, severity) in sorted(evaluated):
            lines.append({
                "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [{
                    "Namespace": METRICS_NAMESPACE, "Dimensions": [["Account", "Service", "Severity"]],
                    "Metrics": [{"Name": "FailedFindings", "Unit": "Count"},
                                {"Name": "EvaluatedFindings", "Unit": "Count"}]}]},
                "Account": run.account, "Service": service, "Severity": severity,
                "FailedFindings": failing[(service, severity)], "EvaluatedFindings": evaluated[(service, severity)],
            })
        lines.append({
            "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE, "Dimensions": [["Account"]],
                "Metrics": [{"Name": "ErrorFindings", "Unit": "Count"},
                            {"Name": "DurationSeconds", "Unit": "Seconds"}]}]},
            "Account": run.account, "ErrorFindings": sum(errors.values()),
            "DurationSeconds": round(run.duration_seconds, 3),
        })
        return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
