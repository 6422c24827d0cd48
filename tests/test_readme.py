"""The README stays true: every check is listed, every documented command exists."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import main

from .conftest import ALL_CHECKS

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_check_is_in_the_readme_table():
    missing = sorted(c for c in ALL_CHECKS if f"`{c}`" not in README)
    assert not missing, f"README lacks {len(missing)} check(s), e.g. {missing[:5]}"


def test_every_command_in_the_readme_exists():
    commands = set(re.findall(r"^aws-audit ([a-z-]+)", README, flags=re.MULTILINE))
    assert commands >= {"run", "demo", "list-checks", "permissions", "coverage", "diff", "report"}
    for command in commands:
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0, command
