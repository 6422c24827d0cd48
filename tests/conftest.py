"""Test set-up shared by the whole suite.

- No test reaches the network: a guard fails any connection that is not to the loopback interface.
- No credentials are needed: fake ones are set before boto3 is imported anywhere.
- Speed: one boto3 Session is shared by every test (creating clients from a new Session costs ~100-300 ms),
  moto keeps it between tests, and its ~1,300 sample AMIs per region are not loaded.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any, Iterator

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    MOTO_EC2_LOAD_DEFAULT_AMIS="false",
)
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_var, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from auditor import AuditConfig, AuditRun, Finding, Parameters, Status, run_audit  # noqa: E402
from auditor.registry import load_checks  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
BOTO = boto3.Session(region_name=REGION)


# -- the network guard ---------------------------------------------------------------------------------------
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):  # type: ignore[no-untyped-def]
    def connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"tests may not reach the network: connection to {address!r} refused")
        return real(self, address)

    return connect


socket.socket.connect = _guarded(_real_connect)  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded(_real_connect_ex)  # type: ignore[method-assign]


# -- moto and the engine ---------------------------------------------------------------------------------------
@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    """A fresh simulated account; yields the shared boto3 Session to seed it with."""
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield BOTO


ALL_CHECKS = load_checks()

# -- the FAIL / PASS / no-resources contract -------------------------------------------------------------------
# Every check must be seen, through the real engine, making a FAIL, making a PASS, and running on an account
# without its resources (zero findings, or for account- and region-level checks only account findings).
# Checked at the end of any session that ran all of tests/checks without deselection.
REQUIRED_OUTCOMES = frozenset({"FAIL", "PASS", "no-resources"})
OBSERVED: dict[str, set[str]] = {check_id: set() for check_id in ALL_CHECKS}
_DESELECTED: list[Any] = []


def _observe(run: AuditRun, checks: list[Any]) -> None:
    for check in checks:
        mine = [f for f in run.findings if f.check_id == check.id]
        seen = OBSERVED.setdefault(check.id, set())
        seen.update(f.status.value for f in mine)
        if all(f.resource.type == "AWS::::Account" and f.status is not Status.ERROR for f in mine):
            seen.add("no-resources")


def pytest_deselected(items: list[Any]) -> None:
    _DESELECTED.extend(items)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    import pathlib

    check_tests = {p.name for p in (pathlib.Path(__file__).parent / "checks").glob("test_*.py")}
    ran = {pathlib.Path(str(item.fspath)).name for item in session.items if "/checks/" in str(item.fspath)}
    if _DESELECTED or not check_tests or ran != check_tests:
        return
    missing = {cid: sorted(REQUIRED_OUTCOMES - seen) for cid, seen in OBSERVED.items() if REQUIRED_OUTCOMES - seen}
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"  {cid}: never seen {', '.join(outcomes)}" for cid, outcomes in sorted(missing.items())]
        text = "check contract broken (each check needs a FAIL, a PASS and a no-resources test):\n" + "\n".join(lines)
        if reporter:
            reporter.write_line(text, red=True)
        session.exitstatus = 1


class Audit:
    """Runs the real engine on the simulated account."""

    def __call__(
        self,
        *check_ids: str,
        regions: tuple[str, ...] = (REGION,),
        params: dict[str, Any] | None = None,
        workers: int = 4,
    ) -> AuditRun:
        checks = [ALL_CHECKS[c] for c in check_ids] if check_ids else list(ALL_CHECKS.values())
        parameters = Parameters.load()
        if params:
            parameters = Parameters({**parameters.values, **params})
        config = AuditConfig(regions=regions, parameters=parameters, workers=workers, max_attempts=2)
        run = run_audit(config, boto_session=BOTO, checks=checks)
        _observe(run, checks)
        return run

    @staticmethod
    def by_status(run: AuditRun, status: Status) -> list[Finding]:
        return [f for f in run.findings if f.status is status]


@pytest.fixture
def audit(aws: boto3.Session) -> Audit:
    return Audit()


def statuses(run: AuditRun) -> dict[str, str]:
    """resource id -> status, for compact assertions."""
    return {f.resource.id: f.status.value for f in run.findings}


# -- fault injection (moto has none) ---------------------------------------------------------------------------
class Faults:
    """Make chosen operations fail the way real AWS does, for every client the audit creates.

    `deny("s3", "GetBucketEncryption")` answers AccessDenied before the request is sent (botocore's
    `before-call`); `throttle(...)` answers a 400 Throttling on every HTTP attempt (`before-send`), so botocore's
    real retries run and give up.
    """

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Any]] = []

    def _register(self, event: str, handler: Any) -> None:
        BOTO.events.register_first(event, handler)
        self._handlers.append((event, handler))

    def deny(self, service: str, operation: str, code: str = "AccessDenied", status: int = 403) -> None:
        from botocore.awsrequest import AWSResponse

        def handler(**_: Any) -> Any:
            body = {"Error": {"Code": code, "Message": f"simulated {code}"}, "ResponseMetadata": {}}
            return AWSResponse("https://simulated", status, {}, None), body

        self._register(f"before-call.{_service_id(service)}.{operation}", handler)

    def throttle(self, service: str, operation: str) -> None:
        from botocore.awsrequest import AWSResponse

        status, headers, body = _throttle_response(BOTO._session.get_service_model(service).protocol)  # noqa: SLF001

        class _Raw:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield body

        def handler(**_: Any) -> Any:
            return AWSResponse("https://simulated", status, headers, _Raw())

        self._register(f"before-send.{_service_id(service)}.{operation}", handler)

    def clear(self) -> None:
        for event, handler in self._handlers:
            BOTO.events.unregister(event, handler)
        self._handlers.clear()


def _throttle_response(protocol: str) -> tuple[int, dict[str, str], bytes]:
    """The throttling answer each AWS protocol really gives."""
    if protocol == "ec2":
        return 503, {}, (b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                         b"<Message>Request limit exceeded.</Message></Error></Errors></Response>")
    if protocol == "query":
        return 400, {}, (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                         b"<Message>Rate exceeded</Message></Error></ErrorResponse>")
    if protocol == "rest-xml":
        return 503, {}, b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
    return 400, {"x-amzn-ErrorType": "ThrottlingException"}, body


def _service_id(service: str) -> str:
    model = BOTO._session.get_service_model(service)  # noqa: SLF001 - the event name uses the service id
    return model.service_id.hyphenize()


@pytest.fixture
def faults(aws: boto3.Session) -> Iterator[Faults]:
    injected = Faults()
    yield injected
    injected.clear()
