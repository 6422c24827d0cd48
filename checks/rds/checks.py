"""RDS checks: one finding per DB instance."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import DbInstance, db_clusters, db_instances, kms_key_manager, storage_settings


def _cluster_note(cluster_id: str | None) -> str:
    return f" (a setting of its DB cluster {cluster_id})" if cluster_id else ""


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


class RdsInstanceStorageEncrypted(Check):
    """Encryption at rest protects the database storage, its automated backups, read replicas and snapshots
    against anyone who obtains the underlying volumes or a copied snapshot. It can only be chosen when the
    instance (or, for Aurora, the DB cluster) is created, so an unencrypted database has to be migrated to fix it.
    For a DB cluster member the cluster's setting is the one that counts."""

    id = "rds_instance_storage_encrypted"
    service = "rds"
    severity = Severity.MEDIUM
    title = "RDS DB instances are encrypted at rest"
    risk = "Data, backups and snapshots of an unencrypted database can be read by anyone who gets hold of them."
    remediation = Remediation(
        text="Encryption cannot be turned on for an existing instance: snapshot it, copy the snapshot with a KMS "
             "key, restore a new instance from the encrypted copy and switch clients over. For Aurora, restore "
             "the cluster snapshot into a new cluster with encryption enabled.",
        cli="aws rds copy-db-snapshot --source-db-snapshot-identifier <snapshot> "
            "--target-db-snapshot-identifier <snapshot>-encrypted --kms-key-id <kms-key-arn> && "
            "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier <new-instance> "
            "--db-snapshot-identifier <snapshot>-encrypted",
        terraform='resource "aws_rds_cluster" "main" {\n'
                  '  cluster_identifier = "${var.project}-aurora"\n'
                  '  # ...\n'
                  '  storage_encrypted = true\n'
                  '  kms_key_id        = aws_kms_key.db.arn\n'
                  '}\n\n'
                  'resource "aws_db_instance" "main" {\n'
                  '  identifier = "${var.project}-db"\n'
                  '  # ...\n'
                  '  storage_encrypted = true\n'
                  '  kms_key_id        = aws_kms_key.db.arn\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html",
    )
    compliance = (
        Control("aws-fsbp", "RDS.3"),
        Control("cis-aws-3.0", "2.3.1"),
        Control("cis-aws-4.0.1", "2.2.1"),
    )
    api_calls = ("rds:DescribeDBInstances", "rds:DescribeDBClusters")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from ctx.each(db_instances(ctx), lambda instance: self._evaluate_one(ctx, instance))

    def _evaluate_one(self, ctx: CheckContext, instance: DbInstance) -> Iterator[Finding]:
        settings = storage_settings(ctx, instance)
        evidence: dict[str, object] = {"storage_encrypted": settings.encrypted, "engine": instance.engine}
        if settings.cluster_id:
            evidence["db_cluster"] = settings.cluster_id
        if settings.encrypted:
            evidence["kms_key_id"] = settings.kms_key_id
            yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} is encrypted at rest"
                             f"{_cluster_note(settings.cluster_id)}.", evidence)
        else:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} is not encrypted at rest"
                             f"{_cluster_note(settings.cluster_id)}.", evidence)


class RdsInstanceNotPubliclyAccessible(Check):
    """A publicly accessible DB instance gets a DNS name that resolves to a public IP address, so the only thing
    between the internet and the database's login prompt is its security group. Databases belong in private
    subnets, reachable only from the application tier."""

    id = "rds_instance_not_publicly_accessible"
    service = "rds"
    severity = Severity.CRITICAL
    title = "RDS DB instances are not publicly accessible"
    risk = "A database reachable from the internet is exposed to credential guessing and exploits of the engine."
    remediation = Remediation(
        text="Turn off public accessibility and place the instance in private database subnets.",
        cli="aws rds modify-db-instance --db-instance-identifier <instance> --no-publicly-accessible "
            "--apply-immediately",
        terraform='resource "aws_db_instance" "main" {\n'
                  '  identifier = "${var.project}-db"\n'
                  '  # ...\n'
                  '  db_subnet_group_name   = module.vpc.database_subnet_group_name\n'
                  '  vpc_security_group_ids = [aws_security_group.db.id]\n'
                  '  publicly_accessible    = false\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html"
            "#USER_VPC.Hiding",
    )
    compliance = (
        Control("aws-fsbp", "RDS.2"),
        Control("cis-aws-3.0", "2.3.3"),
        Control("cis-aws-4.0.1", "2.2.3"),
    )
    api_calls = ("rds:DescribeDBInstances",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for instance in db_instances(ctx):
            evidence: dict[str, object] = {"publicly_accessible": instance.publicly_accessible,
                                           "engine": instance.engine}
            if instance.publicly_accessible:
                evidence["endpoint"] = instance.endpoint
                yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} is publicly accessible.",
                                 evidence)
            else:
                yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} is not publicly accessible.",
                                 evidence)


class RdsInstanceBackupRetentionSufficient(Check):
    """Automated backups allow point-in-time recovery after an accidental delete, a bad migration or
    ransomware, for as many days as they are kept. A retention of 0 turns them off. For a DB cluster member
    the cluster's retention is the one that counts. Read replicas of another DB instance are not judged: their
    source instance holds the backups (and some engines cannot back up a replica at all)."""

    id = "rds_instance_backup_retention_sufficient"
    service = "rds"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "RDS DB instances keep automated backups long enough"
    risk = "Without enough automated backups, data lost or corrupted more than a few days ago cannot be restored."
    remediation = Remediation(
        text="Set the backup retention period to at least the required number of days (on the DB cluster for "
             "Aurora).",
        cli="aws rds modify-db-instance --db-instance-identifier <instance> --backup-retention-period 7 "
            "--apply-immediately  # Aurora: aws rds modify-db-cluster --db-cluster-identifier <cluster> "
            "--backup-retention-period 7 --apply-immediately",
        terraform='resource "aws_rds_cluster" "main" {\n'
                  '  cluster_identifier = "${var.project}-aurora"\n'
                  '  # ...\n'
                  '  backup_retention_period = var.environment == "prod" ? 30 : 7\n'
                  '  preferred_backup_window = "03:00-04:00"\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
    )
    compliance = (Control("aws-fsbp", "RDS.11"),)
    api_calls = ("rds:DescribeDBInstances", "rds:DescribeDBClusters")
    parameters = ("rds.backup_retention_days", "rds.production_backup_retention_days", "tags.environment_key",
                  "tags.production_values")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from ctx.each(db_instances(ctx), lambda instance: self._evaluate_one(ctx, instance))

    def _evaluate_one(self, ctx: CheckContext, instance: DbInstance) -> Iterator[Finding]:
        if instance.replica_source and not instance.cluster_id:
            yield ctx.passed(
                instance.resource,
                f"RDS DB instance {instance.id} is a read replica of {instance.replica_source}, "
                f"whose backups protect its data.",
                {"read_replica_source": instance.replica_source,
                 "backup_retention_days": instance.backup_retention_days},
            )
            return
        settings = storage_settings(ctx, instance)
        cluster = db_clusters(ctx).get(settings.cluster_id) if settings.cluster_id else None
        environment = _environment(ctx, instance.tags or (cluster.tags if cluster else ()))
        minimum = int(ctx.param("rds.production_backup_retention_days" if environment.production
                                else "rds.backup_retention_days"))
        days = settings.backup_retention_days
        evidence: dict[str, object] = {"backup_retention_days": days, "required_days": minimum,
                                       "environment": environment.name, "environment_basis": environment.basis}
        if settings.cluster_id:
            evidence["db_cluster"] = settings.cluster_id
        via = _cluster_note(settings.cluster_id)
        assumed = f"{environment.name}, {environment.basis}"
        if days >= minimum:
            yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} keeps automated backups for "
                             f"{_days(days)}{via}, enough for {assumed}.", evidence)
        elif days == 0:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} has automated backups disabled{via}; "
                             f"{minimum} days are required for {assumed}.", evidence)
        else:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} keeps automated backups for only "
                             f"{_days(days)}{via}; at least {minimum} are required for {assumed}.", evidence)


@dataclass(frozen=True)
class Environment:
    production: bool
    basis: str  # why: which tag said so, or its absence

    @property
    def name(self) -> str:
        return "production" if self.production else "non-production"


def _environment(ctx: CheckContext, tags: tuple[tuple[str, str], ...]) -> Environment:
    """Production when the environment tag (parameter tags.environment_key) holds one of
    tags.production_values (case-insensitive); anything else, or no tag, is non-production."""
    key = str(ctx.param("tags.environment_key"))
    production_values = {str(v).lower() for v in ctx.param("tags.production_values")}
    value = next((v for k, v in tags if k == key), None)
    if value is None:
        return Environment(False, f"no {key} tag")
    return Environment(value.lower() in production_values, f"tag {key}={value}")


class RdsInstanceEncryptedWithCustomerManagedKey(Check):
    """Encrypting with a customer-managed KMS key (as the seed architecture's aws_kms_key.db does) rather than
    the AWS-managed aws/rds key lets the account control the key policy, who may decrypt, rotation and
    cross-account sharing of snapshots: snapshots encrypted with aws/rds cannot be shared with another account
    at all. For a DB cluster member the cluster's key is the one that counts. Unencrypted instances fail here
    too (and in rds_instance_storage_encrypted)."""

    id = "rds_instance_encrypted_with_customer_managed_key"
    service = "rds"
    severity = Severity.MEDIUM
    title = "RDS DB instances are encrypted with a customer-managed KMS key"
    risk = "Access to the data key cannot be restricted by a key policy, and encrypted snapshots cannot be shared "\
           "for cross-account backup."
    remediation = Remediation(
        text="Create a customer-managed KMS key; copy a snapshot with it and restore a new instance (or cluster) "
             "from the copy, then switch clients over.",
        cli="aws rds copy-db-snapshot --source-db-snapshot-identifier <snapshot> --target-db-snapshot-identifier "
            "<snapshot>-cmk --kms-key-id <customer-managed-key-arn>",
        terraform='resource "aws_kms_key" "db" {\n'
                  '  description         = "${var.project} database encryption"\n'
                  '  enable_key_rotation = true\n'
                  '}\n\n'
                  'resource "aws_rds_cluster" "main" {\n'
                  '  cluster_identifier = "${var.project}-aurora"\n'
                  '  # ...\n'
                  '  storage_encrypted = true\n'
                  '  kms_key_id        = aws_kms_key.db.arn\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html",
    )
    api_calls = ("rds:DescribeDBInstances", "rds:DescribeDBClusters", "kms:DescribeKey")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from ctx.each(db_instances(ctx), lambda instance: self._evaluate_one(ctx, instance))

    def _evaluate_one(self, ctx: CheckContext, instance: DbInstance) -> Iterator[Finding]:
        settings = storage_settings(ctx, instance)
        via = _cluster_note(settings.cluster_id)
        evidence: dict[str, object] = {"storage_encrypted": settings.encrypted, "kms_key_id": settings.kms_key_id}
        if settings.cluster_id:
            evidence["db_cluster"] = settings.cluster_id
        if not settings.encrypted:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} is not encrypted at rest{via}.",
                             evidence)
            return
        manager = kms_key_manager(ctx, settings.kms_key_id) if settings.kms_key_id else None
        evidence["key_manager"] = manager
        if manager == "CUSTOMER":
            yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} is encrypted with a "
                             f"customer-managed KMS key{via}.", evidence)
        elif manager == "AWS":
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} is encrypted with the "
                             f"AWS-managed key aws/rds{via}, not a customer-managed key.", evidence)
        else:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} is encrypted, but its KMS key "
                             f"could not be identified as customer-managed{via}.", evidence)
