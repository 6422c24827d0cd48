"""Pacing: at most `workers` reads in flight, and no faster than AWS's published request rates.

The token buckets run on a fake clock: the tests check what would be waited, never how long anything took."""
from __future__ import annotations

import threading

import pytest

from auditor import AuditConfig
from auditor.api import ApiCache
from auditor.ratelimit import PUBLISHED, Quota, RateLimiter, RequestGate, ServiceQuotas
from auditor.session import AwsSession

from ..conftest import BOTO


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _limiter(quotas: dict[str, ServiceQuotas] | None = None) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(quotas, clock=clock, sleep=clock.sleep), clock


def test_ec2_reads_burst_to_the_bucket_then_go_at_the_refill_rate() -> None:
    limiter, clock = _limiter()
    waits = [limiter.acquire("ec2", "eu-west-1", "DescribeInstances") for _ in range(140)]
    assert waits[:100] == [0.0] * 100  # the bucket: 100 tokens
    assert all(w > 0 for w in waits[100:])
    # 40 requests beyond the bucket at 20 per second take two seconds of waiting, spread evenly.
    assert abs(clock.now - 40 / 20) < 1e-9
    assert abs(sum(clock.slept) - 2.0) < 1e-9


def test_ec2_buckets_are_per_operation_and_per_region() -> None:
    limiter, clock = _limiter()
    for _ in range(100):
        limiter.acquire("ec2", "eu-west-1", "DescribeInstances")
    assert limiter.acquire("ec2", "eu-west-1", "DescribeVolumes") == 0.0
    assert limiter.acquire("ec2", "us-east-1", "DescribeInstances") == 0.0
    assert limiter.acquire("ec2", "eu-west-1", "DescribeInstances") > 0.0


def test_lambda_control_plane_reads_share_one_bucket_but_get_function_has_its_own() -> None:
    limiter, _ = _limiter()
    for _ in range(15):
        assert limiter.acquire("lambda", "eu-west-1", "ListFunctions") == 0.0
    assert limiter.acquire("lambda", "eu-west-1", "GetFunctionUrlConfig") > 0.0  # same shared 15/s bucket
    assert limiter.acquire("lambda", "eu-west-1", "GetFunction") == 0.0
    assert limiter.waited["lambda"] > 0.0


def test_a_bucket_refills_while_nobody_asks() -> None:
    limiter, clock = _limiter({"x": ServiceQuotas(default=Quota(rate=2, burst=2))})
    assert [limiter.acquire("x", "r", "Op") for _ in range(2)] == [0.0, 0.0]
    clock.now += 1.0  # two tokens back
    assert [limiter.acquire("x", "r", "Op") for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("x", "r", "Op") == 0.5


def test_services_without_a_published_rate_are_not_paced() -> None:
    limiter, clock = _limiter()
    assert not limiter.limits("s3") and not limiter.limits("iam")
    assert all(limiter.acquire("s3", "eu-west-1", "GetBucketPolicy") == 0.0 for _ in range(1000))
    assert clock.slept == [] and limiter.waited == {}


def test_published_quotas_are_the_documented_ones() -> None:
    assert PUBLISHED["ec2"].default == Quota(rate=20, burst=100) and PUBLISHED["ec2"].per_operation
    assert PUBLISHED["lambda"].bucket("GetFunction") == ("GetFunction", Quota(rate=100, burst=100))
    assert PUBLISHED["lambda"].bucket("GetPolicy") == ("GetPolicy", Quota(rate=15, burst=15))
    assert PUBLISHED["lambda"].bucket("ListFunctions") == ("*", Quota(rate=15, burst=15))


def test_the_gate_never_lets_more_than_workers_through() -> None:
    gate = RequestGate(3)
    inside = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()
    entered = threading.Semaphore(0)

    def read() -> None:
        nonlocal inside, most
        with gate.slot():
            with lock:
                inside += 1
                most = max(most, inside)
            entered.release()
            release.wait()
            with lock:
                inside -= 1

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for _ in range(3):
        entered.acquire()
    with lock:
        assert inside == 3  # three in, five waiting at the gate
    release.set()
    for t in threads:
        t.join()
    assert most == 3


def test_every_http_attempt_of_a_paced_service_takes_a_token(aws) -> None:
    aws.client("ec2", region_name="us-east-1").run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)
    session = AwsSession(AuditConfig(max_attempts=2, workers=4), BOTO)
    limiter, clock = _limiter({"ec2": ServiceQuotas(default=Quota(rate=1, burst=1), per_operation=True)})
    session.rate_limiter = limiter
    api = ApiCache(session)
    api.call("ec2", "DescribeInstances", "us-east-1")
    api.call("ec2", "DescribeInstances", "us-east-1", Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    api.call("ec2", "DescribeInstances", "us-east-1")  # memoised: no request, no token
    assert session.requests["ec2:DescribeInstances"] == 2
    assert clock.slept == [1.0]  # the second request waited for the bucket's refill
    assert session.gate.workers == 4


def test_timestamps_are_read_as_botocore_reads_them() -> None:
    from datetime import datetime, timezone

    import botocore.utils

    from auditor.session import parse_timestamp

    for value in ("2024-03-01T12:30:45Z", "2024-03-01T12:30:45.123Z", "2024-03-01T12:30:45.123456+00:00",
                  "2024-03-01T14:30:45+02:00", "2024-03-01T12:30:45", 1709296245, 1709296245.5,
                  "Fri, 01 Mar 2024 12:30:45 GMT", "1709296245"):
        ours, theirs = parse_timestamp(value), botocore.utils.parse_timestamp(value)
        assert ours == theirs, value
        assert (ours.utcoffset() is None) == (theirs.utcoffset() is None), value
    assert parse_timestamp("2024-03-01T12:30:45Z") == datetime(2024, 3, 1, 12, 30, 45, tzinfo=timezone.utc)


def test_a_service_is_reported_as_pacing_only_while_a_request_waits_for_its_token() -> None:
    clock = FakeClock()
    seen: list[tuple[str, ...]] = []

    def sleep(seconds: float) -> None:
        seen.append(limiter.pacing)  # what the progress line would show during the wait
        clock.sleep(seconds)

    limiter = RateLimiter(clock=clock, sleep=sleep)
    for _ in range(16):
        limiter.acquire("lambda", "eu-west-1", "ListFunctions")
    assert seen == [("lambda",)]  # the 16th request waited, and was shown waiting
    assert limiter.pacing == ()


def _free_slots(gate: RequestGate) -> int:
    free = 0
    while gate._slots.acquire(blocking=False):  # noqa: SLF001 - counting the gate's free slots
        free += 1
    for _ in range(free):
        gate._slots.release()  # noqa: SLF001
    return free


def test_a_request_waiting_for_its_rate_limit_token_holds_no_slot_of_the_gate(aws) -> None:
    aws.client("ec2", region_name="us-east-1").run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)
    session = AwsSession(AuditConfig(max_attempts=2, workers=1), BOTO)
    clock = FakeClock()
    free_while_pacing: list[int] = []

    def sleep(seconds: float) -> None:
        free_while_pacing.append(_free_slots(session.gate))
        clock.sleep(seconds)

    session.rate_limiter = RateLimiter({"ec2": ServiceQuotas(default=Quota(rate=1, burst=1))},  # one shared bucket
                                       clock=clock, sleep=sleep)
    api = ApiCache(session)
    api.call("ec2", "DescribeInstances", "us-east-1")
    api.call("ec2", "DescribeVpcs", "us-east-1")
    api.call("ec2", "DescribeSubnets", "us-east-1")
    # workers=1: had a waiting request taken the one slot first, nobody else could have sent in the meantime.
    assert free_while_pacing == [1, 1]  # the second and third requests waited, holding nothing
    assert _free_slots(session.gate) == 1  # every answer gave its slot back


def test_the_slot_is_held_on_the_wire_only_and_never_kept_after_an_error(aws, faults) -> None:
    from auditor.errors import DataUnavailable

    faults.throttle("ec2", "DescribeSubnets")  # answered on the wire, retried, then given up
    session = AwsSession(AuditConfig(max_attempts=2, workers=2), BOTO)
    seen: list[int] = []
    client = session.client("ec2", "us-east-1")
    client.meta.events.register_first("before-parse", lambda **_: seen.append(_free_slots(session.gate)))
    api = ApiCache(session)
    api.call("ec2", "DescribeVpcs", "us-east-1")
    with pytest.raises(DataUnavailable):
        api.call("ec2", "DescribeSubnets", "us-east-1")
    assert seen == [1, 1, 1]  # each attempt on the wire held one of the two slots until its answer came
    assert _free_slots(session.gate) == 2
