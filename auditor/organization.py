"""Auditing an AWS Organization: the member accounts to audit, and a session in each.

The management (or delegated administrator) credentials list the organization's accounts — active ones only,
optionally one OU and its children, a chosen list, minus exclusions — and assume a named role in each. An
account whose role cannot be assumed is not dropped: it becomes a `Target` with the reason, and the engine
reports ERROR rows for it.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import ConfigError, CredentialsError
from .session import AwsSession


@dataclass(frozen=True)
class OrgOptions:
    role_name: str
    external_id: str | None = None
    accounts: tuple[str, ...] = ()  # only these (default: every active account)
    ou: str | None = None  # only accounts under this OU (recursively)
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    account: str
    session: AwsSession | None  # None: the account could not be entered
    problem: str = ""
    code: str = ""


def _pages(session: AwsSession, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    client = session.client("organizations", session.home_region)
    try:
        return client.get_paginator(operation).paginate(**params).build_full_result().get(key, [])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        action = "organizations:" + "".join(p.capitalize() for p in operation.split("_"))
        raise ConfigError(f"cannot list the organization's accounts ({action}: {code}); "
                          "run from the management or a delegated administrator account") from None


def _accounts_under(session: AwsSession, parent: str) -> list[dict[str, Any]]:
    accounts = _pages(session, "list_accounts_for_parent", "Accounts", ParentId=parent)
    for ou in _pages(session, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent):
        accounts += _accounts_under(session, ou["Id"])
    return accounts


def _active(account: dict[str, Any]) -> bool:
    return account.get("State", account.get("Status", "ACTIVE")) == "ACTIVE"


def member_accounts(session: AwsSession, options: OrgOptions) -> list[str]:
    listed = _accounts_under(session, options.ou) if options.ou else _pages(session, "list_accounts", "Accounts")
    ids = [a["Id"] for a in listed if _active(a)]
    if options.accounts:
        unknown = sorted(set(options.accounts) - {a["Id"] for a in listed})
        if unknown:
            raise ConfigError(f"account(s) {', '.join(unknown)} are not in the organization"
                              + (f" under {options.ou}" if options.ou else ""))
        ids = [i for i in ids if i in options.accounts]
    return sorted(i for i in ids if i not in options.exclude)


def targets(session: AwsSession, options: OrgOptions, threads: int = 8) -> list[Target]:
    """A session per member account, assumed in parallel; the caller's own account uses the caller's session."""
    partition = session.identity.partition

    def enter(account: str) -> Target:
        if account == session.identity.account:
            return Target(account, session)
        role = f"arn:{partition}:iam::{account}:role/{options.role_name}"
        try:
            return Target(account, session.assume(role, options.external_id))
        except CredentialsError as exc:
            code = str(exc).rsplit(": ", 1)[-1]
            return Target(account, None, str(exc), code)
        except (ClientError, BotoCoreError) as exc:  # pragma: no cover - defensive
            return Target(account, None, f"cannot audit {account}: {exc}", type(exc).__name__)

    accounts = member_accounts(session, options)
    if not accounts:
        raise ConfigError("the organization selection matches no active account")
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="aws-audit-org") as pool:
        return list(pool.map(enter, accounts))
