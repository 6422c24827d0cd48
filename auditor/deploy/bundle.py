"""The Lambda deployment bundle: aws-audit and the dependencies the Lambda Python runtime lacks, as a reproducible zip.

The runtime provides boto3 and botocore; click, tabulate and PyYAML are bundled. Two ways to get them:

- `DependencySource.DOWNLOAD`: `pip download --only-binary=:all: --platform manylinux2014_aarch64
  --python-version 3.12` — wheels built for the function's architecture and runtime (needs PyPI or a mirror).
- `DependencySource.LOCAL`: the copies installed next to aws-audit, native extensions left out (PyYAML falls back
  to its pure-Python implementation), so the bundle is architecture-neutral and needs no network.

Reproducible: entries sorted, every timestamp 1980-01-01 00:00, permissions 0644 (directories are implied), a fixed
compression level, no __pycache__ — the same inputs give the same bytes, so the same sha256 and S3 key.
"""
from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from ..errors import AuditError

DEPENDENCIES = ("click", "tabulate", "PyYAML")
OWN_PACKAGES = ("auditor", "checks", "reports")
OWN_DISTRIBUTION = "aws-audit"
LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda's limit for a function's unzipped code and layers
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
SKIPPED_PARTS = {"__pycache__", "tests"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")
# aws-audit's own files that only the command line and its development use, never the function.
SKIPPED_OWN = ("auditor/demo.py", "auditor/demo_account.py")


class DependencySource(str, Enum):
    DOWNLOAD = "download"
    LOCAL = "local"


@dataclass(frozen=True)
class Bundle:
    data: bytes
    files: int
    unzipped_size: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def key(self) -> str:
        return f"artifacts/aws-audit-lambda-{self.sha256[:16]}.zip"


def _skipped(path: PurePosixPath) -> bool:
    return (any(p in SKIPPED_PARTS for p in path.parts) or path.suffix in SKIPPED_SUFFIXES
            or path.name.endswith(NATIVE_SUFFIXES) or path.name in {"RECORD", "INSTALLER", "direct_url.json"})


def _own_files() -> Iterator[tuple[str, bytes]]:
    """aws-audit's packages from where they are imported (an editable install reads the source tree)."""
    import auditor

    root = Path(auditor.__file__).resolve().parent.parent
    for package in OWN_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            name = PurePosixPath(path.relative_to(root).as_posix())
            if path.is_file() and not _skipped(name) and not str(name).startswith(SKIPPED_OWN):
                yield str(name), path.read_bytes()
    yield from _own_metadata({name for package in OWN_PACKAGES for name in _module_names(root / package, root)})


def _module_names(package_dir: Path, root: Path) -> Iterator[str]:
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _own_metadata(modules: set[str]) -> Iterator[tuple[str, bytes]]:
    """A dist-info, so the checks and reporters are found through their entry points as in any install. Only the
    entry points whose module is in the bundle are kept (a plugin installed beside aws-audit is not bundled)."""
    dist = metadata.distribution(OWN_DISTRIBUTION)
    info = f"aws_audit-{dist.version}.dist-info"
    lines = []
    for line in (dist.read_text("entry_points.txt") or "").splitlines():
        match = re.match(r"\s*[^=\s]+\s*=\s*([\w.]+)", line)
        if line.startswith("["):
            lines.append(line)
        elif match:
            if match.group(1) in modules:
                lines.append(line)
        elif line.strip():
            lines.append(line)
    yield f"{info}/METADATA", f"Metadata-Version: 2.1\nName: aws-audit\nVersion: {dist.version}\n".encode()
    yield f"{info}/entry_points.txt", ("\n".join(lines) + "\n").encode()
    yield f"{info}/top_level.txt", ("\n".join(OWN_PACKAGES) + "\n").encode()


def _installed_files(names: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    for name in names:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise AuditError(f"{name} is not installed: cannot bundle it from the local installation") from None
        for file in dist.files or ():
            relative = PurePosixPath(str(file))
            if relative.parts[0] == ".." or _skipped(relative):
                continue
            yield str(relative), Path(dist.locate_file(file)).read_bytes()


def _downloaded_files(names: Iterable[str], python_version: str, platform: str) -> Iterator[tuple[str, bytes]]:
    with tempfile.TemporaryDirectory(prefix="aws-audit-wheels-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                   "--only-binary=:all:", "--platform", platform, "--python-version", python_version,
                   "--implementation", "cp", "--dest", tmp, *names]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise AuditError("cannot download the Lambda dependencies (" + " ".join(names) + "): "
                             + (result.stderr.strip().splitlines() or ["pip failed"])[-1])
        for wheel in sorted(Path(tmp).glob("*.whl")):
            with zipfile.ZipFile(wheel) as archive:
                for info in archive.infolist():
                    relative = PurePosixPath(info.filename)
                    if info.is_dir() or relative.name in {"RECORD", "INSTALLER"} or "__pycache__" in relative.parts:
                        continue
                    yield info.filename, archive.read(info)


def build_bundle(
    source: DependencySource = DependencySource.DOWNLOAD,
    *,
    python_version: str = LAMBDA_PYTHON,
    platform: str = LAMBDA_PLATFORM,
) -> Bundle:
    files: dict[str, bytes] = {}
    deps = (_downloaded_files(DEPENDENCIES, python_version, platform) if source is DependencySource.DOWNLOAD
            else _installed_files(DEPENDENCIES))
    for name, data in (*deps, *_own_files()):
        files[name] = data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits are read as such
            archive.writestr(info, files[name], compresslevel=9)
    unzipped = sum(len(d) for d in files.values())
    if unzipped > UNZIPPED_LIMIT:
        raise AuditError(f"the bundle is {unzipped} bytes unzipped, over Lambda's limit of {UNZIPPED_LIMIT}")
    return Bundle(data=buffer.getvalue(), files=len(files), unzipped_size=unzipped)
