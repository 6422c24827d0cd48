"""Checks that each judge one setting of a DB instance or DB cluster, defined as rows of a table.

Each row (`Rule`) names the check, its controls and severity, which resources it applies to, how to read the
setting and when the setting is right. `_define` turns a row into a `Check` subclass of `InstanceSettingCheck`
or `ClusterSettingCheck`, so each row is still a check of its own, with its own id, metadata and findings.

Settings that Aurora (and Multi-AZ DB clusters) keep on the DB cluster — deletion protection, IAM authentication,
log exports, copying tags, the administrator name, Multi-AZ — are judged by the cluster rows; the instance rows
skip cluster members for them. Settings that stay per instance (Enhanced Monitoring, minor version upgrades,
Performance Insights, the VPC, the port) are judged on every instance.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Generic, Iterable, Iterator, TypeVar

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.check import camel_case

from .resources import DbCluster, DbInstance, db_clusters, db_instances

R = TypeVar("R", DbInstance, DbCluster)
Param = Callable[[str], Any]

# The port each engine family listens on unless told otherwise (RDS.23).
DEFAULT_PORTS: dict[str, int] = {
    "mysql": 3306, "mariadb": 3306, "aurora-mysql": 3306, "postgres": 5432, "aurora-postgresql": 5432,
    "oracle": 1521, "sqlserver": 1433, "db2": 50000,
}
# Engine families that support IAM database authentication.
IAM_AUTH_FAMILIES = frozenset({"mysql", "mariadb", "postgres", "aurora-mysql", "aurora-postgresql"})
LOG_EXPORT_FAMILIES = ("postgres", "mysql", "mariadb", "oracle", "sqlserver", "aurora-mysql", "aurora-postgresql")
LOG_EXPORT_PARAMETERS = tuple(f"rds.required_log_exports.{family}" for family in LOG_EXPORT_FAMILIES)


@dataclass(frozen=True)
class Rule(Generic[R]):
    """One setting check: metadata, applicability, how to read the setting and when it is right."""

    id: str
    title: str
    severity: Severity
    compliance: tuple[Control, ...]
    description: str  # why it matters: becomes the check's docstring
    risk: str
    remediation: Remediation
    setting: str  # evidence key of the value
    read: Callable[[R], Any]
    ok: Callable[[Any, dict[str, Any], Param], bool]  # (value, extra, param) -> the setting is right
    passed: str  # completes "RDS DB instance <id> ..."; may use {value} and the keys of `extra`
    failed: str
    applies: Callable[[R], bool] = lambda resource: True
    extra: Callable[[R, Param], dict[str, Any]] = lambda resource, param: {}
    category: Category = Category.SECURITY
    parameters: tuple[str, ...] = ()


class _SettingCheck(Check, Generic[R]):
    """Shared evaluation of the rows: one finding per resource the rule applies to."""

    rule: ClassVar[Rule[Any]]
    noun: ClassVar[str]

    def resources(self, ctx: CheckContext) -> Iterable[R]:
        raise NotImplementedError

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        rule = self.rule
        for resource in self.resources(ctx):
            if not rule.applies(resource):
                continue
            value = rule.read(resource)
            extra = rule.extra(resource, ctx.param)
            evidence = {rule.setting: list(value) if isinstance(value, tuple) else value,
                        "engine": resource.engine,
                        **{key: item for key, item in extra.items() if not key.startswith("_")}}  # _: wording
            fields = {"value": value, **extra}
            if rule.ok(value, extra, ctx.param):
                yield ctx.passed(resource.resource, f"{self.noun} {resource.id} {rule.passed.format(**fields)}.",
                                 evidence)
            else:
                yield ctx.failed(resource.resource, f"{self.noun} {resource.id} {rule.failed.format(**fields)}.",
                                 evidence)


class InstanceSettingCheck(_SettingCheck[DbInstance]):
    noun = "RDS DB instance"
    api_calls = ("rds:DescribeDBInstances",)

    def resources(self, ctx: CheckContext) -> Iterable[DbInstance]:
        return db_instances(ctx)


class ClusterSettingCheck(_SettingCheck[DbCluster]):
    noun = "RDS DB cluster"
    api_calls = ("rds:DescribeDBClusters",)

    def resources(self, ctx: CheckContext) -> Iterable[DbCluster]:
        return db_clusters(ctx).values()


def _define(rule: Rule[Any], base: type[_SettingCheck[Any]]) -> type[Check]:
    name = camel_case(rule.id)
    return type(name, (base,), {
        "__doc__": rule.description, "__module__": __name__, "__qualname__": name, "rule": rule,
        "id": rule.id, "service": "rds", "severity": rule.severity, "category": rule.category,
        "title": rule.title, "risk": rule.risk, "remediation": rule.remediation, "compliance": rule.compliance,
        "parameters": rule.parameters,
    })


# -- helpers for the rows ----------------------------------------------------------------------------------------
def _standalone(instance: DbInstance) -> bool:
    return instance.cluster_id is None


def _modify_instance(options: str) -> str:
    return f"aws rds modify-db-instance --db-instance-identifier <instance> {options} --apply-immediately"


def _modify_cluster(options: str) -> str:
    return f"aws rds modify-db-cluster --db-cluster-identifier <cluster> {options} --apply-immediately"


def _tf_instance(*settings: str) -> str:
    body = "".join(f"  {line}\n" for line in settings)
    return f'resource "aws_db_instance" "main" {{\n  identifier = "${{var.project}}-db"\n  # ...\n{body}}}'


def _tf_cluster(*settings: str) -> str:
    body = "".join(f"  {line}\n" for line in settings)
    return (f'resource "aws_rds_cluster" "main" {{\n  cluster_identifier = "${{var.project}}-aurora"\n'
            f'  # ...\n{body}}}')


def _tf_cluster_instance(*settings: str) -> str:
    body = "".join(f"  {line}\n" for line in settings)
    return (f'resource "aws_rds_cluster_instance" "main" {{\n  identifier         = "${{var.project}}-aurora-0"\n'
            f'  cluster_identifier = aws_rds_cluster.main.id\n  # ...\n{body}}}')


def _required_logs(resource: DbInstance | DbCluster, param: Param) -> dict[str, Any]:
    family = resource.family
    required = list(param(f"rds.required_log_exports.{family}")) if family in LOG_EXPORT_FAMILIES else []
    missing = [log for log in required if log not in resource.log_exports]
    return {"required_log_exports": required, "missing_log_exports": missing,
            "_missing": ", ".join(missing) or "any"}


def _exports_ok(exports: tuple[str, ...], extra: dict[str, Any], param: Param) -> bool:
    return not extra["missing_log_exports"] if extra["required_log_exports"] else bool(exports)


def _enabled(value: Any, extra: dict[str, Any], param: Param) -> bool:
    return value is True


def _default_admin(name: str, param: Param) -> bool:
    return name.lower() in {n.lower() for n in param("rds.default_admin_usernames")}


_RDS = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide"
_AURORA = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide"

INSTANCE_RULES: tuple[Rule[DbInstance], ...] = (
    Rule(
        id="rds_instance_multi_az_enabled",
        title="RDS DB instances are deployed in multiple Availability Zones",
        severity=Severity.MEDIUM, category=Category.RELIABILITY,
        compliance=(Control("aws-fsbp", "RDS.5"), Control("cis-aws-4.0.1", "2.2.4")),
        description="A Multi-AZ DB instance keeps a synchronous standby in another Availability Zone and fails "
                    "over to it automatically when the primary, its storage or its zone fails. A Single-AZ "
                    "instance is down until it is restored from backup. Cluster members are judged by their "
                    "cluster (rds_cluster_multi_az_enabled).",
        risk="An Availability Zone outage or a storage failure takes a Single-AZ database down until it is restored.",
        remediation=Remediation(
            text="Convert the instance to a Multi-AZ deployment (done online; briefly affects performance).",
            cli=_modify_instance("--multi-az"), terraform=_tf_instance("multi_az = true"),
            url=f"{_RDS}/Concepts.MultiAZSingleStandby.html"),
        setting="multi_az", read=lambda i: i.multi_az, ok=_enabled,
        passed="is deployed in multiple Availability Zones", failed="is deployed in a single Availability Zone",
        applies=_standalone,
    ),
    Rule(
        id="rds_instance_enhanced_monitoring_enabled",
        title="RDS DB instances have Enhanced Monitoring enabled",
        severity=Severity.LOW, category=Category.OPERATIONS,
        compliance=(Control("aws-fsbp", "RDS.6"),),
        description="Enhanced Monitoring collects operating-system metrics (CPU steal, memory, file system, "
                    "processes) from an agent on the database host, at an interval of 1 to 60 seconds. Without "
                    "it, diagnosing a slow or stuck database relies on one-minute hypervisor metrics only.",
        risk="Resource exhaustion inside the database host goes unseen until it causes an outage.",
        remediation=Remediation(
            text="Enable Enhanced Monitoring with a monitoring role and an interval no longer than the required "
                 "one.",
            cli=_modify_instance("--monitoring-interval 60 --monitoring-role-arn <rds-monitoring-role-arn>"),
            terraform=_tf_instance("monitoring_interval = 60",
                                   "monitoring_role_arn = aws_iam_role.rds_monitoring.arn"),
            url=f"{_RDS}/USER_Monitoring.OS.Enabling.html"),
        setting="monitoring_interval_seconds", read=lambda i: i.monitoring_interval_seconds,
        ok=lambda v, x, p: 0 < v <= x["max_interval_seconds"],
        passed="has Enhanced Monitoring every {value} seconds",
        failed="has Enhanced Monitoring {_state}; at most {max_interval_seconds} seconds between samples are "
               "required",
        extra=lambda i, p: {
            "max_interval_seconds": int(p("rds.monitoring_interval_max_seconds")),
            "_state": f"every {i.monitoring_interval_seconds} seconds" if i.monitoring_interval_seconds else "disabled",
        },
        parameters=("rds.monitoring_interval_max_seconds",),
    ),
    Rule(
        id="rds_instance_deletion_protection_enabled",
        title="RDS DB instances have deletion protection enabled",
        severity=Severity.LOW, category=Category.RELIABILITY,
        compliance=(Control("aws-fsbp", "RDS.8"),),
        description="Deletion protection makes a delete request fail until the setting is turned off, so a "
                    "mistaken console click, script or Terraform plan cannot remove the database. Cluster "
                    "members are protected by their cluster's setting (rds_cluster_deletion_protection_enabled).",
        risk="A database can be deleted by one mistaken call, losing data written since the last snapshot.",
        remediation=Remediation(
            text="Enable deletion protection on the instance.",
            cli=_modify_instance("--deletion-protection"), terraform=_tf_instance("deletion_protection = true"),
            url=f"{_RDS}/USER_DeleteInstance.html#USER_DeletionProtection"),
        setting="deletion_protection", read=lambda i: i.deletion_protection, ok=_enabled,
        passed="has deletion protection enabled", failed="has deletion protection disabled",
        applies=_standalone,
    ),
    Rule(
        id="rds_instance_cloudwatch_logs_enabled",
        title="RDS DB instances export their database logs to CloudWatch Logs",
        severity=Severity.MEDIUM, category=Category.OPERATIONS,
        compliance=(Control("aws-fsbp", "RDS.9"), Control("aws-fsbp", "RDS.36"), Control("aws-fsbp", "RDS.40"),
                    Control("aws-fsbp", "RDS.42")),
        description="Database logs (errors, audit, slow queries, PostgreSQL's log, SQL Server's agent log) stay "
                    "on the instance and rotate away within days unless they are exported to CloudWatch Logs, "
                    "where they are retained, searchable and can raise alarms. The log types each engine must "
                    "export are parameters (rds.required_log_exports.<engine>). Cluster members are judged by "
                    "their cluster (rds_cluster_cloudwatch_logs_enabled).",
        risk="Failed logins, errors and suspicious queries leave no lasting record to investigate or alert on.",
        remediation=Remediation(
            text="Enable the export of the engine's log types to CloudWatch Logs (for MySQL and MariaDB audit "
                 "logs, also add the MARIADB_AUDIT_PLUGIN option to the option group).",
            cli=_modify_instance("--cloudwatch-logs-export-configuration "
                                 "'{\"EnableLogTypes\":[\"postgresql\",\"upgrade\"]}'"),
            terraform=_tf_instance('enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]'),
            url=f"{_RDS}/USER_LogAccess.Procedural.UploadtoCloudWatch.html"),
        setting="log_exports", read=lambda i: i.log_exports,
        ok=_exports_ok,
        passed="exports its logs to CloudWatch Logs", failed="does not export {_missing} logs to CloudWatch Logs",
        applies=_standalone, extra=_required_logs, parameters=LOG_EXPORT_PARAMETERS,
    ),
    Rule(
        id="rds_instance_iam_authentication_enabled",
        title="RDS DB instances have IAM database authentication enabled",
        severity=Severity.MEDIUM,
        compliance=(Control("aws-fsbp", "RDS.10"),),
        description="IAM database authentication lets applications and people log in with short-lived tokens "
                    "issued to IAM identities instead of long-lived database passwords, so access is granted, "
                    "revoked and logged centrally. It applies to MySQL, MariaDB and PostgreSQL. Cluster members "
                    "are judged by their cluster (rds_cluster_iam_authentication_enabled).",
        risk="Database access relies on shared static passwords that are hard to rotate and revoke.",
        remediation=Remediation(
            text="Enable IAM database authentication, then grant rds-db:connect to the identities that need it.",
            cli=_modify_instance("--enable-iam-database-authentication"),
            terraform=_tf_instance("iam_database_authentication_enabled = true"),
            url=f"{_RDS}/UsingWithRDS.IAMDBAuth.Enabling.html"),
        setting="iam_database_authentication", read=lambda i: i.iam_auth, ok=_enabled,
        passed="has IAM database authentication enabled", failed="has IAM database authentication disabled",
        applies=lambda i: _standalone(i) and i.family in IAM_AUTH_FAMILIES,
    ),
    Rule(
        id="rds_instance_auto_minor_version_upgrade_enabled",
        title="RDS DB instances have automatic minor version upgrades enabled",
        severity=Severity.HIGH,
        compliance=(Control("aws-fsbp", "RDS.13"), Control("cis-aws-3.0", "2.3.2"),
                    Control("cis-aws-4.0.1", "2.2.2")),
        description="Minor engine versions carry security fixes. With automatic minor version upgrades RDS "
                    "applies them in the maintenance window; without, the database keeps known vulnerabilities "
                    "until someone upgrades it by hand. For Aurora the setting is per instance.",
        risk="Known, fixed vulnerabilities of the database engine stay exploitable.",
        remediation=Remediation(
            text="Enable automatic minor version upgrades (applied in the preferred maintenance window).",
            cli=_modify_instance("--auto-minor-version-upgrade"),
            terraform=_tf_instance("auto_minor_version_upgrade = true"),
            url=f"{_RDS}/USER_UpgradeDBInstance.Maintenance.html"
                "#USER_UpgradeDBInstance.Upgrading.AutoMinorVersionUpgrades"),
        setting="auto_minor_version_upgrade", read=lambda i: i.auto_minor_version_upgrade, ok=_enabled,
        passed="has automatic minor version upgrades enabled", failed="has automatic minor version upgrades disabled",
    ),
    Rule(
        id="rds_instance_copy_tags_to_snapshot_enabled",
        title="RDS DB instances copy their tags to snapshots",
        severity=Severity.LOW, category=Category.OPERATIONS,
        compliance=(Control("aws-fsbp", "RDS.17"),),
        description="Snapshots inherit the instance's tags only when CopyTagsToSnapshot is on. Untagged snapshots "
                    "escape tag-based access control (ABAC), cost allocation and retention automation. Cluster "
                    "members are judged by their cluster (rds_cluster_copy_tags_to_snapshot_enabled).",
        risk="Snapshots lose the owner, environment and data classification that policies and clean-up rely on.",
        remediation=Remediation(
            text="Enable copying tags to snapshots.",
            cli=_modify_instance("--copy-tags-to-snapshot"), terraform=_tf_instance("copy_tags_to_snapshot = true"),
            url=f"{_RDS}/USER_Tagging.html#USER_Tagging.CopyTags"),
        setting="copy_tags_to_snapshot", read=lambda i: i.copy_tags_to_snapshot, ok=_enabled,
        passed="copies its tags to snapshots", failed="does not copy its tags to snapshots",
        applies=_standalone,
    ),
    Rule(
        id="rds_instance_in_vpc",
        title="RDS DB instances are deployed in a VPC",
        severity=Severity.HIGH,
        compliance=(Control("aws-securityhub", "RDS.18"),),
        description="A DB instance in a VPC sits behind security groups and network ACLs in subnets you choose. "
                    "An instance without a DB subnet group in a VPC (EC2-Classic, retired) has none of those "
                    "network controls.",
        risk="The database lacks network isolation and security-group filtering.",
        remediation=Remediation(
            text="Move the instance into a VPC: create a DB subnet group of private database subnets and modify "
                 "the instance to use it (or restore a snapshot into the VPC).",
            cli=_modify_instance("--db-subnet-group-name <database-subnet-group>"),
            terraform=_tf_instance("db_subnet_group_name   = module.vpc.database_subnet_group_name",
                                   "vpc_security_group_ids = [aws_security_group.db.id]"),
            url=f"{_RDS}/USER_VPC.WorkingWithRDSInstanceinaVPC.html"),
        setting="vpc_id", read=lambda i: i.vpc_id, ok=lambda v, x, p: bool(v),
        passed="is deployed in VPC {value}", failed="is not deployed in a VPC",
    ),
    Rule(
        id="rds_instance_default_port_not_used",
        title="RDS DB instances do not listen on their engine's default port",
        severity=Severity.LOW,
        compliance=(Control("aws-fsbp", "RDS.23"),),
        description="Scanners probe 3306, 5432, 1433 and 1521 first. A non-default port is no substitute for "
                    "network controls, but it removes the database from the cheapest automated scans and "
                    "credential-stuffing runs.",
        risk="The database is found and attacked by the cheapest automated scans.",
        remediation=Remediation(
            text="Change the database port (clients and security groups must follow).",
            cli=_modify_instance("--db-port-number <port>"), terraform=_tf_instance("port = var.db_port"),
            url=f"{_RDS}/USER_ModifyInstance.Settings.html"),
        setting="port", read=lambda i: i.port, ok=lambda v, x, p: v is not None and v != x["default_port"],
        passed="listens on non-default port {value}", failed="listens on its engine's default port {value}",
        applies=lambda i: i.family in DEFAULT_PORTS, extra=lambda i, p: {"default_port": DEFAULT_PORTS[i.family]},
    ),
    Rule(
        id="rds_instance_custom_admin_username",
        title="RDS DB instances use a custom administrator user name",
        severity=Severity.MEDIUM,
        compliance=(Control("aws-fsbp", "RDS.25"),),
        description="Password-guessing against a database starts with the engine's default administrator name "
                    "(admin, postgres). A custom name means an attacker has to guess both halves of the "
                    "credential. The names that count as default are a parameter (rds.default_admin_usernames). "
                    "Cluster members are judged by their cluster (rds_cluster_custom_admin_username).",
        risk="Brute-force attempts need to guess only the password of a well-known administrator account.",
        remediation=Remediation(
            text="The administrator name cannot be changed: create a new instance with a custom name and migrate, "
                 "or restore a snapshot with a new administrator name.",
            cli="aws rds restore-db-instance-from-db-snapshot --db-instance-identifier <new-instance> "
                "--db-snapshot-identifier <snapshot>  # then create a custom administrator and drop the default",
            terraform=_tf_instance('username = "${var.project}_admin"'),
            url=f"{_RDS}/UsingWithRDS.MasterAccounts.html"),
        setting="master_username", read=lambda i: i.master_username,
        ok=lambda v, x, p: bool(v) and not _default_admin(v, p),
        passed="uses custom administrator name {value}", failed="uses default administrator name {value}",
        applies=_standalone, parameters=("rds.default_admin_usernames",),
    ),
    Rule(
        id="rds_instance_performance_insights_enabled",
        title="RDS DB instances have Performance Insights enabled",
        severity=Severity.LOW, category=Category.OPERATIONS,
        compliance=(),
        description="Performance Insights records database load by wait event, SQL statement, host and user, so "
                    "a slowdown can be traced to its query after the fact. The seed architecture enables it on "
                    "every Aurora instance.",
        risk="Slow queries and lock contention cannot be diagnosed after the fact.",
        remediation=Remediation(
            text="Enable Performance Insights (7 days of history are free).",
            cli=_modify_instance("--enable-performance-insights"),
            terraform=_tf_cluster_instance("performance_insights_enabled = true"),
            url=f"{_RDS}/USER_PerfInsights.Enabling.html"),
        setting="performance_insights", read=lambda i: i.performance_insights, ok=_enabled,
        passed="has Performance Insights enabled", failed="has Performance Insights disabled",
    ),
)

CLUSTER_RULES: tuple[Rule[DbCluster], ...] = (
    Rule(
        id="rds_cluster_multi_az_enabled",
        title="RDS DB clusters span multiple Availability Zones",
        severity=Severity.MEDIUM, category=Category.RELIABILITY,
        compliance=(Control("aws-fsbp", "RDS.15"),),
        description="An Aurora cluster with a reader in another Availability Zone fails over to it in about a "
                    "minute; a cluster whose instances all sit in one zone has to create a new writer first. "
                    "Multi-AZ DB clusters always span three zones.",
        risk="A zone outage or writer failure causes a long outage while a new instance is created.",
        remediation=Remediation(
            text="Add a reader instance in another Availability Zone.",
            cli="aws rds create-db-instance --db-cluster-identifier <cluster> --db-instance-identifier "
                "<cluster>-1 --engine <engine> --db-instance-class <class> --availability-zone <other-az>",
            terraform=_tf_cluster_instance('count = var.environment == "prod" ? 2 : 1'),
            url=f"{_AURORA}/Concepts.AuroraHighAvailability.html"),
        setting="multi_az", read=lambda c: c.multi_az, ok=_enabled,
        passed="spans multiple Availability Zones", failed="runs in a single Availability Zone",
    ),
    Rule(
        id="rds_cluster_deletion_protection_enabled",
        title="RDS DB clusters have deletion protection enabled",
        severity=Severity.LOW, category=Category.RELIABILITY,
        compliance=(Control("aws-fsbp", "RDS.7"),),
        description="Deletion protection makes a delete request for the cluster fail until the setting is "
                    "turned off, so a mistaken call or Terraform plan cannot remove the database.",
        risk="A cluster can be deleted by one mistaken call, losing data written since the last snapshot.",
        remediation=Remediation(
            text="Enable deletion protection on the cluster.",
            cli=_modify_cluster("--deletion-protection"), terraform=_tf_cluster("deletion_protection = true"),
            url=f"{_AURORA}/USER_DeleteCluster.html#USER_DeletionProtection"),
        setting="deletion_protection", read=lambda c: c.deletion_protection, ok=_enabled,
        passed="has deletion protection enabled", failed="has deletion protection disabled",
    ),
    Rule(
        id="rds_cluster_iam_authentication_enabled",
        title="RDS DB clusters have IAM database authentication enabled",
        severity=Severity.MEDIUM,
        compliance=(Control("aws-fsbp", "RDS.12"),),
        description="IAM database authentication lets applications log in with short-lived tokens issued to "
                    "IAM identities instead of long-lived database passwords, so access is granted, revoked and "
                    "logged centrally.",
        risk="Database access relies on shared static passwords that are hard to rotate and revoke.",
        remediation=Remediation(
            text="Enable IAM database authentication on the cluster, then grant rds-db:connect.",
            cli=_modify_cluster("--enable-iam-database-authentication"),
            terraform=_tf_cluster("iam_database_authentication_enabled = true"),
            url=f"{_AURORA}/UsingWithRDS.IAMDBAuth.Enabling.html"),
        setting="iam_database_authentication", read=lambda c: c.iam_auth, ok=_enabled,
        passed="has IAM database authentication enabled", failed="has IAM database authentication disabled",
        applies=lambda c: c.family in IAM_AUTH_FAMILIES,
    ),
    Rule(
        id="rds_cluster_auto_minor_version_upgrade_enabled",
        title="RDS DB clusters have automatic minor version upgrades enabled",
        severity=Severity.MEDIUM,
        compliance=(Control("aws-fsbp", "RDS.35"),),
        description="Minor engine versions carry security fixes; with automatic minor version upgrades the "
                    "cluster receives them in its maintenance window. Judged where the cluster reports the "
                    "setting (Multi-AZ DB clusters, and Aurora where it is set at cluster level); otherwise "
                    "each instance's setting is judged by rds_instance_auto_minor_version_upgrade_enabled.",
        risk="Known, fixed vulnerabilities of the database engine stay exploitable.",
        remediation=Remediation(
            text="Enable automatic minor version upgrades on the cluster.",
            cli=_modify_cluster("--auto-minor-version-upgrade"),
            terraform=_tf_cluster("auto_minor_version_upgrade = true"),
            url=f"{_RDS}/multi-az-db-clusters-concepts-upgrading.html"),
        setting="auto_minor_version_upgrade", read=lambda c: c.auto_minor_version_upgrade, ok=_enabled,
        passed="has automatic minor version upgrades enabled", failed="has automatic minor version upgrades disabled",
        applies=lambda c: c.auto_minor_version_upgrade is not None,
    ),
    Rule(
        id="rds_cluster_copy_tags_to_snapshot_enabled",
        title="RDS DB clusters copy their tags to snapshots",
        severity=Severity.LOW, category=Category.OPERATIONS,
        compliance=(Control("aws-fsbp", "RDS.16"), Control("aws-fsbp", "RDS.47"), Control("aws-fsbp", "RDS.48")),
        description="Cluster snapshots inherit the cluster's tags only when CopyTagsToSnapshot is on. Untagged "
                    "snapshots escape tag-based access control, cost allocation and retention automation.",
        risk="Snapshots lose the owner, environment and data classification that policies and clean-up rely on.",
        remediation=Remediation(
            text="Enable copying tags to snapshots on the cluster.",
            cli=_modify_cluster("--copy-tags-to-snapshot"), terraform=_tf_cluster("copy_tags_to_snapshot = true"),
            url=f"{_AURORA}/USER_Tagging.html#USER_Tagging.CopyTags"),
        setting="copy_tags_to_snapshot", read=lambda c: c.copy_tags_to_snapshot, ok=_enabled,
        passed="copies its tags to snapshots", failed="does not copy its tags to snapshots",
    ),
    Rule(
        id="rds_cluster_backtracking_enabled",
        title="Aurora MySQL DB clusters have backtracking enabled",
        severity=Severity.MEDIUM, category=Category.RELIABILITY,
        compliance=(Control("aws-fsbp", "RDS.14"),),
        description="Backtracking rewinds an Aurora MySQL cluster to a point in time within minutes, in place, "
                    "without restoring a new cluster from backup: the quickest undo for a bad deployment or an "
                    "accidental DELETE.",
        risk="Undoing a destructive change needs a full point-in-time restore into a new cluster.",
        remediation=Remediation(
            text="Set a backtrack window (in seconds, up to 72 hours).",
            cli=_modify_cluster("--backtrack-window 86400"), terraform=_tf_cluster("backtrack_window = 86400"),
            url=f"{_AURORA}/AuroraMySQL.Managing.Backtrack.html"),
        setting="backtrack_window_seconds", read=lambda c: c.backtrack_window_seconds, ok=lambda v, x, p: v > 0,
        passed="can backtrack {value} seconds", failed="has backtracking disabled",
        applies=lambda c: c.family == "aurora-mysql",
    ),
    Rule(
        id="rds_cluster_custom_admin_username",
        title="RDS DB clusters use a custom administrator user name",
        severity=Severity.MEDIUM,
        compliance=(Control("aws-fsbp", "RDS.24"),),
        description="Password-guessing starts with the engine's default administrator name (admin, postgres). "
                    "A custom name means an attacker has to guess both halves of the credential. The names that "
                    "count as default are a parameter (rds.default_admin_usernames).",
        risk="Brute-force attempts need to guess only the password of a well-known administrator account.",
        remediation=Remediation(
            text="The administrator name cannot be changed: restore a snapshot into a new cluster with a custom "
                 "administrator name and switch clients over.",
            cli="aws rds restore-db-cluster-from-snapshot --db-cluster-identifier <new-cluster> "
                "--snapshot-identifier <snapshot> --engine <engine>",
            terraform=_tf_cluster('master_username = "${var.project}_admin"'),
            url=f"{_AURORA}/UsingWithRDS.MasterAccounts.html"),
        setting="master_username", read=lambda c: c.master_username,
        ok=lambda v, x, p: bool(v) and not _default_admin(v, p),
        passed="uses custom administrator name {value}", failed="uses default administrator name {value}",
        parameters=("rds.default_admin_usernames",),
    ),
    Rule(
        id="rds_cluster_storage_encrypted",
        title="RDS DB clusters are encrypted at rest",
        severity=Severity.MEDIUM,
        compliance=(Control("aws-fsbp", "RDS.27"),),
        description="Encryption at rest protects the cluster volume, its backups and snapshots against anyone "
                    "who obtains the storage or a copied snapshot. It can only be chosen when the cluster is "
                    "created.",
        risk="Data, backups and snapshots of an unencrypted cluster can be read by anyone who gets hold of them.",
        remediation=Remediation(
            text="Restore a snapshot of the cluster into a new cluster with encryption enabled and a KMS key, "
                 "then switch clients over.",
            cli="aws rds restore-db-cluster-from-snapshot --db-cluster-identifier <new-cluster> "
                "--snapshot-identifier <snapshot> --engine <engine> --kms-key-id <kms-key-arn>",
            terraform=_tf_cluster("storage_encrypted = true", "kms_key_id        = aws_kms_key.db.arn"),
            url=f"{_AURORA}/Overview.Encryption.html"),
        setting="storage_encrypted", read=lambda c: c.storage_encrypted, ok=_enabled,
        passed="is encrypted at rest", failed="is not encrypted at rest",
    ),
    Rule(
        id="rds_cluster_cloudwatch_logs_enabled",
        title="RDS DB clusters export their database logs to CloudWatch Logs",
        severity=Severity.MEDIUM, category=Category.OPERATIONS,
        compliance=(Control("aws-fsbp", "RDS.34"), Control("aws-fsbp", "RDS.37")),
        description="Aurora MySQL audit logs and Aurora PostgreSQL's log stay on the instances and rotate away "
                    "unless the cluster exports them to CloudWatch Logs, where they are retained, searchable and "
                    "can raise alarms. The log types each engine must export are parameters "
                    "(rds.required_log_exports.<engine>).",
        risk="Failed logins, errors and suspicious queries leave no lasting record to investigate or alert on.",
        remediation=Remediation(
            text="Enable the export of the engine's log types to CloudWatch Logs on the cluster (Aurora MySQL "
                 "audit logs also need server_audit_logging in the cluster parameter group).",
            cli=_modify_cluster("--cloudwatch-logs-export-configuration '{\"EnableLogTypes\":[\"postgresql\"]}'"),
            terraform=_tf_cluster('enabled_cloudwatch_logs_exports = ["postgresql"]'),
            url=f"{_AURORA}/publishing_cloudwatchlogs.html"),
        setting="log_exports", read=lambda c: c.log_exports, ok=_exports_ok,
        passed="exports its logs to CloudWatch Logs", failed="does not export {_missing} logs to CloudWatch Logs",
        extra=_required_logs, parameters=LOG_EXPORT_PARAMETERS,
    ),
)

for _rule in INSTANCE_RULES:
    globals()[camel_case(_rule.id)] = _define(_rule, InstanceSettingCheck)
for _rule in CLUSTER_RULES:
    globals()[camel_case(_rule.id)] = _define(_rule, ClusterSettingCheck)
