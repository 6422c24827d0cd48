"""GuardDuty checks: a detector in every region, and each protection plan turned on in it.

The protection-plan checks share one base class driven by a `Protection` value (which feature, and which agent
management setting, if any), so each check states only its metadata and the plan it wants.

A region without an enabled detector FAILs every protection-plan check too, with the account as the subject:
the plans are features of a detector, so no detector means none of them protects the region, and a report
filtered to one control (say GuardDuty.10) must not look clean because the detector check sits elsewhere.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import Detector, detectors

GUARDDUTY_API_CALLS = ("guardduty:ListDetectors", "guardduty:GetDetector")


class GuarddutyDetectorEnabled(Check):
    """GuardDuty analyses CloudTrail, VPC flow logs and DNS logs for threats such as credential exfiltration,
    crypto-mining and reconnaissance. It works per region, so a region without an enabled detector is a region
    where an attacker is not watched."""

    id = "guardduty_detector_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty has an enabled detector in every audited region"
    risk = "Threats in a region without an enabled detector go unnoticed."
    remediation = Remediation(
        text="Enable GuardDuty in every region you use (and in those you do not, to catch misuse).",
        cli="aws guardduty create-detector --enable --region <region>",
        terraform='resource "aws_guardduty_detector" "main" {\n  enable = true\n}',
        url="https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html",
    )
    compliance = (Control("aws-fsbp", "GuardDuty.1"),)
    api_calls = GUARDDUTY_API_CALLS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        found = detectors(ctx)
        enabled = [d for d in found if d.enabled]
        if enabled:
            for detector in enabled:
                yield ctx.passed(detector.resource, f"GuardDuty detector {detector.id} is enabled in {ctx.region}.")
            return
        evidence = {"detectors": [{"id": d.id, "status": d.status} for d in found]}
        message = (
            f"GuardDuty detector(s) in {ctx.region} are not enabled."
            if found
            else f"GuardDuty has no detector in {ctx.region}."
        )
        yield ctx.failed(ctx.account_resource(ctx.region), message, evidence)


# -- protection plans ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Protection:
    """A GuardDuty protection plan: any of `features` enabled, with the `agent` additional configuration enabled
    in that feature when one is named. The first feature is the current one, used in remediation."""

    label: str
    features: tuple[str, ...]
    url: str
    agent: str | None = None

    def verdict(self, detector: Detector) -> tuple[bool, dict[str, Any]]:
        states = {name: detector.features[name] for name in self.features if name in detector.features}
        evidence: dict[str, Any] = {
            "features": {name: state.status for name, state in states.items()} or None,
        }
        if self.agent is not None:
            evidence["agent_management"] = {
                name: state.additional.get(self.agent) for name, state in states.items()
            } or None
        ok = any(state.enabled and (self.agent is None or state.additional.get(self.agent) == "ENABLED")
                 for state in states.values())
        return ok, evidence

    def remediation(self) -> Remediation:
        feature: dict[str, Any] = {"Name": self.features[0], "Status": "ENABLED"}
        block = ""
        if self.agent is not None:
            feature["AdditionalConfiguration"] = [{"Name": self.agent, "Status": "ENABLED"}]
            block = (
                "\n"
                "  additional_configuration {\n"
                f'    name   = "{self.agent}"\n'
                '    status = "ENABLED"\n'
                "  }\n"
            )
        what = f"{self.label} (with automated agent management)" if self.agent else self.label
        return Remediation(
            text=f"Turn on {what} on the GuardDuty detector of every audited region (for an organization, in the "
                 f"delegated administrator's auto-enable settings).",
            cli="aws guardduty update-detector --detector-id <detector-id> --features "
                f"'{json.dumps([feature], separators=(',', ':'))}'",
            terraform=(
                f'resource "aws_guardduty_detector_feature" "{self.features[0].lower()}" {{\n'
                "  detector_id = aws_guardduty_detector.main.id\n"
                f'  name        = "{self.features[0]}"\n'
                '  status      = "ENABLED"\n'
                f"{block}"
                "}"
            ),
            url=self.url,
        )


class GuarddutyProtectionCheck(Check):
    """Base of the protection-plan checks (not a check itself: it has no id)."""

    protection: ClassVar[Protection]
    api_calls = GUARDDUTY_API_CALLS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        label = self.protection.label
        found = detectors(ctx)
        enabled = [d for d in found if d.enabled]
        if not enabled:
            yield ctx.failed(
                ctx.account_resource(ctx.region),
                f"GuardDuty has no enabled detector in {ctx.region}, so {label} does not run there.",
                {"detectors": [{"id": d.id, "status": d.status} for d in found]},
            )
            return
        for detector in enabled:
            ok, evidence = self.protection.verdict(detector)
            if ok:
                yield ctx.passed(detector.resource,
                                 f"GuardDuty detector {detector.id} in {ctx.region} has {label} enabled.", evidence)
            else:
                yield ctx.failed(detector.resource,
                                 f"GuardDuty detector {detector.id} in {ctx.region} does not have {label} enabled.",
                                 evidence)


_UG = "https://docs.aws.amazon.com/guardduty/latest/ug/"
RUNTIME_FEATURES = ("RUNTIME_MONITORING",)


class GuarddutyEksAuditLogsEnabled(GuarddutyProtectionCheck):
    """EKS Audit Log Monitoring reads the Kubernetes audit logs of EKS clusters and finds suspicious activity in
    the control plane: anonymous access, pods started with host privileges, credentials read from secrets."""

    id = "guardduty_eks_audit_logs_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty EKS Audit Log Monitoring is enabled"
    risk = "Attacks on the Kubernetes control plane of EKS clusters go unnoticed."
    protection = Protection("EKS Audit Log Monitoring", ("EKS_AUDIT_LOGS",), _UG + "kubernetes-protection.html")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.5"),)


class GuarddutyLambdaProtectionEnabled(GuarddutyProtectionCheck):
    """Lambda Protection watches the network activity of Lambda functions and finds functions that talk to
    crypto-mining pools or known command-and-control hosts, the sign of a compromised function or dependency."""

    id = "guardduty_lambda_protection_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty Lambda Protection is enabled"
    risk = "A compromised Lambda function that calls out to an attacker goes unnoticed."
    protection = Protection("Lambda Protection", ("LAMBDA_NETWORK_LOGS",), _UG + "lambda-protection.html")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.6"),)


class GuarddutyEksRuntimeMonitoringEnabled(GuarddutyProtectionCheck):
    """EKS Runtime Monitoring runs GuardDuty's security agent on EKS nodes and finds threats inside containers:
    reverse shells, crypto-miners, container escapes. With automated agent management GuardDuty installs and
    updates the agent itself, so new clusters are covered without anyone remembering to."""

    id = "guardduty_eks_runtime_monitoring_enabled"
    service = "guardduty"
    severity = Severity.MEDIUM
    title = "GuardDuty EKS Runtime Monitoring is enabled with automated agent management"
    risk = "Threats running inside EKS containers go unnoticed, and new clusters get no agent."
    protection = Protection("EKS Runtime Monitoring", ("RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING"),
                            _UG + "runtime-monitoring.html", agent="EKS_ADDON_MANAGEMENT")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.7"),)


class GuarddutyEc2MalwareProtectionEnabled(GuarddutyProtectionCheck):
    """Malware Protection for EC2 scans the EBS volumes of instances and container workloads GuardDuty finds
    behaving suspiciously, and names the malware it finds, without an agent on the instance."""

    id = "guardduty_ec2_malware_protection_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty Malware Protection for EC2 is enabled"
    risk = "Malware on a suspicious instance is never identified, so its scope and removal are guesswork."
    protection = Protection("Malware Protection for EC2", ("EBS_MALWARE_PROTECTION",),
                            _UG + "malware-protection.html")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.8"),)


class GuarddutyRdsProtectionEnabled(GuarddutyProtectionCheck):
    """RDS Protection analyses sign-in activity on Aurora and RDS databases and finds brute-force attempts and
    logins from unusual places or by unusual users."""

    id = "guardduty_rds_protection_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty RDS Protection is enabled"
    risk = "Brute-force and anomalous logins to databases go unnoticed."
    protection = Protection("RDS Protection", ("RDS_LOGIN_EVENTS",), _UG + "rds-protection.html")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.9"),)


class GuarddutyS3ProtectionEnabled(GuarddutyProtectionCheck):
    """S3 Protection analyses S3 data events (object reads, writes and deletes) and finds data exfiltration,
    destruction and access from known malicious addresses."""

    id = "guardduty_s3_protection_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty S3 Protection is enabled"
    risk = "Suspicious reads and deletions of S3 objects go unnoticed."
    protection = Protection("S3 Protection", ("S3_DATA_EVENTS",), _UG + "s3-protection.html")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.10"),)


class GuarddutyRuntimeMonitoringEnabled(GuarddutyProtectionCheck):
    """Runtime Monitoring watches operating-system-level activity (processes, file access, network connections)
    on EKS, ECS and EC2 workloads through GuardDuty's security agent, and finds threats that no log shows."""

    id = "guardduty_runtime_monitoring_enabled"
    service = "guardduty"
    severity = Severity.HIGH
    title = "GuardDuty Runtime Monitoring is enabled"
    risk = "Threats running on instances and in containers go unnoticed."
    protection = Protection("Runtime Monitoring", RUNTIME_FEATURES, _UG + "runtime-monitoring.html")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.11"),)


class GuarddutyEcsRuntimeMonitoringEnabled(GuarddutyProtectionCheck):
    """For ECS on Fargate, GuardDuty's runtime agent can only be added by GuardDuty's automated agent
    management; without it, Runtime Monitoring does not see inside Fargate tasks."""

    id = "guardduty_ecs_runtime_monitoring_enabled"
    service = "guardduty"
    severity = Severity.MEDIUM
    title = "GuardDuty ECS Runtime Monitoring is enabled with automated agent management"
    risk = "Threats running inside ECS Fargate tasks go unnoticed."
    protection = Protection("ECS Runtime Monitoring", RUNTIME_FEATURES, _UG + "runtime-monitoring.html",
                            agent="ECS_FARGATE_AGENT_MANAGEMENT")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.12"),)


class GuarddutyEc2RuntimeMonitoringEnabled(GuarddutyProtectionCheck):
    """With automated agent management for EC2, GuardDuty installs and updates its runtime agent on instances
    through Systems Manager, so every new instance is monitored without manual installation."""

    id = "guardduty_ec2_runtime_monitoring_enabled"
    service = "guardduty"
    severity = Severity.MEDIUM
    title = "GuardDuty EC2 Runtime Monitoring is enabled with automated agent management"
    risk = "Threats running on EC2 instances go unnoticed, and new instances get no agent."
    protection = Protection("EC2 Runtime Monitoring", RUNTIME_FEATURES, _UG + "runtime-monitoring.html",
                            agent="EC2_AGENT_MANAGEMENT")
    remediation = protection.remediation()
    compliance = (Control("aws-fsbp", "GuardDuty.13"),)
