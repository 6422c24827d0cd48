"""Lambda functions, as the checks need them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from auditor import CheckContext, Resource, collector


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    region: str
    runtime: str | None  # None for container-image functions
    package_type: str
    tracing_mode: str | None
    # Environment variables. Values may be secrets: never put them in a repr, message or evidence.
    environment: Mapping[str, str] = field(default_factory=dict, hash=False, repr=False)
    # Set when Lambda could not return the variables (e.g. their KMS key cannot be used); then they are unknown.
    environment_error: str | None = None
    vpc_id: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    @property
    def is_image(self) -> bool:
        return self.package_type == "Image"

    @property
    def in_vpc(self) -> bool:
        """Connected to a VPC. AWS answers an empty VpcConfig (no VpcId, no subnets) for a detached function."""
        return bool(self.vpc_id or self.subnet_ids)

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::Lambda::Function", arn=self.arn, name=self.name, region=self.region)


def _function(item: Mapping[str, Any], region: str) -> Function:
    environment = item.get("Environment") or {}
    error = environment.get("Error") or {}
    vpc = item.get("VpcConfig") or {}
    return Function(
        name=item["FunctionName"],
        arn=item.get("FunctionArn", ""),
        region=region,
        runtime=item.get("Runtime") or None,
        package_type=item.get("PackageType", "Zip"),
        tracing_mode=(item.get("TracingConfig") or {}).get("Mode"),
        environment={str(k): "" if v is None else str(v) for k, v in (environment.get("Variables") or {}).items()},
        environment_error=str(error.get("ErrorCode") or "EnvironmentError") if error else None,
        vpc_id=str(vpc.get("VpcId") or ""),
        subnet_ids=tuple(str(s) for s in vpc.get("SubnetIds") or ()),
        security_group_ids=tuple(str(s) for s in vpc.get("SecurityGroupIds") or ()),
    )


@collector
def functions(ctx: CheckContext) -> list[Function]:
    """The unpublished ($LATEST) configuration of every function in the region."""
    items = (ctx.call("lambda", "ListFunctions") or {}).get("Functions", [])
    return sorted((_function(item, ctx.region) for item in items), key=lambda f: f.name)


@dataclass(frozen=True)
class FunctionUrl:
    url: str
    auth_type: str  # "AWS_IAM" or "NONE"

    @property
    def unauthenticated(self) -> bool:
        return self.auth_type.upper() == "NONE"


@collector
def function_url(ctx: CheckContext, function_arn: str) -> FunctionUrl | None:
    """The function URL of the unqualified function; None when it has none."""
    response = ctx.call("lambda", "GetFunctionUrlConfig", FunctionName=function_arn)
    if response is None:
        return None
    return FunctionUrl(url=str(response.get("FunctionUrl", "")), auth_type=str(response.get("AuthType", "")))


@collector
def function_policy(ctx: CheckContext, function_arn: str) -> str | None:
    """The function's resource-based policy document (JSON text); None when it has none."""
    response = ctx.call("lambda", "GetPolicy", FunctionName=function_arn)
    if response is None:
        return None
    return str(response.get("Policy") or "") or None
