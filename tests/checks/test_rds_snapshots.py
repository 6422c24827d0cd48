from __future__ import annotations

import pytest

from auditor import Status

from ..conftest import statuses
from .test_rds_settings import make_cluster, make_instance

PUBLIC = "rds_snapshot_not_public"
ENCRYPTED = "rds_snapshot_encrypted"


def snapshot(aws, instance: str, name: str, share: list[str] | None = None) -> None:
    rds = aws.client("rds")
    rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=name)
    if share:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=share)


@pytest.mark.parametrize("check_id", [PUBLIC, ENCRYPTED])
def test_no_snapshots_no_findings(audit, check_id):
    run = audit(check_id)
    assert run.findings == () and run.errors == ()


def test_public_snapshots_fail_private_and_shared_pass(audit, aws):
    make_instance(aws, "db")
    snapshot(aws, "db", "public", ["all"])
    snapshot(aws, "db", "shared", ["210987654321"])
    snapshot(aws, "db", "private")
    make_cluster(aws, "aurora")
    rds = aws.client("rds")
    rds.create_db_cluster_snapshot(DBClusterIdentifier="aurora", DBClusterSnapshotIdentifier="cluster-public")
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="cluster-public", AttributeName="restore",
                                             ValuesToAdd=["all"])
    run = audit(PUBLIC)
    # Automated snapshots (rds:db-...) cannot be shared and are not judged.
    assert statuses(run) == {"public": "FAIL", "shared": "PASS", "private": "PASS", "cluster-public": "FAIL"}
    by = {f.resource.id: f for f in run.findings}
    assert by["public"].evidence == {"public": True, "shared_with_accounts": [], "source": "db"}
    assert "any AWS account" in by["public"].message
    assert by["shared"].evidence["shared_with_accounts"] == ["210987654321"]
    assert by["cluster-public"].resource.type == "AWS::RDS::DBClusterSnapshot"
    assert by["cluster-public"].message.startswith("RDS DB cluster snapshot cluster-public is public")


def test_denied_attribute_read_errors_only_that_snapshot(audit, aws, faults):
    make_instance(aws, "db")
    snapshot(aws, "db", "manual")
    make_cluster(aws, "aurora")
    aws.client("rds").create_db_cluster_snapshot(DBClusterIdentifier="aurora", DBClusterSnapshotIdentifier="cs")
    faults.deny("rds", "DescribeDBSnapshotAttributes")
    run = audit(PUBLIC)
    assert statuses(run) == {"manual": "ERROR", "cs": "PASS"}
    error = next(f for f in run.findings if f.status is Status.ERROR)
    assert error.evidence["iam_action"] == "rds:DescribeDBSnapshotAttributes"


def test_unencrypted_snapshots_fail_encrypted_pass(audit, aws):
    make_instance(aws, "plain")
    make_instance(aws, "secure", StorageEncrypted=True, KmsKeyId="alias/db")
    snapshot(aws, "plain", "plain-manual")
    snapshot(aws, "secure", "secure-manual")
    run = audit(ENCRYPTED)
    by = {f.resource.id: f for f in run.findings}
    assert by["plain-manual"].status is Status.FAIL and by["secure-manual"].status is Status.PASS
    assert by["plain-manual"].evidence == {"encrypted": False, "snapshot_type": "manual", "source": "plain"}
    assert by["secure-manual"].evidence["kms_key_id"]
    automated = [f for f in run.findings if f.evidence["snapshot_type"] == "automated"]
    assert {f.resource.id.split("-")[0]: f.status.value for f in automated} == {"rds:plain": "FAIL",
                                                                                 "rds:secure": "PASS"}
