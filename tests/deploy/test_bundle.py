"""The Lambda bundle: reproducible, small, and complete — it runs the handler from a clean directory with only what
the Lambda Python runtime provides (boto3, botocore and their dependencies)."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from auditor.deploy.bundle import UNZIPPED_LIMIT, Bundle, DependencySource, build_bundle

# What the Lambda Python runtime has besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def test_the_bundle_is_reproducible_sorted_with_fixed_times_and_permissions(bundle: Bundle) -> None:
    again = build_bundle(DependencySource.LOCAL)
    assert again.data == bundle.data and again.sha256 == bundle.sha256
    assert bundle.key == f"artifacts/aws-audit-lambda-{bundle.sha256[:16]}.zip"
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and len(names) == bundle.files
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert not [n for n in names if n.endswith((".pyc", ".so")) or "__pycache__" in n or "/tests/" in n]


def test_the_bundle_holds_the_package_its_data_and_the_dependencies_the_runtime_lacks(bundle: Bundle) -> None:
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")
                            and n.startswith("aws_audit"))
    assert {"auditor/lambda_handler.py", "auditor/defaults.yaml", "auditor/deploy/shards.py",
            "click/__init__.py", "tabulate/__init__.py", "yaml/__init__.py"} <= names
    assert any(n.startswith("reports/templates/") for n in names)
    assert any(n.startswith("reports/schema/") for n in names)
    assert not [n for n in names if n.startswith(("boto3/", "botocore/", "moto/", "pytest/"))]
    assert "[aws_audit.checks]" in entry_points and "s3 = checks.s3" in entry_points
    assert "[aws_audit.reporters]" in entry_points
    assert bundle.unzipped_size < UNZIPPED_LIMIT / 50  # a few MB against Lambda's 250 MB
    print(f"bundle: {bundle.files} files, {bundle.size} bytes zipped, {bundle.unzipped_size} bytes unzipped")


@pytest.fixture
def clean_runtime(bundle: Bundle, tmp_path: Path) -> Path:
    """/var/task (the unzipped bundle) and a directory with only the runtime's own packages."""
    task = tmp_path / "task"
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        archive.extractall(task)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    site = Path(boto3.__file__).resolve().parent.parent
    for name in RUNTIME_PACKAGES:
        if (site / name).exists():
            (runtime / name).symlink_to(site / name)
    return tmp_path


@pytest.fixture
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


RUN_HANDLER = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
for absent in ("moto", "pytest", "tests"):
    try:
        __import__(absent)
    except ImportError:
        pass
    else:
        raise SystemExit(f"{{absent}} is importable: the runtime is not clean")
from auditor.lambda_handler import handler
import auditor, click, yaml, tabulate
assert auditor.__file__.startswith(sys.argv[1]) and click.__file__.startswith(sys.argv[1])
assert not getattr(yaml, "__with_libyaml__", False) or "{source}" == "download"
class Context:
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:aws-audit"
print("RESULT " + json.dumps(handler({{"run_id": "clean"}}, Context())))
"""


def test_the_bundle_runs_the_handler_with_only_the_lambda_runtime_packages(
        clean_runtime: Path, moto_server: str) -> None:
    seed = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    s3 = seed.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="reports")
    s3.create_bucket(Bucket="unversioned")
    env = {"PATH": os.environ.get("PATH", ""), "AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_AUDIT_BUCKET": "reports", "AWS_AUDIT_REGIONS": "us-east-1",
           "AWS_AUDIT_CHECKS": "s3_bucket_versioning_enabled", "AWS_AUDIT_WORKERS": "2"}
    # -I: no environment Python variables, no user site; -S: not even the venv's site-packages.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUN_HANDLER.format(source="local"),
         str(clean_runtime / "task"), str(clean_runtime / "runtime")],
        env=env, cwd=clean_runtime, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("RESULT ")]
    answer: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    assert answer["findings"]["FAIL"] == 2  # both buckets are unversioned
    key = answer["report"].removeprefix("s3://reports/")
    report = json.loads(s3.get_object(Bucket="reports", Key=key)["Body"].read())
    assert {f["resource"]["id"] for f in report["findings"]} == {"reports", "unversioned"}
    assert [json.loads(x)["phase"] for x in result.stdout.splitlines() if x.startswith('{"level"')] == [
        "start", "audit", "diff", "write", "metrics"]


@pytest.mark.skipif(os.environ.get("AWS_AUDIT_NETWORK_TESTS") != "1",
                    reason="downloads arm64 wheels from PyPI: set AWS_AUDIT_NETWORK_TESTS=1 (and allow the network)")
def test_the_downloaded_bundle_has_arm64_wheels_for_python_312() -> None:  # pragma: no cover - needs PyPI
    bundle = build_bundle(DependencySource.DOWNLOAD)
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        names = archive.namelist()
        wheels = [archive.read(n).decode() for n in names if n.endswith(".dist-info/WHEEL")]
    assert any("aarch64" in w for w in wheels) or not any(n.endswith(".so") for n in names)
    assert [n for n in names if n.startswith("yaml/_yaml.cpython-312-aarch64")]
    assert bundle.unzipped_size < UNZIPPED_LIMIT
