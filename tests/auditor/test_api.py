"""The read-only gateway: refusal of writes, single flight, pagination, error classification."""
from __future__ import annotations

import threading
import time

import pytest

from auditor import AuditConfig
from auditor.api import ApiCache, iam_action, is_read_action, is_read_operation
from auditor.errors import DataUnavailable, ReadOnlyViolation
from auditor.session import AwsSession

from ..conftest import BOTO


@pytest.fixture
def session(aws):
    return AwsSession(AuditConfig(max_attempts=2), BOTO)


def _running_instance(aws) -> str:
    return aws.client("ec2").run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def test_mutating_call_is_refused_before_it_is_sent(aws, session):
    instance = _running_instance(aws)
    api = ApiCache(session)
    with pytest.raises(ReadOnlyViolation, match="ec2:TerminateInstances"):
        api.call("ec2", "TerminateInstances", "us-east-1", InstanceIds=[instance])
    state = aws.client("ec2").describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]
    assert state["Name"] == "running"
    assert not any("Terminate" in op for op in session.requests)


def test_session_clients_refuse_writes_even_when_used_directly(aws, session):
    instance = _running_instance(aws)
    client = session.client("ec2", "us-east-1")
    with pytest.raises(ReadOnlyViolation):
        client.terminate_instances(InstanceIds=[instance])
    with pytest.raises(ReadOnlyViolation):
        session.client("s3", "us-east-1").delete_bucket(Bucket="anything")
    assert session.requests.get("ec2:TerminateInstances") is None
    assert aws.client("ec2").describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0][
        "State"]["Name"] == "running"


@pytest.mark.parametrize(
    "operation, allowed",
    [
        ("DescribeInstances", True),
        ("ListBuckets", True),
        ("GetBucketPolicy", True),
        ("GenerateCredentialReport", True),
        ("PutBucketPolicy", False),
        ("CreateBucket", False),
        ("DeleteTrail", False),
        ("StopLogging", False),
        ("GetSecretValue", False),  # a read, but of secret material
        ("GetParameters", False),
        ("GetObject", False),
        ("GetPasswordData", False),
    ],
)
def test_read_rule(operation, allowed):
    assert is_read_operation(operation) is allowed
    assert is_read_action(f"svc:{operation}") is allowed


def test_iam_action_names_where_they_differ_from_operations():
    assert iam_action("s3", "GetBucketEncryption") == "s3:GetEncryptionConfiguration"
    assert iam_action("s3", "ListBuckets") == "s3:ListAllMyBuckets"
    assert iam_action("s3control", "GetPublicAccessBlock") == "s3:GetAccountPublicAccessBlock"
    assert iam_action("ec2", "DescribeVolumes") == "ec2:DescribeVolumes"


def test_concurrent_identical_reads_make_one_request(aws, session):
    aws.client("ec2").create_security_group(GroupName="web", Description="web")
    slow = lambda **_: time.sleep(0.2)  # noqa: E731 - widen the race window
    session.client("ec2", "us-east-1").meta.events.register("before-send.ec2.DescribeSecurityGroups", slow)
    api = ApiCache(session)
    barrier = threading.Barrier(8)
    results = []

    def ask() -> None:
        barrier.wait()
        results.append(api.call("ec2", "DescribeSecurityGroups", "us-east-1"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert session.requests["ec2:DescribeSecurityGroups"] == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_different_parameters_or_regions_are_different_reads(aws, session):
    api = ApiCache(session)
    api.call("ec2", "DescribeVpcs", "us-east-1")
    api.call("ec2", "DescribeVpcs", "eu-west-1")
    api.call("ec2", "DescribeVpcs", "us-east-1", Filters=[{"Name": "is-default", "Values": ["true"]}])
    api.call("ec2", "DescribeVpcs", "us-east-1")
    assert session.requests["ec2:DescribeVpcs"] == 3


def test_full_pagination(aws, session):
    logs = aws.client("logs")
    for n in range(25):
        logs.create_log_group(logGroupName=f"group-{n:02d}")
    result = ApiCache(session).call("logs", "DescribeLogGroups", "us-east-1", limit=10)
    assert len(result["logGroups"]) == 25
    assert session.requests["cloudwatch-logs:DescribeLogGroups"] == 3
    assert "ResponseMetadata" not in result


def test_not_configured_is_none_not_an_error(aws, session):
    aws.client("s3").create_bucket(Bucket="plain-bucket")
    api = ApiCache(session)
    assert api.call("s3", "GetBucketEncryption", "us-east-1", Bucket="plain-bucket") is None
    assert api.call("s3", "GetBucketPolicy", "us-east-1", Bucket="plain-bucket") is None
    assert api.errors == ()


def test_denied_read_is_unavailable_with_action_and_code(faults, session):
    faults.deny("s3", "GetBucketEncryption")
    api = ApiCache(session)
    with pytest.raises(DataUnavailable) as raised:
        api.call("s3", "GetBucketEncryption", "us-east-1", Bucket="any-bucket")
    error = raised.value.error
    assert (error.iam_action, error.code, error.region) == ("s3:GetEncryptionConfiguration", "AccessDenied",
                                                            "us-east-1")
    # Memoised: asking again does not ask AWS again, and the error is recorded once for the report.
    with pytest.raises(DataUnavailable):
        api.call("s3", "GetBucketEncryption", "us-east-1", Bucket="any-bucket")
    assert len(api.errors) == 1


def test_throttling_that_outlives_retries_is_unavailable(faults, session):
    faults.throttle("ec2", "DescribeVolumes")
    with pytest.raises(DataUnavailable) as raised:
        ApiCache(session).call("ec2", "DescribeVolumes", "us-east-1")
    assert raised.value.error.code == "RequestLimitExceeded"
    assert session.requests["ec2:DescribeVolumes"] == 2  # max_attempts=2: botocore really retried


def test_unknown_operation_is_a_bug_not_an_absence(session):
    with pytest.raises(ValueError):
        ApiCache(session).call("ec2", "DescribeNothingAtAll", "us-east-1")
