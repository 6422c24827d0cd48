from auditor import Status

CHECK = "securityhub_hub_enabled"


def test_not_enabled_fails_per_region(audit):
    run = audit(CHECK, regions=("us-east-1", "eu-west-1"))
    assert {(f.region, f.status) for f in run.findings} == {("us-east-1", Status.FAIL), ("eu-west-1", Status.FAIL)}
    assert all(f.resource.type == "AWS::::Account" for f in run.findings)


def test_enabled_passes(audit, aws):
    aws.client("securityhub").enable_security_hub(EnableDefaultStandards=False)
    [finding] = audit(CHECK).findings
    assert finding.status is Status.PASS and finding.evidence["hub_arn"].endswith(":hub/default")


def test_enabled_in_one_region_only(audit, aws):
    aws.client("securityhub", region_name="eu-west-1").enable_security_hub(EnableDefaultStandards=False)
    run = audit(CHECK, regions=("us-east-1", "eu-west-1"))
    assert {f.region: f.status for f in run.findings} == {"us-east-1": Status.FAIL, "eu-west-1": Status.PASS}


def test_denied_read_is_error_not_fail(audit, faults):
    faults.deny("securityhub", "DescribeHub", code="AccessDeniedException")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "securityhub:DescribeHub"
