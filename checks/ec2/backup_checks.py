"""EBS volumes protected by AWS Backup."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from .backup_resources import ProtectedResource, protected_resources
from .resources import Volume, volumes

# Volumes on their way out: whether they are backed up no longer matters.
GONE_VOLUME_STATES = frozenset({"deleting", "deleted"})
# Attachment states in which an instance backup (an AMI) includes the volume.
ATTACHED_STATES = frozenset({"attached", "attaching"})

BACKUP_PLAN_TERRAFORM = (
    'resource "aws_backup_plan" "main" {\n'
    '  name = "${var.project}-backup"\n\n'
    '  rule {\n'
    '    rule_name         = "daily"\n'
    '    target_vault_name = aws_backup_vault.main.name\n'
    '    schedule          = "cron(0 5 * * ? *)"\n\n'
    '    lifecycle {\n'
    '      delete_after = var.environment == "prod" ? 35 : 7\n'
    '    }\n'
    '  }\n\n'
    '  tags = local.common_tags\n'
    '}\n\n'
)


class Ec2EbsVolumeBackupPlanCovered(Check):
    """EBS snapshots taken by hand or by a script stop when the script breaks or its author leaves; AWS Backup
    takes them on a schedule, keeps them for a set time and can copy them to another region or account (and
    lock them there against deletion). A volume counts as protected when AWS Backup holds a recovery point of it
    (ListProtectedResources), or of the EC2 instance it is attached to, since an instance backup includes its
    attached volumes. The last backup time is in the evidence: a volume that left its backup plan keeps its old
    recovery points until they expire. Volumes being deleted are not judged."""

    id = "ec2_ebs_volume_backup_plan_covered"
    service = "ec2"
    severity = Severity.LOW
    category = Category.RELIABILITY
    title = "EBS volumes are protected by AWS Backup"
    risk = "A volume that AWS Backup does not protect cannot be restored after deletion, corruption or ransomware."
    remediation = Remediation(
        text="Add the volume (or the instance it is attached to) to an AWS Backup plan, by ARN or through a tag "
        "the plan's resource selection matches.",
        cli="aws backup create-backup-selection --backup-plan-id <plan-id> --backup-selection "
        "'{\"SelectionName\":\"ebs\",\"IamRoleArn\":\"arn:aws:iam::<account-id>:role/service-role/"
        "AWSBackupDefaultServiceRole\",\"Resources\":[\"arn:aws:ec2:<region>:<account-id>:volume/<volume-id>\"]}'",
        terraform=BACKUP_PLAN_TERRAFORM
        + 'resource "aws_backup_selection" "ebs" {\n'
          '  name         = "${var.project}-ebs"\n'
          '  plan_id      = aws_backup_plan.main.id\n'
          '  iam_role_arn = aws_iam_role.backup.arn\n'
          '  resources    = ["arn:aws:ec2:*:*:volume/*"]\n'
          '}',
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html",
    )
    compliance = (Control("aws-securityhub", "EC2.28"),)
    api_calls = ("ec2:DescribeVolumes", "backup:ListProtectedResources")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        judged = [v for v in volumes(ctx) if v.state not in GONE_VOLUME_STATES]
        if not judged:
            return
        protected = protected_resources(ctx)
        for volume in judged:
            yield self._judge(ctx, volume, protected)

    @staticmethod
    def _judge(ctx: CheckContext, volume: Volume, protected: dict[str, ProtectedResource]) -> Finding:
        instance_ids = sorted({a.instance_id for a in volume.attachments
                               if a.instance_id and a.state in ATTACHED_STATES})
        evidence: dict[str, Any] = {"state": volume.state, "attached_to": instance_ids}
        direct = protected.get(volume.arn)
        if direct is not None:
            return ctx.passed(volume.resource, f"EBS volume {volume.label} is protected by AWS Backup.",
                              {**evidence, **direct.evidence()})
        for instance_id in instance_ids:
            through = protected.get(ctx.arn("ec2", f"instance/{instance_id}"))
            if through is not None:
                return ctx.passed(volume.resource, f"EBS volume {volume.label} is protected by AWS Backup "
                                  f"through its instance {instance_id}.", {**evidence, **through.evidence()})
        if instance_ids:
            message = (f"Neither EBS volume {volume.label} nor its instance {', '.join(instance_ids)} has a "
                       f"recovery point in AWS Backup.")
        else:
            message = f"EBS volume {volume.label} has no recovery point in AWS Backup."
        return ctx.failed(volume.resource, message, evidence)
