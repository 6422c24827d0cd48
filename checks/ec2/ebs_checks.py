"""EBS snapshot checks."""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity

from .resources import Snapshot, owned_snapshots, snapshot_volume_permissions


class Ec2EbsSnapshotNotPublic(Check):
    """A snapshot shared with the group "all" can be copied and turned into a volume by every AWS account in
    the world, with all the data the volume held: databases, keys, configuration. Snapshots should be shared,
    if at all, with named accounts. Only snapshots the account owns are considered."""

    id = "ec2_ebs_snapshot_not_public"
    service = "ec2"
    severity = Severity.CRITICAL
    title = "EBS snapshots are not publicly restorable"
    risk = "Anyone with an AWS account can restore a public snapshot and read all the data on it."
    remediation = Remediation(
        text="Remove the public create-volume permission from the snapshot, share it with named accounts only, "
        "and turn on block public access for EBS snapshots in every region.",
        cli="aws ec2 modify-snapshot-attribute --snapshot-id <snapshot-id> --attribute createVolumePermission "
        "--operation-type remove --group-names all",
        terraform='resource "aws_ebs_snapshot_block_public_access" "main" {\n  state = "block-all-sharing"\n}',
        url="https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html",
    )
    compliance = (Control("aws-fsbp", "EC2.1"),)
    api_calls = ("ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from ctx.each(owned_snapshots(ctx), lambda snapshot: self._judge(ctx, snapshot))

    @staticmethod
    def _judge(ctx: CheckContext, snapshot: Snapshot) -> Iterator[Finding]:
        permissions = snapshot_volume_permissions(ctx, snapshot.id)
        public = any(p.get("Group") == "all" for p in permissions)
        accounts = sorted(p["UserId"] for p in permissions if p.get("UserId"))
        evidence = {"public": public, "shared_with_accounts": accounts, "encrypted": snapshot.encrypted,
                    "volume_id": snapshot.volume_id}
        if public:
            yield ctx.failed(snapshot.resource, f"EBS snapshot {snapshot.label} can be restored by anyone.", evidence)
        else:
            yield ctx.passed(snapshot.resource, f"EBS snapshot {snapshot.label} is not public.", evidence)
