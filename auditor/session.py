"""The AWS session of one audit: credentials, identity, regions, and one guarded client per service x region."""
from __future__ import annotations

import functools
import ipaddress
import os
import threading
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.session
import botocore.utils
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
    TokenRetrievalError,
)

from . import __version__
from .api import iam_action, is_read_operation
from .config import AuditConfig
from .errors import ConfigError, CredentialsError, ReadOnlyViolation
from .ratelimit import RateLimiter, RequestGate

DEFAULT_REGION = "us-east-1"
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "SlowDown", "RequestThrottled", "PriorRequestNotComplete", "BandwidthLimitExceeded",
    "ProvisionedThroughputExceededException", "EC2ThrottledException", "LimitExceededException",
})


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    partition: str


def _strip_account_host_prefix(request: Any, **_: Any) -> None:
    """S3 Control puts the account id in front of the endpoint host. In front of an IP address (a local simulator
    such as the demo's) that names no host, so it is taken off again before the request is signed."""
    parts = urlsplit(request.url)
    prefix, _, rest = (parts.hostname or "").partition(".")
    if prefix.isdigit() and len(prefix) == 12 and _is_ip(rest):
        netloc = rest + (f":{parts.port}" if parts.port else "")
        request.url = urlunsplit(parts._replace(netloc=netloc))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _session_with(parent: boto3.Session, creds: dict[str, Any], region: str) -> boto3.Session:
    """A session with temporary credentials that shares the parent's loaded service models (loading them
    again costs 100-300 ms per service and the memory twice)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", parent._session.get_component("data_loader"))  # noqa: SLF001
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
        botocore_session=core,
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def parse_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser goes through dateutil for every timestamp of every answer (a launch time per
    instance, a creation date per key...): a tenth of a millisecond each. AWS sends ISO 8601 (query, XML and most
    REST answers) or epoch seconds (JSON protocols), which the standard library reads a hundred times faster;
    anything else (an RFC 822 header date) still goes to botocore's parser."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    try:
        return datetime.fromisoformat(value)  # a value without an offset stays naive, as botocore leaves it
    except (TypeError, ValueError):
        return botocore.utils.parse_timestamp(value)


def _parse_timestamps_fast(boto_session: boto3.Session) -> None:
    # The parser factory is shared by the session's clients: set before the first one is made.
    factory = boto_session._session.get_component("response_parser_factory")  # noqa: SLF001
    factory.set_parser_defaults(timestamp_parser=parse_timestamp)


class AwsSession:
    """Owns every boto3 client of a run. Clients are thread-safe; their creation is serialised here (a boto3
    Session is not), under a lock of its own: the request counters have another, so a client being built never
    holds up the requests already on the wire."""

    def __init__(self, config: AuditConfig, boto_session: boto3.Session | None = None) -> None:
        self._config = config
        self._lock = threading.Lock()  # the counters
        self._client_lock = threading.Lock()
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._requests: Counter[str] = Counter()
        self._throttled = 0
        self.gate = RequestGate(config.workers)
        self.rate_limiter = RateLimiter()
        self._botocore_config = Config(
            retries={"mode": "adaptive", "total_max_attempts": config.max_attempts},
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            user_agent_extra=f"aws-audit/{__version__}",
            # Unit threads and fan-out threads can both be waiting on AWS: room for both.
            max_pool_connections=2 * config.workers + 4,
            # With a custom endpoint (AWS_ENDPOINT_URL: a simulator or a proxy) host prefixes such as
            # s3control's "<account>." would name a host that does not exist.
            inject_host_prefix=not os.environ.get("AWS_ENDPOINT_URL"),
        )
        self._boto = boto_session or self._open(config.profile)
        if config.role_arn:
            self._boto = self._assume_role(config.role_arn, config.external_id)
        _parse_timestamps_fast(self._boto)
        self.identity = self._identify()

    # -- set-up ----------------------------------------------------------------------------------------------
    @staticmethod
    def _open(profile: str | None) -> boto3.Session:
        try:
            return boto3.Session(profile_name=profile)
        except ProfileNotFound:
            raise CredentialsError(f"AWS profile '{profile}' is not configured (see ~/.aws/config)") from None

    @property
    def home_region(self) -> str:
        return self._boto.region_name or DEFAULT_REGION

    def _assume_role(self, role_arn: str, external_id: str | None) -> boto3.Session:
        # AssumeRole changes nothing in the account; it is the one non-read call, made before any audit client.
        sts = self._boto.client("sts", region_name=self.home_region, config=self._botocore_config)
        params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "aws-audit"}
        if external_id:
            params["ExternalId"] = external_id
        try:
            creds = sts.assume_role(**params)["Credentials"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise CredentialsError(f"cannot assume role {role_arn}: {code}") from None
        except (NoCredentialsError, TokenRetrievalError) as exc:
            raise CredentialsError(f"cannot assume role {role_arn}: {_one_line(exc)}") from None
        return _session_with(self._boto, creds, self.home_region)

    def assume(self, role_arn: str, external_id: str | None) -> "AwsSession":
        """An AwsSession in another account (an organization member), through a role this session may assume."""
        child = AwsSession.__new__(AwsSession)
        child._config = replace(self._config, role_arn=None, external_id=None)
        child._lock = threading.Lock()
        child._client_lock = threading.Lock()
        child._clients = {}
        child._requests = Counter()
        child._throttled = 0
        child.gate = self.gate  # one worker budget for every account of the run
        child.rate_limiter = RateLimiter()  # the quotas are per account
        child._botocore_config = self._botocore_config
        child._boto = self._assume_role(role_arn, external_id)
        _parse_timestamps_fast(child._boto)
        child.identity = child._identify()
        return child

    def _identify(self) -> Identity:
        try:
            ident = self.client("sts", self.home_region).get_caller_identity()
        except NoCredentialsError:
            raise CredentialsError(
                "no AWS credentials found: pass --profile, set AWS_PROFILE, or run 'aws sso login'"
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise CredentialsError(f"AWS rejected the credentials ({code})") from None
        except (BotoCoreError, NoRegionError) as exc:
            raise CredentialsError(f"cannot reach AWS STS: {_one_line(exc)}") from None
        arn = ident["Arn"]
        partition = arn.split(":")[1] if arn.startswith("arn:") else "aws"
        return Identity(account=ident["Account"], arn=arn, partition=partition)

    # -- clients ---------------------------------------------------------------------------------------------
    def client(self, service: str, region: str) -> BaseClient:
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._client_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._boto.client(service, region_name=region, config=self._botocore_config)
                client.meta.events.register("before-call", self._guard)
                client.meta.events.register("before-send", self._count)
                if self.rate_limiter.limits(service):
                    client.meta.events.register("before-send", functools.partial(self._pace, service, region))
                client.meta.events.register("needs-retry", self._note_retry)
                # On the wire from the last before-send handler to the answer's arrival (see RequestGate).
                client.meta.events.register_last("before-send", self.gate.enter)
                client.meta.events.register("before-parse", self.gate.leave)
                client.meta.events.register("response-received", self.gate.leave)
                if service == "s3control" and os.environ.get("AWS_ENDPOINT_URL"):
                    client.meta.events.register("before-sign", _strip_account_host_prefix)
                self._clients[key] = client
        return client

    def _guard(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if not is_read_operation(model.name):
            raise ReadOnlyViolation(f"refused {iam_action(service, model.name)}: aws-audit only reads")

    def _count(self, event_name: str, **_: Any) -> None:
        # `before-send.<service-id>.<Operation>` fires per HTTP request, retries included: the real traffic.
        _, service_id, operation = event_name.split(".", 2)
        with self._lock:
            self._requests[f"{service_id}:{operation}"] += 1

    def _pace(self, service: str, region: str, event_name: str, **_: Any) -> None:
        # Every HTTP attempt (pages and retries too) takes a token of the service's published quota.
        self.rate_limiter.acquire(service, region, event_name.rsplit(".", 1)[-1])

    def _note_retry(self, response: Any = None, **_: Any) -> None:
        """Count throttling answers as they happen, so the progress line can say the run is being slowed."""
        if not response:
            return
        code = (response[1] or {}).get("Error", {}).get("Code", "")
        if code in THROTTLING_CODES:
            with self._lock:
                self._throttled += 1

    @property
    def throttled(self) -> int:
        """Requests AWS answered with a throttling error so far (each was retried with backoff)."""
        with self._lock:
            return self._throttled

    @property
    def requests(self) -> dict[str, int]:
        with self._lock:
            return dict(self._requests)

    # -- regions ---------------------------------------------------------------------------------------------
    def known_regions(self) -> set[str]:
        return set(self._boto.get_available_regions("ec2", partition_name=self.identity.partition))

    def enabled_regions(self) -> tuple[str, ...]:
        try:
            answer = self.client("ec2", self.home_region).describe_regions(AllRegions=False)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise ConfigError(
                f"cannot list the account's enabled regions (ec2:DescribeRegions: {code}); pass --region"
            ) from None
        return tuple(sorted(r["RegionName"] for r in answer["Regions"]))

    def resolve_regions(self, requested: tuple[str, ...]) -> tuple[str, ...]:
        if not requested:
            return self.enabled_regions()
        known = self.known_regions()
        unknown = [r for r in requested if r not in known]
        if unknown:
            raise ConfigError(
                f"unknown region {', '.join(unknown)} for partition {self.identity.partition}"
            )
        return tuple(dict.fromkeys(requested))
