"""IAM policies that allow decryption with every KMS key (FSBP KMS.1 for customer managed policies, KMS.2 for
inline policies). The policies come from IAM's GetAccountAuthorizationDetails (checks/iam/policy_resources.py).

"Every key" is any resource pattern that covers all keys of the account in every region
(`arn:aws:kms:*:<account>:key/*`): "*", `arn:aws:kms:*:*:key/*` and the like. A grant limited to one region or
to named keys passes.
"""
from __future__ import annotations

from typing import Any, Iterator, Union

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity
from checks.iam.policy_resources import AUTHORIZATION_DETAILS, CustomerPolicy, InlinePolicy, authorization_details

DECRYPT_ACTIONS = "kms.decrypt_actions"

_TERRAFORM = (
    'resource "aws_iam_policy" "decrypt_data" {\n'
    '  name = "${var.project}-decrypt-data"\n\n'
    "  policy = jsonencode({\n"
    '    Version = "2012-10-17"\n'
    "    Statement = [{\n"
    '      Sid      = "DecryptWithTheDataKey"\n'
    '      Effect   = "Allow"\n'
    '      Action   = ["kms:Decrypt"]\n'
    "      Resource = aws_kms_key.s3.arn\n"
    "    }]\n"
    "  })\n"
    "}"
)
_URL = "https://docs.aws.amazon.com/kms/latest/developerguide/iam-policies-best-practices.html"


def _decrypting_on_all_keys(
    ctx: CheckContext, item: Union[CustomerPolicy, InlinePolicy], actions: list[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The blocked actions the policy allows on every key, and the statements that allow them."""
    every_key = f"arn:{ctx.partition}:kms:*:{ctx.account}:key/*"
    allowed = [a for a in actions if item.policy.allows(a, every_key)]
    statements = {s.sid: s.summary() for a in allowed for s in item.policy.allowing_statements(a, every_key)}
    return allowed, list(statements.values())


class KmsCustomerPolicyDecryptNotOnAllKeys(Check):
    """A customer managed policy that allows kms:Decrypt or kms:ReEncryptFrom on every key lets whoever holds it
    decrypt any data the account protects with KMS, from any service, as long as the key policies delegate to
    IAM (the default). Naming the keys a workload needs limits a leaked credential to that workload's data.
    Every customer managed policy's default version is evaluated, attached or not; the actions are the
    parameter kms.decrypt_actions."""

    id = "kms_customer_policy_decrypt_not_on_all_keys"
    service = "kms"
    severity = Severity.MEDIUM
    title = "Customer managed policies do not allow decryption with every KMS key"
    risk = "Principals holding the policy can decrypt all KMS-protected data of the account."
    remediation = Remediation(
        text="Limit kms:Decrypt and kms:ReEncryptFrom to the ARNs of the keys the principals need, as a new "
        "default policy version.",
        cli="aws iam create-policy-version --policy-arn <policy-arn> "
        "--policy-document file://decrypt-scoped.json --set-as-default",
        terraform=_TERRAFORM,
        url=_URL,
    )
    compliance = (Control("aws-fsbp", "KMS.1"),)
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL
    parameters = (DECRYPT_ACTIONS,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        actions = [str(a) for a in ctx.param(DECRYPT_ACTIONS)]
        for item in authorization_details(ctx).customer_policies:
            yield _judge(ctx, item, actions, {"default_version": item.default_version_id,
                                              "attachment_count": item.attachment_count})


class KmsInlinePolicyDecryptNotOnAllKeys(Check):
    """An inline policy of a user, group or role that allows kms:Decrypt or kms:ReEncryptFrom on every key lets
    that principal decrypt any data the account protects with KMS, as long as the key policies delegate to IAM
    (the default). Inline policies are easy to overlook in reviews. The actions are the parameter
    kms.decrypt_actions."""

    id = "kms_inline_policy_decrypt_not_on_all_keys"
    service = "kms"
    severity = Severity.MEDIUM
    title = "Inline policies do not allow decryption with every KMS key"
    risk = "The user, group or role can decrypt all KMS-protected data of the account."
    remediation = Remediation(
        text="Limit kms:Decrypt and kms:ReEncryptFrom in the inline policy to the ARNs of the keys the principal "
        "needs, or move the grant to a scoped customer managed policy.",
        cli="aws iam put-role-policy --role-name <role> --policy-name <policy> "
        "--policy-document file://decrypt-scoped.json",
        terraform=_TERRAFORM,
        url=_URL,
    )
    compliance = (Control("aws-fsbp", "KMS.2"),)
    api_calls = (AUTHORIZATION_DETAILS,)
    scope = Scope.GLOBAL
    parameters = (DECRYPT_ACTIONS,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        actions = [str(a) for a in ctx.param(DECRYPT_ACTIONS)]
        for item in authorization_details(ctx).inline_policies:
            yield _judge(ctx, item, actions, {"principal_type": item.principal_kind,
                                              "principal": item.principal_name})


def _judge(ctx: CheckContext, item: Union[CustomerPolicy, InlinePolicy], actions: list[str],
           evidence: dict[str, Any]) -> Finding:
    if item.malformed:
        return ctx.error(item.resource, f"The policy document of {item.label} could not be read: {item.malformed}.",
                         {"reason": item.malformed})
    allowed, statements = _decrypting_on_all_keys(ctx, item, actions)
    if allowed:
        return ctx.failed(item.resource, f"The {item.label} allows {', '.join(allowed)} on every KMS key.",
                          {**evidence, "actions": allowed, "statements": statements})
    return ctx.passed(item.resource, f"The {item.label} does not allow {', '.join(actions)} on every KMS key.",
                      evidence)
