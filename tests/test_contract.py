"""Contract tests over every registered check: metadata, declared reads, parameters and controls.

That every check has a FAIL, a PASS and a no-resources test is enforced at the end of the session (conftest.py),
from what the checks were really seen doing through the engine.
"""
from __future__ import annotations

import re

import pytest

from auditor.api import is_read_action
from auditor.catalogue import catalogue, control
from auditor.check import camel_case
from auditor.config import Parameters
from auditor.models import Scope

from .conftest import ALL_CHECKS

CHECKS = sorted(ALL_CHECKS.values(), key=lambda c: c.id)
EXPECTED_SERVICES = {"ec2", "vpc", "iam", "s3", "rds", "ecs", "lambda", "cloudtrail", "guardduty", "config", "kms",
                     "budgets", "elb", "tagging", "efs", "securityhub", "cloudwatch"}


def test_every_service_of_the_product_has_checks():
    assert EXPECTED_SERVICES <= {c.service for c in CHECKS}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_metadata(check):
    assert check.__name__ == camel_case(check.id)
    assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+){2,}", check.id)
    assert check.title and check.risk and check.remediation.text and check.description()
    assert check.title[0].isupper() and not check.title.endswith(".")
    # An AWS CLI command where one exists (root-user settings, for one, have none).
    assert check.remediation.cli == "" or check.remediation.cli.startswith("aws ")
    assert check.remediation.terraform, "remediation needs a Terraform snippet"
    assert check.remediation.url.startswith("https://docs.aws.amazon.com/")
    assert isinstance(check.scope, Scope)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_declared_reads_are_read_only(check):
    assert check.api_calls and all(is_read_action(a) for a in check.api_calls)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_parameters_exist_in_defaults(check):
    defaults = Parameters.load()
    assert all(key in defaults for key in check.parameters)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_declared_controls_exist_in_the_catalogue(check):
    for c in check.compliance:
        assert c.framework in catalogue(), f"unknown framework {c.framework}"
        assert control(c.framework, c.id) is not None, f"{c} is not in the shipped catalogue"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_cis_controls_agree_with_their_security_hub_control(check):
    """A CIS recommendation that Security Hub maps to control X is evidenced by checks that also declare X."""
    security_hub = {c.id for c in check.compliance if c.framework in ("aws-fsbp", "aws-securityhub")}
    for c in check.compliance:
        if c.framework.startswith("cis-"):
            mapped = control(c.framework, c.id)["securityhub"]
            if mapped:
                assert mapped in security_hub, f"{c} maps to {mapped}, which {check.id} does not declare"
