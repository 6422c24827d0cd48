"""RDS DB instances protected by AWS Backup."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from ..ec2.backup_checks import BACKUP_PLAN_TERRAFORM
from ..ec2.backup_resources import ProtectedResource, protected_resources
from .resources import DbInstance, db_instances


class RdsInstanceBackupPlanCovered(Check):
    """RDS automated backups are deleted with the DB instance (unless retained) and live in the same account
    and region as the database. AWS Backup keeps recovery points in a vault with their own retention, can copy
    them to another region or account and lock them against deletion, so a deleted instance, a compromised
    account or a regional outage does not take the backups with it. A DB instance counts as protected when AWS
    Backup holds a recovery point of it (ListProtectedResources); a member of an Aurora or Multi-AZ DB cluster,
    whose data AWS Backup protects as the cluster, counts as protected when its cluster has one. The last backup
    time is in the evidence."""

    id = "rds_instance_backup_plan_covered"
    service = "rds"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "RDS DB instances are protected by AWS Backup"
    risk = "A database that AWS Backup does not protect loses its backups with the instance, account or region."
    remediation = Remediation(
        text="Add the DB instance (or its DB cluster) to an AWS Backup plan, by ARN or through a tag the plan's "
        "resource selection matches.",
        cli="aws backup create-backup-selection --backup-plan-id <plan-id> --backup-selection "
        "'{\"SelectionName\":\"rds\",\"IamRoleArn\":\"arn:aws:iam::<account-id>:role/service-role/"
        "AWSBackupDefaultServiceRole\",\"Resources\":[\"arn:aws:rds:<region>:<account-id>:db:<db-instance>\"]}'",
        terraform=BACKUP_PLAN_TERRAFORM
        + 'resource "aws_backup_selection" "rds" {\n'
          '  name         = "${var.project}-rds"\n'
          '  plan_id      = aws_backup_plan.main.id\n'
          '  iam_role_arn = aws_iam_role.backup.arn\n'
          '  resources    = [aws_db_instance.main.arn]\n'
          '}',
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html",
    )
    compliance = (Control("aws-securityhub", "RDS.26"),)
    api_calls = ("rds:DescribeDBInstances", "backup:ListProtectedResources")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        found = db_instances(ctx)
        if not found:
            return
        protected = protected_resources(ctx)
        for instance in found:
            yield self._judge(ctx, instance, protected)

    @staticmethod
    def _judge(ctx: CheckContext, instance: DbInstance, protected: dict[str, ProtectedResource]) -> Finding:
        evidence: dict[str, Any] = {"engine": instance.engine, "cluster": instance.cluster_id}
        direct = protected.get(instance.arn)
        if direct is not None:
            return ctx.passed(instance.resource, f"RDS DB instance {instance.id} is protected by AWS Backup.",
                              {**evidence, **direct.evidence()})
        if instance.cluster_id:
            through = protected.get(ctx.arn("rds", f"cluster:{instance.cluster_id}"))
            if through is not None:
                return ctx.passed(instance.resource, f"RDS DB instance {instance.id} is protected by AWS Backup "
                                  f"through its DB cluster {instance.cluster_id}.", {**evidence, **through.evidence()})
            return ctx.failed(instance.resource, f"Neither RDS DB instance {instance.id} nor its DB cluster "
                              f"{instance.cluster_id} has a recovery point in AWS Backup.", evidence)
        return ctx.failed(instance.resource, f"RDS DB instance {instance.id} has no recovery point in AWS Backup.",
                          evidence)
