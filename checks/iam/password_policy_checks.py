"""IAM password policy checks: one check per setting, so each control and each fix is plain.

An account without a password policy fails every one of them: IAM then applies only its default rules (8
characters, no character classes required, no expiry, reuse allowed).
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity

from .resources import PasswordPolicy, password_policy

MIN_LENGTH = "iam.password_min_length"
REUSE_PREVENTION = "iam.password_reuse_prevention"
MAX_AGE = "iam.password_max_age_days"
POLICY_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"


def _terraform(setting: str) -> str:
    return (
        'resource "aws_iam_account_password_policy" "strict" {\n'
        "  minimum_password_length        = 14\n"
        "  require_uppercase_characters   = true\n"
        "  require_lowercase_characters   = true\n"
        "  require_numbers                = true\n"
        "  require_symbols                = true\n"
        "  password_reuse_prevention      = 24\n"
        "  max_password_age               = 90\n"
        "  allow_users_to_change_password = true\n"
        f"  # {setting}\n"
        "}"
    )


class _PasswordPolicySetting(Check):
    """Base of the password policy checks: one account-level result, FAIL when there is no policy."""

    service = "iam"
    api_calls = ("iam:GetAccountPasswordPolicy",)
    scope = Scope.GLOBAL
    setting: ClassVar[str]  # what passwords must do, for messages: "contain an uppercase letter"

    def requirement(self, ctx: CheckContext) -> str:
        return self.setting

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        account = ctx.account_resource()
        setting = self.requirement(ctx)
        policy = password_policy(ctx)
        if policy is None:
            yield ctx.failed(account, f"Account {ctx.account} has no IAM password policy, so passwords need not "
                                      f"{setting}.", {"password_policy": None})
            return
        ok, evidence = self.judge(ctx, policy)
        if ok:
            yield ctx.passed(account, f"The IAM password policy of account {ctx.account} requires passwords to "
                                      f"{setting}.", evidence)
        else:
            yield ctx.failed(account, f"The IAM password policy of account {ctx.account} does not require "
                                      f"passwords to {setting}.", evidence)

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        raise NotImplementedError


class IamPasswordPolicyMinLengthSufficient(_PasswordPolicySetting):
    """Every character of length multiplies the work of guessing or cracking a password. CIS asks for at least
    14 characters (the threshold is a parameter); FSBP IAM.7 and PCI DSS ask for less and are met too."""

    id = "iam_password_policy_min_length_sufficient"
    severity = Severity.MEDIUM
    title = "The IAM password policy requires a minimum password length"
    risk = "Short IAM user passwords can be guessed or cracked quickly."
    remediation = Remediation(
        text="Set the account password policy's minimum password length to 14 or more.",
        cli="aws iam update-account-password-policy --minimum-password-length 14",
        terraform=_terraform("minimum_password_length: CIS 1.8"),
        url=POLICY_URL,
    )
    compliance = (
        Control("aws-securityhub", "IAM.15"),
        Control("aws-fsbp", "IAM.7"),
        Control("aws-securityhub", "IAM.10"),
        Control("cis-aws-3.0", "1.8"),
        Control("cis-aws-4.0.1", "1.8"),
    )
    parameters = (MIN_LENGTH,)

    def requirement(self, ctx: CheckContext) -> str:
        return f"have at least {ctx.param(MIN_LENGTH)} characters"

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        required = int(ctx.param(MIN_LENGTH))
        return policy.minimum_length >= required, {"minimum_length": policy.minimum_length, "required": required}


class IamPasswordPolicyReusePrevented(_PasswordPolicySetting):
    """A user made to change a password may otherwise set it back to an old one, perhaps one that leaked.
    Remembering the last 24 passwords (the CIS value; a parameter) stops that."""

    id = "iam_password_policy_reuse_prevented"
    severity = Severity.LOW
    title = "The IAM password policy prevents password reuse"
    risk = "Users can go back to an old, possibly leaked, password."
    remediation = Remediation(
        text="Set the account password policy to remember the last 24 passwords.",
        cli="aws iam update-account-password-policy --password-reuse-prevention 24",
        terraform=_terraform("password_reuse_prevention: CIS 1.9"),
        url=POLICY_URL,
    )
    compliance = (
        Control("aws-securityhub", "IAM.16"),
        Control("aws-securityhub", "IAM.10"),
        Control("cis-aws-3.0", "1.9"),
        Control("cis-aws-4.0.1", "1.9"),
    )
    parameters = (REUSE_PREVENTION,)

    def requirement(self, ctx: CheckContext) -> str:
        return f"differ from the last {ctx.param(REUSE_PREVENTION)} passwords"

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        required = int(ctx.param(REUSE_PREVENTION))
        remembered = policy.reuse_prevention or 0
        return remembered >= required, {"passwords_remembered": remembered, "required": required}


class IamPasswordPolicyUppercaseRequired(_PasswordPolicySetting):
    """Requiring an uppercase letter widens the character set a guesser has to cover."""

    id = "iam_password_policy_uppercase_required"
    severity = Severity.MEDIUM
    title = "The IAM password policy requires an uppercase letter"
    risk = "Passwords drawn from fewer character classes are easier to guess or crack."
    remediation = Remediation(
        text="Require at least one uppercase letter in the account password policy.",
        cli="aws iam update-account-password-policy --require-uppercase-characters",
        terraform=_terraform("require_uppercase_characters"),
        url=POLICY_URL,
    )
    compliance = (Control("aws-securityhub", "IAM.11"), Control("aws-fsbp", "IAM.7"))
    setting = "contain an uppercase letter"

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        return policy.require_uppercase, {"require_uppercase_characters": policy.require_uppercase}


class IamPasswordPolicyLowercaseRequired(_PasswordPolicySetting):
    """Requiring a lowercase letter widens the character set a guesser has to cover."""

    id = "iam_password_policy_lowercase_required"
    severity = Severity.MEDIUM
    title = "The IAM password policy requires a lowercase letter"
    risk = "Passwords drawn from fewer character classes are easier to guess or crack."
    remediation = Remediation(
        text="Require at least one lowercase letter in the account password policy.",
        cli="aws iam update-account-password-policy --require-lowercase-characters",
        terraform=_terraform("require_lowercase_characters"),
        url=POLICY_URL,
    )
    compliance = (Control("aws-securityhub", "IAM.12"), Control("aws-fsbp", "IAM.7"))
    setting = "contain a lowercase letter"

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        return policy.require_lowercase, {"require_lowercase_characters": policy.require_lowercase}


class IamPasswordPolicySymbolRequired(_PasswordPolicySetting):
    """Requiring a symbol widens the character set a guesser has to cover."""

    id = "iam_password_policy_symbol_required"
    severity = Severity.MEDIUM
    title = "The IAM password policy requires a symbol"
    risk = "Passwords drawn from fewer character classes are easier to guess or crack."
    remediation = Remediation(
        text="Require at least one symbol in the account password policy.",
        cli="aws iam update-account-password-policy --require-symbols",
        terraform=_terraform("require_symbols"),
        url=POLICY_URL,
    )
    compliance = (Control("aws-securityhub", "IAM.13"), Control("aws-fsbp", "IAM.7"))
    setting = "contain a symbol"

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        return policy.require_symbols, {"require_symbols": policy.require_symbols}


class IamPasswordPolicyNumberRequired(_PasswordPolicySetting):
    """Requiring a digit widens the character set a guesser has to cover."""

    id = "iam_password_policy_number_required"
    severity = Severity.MEDIUM
    title = "The IAM password policy requires a number"
    risk = "Passwords drawn from fewer character classes are easier to guess or crack."
    remediation = Remediation(
        text="Require at least one number in the account password policy.",
        cli="aws iam update-account-password-policy --require-numbers",
        terraform=_terraform("require_numbers"),
        url=POLICY_URL,
    )
    compliance = (
        Control("aws-securityhub", "IAM.14"),
        Control("aws-fsbp", "IAM.7"),
        Control("aws-securityhub", "IAM.10"),
    )
    setting = "contain a number"

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        return policy.require_numbers, {"require_numbers": policy.require_numbers}


class IamPasswordPolicyMaxAgeLimited(_PasswordPolicySetting):
    """A password that never expires keeps working for whoever learned it, however long ago. PCI DSS and the
    older CIS benchmarks ask for expiry within 90 days (a parameter)."""

    id = "iam_password_policy_max_age_limited"
    severity = Severity.LOW
    title = "The IAM password policy expires passwords"
    risk = "A leaked password keeps working indefinitely."
    remediation = Remediation(
        text="Set the account password policy's maximum password age to 90 days or less.",
        cli="aws iam update-account-password-policy --max-password-age 90",
        terraform=_terraform("max_password_age"),
        url=POLICY_URL,
    )
    compliance = (Control("aws-securityhub", "IAM.17"), Control("aws-securityhub", "IAM.10"))
    parameters = (MAX_AGE,)

    def requirement(self, ctx: CheckContext) -> str:
        return f"expire within {ctx.param(MAX_AGE)} days"

    def judge(self, ctx: CheckContext, policy: PasswordPolicy) -> tuple[bool, dict[str, Any]]:
        limit = int(ctx.param(MAX_AGE))
        age = policy.max_age_days
        return age is not None and age <= limit, {"max_password_age_days": age, "limit_days": limit}
