"""EC2 cost checks: unattached and gp2 EBS volumes, stale snapshots, previous-generation instances.

Each failure carries an estimated monthly cost (or saving) in USD from the shipped price table, or "unknown" where
the table has no price for that item in that region. Stopped instances and idle Elastic IPs are already reported
by ec2_instance_stopped_not_stale (FSBP EC2.4) and ec2_elastic_ip_associated (FSBP EC2.12).
"""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Severity
from auditor.pricing import Estimate, hourly, per_gb_month, price

from .cost_resources import ami_snapshot_ids, ebs_snapshots
from .resources import instances, volumes

GP3_INCLUDED_IOPS = 3000


class Ec2EbsVolumeAttached(Check):
    """An EBS volume that is attached to nothing is still billed for every provisioned GB, every month. Volumes
    are left behind when an instance is terminated without delete-on-termination, or detached for a migration
    and forgotten. Snapshot the volume if its data may be needed, then delete it. Volumes in the `available`
    state fail, with their estimated monthly cost; attached (`in-use`) volumes pass."""

    id = "ec2_ebs_volume_attached"
    service = "ec2"
    severity = Severity.LOW
    category = Category.COST
    title = "EBS volumes are attached to an instance"
    risk = "Unattached volumes are billed in full while serving nothing, and may hold forgotten data."
    remediation = Remediation(
        text="Snapshot the volume if its data may be needed, then delete it; set delete_on_termination on "
        "instance volumes so they go with the instance.",
        cli="aws ec2 delete-volume --volume-id <volume-id>",
        terraform='resource "aws_instance" "app" {\n'
                  '  # ...\n'
                  '  root_block_device {\n'
                  '    volume_type           = "gp3"\n'
                  '    delete_on_termination = true\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/ebs/latest/userguide/ebs-deleting-volume.html",
    )
    api_calls = ("ec2:DescribeVolumes",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for volume in volumes(ctx):
            if volume.state not in ("available", "in-use"):
                continue
            estimate = per_gb_month(ctx.region, "ebs_gb_month", volume.size_gib, volume.volume_type)
            evidence: dict[str, Any] = {"state": volume.state, "volume_type": volume.volume_type,
                                        "size_gib": volume.size_gib, "attached_to": list(volume.attached_to)}
            if volume.state == "available":
                yield ctx.failed(volume.resource, f"EBS volume {volume.label} ({volume.size_gib} GiB "
                                 f"{volume.volume_type}) is attached to nothing and costs {estimate.text()}.",
                                 {**evidence, **estimate.evidence()})
            else:
                yield ctx.passed(volume.resource, f"EBS volume {volume.label} is attached to "
                                 f"{', '.join(volume.attached_to) or 'an instance'}.", evidence)


def gp3_saving(region: str, size_gib: int) -> Estimate:
    """What moving a gp2 volume to gp3 with the same baseline IOPS saves a month."""
    gp2, gp3 = price(region, "ebs_gb_month", "gp2"), price(region, "ebs_gb_month", "gp3")
    gp2_iops = min(max(100, 3 * size_gib), 16000)
    extra_iops = max(0, gp2_iops - GP3_INCLUDED_IOPS)
    iops_price = price(region, "ebs_gp3_iops_month") if extra_iops else 0.0
    if gp2 is None or gp3 is None or iops_price is None:
        return Estimate(None, f"no listed gp2/gp3{' IOPS' if extra_iops else ''} price in {region}")
    saving = (gp2 - gp3) * size_gib - extra_iops * iops_price
    basis = (f"{size_gib} GB x (gp2 ${gp2} - gp3 ${gp3})/GB-month"
             + (f" - {extra_iops} IOPS above 3,000 x ${iops_price}/IOPS-month to match gp2's baseline"
                if extra_iops else "") + f" in {region} (AWS public price list)")
    return Estimate(saving, basis)


class Ec2EbsVolumeGp3Type(Check):
    """gp3 volumes cost about 20 % less per GB than gp2 and include 3,000 IOPS and 125 MB/s whatever their size,
    where gp2 ties performance to size (3 IOPS per GB). A gp2 volume can be changed to gp3 in place, without
    detaching it or stopping the instance. gp2 volumes fail with the estimated monthly saving (for volumes above
    1,000 GiB, net of the gp3 IOPS needed to match the gp2 baseline; throughput above 125 MB/s is not priced)."""

    id = "ec2_ebs_volume_gp3_type"
    service = "ec2"
    severity = Severity.LOW
    category = Category.COST
    title = "EBS volumes use gp3 rather than gp2"
    risk = "gp2 volumes cost about 20 % more per GB than gp3 for the same or lower baseline performance."
    remediation = Remediation(
        text="Modify the volume type to gp3 (online, no downtime); provision IOPS above 3,000 only where the gp2 "
        "baseline was higher and needed.",
        cli="aws ec2 modify-volume --volume-id <volume-id> --volume-type gp3",
        terraform='resource "aws_ebs_volume" "data" {\n'
                  '  availability_zone = "us-east-1a"\n'
                  '  size              = 100\n'
                  '  type              = "gp3"\n'
                  '  encrypted         = true\n\n'
                  '  tags = local.common_tags\n'
                  '}',
        url="https://docs.aws.amazon.com/ebs/latest/userguide/requesting-ebs-volume-modifications.html",
    )
    api_calls = ("ec2:DescribeVolumes",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for volume in volumes(ctx):
            if volume.state in ("deleting", "deleted", "error"):
                continue
            evidence: dict[str, Any] = {"volume_type": volume.volume_type, "size_gib": volume.size_gib}
            if volume.volume_type == "gp2":
                saving = gp3_saving(ctx.region, volume.size_gib)
                yield ctx.failed(volume.resource, f"EBS volume {volume.label} ({volume.size_gib} GiB) is gp2; as gp3 "
                                 f"it would save {saving.text()}.",
                                 {**evidence, **saving.evidence("estimated_monthly_saving_usd")})
            else:
                kind = volume.volume_type or "of an unknown type"
                yield ctx.passed(volume.resource, f"EBS volume {volume.label} is {kind}, not gp2.", evidence)


class Ec2EbsSnapshotNotStale(Check):
    """Snapshots are kept until someone deletes them, and old ones are rarely restored: the data has moved on,
    and AWS Backup or Data Lifecycle Manager keeps the snapshots that matter on a schedule. A snapshot older than
    `cost.snapshot_max_age_days` that no AMI of the account uses fails, with an upper bound of its monthly cost
    (snapshots are incremental: the bill for one can be lower than its volume size suggests)."""

    id = "ec2_ebs_snapshot_not_stale"
    service = "ec2"
    severity = Severity.LOW
    category = Category.COST
    title = "Old EBS snapshots not used by an AMI are removed"
    risk = "Forgotten snapshots accumulate storage cost and keep old data (and its exposure) around indefinitely."
    remediation = Remediation(
        text="Delete snapshots that are no longer needed, archive those that must be kept for compliance, and "
        "manage new ones with a Data Lifecycle Manager or AWS Backup retention policy.",
        cli="aws ec2 delete-snapshot --snapshot-id <snapshot-id>",
        terraform='resource "aws_dlm_lifecycle_policy" "snapshots" {\n'
                  '  description        = "Daily snapshots, kept 14 days"\n'
                  '  execution_role_arn = aws_iam_role.dlm.arn\n'
                  '  state              = "ENABLED"\n\n'
                  '  policy_details {\n'
                  '    resource_types = ["VOLUME"]\n'
                  '    target_tags    = { Backup = "true" }\n\n'
                  '    schedule {\n'
                  '      name = "daily"\n'
                  '      create_rule {\n'
                  '        interval      = 24\n'
                  '        interval_unit = "HOURS"\n'
                  '      }\n'
                  '      retain_rule {\n'
                  '        count = 14\n'
                  '      }\n'
                  '    }\n'
                  '  }\n'
                  '}',
        url="https://docs.aws.amazon.com/ebs/latest/userguide/ebs-deleting-snapshot.html",
    )
    api_calls = ("ec2:DescribeSnapshots", "ec2:DescribeImages")
    parameters = ("cost.snapshot_max_age_days",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        max_days = int(ctx.param("cost.snapshot_max_age_days"))
        snapshots = ebs_snapshots(ctx)
        if not snapshots:
            return
        used_by = ami_snapshot_ids(ctx)
        for snapshot in snapshots:
            age = (ctx.now - snapshot.started).days if snapshot.started else None
            evidence: dict[str, Any] = {"age_days": age, "max_age_days": max_days,
                                        "volume_size_gib": snapshot.volume_size_gib,
                                        "used_by_ami": used_by.get(snapshot.id)}
            if snapshot.id in used_by:
                yield ctx.passed(snapshot.resource, f"EBS snapshot {snapshot.label} backs AMI "
                                 f"{used_by[snapshot.id]}.", evidence)
            elif age is None or age <= max_days:
                yield ctx.passed(snapshot.resource, f"EBS snapshot {snapshot.label} is "
                                 f"{'of unknown age' if age is None else f'{age} days old'}.", evidence)
            else:
                estimate = per_gb_month(ctx.region, "ebs_snapshot_gb_month", snapshot.volume_size_gib)
                yield ctx.failed(snapshot.resource, f"EBS snapshot {snapshot.label} is {age} days old (more than "
                                 f"{max_days}), used by no AMI, and costs up to {estimate.text()}.",
                                 {**evidence, **estimate.evidence("estimated_monthly_cost_upper_bound_usd")})


class Ec2InstanceCurrentGeneration(Check):
    """Previous-generation instance families (m4, c4, r4, t1, ...) cost more than their current successors for the
    same vCPUs and memory, and run on older hardware with fewer features (no Nitro, lower network and EBS
    bandwidth). Families listed in `cost.previous_generation_families` fail, with the instance's estimated
    monthly on-demand cost when running (or "unknown" when the price table has no price for that type there)."""

    id = "ec2_instance_current_generation"
    service = "ec2"
    severity = Severity.LOW
    category = Category.COST
    title = "EC2 instances use current-generation instance types"
    risk = "Previous-generation instances cost more per unit of capacity and perform worse than current ones."
    remediation = Remediation(
        text="Stop the instance, change its type to the current generation of the family (m4 to m5/m6i/m7i, "
        "c4 to c5/c6i, t2 to t3, ...) and start it again; check driver (ENA, NVMe) support first.",
        cli="aws ec2 modify-instance-attribute --instance-id <instance-id> --instance-type \"{\\\"Value\\\": "
        "\\\"m6i.large\\\"}\"",
        terraform='resource "aws_instance" "app" {\n'
                  '  ami           = data.aws_ami.al2023.id\n'
                  '  instance_type = "m6i.large"\n\n'
                  '  tags = local.common_tags\n'
                  '}',
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-resize.html",
    )
    api_calls = ("ec2:DescribeInstances",)
    parameters = ("cost.previous_generation_families",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        previous = {str(f).lower() for f in ctx.param("cost.previous_generation_families")}
        for instance in instances(ctx):
            family = instance.instance_type.split(".", 1)[0].lower()
            evidence: dict[str, Any] = {"instance_type": instance.instance_type, "family": family,
                                        "state": instance.state}
            if family in previous:
                estimate = hourly(ctx.region, "ec2_hour", instance.instance_type)
                yield ctx.failed(instance.resource, f"EC2 instance {instance.label} runs previous-generation type "
                                 f"{instance.instance_type}, which costs {estimate.text()} when running.",
                                 {**evidence, **estimate.evidence("estimated_monthly_cost_when_running_usd")})
            else:
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} runs current-generation type "
                                 f"{instance.instance_type}.", evidence)
