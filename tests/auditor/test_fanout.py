"""Per-resource fan-out: order, errors, context, and no deadlock when the pool is busy."""
from __future__ import annotations

import contextvars
import threading
import time

from auditor.fanout import FanOut


def test_results_come_back_in_order_and_run_concurrently():
    fanout = FanOut(workers=8)
    threads = set()

    def slow(n: int) -> int:
        threads.add(threading.current_thread().name)
        time.sleep(0.05)
        return n * n

    started = time.perf_counter()
    outcomes = fanout.map(slow, list(range(16)))
    elapsed = time.perf_counter() - started
    fanout.close()
    assert [o.value for o in outcomes] == [n * n for n in range(16)]
    assert len(threads) > 1
    assert elapsed < 16 * 0.05  # not one after another


def test_exceptions_are_handed_back_per_item():
    fanout = FanOut(workers=2)
    outcomes = fanout.map(lambda n: 1 // n, [1, 0, 2])
    fanout.close()
    assert outcomes[0].value == 1 and isinstance(outcomes[1].error, ZeroDivisionError) and outcomes[2].value == 0


def test_a_busy_pool_cannot_deadlock_the_caller():
    fanout = FanOut(workers=1)
    release = threading.Event()
    fanout._pool.submit(release.wait)  # the only pool thread is blocked  # noqa: SLF001
    outcomes = fanout.map(lambda n: n + 1, [1, 2, 3])  # the caller does the work itself
    assert [o.value for o in outcomes] == [2, 3, 4]
    release.set()
    fanout.close()


def test_context_variables_reach_pool_threads():
    var = contextvars.ContextVar("var", default="unset")
    var.set("caller")
    fanout = FanOut(workers=4)
    outcomes = fanout.map(lambda _: var.get(), list(range(8)))
    fanout.close()
    assert {o.value for o in outcomes} == {"caller"}
