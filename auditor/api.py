"""The one gateway to AWS: `ApiCache`.

- Read-only by construction: an operation that is not a read is refused before anything is sent (here, and again
  by a `before-call` hook on every client the session makes, so a client used directly is held to the same rule).
- Memoised and single-flight per (service, region, operation, parameters): ten checks asking for
  `DescribeSecurityGroups` in one region at the same moment cause one paginated request sequence.
- Full pagination through botocore's paginators.
- Error classification in one place: "not configured" codes become `None` (absent); everything else that stops a
  read (AccessDenied, opt-in region, not implemented, throttling that outlived its retries, ...) becomes
  `DataUnavailable` carrying the API, the IAM action and the error code.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Hashable, TypeVar

from botocore import xform_name
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from .errors import DataUnavailable, ReadOnlyViolation
from .models import ApiError

if TYPE_CHECKING:
    from .session import AwsSession

T = TypeVar("T")
log = logging.getLogger("aws_audit.api")

READ_PREFIXES = ("Describe", "List", "Get", "Lookup", "BatchGet")
# Operations outside the read prefixes that change nothing an account owner cares about.
READ_EXCEPTIONS = frozenset({"GenerateCredentialReport"})
# Reads that return secret material or object contents. An auditor has no business holding them.
SECRET_READS = frozenset(
    {
        "GetSecretValue",
        "BatchGetSecretValue",
        "GetParameter",
        "GetParameters",
        "GetParametersByPath",
        "GetParameterHistory",
        "GetPasswordData",
        "GetObject",
        "GetObjectTorrent",
        "GetSessionToken",
        "GetFederationToken",
        "GetAuthorizationToken",
    }
)

# boto3 service name -> IAM service prefix, where they differ.
IAM_PREFIX = {
    "s3control": "s3",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "stepfunctions": "states",
    "efs": "elasticfilesystem",
    "accessanalyzer": "access-analyzer",
}
# (service, operation) -> IAM action name, where the action is not named after the operation.
IAM_ACTION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
    ("s3", "ListDirectoryBuckets"): "s3express:ListAllMyDirectoryBuckets",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("lambda", "ListFunctions"): "lambda:ListFunctions",
    # IAM authorises every AWS Budgets read with one action.
    ("budgets", "DescribeBudgets"): "budgets:ViewBudget",
    ("budgets", "DescribeNotificationsForBudget"): "budgets:ViewBudget",
    ("resourcegroupstaggingapi", "GetResources"): "tag:GetResources",
}

# Error codes that mean "this is not configured": the read worked and the answer is "nothing".
ABSENT_CODES = frozenset(
    {
        "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchPublicAccessBlockConfiguration",
        "NoSuchLifecycleConfiguration",
        "NoSuchTagSet",
        "NoSuchTagSetError",
        "ReplicationConfigurationNotFoundError",
        "ObjectLockConfigurationNotFoundError",
        "NoSuchWebsiteConfiguration",
        "NoSuchCORSConfiguration",
    }
)
# Codes that mean "absent" only for the operations named, because elsewhere they can mean a real failure.
ABSENT_BY_OPERATION: dict[tuple[str, str], frozenset[str]] = {
    ("iam", "GetLoginProfile"): frozenset({"NoSuchEntity"}),
    ("iam", "GetAccountPasswordPolicy"): frozenset({"NoSuchEntity"}),
    # An AWS managed policy missing from a partition (AWSCloudShellFullAccess): nobody can hold it.
    ("iam", "ListEntitiesForPolicy"): frozenset({"NoSuchEntity"}),
    ("lambda", "GetPolicy"): frozenset({"ResourceNotFoundException"}),
    ("securityhub", "DescribeHub"): frozenset({"InvalidAccessException"}),  # "not subscribed to Security Hub"
    ("lambda", "GetFunctionUrlConfig"): frozenset({"ResourceNotFoundException"}),
    # No asynchronous invocation settings on the function (or it was deleted after ListFunctions).
    ("lambda", "GetFunctionEventInvokeConfig"): frozenset({"ResourceNotFoundException"}),
    # An account without budgets answers NotFoundException; a budget deleted after DescribeBudgets likewise.
    ("budgets", "DescribeBudgets"): frozenset({"NotFoundException"}),
    ("budgets", "DescribeNotificationsForBudget"): frozenset({"NotFoundException"}),
    # The cluster was deleted between listing it and listing its services.
    ("ecs", "ListServices"): frozenset({"ClusterNotFoundException"}),
    ("cloudtrail", "GetEventSelectors"): frozenset({"TrailNotFoundException"}),
    # A trail's log group or an alarm's SNS topic that no longer exists has no metric filters or subscribers.
    ("logs", "DescribeMetricFilters"): frozenset({"ResourceNotFoundException"}),
    ("sns", "ListSubscriptionsByTopic"): frozenset({"NotFound"}),
    # A DB (cluster) parameter group that is not there holds no settings: the engine defaults apply.
    ("rds", "DescribeDBParameters"): frozenset({"DBParameterGroupNotFound"}),
    ("rds", "DescribeDBClusterParameters"): frozenset({"DBParameterGroupNotFound"}),
    # No ownership controls: the bucket predates them and uses ACLs (ObjectWriter).
    ("s3", "GetBucketOwnershipControls"): frozenset({"OwnershipControlsNotFoundError"}),
    # Not ready yet: the collector generates the report and polls with fresh=True.
    ("iam", "GetCredentialReport"): frozenset({"ReportNotPresent", "ReportInProgress", "ReportExpired"}),
    # The key was deleted between ListKeys and DescribeKey: there is nothing left to judge.
    ("kms", "DescribeKey"): frozenset({"NotFoundException"}),
}


def is_read_operation(operation: str) -> bool:
    """True when `operation` (an API name such as DescribeInstances) is a read the auditor may make."""
    if operation in SECRET_READS:
        return False
    return operation in READ_EXCEPTIONS or operation.startswith(READ_PREFIXES)


# IAM actions that authorise reads but are not named like one.
READ_ACTIONS = frozenset({"budgets:ViewBudget"})


def is_read_action(action: str) -> bool:
    """The same rule for IAM action names (`ec2:DescribeInstances`)."""
    _, _, name = action.partition(":")
    return action in READ_ACTIONS or (bool(name) and is_read_operation(name))


def iam_action(service: str, operation: str) -> str:
    return IAM_ACTION.get((service, operation)) or f"{IAM_PREFIX.get(service, service)}:{operation}"


def _freeze(value: Any) -> Hashable:
    return json.dumps(value, sort_keys=True, default=str)


class ApiCache:
    """Memoised, single-flight, read-only access to AWS for one audit run."""

    def __init__(self, session: "AwsSession") -> None:
        self._session = session
        self._lock = threading.Lock()
        self._done: dict[Hashable, tuple[bool, Any]] = {}
        self._running: dict[Hashable, threading.Event] = {}
        self._errors: dict[Hashable, ApiError] = {}

    # -- public -----------------------------------------------------------------------------------------------
    def call(
        self, service: str, operation: str, /, region: str, *, fresh: bool = False, **params: Any
    ) -> dict[str, Any] | None:
        """The full (all pages) response of a read, `None` when the thing is not configured.

        Raises `DataUnavailable` when the read could not be made, `ReadOnlyViolation` for any non-read.
        `fresh=True` bypasses the memo, for the rare read that is polled (the IAM credential report).
        """
        if not is_read_operation(operation):
            raise ReadOnlyViolation(f"refused {iam_action(service, operation)}: aws-audit only reads")
        if fresh:
            return self._fetch(service, operation, region, params)
        key = ("call", service, region, operation, _freeze(params))
        return self.memo(key, lambda: self._fetch(service, operation, region, params))

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Run `compute` once per key for the whole run; concurrent callers wait for the first one.

        A finished entry is just its outcome; only entries being computed hold an Event (at 10,000 resources
        there are tens of thousands of entries, and a Future per entry costs more than many answers).
        """
        with self._lock:
            outcome = self._done.get(key)
            if outcome is None:
                waiting = self._running.get(key)
                owner = waiting is None
                if owner:
                    waiting = self._running[key] = threading.Event()
        if outcome is None:
            assert waiting is not None
            if owner:
                try:
                    outcome = (True, compute())
                except BaseException as exc:  # memoise failures too: a denied read is not retried per check
                    outcome = (False, exc)
                with self._lock:
                    self._done[key] = outcome
                    del self._running[key]
                waiting.set()
            else:
                waiting.wait()
                with self._lock:
                    outcome = self._done[key]
        ok, value = outcome
        if not ok:
            raise value
        return value

    @property
    def errors(self) -> tuple[ApiError, ...]:
        with self._lock:
            return tuple(self._errors.values())

    # -- internals --------------------------------------------------------------------------------------------
    def _fetch(self, service: str, operation: str, region: str, params: dict[str, Any]) -> dict[str, Any] | None:
        client = self._session.client(service, region)
        method_name = xform_name(operation)
        if client.meta.method_to_api_mapping.get(method_name) != operation:
            raise ValueError(f"{service} has no operation {operation}")
        started = time.perf_counter()
        try:
            # Each HTTP attempt passes the session's gate (at most `workers` on the wire), in the client's hooks.
            if client.can_paginate(method_name):
                result = client.get_paginator(method_name).paginate(**params).build_full_result()
            else:
                result = getattr(client, method_name)(**params)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", "Unknown"))
            if code in ABSENT_CODES or code in ABSENT_BY_OPERATION.get((service, operation), ()):
                return None
            self._unavailable(service, operation, region, code, str(err.get("Message", "")), params)
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            self._unavailable(service, operation, region, "Timeout", str(exc), params)
        except EndpointConnectionError as exc:
            self._unavailable(service, operation, region, "EndpointConnectionError", str(exc), params)
        except NoCredentialsError as exc:
            self._unavailable(service, operation, region, "NoCredentials", str(exc), params)
        except NotImplementedError as exc:
            self._unavailable(service, operation, region, "NotImplemented", str(exc), params)
        except BotoCoreError as exc:
            self._unavailable(service, operation, region, type(exc).__name__, str(exc), params)
        finally:
            self._session.gate.leave()  # whatever happened inside botocore, this thread keeps no slot
        result.pop("ResponseMetadata", None)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s %s %.3fs", region, iam_action(service, operation), _freeze(params),
                      time.perf_counter() - started)
        return result

    def _unavailable(
        self, service: str, operation: str, region: str, code: str, message: str, params: dict[str, Any]
    ) -> None:
        error = ApiError(
            service=service,
            operation=operation,
            iam_action=iam_action(service, operation),
            region=region,
            code=code,
            message=message[:300],
        )
        with self._lock:
            self._errors[(service, operation, region, code)] = error
        log.debug("%s %s %s could not be read: %s", region, error.iam_action, _freeze(params), code)
        raise DataUnavailable(error)
