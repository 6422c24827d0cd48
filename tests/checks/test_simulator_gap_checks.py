"""Checks whose API the simulator (moto 5.2) does not implement: IAM Access Analyzer ListAnalyzers, AWS Backup
ListProtectedResources, EC2 DescribeClientVpnEndpoints and DescribeVpcBlockPublicAccessOptions.

Those reads are answered with recorded responses in AWS's documented shapes, served by a botocore `before-call`
hook on the shared session, so the checks still run through the real engine; everything moto does implement
(EBS volumes, EC2 instances, RDS) comes from moto.
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest
from botocore.awsrequest import AWSResponse

from auditor import Status

from ..conftest import ACCOUNT, BOTO, REGION, statuses

ANALYZER = "iam_access_analyzer_enabled"
EBS_BACKUP = "ec2_ebs_volume_backup_plan_covered"
RDS_BACKUP = "rds_instance_backup_plan_covered"
CLIENT_VPN_LOGGING = "vpc_client_vpn_connection_logging_enabled"
BLOCK_PUBLIC_ACCESS = "vpc_block_public_access_enabled"
OTHER_REGION = "eu-west-1"
LAST_BACKUP = datetime(2026, 11, 25, 5, 12, 40, tzinfo=timezone.utc)
VAULT_ARN = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:Default"


class Recorded:
    """Answer chosen operations with recorded AWS responses, per region when asked."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Any]] = []

    def respond(self, service: str, operation: str, body: dict[str, Any], region: str | None = None) -> None:
        """Answer `operation` with `body`; with `region`, only requests to that region's endpoint."""

        def handler(params: dict[str, Any], **_: Any) -> Any:
            if region is not None and f".{region}." not in str(params.get("url", "")):
                return None
            return AWSResponse("https://recorded", 200, {}, None), copy.deepcopy(body)

        service_id = BOTO._session.get_service_model(service).service_id.hyphenize()  # noqa: SLF001
        event = f"before-call.{service_id}.{operation}"
        BOTO.events.register_first(event, handler)
        self._handlers.append((event, handler))

    def clear(self) -> None:
        for event, handler in self._handlers:
            BOTO.events.unregister(event, handler)
        self._handlers.clear()


@pytest.fixture
def recorded(aws: Any) -> Iterator[Recorded]:
    responses = Recorded()
    yield responses
    responses.clear()


def error_evidence(run: Any) -> dict[str, Any]:
    [finding] = run.findings
    assert finding.status is Status.ERROR
    return dict(finding.evidence)


# -- iam_access_analyzer_enabled (IAM.28, CIS 1.20) -----------------------------------------------------------------
def analyzer(name: str, kind: str = "ACCOUNT", status: str = "ACTIVE", region: str = REGION,
             reason: str | None = None) -> dict[str, Any]:
    """One ListAnalyzers entry as AWS returns it."""
    item: dict[str, Any] = {
        "arn": f"arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer/{name}",
        "name": name,
        "type": kind,
        "createdAt": datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc),
        "lastResourceAnalyzed": "arn:aws:s3:::example-logs",
        "lastResourceAnalyzedAt": datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc),
        "status": status,
        "tags": {},
    }
    if kind.endswith("UNUSED_ACCESS"):
        item["configuration"] = {"unusedAccess": {"unusedAccessAge": 90}}
    if reason:
        item["statusReason"] = {"code": reason}
    return item


def test_access_analyzer_passes_with_an_active_account_analyzer(audit, recorded):
    recorded.respond("accessanalyzer", "ListAnalyzers", {"analyzers": [
        analyzer("ConsoleAnalyzer-7f3c", "ACCOUNT"), analyzer("unused-access", "ACCOUNT_UNUSED_ACCESS")]})
    run = audit(ANALYZER)
    [finding] = run.findings
    assert (finding.status, finding.resource.id, finding.region) == (Status.PASS, ACCOUNT, REGION)
    assert "ConsoleAnalyzer-7f3c" in finding.message and "unused-access" not in finding.message
    assert finding.evidence["analyzers"][0] == {"name": "ConsoleAnalyzer-7f3c", "type": "ACCOUNT",
                                                "status": "ACTIVE"}
    assert run.actions_used[ANALYZER] == {"access-analyzer:ListAnalyzers"}


def test_access_analyzer_passes_with_an_organization_analyzer(audit, recorded):
    recorded.respond("accessanalyzer", "ListAnalyzers", {"analyzers": [analyzer("org", "ORGANIZATION")]})
    [finding] = audit(ANALYZER).findings
    assert finding.status is Status.PASS


def test_access_analyzer_fails_with_only_an_unused_access_analyzer(audit, recorded):
    recorded.respond("accessanalyzer", "ListAnalyzers", {"analyzers": [
        analyzer("unused-access", "ACCOUNT_UNUSED_ACCESS"), analyzer("internal", "ACCOUNT_INTERNAL_ACCESS")]})
    [finding] = audit(ANALYZER).findings
    assert finding.status is Status.FAIL
    assert finding.message == f"IAM Access Analyzer has no external access analyzer in {REGION}."
    assert [a["type"] for a in finding.evidence["analyzers"]] == ["ACCOUNT_UNUSED_ACCESS", "ACCOUNT_INTERNAL_ACCESS"]


def test_access_analyzer_fails_when_the_external_analyzer_is_not_active(audit, recorded):
    recorded.respond("accessanalyzer", "ListAnalyzers", {"analyzers": [
        analyzer("org", "ORGANIZATION", "DISABLED", reason="AWS_SERVICE_ACCESS_DISABLED")]})
    [finding] = audit(ANALYZER).findings
    assert finding.status is Status.FAIL
    assert "org is DISABLED" in finding.message
    assert finding.evidence["analyzers"] == [{"name": "org", "type": "ORGANIZATION", "status": "DISABLED",
                                              "status_reason": "AWS_SERVICE_ACCESS_DISABLED"}]


def test_access_analyzer_absent_fails(audit, recorded):
    """The no-resources case: a region without analyzers answers an empty list, and absence is the finding."""
    recorded.respond("accessanalyzer", "ListAnalyzers", {"analyzers": []})
    [finding] = audit(ANALYZER).findings
    assert (finding.status, finding.resource.type) == (Status.FAIL, "AWS::::Account")
    assert finding.evidence == {"analyzers": []}


def test_access_analyzer_is_judged_per_region(audit, recorded):
    recorded.respond("accessanalyzer", "ListAnalyzers", {"analyzers": [analyzer("main")]}, region=REGION)
    recorded.respond("accessanalyzer", "ListAnalyzers", {"analyzers": []}, region=OTHER_REGION)
    run = audit(ANALYZER, regions=(REGION, OTHER_REGION))
    assert {f.region: f.status for f in run.findings} == {REGION: Status.PASS, OTHER_REGION: Status.FAIL}


def test_access_analyzer_denied_is_error(audit, faults):
    faults.deny("accessanalyzer", "ListAnalyzers")
    evidence = error_evidence(audit(ANALYZER))
    assert (evidence["iam_action"], evidence["error_code"]) == ("access-analyzer:ListAnalyzers", "AccessDenied")


# -- ec2_ebs_volume_backup_plan_covered (EC2.28) ------------------------------------------------------------------
def protected(arn: str, kind: str, name: str = "") -> dict[str, Any]:
    """One ListProtectedResources entry as AWS returns it."""
    item = {"ResourceArn": arn, "ResourceType": kind, "LastBackupTime": LAST_BACKUP,
            "LastBackupVaultArn": VAULT_ARN,
            "LastRecoveryPointArn": f"arn:aws:ec2:{REGION}::snapshot/snap-0a1b2c3d4e5f67890"}
    if name:
        item["ResourceName"] = name
    return item


def volume_arn(volume_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{volume_id}"


def test_ebs_volume_in_backup_passes_and_one_without_fails(audit, aws, recorded):
    ec2 = aws.client("ec2")
    kept = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    loose = ec2.create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    recorded.respond("backup", "ListProtectedResources", {"Results": [
        protected(volume_arn(kept), "EBS"),
        protected(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders", "RDS", "orders")]})
    run = audit(EBS_BACKUP)
    assert statuses(run) == {kept: "PASS", loose: "FAIL"}
    by_id = {f.resource.id: f for f in run.findings}
    assert by_id[kept].evidence["last_backup"] == LAST_BACKUP.isoformat()
    assert by_id[kept].evidence["backup_vault"] == "Default"
    assert by_id[loose].message == f"EBS volume {loose} has no recovery point in AWS Backup."
    assert run.actions_used[EBS_BACKUP] == {"ec2:DescribeVolumes", "backup:ListProtectedResources"}


def test_ebs_volume_of_a_backed_up_instance_passes(audit, aws, recorded):
    ec2 = aws.client("ec2")
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    [root] = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance]}])["Volumes"]
    recorded.respond("backup", "ListProtectedResources", {"Results": [
        protected(f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance}", "EC2")]})
    [finding] = audit(EBS_BACKUP).findings
    assert (finding.status, finding.resource.id) == (Status.PASS, root["VolumeId"])
    assert f"through its instance {instance}" in finding.message
    assert finding.evidence["backup_resource_type"] == "EC2"


def test_ebs_volume_of_an_instance_without_backup_fails(audit, aws, recorded):
    ec2 = aws.client("ec2")
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    recorded.respond("backup", "ListProtectedResources", {"Results": []})
    [finding] = audit(EBS_BACKUP).findings
    assert finding.status is Status.FAIL
    assert finding.evidence["attached_to"] == [instance]
    assert f"nor its instance {instance}" in finding.message


def test_ebs_backup_without_volumes_reads_no_backups(audit, faults):
    """No volumes, no findings; AWS Backup is not even asked (denying it changes nothing)."""
    faults.deny("backup", "ListProtectedResources")
    run = audit(EBS_BACKUP)
    assert run.findings == ()
    assert run.actions_used[EBS_BACKUP] == {"ec2:DescribeVolumes"}


def test_ebs_backup_denied_is_error(audit, aws, faults):
    aws.client("ec2").create_volume(Size=1, AvailabilityZone=f"{REGION}a")
    faults.deny("backup", "ListProtectedResources")
    evidence = error_evidence(audit(EBS_BACKUP))
    assert (evidence["iam_action"], evidence["error_code"]) == ("backup:ListProtectedResources", "AccessDenied")


# -- rds_instance_backup_plan_covered (RDS.26) ------------------------------------------------------------------
def create_instance(aws: Any, name: str) -> None:
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-password-1", AllocatedStorage=20)


def create_cluster(aws: Any, cluster: str, member: str) -> None:
    rds = aws.client("rds")
    rds.create_db_cluster(DBClusterIdentifier=cluster, Engine="aurora-postgresql", MasterUsername="dbadmin",
                          MasterUserPassword="not-a-real-password-1")
    rds.create_db_instance(DBInstanceIdentifier=member, DBClusterIdentifier=cluster, Engine="aurora-postgresql",
                           DBInstanceClass="db.r6g.large")


def test_rds_instance_in_backup_passes_and_one_without_fails(audit, aws, recorded):
    create_instance(aws, "orders")
    create_instance(aws, "reports")
    recorded.respond("backup", "ListProtectedResources", {"Results": [
        protected(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders", "RDS", "orders"),
        protected(volume_arn("vol-0123456789abcdef0"), "EBS")]})
    run = audit(RDS_BACKUP)
    assert statuses(run) == {"orders": "PASS", "reports": "FAIL"}
    by_id = {f.resource.id: f for f in run.findings}
    assert by_id["orders"].evidence["protected_arn"] == f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"
    assert by_id["reports"].message == "RDS DB instance reports has no recovery point in AWS Backup."
    assert run.actions_used[RDS_BACKUP] == {"rds:DescribeDBInstances", "backup:ListProtectedResources"}


def test_rds_cluster_members_follow_their_cluster(audit, aws, recorded):
    create_cluster(aws, "ledger", "ledger-1")
    create_cluster(aws, "scratch", "scratch-1")
    recorded.respond("backup", "ListProtectedResources", {"Results": [
        protected(f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:ledger", "Aurora", "ledger")]})
    run = audit(RDS_BACKUP)
    assert statuses(run) == {"ledger-1": "PASS", "scratch-1": "FAIL"}
    by_id = {f.resource.id: f for f in run.findings}
    assert "through its DB cluster ledger" in by_id["ledger-1"].message
    assert by_id["scratch-1"].message == ("Neither RDS DB instance scratch-1 nor its DB cluster scratch has a "
                                          "recovery point in AWS Backup.")


def test_rds_backup_without_instances_has_no_findings(audit, faults):
    faults.deny("backup", "ListProtectedResources")
    run = audit(RDS_BACKUP)
    assert run.findings == ()
    assert run.actions_used[RDS_BACKUP] == {"rds:DescribeDBInstances"}


def test_rds_backup_denied_is_error(audit, aws, faults):
    create_instance(aws, "orders")
    faults.deny("backup", "ListProtectedResources")
    evidence = error_evidence(audit(RDS_BACKUP))
    assert (evidence["iam_action"], evidence["error_code"]) == ("backup:ListProtectedResources", "AccessDenied")


# -- vpc_client_vpn_connection_logging_enabled (EC2.51) ----------------------------------------------------------
def client_vpn(endpoint_id: str, logging: bool, status: str = "available", name: str = "") -> dict[str, Any]:
    """One DescribeClientVpnEndpoints entry as AWS returns it."""
    logs: dict[str, Any] = {"Enabled": logging}
    if logging:
        logs.update(CloudwatchLogGroup="/aws/client-vpn/remote", CloudwatchLogStream="connections")
    return {
        "ClientVpnEndpointId": endpoint_id,
        "Description": "remote staff",
        "Status": {"Code": status},
        "CreationTime": "2025-06-02T10:11:12",
        "DnsName": f"*.{endpoint_id}.prod.clientvpn.{REGION}.amazonaws.com",
        "ClientCidrBlock": "10.100.0.0/22",
        "SplitTunnel": True,
        "VpnProtocol": "openvpn",
        "TransportProtocol": "udp",
        "VpnPort": 443,
        "ServerCertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f6a6d3e-1111-2222-3333-444455556666",
        "AuthenticationOptions": [{"Type": "certificate-authentication", "MutualAuthentication": {
            "ClientRootCertificateChain": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/aa11bb22-cc33-dd44-ee55"}}],
        "ConnectionLogOptions": logs,
        "Tags": [{"Key": "Name", "Value": name}] if name else [],
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
        "VpcId": "vpc-0123456789abcdef0",
        "SessionTimeoutHours": 24,
        "ClientLoginBannerOptions": {"Enabled": False},
    }


def test_client_vpn_logging_passes_and_fails_per_endpoint(audit, recorded):
    recorded.respond("ec2", "DescribeClientVpnEndpoints", {"ClientVpnEndpoints": [
        client_vpn("cvpn-endpoint-0aaa", True, name="staff"),
        client_vpn("cvpn-endpoint-0bbb", False),
        client_vpn("cvpn-endpoint-0ccc", False, status="deleted")]})
    run = audit(CLIENT_VPN_LOGGING)
    assert statuses(run) == {"cvpn-endpoint-0aaa": "PASS", "cvpn-endpoint-0bbb": "FAIL"}
    by_id = {f.resource.id: f for f in run.findings}
    passed = by_id["cvpn-endpoint-0aaa"]
    assert passed.message == "Client VPN endpoint cvpn-endpoint-0aaa (staff) logs client connections."
    assert passed.evidence["log_group"] == "/aws/client-vpn/remote"
    assert (passed.resource.type, passed.resource.arn) == (
        "AWS::EC2::ClientVpnEndpoint", f"arn:aws:ec2:{REGION}:{ACCOUNT}:client-vpn-endpoint/cvpn-endpoint-0aaa")
    assert by_id["cvpn-endpoint-0bbb"].evidence["connection_logging"] is False


def test_client_vpn_logging_without_endpoints_has_no_findings(audit, recorded):
    recorded.respond("ec2", "DescribeClientVpnEndpoints", {"ClientVpnEndpoints": []})
    run = audit(CLIENT_VPN_LOGGING)
    assert run.findings == ()
    assert run.actions_used[CLIENT_VPN_LOGGING] == {"ec2:DescribeClientVpnEndpoints"}


def test_client_vpn_logging_denied_is_error(audit, faults):
    faults.deny("ec2", "DescribeClientVpnEndpoints", code="UnauthorizedOperation")
    evidence = error_evidence(audit(CLIENT_VPN_LOGGING))
    assert (evidence["iam_action"], evidence["error_code"]) == (
        "ec2:DescribeClientVpnEndpoints", "UnauthorizedOperation")


# -- vpc_block_public_access_enabled (EC2.172) ---------------------------------------------------------------------
def block_public_access(mode: str, state: str = "update-complete") -> dict[str, Any]:
    """DescribeVpcBlockPublicAccessOptions as AWS returns it."""
    return {"VpcBlockPublicAccessOptions": {
        "AwsAccountId": ACCOUNT, "AwsRegion": REGION, "State": state, "InternetGatewayBlockMode": mode,
        "LastUpdateTimestamp": datetime(2026, 1, 12, 14, 0, tzinfo=timezone.utc), "ManagedBy": "account",
        "ExclusionsAllowed": "allowed"}}


@pytest.mark.parametrize("mode", ["block-bidirectional", "block-ingress"])
def test_block_public_access_passes_when_it_blocks(audit, recorded, mode):
    recorded.respond("ec2", "DescribeVpcBlockPublicAccessOptions", block_public_access(mode))
    [finding] = audit(BLOCK_PUBLIC_ACCESS).findings
    assert (finding.status, finding.resource.type, finding.region) == (Status.PASS, "AWS::::Account", REGION)
    assert finding.evidence["internet_gateway_block_mode"] == mode


def test_block_public_access_off_fails(audit, recorded):
    """The no-resources case: a region that never turned it on answers mode "off" in the default state."""
    recorded.respond("ec2", "DescribeVpcBlockPublicAccessOptions", block_public_access("off", "default-state"))
    [finding] = audit(BLOCK_PUBLIC_ACCESS).findings
    assert (finding.status, finding.resource.type) == (Status.FAIL, "AWS::::Account")
    assert finding.message == f"VPC Block Public Access is off in {REGION}."
    assert finding.evidence["state"] == "default-state"


def test_block_public_access_ingress_fails_when_bidirectional_is_required(audit, recorded):
    recorded.respond("ec2", "DescribeVpcBlockPublicAccessOptions", block_public_access("block-ingress"))
    run = audit(BLOCK_PUBLIC_ACCESS, params={"vpc.block_public_access_modes": ["block-bidirectional"]})
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert "block-ingress" in finding.message and "not one of block-bidirectional" in finding.message


def test_block_public_access_missing_options_read_as_off(audit, recorded):
    recorded.respond("ec2", "DescribeVpcBlockPublicAccessOptions", {})
    [finding] = audit(BLOCK_PUBLIC_ACCESS).findings
    assert finding.status is Status.FAIL
    assert finding.evidence["internet_gateway_block_mode"] == "off"


def test_block_public_access_denied_is_error(audit, faults):
    faults.deny("ec2", "DescribeVpcBlockPublicAccessOptions", code="UnauthorizedOperation")
    evidence = error_evidence(audit(BLOCK_PUBLIC_ACCESS))
    assert evidence["iam_action"] == "ec2:DescribeVpcBlockPublicAccessOptions"
