"""The built-in simulated account behind `aws-audit demo`.

moto's server runs on 127.0.0.1 in this process; `AWS_ENDPOINT_URL` and throw-away credentials point every boto3
client at it, the account is seeded (`demo_account.seed_demo_account`), and the audit then runs through exactly
the code path of a real account. Nothing here can reach AWS.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Iterator

from .errors import AuditError

DEMO_REGIONS = ("us-east-1", "eu-west-1")
# Checks that read an API the simulator (moto) does not implement, with the API. On a real account they run like
# any other; the demo leaves them out and says so, rather than show ERROR rows a real account would not have.
SIMULATOR_GAPS: dict[str, str] = {
    "iam_access_analyzer_enabled": "access-analyzer:ListAnalyzers",
    "ec2_ebs_volume_backup_plan_covered": "backup:ListProtectedResources",
    "rds_instance_backup_plan_covered": "backup:ListProtectedResources",
    "vpc_client_vpn_connection_logging_enabled": "ec2:DescribeClientVpnEndpoints",
    "vpc_block_public_access_enabled": "ec2:DescribeVpcBlockPublicAccessOptions",
}
_ENV = {
    "AWS_ACCESS_KEY_ID": "demo-access-key",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-key",
    "AWS_DEFAULT_REGION": DEMO_REGIONS[0],
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


@contextmanager
def simulated_account() -> Iterator[dict[str, Any]]:
    """Start moto on 127.0.0.1, point the environment at it, seed it; yield the seeding summary."""
    saved = dict(os.environ)
    os.environ.update(_ENV)
    for name in _CLEARED:
        os.environ.pop(name, None)
    try:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise AuditError("the demo needs moto's server: pip install 'aws-audit[demo]'") from None
        import boto3

        from .demo_account import seed_demo_account

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request is noise here
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
            summary = seed_demo_account(boto3.Session(region_name=DEMO_REGIONS[0]), DEMO_REGIONS)
            yield summary
        finally:
            server.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
