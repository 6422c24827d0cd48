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


def test_simulator_keeps_connections_open_and_answers_whole():
    """AWS keeps a connection for the next request; so must the simulator, or every request of the measured audit
    would pay a TCP connect that a real one does not. Bodies, HEAD answers and errors come back whole."""
    import http.client

    from bench.server import SimulatedAws

    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/s3/aws4_request, "
                             "SignedHeaders=host, Signature=0"}
    with SimulatedAws(latency=0.0) as aws:
        host = aws.url.split("//")[1]
        connection = http.client.HTTPConnection(host, timeout=10)
        connection.request("PUT", "/bench-keepalive", body=b"", headers=auth)
        created = connection.getresponse()
        created.read()
        assert created.status == 200
        socket_before = connection.sock
        connection.request("PUT", "/bench-keepalive/key", body=b"0123456789", headers=auth)
        put = connection.getresponse()
        put.read()
        connection.request("HEAD", "/bench-keepalive/key", headers=auth)
        head = connection.getresponse()
        assert head.read() == b"" and head.getheader("Content-Length") == "10"
        connection.request("GET", "/bench-keepalive/key", headers=auth)
        got = connection.getresponse()
        assert got.read() == b"0123456789"
        connection.request("GET", "/bench-no-such-bucket?versioning", headers=auth)
        missing = connection.getresponse()
        assert missing.status == 404 and b"NoSuchBucket" in missing.read()
        assert connection.sock is socket_before  # one connection carried every request
        assert got.getheader("Connection") != "close"
