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
    engine_version: str = ""
    multi_az: bool = False
    deletion_protection: bool = False
    log_exports: tuple[str, ...] = ()
    iam_auth: bool = False
    auto_minor_version_upgrade: bool | None = None  # None when the response leaves it out
    copy_tags_to_snapshot: bool = False
    backtrack_window_seconds: int = 0
    master_username: str = ""
    parameter_group: str | None = None
    members: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return engine_family(self.engine)

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
    engine_version: str = ""
    multi_az: bool = False
    monitoring_interval_seconds: int = 0
    deletion_protection: bool = False
    log_exports: tuple[str, ...] = ()
    iam_auth: bool = False
    auto_minor_version_upgrade: bool = False
    copy_tags_to_snapshot: bool = False
    vpc_id: str | None = None
    subnet_group: str | None = None
    subnet_ids: tuple[str, ...] = ()
    port: int | None = None
    master_username: str = ""
    performance_insights: bool = False
    parameter_groups: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return engine_family(self.engine)

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


def engine_family(engine: str) -> str:
    """The engine family a setting depends on: `aurora-mysql`, `aurora-postgresql`, `mysql`, `mariadb`,
    `postgres`, `oracle`, `sqlserver`, `db2` (edition suffixes and the `custom-` prefix dropped)."""
    name = engine.lower().removeprefix("custom-")
    if name == "aurora":  # Aurora MySQL 1 (MySQL 5.6) is still called plain "aurora"
        return "aurora-mysql"
    for family in ("oracle", "sqlserver", "db2"):
        if name.startswith(family):
            return family
    return name


def _subnet_ids(group: dict[str, Any]) -> tuple[str, ...]:
    return tuple(s["SubnetIdentifier"] for s in group.get("Subnets", []) if s.get("SubnetIdentifier"))


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
            engine_version=item.get("EngineVersion", ""),
            multi_az=bool(item.get("MultiAZ", False)),
            monitoring_interval_seconds=int(item.get("MonitoringInterval") or 0),
            deletion_protection=bool(item.get("DeletionProtection", False)),
            log_exports=tuple(item.get("EnabledCloudwatchLogsExports") or ()),
            iam_auth=bool(item.get("IAMDatabaseAuthenticationEnabled", False)),
            auto_minor_version_upgrade=bool(item.get("AutoMinorVersionUpgrade", False)),
            copy_tags_to_snapshot=bool(item.get("CopyTagsToSnapshot", False)),
            vpc_id=(item.get("DBSubnetGroup") or {}).get("VpcId"),
            subnet_group=(item.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
            subnet_ids=_subnet_ids(item.get("DBSubnetGroup") or {}),
            port=(item.get("Endpoint") or {}).get("Port") or item.get("DbInstancePort") or None,
            master_username=item.get("MasterUsername", ""),
            # Some implementations leave the key out when Performance Insights is off.
            performance_insights=bool(item.get("PerformanceInsightsEnabled", False)),
            parameter_groups=tuple(g["DBParameterGroupName"] for g in item.get("DBParameterGroups", [])
                                   if g.get("DBParameterGroupName")),
            security_groups=tuple(g["VpcSecurityGroupId"] for g in item.get("VpcSecurityGroups", [])
                                  if g.get("VpcSecurityGroupId")),
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
            engine_version=item.get("EngineVersion", ""),
            multi_az=bool(item.get("MultiAZ", False)),
            deletion_protection=bool(item.get("DeletionProtection", False)),
            log_exports=tuple(item.get("EnabledCloudwatchLogsExports") or ()),
            iam_auth=bool(item.get("IAMDatabaseAuthenticationEnabled", False)),
            auto_minor_version_upgrade=item.get("AutoMinorVersionUpgrade"),
            copy_tags_to_snapshot=bool(item.get("CopyTagsToSnapshot", False)),
            backtrack_window_seconds=int(item.get("BacktrackWindow") or 0),
            master_username=item.get("MasterUsername", ""),
            parameter_group=item.get("DBClusterParameterGroup"),
            members=tuple(m["DBInstanceIdentifier"] for m in item.get("DBClusterMembers", [])
                          if m.get("DBInstanceIdentifier")),
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


# -- snapshots ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """A DB snapshot or a DB cluster snapshot owned by the account."""

    id: str
    arn: str
    region: str
    kind: str  # "instance" or "cluster"
    source: str  # the DB instance or DB cluster it was taken of
    snapshot_type: str  # manual, automated, awsbackup, ...
    encrypted: bool
    kms_key_id: str | None
    tags: Tags = ()

    @property
    def resource(self) -> Resource:
        kind = "DBClusterSnapshot" if self.kind == "cluster" else "DBSnapshot"
        return Resource(id=self.id, type=f"AWS::RDS::{kind}", arn=self.arn, name=self.id, region=self.region,
                        tags=dict(self.tags))

    @property
    def shareable(self) -> bool:
        """Only manual snapshots can be shared (automated ones must be copied first)."""
        return self.snapshot_type == "manual"


@collector
def snapshots(ctx: CheckContext) -> list[Snapshot]:
    """The account's DB snapshots, then its DB cluster snapshots (shared and public ones of others excluded)."""
    found: list[Snapshot] = []
    for item in (ctx.call("rds", "DescribeDBSnapshots") or {}).get("DBSnapshots", []):
        name = item["DBSnapshotIdentifier"]
        found.append(Snapshot(
            id=name, arn=item.get("DBSnapshotArn") or ctx.arn("rds", f"snapshot:{name}"), region=ctx.region,
            kind="instance", source=item.get("DBInstanceIdentifier", ""),
            snapshot_type=item.get("SnapshotType", ""), encrypted=bool(item.get("Encrypted", False)),
            kms_key_id=item.get("KmsKeyId"), tags=_tags(item),
        ))
    for item in (ctx.call("rds", "DescribeDBClusterSnapshots") or {}).get("DBClusterSnapshots", []):
        name = item["DBClusterSnapshotIdentifier"]
        found.append(Snapshot(
            id=name, arn=item.get("DBClusterSnapshotArn") or ctx.arn("rds", f"cluster-snapshot:{name}"),
            region=ctx.region, kind="cluster", source=item.get("DBClusterIdentifier", ""),
            snapshot_type=item.get("SnapshotType", ""), encrypted=bool(item.get("StorageEncrypted", False)),
            kms_key_id=item.get("KmsKeyId"), tags=_tags(item),
        ))
    return found


def restore_permissions(ctx: CheckContext, snapshot: Snapshot) -> tuple[str, ...]:
    """Who may restore (copy) a manual snapshot: account ids, or "all" when it is public."""
    if snapshot.kind == "cluster":
        response = ctx.call("rds", "DescribeDBClusterSnapshotAttributes", DBClusterSnapshotIdentifier=snapshot.id)
        result = (response or {}).get("DBClusterSnapshotAttributesResult", {})
        attributes = result.get("DBClusterSnapshotAttributes", [])
    else:
        response = ctx.call("rds", "DescribeDBSnapshotAttributes", DBSnapshotIdentifier=snapshot.id)
        result = (response or {}).get("DBSnapshotAttributesResult", {})
        attributes = result.get("DBSnapshotAttributes", [])
    return tuple(
        value
        for attribute in attributes if attribute.get("AttributeName") == "restore"
        for value in attribute.get("AttributeValues", [])
    )


# -- event subscriptions, proxies ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventSubscription:
    name: str
    enabled: bool
    source_type: str | None  # None: every source type
    source_ids: tuple[str, ...]  # empty: every source of the type
    categories: tuple[str, ...]  # empty: every category
    topic_arn: str | None


@collector
def event_subscriptions(ctx: CheckContext) -> list[EventSubscription]:
    response = ctx.call("rds", "DescribeEventSubscriptions") or {}
    return [
        EventSubscription(
            name=item.get("CustSubscriptionId", ""),
            enabled=bool(item.get("Enabled", False)),
            source_type=item.get("SourceType") or None,
            source_ids=tuple(item.get("SourceIdsList") or ()),
            categories=tuple(item.get("EventCategoriesList") or ()),
            topic_arn=item.get("SnsTopicArn"),
        )
        for item in response.get("EventSubscriptionsList", [])
    ]


@dataclass(frozen=True)
class DbProxy:
    name: str
    arn: str
    region: str
    engine_family: str
    require_tls: bool
    tags: Tags = ()

    @property
    def resource(self) -> Resource:
        return Resource(id=self.name, type="AWS::RDS::DBProxy", arn=self.arn, name=self.name, region=self.region,
                        tags=dict(self.tags))


@collector
def db_proxies(ctx: CheckContext) -> list[DbProxy]:
    response = ctx.call("rds", "DescribeDBProxies") or {}
    return [
        DbProxy(
            name=item["DBProxyName"],
            arn=item.get("DBProxyArn") or ctx.arn("rds", f"db-proxy:{item['DBProxyName']}"),
            region=ctx.region,
            engine_family=item.get("EngineFamily", ""),
            require_tls=bool(item.get("RequireTLS", False)),
        )
        for item in response.get("DBProxies", [])
    ]


# -- parameter groups, KMS keys ------------------------------------------------------------------------------------
@collector
def db_parameters(ctx: CheckContext, group: str) -> dict[str, str | None] | None:
    """Parameter name -> value (None when the group leaves it at the engine default) of a DB parameter group;
    None when the group is not found (some implementations do not hold the engine's default groups)."""
    response = ctx.call("rds", "DescribeDBParameters", DBParameterGroupName=group)
    return None if response is None else _parameter_values(response)


@collector
def db_cluster_parameters(ctx: CheckContext, group: str) -> dict[str, str | None] | None:
    """The same for a DB cluster parameter group."""
    response = ctx.call("rds", "DescribeDBClusterParameters", DBClusterParameterGroupName=group)
    return None if response is None else _parameter_values(response)


def _parameter_values(response: dict[str, Any]) -> dict[str, str | None]:
    return {p["ParameterName"]: p.get("ParameterValue") for p in response.get("Parameters", [])
            if p.get("ParameterName")}


@collector
def kms_key_manager(ctx: CheckContext, key_id: str) -> str | None:
    """"CUSTOMER" or "AWS" for a KMS key id or ARN (DescribeKey, in the key's own region when an ARN names one)."""
    region = key_id.split(":")[3] if key_id.startswith("arn:") and key_id.count(":") >= 5 else None
    response = ctx.call("kms", "DescribeKey", region=region or None, KeyId=key_id) or {}
    return (response.get("KeyMetadata") or {}).get("KeyManager")
