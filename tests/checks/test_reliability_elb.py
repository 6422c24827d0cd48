"""Load balancers span several Availability Zones (service elb, reliability)."""
from auditor import Status

from ..conftest import REGION, statuses
from .test_cost_elb import default_subnets, load_balancer

MULTI_AZ = "elb_load_balancer_multi_az"


def test_single_zone_load_balancer_fails_multi_zone_passes(audit, aws):
    subnets = default_subnets(aws)
    load_balancer(aws, "two-zones", subnets[:2])
    load_balancer(aws, "one-zone", subnets[:1], "network")
    run = audit(MULTI_AZ)
    assert statuses(run) == {"two-zones": "PASS", "one-zone": "FAIL"}
    [failed] = [f for f in run.findings if f.resource.id == "one-zone"]
    assert failed.evidence["availability_zones"] == [f"{REGION}a"]
    assert "only 1 Availability Zone" in failed.message


def test_denied_describe_is_error_naming_the_action(audit, aws, faults):
    faults.deny("elbv2", "DescribeLoadBalancers")
    [finding] = audit(MULTI_AZ).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "elasticloadbalancing:DescribeLoadBalancers"


def test_no_load_balancers_no_zone_findings(audit):
    assert audit(MULTI_AZ).findings == ()
