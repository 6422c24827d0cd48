"""The benchmark harness in a small configuration: it runs, and the audit sends no request twice.

Timings are the benchmark's business (`make bench`), never asserted here.
"""
from __future__ import annotations

from bench.run import measure


def test_small_benchmark_has_no_duplicate_requests_and_no_errors():
    result = measure(size=30, latency=0.002, workers=8)
    assert result.exit_code in (0, 3), result
    assert result.duplicate_requests == 0, result.duplicated
    assert result.errors == 0
    assert result.findings > 0 and result.requests > 0 and result.peak_rss_mb > 0
