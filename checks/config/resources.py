"""AWS Config configuration recorders, their recording status, and delivery channels, per region.

A region can hold, besides the customer-managed recorder (at most one), service-linked recorders that other AWS
services create for their own use (they carry a `servicePrincipal` and record only what that service needs).
Only the customer-managed recorder counts as "AWS Config is enabled".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from auditor import CheckContext, Resource, collector

ALL_SUPPORTED = "ALL_SUPPORTED_RESOURCE_TYPES"
SERVICE_LINKED_ROLE = "AWSServiceRoleForConfig"


@dataclass(frozen=True)
class Recorder:
    name: str
    arn: str
    region: str
    role_arn: str
    all_supported: bool
    include_global_resource_types: bool
    strategy: str
    service_principal: str | None
    recording: bool
    last_status: str | None

    @property
    def records_all_resource_types(self) -> bool:
        return self.all_supported or self.strategy == ALL_SUPPORTED

    @property
    def uses_service_linked_role(self) -> bool:
        return self.role_arn.endswith(f"/{SERVICE_LINKED_ROLE}")

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::Config::ConfigurationRecorder", arn=self.arn, name=self.name,
                        region=self.region)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "recording": self.recording,
            "last_status": self.last_status,
            "all_supported": self.all_supported,
            "recording_strategy": self.strategy or None,
            "include_global_resource_types": self.include_global_resource_types,
            "role_arn": self.role_arn,
        }


@dataclass(frozen=True)
class ConfigSetup:
    """What AWS Config has in one region."""

    recorders: tuple[Recorder, ...]  # customer-managed only
    delivery_channels: tuple[str, ...]


def _recorder(item: Mapping[str, Any], status: Mapping[str, Any], ctx: CheckContext) -> Recorder:
    group = item.get("recordingGroup") or {}
    name = str(item.get("name", "default"))
    return Recorder(
        name=name,
        arn=str(item.get("arn") or ctx.arn("config", f"configuration-recorder/{name}")),
        region=ctx.region,
        role_arn=str(item.get("roleARN", "")),
        all_supported=bool(group.get("allSupported", False)),
        include_global_resource_types=bool(group.get("includeGlobalResourceTypes", False)),
        strategy=str((group.get("recordingStrategy") or {}).get("useOnly", "")),
        service_principal=item.get("servicePrincipal") or None,
        recording=bool(status.get("recording", False)),
        last_status=status.get("lastStatus") or None,
    )


@collector
def config_setup(ctx: CheckContext) -> ConfigSetup:
    listed = (ctx.call("config", "DescribeConfigurationRecorders") or {}).get("ConfigurationRecorders", [])
    customer_managed = [item for item in listed if not item.get("servicePrincipal")]
    if not customer_managed:  # nothing records: the status and channels cannot change the answer
        return ConfigSetup(recorders=(), delivery_channels=())
    answer = ctx.call("config", "DescribeConfigurationRecorderStatus") or {}
    statuses = {str(s.get("name")): s for s in answer.get("ConfigurationRecordersStatus", [])}
    channels = (ctx.call("config", "DescribeDeliveryChannels") or {}).get("DeliveryChannels", [])
    return ConfigSetup(
        recorders=tuple(_recorder(item, statuses.get(str(item.get("name")), {}), ctx) for item in customer_managed),
        delivery_channels=tuple(str(c.get("name", "")) for c in channels),
    )
