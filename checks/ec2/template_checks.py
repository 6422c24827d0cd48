"""Launch template and spot fleet checks: what new instances will be launched with."""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import (
    BlockDevice,
    LaunchTemplate,
    LaunchTemplateData,
    launch_template_data,
    launch_templates,
    spot_fleet_requests,
)


def _terraform_template(body: str) -> str:
    return ('resource "aws_launch_template" "app" {\n'
            '  name_prefix = "${var.project}-app-"\n'
            "  # ...\n"
            f"{body}\n\n"
            '  tags = merge(local.common_tags, { Name = "${var.project}-app-lt" })\n'
            "}")


def _unencrypted(devices: tuple[BlockDevice, ...]) -> list[BlockDevice]:
    return [d for d in devices if d.encrypted is not True]


class _LaunchTemplateCheck(Check):
    """Judges the default version of every launch template (not a check itself)."""

    api_calls: ClassVar[tuple[str, ...]] = ("ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from ctx.each(launch_templates(ctx), lambda template: self._judge(
            ctx, template, launch_template_data(ctx, template.id)))

    def _judge(self, ctx: CheckContext, template: LaunchTemplate, data: LaunchTemplateData) -> Iterator[Finding]:
        raise NotImplementedError


class Ec2LaunchTemplateNoPublicIp(_LaunchTemplateCheck):
    """A launch template whose network interfaces ask for a public IP address gives every instance it
    launches (including every instance an Auto Scaling group adds) an address reachable from the internet,
    whatever subnet it lands in. The default version of each template is judged."""

    id = "ec2_launch_template_no_public_ip"
    service = "ec2"
    severity = Severity.HIGH
    title = "EC2 launch templates do not assign public IP addresses to network interfaces"
    risk = "Every instance launched from the template gets an internet-reachable address."
    remediation = Remediation(
        text="Create a new template version without AssociatePublicIpAddress (or set it to false) and make it the "
        "default version.",
        cli="aws ec2 create-launch-template-version --launch-template-id <lt-id> --source-version '$Default' "
        "--launch-template-data '{\"NetworkInterfaces\":[{\"DeviceIndex\":0,\"AssociatePublicIpAddress\":false}]}'",
        terraform=_terraform_template("  network_interfaces {\n    associate_public_ip_address = false\n  }"),
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/create-launch-template.html",
    )
    compliance = (Control("aws-fsbp", "EC2.25"),)

    def _judge(self, ctx: CheckContext, template: LaunchTemplate, data: LaunchTemplateData) -> Iterator[Finding]:
        evidence = {"version": data.version, "public_ip_device_indexes": list(data.public_ip_interfaces)}
        if data.public_ip_interfaces:
            yield ctx.failed(template.resource, f"Launch template {template.label} (version {data.version}) "
                             "assigns public IP addresses to network interfaces.", evidence)
        else:
            yield ctx.passed(template.resource, f"Launch template {template.label} (version {data.version}) "
                             "assigns no public IP address.", evidence)


class Ec2LaunchTemplateImdsv2Required(_LaunchTemplateCheck):
    """Instances inherit their metadata options from the launch template. A template that does not require
    IMDSv2 launches instances that accept IMDSv1 (unless the AMI or account default says otherwise), whose
    role credentials an SSRF flaw can steal. The default version of each template is judged; a template that
    turns the metadata endpoint off passes."""

    id = "ec2_launch_template_imdsv2_required"
    service = "ec2"
    severity = Severity.LOW
    title = "EC2 launch templates require IMDSv2"
    risk = "Instances launched from the template may accept IMDSv1 and leak role credentials through SSRF."
    remediation = Remediation(
        text="Create a template version with MetadataOptions HttpTokens=required and make it the default.",
        cli="aws ec2 create-launch-template-version --launch-template-id <lt-id> --source-version '$Default' "
        "--launch-template-data '{\"MetadataOptions\":{\"HttpTokens\":\"required\",\"HttpEndpoint\":\"enabled\"}}'",
        terraform=_terraform_template("  metadata_options {\n"
                                      '    http_endpoint = "enabled"\n'
                                      '    http_tokens   = "required"\n'
                                      "  }"),
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html",
    )
    compliance = (Control("aws-fsbp", "EC2.170"),)

    def _judge(self, ctx: CheckContext, template: LaunchTemplate, data: LaunchTemplateData) -> Iterator[Finding]:
        evidence = {"version": data.version, "http_tokens": data.http_tokens or None,
                    "metadata_endpoint": data.http_endpoint or None}
        if data.http_endpoint == "disabled":
            yield ctx.passed(template.resource, f"Launch template {template.label} turns the instance metadata "
                             "service off.", evidence)
        elif data.http_tokens == "required":
            yield ctx.passed(template.resource, f"Launch template {template.label} requires IMDSv2.", evidence)
        else:
            said = data.http_tokens or "not set"
            yield ctx.failed(template.resource, f"Launch template {template.label} does not require IMDSv2 "
                             f"(HttpTokens is {said}).", evidence)


class Ec2LaunchTemplateEbsEncrypted(_LaunchTemplateCheck):
    """EBS volumes a launch template defines are created with the encryption setting it gives. A mapping that
    does not ask for encryption leaves the data in clear unless EBS encryption by default is on in the
    region. The default version of each template is judged; a template that maps no EBS volume (the AMI's
    mappings apply) passes."""

    id = "ec2_launch_template_ebs_encrypted"
    service = "ec2"
    severity = Severity.MEDIUM
    title = "EC2 launch templates encrypt the EBS volumes they attach"
    risk = "Instances launched from the template may store data on unencrypted volumes."
    remediation = Remediation(
        text="Create a template version whose EBS block device mappings set Encrypted=true (optionally with a "
        "KMS key) and make it the default; turn on EBS encryption by default as a backstop.",
        cli="aws ec2 create-launch-template-version --launch-template-id <lt-id> --source-version '$Default' "
        "--launch-template-data '{\"BlockDeviceMappings\":[{\"DeviceName\":\"/dev/xvda\","
        "\"Ebs\":{\"Encrypted\":true}}]}'",
        terraform=_terraform_template("  block_device_mappings {\n"
                                      '    device_name = "/dev/xvda"\n'
                                      "    ebs {\n"
                                      "      encrypted  = true\n"
                                      "      kms_key_id = aws_kms_key.ebs.arn\n"
                                      "    }\n"
                                      "  }"),
        url="https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
    )
    compliance = (Control("aws-fsbp", "EC2.181"),)

    def _judge(self, ctx: CheckContext, template: LaunchTemplate, data: LaunchTemplateData) -> Iterator[Finding]:
        clear = _unencrypted(data.block_devices)
        evidence: dict[str, Any] = {"version": data.version, "volumes": [d.evidence() for d in data.block_devices]}
        if clear:
            devices = ", ".join(d.device for d in clear)
            yield ctx.failed(template.resource, f"Launch template {template.label} attaches EBS volume(s) without "
                             f"encryption: {devices}.", evidence)
        elif data.block_devices:
            yield ctx.passed(template.resource, f"Launch template {template.label} encrypts every EBS volume it "
                             "attaches.", evidence)
        else:
            yield ctx.passed(template.resource, f"Launch template {template.label} attaches no EBS volume of its "
                             "own.", evidence)


class Ec2SpotFleetEbsEncrypted(Check):
    """A spot fleet request with launch specifications creates its instances' EBS volumes as those
    specifications say. A mapping that does not ask for encryption leaves the data in clear unless EBS
    encryption by default is on. Requests that launch from launch templates are judged by the launch template
    check instead; only requests that can still launch instances are considered."""

    id = "ec2_spot_fleet_ebs_encrypted"
    service = "ec2"
    severity = Severity.MEDIUM
    title = "EC2 spot fleet requests encrypt the EBS volumes they attach"
    risk = "Spot instances of the fleet may store data on unencrypted volumes."
    remediation = Remediation(
        text="Recreate the spot fleet request with Encrypted=true on every EBS block device mapping, or launch it "
        "from a launch template that encrypts its volumes.",
        cli="aws ec2 request-spot-fleet --spot-fleet-request-config file://fleet-with-encrypted-ebs.json",
        terraform='resource "aws_spot_fleet_request" "workers" {\n'
        "  # ...\n"
        "  launch_specification {\n"
        "    # ...\n"
        "    root_block_device {\n"
        "      encrypted = true\n"
        "    }\n"
        "  }\n"
        "}",
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-requests.html",
    )
    compliance = (Control("aws-fsbp", "EC2.173"),)
    api_calls = ("ec2:DescribeSpotFleetRequests",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for request in spot_fleet_requests(ctx):
            if not request.uses_launch_specifications:
                continue
            clear = _unencrypted(request.block_devices)
            evidence = {"state": request.state, "volumes": [d.evidence() for d in request.block_devices]}
            if clear:
                yield ctx.failed(request.resource, f"Spot fleet request {request.id} launches EBS volume(s) without "
                                 f"encryption: {', '.join(d.device for d in clear)}.", evidence)
            else:
                yield ctx.passed(request.resource, f"Spot fleet request {request.id} encrypts every EBS volume it "
                                 "specifies.", evidence)


