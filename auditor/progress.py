"""A one-line progress bar on stderr: units done / total and the service and region just finished."""
from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class ProgressBar:
    WIDTH = 30

    def __init__(self, stream: TextIO = sys.stderr, min_interval: float = 0.1) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._last = 0.0
        self._min_interval = min_interval
        self._started = time.monotonic()

    def __call__(self, done: int, total: int, service: str, region: str) -> None:
        now = time.monotonic()
        with self._lock:
            if done < total and now - self._last < self._min_interval:
                return
            self._last = now
            filled = self.WIDTH * done // max(total, 1)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            line = f"\r[{bar}] {done}/{total} checks  {service} {region}  {now - self._started:.0f}s"
            self._stream.write(line.ljust(100)[:100])
            if done >= total:
                self._stream.write("\r" + " " * 100 + "\r")
            self._stream.flush()
