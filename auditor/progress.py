"""A one-line progress bar on stderr: units of work done / total (check x region), the service and region just
finished, the elapsed time, and what is slowing the run down: how many requests AWS throttled (each retried with
backoff), and which services' requests are waiting, right now, to stay under AWS's published request rates.

It refreshes itself every half second from the live figures (`watch`), so a run stuck in throttling backoff or
pacing still shows time passing and says why, rather than looking hung.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable, TextIO

# -> (requests AWS throttled so far, services waiting for a rate-limit token now)
Status = Callable[[], tuple[int, tuple[str, ...]]]

WIDTH = 100


class ProgressBar:
    BAR = 30

    def __init__(self, stream: TextIO = sys.stderr, min_interval: float = 0.1, tick: float = 0.5) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._last = 0.0
        self._min_interval = min_interval
        self._tick = tick
        self._started = time.monotonic()
        self._state = (0, 1, "", "", 0)
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._status: Status | None = None

    def watch(self, status: Status) -> None:
        """Read the throttling and pacing figures live at every refresh, not only when a unit finishes."""
        self._status = status

    def __call__(self, done: int, total: int, service: str, region: str, throttled: int = 0) -> None:
        with self._lock:
            self._state = (done, total, service, region, throttled)
            if self._ticker is None and done < total:
                self._ticker = threading.Thread(target=self._refresh, daemon=True, name="aws-audit-progress")
                self._ticker.start()
            now = time.monotonic()
            if done < total and now - self._last < self._min_interval:
                return
            self._last = now
            self._draw(final=done >= total)
        if done >= total:
            self._stop.set()

    def _refresh(self) -> None:
        while not self._stop.wait(self._tick):
            with self._lock:
                self._draw(final=False)

    def _draw(self, final: bool) -> None:
        done, total, service, region, throttled = self._state
        pacing: tuple[str, ...] = ()
        if self._status is not None and not final:
            throttled, pacing = self._status()
        filled = self.BAR * done // max(total, 1)
        bar = "#" * filled + "-" * (self.BAR - filled)
        line = f"\r[{bar}] {done}/{total} checks  {service} {region}  {time.monotonic() - self._started:.0f}s"
        if throttled:
            line += f"  AWS throttled {throttled} request(s), retrying with backoff"
        if pacing:
            line += f"  pacing {', '.join(pacing)} to AWS's published request rate"
        self._stream.write(line.ljust(WIDTH)[: max(WIDTH, len(line))])
        if final:
            self._stream.write("\r" + " " * WIDTH + "\r")
        self._stream.flush()
