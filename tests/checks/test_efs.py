from auditor import Status

CHECK = "efs_file_system_encrypted"


def test_unencrypted_file_system_fails(audit, aws):
    fs = aws.client("efs").create_file_system(CreationToken="plain", Encrypted=False)["FileSystemId"]
    run = audit(CHECK)
    [finding] = run.findings
    assert (finding.resource.id, finding.status, finding.evidence["encrypted"]) == (fs, Status.FAIL, False)


def test_encrypted_file_system_passes(audit, aws):
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    fs = aws.client("efs").create_file_system(CreationToken="secure", Encrypted=True, KmsKeyId=key)["FileSystemId"]
    run = audit(CHECK)
    assert [(f.resource.id, f.status, f.evidence["kms_key_id"]) for f in run.findings] == [(fs, Status.PASS, key)]


def test_no_file_systems_no_findings(audit):
    assert audit(CHECK).findings == ()


def test_denied_read_is_error(audit, faults):
    faults.deny("efs", "DescribeFileSystems")
    [finding] = audit(CHECK).findings
    assert finding.status is Status.ERROR
    assert finding.evidence["iam_action"] == "elasticfilesystem:DescribeFileSystems"
