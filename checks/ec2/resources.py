"""EC2 instances, EBS volumes and the region's EBS encryption default, as the checks need them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from auditor import CheckContext, Resource, collector

# Instances in these states are gone or going: their settings no longer matter.
GONE_STATES = frozenset({"terminated", "shutting-down"})


def tag_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """EC2's `[{"Key": k, "Value": v}]` tag list as a plain mapping."""
    return {str(t.get("Key", "")): str(t.get("Value", "")) for t in tags or () if t.get("Key")}


@dataclass(frozen=True)
class Instance:
    id: str
    region: str
    arn: str
    state: str
    http_tokens: str  # "required" (IMDSv2 only) or "optional" (IMDSv1 allowed)
    http_endpoint: str  # "enabled" or "disabled"
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")

    @property
    def label(self) -> str:
        """The id, with the Name tag when there is one, for messages."""
        return f"{self.id} ({self.name})" if self.name else self.id

    @property
    def metadata_service_disabled(self) -> bool:
        return self.http_endpoint == "disabled"

    @property
    def imdsv2_required(self) -> bool:
        return self.http_tokens == "required"

    @property
    def resource(self) -> Resource:
        return Resource(
            id=self.id, type="AWS::EC2::Instance", arn=self.arn, name=self.name, region=self.region, tags=self.tags
        )


@dataclass(frozen=True)
class VolumeAttachment:
    instance_id: str
    device: str
    state: str


@dataclass(frozen=True)
class Volume:
    id: str
    region: str
    arn: str
    encrypted: bool
    kms_key_id: str
    state: str
    size_gib: int
    attachments: tuple[VolumeAttachment, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(
            id=self.id, type="AWS::EC2::Volume", arn=self.arn, name=self.name, region=self.region, tags=self.tags
        )


@collector
def instances(ctx: CheckContext) -> list[Instance]:
    """Every instance in the region that is not terminated (or terminating)."""
    response = ctx.call("ec2", "DescribeInstances") or {}
    found = []
    for reservation in response.get("Reservations", []):
        owner = reservation.get("OwnerId") or ctx.account
        for item in reservation.get("Instances", []):
            state = str((item.get("State") or {}).get("Name", "unknown"))
            if state in GONE_STATES:
                continue
            metadata = item.get("MetadataOptions") or {}
            instance_id = item["InstanceId"]
            found.append(
                Instance(
                    id=instance_id,
                    region=ctx.region,
                    arn=ctx.arn("ec2", f"instance/{instance_id}", account=owner),
                    state=state,
                    # A missing value is read as the service default, which is the permissive one.
                    http_tokens=str(metadata.get("HttpTokens", "optional")),
                    http_endpoint=str(metadata.get("HttpEndpoint", "enabled")),
                    tags=tag_dict(item.get("Tags")),
                )
            )
    return found


@collector
def volumes(ctx: CheckContext) -> list[Volume]:
    """Every EBS volume in the region, attached or not."""
    response = ctx.call("ec2", "DescribeVolumes") or {}
    found = []
    for item in response.get("Volumes", []):
        volume_id = item["VolumeId"]
        found.append(
            Volume(
                id=volume_id,
                region=ctx.region,
                arn=ctx.arn("ec2", f"volume/{volume_id}"),
                encrypted=bool(item.get("Encrypted", False)),
                kms_key_id=str(item.get("KmsKeyId", "")),
                state=str(item.get("State", "unknown")),
                size_gib=int(item.get("Size", 0)),
                attachments=tuple(
                    VolumeAttachment(
                        instance_id=str(a.get("InstanceId", "")),
                        device=str(a.get("Device", "")),
                        state=str(a.get("State", "")),
                    )
                    for a in item.get("Attachments", [])
                ),
                tags=tag_dict(item.get("Tags")),
            )
        )
    return found


@collector
def ebs_encryption_by_default(ctx: CheckContext) -> bool:
    """Whether new EBS volumes in the region are encrypted without being asked to."""
    response = ctx.call("ec2", "GetEbsEncryptionByDefault") or {}
    return bool(response.get("EbsEncryptionByDefault", False))
