"""The built-in simulated account: its legacy instance carries a key pair in its user data, which must be found."""
import json

from auditor import Status, demo_account
from auditor.demo_account import seed_demo_account

from ..conftest import BOTO

USER_DATA = "ec2_instance_user_data_no_secrets"
EXPOSED = "ec2_instance_not_internet_exposed"


def test_demo_legacy_instance_fails_user_data_check_without_leaking(audit):
    seed_demo_account(BOTO, ("us-east-1", "eu-west-1"))
    run = audit(USER_DATA, EXPOSED)
    user_data = {f.resource.name: f for f in run.findings if f.check_id == USER_DATA}
    assert user_data["acme-legacy-app"].status is Status.FAIL
    assert user_data["acme-prod-app-1"].status is Status.PASS  # user data without secrets
    planted = [value for name, value in vars(demo_account).items() if name.startswith("FAKE_")]
    document = json.dumps([f.to_dict() for f in run.findings])
    assert all(value not in document for value in planted)
    # The app servers sit in private subnets behind NAT gateways: not reachable from the internet.
    exposed = {f.resource.name: f for f in run.findings if f.check_id == EXPOSED}
    assert {name: f.status for name, f in exposed.items()} == {
        "acme-legacy-app": Status.PASS, "acme-prod-app-1": Status.PASS}
    assert exposed["acme-legacy-app"].evidence["subnet"]["tier"] == "private"
    assert exposed["acme-legacy-app"].evidence["internet_rules"][0]["from_port"] == 22  # the bastion group
