"""The one-setting checks of checks/rds/attribute_checks.py: each makes a FAIL, a PASS, and nothing without
resources. One table row per check: how to create the resource right and wrong, and the evidence to expect."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from auditor import Status

from ..conftest import BOTO, statuses

PASSWORD = "not-a-real-password-1"
MONITORING_ROLE = "arn:aws:iam::123456789012:role/rds-monitoring"


def database_subnet_group(aws, name: str = "database") -> str:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{100 + n}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for n, az in enumerate("ab")]
    aws.client("rds").create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="database",
                                             SubnetIds=subnets)
    return name


def make_instance(aws, name: str, engine: str = "postgres", **options: Any) -> None:
    options.setdefault("MasterUsername", "acme_admin")
    aws.client("rds").create_db_instance(DBInstanceIdentifier=name, Engine=engine, DBInstanceClass="db.t3.micro",
                                         MasterUserPassword=PASSWORD, AllocatedStorage=20, **options)


def make_cluster(aws, name: str, engine: str = "aurora-postgresql", members: tuple[str, ...] = (),
                 **options: Any) -> None:
    rds = aws.client("rds")
    options.setdefault("MasterUsername", "acme_admin")
    rds.create_db_cluster(DBClusterIdentifier=name, Engine=engine, MasterUserPassword=PASSWORD, **options)
    for n, zone in enumerate(members):
        rds.create_db_instance(DBInstanceIdentifier=f"{name}-{n}", DBClusterIdentifier=name, Engine=engine,
                               DBInstanceClass="db.r6g.large", AvailabilityZone=zone)


@dataclass(frozen=True)
class Case:
    check_id: str
    setting: str  # evidence key
    good: dict[str, Any]  # creation options that pass
    bad: dict[str, Any]  # creation options that fail
    good_value: Any
    bad_value: Any
    engine: str | None = None
    needs: Callable[[Any], dict[str, Any]] = field(default=lambda aws: {})  # options that need other resources
    fail_words: str = ""  # expected in the FAIL message

    def __str__(self) -> str:
        return self.check_id


INSTANCE_CASES = [
    Case("rds_instance_multi_az_enabled", "multi_az", {"MultiAZ": True}, {}, True, False,
         fail_words="single Availability Zone"),
    Case("rds_instance_enhanced_monitoring_enabled", "monitoring_interval_seconds",
         {"MonitoringInterval": 30, "MonitoringRoleArn": MONITORING_ROLE}, {}, 30, 0,
         fail_words="Enhanced Monitoring disabled; at most 60 seconds"),
    Case("rds_instance_deletion_protection_enabled", "deletion_protection", {"DeletionProtection": True}, {},
         True, False, fail_words="deletion protection disabled"),
    Case("rds_instance_cloudwatch_logs_enabled", "log_exports",
         {"EnableCloudwatchLogsExports": ["postgresql", "upgrade"]}, {"EnableCloudwatchLogsExports": ["postgresql"]},
         ["postgresql", "upgrade"], ["postgresql"], fail_words="does not export upgrade logs"),
    Case("rds_instance_iam_authentication_enabled", "iam_database_authentication",
         {"EnableIAMDatabaseAuthentication": True}, {}, True, False, fail_words="IAM database authentication"),
    Case("rds_instance_auto_minor_version_upgrade_enabled", "auto_minor_version_upgrade",
         {"AutoMinorVersionUpgrade": True}, {"AutoMinorVersionUpgrade": False}, True, False,
         fail_words="upgrades disabled"),
    Case("rds_instance_copy_tags_to_snapshot_enabled", "copy_tags_to_snapshot", {"CopyTagsToSnapshot": True}, {},
         True, False, fail_words="does not copy"),
    Case("rds_instance_in_vpc", "vpc_id", {}, {}, "vpc-", None,
         needs=lambda aws: {"good": {"DBSubnetGroupName": database_subnet_group(aws)}},
         fail_words="not deployed in a VPC"),
    Case("rds_instance_default_port_not_used", "port", {"Port": 6543}, {}, 6543, 5432,
         fail_words="default port 5432"),
    Case("rds_instance_custom_admin_username", "master_username", {}, {"MasterUsername": "postgres"},
         "acme_admin", "postgres", fail_words="default administrator name postgres"),
]

CLUSTER_CASES = [
    Case("rds_cluster_multi_az_enabled", "multi_az", {"members": ("us-east-1a", "us-east-1b")},
         {"members": ("us-east-1a",)}, True, False, fail_words="single Availability Zone"),
    Case("rds_cluster_deletion_protection_enabled", "deletion_protection", {"DeletionProtection": True}, {},
         True, False, fail_words="deletion protection disabled"),
    Case("rds_cluster_iam_authentication_enabled", "iam_database_authentication",
         {"EnableIAMDatabaseAuthentication": True}, {}, True, False, fail_words="IAM database authentication"),
    Case("rds_cluster_auto_minor_version_upgrade_enabled", "auto_minor_version_upgrade",
         {"AutoMinorVersionUpgrade": True}, {"AutoMinorVersionUpgrade": False}, True, False, engine="postgres",
         fail_words="upgrades disabled"),
    Case("rds_cluster_copy_tags_to_snapshot_enabled", "copy_tags_to_snapshot", {"CopyTagsToSnapshot": True}, {},
         True, False, fail_words="does not copy"),
    Case("rds_cluster_backtracking_enabled", "backtrack_window_seconds", {"BacktrackWindow": 86400}, {},
         86400, 0, engine="aurora-mysql", fail_words="backtracking disabled"),
    Case("rds_cluster_custom_admin_username", "master_username", {}, {"MasterUsername": "admin"},
         "acme_admin", "admin", fail_words="default administrator name admin"),
    Case("rds_cluster_storage_encrypted", "storage_encrypted", {"StorageEncrypted": True}, {}, True, False,
         fail_words="not encrypted"),
    Case("rds_cluster_cloudwatch_logs_enabled", "log_exports", {"EnableCloudwatchLogsExports": ["postgresql"]}, {},
         ["postgresql"], [], fail_words="does not export postgresql logs"),
]


def _create(aws, case: Case, cluster: bool) -> None:
    extra = case.needs(aws)
    for name, options in (("good", case.good), ("bad", case.bad)):
        options = {**options, **extra.get(name, {})}
        if cluster:
            make_cluster(aws, name, **({"engine": case.engine} if case.engine else {}), **options)
        else:
            make_instance(aws, name, **({"engine": case.engine} if case.engine else {}), **options)


def _assert_good_and_bad(run, case: Case) -> None:
    assert statuses(run) == {"good": "PASS", "bad": "FAIL"}
    by = {f.resource.id: f for f in run.findings}
    good, bad = by["good"].evidence[case.setting], by["bad"].evidence[case.setting]
    if isinstance(case.good_value, str) and case.good_value.endswith("-"):
        assert str(good).startswith(case.good_value)
    else:
        assert good == case.good_value
    assert bad == case.bad_value
    assert case.fail_words in by["bad"].message and "bad" in by["bad"].message
    assert "good" in by["good"].message


@pytest.mark.parametrize("case", INSTANCE_CASES, ids=str)
def test_instance_setting_fails_and_passes(audit, aws, case):
    _create(aws, case, cluster=False)
    run = audit(case.check_id)
    _assert_good_and_bad(run, case)
    assert {f.resource.type for f in run.findings} == {"AWS::RDS::DBInstance"}


@pytest.mark.parametrize("case", CLUSTER_CASES, ids=str)
def test_cluster_setting_fails_and_passes(audit, aws, case):
    _create(aws, case, cluster=True)
    run = audit(case.check_id)
    _assert_good_and_bad(run, case)
    assert {f.resource.type for f in run.findings} == {"AWS::RDS::DBCluster"}


@pytest.mark.parametrize("check_id", [c.check_id for c in INSTANCE_CASES + CLUSTER_CASES]
                         + ["rds_instance_performance_insights_enabled"])
def test_no_databases_no_findings(audit, check_id):
    run = audit(check_id)
    assert run.findings == () and run.errors == ()


# -- applicability -------------------------------------------------------------------------------------------------
def test_cluster_members_are_left_to_the_cluster_checks(audit, aws):
    make_cluster(aws, "aurora", members=("us-east-1a",))
    run = audit("rds_instance_deletion_protection_enabled", "rds_instance_multi_az_enabled",
                "rds_instance_custom_admin_username", "rds_instance_auto_minor_version_upgrade_enabled")
    # Auto minor version upgrade stays an instance setting in Aurora; the others belong to the cluster.
    assert {(f.check_id, f.resource.id) for f in run.findings} == {
        ("rds_instance_auto_minor_version_upgrade_enabled", "aurora-0")}


def test_engine_specific_rules_skip_other_engines(audit, aws):
    make_cluster(aws, "pg", engine="aurora-postgresql")
    make_instance(aws, "ora", engine="oracle-ee", MasterUsername="acme_admin", LicenseModel="bring-your-own-license")
    run = audit("rds_cluster_backtracking_enabled", "rds_instance_iam_authentication_enabled")
    assert run.findings == ()


def test_log_requirements_are_parameters(audit, aws):
    make_instance(aws, "pg", EnableCloudwatchLogsExports=["postgresql"])
    run = audit("rds_instance_cloudwatch_logs_enabled", params={"rds.required_log_exports.postgres": ["postgresql"]})
    assert statuses(run) == {"pg": "PASS"}
    assert run.findings[0].evidence["required_log_exports"] == ["postgresql"]


def test_monitoring_interval_is_a_parameter(audit, aws):
    make_instance(aws, "slow", MonitoringInterval=60, MonitoringRoleArn=MONITORING_ROLE)
    run = audit("rds_instance_enhanced_monitoring_enabled", params={"rds.monitoring_interval_max_seconds": 15})
    assert statuses(run) == {"slow": "FAIL"}
    assert "has Enhanced Monitoring every 60 seconds; at most 15 seconds" in run.findings[0].message
    assert run.findings[0].evidence == {"monitoring_interval_seconds": 60, "engine": "postgres",
                                        "max_interval_seconds": 15}


# -- shapes moto does not produce ------------------------------------------------------------------------------------
def _rewrite(operation: str, key: str, edit: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
    def handler(parsed: dict[str, Any], **_: Any) -> None:
        for item in parsed.get(key, []):
            edit(item)

    BOTO.events.register(f"after-call.rds.{operation}", handler)
    return handler


def test_performance_insights_fails_and_passes(audit, aws):
    # moto accepts EnablePerformanceInsights but leaves PerformanceInsightsEnabled out of DescribeDBInstances;
    # AWS returns it: the recorded shape is put back for "good".
    make_instance(aws, "good", EnablePerformanceInsights=True)
    make_instance(aws, "bad")

    def real_shape(instance: dict[str, Any]) -> None:
        instance["PerformanceInsightsEnabled"] = instance["DBInstanceIdentifier"] == "good"

    handler = _rewrite("DescribeDBInstances", "DBInstances", real_shape)
    try:
        run = audit("rds_instance_performance_insights_enabled")
    finally:
        BOTO.events.unregister("after-call.rds.DescribeDBInstances", handler)
    assert statuses(run) == {"good": "PASS", "bad": "FAIL"}
    bad = next(f for f in run.findings if f.status is Status.FAIL)
    assert bad.evidence["performance_insights"] is False
    assert "Performance Insights disabled" in bad.message


def test_aurora_cluster_without_cluster_level_upgrade_setting_is_not_judged(audit, aws):
    # AWS leaves AutoMinorVersionUpgrade out for Aurora clusters that set it per instance; moto always returns it.
    make_cluster(aws, "aurora")
    handler = _rewrite("DescribeDBClusters", "DBClusters", lambda c: c.pop("AutoMinorVersionUpgrade", None))
    try:
        run = audit("rds_cluster_auto_minor_version_upgrade_enabled")
    finally:
        BOTO.events.unregister("after-call.rds.DescribeDBClusters", handler)
    assert run.findings == ()


def test_denied_cluster_read_is_error_naming_the_action(audit, aws, faults):
    make_cluster(aws, "aurora")
    faults.deny("rds", "DescribeDBClusters")
    run = audit("rds_cluster_deletion_protection_enabled")
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "rds:DescribeDBClusters"
