"""IAM checks: the root user, console users' MFA, administrator policies and access key age."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity

from .resources import (
    CREDENTIAL_REPORT_WAIT,
    ManagedPolicy,
    User,
    access_keys,
    account_summary,
    attached_customer_policies,
    credential_report,
    full_admin_statements,
    policy_document,
    users,
)

MAX_KEY_AGE = "iam.access_key_max_age_days"


class IamRootAccessKeysAbsent(Check):
    """The root user can do anything in the account, including closing it, and no policy can restrict it.
    An access key for the root user puts that power in a long-lived secret that can leak from a laptop, a CI
    system or a repository. Root needs no access keys: use IAM roles or users with scoped permissions."""

    id = "iam_root_access_keys_absent"
    service = "iam"
    severity = Severity.CRITICAL
    title = "The root user has no access keys"
    risk = "A leaked root access key gives unrestricted, unrestrictable control of the whole account."
    remediation = Remediation(
        text="Sign in as the root user, open Security credentials and delete every root access key. "
        "Use IAM roles for programmatic access instead.",
        cli="aws iam delete-access-key --access-key-id <root-access-key-id>  # with the root user's credentials",
        terraform="# Root user access keys cannot be managed with Terraform; delete them as the root user.\n"
        "# Give automation an IAM role instead:\n"
        'resource "aws_iam_role" "automation" {\n'
        '  name = "${var.project}-automation-role"\n\n'
        "  assume_role_policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Action = "sts:AssumeRole"\n'
        '      Effect = "Allow"\n'
        "      Principal = {\n"
        '        AWS = "arn:aws:iam::${var.trusted_account_id}:root"\n'
        "      }\n"
        "    }]\n"
        "  })\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html",
    )
    compliance = (
        Control("aws-fsbp", "IAM.4"),
        Control("cis-aws-3.0", "1.4"),
        Control("cis-aws-4.0.1", "1.4"),
    )
    api_calls = ("iam:GetAccountSummary",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        account = ctx.account_resource()
        present = account_summary(ctx).get("AccountAccessKeysPresent")
        if present is None:
            yield ctx.error(account, f"IAM did not report whether the root user of {ctx.account} has access keys.")
        elif present:
            yield ctx.failed(
                account,
                f"The root user of account {ctx.account} has access keys.",
                {"account_access_keys_present": present},
            )
        else:
            yield ctx.passed(
                account,
                f"The root user of account {ctx.account} has no access keys.",
                {"account_access_keys_present": present},
            )


class IamRootMfaEnabled(Check):
    """Without MFA, the root user's password alone opens the account with unrestricted power. A phished or
    reused root password is then enough to take the account over; MFA adds a second factor the attacker
    does not have."""

    id = "iam_root_mfa_enabled"
    service = "iam"
    severity = Severity.CRITICAL
    title = "The root user has MFA enabled"
    risk = "Anyone who learns the root password controls the account."
    remediation = Remediation(
        text="Sign in as the root user, open Security credentials and assign an MFA device (a hardware key "
        "for the strongest protection).",
        cli="",
        terraform="# MFA for the root user cannot be managed with Terraform; assign it as the root user.",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-virt-mfa-for-root.html",
    )
    compliance = (
        Control("aws-securityhub", "IAM.9"),
        Control("cis-aws-3.0", "1.5"),
        Control("cis-aws-4.0.1", "1.5"),
    )
    api_calls = ("iam:GetAccountSummary",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        account = ctx.account_resource()
        enabled = account_summary(ctx).get("AccountMFAEnabled")
        if enabled is None:
            yield ctx.error(account, f"IAM did not report whether the root user of {ctx.account} has MFA.")
        elif enabled:
            yield ctx.passed(account, f"The root user of account {ctx.account} has MFA enabled.",
                             {"account_mfa_enabled": enabled})
        else:
            yield ctx.failed(account, f"The root user of account {ctx.account} has no MFA device.",
                             {"account_mfa_enabled": enabled})


class IamConsoleUserMfaEnabled(Check):
    """A console password can be phished, guessed or reused from another breach. With MFA, the password
    alone does not open the console. The check reads the IAM credential report, which IAM regenerates at
    most every four hours: a change made since the report's generation time shows in the next report.
    Users without a console password are not evaluated."""

    id = "iam_console_user_mfa_enabled"
    service = "iam"
    severity = Severity.MEDIUM
    title = "IAM users with a console password have MFA enabled"
    risk = "A stolen console password alone gives an attacker the user's permissions in the console."
    remediation = Remediation(
        text="Assign an MFA device to every IAM user that has a console password, and deny everything but "
        "MFA self-service to users signed in without MFA. Prefer federated sign-in (IAM Identity Center).",
        cli="aws iam create-virtual-mfa-device --virtual-mfa-device-name <user> --outfile qr.png "
        "--bootstrap-method QRCodePNG && aws iam enable-mfa-device --user-name <user> "
        "--serial-number arn:aws:iam::<account-id>:mfa/<user> "
        "--authentication-code1 <code1> --authentication-code2 <code2>",
        terraform='resource "aws_iam_policy" "require_mfa" {\n'
        '  name = "${var.project}-require-mfa"\n\n'
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Sid    = "DenyAllExceptMfaSetupWithoutMfa"\n'
        '      Effect = "Deny"\n'
        "      NotAction = [\n"
        '        "iam:CreateVirtualMFADevice",\n'
        '        "iam:EnableMFADevice",\n'
        '        "iam:GetUser",\n'
        '        "iam:ListMFADevices",\n'
        '        "iam:ListVirtualMFADevices",\n'
        '        "iam:ResyncMFADevice",\n'
        '        "sts:GetSessionToken"\n'
        "      ]\n"
        '      Resource = "*"\n'
        "      Condition = {\n"
        "        BoolIfExists = {\n"
        '          "aws:MultiFactorAuthPresent" = "false"\n'
        "        }\n"
        "      }\n"
        "    }]\n"
        "  })\n"
        "}\n\n"
        'resource "aws_iam_group_policy_attachment" "console_users_require_mfa" {\n'
        "  group      = aws_iam_group.console_users.name\n"
        "  policy_arn = aws_iam_policy.require_mfa.arn\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html",
    )
    compliance = (
        Control("aws-fsbp", "IAM.5"),
        Control("cis-aws-3.0", "1.10"),
        Control("cis-aws-4.0.1", "1.10"),
    )
    api_calls = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")
    scope = Scope.GLOBAL
    parameters = (CREDENTIAL_REPORT_WAIT,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        report = credential_report(ctx)
        generated = report.generated.isoformat() if report.generated else None
        for row in report.users:
            if not row.password_enabled:
                continue
            evidence = {"password_enabled": True, "mfa_active": row.mfa_active, "report_generated": generated}
            if row.mfa_active:
                yield ctx.passed(row.resource, f"IAM user {row.user} has a console password and MFA.", evidence)
            else:
                yield ctx.failed(row.resource, f"IAM user {row.user} has a console password but no MFA.", evidence)


class IamPolicyNoFullAdmin(Check):
    """A policy that allows every action on every resource makes whoever holds it an administrator, able to
    read all data, change every setting and grant itself anything. Least privilege limits what a leaked
    credential or a compromised workload can do. The default version of each customer managed policy
    attached to a user, group or role is evaluated; AWS managed and inline policies are not."""

    id = "iam_policy_no_full_admin"
    service = "iam"
    severity = Severity.HIGH
    title = 'Attached customer managed policies do not allow "*" on "*"'
    risk = "Every principal holding the policy has full administrative control of the account."
    remediation = Remediation(
        text="Replace the statement with the specific actions and resources the principals need, as a new "
        "default policy version; keep full administrator access to a few break-glass roles.",
        cli="aws iam create-policy-version --policy-arn <policy-arn> "
        "--policy-document file://least-privilege.json --set-as-default",
        terraform='resource "aws_iam_policy" "s3_access" {\n'
        '  name = "${var.project}-s3-access"\n\n'
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Sid      = "ReadWriteObjects"\n'
        '      Effect   = "Allow"\n'
        '      Action   = ["s3:GetObject", "s3:PutObject"]\n'
        '      Resource = "${aws_s3_bucket.data.arn}/*"\n'
        "    }]\n"
        "  })\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    )
    compliance = (
        Control("aws-fsbp", "IAM.1"),
        Control("cis-aws-3.0", "1.16"),
        Control("cis-aws-4.0.1", "1.16"),
    )
    api_calls = ("iam:ListPolicies", "iam:GetPolicyVersion")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(policy: ManagedPolicy) -> Iterator[Finding]:
            document = policy_document(ctx, policy.arn, policy.default_version_id)
            admin = full_admin_statements(document)
            evidence = {"default_version": policy.default_version_id, "attachment_count": policy.attachment_count}
            if admin:
                yield ctx.failed(
                    policy.resource,
                    f"IAM policy {policy.name} allows every action on every resource.",
                    {**evidence, "statements": [dict(s) for s in admin]},
                )
            else:
                yield ctx.passed(policy.resource, f"IAM policy {policy.name} does not allow \"*\" on \"*\".", evidence)

        yield from ctx.each(attached_customer_policies(ctx), evaluate_one)


class IamAccessKeyRotated(Check):
    """An access key is a long-lived secret. The longer it lives, the more places it has been copied to and
    the longer a leaked copy keeps working. Rotating keys limits that window; better still, give workloads
    IAM roles, whose credentials are temporary. Only active keys count; users without one are not evaluated."""

    id = "iam_access_key_rotated"
    service = "iam"
    severity = Severity.MEDIUM
    title = "Active IAM access keys are rotated within the maximum age"
    risk = "An old key is likelier to have leaked, and a leaked key works until it is rotated."
    remediation = Remediation(
        text="Create a new access key, move its users to it, deactivate the old key, then delete it. "
        "Prefer IAM roles (temporary credentials) for applications.",
        cli="aws iam create-access-key --user-name <user> && "
        "aws iam update-access-key --user-name <user> --access-key-id <old-key-id> --status Inactive && "
        "aws iam delete-access-key --user-name <user> --access-key-id <old-key-id>",
        terraform="# Applications: an IAM role instead of a user's access key\n"
        'resource "aws_iam_role" "app" {\n'
        '  name = "${var.project}-app-role"\n\n'
        "  assume_role_policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Action = "sts:AssumeRole"\n'
        '      Effect = "Allow"\n'
        "      Principal = {\n"
        '        Service = "ecs-tasks.amazonaws.com"\n'
        "      }\n"
        "    }]\n"
        "  })\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    )
    compliance = (
        Control("aws-fsbp", "IAM.3"),
        Control("cis-aws-3.0", "1.14"),
        Control("cis-aws-4.0.1", "1.14"),
    )
    api_calls = ("iam:ListUsers", "iam:ListAccessKeys")
    scope = Scope.GLOBAL
    parameters = (MAX_KEY_AGE,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        max_age = int(ctx.param(MAX_KEY_AGE))

        def evaluate_one(user: User) -> Iterator[Finding]:
            active = [k for k in access_keys(ctx, user.name) if k.active]
            if not active:
                return
            keys = [{"access_key_id": k.masked_id, "age_days": k.age_days(ctx.now)} for k in active]
            stale = [k for k in keys if k["age_days"] > max_age]
            evidence = {"max_age_days": max_age, "active_keys": keys}
            if stale:
                ages = ", ".join(f"{k['access_key_id']}: {k['age_days']} days" for k in stale)
                yield ctx.failed(
                    user.resource,
                    f"IAM user {user.name} has active access keys older than {max_age} days ({ages}).",
                    evidence,
                )
            else:
                yield ctx.passed(
                    user.resource,
                    f"IAM user {user.name} has no active access key older than {max_age} days.",
                    evidence,
                )

        yield from ctx.each(users(ctx), evaluate_one)
