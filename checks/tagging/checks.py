"""Cost-allocation tags on taggable resources, through the Resource Groups Tagging API."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

from auditor import Category, Check, CheckContext, DataUnavailable, Finding, Remediation, Resource, Severity, collector

# (ARN service, ARN resource type) -> CloudFormation type, for the resources accounts tag most.
CLOUDFORMATION_TYPES = {
    ("ec2", "instance"): "AWS::EC2::Instance",
    ("ec2", "volume"): "AWS::EC2::Volume",
    ("ec2", "snapshot"): "AWS::EC2::Snapshot",
    ("ec2", "image"): "AWS::EC2::Image",
    ("ec2", "vpc"): "AWS::EC2::VPC",
    ("ec2", "subnet"): "AWS::EC2::Subnet",
    ("ec2", "security-group"): "AWS::EC2::SecurityGroup",
    ("ec2", "natgateway"): "AWS::EC2::NatGateway",
    ("ec2", "elastic-ip"): "AWS::EC2::EIP",
    ("ec2", "internet-gateway"): "AWS::EC2::InternetGateway",
    ("ec2", "route-table"): "AWS::EC2::RouteTable",
    ("ec2", "network-interface"): "AWS::EC2::NetworkInterface",
    ("ec2", "launch-template"): "AWS::EC2::LaunchTemplate",
    ("ec2", "vpc-flow-log"): "AWS::EC2::FlowLog",
    ("ec2", "flow-logs"): "AWS::EC2::FlowLog",
    ("ec2", "vpc-endpoint"): "AWS::EC2::VPCEndpoint",
    ("s3", ""): "AWS::S3::Bucket",
    ("rds", "db"): "AWS::RDS::DBInstance",
    ("rds", "cluster"): "AWS::RDS::DBCluster",
    ("rds", "subgrp"): "AWS::RDS::DBSubnetGroup",
    ("rds", "snapshot"): "AWS::RDS::DBSnapshot",
    ("rds", "pg"): "AWS::RDS::DBParameterGroup",
    ("lambda", "function"): "AWS::Lambda::Function",
    ("ecs", "cluster"): "AWS::ECS::Cluster",
    ("ecs", "service"): "AWS::ECS::Service",
    ("ecs", "task-definition"): "AWS::ECS::TaskDefinition",
    ("elasticloadbalancing", "loadbalancer"): "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ("elasticloadbalancing", "targetgroup"): "AWS::ElasticLoadBalancingV2::TargetGroup",
    ("logs", "log-group"): "AWS::Logs::LogGroup",
    ("kms", "key"): "AWS::KMS::Key",
    ("secretsmanager", "secret"): "AWS::SecretsManager::Secret",
    ("dynamodb", "table"): "AWS::DynamoDB::Table",
    ("sns", ""): "AWS::SNS::Topic",
    ("sqs", ""): "AWS::SQS::Queue",
    ("cloudtrail", "trail"): "AWS::CloudTrail::Trail",
    ("guardduty", "detector"): "AWS::GuardDuty::Detector",
}


def split_arn(arn: str) -> tuple[str, str, str]:
    """(service, resource type, resource id) of an ARN; the type is "" where the ARN has none (S3, SNS, SQS)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "", "", arn
    service, resource = parts[2], parts[5]
    cuts = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    if not cuts:
        return service, "", resource
    cut = min(cuts)  # "log-group:/aws/x", "secret:name-AbC", "instance/i-1", "snapshot:rds:x"
    return service, resource[:cut], resource[cut + 1:]


def cloudformation_type(service: str, kind: str) -> str:
    known = CLOUDFORMATION_TYPES.get((service, kind))
    if known:
        return known
    name = "".join(part.capitalize() for part in kind.replace("_", "-").split("-")) or "Resource"
    return f"AWS::{service.upper()}::{name}"


@dataclass(frozen=True)
class TaggedResource:
    arn: str
    region: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def resource(self) -> Resource:
        service, kind, resource_id = split_arn(self.arn)
        return Resource(id=resource_id, type=cloudformation_type(service, kind), arn=self.arn,
                        name=self.tags.get("Name", resource_id), region=self.region, tags=self.tags)


def is_global_arn(arn: str) -> bool:
    """ARNs without a region (S3 buckets, IAM, CloudFront) name the same resource whichever region lists them."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and not parts[3]


@collector
def tagged_resources(ctx: CheckContext, region: str) -> list[TaggedResource]:
    """Every resource in `region` the Tagging API knows (those that carry, or once carried, a tag)."""
    response = ctx.call("resourcegroupstaggingapi", "GetResources", region=region) or {}
    found = [
        TaggedResource(
            arn=str(item["ResourceARN"]), region=region,
            tags={str(t.get("Key", "")): str(t.get("Value", "")) for t in item.get("Tags") or [] if t.get("Key")},
        )
        for item in response.get("ResourceTagMappingList", []) if item.get("ResourceARN")
    ]
    return sorted(found, key=lambda r: r.arn)


def listed_earlier(ctx: CheckContext, arn: str) -> bool:
    """Whether an audited region before this one lists the (global) ARN too: it is reported there, once.
    A region whose listing cannot be read does not count, so the resource is still reported somewhere."""
    for region in ctx.regions:
        if region == ctx.region:
            return False
        try:
            if any(r.arn == arn for r in tagged_resources(ctx, region)):
                return True
        except DataUnavailable:
            continue
    return False


class TaggingResourceCostAllocationTagsPresent(Check):
    """Cost allocation tags let Cost Explorer and the Cost and Usage Report split the bill by project, environment,
    owner and cost center; an untagged resource lands in nobody's budget and nobody feels responsible for deleting
    it. The seed guide tags everything with Project, Environment, ManagedBy, Owner and CostCenter (parameter
    tagging.required_tags). One finding per resource the Resource Groups Tagging API returns in the region. That API
    returns only resources that carry (or once carried) at least one tag: a resource that was never tagged at all
    is not seen here, so pair this check with tag policies or AWS Config's required-tags rule for full coverage.
    A tag with an empty value counts as missing. A resource with a region-less ARN (an S3 bucket) that several
    regions list is reported once, in the first audited region that lists it."""

    id = "tagging_resource_cost_allocation_tags_present"
    service = "tagging"
    severity = Severity.LOW
    category = Category.COST
    title = "Resources carry the cost allocation tags"
    risk = "Spend cannot be attributed to a project, environment or owner, so waste goes unnoticed and unowned."
    remediation = Remediation(
        text="Tag the resource with every required cost allocation tag (set them once in the provider's "
        "default_tags or a common_tags local), and activate the tags as cost allocation tags in Billing.",
        cli="aws resourcegroupstaggingapi tag-resources --resource-arn-list <arn> "
        "--tags Project=<project>,Environment=<env>,ManagedBy=terraform,Owner=<owner>,CostCenter=<cost-center>",
        terraform='locals {\n'
                  '  common_tags = {\n'
                  '    Project     = var.project\n'
                  '    Environment = var.environment\n'
                  '    ManagedBy   = "terraform"\n'
                  '    Owner       = var.owner\n'
                  '    CostCenter  = var.cost_center\n'
                  '  }\n'
                  '}\n\n'
                  'provider "aws" {\n'
                  '  default_tags {\n'
                  '    tags = local.common_tags\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/cost-alloc-tags.html",
    )
    api_calls = ("tag:GetResources",)
    parameters = ("tagging.required_tags",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        required = [str(t) for t in ctx.param("tagging.required_tags")]
        for item in tagged_resources(ctx, ctx.region):
            if is_global_arn(item.arn) and listed_earlier(ctx, item.arn):
                continue
            resource = item.resource
            missing = [key for key in required if not item.tags.get(key, "").strip()]
            label = f"{resource.type} {item.arn}"
            evidence = {"missing_tags": missing, "required_tags": required,
                        "present_tags": sorted(k for k in item.tags if k in required)}
            if missing:
                yield ctx.failed(resource, f"{label} lacks the cost allocation tags {', '.join(missing)}.", evidence)
            else:
                yield ctx.passed(resource, f"{label} carries every cost allocation tag.", evidence)
