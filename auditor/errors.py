"""Exceptions the engine raises, and the exit codes the CLI maps them to."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented in the README. Precedence when several apply: USAGE > FAILED > INCOMPLETE > OK."""

    OK = 0
    FAILED = 1  # a non-muted FAIL at or above --fail-on
    USAGE = 2  # bad flag, unknown check/region, unreadable config, no credentials, unknown profile
    INCOMPLETE = 3  # the audit completed but some checks are ERROR


class AuditError(Exception):
    """A problem the user can fix: reported as one line, exit code 2, never a traceback."""


class ConfigError(AuditError):
    pass


class CredentialsError(AuditError):
    pass


class PluginError(AuditError):
    pass


class ReadOnlyViolation(RuntimeError):
    """An operation that is not a read was about to be sent. This is a bug, never a user error."""


class DataUnavailable(Exception):
    """An AWS read failed in a way that means 'could not read', not 'not configured'."""

    def __init__(self, error: "ApiError") -> None:  # noqa: F821 - imported lazily to avoid a cycle
        self.error = error
        super().__init__(
            f"{error.iam_action} failed in {error.region}: {error.code}"
            + (f" ({error.message})" if error.message else "")
        )
