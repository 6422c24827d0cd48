"""The shared secrets detector and the redaction every finding's evidence goes through."""
from __future__ import annotations

import json

import pytest

from auditor.config import Parameters
from auditor.secrets import (
    REDACTED,
    find_secrets,
    find_secrets_in_text,
    fingerprint,
    redact_evidence,
    redact_text,
)

PARAMS = Parameters.load()
OPTIONS = {
    "markers": PARAMS["secrets.key_markers"],
    "min_entropy": PARAMS["secrets.min_entropy"],
    "min_length": PARAMS["secrets.min_length"],
}
ACCESS_KEY = "AKIAZ7Q3R5T2W4Y6U8I0"
SECRET_KEY = "kT9vQ2xL7mN4pR8sW1yZ3bC6dF0gH5jK2lM9nP4q"
DB_PASSWORD = "Xq7#pL2v!9Rz@Wm4"


@pytest.mark.parametrize(
    "variables, kind",
    [
        ({"AWS_ACCESS_KEY_ID": ACCESS_KEY}, "aws_access_key_id"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET_KEY}, "aws_secret_access_key"),
        ({"DB_PASSWORD": DB_PASSWORD}, "named_secret"),
        ({"DATABASE_URL": f"postgres://app:{DB_PASSWORD}@db.internal:5432/app"}, "connection_string_password"),
        ({"SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"}, "private_key"),
        ({"GH": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}, "github_token"),
    ],
)
def test_detects(variables, kind):
    hits = find_secrets(variables, **OPTIONS)
    assert kind in {h.kind for h in hits}
    rendered = json.dumps([h.to_evidence() for h in hits])
    for value in variables.values():
        assert value not in rendered


@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"},  # AWS documentation example
        {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        {"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"},  # a reference
        {"DB_PASSWORD": "{{resolve:secretsmanager:db}}"},
        {"TOKEN_TTL": "3600"},  # short, low entropy
        {"NODE_ENV": "production", "TABLE_NAME": "acme-main"},
        {"DATABASE_URL": "postgres://db.internal:5432/app"},  # no inline password
    ],
)
def test_does_not_flag(variables):
    assert find_secrets(variables, **OPTIONS) == []


def test_fingerprint_is_stable_short_and_not_the_value():
    assert fingerprint(DB_PASSWORD) == fingerprint(DB_PASSWORD)
    assert fingerprint(DB_PASSWORD) != fingerprint(DB_PASSWORD + "x")
    assert DB_PASSWORD not in fingerprint(DB_PASSWORD) and len(fingerprint(DB_PASSWORD)) == len("sha256:") + 10


def test_user_data_text():
    script = f"#!/bin/bash\nexport AWS_ACCESS_KEY_ID={ACCESS_KEY}\nexport DB_PASSWORD='{DB_PASSWORD}'\necho ok\n"
    hits = find_secrets_in_text(script, **OPTIONS)
    assert {h.kind for h in hits} >= {"aws_access_key_id", "named_secret"}
    assert all(ACCESS_KEY not in h.key and DB_PASSWORD not in h.key for h in hits)


def test_redact_evidence_is_a_second_line_of_defence():
    evidence = {
        "note": f"found {ACCESS_KEY} in user data",
        "master_password": "hunter2hunter2",
        "nested": {"url": f"mysql://root:{DB_PASSWORD}@host/db", "count": 3},
        "secrets": [{"key": "DB_PASSWORD", "kind": "named_secret", "fingerprint": "sha256:00", "value": REDACTED}],
    }
    redacted = json.dumps(redact_evidence(evidence))
    for value in (ACCESS_KEY, "hunter2hunter2", DB_PASSWORD):
        assert value not in redacted
    assert '"key": "DB_PASSWORD"' in redacted and '"count": 3' in redacted


def test_redact_text_keeps_documentation_examples_and_plain_text():
    assert redact_text("example AKIAIOSFODNN7EXAMPLE") == "example AKIAIOSFODNN7EXAMPLE"
    assert redact_text("nothing secret here") == "nothing secret here"


@pytest.mark.parametrize(
    "variables",
    [
        {"SECRET_NAME": "prod/myapp/db"},  # where the secret lives: the recommended pattern
        {"DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"},
        {"TOKEN_ENDPOINT": "https://auth.example.com/oauth2/token"},
        {"AUTH_MODE": "cognito_user_pool", "AUTHOR": "Jane Q. Public"},
        {"PASSWORD_FILE": "/run/secrets/db_password"},
    ],
)
def test_names_and_locations_of_secrets_are_not_secrets(variables):
    assert find_secrets(variables, **OPTIONS) == []


def test_secret_inside_a_value():
    hits = find_secrets({"JAVA_OPTS": f"-Xmx1g -Ddb.password={DB_PASSWORD} -Dfoo=bar"}, **OPTIONS)
    assert [(h.key, h.kind) for h in hits] == [("JAVA_OPTS: Ddb.password", "named_secret")]


def test_slack_webhook():
    url = "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/abcdefghijklmnopqrstuvwx"
    assert [h.kind for h in find_secrets({"ALERTS": url}, **OPTIONS)] == ["slack_webhook"]
