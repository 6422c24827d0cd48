"""RDS checks that read DB parameter groups: TLS enforcement and Aurora MySQL audit logging.

A parameter a group does not set (or a group the service does not return, such as an engine's default group in
some implementations) holds the engine default, which the tables below record per engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import DbCluster, DbInstance, db_cluster_parameters, db_clusters, db_instances, db_parameters

ENABLED_VALUES = frozenset({"1", "on", "true"})


@dataclass(frozen=True)
class TlsSetting:
    parameter: str
    default: Callable[[str], str]  # engine version -> the engine's default value


def _major(version: str) -> int:
    match = re.match(r"(\d+)", version)
    return int(match.group(1)) if match else 0


# RDS for PostgreSQL turned rds.force_ssl on by default from major version 15.
TLS_SETTINGS: dict[str, TlsSetting] = {
    "postgres": TlsSetting("rds.force_ssl", lambda version: "1" if _major(version) >= 15 else "0"),
    "mysql": TlsSetting("require_secure_transport", lambda version: "0"),
    "mariadb": TlsSetting("require_secure_transport", lambda version: "0"),
    "sqlserver": TlsSetting("rds.force_ssl", lambda version: "0"),
}


class RdsInstanceTransportEncryptionRequired(Check):
    """Unless the parameter group requires it (rds.force_ssl for PostgreSQL and SQL Server,
    require_secure_transport for MySQL and MariaDB), the engine accepts unencrypted connections, and clients
    that do not ask for TLS send credentials and data in plain text. The setting is read from each of the
    instance's DB parameter groups; where the group does not set it, the engine default applies (on for
    PostgreSQL 15 and later, off otherwise)."""

    id = "rds_instance_transport_encryption_required"
    service = "rds"
    severity = Severity.MEDIUM
    title = "RDS DB instances require encrypted connections"
    risk = "Credentials, queries and results can cross the network in plain text and be read or altered."
    remediation = Remediation(
        text="Use a custom DB parameter group that sets rds.force_ssl = 1 (PostgreSQL, SQL Server) or "
             "require_secure_transport = ON (MySQL, MariaDB), attach it and reboot if the parameter is static.",
        cli="aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "
            "ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=immediate",
        terraform='resource "aws_db_parameter_group" "main" {\n'
                  '  name   = "${var.project}-postgres15"\n'
                  '  family = "postgres15"\n\n'
                  '  parameter {\n'
                  '    name  = "rds.force_ssl"\n'
                  '    value = "1"\n'
                  '  }\n'
                  '}\n\n'
                  'resource "aws_db_instance" "main" {\n'
                  '  identifier = "${var.project}-db"\n'
                  '  # ...\n'
                  '  parameter_group_name = aws_db_parameter_group.main.name\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html",
    )
    compliance = (Control("aws-fsbp", "RDS.38"), Control("aws-fsbp", "RDS.39"), Control("aws-fsbp", "RDS.41"),
                  Control("aws-fsbp", "RDS.44"))
    api_calls = ("rds:DescribeDBInstances", "rds:DescribeDBParameters")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        applicable = [i for i in db_instances(ctx) if i.family in TLS_SETTINGS]
        yield from ctx.each(applicable, lambda instance: self._evaluate_one(ctx, instance))

    def _evaluate_one(self, ctx: CheckContext, instance: DbInstance) -> Iterator[Finding]:
        setting = TLS_SETTINGS[instance.family]
        value, source = setting.default(instance.engine_version), "engine default"
        for group in instance.parameter_groups:
            configured = (db_parameters(ctx, group) or {}).get(setting.parameter)
            if configured is not None:
                value, source = configured, f"parameter group {group}"
        evidence = {"parameter": setting.parameter, "value": value, "value_from": source,
                    "parameter_groups": list(instance.parameter_groups), "engine": instance.engine,
                    "engine_version": instance.engine_version}
        if value.lower() in ENABLED_VALUES:
            yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} requires encrypted connections "
                             f"({setting.parameter} = {value}, {source}).", evidence)
        else:
            yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} accepts unencrypted connections "
                             f"({setting.parameter} = {value}, {source}).", evidence)


class RdsClusterAuditLoggingEnabled(Check):
    """Aurora MySQL's Advanced Auditing records connections, queries and table access when the DB cluster
    parameter group sets server_audit_logging = 1 (off by default). Without it there is no record of who read or
    changed which data; exporting the audit log to CloudWatch Logs is judged by rds_cluster_cloudwatch_logs_enabled."""

    id = "rds_cluster_audit_logging_enabled"
    service = "rds"
    severity = Severity.MEDIUM
    category = Category.SECURITY
    title = "Aurora MySQL DB clusters have audit logging enabled"
    risk = "Database logins, queries and data changes leave no audit trail."
    remediation = Remediation(
        text="Set server_audit_logging = 1 (and server_audit_events, e.g. CONNECT,QUERY_DCL,QUERY_DDL) in a "
             "custom DB cluster parameter group attached to the cluster, and export the audit log.",
        cli="aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name <group> --parameters "
            "ParameterName=server_audit_logging,ParameterValue=1,ApplyMethod=immediate "
            "ParameterName=server_audit_events,ParameterValue=CONNECT,QUERY_DCL,QUERY_DDL,ApplyMethod=immediate",
        terraform='resource "aws_rds_cluster_parameter_group" "main" {\n'
                  '  name   = "${var.project}-aurora-mysql8"\n'
                  '  family = "aurora-mysql8.0"\n\n'
                  '  parameter {\n'
                  '    name  = "server_audit_logging"\n'
                  '    value = "1"\n'
                  '  }\n'
                  '}\n\n'
                  'resource "aws_rds_cluster" "main" {\n'
                  '  cluster_identifier = "${var.project}-aurora"\n'
                  '  # ...\n'
                  '  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.main.name\n'
                  '  enabled_cloudwatch_logs_exports = ["audit"]\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Auditing.html",
    )
    compliance = (Control("aws-fsbp", "RDS.45"),)
    api_calls = ("rds:DescribeDBClusters", "rds:DescribeDBClusterParameters")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        applicable = [c for c in db_clusters(ctx).values() if c.family == "aurora-mysql"]
        yield from ctx.each(applicable, lambda cluster: self._evaluate_one(ctx, cluster))

    def _evaluate_one(self, ctx: CheckContext, cluster: DbCluster) -> Iterator[Finding]:
        configured = None
        if cluster.parameter_group:
            configured = (db_cluster_parameters(ctx, cluster.parameter_group) or {}).get("server_audit_logging")
        value = configured if configured is not None else "0"
        evidence = {"parameter": "server_audit_logging", "value": value,
                    "value_from": "engine default" if configured is None else "parameter group",
                    "parameter_group": cluster.parameter_group}
        if value.lower() in ENABLED_VALUES:
            yield ctx.passed(cluster.resource, f"RDS DB cluster {cluster.id} has audit logging enabled.", evidence)
        else:
            yield ctx.failed(cluster.resource, f"RDS DB cluster {cluster.id} has audit logging disabled "
                             f"(server_audit_logging = {value}).", evidence)
