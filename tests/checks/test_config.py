from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from auditor import Status

from ..conftest import ACCOUNT, BOTO

CHECK = "config_recorder_all_resources_recording"
SLR = "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
CUSTOM_ROLE = "arn:aws:iam::123456789012:role/config-recorder"


@pytest.fixture
def hooks(aws) -> Iterator[Callable[[str, Any], None]]:
    registered: list[tuple[str, Any]] = []

    def register(event: str, handler: Any) -> None:
        BOTO.events.register_first(event, handler)
        registered.append((event, handler))

    yield register
    for event, handler in registered:
        BOTO.events.unregister(event, handler)


def enable_config(aws, region: str = "us-east-1", *, role: str = SLR, all_supported: bool = True,
                  channel: bool = True, start: bool = True) -> None:
    config = aws.client("config", region_name=region)
    group: dict[str, Any] = {"allSupported": all_supported, "includeGlobalResourceTypes": all_supported}
    if not all_supported:
        group["resourceTypes"] = ["AWS::S3::Bucket"]
        group["recordingStrategy"] = {"useOnly": "INCLUSION_BY_RESOURCE_TYPES"}
    config.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role,
                                                             "recordingGroup": group})
    if channel:
        bucket = f"config-{region}-logs"
        aws.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


def test_no_recorder_fails_every_region(audit):
    run = audit(CHECK, regions=("us-east-1", "eu-west-1"))
    assert {f.region: (f.status, f.resource.id) for f in run.findings} == {
        "us-east-1": (Status.FAIL, ACCOUNT),
        "eu-west-1": (Status.FAIL, ACCOUNT),
    }
    assert all("no configuration recorder" in f.message for f in run.findings)


def test_recording_all_resources_passes(audit, aws):
    enable_config(aws)
    run = audit(CHECK)
    [finding] = run.findings
    assert finding.status is Status.PASS
    assert finding.resource.type == "AWS::Config::ConfigurationRecorder"
    assert finding.resource.id == "default"
    assert finding.evidence["recording"] is True
    assert finding.evidence["delivery_channels"] == ["default"]


def test_enabled_in_one_region_only_fails_the_other(audit, aws):
    enable_config(aws, "us-east-1")
    run = audit(CHECK, regions=("us-east-1", "eu-west-1"))
    assert {f.region: f.status.value for f in run.findings} == {"us-east-1": "PASS", "eu-west-1": "FAIL"}


def test_stopped_recorder_fails(audit, aws):
    enable_config(aws, start=False)
    run = audit(CHECK)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert "is not recording" in finding.message
    assert finding.evidence["recording"] is False


def test_recorder_without_delivery_channel_fails(audit, aws):
    enable_config(aws, channel=False, start=False)
    run = audit(CHECK)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert "has no delivery channel" in finding.message
    assert finding.evidence["delivery_channels"] == []


def test_recorder_of_some_resource_types_fails(audit, aws):
    enable_config(aws, all_supported=False)
    run = audit(CHECK)
    [finding] = run.findings
    assert finding.status is Status.FAIL
    assert finding.message.endswith("does not record all supported resource types.")


def test_custom_role_fails_unless_the_parameter_allows_it(audit, aws):
    enable_config(aws, role=CUSTOM_ROLE)
    strict = audit(CHECK)
    assert [f.status for f in strict.findings] == [Status.FAIL]
    assert "AWSServiceRoleForConfig" in strict.findings[0].message
    lenient = audit(CHECK, params={"config.require_service_linked_role": False})
    assert [f.status for f in lenient.findings] == [Status.PASS]


def test_service_linked_recorders_of_other_services_do_not_count(audit, aws, hooks):
    """Recorded AWS shape: a service-linked recorder (servicePrincipal set) that moto cannot create."""
    enable_config(aws)  # replaced below: the region holds only the service-linked recorder

    def only_service_linked(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ConfigurationRecorders"] = [{
            "arn": "arn:aws:config:us-east-1:123456789012:configuration-recorder/"
                   "AWSConfigurationRecorderForSecurityHub/abcd",
            "name": "AWSConfigurationRecorderForSecurityHub",
            "recordingGroup": {"allSupported": False, "includeGlobalResourceTypes": False,
                               "resourceTypes": ["AWS::EC2::Instance"],
                               "recordingStrategy": {"useOnly": "INCLUSION_BY_RESOURCE_TYPES"}},
            "recordingMode": {"recordingFrequency": "CONTINUOUS"},
            "recordingScope": "INTERNAL",
            "servicePrincipal": "securityhub.amazonaws.com",
        }]

    hooks("after-call.config-service.DescribeConfigurationRecorders", only_service_linked)
    run = audit(CHECK)
    [finding] = run.findings
    assert (finding.status, finding.resource.id) == (Status.FAIL, ACCOUNT)
    # Nothing customer-managed: the status and channels are not read.
    assert "config:DescribeConfigurationRecorderStatus" not in run.actions_used[CHECK]


def test_recording_strategy_all_supported_counts_as_all(audit, aws, hooks):
    """Recorded AWS shape: recordingStrategy ALL_SUPPORTED_RESOURCE_TYPES without the older allSupported flag."""
    enable_config(aws)

    def strategy_only(parsed: dict[str, Any], **_: Any) -> None:
        for recorder in parsed.get("ConfigurationRecorders", []):
            recorder["recordingGroup"] = {"recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}}

    hooks("after-call.config-service.DescribeConfigurationRecorders", strategy_only)
    run = audit(CHECK)
    assert [f.status for f in run.findings] == [Status.PASS]
    assert run.findings[0].evidence["all_supported"] is False
    assert run.findings[0].evidence["recording_strategy"] == "ALL_SUPPORTED_RESOURCE_TYPES"


def test_denied_status_read_is_error_naming_the_action(audit, aws, faults):
    enable_config(aws)
    faults.deny("config", "DescribeConfigurationRecorderStatus")
    run = audit(CHECK)
    [finding] = run.findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "config:DescribeConfigurationRecorderStatus"
    assert finding.evidence["error_code"] == "AccessDenied"
