"""Checks that read parameter groups: TLS required per engine, Aurora MySQL audit logging."""
from __future__ import annotations

from typing import Any

import pytest

from auditor import Status

from ..conftest import statuses
from .test_rds_settings import make_cluster, make_instance

TLS = "rds_instance_transport_encryption_required"
AUDIT = "rds_cluster_audit_logging_enabled"

ENGINES = [  # engine, version, DB parameter group family, TLS parameter, value that enforces TLS
    ("postgres", "14.9", "postgres14", "rds.force_ssl", "1"),
    ("mysql", "8.0.35", "mysql8.0", "require_secure_transport", "ON"),
    ("mariadb", "10.11.5", "mariadb10.11", "require_secure_transport", "1"),
    ("sqlserver-se", "15.00.4345.5.v1", "sqlserver-se-15.0", "rds.force_ssl", "1"),
]


def parameter_group(aws, name: str, family: str, **parameters: str) -> str:
    rds = aws.client("rds")
    rds.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily=family, Description=name)
    if parameters:
        rds.modify_db_parameter_group(DBParameterGroupName=name, Parameters=[
            {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "immediate"} for k, v in parameters.items()])
    return name


@pytest.mark.parametrize("engine,version,family,parameter,value", ENGINES, ids=[e[0] for e in ENGINES])
def test_tls_required_passes_else_fails(audit, aws, engine, version, family, parameter, value):
    strict = parameter_group(aws, "strict", family, **{parameter: value})
    lax = parameter_group(aws, "lax", family, **{parameter: "0"})
    extra: dict[str, Any] = {"LicenseModel": "license-included"} if engine.startswith("sqlserver") else {}
    make_instance(aws, "strict", engine=engine, EngineVersion=version, DBParameterGroupName=strict, **extra)
    make_instance(aws, "lax", engine=engine, EngineVersion=version, DBParameterGroupName=lax, **extra)
    make_instance(aws, "default", engine=engine, EngineVersion=version, **extra)
    run = audit(TLS)
    assert statuses(run) == {"strict": "PASS", "lax": "FAIL", "default": "FAIL"}
    by = {f.resource.id: f for f in run.findings}
    assert by["strict"].evidence["value"] == value and by["strict"].evidence["value_from"] == "parameter group strict"
    assert by["lax"].evidence["parameter"] == parameter and "accepts unencrypted" in by["lax"].message
    # moto has no engine default groups (DBParameterGroupNotFound): the engine default applies.
    assert by["default"].evidence["value_from"] == "engine default"


def test_postgres_15_requires_tls_by_default(audit, aws):
    make_instance(aws, "modern", EngineVersion="15.4")
    run = audit(TLS)
    assert statuses(run) == {"modern": "PASS"}
    assert run.findings[0].evidence["value"] == "1" and run.findings[0].evidence["value_from"] == "engine default"


def test_tls_check_skips_engines_without_the_setting(audit, aws):
    make_cluster(aws, "aurora", members=("us-east-1a",))
    run = audit(TLS)
    assert run.findings == ()


def test_denied_parameter_read_errors_the_instance(audit, aws, faults):
    make_instance(aws, "db", DBParameterGroupName=parameter_group(aws, "custom", "postgres14"), EngineVersion="14.9")
    faults.deny("rds", "DescribeDBParameters")
    run = audit(TLS)
    [finding] = run.findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "rds:DescribeDBParameters"


def cluster_parameter_group(aws, name: str, **parameters: str) -> str:
    rds = aws.client("rds")
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=name, DBParameterGroupFamily="aurora-mysql8.0",
                                          Description=name)
    if parameters:
        rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=name, Parameters=[
            {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "immediate"} for k, v in parameters.items()])
    return name


def test_aurora_mysql_audit_logging(audit, aws):
    audited = cluster_parameter_group(aws, "audited", server_audit_logging="1")
    quiet = cluster_parameter_group(aws, "quiet", server_audit_logging="0")
    make_cluster(aws, "audited", engine="aurora-mysql", DBClusterParameterGroupName=audited)
    make_cluster(aws, "quiet", engine="aurora-mysql", DBClusterParameterGroupName=quiet)
    make_cluster(aws, "default", engine="aurora-mysql")
    make_cluster(aws, "postgres", engine="aurora-postgresql")  # not Aurora MySQL: not judged
    run = audit(AUDIT)
    assert statuses(run) == {"audited": "PASS", "quiet": "FAIL", "default": "FAIL"}
    by = {f.resource.id: f for f in run.findings}
    assert by["quiet"].evidence == {"parameter": "server_audit_logging", "value": "0",
                                    "value_from": "parameter group", "parameter_group": "quiet"}
    assert by["default"].evidence["value_from"] == "engine default"
    assert "audit logging disabled" in by["quiet"].message


@pytest.mark.parametrize("check_id", [TLS, AUDIT])
def test_no_databases_no_findings(audit, check_id):
    run = audit(check_id)
    assert run.findings == () and run.errors == ()
