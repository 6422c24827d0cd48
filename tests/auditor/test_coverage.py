from __future__ import annotations

import pytest

from auditor.coverage import coverage
from auditor.errors import ConfigError

from ..conftest import ALL_CHECKS


def test_coverage_comes_from_the_declarations():
    rows = {r.id: r for r in coverage("aws-fsbp", ALL_CHECKS.values())}
    assert rows["GuardDuty.1"].checks == ("guardduty_detector_enabled",)
    assert len(rows) == 123  # every FSBP control of the catalogue is listed, covered or not
    declared = {c.id for check in ALL_CHECKS.values() for c in check.compliance if c.framework == "aws-fsbp"}
    assert {r.id for r in rows.values() if r.covered} == declared


def test_cis_rows_carry_section_and_assessment():
    rows = {r.id: r for r in coverage("cis-aws-4.0.1", ALL_CHECKS.values())}
    assert rows["1.4"].service == "1" and rows["1.4"].assessment == "Automated"
    assert rows["1.4"].checks == ("iam_root_access_keys_absent",)


def test_unknown_framework():
    with pytest.raises(ConfigError, match="unknown framework 'pci'"):
        coverage("pci", ALL_CHECKS.values())
