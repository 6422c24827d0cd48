"""VPC interface endpoints: one check per AWS service that should be reached privately.

The checks differ only in the service they look for, so each is a few lines of data on `_InterfaceEndpointCheck`.
"""
from __future__ import annotations

from typing import ClassVar, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import Vpc, VpcEndpoint, vpc_endpoints, vpcs


def _remediation(endpoint: str, doc: str) -> Remediation:
    return Remediation(
        text=f"Create an interface VPC endpoint for com.amazonaws.<region>.{endpoint} in the VPC, in its private "
        "subnets, with private DNS enabled and a security group that allows HTTPS from the VPC.",
        cli=f"aws ec2 create-vpc-endpoint --vpc-id <vpc-id> --vpc-endpoint-type Interface "
        f"--service-name com.amazonaws.<region>.{endpoint} --subnet-ids <subnet-ids> "
        "--security-group-ids <sg-id> --private-dns-enabled",
        terraform=f'resource "aws_vpc_endpoint" "{endpoint.replace(".", "_").replace("-", "_")}" {{\n'
        "  vpc_id              = module.vpc.vpc_id\n"
        f'  service_name        = "com.amazonaws.${{var.region}}.{endpoint}"\n'
        '  vpc_endpoint_type   = "Interface"\n'
        "  subnet_ids          = module.vpc.private_subnets\n"
        "  security_group_ids  = [aws_security_group.endpoints.id]\n"
        "  private_dns_enabled = true\n\n"
        f'  tags = merge(local.common_tags, {{ Name = "${{var.project}}-{endpoint}-endpoint" }})\n'
        "}",
        url=doc,
    )


class _InterfaceEndpointCheck(Check):
    """Each VPC has an interface endpoint for one AWS service (not a check itself)."""

    endpoint_service: ClassVar[str]  # the last part of com.amazonaws.<region>.<service>
    service_label: ClassVar[str]
    api_calls: ClassVar[tuple[str, ...]] = ("ec2:DescribeVpcs", "ec2:DescribeVpcEndpoints")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        found = vpcs(ctx)
        if not found:
            return
        endpoints = vpc_endpoints(ctx)
        wanted = f"com.amazonaws.{ctx.region}.{self.endpoint_service}"
        for vpc in found:
            yield self._judge(ctx, vpc, wanted, [
                e for e in endpoints
                if e.vpc_id == vpc.id and e.service_name == wanted and e.endpoint_type.lower() == "interface"
            ])

    def _judge(self, ctx: CheckContext, vpc: Vpc, wanted: str, matching: list[VpcEndpoint]) -> Finding:
        usable = [e.id for e in matching if e.usable]
        evidence = {"service_name": wanted, "endpoints": [{"id": e.id, "state": e.state} for e in matching]}
        if usable:
            return ctx.passed(vpc.resource, f"{vpc.label} has an interface endpoint for {self.service_label} "
                              f"({', '.join(usable)}).", evidence)
        if matching:
            return ctx.failed(vpc.resource, f"{vpc.label} has an interface endpoint for {self.service_label} but "
                              "none is available.", evidence)
        return ctx.failed(vpc.resource, f"{vpc.label} has no interface endpoint for {self.service_label}.", evidence)


_DOC = "https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html"
_WHY = (" An interface endpoint keeps the traffic on the AWS network: workloads in private subnets reach the "
        "service without a NAT gateway or internet route, and an endpoint policy can limit what they may do.")


class VpcEndpointEc2Configured(_InterfaceEndpointCheck):
    __doc__ = "Each VPC has an interface endpoint for the Amazon EC2 API." + _WHY
    id = "vpc_endpoint_ec2_configured"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "VPCs have an interface endpoint for the Amazon EC2 API"
    risk = "Calls to the EC2 API leave the VPC through the internet or a NAT gateway."
    remediation = _remediation("ec2", "https://docs.aws.amazon.com/ec2/latest/devguide/interface-vpc-endpoints.html")
    compliance = (Control("aws-fsbp", "EC2.10"),)
    endpoint_service = "ec2"
    service_label = "Amazon EC2"


class VpcEndpointEcrApiConfigured(_InterfaceEndpointCheck):
    __doc__ = "Each VPC has an interface endpoint for the Amazon ECR API." + _WHY
    id = "vpc_endpoint_ecr_api_configured"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "VPCs have an interface endpoint for the Amazon ECR API"
    risk = "Calls to the ECR API leave the VPC through the internet or a NAT gateway."
    remediation = _remediation("ecr.api", _DOC)
    compliance = (Control("aws-fsbp", "EC2.55"),)
    endpoint_service = "ecr.api"
    service_label = "the ECR API"


class VpcEndpointEcrDockerConfigured(_InterfaceEndpointCheck):
    __doc__ = "Each VPC has an interface endpoint for the ECR Docker registry (image pulls)." + _WHY
    id = "vpc_endpoint_ecr_docker_configured"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "VPCs have an interface endpoint for the ECR Docker registry"
    risk = "Container image pulls leave the VPC through the internet or a NAT gateway."
    remediation = _remediation("ecr.dkr", _DOC)
    compliance = (Control("aws-fsbp", "EC2.56"),)
    endpoint_service = "ecr.dkr"
    service_label = "the ECR Docker registry"


class VpcEndpointSsmConfigured(_InterfaceEndpointCheck):
    __doc__ = "Each VPC has an interface endpoint for AWS Systems Manager." + _WHY
    id = "vpc_endpoint_ssm_configured"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "VPCs have an interface endpoint for AWS Systems Manager"
    risk = "Systems Manager traffic from instances leaves the VPC through the internet or a NAT gateway."
    remediation = _remediation("ssm", _DOC)
    compliance = (Control("aws-fsbp", "EC2.57"),)
    endpoint_service = "ssm"
    service_label = "Systems Manager"


class VpcEndpointSsmContactsConfigured(_InterfaceEndpointCheck):
    __doc__ = "Each VPC has an interface endpoint for Systems Manager Incident Manager Contacts." + _WHY
    id = "vpc_endpoint_ssm_contacts_configured"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "VPCs have an interface endpoint for Systems Manager Incident Manager Contacts"
    risk = "Incident Manager Contacts traffic leaves the VPC through the internet or a NAT gateway."
    remediation = _remediation("ssm-contacts", _DOC)
    compliance = (Control("aws-fsbp", "EC2.58"),)
    endpoint_service = "ssm-contacts"
    service_label = "Incident Manager Contacts"


class VpcEndpointSsmIncidentsConfigured(_InterfaceEndpointCheck):
    __doc__ = "Each VPC has an interface endpoint for Systems Manager Incident Manager." + _WHY
    id = "vpc_endpoint_ssm_incidents_configured"
    service = "vpc"
    severity = Severity.MEDIUM
    title = "VPCs have an interface endpoint for Systems Manager Incident Manager"
    risk = "Incident Manager traffic leaves the VPC through the internet or a NAT gateway."
    remediation = _remediation("ssm-incidents", _DOC)
    compliance = (Control("aws-fsbp", "EC2.60"),)
    endpoint_service = "ssm-incidents"
    service_label = "Incident Manager"
