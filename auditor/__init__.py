"""aws-audit: a read-only auditor for live AWS accounts.

The public API, for check authors and for programs that run audits:

- `Check`, `CheckContext`, `collector`: write a check (see `checks/` for the built-in ones).
- `Status`, `Severity`, `Category`, `Scope`, `Control`, `Remediation`, `Resource`, `Finding`, `AuditRun`: the model.
- `AuditConfig`, `Selection`, `Parameters`: what to audit and how.
- `run_audit(config)`: audit the account and return an `AuditRun`.
"""
__version__ = "0.1.0"

from .check import Check, CheckContext, collector  # noqa: E402
from .config import AuditConfig, Parameters, Selection  # noqa: E402
from .engine import run_audit  # noqa: E402
from .errors import AuditError, ConfigError, CredentialsError, DataUnavailable, ExitCode  # noqa: E402
from .models import (  # noqa: E402
    AuditRun,
    Category,
    Control,
    Finding,
    Remediation,
    Resource,
    Scope,
    Severity,
    Status,
)

__all__ = [
    "__version__",
    "AuditConfig",
    "AuditError",
    "AuditRun",
    "Category",
    "Check",
    "CheckContext",
    "ConfigError",
    "Control",
    "CredentialsError",
    "DataUnavailable",
    "ExitCode",
    "Finding",
    "Parameters",
    "Remediation",
    "Resource",
    "Scope",
    "Selection",
    "Severity",
    "Status",
    "collector",
    "run_audit",
]
