"""Per-resource work of one (check, region) unit, spread over a pool shared by the whole run.

A unit that reads one thing per bucket, user or function would otherwise make those reads one after another,
each a network round trip. `FanOut.map` lets pool threads take items while the unit's own thread takes them too
("caller runs"): the unit never waits for work that has not started, so a pool busy with other units' items (or
with threads waiting on a shared collector) cannot deadlock it — at worst the unit does all its items itself.
"""
from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Generic, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Outcome(Generic[R]):
    __slots__ = ("value", "error")

    def __init__(self, value: R | None = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error


class FanOut:
    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aws-audit-fanout")

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[_Outcome[R]]:
        """`fn` over `items`, in order; each outcome holds the value or the exception it raised."""
        n = len(items)
        outcomes: list[_Outcome[R] | None] = [None] * n
        if n <= 1:
            return [_run(fn, item) for item in items]
        lock = threading.Condition()
        state = {"next": 0, "done": 0}

        def work() -> None:
            while True:
                with lock:
                    index = state["next"]
                    if index >= n:
                        return
                    state["next"] += 1
                outcomes[index] = _run(fn, items[index])
                with lock:
                    state["done"] += 1
                    lock.notify_all()

        for _ in range(min(n - 1, self._workers)):
            self._pool.submit(contextvars.copy_context().run, work)
        work()  # the caller takes items too
        with lock:
            lock.wait_for(lambda: state["done"] == n)
        return outcomes  # type: ignore[return-value]

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _run(fn: Callable[[T], R], item: T) -> _Outcome[R]:
    try:
        return _Outcome(value=fn(item))
    except BaseException as exc:  # noqa: BLE001 - handed back to the caller, which decides
        return _Outcome(error=exc)
