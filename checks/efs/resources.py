"""EFS file systems."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from auditor import CheckContext, Resource, collector


@dataclass(frozen=True)
class FileSystem:
    id: str
    arn: str
    name: str
    region: str
    encrypted: bool
    kms_key_id: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::EFS::FileSystem", arn=self.arn, name=self.name or self.id,
                        region=self.region, tags=self.tags)


@collector
def file_systems(ctx: CheckContext) -> list[FileSystem]:
    listed = (ctx.call("efs", "DescribeFileSystems") or {}).get("FileSystems", [])
    return [
        FileSystem(
            id=fs["FileSystemId"],
            arn=fs.get("FileSystemArn") or ctx.arn("elasticfilesystem", f"file-system/{fs['FileSystemId']}"),
            name=fs.get("Name", ""),
            region=ctx.region,
            encrypted=bool(fs.get("Encrypted")),
            kms_key_id=fs.get("KmsKeyId") or "",
            tags={t["Key"]: t["Value"] for t in fs.get("Tags", [])},
        )
        for fs in listed
    ]
