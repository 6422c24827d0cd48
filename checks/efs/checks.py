"""EFS checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import file_systems


class EfsFileSystemEncrypted(Check):
    """File data at rest on EFS should be encrypted with AWS KMS. Encryption can only be chosen when a file system
    is created, so an unencrypted one has to be replaced: the earlier it is found, the cheaper the fix."""

    id = "efs_file_system_encrypted"
    service = "efs"
    severity = Severity.MEDIUM
    title = "EFS file systems encrypt data at rest"
    risk = "Data on an unencrypted file system is readable by anyone who obtains the underlying storage or backups."
    remediation = Remediation(
        text="Create an encrypted file system (KMS), copy the data over (AWS DataSync), and retire the old one.",
        cli="aws efs create-file-system --encrypted --kms-key-id <key-arn> --creation-token <token>",
        terraform='resource "aws_efs_file_system" "data" {\n  encrypted  = true\n'
                  '  kms_key_id = aws_kms_key.efs.arn\n  tags       = local.common_tags\n}',
        url="https://docs.aws.amazon.com/efs/latest/ug/encryption.html",
    )
    compliance = (
        Control("aws-securityhub", "EFS.1"),
        Control("cis-aws-3.0", "2.4.1"),
        Control("cis-aws-4.0.1", "2.3.1"),
    )
    api_calls = ("elasticfilesystem:DescribeFileSystems",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for fs in file_systems(ctx):
            evidence = {"encrypted": fs.encrypted, "kms_key_id": fs.kms_key_id}
            if fs.encrypted:
                yield ctx.passed(fs.resource, f"EFS file system {fs.name or fs.id} is encrypted at rest.", evidence)
            else:
                yield ctx.failed(fs.resource, f"EFS file system {fs.name or fs.id} is not encrypted at rest.",
                                 evidence)
