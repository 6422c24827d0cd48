"""IAM checks: the root user, console users' MFA, administrator policies, access key age, users' own policies,
the support role, server certificates, CloudShell access and EC2 instance roles."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity
from auditor.policy import parse_policy

from .resources import (
    CREDENTIAL_REPORT_WAIT,
    ManagedPolicy,
    User,
    access_keys,
    account_summary,
    assigned_virtual_mfa_devices,
    attached_customer_policies,
    attached_user_policy_arns,
    aws_managed_policy_arn,
    credential_report,
    full_admin_statements,
    inline_user_policy_names,
    instance_roles,
    policy_document,
    policy_holders,
    server_certificates,
    users,
)

MAX_KEY_AGE = "iam.access_key_max_age_days"
SUPPORT_POLICY = "AWSSupportAccess"
CLOUDSHELL_POLICY = "AWSCloudShellFullAccess"


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
            evidence = {"default_version": policy.default_version_id, "attachment_count": policy.attachment_count}
            if parse_policy(document).grants_full_admin():
                yield ctx.failed(
                    policy.resource,
                    f"IAM policy {policy.name} allows every action on every resource.",
                    {**evidence, "statements": [dict(s) for s in full_admin_statements(document)]},
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


class IamRootHardwareMfaEnabled(Check):
    """A virtual MFA device is an app on a phone or computer, which can be cloned, backed up or compromised
    with the device. A hardware device (a FIDO security key or a hardware TOTP token) cannot be copied. IAM does
    not list the root user's hardware devices, so the check reads the account summary (is MFA on for root at
    all?) and the assigned virtual devices (is one of them the root user's?): MFA on and no virtual device for
    root means hardware MFA."""

    id = "iam_root_hardware_mfa_enabled"
    service = "iam"
    severity = Severity.CRITICAL
    title = "The root user has hardware MFA"
    risk = "A virtual MFA device for the root user can be copied or stolen together with the phone it runs on."
    remediation = Remediation(
        text="Sign in as the root user, register a FIDO security key or a hardware TOTP token as its MFA device, "
        "then remove the virtual MFA device.",
        cli="",
        terraform="# MFA for the root user cannot be managed with Terraform; assign it as the root user.",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-fido-mfa-for-root.html",
    )
    compliance = (
        Control("aws-fsbp", "IAM.6"),
        Control("cis-aws-3.0", "1.6"),
        Control("cis-aws-4.0.1", "1.6"),
    )
    api_calls = ("iam:GetAccountSummary", "iam:ListVirtualMFADevices")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        account = ctx.account_resource()
        enabled = account_summary(ctx).get("AccountMFAEnabled")
        if enabled is None:
            yield ctx.error(account, f"IAM did not report whether the root user of {ctx.account} has MFA.")
            return
        if not enabled:
            yield ctx.failed(account, f"The root user of account {ctx.account} has no MFA device at all.",
                             {"account_mfa_enabled": enabled})
            return
        virtual = [d.serial_number for d in assigned_virtual_mfa_devices(ctx) if d.assigned_to_root]
        evidence = {"account_mfa_enabled": enabled, "root_virtual_mfa_devices": virtual}
        if virtual:
            yield ctx.failed(account, f"The root user of account {ctx.account} uses a virtual MFA device.", evidence)
        else:
            yield ctx.passed(account, f"The root user of account {ctx.account} uses hardware MFA.", evidence)


class IamUserNoAttachedPolicies(Check):
    """Permissions granted user by user drift apart and are hard to review or revoke. Granting them through
    groups (or, better, roles) keeps one place per job function to change. A user fails when it has a managed
    policy attached or an inline policy of its own."""

    id = "iam_user_no_attached_policies"
    service = "iam"
    severity = Severity.LOW
    title = "IAM users receive permissions only through groups"
    risk = "Per-user permissions are hard to audit and tend to accumulate."
    remediation = Remediation(
        text="Put the user in a group that holds the permissions, then detach its managed policies and delete its "
        "inline policies.",
        cli="aws iam add-user-to-group --group-name <group> --user-name <user> && "
        "aws iam detach-user-policy --user-name <user> --policy-arn <policy-arn>",
        terraform='resource "aws_iam_group" "developers" {\n'
        '  name = "${var.project}-developers"\n'
        "}\n\n"
        'resource "aws_iam_group_policy_attachment" "developers_s3" {\n'
        "  group      = aws_iam_group.developers.name\n"
        "  policy_arn = aws_iam_policy.s3_access.arn\n"
        "}\n\n"
        'resource "aws_iam_user_group_membership" "alice" {\n'
        '  user   = "alice"\n'
        "  groups = [aws_iam_group.developers.name]\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups_manage_attach-policy.html",
    )
    compliance = (
        Control("aws-fsbp", "IAM.2"),
        Control("cis-aws-3.0", "1.15"),
        Control("cis-aws-4.0.1", "1.15"),
    )
    api_calls = ("iam:ListUsers", "iam:ListAttachedUserPolicies", "iam:ListUserPolicies")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(user: User) -> Iterator[Finding]:
            attached = [arn.rsplit("/", 1)[-1] for arn in attached_user_policy_arns(ctx, user.name)]
            inline = list(inline_user_policy_names(ctx, user.name))
            evidence = {"attached_policies": attached, "inline_policies": inline}
            if attached or inline:
                yield ctx.failed(user.resource, f"IAM user {user.name} has policies of its own "
                                                f"({len(attached)} attached, {len(inline)} inline).", evidence)
            else:
                yield ctx.passed(user.resource, f"IAM user {user.name} has no policies of its own.", evidence)

        yield from ctx.each(users(ctx), evaluate_one)


class IamSupportRoleCreated(Check):
    """During an incident someone must be able to open and follow AWS Support cases without using the root user
    or an administrator. CIS asks for a role holding the AWS managed policy AWSSupportAccess."""

    id = "iam_support_role_created"
    service = "iam"
    severity = Severity.LOW
    title = "A role holds the AWSSupportAccess policy"
    risk = "Without a support role, incident handlers need broader access, or the root user, to reach AWS Support."
    remediation = Remediation(
        text="Create a role that your incident responders can assume and attach AWSSupportAccess to it.",
        cli="aws iam attach-role-policy --role-name <support-role> "
        "--policy-arn arn:aws:iam::aws:policy/AWSSupportAccess",
        terraform='resource "aws_iam_role" "support" {\n'
        '  name = "${var.project}-support-role"\n\n'
        "  assume_role_policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Action = "sts:AssumeRole"\n'
        '      Effect = "Allow"\n'
        "      Principal = {\n"
        '        AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"\n'
        "      }\n"
        "    }]\n"
        "  })\n"
        "}\n\n"
        'resource "aws_iam_role_policy_attachment" "support" {\n'
        "  role       = aws_iam_role.support.name\n"
        '  policy_arn = "arn:aws:iam::aws:policy/AWSSupportAccess"\n'
        "}",
        url="https://docs.aws.amazon.com/awssupport/latest/user/accessing-support.html",
    )
    compliance = (
        Control("aws-securityhub", "IAM.18"),
        Control("cis-aws-3.0", "1.17"),
        Control("cis-aws-4.0.1", "1.17"),
    )
    api_calls = ("iam:ListEntitiesForPolicy",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        account = ctx.account_resource()
        roles = [h.name for h in policy_holders(ctx, aws_managed_policy_arn(ctx, SUPPORT_POLICY)) if h.kind == "role"]
        if roles:
            yield ctx.passed(account, f"Account {ctx.account} has a support role ({', '.join(roles)}).",
                             {"support_roles": roles})
        else:
            yield ctx.failed(account, f"Account {ctx.account} has no role with the {SUPPORT_POLICY} policy.",
                             {"support_roles": []})


class IamServerCertificateNotExpired(Check):
    """An expired certificate stored in IAM serves no purpose but can still be deployed by mistake to a load
    balancer or CloudFront, breaking TLS for its clients. Expired certificates are deleted."""

    id = "iam_server_certificate_not_expired"
    service = "iam"
    severity = Severity.MEDIUM
    title = "Server certificates stored in IAM have not expired"
    risk = "An expired certificate can be deployed by mistake and break TLS for clients."
    remediation = Remediation(
        text="Delete expired server certificates from IAM; prefer AWS Certificate Manager, which renews them.",
        cli="aws iam delete-server-certificate --server-certificate-name <certificate-name>",
        terraform='resource "aws_acm_certificate" "app" {\n'
        "  domain_name       = var.domain_name\n"
        '  validation_method = "DNS"\n\n'
        '  tags = merge(local.common_tags, { Name = "${var.project}-cert" })\n'
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_server-certs.html",
    )
    compliance = (
        Control("aws-securityhub", "IAM.26"),
        Control("cis-aws-3.0", "1.19"),
        Control("cis-aws-4.0.1", "1.19"),
    )
    api_calls = ("iam:ListServerCertificates",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for certificate in server_certificates(ctx):
            expiration = certificate.expiration
            evidence = {"expiration": expiration.isoformat() if expiration else None}
            if expiration is None:
                yield ctx.error(certificate.resource, f"IAM did not report when server certificate "
                                                      f"{certificate.name} expires.", evidence)
            elif expiration <= ctx.now:
                yield ctx.failed(certificate.resource, f"Server certificate {certificate.name} expired on "
                                                       f"{expiration.date().isoformat()}.", evidence)
            else:
                yield ctx.passed(certificate.resource, f"Server certificate {certificate.name} is valid until "
                                                       f"{expiration.date().isoformat()}.", evidence)


class IamCloudshellFullAccessNotAttached(Check):
    """AWSCloudShellFullAccess lets its holder upload and download files to and from CloudShell, a path out of
    the account for data that bypasses other controls. Each user, group or role holding it fails; an account
    where nobody holds it passes."""

    id = "iam_cloudshell_full_access_not_attached"
    service = "iam"
    severity = Severity.MEDIUM
    title = "No IAM identity holds the AWSCloudShellFullAccess policy"
    risk = "CloudShell file transfer offers a way to move data out of the account."
    remediation = Remediation(
        text="Detach AWSCloudShellFullAccess; grant only the CloudShell actions needed, without file upload and "
        "download (cloudshell:PutCredentials, cloudshell:GetFileDownloadUrls, cloudshell:GetFileUploadUrls).",
        cli="aws iam detach-role-policy --role-name <role> "
        "--policy-arn arn:aws:iam::aws:policy/AWSCloudShellFullAccess",
        terraform='resource "aws_iam_policy" "cloudshell_no_files" {\n'
        '  name = "${var.project}-cloudshell-no-files"\n\n'
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Sid      = "DenyCloudShellFileTransfer"\n'
        '      Effect   = "Deny"\n'
        '      Action   = ["cloudshell:GetFileDownloadUrls", "cloudshell:GetFileUploadUrls"]\n'
        '      Resource = "*"\n'
        "    }]\n"
        "  })\n"
        "}",
        url="https://docs.aws.amazon.com/cloudshell/latest/userguide/sec-auth-with-identities.html",
    )
    compliance = (
        Control("aws-securityhub", "IAM.27"),
        Control("cis-aws-3.0", "1.22"),
        Control("cis-aws-4.0.1", "1.22"),
    )
    api_calls = ("iam:ListEntitiesForPolicy",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        holders = policy_holders(ctx, aws_managed_policy_arn(ctx, CLOUDSHELL_POLICY))
        for holder in holders:
            yield ctx.failed(holder.resource, f"IAM {holder.kind} {holder.name} has the {CLOUDSHELL_POLICY} policy "
                                              "attached.", {"policy": CLOUDSHELL_POLICY})
        if not holders:
            yield ctx.passed(ctx.account_resource(), f"No IAM identity in account {ctx.account} has the "
                                                     f"{CLOUDSHELL_POLICY} policy attached.", {"holders": []})


class IamInstanceRoleAttached(Check):
    """Software on an EC2 instance that calls AWS needs credentials. An instance profile gives it a role's
    temporary credentials, rotated automatically; without one, access keys end up in files, environment
    variables or user data on the instance, where they live long and leak easily. Each running or stopped
    instance without an instance profile fails."""

    id = "iam_instance_role_attached"
    service = "iam"
    severity = Severity.MEDIUM
    title = "EC2 instances use an IAM instance role for AWS access"
    risk = "Instances without a role tend to carry long-lived access keys on disk or in user data."
    remediation = Remediation(
        text="Create an instance profile for a role holding the permissions the instance's software needs, "
        "associate it with the instance and remove any access keys stored on it.",
        cli="aws ec2 associate-iam-instance-profile --instance-id <instance-id> "
        "--iam-instance-profile Name=<instance-profile-name>",
        terraform='resource "aws_iam_role" "ec2_app" {\n'
        '  name = "${var.project}-ec2-app-role"\n\n'
        "  assume_role_policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Action = "sts:AssumeRole"\n'
        '      Effect = "Allow"\n'
        "      Principal = {\n"
        '        Service = "ec2.amazonaws.com"\n'
        "      }\n"
        "    }]\n"
        "  })\n"
        "}\n\n"
        'resource "aws_iam_instance_profile" "ec2_app" {\n'
        '  name = "${var.project}-ec2-app"\n'
        "  role = aws_iam_role.ec2_app.name\n"
        "}\n\n"
        'resource "aws_instance" "app" {\n'
        "  # ...\n"
        "  iam_instance_profile = aws_iam_instance_profile.ec2_app.name\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html",
    )
    compliance = (Control("cis-aws-3.0", "1.18"), Control("cis-aws-4.0.1", "1.18"))
    api_calls = ("ec2:DescribeInstances",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for instance in instance_roles(ctx):
            label = f"{instance.instance_id} ({instance.name})" if instance.name else instance.instance_id
            profile = instance.instance_profile_arn
            if profile:
                yield ctx.passed(instance.resource, f"EC2 instance {label} runs with instance profile "
                                                    f"{profile.rsplit('/', 1)[-1]}.", {"instance_profile": profile})
            else:
                yield ctx.failed(instance.resource, f"EC2 instance {label} has no IAM instance profile.",
                                 {"instance_profile": None})
