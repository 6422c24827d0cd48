"""`make bench`: audit simulated accounts of growing size behind simulated network latency, and measure.

For each size it starts moto's server on 127.0.0.1 behind a latency/counting middleware (bench/server.py), seeds
the account (bench/seed.py; at full speed), then runs the real `aws-audit run` in a subprocess and records:
resources, API requests (total, by operation, duplicates), wall time, peak memory (max RSS of the audit process),
requests per resource, and wall time over the lower bound `requests x latency / workers`. With --throttle it also
audits the smallest account again with a share of requests throttled and compares the findings.

    python -m bench.run --sizes 100,1000,10000 --latency 0.05 --out bench/results/latest.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3

from auditor.config import DEFAULT_WORKERS

from .seed import seed
from .server import SimulatedAws

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


@dataclass
class Result:
    resources: int
    latency_ms: float
    workers: int
    throttle_rate: float
    wall_seconds: float
    requests: int
    duplicate_requests: int
    throttled_requests: int
    peak_rss_mb: float
    requests_per_resource: float
    lower_bound_seconds: float
    wall_over_lower_bound: float
    findings: int
    errors: int
    exit_code: int
    seed_seconds: float
    by_operation: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    finding_states: dict[str, str] = field(default_factory=dict, repr=False)


def _audit(endpoint: str, workers: int, out_dir: Path, regions: tuple[str, ...] = REGIONS) -> tuple[int, float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_DEFAULT_REGION=REGIONS[0], AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    from auditor.demo import SIMULATOR_GAPS  # checks whose API moto lacks: left out, as in the demo

    gaps = [a for check in sorted(SIMULATOR_GAPS) for a in ("--exclude-check", check)]
    command = [str(Path(sys.executable).parent / "aws-audit"), "run", *[a for r in regions for a in ("--region", r)],
               *gaps,
               "--workers", str(workers), "--format", "json", "--output-dir", str(out_dir), "--quiet", "--no-progress"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    peak_kb = 0
    while process.poll() is None:
        # VmHWM is the audit's own high-water mark. (ru_maxrss would also count the pages of this process, which
        # forked it, before the exec.)
        peak_kb = max(peak_kb, _high_water_kb(process.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    return process.returncode, wall, peak_kb / 1024


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(size: int, latency: float, workers: int, throttle_rate: float = 0.0) -> Result:
    return measure_rates(size, latency, workers, (throttle_rate,))[0]


def measure_rates(size: int, latency: float, workers: int, throttle_rates: tuple[float, ...]) -> list[Result]:
    """Seed one account of `size` resources, then audit it once per throttle rate (same account, same ids)."""
    return measure_runs(size, latency, [(workers, rate) for rate in throttle_rates])


def measure_runs(size: int, latency: float, runs: list[tuple[int, float]]) -> list[Result]:
    """Seed one account of `size` resources, then audit it once per (workers, throttle rate)."""
    results = []
    with SimulatedAws(latency=latency) as aws:
        # moto keeps its state per process: start every size from an empty account.
        urllib.request.urlopen(urllib.request.Request(f"{aws.url}/moto-api/reset", method="POST")).read()
        session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGIONS[0])
        t0 = time.perf_counter()
        seeded = seed(session, aws.url, size, REGIONS)
        seed_seconds = time.perf_counter() - t0
        # Warm the simulator up, unmeasured and without latency: moto imports a service's code and builds its
        # backend on the service's first request, holding the GIL for up to a second, which AWS never does.
        with tempfile.TemporaryDirectory() as tmp:
            _audit(aws.url, runs[0][0], Path(tmp), regions=REGIONS[:1])
        for workers, throttle_rate in runs:
            counts = aws.middleware
            counts.reset()
            counts.throttle_rate = throttle_rate
            counts.enabled = True
            with tempfile.TemporaryDirectory() as tmp:
                code, wall, rss = _audit(aws.url, workers, Path(tmp))
                counts.enabled = False
                [report_path] = Path(tmp).glob("*.json")
                report = json.loads(report_path.read_text())
            requests = sum(counts.by_operation.values())
            lower = requests * latency / workers
            results.append(Result(
                resources=seeded.resources, latency_ms=latency * 1000, workers=workers, throttle_rate=throttle_rate,
                wall_seconds=round(wall, 2), requests=requests, duplicate_requests=counts.duplicates,
                throttled_requests=counts.throttled, peak_rss_mb=round(rss, 1),
                requests_per_resource=round(requests / seeded.resources, 2), lower_bound_seconds=round(lower, 2),
                wall_over_lower_bound=round(wall / lower, 2) if lower else 0.0, findings=len(report["findings"]),
                errors=report["summary"]["totals"]["ERROR"], exit_code=code, seed_seconds=round(seed_seconds, 1),
                by_operation=dict(counts.by_operation.most_common()), duplicated=counts.duplicated_operations,
                finding_states={f["id"]: f["status"] for f in report["findings"]},
            ))
    return results


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def table(results: list[Result]) -> str:
    from tabulate import tabulate

    rows = [[r.resources, r.workers, r.throttle_rate, r.requests, r.duplicate_requests, r.throttled_requests,
             r.wall_seconds, r.lower_bound_seconds, r.wall_over_lower_bound, r.peak_rss_mb, r.requests_per_resource,
             r.findings, r.errors] for r in results]
    return tabulate(rows, headers=["resources", "workers", "throttle", "requests", "dup", "throttled", "wall s",
                                   "bound s", "wall/bound", "peak MB", "req/res", "findings", "ERROR"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="default: the audit's own default")
    parser.add_argument("--throttle", type=float, default=0.2,
                        help="also audit the smallest size again with this share of requests throttled (0: skip)")
    parser.add_argument("--sweep", default="8,16,32,64",
                        help="worker counts to compare on the 1,000-resource account (or the middle size); '' skips")
    parser.add_argument("--out", default="bench/results/latest.json")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for size in sizes:
        results.append(measure(size, args.latency, args.workers))
        print(table(results[-1:]), flush=True)
    sweep: list[Result] = []
    if args.sweep:
        size = 1000 if 1000 in sizes else sizes[len(sizes) // 2]
        sweep = measure_runs(size, args.latency, [(int(w), 0.0) for w in args.sweep.split(",")])
        print("\nworker counts on the same account:")
        print(table(sweep), flush=True)
    same_results = None
    if args.throttle:
        # On the smallest size: botocore's adaptive mode slows a client right down under sustained throttling.
        baseline, throttled = measure_rates(sizes[0], args.latency, args.workers, (0.0, args.throttle))
        same_results = throttled.finding_states == baseline.finding_states
        results.append(throttled)
    print()
    print(table(results))
    if same_results is not None:
        print(f"\nthrottled run gives the same findings as the unthrottled one: {same_results}")
    for r in results:
        if r.duplicated and not r.throttle_rate:
            print(f"\nduplicate requests at {r.resources} resources: {r.duplicated}")
    print("\nrequests by operation at the largest size:")
    for op, n in list(results[len(sizes) - 1].by_operation.items())[:25]:
        print(f"  {n:7d}  {op}")
    document = {"machine": machine(), "latency_seconds": args.latency, "workers": args.workers,
                "throttled_same_findings": same_results,
                "results": [{k: v for k, v in asdict(r).items() if k != "finding_states"} for r in results],
                "worker_sweep": [{k: v for k, v in asdict(r).items() if k not in ("finding_states", "by_operation")}
                                 for r in sweep]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0 if all(r.duplicate_requests == 0 for r in results if not r.throttle_rate) else 1


if __name__ == "__main__":
    sys.exit(main())
