"""moto's server on 127.0.0.1 behind a middleware that adds network latency and counts requests.

Used by the benchmark only: `SimulatedAws(latency=0.05)` is a context manager yielding the endpoint URL.
Every request is delayed by `latency` seconds (a round trip to AWS), counted by operation, and fingerprinted
(region, method, path, query, body) so the benchmark can prove that no read is made twice. `throttle_rate`
answers that fraction of requests with a throttling error instead, so retries can be shown to change no result.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import random
import threading
import time
from collections import Counter
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs

from werkzeug.serving import WSGIRequestHandler, make_server

Environ = dict[str, Any]


def _operation(environ: Environ, body: bytes) -> tuple[str, str]:
    """(region, operation) of a signed AWS request, as well as the wire format lets us tell."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    region = service = "?"
    try:
        scope = auth.split("Credential=")[1].split(",")[0].split("/")
        region, service = scope[2], scope[3]
    except IndexError:
        pass
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return region, f"{service}:{target.split('.')[-1]}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action") or parse_qs(body.decode("utf-8", "replace")).get(
        "Action"
    )
    if action:
        return region, f"{service}:{action[0]}"
    path = environ.get("PATH_INFO", "/").strip("/").split("/")
    query = environ.get("QUERY_STRING", "").split("&")[0].split("=")[0]
    return region, f"{service}:{environ['REQUEST_METHOD']} /{path[0] if path else ''}{'?' + query if query else ''}"


class Counting:
    """WSGI middleware: latency, request counting, duplicate detection, optional throttling."""

    def __init__(self, app: Callable[..., Any], latency: float, throttle_rate: float = 0.0, seed: int = 7) -> None:
        self.app = app
        self.latency = latency
        self.throttle_rate = throttle_rate
        self.enabled = False  # seeding runs at full speed; the audit is measured
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.by_operation: Counter[str] = Counter()
        self.fingerprints: Counter[str] = Counter()
        self.fingerprint_operation: dict[str, str] = {}
        self.throttled = 0

    def reset(self) -> None:
        with self._lock:
            self.by_operation.clear()
            self.fingerprints.clear()
            self.throttled = 0

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Any:
        if not self.enabled:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].getvalue()  # the whole body, read by _KeepAlive
        region, operation = _operation(environ, body)
        fingerprint = hashlib.sha1(
            "\x1f".join((region, operation, environ.get("HTTP_X_AMZ_TARGET", ""), environ["REQUEST_METHOD"],
                         environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))).encode() + body
        ).hexdigest()
        time.sleep(self.latency)
        with self._lock:
            throttle = self._random.random() < self.throttle_rate
            if throttle:
                self.throttled += 1
            else:
                self.by_operation[operation] += 1
                self.fingerprints[fingerprint] += 1
                self.fingerprint_operation[fingerprint] = f"{region} {operation}"
        if throttle:
            return _throttle(environ, start_response, operation.split(":")[0])
        return self.app(environ, start_response)

    @property
    def duplicates(self) -> int:
        with self._lock:
            return sum(n - 1 for n in self.fingerprints.values() if n > 1)

    @property
    def duplicated_operations(self) -> dict[str, int]:
        """Requests sent more than once with the same region, path, query and body: operation -> extra sends."""
        with self._lock:
            extra: Counter[str] = Counter()
            for fingerprint, n in self.fingerprints.items():
                if n > 1:
                    extra[self.fingerprint_operation[fingerprint]] += n - 1
            return dict(extra)


# Services whose protocol answers in XML (query, ec2, rest-xml), by signing name; every other one answers JSON.
XML_SERVICES = frozenset({
    "ec2", "s3", "s3express", "iam", "sts", "rds", "elasticloadbalancing", "monitoring", "sns", "sqs",
    "cloudformation", "autoscaling", "elasticache", "redshift", "ses", "route53", "cloudfront",
})


def _throttle(environ: Environ, start_response: Callable[..., Any], service: str) -> list[bytes]:
    """A throttling answer in the wire format of the service's protocol."""
    if service not in XML_SERVICES:
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                           ("x-amzn-ErrorType", "ThrottlingException")])
        return [json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()]
    if service == "ec2":
        start_response("503 Service Unavailable", [("Content-Type", "text/xml")])
        return [b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded."
                b"</Message></Error></Errors></Response>"]
    if service in ("s3", "s3express"):
        start_response("503 Slow Down", [("Content-Type", "application/xml")])
        return [b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"]
    start_response("400 Bad Request", [("Content-Type", "text/xml")])
    return [b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            b"</Error></ErrorResponse>"]


def _dispatcher() -> Any:
    """moto's host dispatcher, with its host -> backend answer remembered. moto works it out anew for every request
    (listing and stat-ing its ~180 package folders each time): at 2,000 requests that is seconds of the simulator's
    CPU, on the same two cores as the audit being measured. The answer for a host never changes."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    class Dispatcher(DomainDispatcherApplication):  # type: ignore[misc]
        known: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self.known:
                self.known[host] = super().get_backend_for_host(host)
            return self.known[host]

    return Dispatcher(create_backend_app)


def _remember_error_shapes() -> None:
    """moto looks up the shape of an error answer by walking every shape of the service's model, anew for each
    error (its lookup cache lives in an object made per call). Per-bucket S3 reads answer NoSuch... errors a lot:
    remember the lookup per service, as moto means to."""
    from moto.core import errors

    shared: dict[str, Any] = {}
    create = errors.ErrorLookupFactory._create_error_lut

    def for_service(self: Any, service_model: Any) -> Any:
        service_id = service_model.metadata.get("serviceId")
        if service_id is None:
            return create(service_model)
        if service_id not in shared:
            shared[service_id] = create(service_model)
        return shared[service_id]

    errors.ErrorLookupFactory.for_service = for_service


class _KeepAlive(WSGIRequestHandler):
    """HTTP/1.1 with persistent connections, as AWS's endpoints speak it.

    werkzeug's development server closes the connection after every answer (it cannot otherwise drain a request body
    the application left unread), so each request of a benchmarked audit would pay a TCP connect, and the simulator
    a new thread, that an audit of a real account does not pay: cost on the same two cores the audit is measured on.
    Here the request body is read whole before the application sees it, and the answer is sent with its length, so
    the connection can carry the next request. werkzeug still builds the WSGI environment."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the head and the body are two writes: the body must not wait for an ACK

    def run_wsgi(self) -> None:
        environ = self.make_environ()
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's reader ends at the last chunk
            body = environ["wsgi.input"].read()
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = self.rfile.read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            answer[:] = [status, headers]
            return chunks.append

        chunks: list[bytes] = []
        result = self.server.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = answer
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        given = {name.lower(): value for name, value in headers}
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        data = b"".join(chunks)
        # A HEAD answer carries the length the GET would have, and no body.
        is_head = self.command == "HEAD"
        self.send_header("Content-Length", given.get("content-length", "0") if is_head else str(len(data)))
        self.end_headers()
        if not is_head:
            self.wfile.write(data)
        self.wfile.flush()

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # a line per request is simulator cost too


class SimulatedAws:
    def __init__(self, latency: float = 0.05, throttle_rate: float = 0.0) -> None:
        # moto otherwise fills every region with Amazon's public AMIs and their snapshots, and answers
        # DescribeSnapshots(OwnerIds=self) with all of them: megabytes AWS would never send this account.
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        _remember_error_shapes()
        self.middleware = Counting(_dispatcher(), latency, throttle_rate)
        self._server = make_server("127.0.0.1", 0, self.middleware, threaded=True, request_handler=_KeepAlive)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "SimulatedAws":
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._thread.join()


def operations(middleware: Counting) -> Iterator[tuple[str, int]]:
    yield from middleware.by_operation.most_common()
