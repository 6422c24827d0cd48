from auditor import Status

from ..conftest import statuses

MULTI_AZ = "rds_instance_multi_az_in_production"
AURORA = "rds_cluster_multiple_instances_in_production"


def instance(aws, name: str, environment: str | None, multi_az: bool, **extra) -> str:
    tags = [{"Key": "Environment", "Value": environment}] if environment else []
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword="not-a-real-password-1", MultiAZ=multi_az, Tags=tags, **extra)
    return name


def cluster(aws, name: str, environment: str | None, members: int) -> str:
    rds = aws.client("rds")
    tags = [{"Key": "Environment", "Value": environment}] if environment else []
    rds.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql", MasterUsername="app",
                          MasterUserPassword="not-a-real-password-1", Tags=tags)
    for i in range(members):
        rds.create_db_instance(DBInstanceIdentifier=f"{name}-{i}", DBClusterIdentifier=name,
                               Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
    return name


def test_single_az_production_and_unknown_fail(audit, aws):
    prod = instance(aws, "prod-db", "prod", False)
    unknown = instance(aws, "mystery-db", None, False)
    run = audit(MULTI_AZ)
    assert statuses(run) == {prod: "FAIL", unknown: "FAIL"}
    [p] = [f for f in run.findings if f.resource.id == prod]
    assert p.evidence == {"multi_az": False, "environment": "production", "environment_basis": "tag Environment=prod"}
    assert "production (tag Environment=prod)" in p.message
    [u] = [f for f in run.findings if f.resource.id == unknown]
    assert "judged as production" in u.message and "no Environment tag and no --environment" in u.message


def test_multi_az_production_and_single_az_staging_pass(audit, aws):
    prod = instance(aws, "prod-db", "production", True)
    staging = instance(aws, "staging-db", "staging", False)
    run = audit(MULTI_AZ)
    assert statuses(run) == {prod: "PASS", staging: "PASS"}
    [s] = [f for f in run.findings if f.resource.id == staging]
    assert "acceptable for non-production (tag Environment=staging)" in s.message


def test_account_default_decides_untagged_instances(audit, aws):
    untagged = instance(aws, "db", None, False)
    run = audit(MULTI_AZ, params={"tags.account_environment": "dev"})
    assert statuses(run) == {untagged: "PASS"}
    assert "account default --environment dev" in run.findings[0].message


def test_no_databases_no_findings(audit):
    assert audit(MULTI_AZ, AURORA).findings == ()


def test_single_instance_production_aurora_fails(audit, aws):
    lonely = cluster(aws, "prod-aurora", "prod", 1)
    dev = cluster(aws, "dev-aurora", "dev", 1)
    run = audit(AURORA)
    assert statuses(run) == {lonely: "FAIL", dev: "PASS"}
    [f] = [f for f in run.findings if f.resource.id == lonely]
    assert f.evidence["instance_count"] == 1 and f.evidence["environment_basis"] == "tag Environment=prod"
    assert f.resource.type == "AWS::RDS::DBCluster"


def test_two_instance_production_aurora_passes(audit, aws):
    pair = cluster(aws, "prod-aurora", "prod", 2)
    run = audit(AURORA)
    assert statuses(run) == {pair: "PASS"}
    assert run.findings[0].evidence["instance_count"] == 2


def test_denied_cluster_read_is_error(audit, aws, faults):
    faults.deny("rds", "DescribeDBClusters")
    [finding] = audit(AURORA).findings
    assert finding.status is Status.ERROR and finding.evidence["iam_action"] == "rds:DescribeDBClusters"
