"""EC2 instances (and their user data), EBS volumes and snapshots, the region's EBS encryption default, Elastic
IPs, network interfaces, launch templates and spot fleet requests, as the checks need them."""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
    instance_type: str = ""
    public_ip: str = ""
    subnet_id: str = ""
    vpc_id: str = ""
    security_group_ids: tuple[str, ...] = ()
    network_interface_ids: tuple[str, ...] = ()
    virtualization_type: str = ""  # "hvm" or "paravirtual"
    # When the instance entered its current state, where AWS says (StateTransitionReason of a stopped instance).
    state_since: datetime | None = None
    instance_profile_arn: str = ""  # "" when the instance runs without an instance profile (role)

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
    state: str  # creating | available | in-use | deleting | deleted | error
    size_gib: int
    attachments: tuple[VolumeAttachment, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    volume_type: str = ""
    iops: int = 0

    @property
    def attached_to(self) -> tuple[str, ...]:
        """Instances the volume is attached (or being attached) to."""
        return tuple(a.instance_id for a in self.attachments if a.state in ("attaching", "attached", ""))

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


# "User initiated (2019-01-01 12:00:00 GMT)"; moto writes "UTC".
_TRANSITION_TIME = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


def transition_time(reason: str) -> datetime | None:
    """The time in an instance's StateTransitionReason, if it gives one."""
    match = _TRANSITION_TIME.search(reason)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


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
            interfaces = item.get("NetworkInterfaces") or []
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
                    instance_type=str(item.get("InstanceType", "")),
                    public_ip=str(item.get("PublicIpAddress") or ""),
                    subnet_id=str(item.get("SubnetId") or ""),
                    vpc_id=str(item.get("VpcId") or ""),
                    # The instance's groups and its interfaces' groups (moto fills only the latter when
                    # groups are given per interface; AWS lists them in both places).
                    security_group_ids=tuple(dict.fromkeys(
                        str(g["GroupId"])
                        for g in [*(item.get("SecurityGroups") or []),
                                  *(g for n in interfaces for g in n.get("Groups") or [])]
                        if g.get("GroupId")
                    )),
                    network_interface_ids=tuple(
                        str(n.get("NetworkInterfaceId", "")) for n in interfaces
                    ),
                    virtualization_type=str(item.get("VirtualizationType", "")),
                    state_since=transition_time(str(item.get("StateTransitionReason") or "")),
                    instance_profile_arn=str((item.get("IamInstanceProfile") or {}).get("Arn", "")),
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
                size_gib=int(item.get("Size", 0) or 0),
                attachments=tuple(
                    VolumeAttachment(
                        instance_id=str(a.get("InstanceId", "")),
                        device=str(a.get("Device", "")),
                        state=str(a.get("State", "")),
                    )
                    for a in item.get("Attachments", [])
                ),
                tags=tag_dict(item.get("Tags")),
                volume_type=str(item.get("VolumeType", "")),
                iops=int(item.get("Iops", 0) or 0),
            )
        )
    return found


@collector
def ebs_encryption_by_default(ctx: CheckContext) -> bool:
    """Whether new EBS volumes in the region are encrypted without being asked to."""
    response = ctx.call("ec2", "GetEbsEncryptionByDefault") or {}
    return bool(response.get("EbsEncryptionByDefault", False))


# -- EBS snapshots -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    id: str
    region: str
    arn: str
    volume_id: str
    encrypted: bool
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::Snapshot", arn=self.arn, name=self.name, region=self.region,
                        tags=self.tags)


@collector
def owned_snapshots(ctx: CheckContext) -> list[Snapshot]:
    """The account's own EBS snapshots in the region (not public or shared ones owned by others)."""
    response = ctx.call("ec2", "DescribeSnapshots", OwnerIds=["self"]) or {}
    found = []
    for item in response.get("Snapshots", []):
        # OwnerIds=self already selects them on AWS; a simulator that ignores it must not add others' snapshots.
        if str(item.get("OwnerId", ctx.account)) != ctx.account:
            continue
        snapshot_id = item["SnapshotId"]
        found.append(Snapshot(
            id=snapshot_id, region=ctx.region, arn=ctx.arn("ec2", f"snapshot/{snapshot_id}", account=""),
            volume_id=str(item.get("VolumeId", "")), encrypted=bool(item.get("Encrypted", False)),
            tags=tag_dict(item.get("Tags")),
        ))
    return found


def snapshot_volume_permissions(ctx: CheckContext, snapshot_id: str) -> list[dict[str, str]]:
    """Who may create volumes from a snapshot: `{"Group": "all"}` means everyone, `{"UserId": ...}` one account."""
    response = ctx.call("ec2", "DescribeSnapshotAttribute", SnapshotId=snapshot_id,
                        Attribute="createVolumePermission") or {}
    return [{str(k): str(v) for k, v in p.items()} for p in response.get("CreateVolumePermissions", [])]


# -- Elastic IPs and network interfaces ----------------------------------------------------------------------
@dataclass(frozen=True)
class ElasticIp:
    allocation_id: str
    public_ip: str
    region: str
    arn: str
    association_id: str
    instance_id: str
    network_interface_id: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def in_use(self) -> bool:
        return bool(self.association_id or self.instance_id or self.network_interface_id)

    @property
    def label(self) -> str:
        return f"{self.allocation_id or self.public_ip} ({self.public_ip})"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.allocation_id or self.public_ip, type="AWS::EC2::EIP", arn=self.arn,
                        name=self.tags.get("Name", self.public_ip), region=self.region, tags=self.tags)


@collector
def elastic_ips(ctx: CheckContext) -> list[ElasticIp]:
    response = ctx.call("ec2", "DescribeAddresses") or {}
    found = []
    for item in response.get("Addresses", []):
        allocation = str(item.get("AllocationId", ""))
        found.append(ElasticIp(
            allocation_id=allocation, public_ip=str(item.get("PublicIp", "")), region=ctx.region,
            arn=ctx.arn("ec2", f"elastic-ip/{allocation or item.get('PublicIp', '')}"),
            association_id=str(item.get("AssociationId", "")), instance_id=str(item.get("InstanceId", "")),
            network_interface_id=str(item.get("NetworkInterfaceId", "")), tags=tag_dict(item.get("Tags")),
        ))
    return found


@dataclass(frozen=True)
class NetworkInterface:
    id: str
    region: str
    arn: str
    vpc_id: str
    subnet_id: str
    interface_type: str  # "interface" for ordinary ENIs; "nat_gateway", "vpc_endpoint", "lambda", ... otherwise
    requester_managed: bool  # created and managed by an AWS service on the account's behalf
    source_dest_check: bool
    status: str
    attached_instance: str
    group_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def user_managed(self) -> bool:
        return self.interface_type in ("interface", "") and not self.requester_managed

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::NetworkInterface", arn=self.arn,
                        name=self.tags.get("Name", ""), region=self.region, tags=self.tags)


@collector
def network_interfaces(ctx: CheckContext) -> list[NetworkInterface]:
    response = ctx.call("ec2", "DescribeNetworkInterfaces") or {}
    found = []
    for item in response.get("NetworkInterfaces", []):
        eni_id = item["NetworkInterfaceId"]
        found.append(NetworkInterface(
            id=eni_id, region=ctx.region, arn=ctx.arn("ec2", f"network-interface/{eni_id}"),
            vpc_id=str(item.get("VpcId", "")), subnet_id=str(item.get("SubnetId", "")),
            interface_type=str(item.get("InterfaceType", "interface")),
            requester_managed=bool(item.get("RequesterManaged", False)),
            source_dest_check=bool(item.get("SourceDestCheck", True)),
            status=str(item.get("Status", "")),
            attached_instance=str((item.get("Attachment") or {}).get("InstanceId", "")),
            group_ids=tuple(str(g["GroupId"]) for g in item.get("Groups") or [] if g.get("GroupId")),
            tags=tag_dict(item.get("TagSet") or item.get("Tags")),
        ))
    return found


# -- launch templates and spot fleets ------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockDevice:
    device: str
    encrypted: bool | None  # None: the mapping does not say (the snapshot or the account default decides)

    def evidence(self) -> dict[str, Any]:
        return {"device": self.device, "encrypted": self.encrypted}


def block_devices(mappings: Iterable[Mapping[str, Any]] | None) -> tuple[BlockDevice, ...]:
    """EBS block device mappings (instance store and suppressed devices carry no `Ebs` and are left out)."""
    found = []
    for mapping in mappings or ():
        ebs = mapping.get("Ebs")
        if isinstance(ebs, Mapping):
            encrypted = ebs.get("Encrypted")
            found.append(BlockDevice(str(mapping.get("DeviceName", "")),
                                     None if encrypted is None else bool(encrypted)))
    return tuple(found)


@dataclass(frozen=True)
class LaunchTemplate:
    id: str
    name: str
    region: str
    arn: str
    default_version: int
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})"

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::LaunchTemplate", arn=self.arn, name=self.name,
                        region=self.region, tags=self.tags)


@dataclass(frozen=True)
class LaunchTemplateData:
    """What the default version of a launch template sets."""

    version: int
    public_ip_interfaces: tuple[int, ...]  # device indexes of interfaces with AssociatePublicIpAddress
    http_tokens: str  # "" when the template does not say
    http_endpoint: str
    block_devices: tuple[BlockDevice, ...]


@collector
def launch_templates(ctx: CheckContext) -> list[LaunchTemplate]:
    response = ctx.call("ec2", "DescribeLaunchTemplates") or {}
    found = []
    for item in response.get("LaunchTemplates", []):
        template_id = item["LaunchTemplateId"]
        found.append(LaunchTemplate(
            id=template_id, name=str(item.get("LaunchTemplateName", "")), region=ctx.region,
            arn=ctx.arn("ec2", f"launch-template/{template_id}"),
            default_version=int(item.get("DefaultVersionNumber", 1)), tags=tag_dict(item.get("Tags")),
        ))
    return found


@collector
def launch_template_data(ctx: CheckContext, template_id: str) -> LaunchTemplateData:
    """The default version of one launch template (the one an Auto Scaling group or a launch uses unless told)."""
    response = ctx.call("ec2", "DescribeLaunchTemplateVersions", LaunchTemplateId=template_id,
                        Versions=["$Default"]) or {}
    versions = response.get("LaunchTemplateVersions", [])
    chosen = next((v for v in versions if v.get("DefaultVersion")), versions[0] if versions else {})
    data = chosen.get("LaunchTemplateData") or {}
    metadata = data.get("MetadataOptions") or {}
    return LaunchTemplateData(
        version=int(chosen.get("VersionNumber", 0)),
        public_ip_interfaces=tuple(
            int(n.get("DeviceIndex", i)) for i, n in enumerate(data.get("NetworkInterfaces") or [])
            if n.get("AssociatePublicIpAddress") is True
        ),
        http_tokens=str(metadata.get("HttpTokens", "")),
        http_endpoint=str(metadata.get("HttpEndpoint", "")),
        block_devices=block_devices(data.get("BlockDeviceMappings")),
    )


# Spot fleet requests in these states can still launch instances.
LIVE_SPOT_FLEET_STATES = frozenset({"submitted", "active", "modifying"})


@dataclass(frozen=True)
class SpotFleetRequest:
    id: str
    region: str
    arn: str
    state: str
    uses_launch_specifications: bool  # False when the fleet launches from launch templates instead
    block_devices: tuple[BlockDevice, ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::SpotFleet", arn=self.arn, name=self.tags.get("Name", ""),
                        region=self.region, tags=self.tags)


@collector
def spot_fleet_requests(ctx: CheckContext) -> list[SpotFleetRequest]:
    """Spot fleet requests that can still launch instances."""
    response = ctx.call("ec2", "DescribeSpotFleetRequests") or {}
    found = []
    for item in response.get("SpotFleetRequestConfigs", []):
        state = str(item.get("SpotFleetRequestState", ""))
        if state not in LIVE_SPOT_FLEET_STATES:
            continue
        config = item.get("SpotFleetRequestConfig") or {}
        specifications = config.get("LaunchSpecifications") or []
        request_id = item["SpotFleetRequestId"]
        found.append(SpotFleetRequest(
            id=request_id, region=ctx.region, arn=ctx.arn("ec2", f"spot-fleet-request/{request_id}"), state=state,
            uses_launch_specifications=bool(specifications),
            block_devices=tuple(d for s in specifications for d in block_devices(s.get("BlockDeviceMappings"))),
            tags=tag_dict(item.get("Tags")),
        ))
    return found


# -- user data -----------------------------------------------------------------------------------------------
def instance_user_data(ctx: CheckContext, instance_id: str) -> bytes:
    """An instance's user data, base64-decoded (possibly still gzip-compressed); b"" when it has none."""
    response = ctx.call("ec2", "DescribeInstanceAttribute", InstanceId=instance_id, Attribute="userData") or {}
    encoded = str((response.get("UserData") or {}).get("Value") or "")
    try:
        return base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        return encoded.encode()
