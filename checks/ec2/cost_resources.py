"""What the EC2 cost checks need beyond `resources.py`: snapshot ages and sizes, and the snapshots the account's
AMIs use. The reads are the same as the security checks' (shared through the memo)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from auditor import CheckContext, Resource, collector
from auditor.check import utc_datetime

from .resources import tag_dict


@dataclass(frozen=True)
class EbsSnapshot:
    id: str
    region: str
    arn: str
    volume_id: str
    volume_size_gib: int
    started: datetime | None
    description: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        name = self.tags.get("Name", "")
        return f"{self.id} ({name})" if name else self.id

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EC2::Snapshot", arn=self.arn, name=self.tags.get("Name", ""),
                        region=self.region, tags=self.tags)


@collector
def ebs_snapshots(ctx: CheckContext) -> list[EbsSnapshot]:
    """The account's own completed snapshots (the same read as `resources.owned_snapshots`)."""
    response = ctx.call("ec2", "DescribeSnapshots", OwnerIds=["self"]) or {}
    found = []
    for item in response.get("Snapshots", []):
        if str(item.get("OwnerId", ctx.account)) != ctx.account:
            continue
        snapshot_id = str(item["SnapshotId"])
        found.append(EbsSnapshot(
            id=snapshot_id, region=ctx.region, arn=ctx.arn("ec2", f"snapshot/{snapshot_id}", account=""),
            volume_id=str(item.get("VolumeId", "")), volume_size_gib=int(item.get("VolumeSize", 0) or 0),
            started=utc_datetime(item.get("StartTime")), description=str(item.get("Description", "")),
            tags=tag_dict(item.get("Tags")),
        ))
    return found


@collector
def ami_snapshot_ids(ctx: CheckContext) -> dict[str, str]:
    """snapshot id -> id of an AMI the account owns that uses it (its block device mappings)."""
    response = ctx.call("ec2", "DescribeImages", Owners=["self"]) or {}
    used: dict[str, str] = {}
    for image in response.get("Images", []):
        for mapping in image.get("BlockDeviceMappings") or []:
            snapshot_id = (mapping.get("Ebs") or {}).get("SnapshotId")
            if snapshot_id:
                used.setdefault(str(snapshot_id), str(image.get("ImageId", "")))
    return used
