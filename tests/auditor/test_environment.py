import pytest

from auditor.environment import EnvironmentKind, classify

DEFAULTS = {"environment_key": "Environment", "production_values": ["prod", "production", "prd"],
            "account_environment": ""}


def env(tags, **overrides):
    return classify(tags, **{**DEFAULTS, **overrides})


@pytest.mark.parametrize("value", ["prod", "Production", "PRD"])
def test_production_tag_values_are_case_insensitive(value):
    found = env({"Environment": value})
    assert found.production and found.kind is EnvironmentKind.PRODUCTION
    assert found.reason == f"tag Environment={value}"
    assert found.evidence() == {"environment": "production", "environment_basis": f"tag Environment={value}"}


def test_other_tag_value_is_non_production_even_with_an_account_default():
    found = env({"Environment": "staging"}, account_environment="prod")
    assert found.kind is EnvironmentKind.NON_PRODUCTION and found.known and not found.production
    assert found.reason == "tag Environment=staging"


def test_tag_key_is_a_parameter_and_matched_case_insensitively():
    assert env({"Stage": "prod"}, environment_key="Stage").production
    assert env({"environment": "prod"}).reason == "tag environment=prod"
    assert env([("Environment", "prod")]).production  # tag pairs as well as mappings


def test_account_default_applies_without_a_tag():
    found = env({"Name": "x"}, account_environment="prod")
    assert found.production
    assert found.reason == "no Environment tag; account default --environment prod"
    assert env({}, account_environment="dev").kind is EnvironmentKind.NON_PRODUCTION


def test_unknown_without_tag_or_default():
    for tags in (None, {}, {"Environment": "  "}):
        found = env(tags)
        assert found.kind is EnvironmentKind.UNKNOWN and not found.known and not found.production
        assert found.reason == "no Environment tag and no --environment"
        assert found.describe() == "unknown (no Environment tag and no --environment)"
