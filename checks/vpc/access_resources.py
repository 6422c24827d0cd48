"""How the VPCs are reached from outside: Client VPN endpoints and the region's VPC Block Public Access
setting, as the checks need them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from auditor import CheckContext, Resource, collector

from ..ec2.resources import tag_dict

# Endpoints that are gone or going: their settings no longer matter.
GONE_ENDPOINT_STATES = frozenset({"deleting", "deleted"})


@dataclass(frozen=True)
class ClientVpnEndpoint:
    id: str
    region: str
    arn: str
    status: str  # pending-associate, available, deleting, deleted
    logging_enabled: bool
    log_group: str = ""
    log_stream: str = ""
    vpc_id: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::ClientVpnEndpoint", arn=self.arn, name=self.name,
                        region=self.region, tags=self.tags)


@collector
def client_vpn_endpoints(ctx: CheckContext) -> list[ClientVpnEndpoint]:
    """Client VPN endpoints of the region that exist (not deleted or being deleted)."""
    response = ctx.call("ec2", "DescribeClientVpnEndpoints") or {}
    found = []
    for item in response.get("ClientVpnEndpoints") or []:
        status = str((item.get("Status") or {}).get("Code", ""))
        if status in GONE_ENDPOINT_STATES:
            continue
        logs = item.get("ConnectionLogOptions") or {}
        endpoint_id = str(item["ClientVpnEndpointId"])
        found.append(ClientVpnEndpoint(
            id=endpoint_id,
            region=ctx.region,
            arn=ctx.arn("ec2", f"client-vpn-endpoint/{endpoint_id}"),
            status=status,
            logging_enabled=bool(logs.get("Enabled", False)),
            log_group=str(logs.get("CloudwatchLogGroup") or ""),
            log_stream=str(logs.get("CloudwatchLogStream") or ""),
            vpc_id=str(item.get("VpcId") or ""),
            tags=tag_dict(item.get("Tags")),
        ))
    return found


@dataclass(frozen=True)
class BlockPublicAccess:
    """The region's VPC Block Public Access options."""

    internet_gateway_block_mode: str  # off, block-bidirectional or block-ingress
    state: str = ""  # default-state, update-in-progress, update-complete
    exclusions_allowed: str = ""  # allowed or not-allowed (a declarative policy can forbid exclusions)
    managed_by: str = ""  # account or declarative-policy


@collector
def block_public_access(ctx: CheckContext) -> BlockPublicAccess:
    """VPC Block Public Access in the region; a region that never set it answers mode "off"."""
    response = ctx.call("ec2", "DescribeVpcBlockPublicAccessOptions") or {}
    options = response.get("VpcBlockPublicAccessOptions") or {}
    return BlockPublicAccess(
        internet_gateway_block_mode=str(options.get("InternetGatewayBlockMode") or "off"),
        state=str(options.get("State") or ""),
        exclusions_allowed=str(options.get("ExclusionsAllowed") or ""),
        managed_by=str(options.get("ManagedBy") or ""),
    )
