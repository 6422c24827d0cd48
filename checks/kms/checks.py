"""KMS key checks: keys not pending deletion (FSBP KMS.3), rotation enabled (KMS.4, CIS 3.6), key policy not
public (FSBP KMS.5). Only customer managed keys are evaluated: AWS managed keys (KeyManager AWS) are rotated and
governed by AWS."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.policy import PolicyError

from .resources import KeyRef, customer_key, key_policy, key_refs, rotation_enabled

_KEY_TERRAFORM_HEAD = 'resource "aws_kms_key" "db" {\n  description             = "${var.project} rds encryption"\n'


class KmsKeyNotPendingDeletion(Check):
    """Deleting a KMS key is irreversible: everything encrypted under it (database storage, S3 objects, EBS
    snapshots, secrets) becomes unreadable for good once the waiting period ends. A key scheduled for deletion by
    mistake, or by an attacker, must be noticed and cancelled within that window."""

    id = "kms_key_not_pending_deletion"
    service = "kms"
    severity = Severity.CRITICAL
    title = "Customer managed KMS keys are not scheduled for deletion"
    risk = "Data encrypted under the key becomes permanently unreadable when the deletion completes."
    remediation = Remediation(
        text="If the deletion is not intended, cancel it and re-enable the key; otherwise confirm nothing still "
        "needs data encrypted under it before the waiting period ends.",
        cli="aws kms cancel-key-deletion --key-id <key-id> && aws kms enable-key --key-id <key-id>",
        terraform=_KEY_TERRAFORM_HEAD + "  deletion_window_in_days = 30\n  enable_key_rotation     = true\n\n"
        "  lifecycle {\n    prevent_destroy = true\n  }\n\n  tags = local.common_tags\n}",
        url="https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-scheduling-key-deletion.html",
    )
    compliance = (Control("aws-fsbp", "KMS.3"),)
    api_calls = ("kms:ListKeys", "kms:DescribeKey")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(ref: KeyRef) -> Iterator[Finding]:
            described = customer_key(ctx, ref)
            if described is None:
                return
            evidence = described.evidence()
            if described.pending_deletion:
                when = described.deletion_date.date().isoformat() if described.deletion_date else "soon"
                yield ctx.failed(described.resource, f"KMS key {described.key_id} is scheduled for deletion "
                                                     f"({when}).",
                                 {**evidence, "deletion_date": described.deletion_date.isoformat()
                                  if described.deletion_date else None})
            else:
                yield ctx.passed(described.resource, f"KMS key {described.key_id} is not scheduled for deletion.",
                                 evidence)

        yield from ctx.each(key_refs(ctx), evaluate_one)


class KmsKeyRotationEnabled(Check):
    """Automatic rotation gives a customer managed key new key material every year (or the period set), so
    that material compromised or over-used in the past protects less data. Old material is kept to decrypt
    old data, so rotation breaks nothing. It exists for symmetric encryption keys whose material KMS generated;
    asymmetric, HMAC, imported and custom key store keys are not evaluated, nor keys pending deletion or import."""

    id = "kms_key_rotation_enabled"
    service = "kms"
    severity = Severity.MEDIUM
    title = "Symmetric customer managed KMS keys have automatic rotation enabled"
    risk = "Key material that never changes protects ever more data, so a compromise of it exposes more."
    remediation = Remediation(
        text="Enable automatic key rotation on the key.",
        cli="aws kms enable-key-rotation --key-id <key-id>",
        terraform=_KEY_TERRAFORM_HEAD + "  deletion_window_in_days = 30\n  enable_key_rotation     = true\n\n"
        "  tags = local.common_tags\n}",
        url="https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
    )
    compliance = (
        Control("aws-securityhub", "KMS.4"),
        Control("cis-aws-3.0", "3.6"),
        Control("cis-aws-4.0.1", "3.6"),
    )
    api_calls = ("kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(ref: KeyRef) -> Iterator[Finding]:
            described = customer_key(ctx, ref)
            if described is None or not described.usable or not described.rotatable:
                return
            evidence = described.evidence()
            if rotation_enabled(ctx, described.key_id):
                yield ctx.passed(described.resource, f"KMS key {described.key_id} has automatic rotation enabled.",
                                 {**evidence, "rotation_enabled": True})
            else:
                yield ctx.failed(described.resource, f"KMS key {described.key_id} has automatic rotation disabled.",
                                 {**evidence, "rotation_enabled": False})

        yield from ctx.each(key_refs(ctx), evaluate_one)


class KmsKeyPolicyNotPublic(Check):
    """A key policy that allows Principal "*" without a condition restricting who (aws:SourceAccount,
    aws:PrincipalOrgID, kms:CallerAccount, a VPC endpoint...) lets any AWS account use or manage the key: decrypt
    data encrypted under it, or change its policy. Keys pending deletion (unusable) are not evaluated."""

    id = "kms_key_policy_not_public"
    service = "kms"
    severity = Severity.CRITICAL
    title = "KMS key policies do not allow access to everyone"
    risk = "Anyone with an AWS account can use the key, and decrypt the data it protects."
    remediation = Remediation(
        text='Replace Principal "*" with the accounts or roles that need the key, or restrict it with a condition '
        "such as kms:CallerAccount or aws:PrincipalOrgID.",
        cli="aws kms put-key-policy --key-id <key-id> --policy-name default --policy file://key-policy.json",
        terraform=_KEY_TERRAFORM_HEAD + "  deletion_window_in_days = 30\n  enable_key_rotation     = true\n\n"
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Sid    = "EnableIAMPolicies"\n'
        '      Effect = "Allow"\n'
        "      Principal = {\n"
        '        AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"\n'
        "      }\n"
        '      Action   = "kms:*"\n'
        '      Resource = "*"\n'
        "    }]\n"
        "  })\n\n"
        "  tags = local.common_tags\n}",
        url="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html",
    )
    compliance = (Control("aws-fsbp", "KMS.5"),)
    api_calls = ("kms:ListKeys", "kms:DescribeKey", "kms:GetKeyPolicy")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(ref: KeyRef) -> Iterator[Finding]:
            described = customer_key(ctx, ref)
            if described is None or described.pending_deletion:
                return
            try:
                access = key_policy(ctx, described.key_id).access(ctx.account)
            except PolicyError as exc:
                yield ctx.error(described.resource, f"The key policy of KMS key {described.key_id} could not be "
                                                    f"read: {exc}.", {"reason": str(exc)})
                return
            evidence = {**described.evidence(), "public_actions": sorted(access.public_actions),
                        "other_accounts": sorted(access.cross_account)}
            if access.is_public():
                yield ctx.failed(described.resource, f"The key policy of KMS key {described.key_id} allows "
                                                     f"anyone to use it.", evidence)
            else:
                yield ctx.passed(described.resource, f"The key policy of KMS key {described.key_id} does not allow "
                                                     f"access to everyone.", evidence)

        yield from ctx.each(key_refs(ctx), evaluate_one)
