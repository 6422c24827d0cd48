from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from auditor import Status

from ..conftest import BOTO, statuses

ENCRYPTED = "rds_instance_storage_encrypted"
PUBLIC = "rds_instance_not_publicly_accessible"
BACKUP = "rds_instance_backup_retention_sufficient"
CMK = "rds_instance_encrypted_with_customer_managed_key"
NON_PRODUCTION = {"environment": "non-production", "environment_basis": "no Environment tag"}


def make_instance(aws, name: str, **options: Any) -> None:
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
        **options,
    )


def make_aurora(aws, cluster: str, member: str, **cluster_options: Any) -> None:
    rds = aws.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-password-1",
        **cluster_options,
    )
    rds.create_db_instance(
        DBInstanceIdentifier=member,
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )


@pytest.fixture
def rewrite_instances(aws) -> Iterator[Callable[[Callable[[dict[str, Any]], None]], None]]:
    """Edit each DBInstance of DescribeDBInstances responses, to reproduce shapes moto does not produce."""
    handlers: list[Any] = []

    def install(edit: Callable[[dict[str, Any]], None]) -> None:
        def handler(parsed: dict[str, Any], **_: Any) -> None:
            for instance in parsed.get("DBInstances", []):
                edit(instance)

        BOTO.events.register("after-call.rds.DescribeDBInstances", handler)
        handlers.append(handler)

    yield install
    for handler in handlers:
        BOTO.events.unregister("after-call.rds.DescribeDBInstances", handler)


# -- no resources ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", [ENCRYPTED, PUBLIC, BACKUP, CMK])
def test_no_instances_no_findings(audit, check_id):
    run = audit(check_id)
    assert run.findings == ()
    assert run.errors == ()


# -- storage encryption ----------------------------------------------------------------------------------------
def test_unencrypted_instance_fails(audit, aws):
    make_instance(aws, "plain")
    run = audit(ENCRYPTED)
    assert statuses(run) == {"plain": "FAIL"}
    [finding] = run.findings
    assert finding.evidence["storage_encrypted"] is False
    assert finding.resource.type == "AWS::RDS::DBInstance"
    assert "plain" in finding.message


def test_encrypted_instance_passes(audit, aws):
    make_instance(aws, "secure", StorageEncrypted=True, KmsKeyId="alias/db")
    make_instance(aws, "plain")
    run = audit(ENCRYPTED)
    assert statuses(run) == {"secure": "PASS", "plain": "FAIL"}
    secure = next(f for f in run.findings if f.resource.id == "secure")
    assert secure.evidence["storage_encrypted"] is True
    assert secure.evidence["kms_key_id"]


def test_aurora_member_is_judged_by_its_cluster(audit, aws, rewrite_instances):
    make_aurora(aws, "good-cluster", "good-0", StorageEncrypted=True, BackupRetentionPeriod=14)
    make_aurora(aws, "bad-cluster", "bad-0", StorageEncrypted=False, BackupRetentionPeriod=1)

    # AWS calls the instance-level values of cluster members "not applicable": make them disagree with the cluster.
    def contradict_cluster(instance: dict[str, Any]) -> None:
        if instance["DBInstanceIdentifier"] == "good-0":
            instance.update(StorageEncrypted=False, BackupRetentionPeriod=0)
        if instance["DBInstanceIdentifier"] == "bad-0":
            instance.update(StorageEncrypted=True, BackupRetentionPeriod=30)

    rewrite_instances(contradict_cluster)
    run = audit(ENCRYPTED, BACKUP)
    by = {(f.check_id, f.resource.id): f for f in run.findings}
    assert {k: f.status.value for k, f in by.items()} == {
        (ENCRYPTED, "good-0"): "PASS",
        (ENCRYPTED, "bad-0"): "FAIL",
        (BACKUP, "good-0"): "PASS",
        (BACKUP, "bad-0"): "FAIL",
    }
    assert by[(ENCRYPTED, "good-0")].evidence["db_cluster"] == "good-cluster"
    assert by[(BACKUP, "good-0")].evidence["backup_retention_days"] == 14
    assert by[(BACKUP, "bad-0")].evidence == {"backup_retention_days": 1, "required_days": 7,
                                              "db_cluster": "bad-cluster", **NON_PRODUCTION}
    assert "bad-cluster" in by[(ENCRYPTED, "bad-0")].message


def test_denied_cluster_read_errors_only_cluster_members(audit, aws, faults):
    make_instance(aws, "plain", StorageEncrypted=True, KmsKeyId="alias/db")
    make_aurora(aws, "aurora", "aurora-0", StorageEncrypted=True)
    faults.deny("rds", "DescribeDBClusters")
    run = audit(ENCRYPTED)
    assert statuses(run) == {"plain": "PASS", "aurora-0": "ERROR"}
    error = next(f for f in run.findings if f.status is Status.ERROR)
    assert error.evidence["iam_action"] == "rds:DescribeDBClusters"
    assert error.evidence["error_code"] == "AccessDenied"


def test_denied_instance_read_is_error_naming_the_action(audit, aws, faults):
    make_instance(aws, "plain")
    faults.deny("rds", "DescribeDBInstances")
    run = audit(ENCRYPTED, PUBLIC, BACKUP)
    assert {f.check_id for f in run.findings} == {ENCRYPTED, PUBLIC, BACKUP}
    for finding in run.findings:
        assert finding.status is Status.ERROR
        assert finding.evidence["iam_action"] == "rds:DescribeDBInstances"
        assert finding.evidence["error_code"] == "AccessDenied"


# -- public accessibility --------------------------------------------------------------------------------------
def test_publicly_accessible_instance_fails(audit, aws):
    make_instance(aws, "exposed", PubliclyAccessible=True)
    run = audit(PUBLIC)
    assert statuses(run) == {"exposed": "FAIL"}
    [finding] = run.findings
    assert finding.evidence["publicly_accessible"] is True
    assert finding.evidence["endpoint"]
    assert "exposed" in finding.message


def test_private_instance_passes_when_flag_is_omitted(audit, aws):
    make_instance(aws, "private", PubliclyAccessible=False)  # moto leaves PubliclyAccessible out when false
    run = audit(PUBLIC)
    assert statuses(run) == {"private": "PASS"}
    assert run.findings[0].evidence["publicly_accessible"] is False


def test_private_instance_passes_with_explicit_false(audit, aws, rewrite_instances):
    make_instance(aws, "private")
    make_instance(aws, "exposed", PubliclyAccessible=True)
    seen: list[bool] = []

    def real_aws_shape(instance: dict[str, Any]) -> None:  # AWS always returns the key
        instance.setdefault("PubliclyAccessible", False)
        seen.append(instance["PubliclyAccessible"])

    rewrite_instances(real_aws_shape)
    run = audit(PUBLIC)
    assert sorted(seen) == [False, True]
    assert statuses(run) == {"private": "PASS", "exposed": "FAIL"}


# -- backup retention ------------------------------------------------------------------------------------------
def test_short_and_disabled_backups_fail(audit, aws):
    make_instance(aws, "none", BackupRetentionPeriod=0)
    make_instance(aws, "short", BackupRetentionPeriod=3)
    run = audit(BACKUP)
    assert statuses(run) == {"none": "FAIL", "short": "FAIL"}
    by = {f.resource.id: f for f in run.findings}
    assert by["none"].evidence == {"backup_retention_days": 0, "required_days": 7, **NON_PRODUCTION}
    assert "disabled" in by["none"].message
    assert by["short"].evidence == {"backup_retention_days": 3, "required_days": 7, **NON_PRODUCTION}


def test_sufficient_backups_pass(audit, aws):
    make_instance(aws, "weekly", BackupRetentionPeriod=7)
    make_instance(aws, "monthly", BackupRetentionPeriod=30)
    run = audit(BACKUP)
    assert statuses(run) == {"weekly": "PASS", "monthly": "PASS"}


def test_backup_minimum_is_a_parameter(audit, aws):
    make_instance(aws, "weekly", BackupRetentionPeriod=7)
    run = audit(BACKUP, params={"rds.backup_retention_days": 14})
    assert statuses(run) == {"weekly": "FAIL"}
    assert run.findings[0].evidence["required_days"] == 14


def test_read_replica_is_covered_by_its_source(audit, aws, rewrite_instances):
    make_instance(aws, "source", BackupRetentionPeriod=7)
    aws.client("rds").create_db_instance_read_replica(DBInstanceIdentifier="replica",
                                                      SourceDBInstanceIdentifier="source")

    def no_backups_on_replica(instance: dict[str, Any]) -> None:
        if instance.get("ReadReplicaSourceDBInstanceIdentifier"):
            instance["BackupRetentionPeriod"] = 0

    rewrite_instances(no_backups_on_replica)
    run = audit(BACKUP)
    assert statuses(run) == {"source": "PASS", "replica": "PASS"}
    replica = next(f for f in run.findings if f.resource.id == "replica")
    assert replica.evidence["read_replica_source"] == "source"


# -- backup retention per environment ----------------------------------------------------------------------------
def test_production_needs_the_production_retention(audit, aws):
    make_instance(aws, "prod-week", BackupRetentionPeriod=7, Tags=[{"Key": "Environment", "Value": "Prod"}])
    make_instance(aws, "prod-month", BackupRetentionPeriod=30, Tags=[{"Key": "Environment", "Value": "production"}])
    make_instance(aws, "staging-week", BackupRetentionPeriod=7, Tags=[{"Key": "Environment", "Value": "staging"}])
    run = audit(BACKUP)
    assert statuses(run) == {"prod-week": "FAIL", "prod-month": "PASS", "staging-week": "PASS"}
    by = {f.resource.id: f for f in run.findings}
    assert by["prod-week"].evidence == {"backup_retention_days": 7, "required_days": 30,
                                        "environment": "production", "environment_basis": "tag Environment=Prod"}
    assert "production, tag Environment=Prod" in by["prod-week"].message
    assert by["staging-week"].evidence["environment_basis"] == "tag Environment=staging"
    assert "non-production, tag Environment=staging" in by["staging-week"].message


def test_environment_tag_and_values_are_parameters(audit, aws):
    make_instance(aws, "live", BackupRetentionPeriod=14, Tags=[{"Key": "Stage", "Value": "live"}])
    run = audit(BACKUP, params={"tags.environment_key": "Stage", "tags.production_values": ["live"],
                                "rds.production_backup_retention_days": 14})
    assert statuses(run) == {"live": "PASS"}
    assert run.findings[0].evidence["environment"] == "production"


def test_aurora_member_takes_the_environment_of_its_cluster(audit, aws):
    make_aurora(aws, "prod-cluster", "prod-0", BackupRetentionPeriod=7,
                Tags=[{"Key": "Environment", "Value": "prod"}])

    def untagged_member(instance: dict[str, Any]) -> None:
        instance["TagList"] = []  # moto copies the cluster's tags to members; AWS does not

    hook = "after-call.rds.DescribeDBInstances"

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        for instance in parsed.get("DBInstances", []):
            untagged_member(instance)

    BOTO.events.register(hook, handler)
    try:
        run = audit(BACKUP)
    finally:
        BOTO.events.unregister(hook, handler)
    assert statuses(run) == {"prod-0": "FAIL"}
    assert run.findings[0].evidence["required_days"] == 30


# -- customer-managed KMS key ----------------------------------------------------------------------------------------
def test_customer_managed_key_passes_aws_managed_and_unencrypted_fail(audit, aws):
    kms = aws.client("kms")
    customer = kms.create_key(Description="db")["KeyMetadata"]["Arn"]
    managed = kms.create_key(Description="stands in for aws/rds")["KeyMetadata"]["Arn"]
    make_instance(aws, "cmk", StorageEncrypted=True, KmsKeyId=customer)
    make_instance(aws, "aws-key", StorageEncrypted=True, KmsKeyId=managed)
    make_instance(aws, "plain")

    # moto cannot create an AWS-managed key: the recorded DescribeKey answer for aws/rds says KeyManager AWS.
    def aws_managed(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("KeyMetadata", {}).get("Arn") == managed:
            parsed["KeyMetadata"]["KeyManager"] = "AWS"

    BOTO.events.register("after-call.kms.DescribeKey", aws_managed)
    try:
        run = audit(CMK)
    finally:
        BOTO.events.unregister("after-call.kms.DescribeKey", aws_managed)
    assert statuses(run) == {"cmk": "PASS", "aws-key": "FAIL", "plain": "FAIL"}
    by = {f.resource.id: f for f in run.findings}
    assert by["cmk"].evidence == {"storage_encrypted": True, "kms_key_id": customer, "key_manager": "CUSTOMER"}
    assert by["aws-key"].evidence["key_manager"] == "AWS" and "AWS-managed key aws/rds" in by["aws-key"].message
    assert "not encrypted" in by["plain"].message and "key_manager" not in by["plain"].evidence


def test_aurora_member_is_judged_by_its_cluster_key(audit, aws):
    key = aws.client("kms").create_key(Description="db")["KeyMetadata"]["Arn"]
    make_aurora(aws, "aurora", "aurora-0", StorageEncrypted=True, KmsKeyId=key)
    run = audit(CMK)
    assert statuses(run) == {"aurora-0": "PASS"}
    assert run.findings[0].evidence["db_cluster"] == "aurora"


def test_denied_key_read_errors_that_instance_only(audit, aws, faults):
    key = aws.client("kms").create_key(Description="db")["KeyMetadata"]["Arn"]
    make_instance(aws, "cmk", StorageEncrypted=True, KmsKeyId=key)
    make_instance(aws, "plain")
    faults.deny("kms", "DescribeKey")
    run = audit(CMK)
    assert statuses(run) == {"cmk": "ERROR", "plain": "FAIL"}
    error = next(f for f in run.findings if f.status is Status.ERROR)
    assert error.evidence["iam_action"] == "kms:DescribeKey"
