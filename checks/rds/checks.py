"""RDS checks: one finding per DB instance."""
from __future__ import annotations

from typing import Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import DbInstance, db_instances, storage_settings


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
    parameters = ("rds.backup_retention_days",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        minimum = int(ctx.param("rds.backup_retention_days"))
        yield from ctx.each(db_instances(ctx), lambda instance: self._evaluate_one(ctx, instance, minimum))

    def _evaluate_one(self, ctx: CheckContext, instance: DbInstance, minimum: int) -> Iterator[Finding]:
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
        days = settings.backup_retention_days
        evidence: dict[str, object] = {"backup_retention_days": days, "required_days": minimum}
        if settings.cluster_id:
            evidence["db_cluster"] = settings.cluster_id
        via = _cluster_note(settings.cluster_id)
        if days >= minimum:
            yield ctx.passed(instance.resource,
                             f"RDS DB instance {instance.id} keeps automated backups for {_days(days)}{via}.", evidence)
        elif days == 0:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} has automated backups disabled{via}.",
                             evidence)
        else:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} keeps automated backups for only "
                             f"{_days(days)}{via}; at least {minimum} are required.", evidence)
