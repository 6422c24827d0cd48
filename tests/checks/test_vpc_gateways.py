"""Interface endpoints, Site-to-Site VPN connections and transit gateways."""
from typing import Any

from auditor import Status
from checks.vpc import endpoint_checks

from ..conftest import REGION, statuses
from .test_vpc import ec2, empty_region, new_vpc, recorded  # noqa: F401 - fixtures

ENDPOINT_CHECKS = {
    "vpc_endpoint_ec2_configured": "ec2",
    "vpc_endpoint_ecr_api_configured": "ecr.api",
    "vpc_endpoint_ecr_docker_configured": "ecr.dkr",
    "vpc_endpoint_ssm_configured": "ssm",
    "vpc_endpoint_ssm_contacts_configured": "ssm-contacts",
    "vpc_endpoint_ssm_incidents_configured": "ssm-incidents",
}
TUNNELS = "vpc_vpn_connection_tunnels_up"
VPN_LOGS = "vpc_vpn_connection_logging_enabled"
TGW = "vpc_transit_gateway_auto_accept_disabled"


def finding_for(run, check_id: str, resource_id: str):
    [finding] = [f for f in run.findings if f.check_id == check_id and f.resource.id == resource_id]
    return finding


# -- interface endpoints (EC2.10, EC2.55-EC2.58, EC2.60) -----------------------------------------------------
def test_endpoint_checks_are_data_on_one_base_class():
    found = {c.id: c.endpoint_service for c in vars(endpoint_checks).values()
             if isinstance(c, type) and issubclass(c, endpoint_checks._InterfaceEndpointCheck)  # noqa: SLF001
             and "id" in c.__dict__}
    assert found == ENDPOINT_CHECKS


def test_each_endpoint_check_passes_only_for_its_service(audit, ec2, empty_region):
    served, bare = new_vpc(ec2, name="served"), new_vpc(ec2)
    endpoints = {
        service: ec2.create_vpc_endpoint(VpcId=served, ServiceName=f"com.amazonaws.{REGION}.{service}",
                                         VpcEndpointType="Interface")["VpcEndpoint"]["VpcEndpointId"]
        for service in ENDPOINT_CHECKS.values()
    }
    # A gateway endpoint for S3 in the other VPC counts for nothing.
    ec2.create_vpc_endpoint(VpcId=bare, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway")
    run = audit(*ENDPOINT_CHECKS)
    assert {(f.check_id, f.resource.id): f.status.value for f in run.findings} == {
        (check, vpc): status for check in ENDPOINT_CHECKS for vpc, status in ((served, "PASS"), (bare, "FAIL"))
    }
    for check, service in ENDPOINT_CHECKS.items():
        passed = finding_for(run, check, served)
        assert passed.evidence == {"service_name": f"com.amazonaws.{REGION}.{service}",
                                   "endpoints": [{"id": endpoints[service], "state": "available"}]}
        assert endpoints[service] in passed.message
        failed = finding_for(run, check, bare)
        assert failed.evidence["endpoints"] == [] and "has no interface endpoint" in failed.message


def test_endpoint_that_is_not_available_fails(audit, ec2, empty_region, recorded):
    vpc = new_vpc(ec2)
    recorded("DescribeVpcEndpoints", {"VpcEndpoints": [{
        "VpcEndpointId": "vpce-1", "VpcId": vpc, "ServiceName": f"com.amazonaws.{REGION}.ssm",
        "VpcEndpointType": "Interface", "State": "Rejected"}]})
    run = audit("vpc_endpoint_ssm_configured")
    assert statuses(run) == {vpc: "FAIL"}
    assert "none is available" in run.findings[0].message


def test_endpoint_checks_report_nothing_without_vpcs(audit, empty_region):
    assert audit(*ENDPOINT_CHECKS).findings == ()


def test_endpoint_denied_read_is_error(audit, faults):
    faults.deny("ec2", "DescribeVpcEndpoints")
    run = audit("vpc_endpoint_ec2_configured")
    assert [f.status for f in run.findings] == [Status.ERROR]
    assert run.findings[0].evidence["iam_action"] == "ec2:DescribeVpcEndpoints"


# -- Site-to-Site VPN (EC2.20, EC2.171) ----------------------------------------------------------------------
def vpn(connection_id: str, telemetry: tuple[str, ...], logging: tuple[bool, ...], state: str = "available",
        ) -> dict[str, Any]:
    """A DescribeVpnConnections entry in AWS's shape (moto reports neither telemetry nor tunnel options)."""
    ips = [f"52.0.0.{n}" for n in range(1, len(telemetry) + 1)]
    return {
        "VpnConnectionId": connection_id, "State": state, "Type": "ipsec.1",
        "CustomerGatewayConfiguration": "<vpn_connection><pre_shared_key>do-not-echo</pre_shared_key>",
        "VgwTelemetry": [{"OutsideIpAddress": ip, "Status": status} for ip, status in zip(ips, telemetry, strict=True)],
        "Options": {"TunnelOptions": [
            {"OutsideIpAddress": ip, "LogOptions": {"CloudWatchLogOptions": {
                "LogEnabled": enabled, "LogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:vpn"}}}
            for ip, enabled in zip(ips, logging, strict=True)
        ]},
        "Tags": [{"Key": "Name", "Value": f"{connection_id}-name"}],
    }


def test_vpn_tunnels_and_logging_in_real_aws_shape(audit, recorded):
    recorded("DescribeVpnConnections", {"VpnConnections": [
        vpn("vpn-good", ("UP", "UP"), (True, True)),
        vpn("vpn-half", ("UP", "DOWN"), (True, False)),
        vpn("vpn-gone", ("DOWN", "DOWN"), (False, False), state="deleted"),
    ]})
    run = audit(TUNNELS, VPN_LOGS)
    assert {(f.check_id, f.resource.id): f.status.value for f in run.findings} == {
        (TUNNELS, "vpn-good"): "PASS", (TUNNELS, "vpn-half"): "FAIL",
        (VPN_LOGS, "vpn-good"): "PASS", (VPN_LOGS, "vpn-half"): "FAIL",
    }
    half = finding_for(run, TUNNELS, "vpn-half")
    assert half.message == "VPN connection vpn-half (vpn-half-name) has 1 of 2 tunnels up."
    assert half.evidence["tunnels"] == [
        {"outside_ip": "52.0.0.1", "status": "UP", "logging_enabled": True},
        {"outside_ip": "52.0.0.2", "status": "DOWN", "logging_enabled": False},
    ]
    assert "52.0.0.2" in finding_for(run, VPN_LOGS, "vpn-half").message
    assert all("do-not-echo" not in str(f.to_dict()) for f in run.findings)


def test_vpn_as_moto_reports_it_fails_both_checks(audit, ec2):
    gateway = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.1", BgpAsn=65000)["CustomerGateway"]
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    connection = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=gateway["CustomerGatewayId"],
                                           VpnGatewayId=vgw)["VpnConnection"]["VpnConnectionId"]
    run = audit(TUNNELS, VPN_LOGS)
    assert {(f.check_id, f.status.value) for f in run.findings if f.resource.id == connection} == {
        (TUNNELS, "FAIL"), (VPN_LOGS, "FAIL")}
    assert "reports no tunnel logging" in finding_for(run, VPN_LOGS, connection).message


def test_no_vpn_connections_no_findings(audit):
    assert audit(TUNNELS, VPN_LOGS, TGW).findings == ()


# -- transit gateways (EC2.23) -------------------------------------------------------------------------------
def test_transit_gateway_auto_accept(audit, ec2):
    auto = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "enable"})["TransitGateway"]
    manual = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "disable"})["TransitGateway"]
    run = audit(TGW)
    assert statuses(run) == {auto["TransitGatewayId"]: "FAIL", manual["TransitGatewayId"]: "PASS"}
    failed = finding_for(run, TGW, auto["TransitGatewayId"])
    assert failed.evidence["auto_accept_shared_attachments"] is True
    assert failed.resource.type == "AWS::EC2::TransitGateway"
    assert "automatically accepts" in failed.message


def test_transit_gateway_denied_read_is_error(audit, faults):
    faults.deny("ec2", "DescribeTransitGateways", code="UnauthorizedOperation")
    [finding] = audit(TGW).findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "ec2:DescribeTransitGateways"
