"""What AWS Backup protects in a region, as the backup-plan checks of EC2 and RDS need it.

`ListProtectedResources` lists every resource AWS Backup holds at least one recovery point of, with its ARN,
its AWS Backup resource type (`EBS`, `EC2`, `RDS`, `Aurora`, ...) and when it was last backed up. The checks
match their resources against these ARNs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditor import CheckContext, collector


@dataclass(frozen=True)
class ProtectedResource:
    arn: str
    resource_type: str  # AWS Backup's name for the kind of resource: EBS, EC2, RDS, Aurora, ...
    last_backup: datetime | None
    vault_arn: str = ""

    @property
    def vault_name(self) -> str:
        return self.vault_arn.rpartition(":")[2]

    def evidence(self) -> dict[str, Any]:
        return {
            "protected_arn": self.arn,
            "backup_resource_type": self.resource_type,
            "last_backup": self.last_backup.isoformat() if self.last_backup else None,
            "backup_vault": self.vault_name or None,
        }


@collector
def protected_resources(ctx: CheckContext) -> dict[str, ProtectedResource]:
    """Resources AWS Backup has backed up in the region, by ARN."""
    response = ctx.call("backup", "ListProtectedResources") or {}
    found: dict[str, ProtectedResource] = {}
    for item in response.get("Results") or []:
        arn = str(item.get("ResourceArn") or "")
        if not arn:
            continue
        last = item.get("LastBackupTime")
        found[arn] = ProtectedResource(
            arn=arn,
            resource_type=str(item.get("ResourceType") or ""),
            last_backup=last if isinstance(last, datetime) else None,
            vault_arn=str(item.get("LastBackupVaultArn") or ""),
        )
    return found
