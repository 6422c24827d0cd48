"""Check parameters: shipped defaults, overrides, and clear errors naming the key."""
from __future__ import annotations

import pytest

from auditor.config import Parameters, Selection
from auditor.errors import ConfigError
from auditor.models import Category, Severity


def _write(tmp_path, text: str):
    path = tmp_path / "audit.yaml"
    path.write_text(text)
    return path


def test_defaults_are_documented_values():
    params = Parameters.load()
    assert params["iam.access_key_max_age_days"] == 90
    assert params["network.authorized_public_ports"] == [80, 443]


def test_override_changes_only_the_named_key(tmp_path):
    params = Parameters.load(_write(tmp_path, "iam:\n  access_key_max_age_days: 30\n"))
    assert params["iam.access_key_max_age_days"] == 30
    assert params["rds.backup_retention_days"] == Parameters.load()["rds.backup_retention_days"]


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'iam.access_key_max_age'"):
        Parameters.load(_write(tmp_path, "iam:\n  access_key_max_age: 30\n"))


def test_unknown_section_lists_the_sections(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'iamm.x' \(sections: .*iam"):
        Parameters.load(_write(tmp_path, "iamm:\n  x: 1\n"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("iam:\n  access_key_max_age_days: ninety\n", "'iam.access_key_max_age_days' expects integer"),
        ("iam:\n  access_key_max_age_days: true\n", "'iam.access_key_max_age_days' expects integer"),
        ("network:\n  admin_ports: [22, 'ssh']\n", "'network.admin_ports' expects list of integer"),
        ("network:\n  admin_ports: 22\n", "'network.admin_ports' expects list of integer"),
    ],
)
def test_wrong_type_is_named(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        Parameters.load(_write(tmp_path, text))


def test_malformed_yaml_gives_the_line(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML at line 3: expected the node content"):
        Parameters.load(_write(tmp_path, "iam:\n  access_key_max_age_days: [1,\n"))


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        Parameters.load(tmp_path / "missing.yaml")


def test_top_level_must_be_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="must be a mapping"):
        Parameters.load(_write(tmp_path, "- a\n- b\n"))


def test_selection_filters():
    class C:
        id = "s3_bucket_versioning_enabled"
        service = "s3"
        severity = Severity.LOW
        category = Category.SECURITY

    assert Selection().matches(C)
    assert Selection(include=("s3_*",)).matches(C)
    assert not Selection(exclude=("*versioning*",)).matches(C)
    assert not Selection(services=("ec2",)).matches(C)
    assert not Selection(min_severity=Severity.MEDIUM).matches(C)
    assert not Selection(categories=(Category.COST,)).matches(C)
