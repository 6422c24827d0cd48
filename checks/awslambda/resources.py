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

    @property
    def is_image(self) -> bool:
        return self.package_type == "Image"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::Lambda::Function", arn=self.arn, name=self.name, region=self.region)


def _function(item: Mapping[str, Any], region: str) -> Function:
    environment = item.get("Environment") or {}
    error = environment.get("Error") or {}
    return Function(
        name=item["FunctionName"],
        arn=item.get("FunctionArn", ""),
        region=region,
        runtime=item.get("Runtime") or None,
        package_type=item.get("PackageType", "Zip"),
        tracing_mode=(item.get("TracingConfig") or {}).get("Mode"),
        environment={str(k): "" if v is None else str(v) for k, v in (environment.get("Variables") or {}).items()},
        environment_error=str(error.get("ErrorCode") or "EnvironmentError") if error else None,
    )


@collector
def functions(ctx: CheckContext) -> list[Function]:
    """The unpublished ($LATEST) configuration of every function in the region."""
    items = (ctx.call("lambda", "ListFunctions") or {}).get("Functions", [])
    return sorted((_function(item, ctx.region) for item in items), key=lambda f: f.name)
