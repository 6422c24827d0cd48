"""EC2 instance checks: lifecycle, addressing, interfaces, virtualization, user data, internet exposure."""
from __future__ import annotations

import gzip
import zlib
from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.secrets import find_secrets_in_text

from ..vpc.network import NETWORK_API_CALLS, network
from ..vpc.resources import unauthorized_internet_rules
from .resources import Instance, instance_user_data, instances

SECRET_PARAMETERS = ("secrets.key_markers", "secrets.min_entropy", "secrets.min_length")
# Evidence lists are capped so one instance with many rules cannot bloat a report.
MAX_EVIDENCE_ITEMS = 20


def _terraform_instance(body: str) -> str:
    return ('resource "aws_instance" "app" {\n'
            "  # ...\n"
            f"{body}\n\n"
            '  tags = merge(local.common_tags, { Name = "${var.project}-app" })\n'
            "}")


class Ec2InstanceStoppedNotStale(Check):
    """An instance stopped for weeks is usually forgotten: it keeps its EBS volumes (and their cost), its
    security groups and instance role, and when someone starts it again it runs software that missed every
    patch released in between. Instances stopped longer than `ec2.stopped_instance_max_days` fail; the stop
    time comes from the instance's state transition reason."""

    id = "ec2_instance_stopped_not_stale"
    service = "ec2"
    severity = Severity.MEDIUM
    category = Category.COST  # a stopped instance still pays for its volumes and addresses
    title = "EC2 instances are not left stopped beyond the allowed number of days"
    risk = "Forgotten stopped instances accumulate cost and restart unpatched with their old permissions."
    remediation = Remediation(
        text="Terminate instances that are no longer needed (snapshot or image them first if their data must be "
        "kept), or start and patch the ones still in use.",
        cli="aws ec2 terminate-instances --instance-ids <instance-id>",
        terraform="# Remove the aws_instance resource that is no longer used, then `terraform apply`.",
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html",
    )
    compliance = (Control("aws-fsbp", "EC2.4"),)
    api_calls = ("ec2:DescribeInstances",)
    parameters = ("ec2.stopped_instance_max_days",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        max_days = int(ctx.param("ec2.stopped_instance_max_days"))
        for instance in instances(ctx):
            evidence: dict[str, Any] = {"state": instance.state, "max_days": max_days}
            if instance.state != "stopped":
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} is {instance.state}.", evidence)
                continue
            if instance.state_since is None:
                evidence["stopped_since"] = None
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} is stopped; AWS gives no stop "
                                 "time, so it is not reported as stale.", evidence)
                continue
            days = (ctx.now - instance.state_since).days
            evidence.update(stopped_since=instance.state_since.isoformat(), stopped_days=days)
            if days > max_days:
                yield ctx.failed(instance.resource, f"EC2 instance {instance.label} has been stopped for {days} "
                                 f"days (more than {max_days}).", evidence)
            else:
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} has been stopped for {days} "
                                 f"days (at most {max_days}).", evidence)


class Ec2InstanceNoPublicIp(Check):
    """An instance with a public IPv4 address can be reached from the internet as soon as a security group
    or network ACL rule allows it, and one mistaken rule is all it takes. Application servers belong in
    private subnets behind a load balancer, reaching the internet through a NAT gateway."""

    id = "ec2_instance_no_public_ip"
    service = "ec2"
    severity = Severity.HIGH
    title = "EC2 instances have no public IPv4 address"
    risk = "An instance with a public address is one permissive rule away from being exposed to the internet."
    remediation = Remediation(
        text="Launch instances in private subnets without a public address and publish them through a load "
        "balancer; turn off public address assignment in the subnet and the launch template.",
        cli="aws ec2 modify-subnet-attribute --subnet-id <subnet-id> --no-map-public-ip-on-launch",
        terraform=_terraform_instance("  subnet_id                   = module.vpc.private_subnets[0]\n"
                                      "  associate_public_ip_address = false"),
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-instance-addressing.html",
    )
    compliance = (Control("aws-fsbp", "EC2.9"),)
    api_calls = ("ec2:DescribeInstances",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for instance in instances(ctx):
            evidence = {"public_ip": instance.public_ip or None, "subnet_id": instance.subnet_id}
            if instance.public_ip:
                yield ctx.failed(instance.resource, f"EC2 instance {instance.label} has the public IPv4 address "
                                 f"{instance.public_ip}.", evidence)
            else:
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} has no public IPv4 address.",
                                 evidence)


class Ec2InstanceSingleNetworkInterface(Check):
    """An instance with several network interfaces can sit in several subnets at once and bridge traffic
    between them, around the security groups and network ACLs that separate those subnets. Unless the
    instance is a deliberate network appliance it should have one interface. The number of interfaces allowed
    is `ec2.max_network_interfaces`."""

    id = "ec2_instance_single_network_interface"
    service = "ec2"
    severity = Severity.LOW
    title = "EC2 instances do not use multiple network interfaces"
    risk = "Extra interfaces can bridge subnets and bypass the network controls between them."
    remediation = Remediation(
        text="Detach the network interfaces the instance does not need (network appliances excepted).",
        cli="aws ec2 detach-network-interface --attachment-id <attachment-id>",
        terraform="# Remove the extra aws_network_interface_attachment resources of the instance.",
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-eni.html",
    )
    compliance = (Control("aws-fsbp", "EC2.17"),)
    api_calls = ("ec2:DescribeInstances",)
    parameters = ("ec2.max_network_interfaces",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        allowed = int(ctx.param("ec2.max_network_interfaces"))
        for instance in instances(ctx):
            count = len(instance.network_interface_ids)
            evidence = {"network_interfaces": list(instance.network_interface_ids), "allowed": allowed}
            if count > allowed:
                yield ctx.failed(instance.resource, f"EC2 instance {instance.label} has {count} network "
                                 f"interfaces (at most {allowed} allowed).", evidence)
            else:
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} has {count} network "
                                 "interface(s).", evidence)


class Ec2InstanceHvmVirtualization(Check):
    """Paravirtual (PV) instances run on the previous generation of the EC2 hypervisor: they cannot use
    current instance types, enhanced networking or the Nitro security features, and PV AMIs no longer get
    updates. Hardware virtual machine (HVM) instances are the supported path."""

    id = "ec2_instance_hvm_virtualization"
    service = "ec2"
    severity = Severity.MEDIUM
    title = "EC2 instances do not use paravirtual virtualization"
    risk = "Paravirtual instances run on an unmaintained platform without current security features."
    remediation = Remediation(
        text="Migrate the workload to an HVM AMI and a current generation instance type.",
        cli="aws ec2 describe-images --image-ids <ami-id> --query 'Images[].VirtualizationType'",
        terraform=_terraform_instance('  ami           = data.aws_ami.al2023.id  # an HVM image\n'
                                      '  instance_type = "t3.small"'),
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/virtualization_types.html",
    )
    compliance = (Control("aws-fsbp", "EC2.24"),)
    api_calls = ("ec2:DescribeInstances",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for instance in instances(ctx):
            evidence = {"virtualization_type": instance.virtualization_type, "instance_type": instance.instance_type}
            if instance.virtualization_type == "paravirtual":
                yield ctx.failed(instance.resource, f"EC2 instance {instance.label} uses paravirtual "
                                 "virtualization.", evidence)
            else:
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} uses "
                                 f"{instance.virtualization_type or 'hvm'} virtualization.", evidence)


def decode_user_data(raw: bytes) -> str:
    """User data as text: gzip (cloud-init accepts it compressed) is inflated, then decoded leniently."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            pass
    return raw.decode("utf-8", errors="replace")


class Ec2InstanceUserDataNoSecrets(Check):
    """User data is readable by anyone allowed `ec2:DescribeInstanceAttribute`, by every process on the
    instance through the metadata service, and is copied into images and launch templates. Access keys,
    passwords, private keys and tokens written there leak far beyond the instance. User data is base64
    decoded (and inflated when gzip-compressed) and scanned for known secret formats and for values assigned
    to secret-looking names (`secrets.*` parameters). Findings name the line and a fingerprint, never the value."""

    id = "ec2_instance_user_data_no_secrets"
    service = "ec2"
    severity = Severity.CRITICAL
    title = "EC2 instance user data contains no secrets"
    risk = "Credentials in user data can be read by anyone with describe rights or any process on the instance."
    remediation = Remediation(
        text="Remove the secret from the user data (stop the instance, edit its user data, start it), rotate the "
        "leaked credential, and have the instance fetch secrets at boot from Secrets Manager or Parameter Store "
        "with its instance role.",
        cli="aws ec2 modify-instance-attribute --instance-id <instance-id> --attribute userData --value ''",
        terraform=_terraform_instance(
            "  iam_instance_profile = aws_iam_instance_profile.app.name\n"
            '  user_data            = templatefile("${path.module}/user_data.sh", {\n'
            "    secret_arn = aws_secretsmanager_secret.app.arn  # fetched at boot, never inlined\n"
            "  })"),
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
    )
    api_calls = ("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute")
    parameters = SECRET_PARAMETERS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        options = {
            "markers": ctx.param("secrets.key_markers"),
            "min_entropy": float(ctx.param("secrets.min_entropy")),
            "min_length": int(ctx.param("secrets.min_length")),
        }
        yield from ctx.each(instances(ctx), lambda instance: self._judge(ctx, instance, options))

    @staticmethod
    def _judge(ctx: CheckContext, instance: Instance, options: dict[str, Any]) -> Iterator[Finding]:
        raw = instance_user_data(ctx, instance.id)
        if not raw:
            yield ctx.passed(instance.resource, f"EC2 instance {instance.label} has no user data.",
                             {"user_data_bytes": 0})
            return
        hits = find_secrets_in_text(decode_user_data(raw), **options)
        evidence: dict[str, Any] = {"user_data_bytes": len(raw), "compressed": raw[:2] == b"\x1f\x8b"}
        if not hits:
            yield ctx.passed(instance.resource, f"EC2 instance {instance.label} has no secrets in its user data.",
                             evidence)
            return
        evidence["secrets"] = [hit.to_evidence() for hit in hits[:MAX_EVIDENCE_ITEMS]]
        kinds = ", ".join(sorted({hit.kind for hit in hits}))
        yield ctx.failed(instance.resource, f"EC2 instance {instance.label} has {len(hits)} secret(s) in its user "
                         f"data ({kinds}).", evidence)


class Ec2InstanceNotInternetExposed(Check):
    """In the three-tier layout application servers live in private subnets: no route from the internet
    reaches them and only the load balancer's security group may connect. An instance is exposed when three
    facts line up: it has a public IP address, its subnet routes 0.0.0.0/0 or ::/0 to an internet gateway, and
    one of its security groups admits the internet on a port outside `network.authorized_public_ports`. Each
    fact is reported as evidence; the authorized ports (by default 80 and 443) never fail on their own."""

    id = "ec2_instance_not_internet_exposed"
    service = "ec2"
    severity = Severity.HIGH
    title = "EC2 instances are not reachable from the internet on unauthorized ports"
    risk = "A public address, an internet route and an open rule together let anyone reach the instance's services."
    remediation = Remediation(
        text="Move application servers to private subnets (default route through a NAT gateway), release their "
        "public addresses, and allow their ports only from the load balancer's security group.",
        cli="aws ec2 revoke-security-group-ingress --group-id <sg-id> --security-group-rule-ids <sgr-id>",
        terraform=_terraform_instance(
            "  subnet_id                   = module.vpc.private_subnets[0]\n"
            "  associate_public_ip_address = false\n"
            "  vpc_security_group_ids      = [aws_security_group.app.id]  # 8080 from the ALB only"),
        url="https://docs.aws.amazon.com/vpc/latest/userguide/vpc-example-private-subnets-nat.html",
    )
    api_calls = ("ec2:DescribeInstances", *NETWORK_API_CALLS)
    parameters = ("network.authorized_public_ports",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        authorized = sorted(int(p) for p in ctx.param("network.authorized_public_ports"))
        found = instances(ctx)
        if not found:
            return
        net = network(ctx)
        for instance in found:
            subnet = net.subnet_evidence(instance.subnet_id) if instance.subnet_id else {"tier": "none"}
            open_rules = [
                {"group_id": group.id, "group_name": group.name, **rule.evidence()}
                for group, rule in net.internet_rules(instance.security_group_ids)
            ]
            unauthorized = [
                {"group_id": group.id, "group_name": group.name, **rule.evidence()}
                for group in (net.security_groups[g] for g in instance.security_group_ids
                              if g in net.security_groups)
                for rule in unauthorized_internet_rules(group, authorized)
            ]
            evidence: dict[str, Any] = {
                "public_ip": instance.public_ip or None,
                "subnet": subnet,
                "security_groups": list(instance.security_group_ids),
                "internet_rules": open_rules[:MAX_EVIDENCE_ITEMS],
                "authorized_ports": authorized,
            }
            public_subnet = subnet.get("tier") == "public"
            if instance.public_ip and public_subnet and unauthorized:
                evidence["unauthorized_rules"] = unauthorized[:MAX_EVIDENCE_ITEMS]
                ports = sorted({_rule_text(r) for r in unauthorized})
                yield ctx.failed(instance.resource, f"EC2 instance {instance.label} is reachable from the internet "
                                 f"at {instance.public_ip} in public subnet {instance.subnet_id} on "
                                 f"{', '.join(ports)}.", evidence)
            elif instance.public_ip and public_subnet:
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} is in public subnet "
                                 f"{instance.subnet_id} with a public IP but admits the internet on authorized ports "
                                 "only.", evidence)
            else:
                tier = str(subnet.get("tier"))
                where = f"{'an' if tier[0] in 'aeiou' else 'a'} {tier} subnet" if instance.subnet_id else "no subnet"
                why = "has no public IP" if not instance.public_ip else "has no route from the internet"
                yield ctx.passed(instance.resource, f"EC2 instance {instance.label} is in {where} and {why}.",
                                 evidence)


def _rule_text(rule: dict[str, Any]) -> str:
    if str(rule.get("protocol")) in ("-1", "all"):
        return "all ports"
    first, last = rule.get("from_port"), rule.get("to_port")
    return f"port {first}" if first == last else f"ports {first}-{last}"
