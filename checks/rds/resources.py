"""RDS DB instances and DB clusters, as the checks need them.

Encryption at rest and automated backups of an Aurora (or Multi-AZ DB cluster) member are properties of its DB
cluster: AWS documents the instance-level values as "not applicable" there. `storage_settings` therefore answers
with the cluster's values for members and the instance's own values for stand-alone instances, so every check
still reports one finding per DB instance.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor import CheckContext, Resource, collector

Tags = tuple[tuple[str, str], ...]


def _tags(item: dict[str, Any]) -> Tags:
    return tuple((t["Key"], t.get("Value", "")) for t in item.get("TagList", []) if "Key" in t)


@dataclass(frozen=True)
class DbCluster:
    id: str
    arn: str
    region: str
    engine: str
    storage_encrypted: bool
    kms_key_id: str | None
    backup_retention_days: int
    tags: Tags = ()

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::RDS::DBCluster", arn=self.arn, name=self.id, region=self.region,
                        tags=dict(self.tags))


@dataclass(frozen=True)
class DbInstance:
    id: str
    arn: str
    region: str
    engine: str
    publicly_accessible: bool
    endpoint: str | None
    storage_encrypted: bool
    kms_key_id: str | None
    backup_retention_days: int
    cluster_id: str | None  # set for members of a DB cluster (Aurora, Multi-AZ DB cluster)
    replica_source: str | None  # set for read replicas of another DB instance
    tags: Tags = ()

    @property
    def resource(self) -> Resource:
        return Resource(id=self.id, type="AWS::RDS::DBInstance", arn=self.arn, name=self.id, region=self.region,
                        tags=dict(self.tags))


@dataclass(frozen=True)
class StorageSettings:
    """Encryption and backup settings that apply to an instance's data, and where they come from."""

    encrypted: bool
    kms_key_id: str | None
    backup_retention_days: int
    cluster_id: str | None  # the DB cluster that owns these settings; None when they are the instance's own


@collector
def db_instances(ctx: CheckContext) -> list[DbInstance]:
    response = ctx.call("rds", "DescribeDBInstances") or {}
    return [
        DbInstance(
            id=item["DBInstanceIdentifier"],
            arn=item.get("DBInstanceArn") or ctx.arn("rds", f"db:{item['DBInstanceIdentifier']}"),
            region=ctx.region,
            engine=item.get("Engine", ""),
            # Real AWS always returns PubliclyAccessible; some implementations omit it when false.
            publicly_accessible=bool(item.get("PubliclyAccessible", False)),
            endpoint=(item.get("Endpoint") or {}).get("Address"),
            storage_encrypted=bool(item.get("StorageEncrypted", False)),
            kms_key_id=item.get("KmsKeyId"),
            backup_retention_days=int(item.get("BackupRetentionPeriod", 0)),
            cluster_id=item.get("DBClusterIdentifier"),
            replica_source=item.get("ReadReplicaSourceDBInstanceIdentifier"),
            tags=_tags(item),
        )
        for item in response.get("DBInstances", [])
    ]


@collector
def db_clusters(ctx: CheckContext) -> dict[str, DbCluster]:
    """DB clusters in the region, by identifier."""
    response = ctx.call("rds", "DescribeDBClusters") or {}
    clusters = (
        DbCluster(
            id=item["DBClusterIdentifier"],
            arn=item.get("DBClusterArn") or ctx.arn("rds", f"cluster:{item['DBClusterIdentifier']}"),
            region=ctx.region,
            engine=item.get("Engine", ""),
            storage_encrypted=bool(item.get("StorageEncrypted", False)),
            kms_key_id=item.get("KmsKeyId"),
            backup_retention_days=int(item.get("BackupRetentionPeriod", 0)),
            tags=_tags(item),
        )
        for item in response.get("DBClusters", [])
    )
    return {cluster.id: cluster for cluster in clusters}


def storage_settings(ctx: CheckContext, instance: DbInstance) -> StorageSettings:
    """The settings that protect `instance`'s data: its cluster's for a cluster member, else its own.

    Reads DescribeDBClusters only when the instance is a cluster member; a failed read raises DataUnavailable.
    """
    cluster = db_clusters(ctx).get(instance.cluster_id) if instance.cluster_id else None
    if cluster is None:  # stand-alone, or the cluster went away between the two reads
        return StorageSettings(instance.storage_encrypted, instance.kms_key_id, instance.backup_retention_days, None)
    return StorageSettings(cluster.storage_encrypted, cluster.kms_key_id, cluster.backup_retention_days, cluster.id)
