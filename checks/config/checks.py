"""AWS Config checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import SERVICE_LINKED_ROLE, config_setup

CONFIG_TERRAFORM = (
    'resource "aws_config_configuration_recorder" "main" {\n'
    '  name     = "${var.project}-recorder"\n'
    '  role_arn = aws_iam_service_linked_role.config.arn\n'
    '\n'
    '  recording_group {\n'
    '    all_supported = true\n'
    '  }\n'
    '}\n'
    '\n'
    'resource "aws_iam_service_linked_role" "config" {\n'
    '  aws_service_name = "config.amazonaws.com"\n'
    '}\n'
    '\n'
    'resource "aws_config_delivery_channel" "main" {\n'
    '  name           = "${var.project}-config"\n'
    '  s3_bucket_name = aws_s3_bucket.config.id\n'
    '  depends_on     = [aws_config_configuration_recorder.main]\n'
    '}\n'
    '\n'
    'resource "aws_config_configuration_recorder_status" "main" {\n'
    '  name       = aws_config_configuration_recorder.main.name\n'
    '  is_enabled = true\n'
    '  depends_on = [aws_config_delivery_channel.main]\n'
    '}'
)


class ConfigRecorderAllResourcesRecording(Check):
    """AWS Config keeps the configuration history of every resource and the relationships between them: what a
    security group allowed last Tuesday, who changed a bucket policy, which resources a deleted role could reach.
    It is the inventory incident response and compliance evaluation start from, and Security Hub's own controls
    depend on it. It works per region, so each region needs a configuration recorder that records all supported
    resource types, is recording, and has a delivery channel to send what it records; Security Hub also expects
    the recorder to use Config's service-linked role (parameter `config.require_service_linked_role`)."""

    id = "config_recorder_all_resources_recording"
    service = "config"
    severity = Severity.CRITICAL
    title = "AWS Config records all resource types in every audited region"
    risk = "Configuration changes in the region leave no history, so incidents and drift cannot be reconstructed."
    remediation = Remediation(
        text="In every region, create a configuration recorder for all supported resource types with the "
             "service-linked role, a delivery channel to an S3 bucket, and start the recorder.",
        cli="aws configservice put-configuration-recorder --configuration-recorder "
            "name=default,roleARN=arn:aws:iam::<account-id>:role/aws-service-role/config.amazonaws.com/"
            f"{SERVICE_LINKED_ROLE} --recording-group allSupported=true && "
            "aws configservice put-delivery-channel --delivery-channel name=default,s3BucketName=<bucket> && "
            "aws configservice start-configuration-recorder --configuration-recorder-name default",
        terraform=CONFIG_TERRAFORM,
        url="https://docs.aws.amazon.com/config/latest/developerguide/gs-console.html",
    )
    compliance = (
        Control("aws-fsbp", "Config.1"),
        Control("cis-aws-3.0", "3.3"),
        Control("cis-aws-4.0.1", "3.3"),
    )
    api_calls = (
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
        "config:DescribeDeliveryChannels",
    )
    parameters = ("config.require_service_linked_role",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        setup = config_setup(ctx)
        region = ctx.region
        if not setup.recorders:
            yield ctx.failed(ctx.account_resource(region), f"AWS Config has no configuration recorder in {region}.",
                             {"recorders": []})
            return
        require_role = bool(ctx.param("config.require_service_linked_role"))
        for recorder in setup.recorders:
            problems = []
            if not recorder.records_all_resource_types:
                problems.append("does not record all supported resource types")
            if not recorder.recording:
                problems.append("is not recording")
            if not setup.delivery_channels:
                problems.append("has no delivery channel")
            if require_role and not recorder.uses_service_linked_role:
                problems.append(f"does not use the {SERVICE_LINKED_ROLE} service-linked role")
            evidence = {**recorder.summary(), "delivery_channels": list(setup.delivery_channels)}
            if problems:
                yield ctx.failed(recorder.resource, f"AWS Config recorder {recorder.name} in {region} "
                                 f"{_join(problems)}.", evidence)
            else:
                yield ctx.passed(recorder.resource, f"AWS Config recorder {recorder.name} in {region} records all "
                                 f"supported resource types and delivers them.", evidence)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
