"""How fast and how wide the audit talks to AWS: at most `workers` requests in flight, and per service no faster
than the request rates AWS publishes.

Two gates, both passed by every request the engine makes:

- `RequestGate`: a semaphore of `--workers` slots, taken just before each HTTP attempt is sent and given back as
  soon as its answer has arrived. Unit threads and fan-out threads together never have more than `workers`
  requests on the wire, so `requests x latency / workers` is a true lower bound of a run's wall time (the
  benchmark's yardstick). A slot is not held while a request waits for a rate-limit token, sleeps before a retry,
  is signed or parsed, or waits for the CPU: a thread held up there never keeps another request off the wire.
- `RateLimiter.acquire(service, region, operation)`: a token bucket per published quota, taken before each HTTP
  attempt (pages and retries included: AWS counts every one). A request that would exceed the quota waits here
  instead of being throttled and retried; botocore's adaptive retries still handle throttling that comes anyway
  (other clients in the account share the same quotas).

The published quotas (default values, per account and Region):

- EC2: each API has its own bucket; non-mutating (Describe*/Get*) actions hold 100 tokens refilled at 20 per second
  (Amazon EC2 API request throttling, "request token bucket sizes and refill rates").
- Lambda: GetFunction 100 requests per second; GetPolicy 15; every other control-plane API together 15
  (Lambda quotas, "Lambda API requests").

Other services publish no per-API read rate; for them only the `workers` gate applies, and adaptive retries the
rest. The quotas are the account's: other tools calling the same APIs at the same time share them, which is what
the adaptive retries are for.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping


@dataclass(frozen=True)
class Quota:
    """A token bucket: `burst` requests at once, refilled at `rate` per second."""

    rate: float
    burst: float


@dataclass(frozen=True)
class ServiceQuotas:
    """The quotas of one service in one Region: `per_operation` gives each operation its own bucket of `default`;
    otherwise the operations not named in `operations` share one bucket of `default`."""

    default: Quota
    per_operation: bool = False
    operations: Mapping[str, Quota] = field(default_factory=dict)

    def bucket(self, operation: str) -> tuple[str, Quota]:
        own = self.operations.get(operation)
        if own is not None:
            return operation, own
        return (operation if self.per_operation else "*"), self.default


# Keyed by botocore service name (the first argument of ApiCache.call).
PUBLISHED: dict[str, ServiceQuotas] = {
    "ec2": ServiceQuotas(default=Quota(rate=20, burst=100), per_operation=True),
    "lambda": ServiceQuotas(default=Quota(rate=15, burst=15),
                            operations={"GetFunction": Quota(rate=100, burst=100),
                                        "GetPolicy": Quota(rate=15, burst=15)}),
}


class _Bucket:
    __slots__ = ("quota", "tokens", "stamp")

    def __init__(self, quota: Quota, now: float) -> None:
        self.quota = quota
        self.tokens = quota.burst
        self.stamp = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 if one was there, else how long to wait for the one reserved for the caller."""
        self.tokens = min(self.quota.burst, self.tokens + (now - self.stamp) * self.quota.rate)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.quota.rate


class RateLimiter:
    """Token buckets per (service, Region, bucket). Callers reserve a token under the lock and sleep outside it,
    so waiting callers are served in arrival order and nobody holds the lock while asleep."""

    def __init__(self, quotas: Mapping[str, ServiceQuotas] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._quotas = dict(PUBLISHED if quotas is None else quotas)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}
        self._waited: dict[str, float] = {}
        self._pacing: dict[str, int] = {}  # service -> callers asleep for a token right now

    def limits(self, service: str) -> bool:
        return service in self._quotas

    def acquire(self, service: str, region: str, operation: str) -> float:
        """Wait, if need be, until the request may go; returns the seconds waited."""
        quotas = self._quotas.get(service)
        if quotas is None:
            return 0.0
        name, quota = quotas.bucket(operation)
        with self._lock:
            now = self._clock()
            key = (service, region, name)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(quota, now)
            wait = bucket.take(now)
            if wait:
                self._waited[service] = self._waited.get(service, 0.0) + wait
                self._pacing[service] = self._pacing.get(service, 0) + 1
        if wait:
            try:
                self._sleep(wait)
            finally:
                with self._lock:
                    self._pacing[service] -= 1
        return wait

    @property
    def pacing(self) -> tuple[str, ...]:
        """The services whose requests are waiting for a token right now (the progress line says so)."""
        with self._lock:
            return tuple(sorted(s for s, n in self._pacing.items() if n > 0))

    @property
    def waited(self) -> dict[str, float]:
        """Seconds spent waiting for a token, by service (summed over threads)."""
        with self._lock:
            return dict(self._waited)


class RequestGate:
    """At most `workers` requests on the wire over the whole run (every account of an --org run shares one).

    The session hooks `enter` to botocore's `before-send` (after every other handler there: the pacing and the
    adaptive retries' own rate limiter) and `leave` to `before-parse` and `response-received`, so a slot covers one
    HTTP attempt from sending to its answer. Which thread holds a slot is thread-local: `leave` is safe to call
    again (the engine does, after every read, so no error path can keep a slot)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._held = threading.local()

    def enter(self, **_: Any) -> None:
        if not getattr(self._held, "slot", False):
            self._slots.acquire()
            self._held.slot = True

    def leave(self, **_: Any) -> None:
        if getattr(self._held, "slot", False):
            self._held.slot = False
            self._slots.release()

    @contextmanager
    def slot(self) -> Iterator[None]:
        self.enter()
        try:
            yield
        finally:
            self.leave()
