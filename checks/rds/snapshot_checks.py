"""RDS checks on DB snapshots and DB cluster snapshots: one finding per snapshot."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import Snapshot, restore_permissions, snapshots

_SNAPSHOT_LIST_CALLS = ("rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots")


def _noun(snapshot: Snapshot) -> str:
    return "RDS DB cluster snapshot" if snapshot.kind == "cluster" else "RDS DB snapshot"


class RdsSnapshotNotPublic(Check):
    """A manual DB or DB cluster snapshot whose restore attribute holds "all" can be copied and restored by any
    AWS account, which then holds a full copy of the database. Sharing with named accounts is reported but not
    failed. Automated snapshots cannot be shared, so only manual snapshots are judged."""

    id = "rds_snapshot_not_public"
    service = "rds"
    severity = Severity.CRITICAL
    title = "RDS snapshots are not public"
    risk = "Anyone with an AWS account can restore a public snapshot and read the whole database."
    remediation = Remediation(
        text="Remove the value all from the snapshot's restore attribute (share with named accounts instead).",
        cli="aws rds modify-db-snapshot-attribute --db-snapshot-identifier <snapshot> --attribute-name restore "
            "--values-to-remove all  # cluster snapshots: aws rds modify-db-cluster-snapshot-attribute "
            "--db-cluster-snapshot-identifier <snapshot> --attribute-name restore --values-to-remove all",
        terraform='# Snapshots restored or copied by Terraform are private unless shared; remove the public share:\n'
                  '# aws rds modify-db-snapshot-attribute ... --values-to-remove all\n'
                  'resource "aws_db_snapshot" "main" {\n'
                  '  db_instance_identifier = aws_db_instance.main.identifier\n'
                  '  db_snapshot_identifier = "${var.project}-db-manual"\n'
                  '  shared_accounts        = []  # never ["all"]\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html",
    )
    compliance = (Control("aws-fsbp", "RDS.1"),)
    api_calls = _SNAPSHOT_LIST_CALLS + ("rds:DescribeDBSnapshotAttributes", "rds:DescribeDBClusterSnapshotAttributes")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        shareable = [snapshot for snapshot in snapshots(ctx) if snapshot.shareable]
        yield from ctx.each(shareable, lambda snapshot: self._evaluate_one(ctx, snapshot))

    def _evaluate_one(self, ctx: CheckContext, snapshot: Snapshot) -> Iterator[Finding]:
        allowed = restore_permissions(ctx, snapshot)
        accounts = sorted(value for value in allowed if value != "all")
        evidence = {"public": "all" in allowed, "shared_with_accounts": accounts, "source": snapshot.source}
        if "all" in allowed:
            yield ctx.failed(snapshot.resource, f"{_noun(snapshot)} {snapshot.id} is public: any AWS account "
                             f"can restore it.", evidence)
        elif accounts:
            yield ctx.passed(snapshot.resource, f"{_noun(snapshot)} {snapshot.id} is not public; it is shared "
                             f"with {len(accounts)} named account(s).", evidence)
        else:
            yield ctx.passed(snapshot.resource, f"{_noun(snapshot)} {snapshot.id} is private.", evidence)


class RdsSnapshotEncrypted(Check):
    """A snapshot is encrypted exactly when its database is, so an unencrypted snapshot is a full, readable copy
    of the data that can be copied to other accounts or regions. Copying it with a KMS key produces an
    encrypted snapshot, which is also how an unencrypted database is migrated to encrypted storage."""

    id = "rds_snapshot_encrypted"
    service = "rds"
    severity = Severity.MEDIUM
    title = "RDS snapshots are encrypted at rest"
    risk = "An unencrypted snapshot is a readable copy of the database for anyone who obtains it."
    remediation = Remediation(
        text="Copy the snapshot with a KMS key, delete the unencrypted original, and encrypt the source database "
             "(restore from the encrypted copy).",
        cli="aws rds copy-db-snapshot --source-db-snapshot-identifier <snapshot> --target-db-snapshot-identifier "
            "<snapshot>-encrypted --kms-key-id <kms-key-arn>",
        terraform='resource "aws_db_snapshot_copy" "encrypted" {\n'
                  '  source_db_snapshot_identifier = aws_db_snapshot.main.db_snapshot_arn\n'
                  '  target_db_snapshot_identifier = "${var.project}-db-encrypted"\n'
                  '  kms_key_id                    = aws_kms_key.db.arn\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html",
    )
    compliance = (Control("aws-fsbp", "RDS.4"),)
    api_calls = _SNAPSHOT_LIST_CALLS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for snapshot in snapshots(ctx):
            evidence = {"encrypted": snapshot.encrypted, "snapshot_type": snapshot.snapshot_type,
                        "source": snapshot.source}
            if snapshot.encrypted:
                evidence["kms_key_id"] = snapshot.kms_key_id
                yield ctx.passed(snapshot.resource, f"{_noun(snapshot)} {snapshot.id} is encrypted at rest.",
                                 evidence)
            else:
                yield ctx.failed(snapshot.resource, f"{_noun(snapshot)} {snapshot.id} is not encrypted at rest.",
                                 evidence)
