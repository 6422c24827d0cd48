"""Every registered format, rendered from the same fixed run, must match its golden file byte for byte.

After an intended change of a format: UPDATE_GOLDEN=1 pytest tests/reports/test_golden.py, then review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.registry import load_reporters

GOLDEN = Path(__file__).parent / "golden"
REPORTERS = load_reporters()


@pytest.mark.parametrize("name", sorted(REPORTERS))
def test_format_matches_golden_file(name, sample_run):
    reporter = REPORTERS[name]()
    rendered = reporter.render(sample_run)
    path = GOLDEN / f"{name}.{reporter.extension or 'txt'}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file for {name}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == path.read_text(encoding="utf-8")
