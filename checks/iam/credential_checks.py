"""IAM credential checks: idle passwords and access keys, MFA for every user, application users, root user use.

All but one read the IAM credential report, generated once per run and shared (`credential_report`). IAM
regenerates the report at most every four hours, so a change made since its generation time shows in the next
report; findings carry that time as `report_generated`.
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity

from .resources import (
    CREDENTIAL_REPORT_WAIT,
    CredentialReport,
    CredentialReportRow,
    User,
    access_keys,
    credential_report,
    users,
)

UNUSED_MAX_DAYS = "iam.unused_credentials_max_days"
INACTIVE_MAX_DAYS = "iam.inactive_credentials_max_days"
APPLICATION_KEY_MAX_IDLE_DAYS = "iam.application_key_max_idle_days"
ROOT_RECENT_USE_DAYS = "iam.root_recent_use_days"
REPORT_CALLS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")

APP_ROLE_TERRAFORM = (
    "# Applications: an IAM role (temporary credentials) instead of a user's access key\n"
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
    "}"
)


def _generated(report: CredentialReport) -> str | None:
    return report.generated.isoformat() if report.generated else None


class _IdleCredentials(Check):
    """Base of the idle-credential checks: a user fails when a password or active key is idle too long."""

    service = "iam"
    severity = Severity.MEDIUM
    api_calls = REPORT_CALLS
    scope = Scope.GLOBAL
    threshold: ClassVar[str]  # the parameter holding the maximum idle days

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        max_days = int(ctx.param(self.threshold))
        report = credential_report(ctx)
        for row in report.users:
            credentials = row.credentials
            if not credentials:
                continue  # nothing enabled, nothing idle
            evidence: dict[str, Any] = {
                "max_idle_days": max_days,
                "credentials": [c.evidence(ctx.now) for c in credentials],
                "report_generated": _generated(report),
            }
            idle = [c for c in credentials if (c.idle_days(ctx.now) or 0) >= max_days]
            if idle:
                names = ", ".join(f"{c.label} ({c.idle_days(ctx.now)} days)" for c in idle)
                yield ctx.failed(row.resource, f"IAM user {row.user} has credentials unused for {max_days} days "
                                               f"or more: {names}.", evidence)
            else:
                yield ctx.passed(row.resource, f"IAM user {row.user} has no credential unused for {max_days} days "
                                               f"or more.", evidence)


class IamUserUnusedCredentialsRemoved(_IdleCredentials):
    """A password or access key nobody uses still opens the account to whoever finds it, and its owner will not
    notice it being abused. Credentials unused for 90 days (a parameter) are removed. A credential that was
    never used counts as idle since it was set (the password's last change, the key's creation)."""

    id = "iam_user_unused_credentials_removed"
    title = "IAM users have no credentials left unused"
    risk = "Forgotten passwords and keys can be used by an attacker without their owner noticing."
    remediation = Remediation(
        text="Delete the console password (login profile) and deactivate, then delete, each access key that has "
        "not been used within the period; give applications IAM roles instead of keys.",
        cli="aws iam delete-login-profile --user-name <user> && "
        "aws iam update-access-key --user-name <user> --access-key-id <access-key-id> --status Inactive",
        terraform=APP_ROLE_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html",
    )
    compliance = (Control("aws-fsbp", "IAM.8"),)
    parameters = (UNUSED_MAX_DAYS, CREDENTIAL_REPORT_WAIT)
    threshold = UNUSED_MAX_DAYS


class IamUserInactiveCredentialsDisabled(_IdleCredentials):
    """CIS asks that credentials unused for 45 days (a parameter) be disabled: a console password removed, an
    access key deactivated. Idle credentials are those most likely to be forgotten and leaked unnoticed."""

    id = "iam_user_inactive_credentials_disabled"
    title = "IAM user credentials unused for 45 days are disabled"
    risk = "Credentials nobody uses stay valid for an attacker who finds them."
    remediation = Remediation(
        text="Remove the console password and deactivate each access key unused within the period.",
        cli="aws iam update-access-key --user-name <user> --access-key-id <access-key-id> --status Inactive",
        terraform=APP_ROLE_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html",
    )
    compliance = (
        Control("aws-securityhub", "IAM.22"),
        Control("cis-aws-3.0", "1.12"),
        Control("cis-aws-4.0.1", "1.12"),
    )
    parameters = (INACTIVE_MAX_DAYS, CREDENTIAL_REPORT_WAIT)
    threshold = INACTIVE_MAX_DAYS


class IamUserMfaEnabled(Check):
    """MFA for every IAM user, not only those with a console password: a user without a password today can be
    given one tomorrow, and MFA lets policies require `aws:MultiFactorAuthPresent` for sensitive API calls."""

    id = "iam_user_mfa_enabled"
    service = "iam"
    severity = Severity.MEDIUM
    title = "Every IAM user has MFA enabled"
    risk = "A user without MFA is protected by a single secret."
    remediation = Remediation(
        text="Assign an MFA device to every IAM user; prefer roles for workloads and federated sign-in for people.",
        cli="aws iam create-virtual-mfa-device --virtual-mfa-device-name <user> --outfile qr.png "
        "--bootstrap-method QRCodePNG && aws iam enable-mfa-device --user-name <user> "
        "--serial-number arn:aws:iam::<account-id>:mfa/<user> "
        "--authentication-code1 <code1> --authentication-code2 <code2>",
        terraform='resource "aws_iam_virtual_mfa_device" "user" {\n'
        '  virtual_mfa_device_name = "${var.project}-${var.user_name}"\n'
        "}\n\n"
        "# Then enable it for the user (needs two codes from the device):\n"
        "#   aws iam enable-mfa-device --user-name <user> --serial-number <arn> ...",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html",
    )
    compliance = (Control("aws-securityhub", "IAM.19"),)
    api_calls = REPORT_CALLS
    scope = Scope.GLOBAL
    parameters = (CREDENTIAL_REPORT_WAIT,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        report = credential_report(ctx)
        for row in report.users:
            evidence = {"mfa_active": row.mfa_active, "report_generated": _generated(report)}
            if row.mfa_active:
                yield ctx.passed(row.resource, f"IAM user {row.user} has MFA enabled.", evidence)
            else:
                yield ctx.failed(row.resource, f"IAM user {row.user} has no MFA device.", evidence)


class IamConsoleUserUnusedAccessKeysAbsent(Check):
    """The console creates an access key for a new user only when asked to; CIS asks that people who sign in to
    the console not be given access keys "just in case". An active key that a console user has never used is
    such a key: a second secret that nobody needs. Users with a console password and active keys are evaluated."""

    id = "iam_console_user_unused_access_keys_absent"
    service = "iam"
    severity = Severity.LOW
    title = "IAM users with a console password have no never-used access keys"
    risk = "An unneeded access key is one more long-lived secret that can leak."
    remediation = Remediation(
        text="Delete access keys that console users have never used; create keys only when a user needs them.",
        cli="aws iam delete-access-key --user-name <user> --access-key-id <access-key-id>",
        terraform="# Create aws_iam_access_key resources only for users that need programmatic access;\n"
        "# give applications an IAM role instead.\n" + APP_ROLE_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    )
    compliance = (Control("cis-aws-3.0", "1.11"), Control("cis-aws-4.0.1", "1.11"))
    api_calls = REPORT_CALLS
    scope = Scope.GLOBAL
    parameters = (CREDENTIAL_REPORT_WAIT,)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        report = credential_report(ctx)
        for row in report.users:
            if not (row.password_enabled and row.access_keys):
                continue
            never_used = [k.kind for k in row.access_keys if k.last_used is None]
            evidence = {"password_enabled": True, "active_keys": [k.kind for k in row.access_keys],
                        "never_used": never_used, "report_generated": _generated(report)}
            if never_used:
                yield ctx.failed(row.resource, f"IAM user {row.user} has a console password and an active access "
                                               f"key that was never used ({', '.join(never_used)}).", evidence)
            else:
                yield ctx.passed(row.resource, f"IAM user {row.user} has used each of its active access keys.",
                                 evidence)


class IamApplicationUserKeysInUse(Check):
    """The seed guide's rule: IAM roles, not users, for applications. A user with active access keys and no
    console password is an application's identity; a role would give that application temporary credentials
    instead of a key that lives until someone rotates it. Each such user is reported as an application user;
    it fails when its keys have been idle for 90 days (a parameter), since the application has then most likely
    gone and left a working key behind."""

    id = "iam_application_user_keys_in_use"
    service = "iam"
    severity = Severity.LOW
    title = "IAM users used by applications have no idle access keys"
    risk = "Long-lived keys of application users outlive the application and can leak from code or CI systems."
    remediation = Remediation(
        text="Give the application an IAM role (an ECS task role, an EC2 instance profile, a Lambda execution "
        "role, or a role assumed through OIDC from CI), then deactivate and delete the user's access keys.",
        cli="aws iam update-access-key --user-name <user> --access-key-id <access-key-id> --status Inactive",
        terraform=APP_ROLE_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles",
    )
    api_calls = REPORT_CALLS
    scope = Scope.GLOBAL
    parameters = (APPLICATION_KEY_MAX_IDLE_DAYS, CREDENTIAL_REPORT_WAIT)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        max_days = int(ctx.param(APPLICATION_KEY_MAX_IDLE_DAYS))
        report = credential_report(ctx)
        for row in report.users:
            if not row.application_user:
                continue
            evidence = {
                "application_user": True,
                "recommendation": "use an IAM role instead of access keys",
                "max_idle_days": max_days,
                "active_keys": [k.evidence(ctx.now) for k in row.access_keys],
                "report_generated": _generated(report),
            }
            idle = [k for k in row.access_keys if (k.idle_days(ctx.now) or 0) >= max_days]
            if idle:
                names = ", ".join(f"{k.label} ({k.idle_days(ctx.now)} days)" for k in idle)
                yield ctx.failed(row.resource, f"Application user {row.user} has access keys unused for "
                                               f"{max_days} days or more ({names}); use an IAM role instead.",
                                 evidence)
            else:
                yield ctx.passed(row.resource, f"Application user {row.user} has no access key idle for {max_days} "
                                               f"days or more; an IAM role would give it temporary credentials "
                                               f"instead.", evidence)


class IamRootUserNotUsedRecently(Check):
    """The root user is for the few tasks only it can do (closing the account, changing its support plan,
    restoring an IAM administrator). Using it for daily work multiplies the chances that its unrestricted power
    leaks. The credential report's root row tells when its password and access keys were last used; use within
    the last 30 days (a parameter) fails. AWS always writes the root row; the report of a simulator that lacks
    it yields no finding."""

    id = "iam_root_user_not_used_recently"
    service = "iam"
    severity = Severity.MEDIUM
    title = "The root user has not been used recently"
    risk = "Daily use of the root user exposes unrestricted, unrestrictable credentials."
    remediation = Remediation(
        text="Give administrators IAM Identity Center or IAM role access, lock the root credentials away with "
        "hardware MFA, and alarm on root sign-ins (CloudWatch metric filter on userIdentity.type = Root).",
        cli="",
        terraform='resource "aws_cloudwatch_log_metric_filter" "root_usage" {\n'
        '  name           = "${var.project}-root-usage"\n'
        "  log_group_name = aws_cloudwatch_log_group.cloudtrail.name\n"
        '  pattern        = "{ $.userIdentity.type = \\"Root\\" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != \\"AwsServiceEvent\\" }"\n\n'
        "  metric_transformation {\n"
        '    name      = "RootUsage"\n'
        '    namespace = "CISBenchmark"\n'
        '    value     = "1"\n'
        "  }\n"
        "}",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-tasks.html",
    )
    compliance = (Control("cis-aws-3.0", "1.7"), Control("cis-aws-4.0.1", "1.7"))
    api_calls = REPORT_CALLS
    scope = Scope.GLOBAL
    parameters = (ROOT_RECENT_USE_DAYS, CREDENTIAL_REPORT_WAIT)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        days = int(ctx.param(ROOT_RECENT_USE_DAYS))
        report = credential_report(ctx)
        root: CredentialReportRow | None = report.root
        if root is None:
            return
        account = ctx.account_resource()
        last = root.last_activity()
        evidence = {
            # not "password_...": evidence keys that look like secrets are redacted
            "console_last_used": root.password_last_used.isoformat() if root.password_last_used else None,
            "access_keys_last_used": [d.isoformat() for d in root.keys_last_used],
            "recent_use_days": days,
            "report_generated": _generated(report),
        }
        if last is not None and (ctx.now - last).days < days:
            yield ctx.failed(account, f"The root user of account {ctx.account} was used "
                                      f"{(ctx.now - last).days} days ago ({last.date().isoformat()}).", evidence)
        else:
            when = f"last on {last.date().isoformat()}" if last else "no use on record"
            yield ctx.passed(account, f"The root user of account {ctx.account} has not been used in the last "
                                      f"{days} days ({when}).", evidence)


class IamUserSingleActiveAccessKey(Check):
    """Two active access keys are needed only for the minutes of a rotation. A user that keeps two has twice the
    secrets to leak, and usually one of them is forgotten. Users with active keys are evaluated."""

    id = "iam_user_single_active_access_key"
    service = "iam"
    severity = Severity.MEDIUM
    title = "IAM users have at most one active access key"
    risk = "A second, forgotten active key can leak and stay valid unnoticed."
    remediation = Remediation(
        text="Find which key the user's software uses (iam get-access-key-last-used), then deactivate and "
        "delete the other.",
        cli="aws iam update-access-key --user-name <user> --access-key-id <unused-key-id> --status Inactive",
        terraform=APP_ROLE_TERRAFORM,
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/id-credentials-access-keys-update.html",
    )
    compliance = (Control("cis-aws-3.0", "1.13"), Control("cis-aws-4.0.1", "1.13"))
    api_calls = ("iam:ListUsers", "iam:ListAccessKeys")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_one(user: User) -> Iterator[Finding]:
            active = [k for k in access_keys(ctx, user.name) if k.active]
            if not active:
                return
            evidence = {"active_keys": [k.masked_id for k in active]}
            if len(active) > 1:
                yield ctx.failed(user.resource, f"IAM user {user.name} has {len(active)} active access keys.",
                                 evidence)
            else:
                yield ctx.passed(user.resource, f"IAM user {user.name} has one active access key.", evidence)

        yield from ctx.each(users(ctx), evaluate_one)
