"""RDS reliability checks that depend on the environment: Multi-AZ instances and multi-instance Aurora clusters
in production. Deletion protection (FSBP RDS.7/RDS.8) and backup retention per environment are other modules'."""
from __future__ import annotations

from typing import Any, Iterator

from auditor import Category, Check, CheckContext, Finding, Remediation, Severity
from auditor.environment import ENVIRONMENT_PARAMETERS, Environment, environment_of

from .resources import db_clusters, db_instances


def _judged(env: Environment) -> str:
    """How the environment is described in a message; unknown environments are judged as production."""
    return env.describe() if env.known else f"{env.describe()}, judged as production"


class RdsInstanceMultiAzInProduction(Check):
    """A Multi-AZ DB instance keeps a synchronous standby in another Availability Zone and fails over to it in one
    or two minutes when the primary, its storage or its zone fails, and during maintenance. A single-AZ production
    database is down until it is restored or replaced. Stand-alone DB instances (not members of a DB cluster, whose
    resilience is the cluster's) fail when they are production and not Multi-AZ. The environment comes from the
    instance's environment tag or the account default (--environment); outside production single-AZ passes. An
    unknown environment is judged as production, the safer side for availability, and the finding says so."""

    id = "rds_instance_multi_az_in_production"
    service = "rds"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Production RDS DB instances are Multi-AZ"
    risk = "A single-AZ production database is unavailable for the whole of an instance, storage or zone failure."
    remediation = Remediation(
        text="Convert the production DB instance to Multi-AZ (applied in the next maintenance window unless "
        "applied immediately).",
        cli="aws rds modify-db-instance --db-instance-identifier <db-instance> --multi-az --apply-immediately",
        terraform='resource "aws_db_instance" "main" {\n'
                  '  identifier = "${var.project}-db"\n'
                  '  # ...\n'
                  '  multi_az   = var.environment == "prod"\n\n'
                  '  tags = local.common_tags\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZSingleStandby.html",
    )
    api_calls = ("rds:DescribeDBInstances",)
    parameters = ENVIRONMENT_PARAMETERS

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for instance in db_instances(ctx):
            if instance.cluster_id:
                continue
            env = environment_of(ctx, instance.tags)
            evidence: dict[str, Any] = {"multi_az": instance.multi_az, **env.evidence()}
            if instance.multi_az:
                yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} is Multi-AZ ({env.describe()}).",
                                 evidence)
            elif env.known and not env.production:
                yield ctx.passed(instance.resource, f"RDS DB instance {instance.id} is single-AZ, acceptable for "
                                 f"{env.describe()}.", evidence)
            else:
                yield ctx.failed(instance.resource, f"RDS DB instance {instance.id} is single-AZ but "
                                 f"{_judged(env)}.", evidence)


class RdsClusterMultipleInstancesInProduction(Check):
    """An Aurora cluster fails over by promoting a reader to writer. A production cluster with a single DB instance
    has nothing to promote: when the writer or its zone fails, Aurora must create a new instance first, which takes
    around ten minutes. The seed guide runs two instances in production ("count = var.environment == prod ? 2 :
    1"). Aurora clusters fail with fewer than reliability.aurora_min_instances_production instances in production;
    outside production one instance passes. An unknown environment is judged as production, and the finding says so."""

    id = "rds_cluster_multiple_instances_in_production"
    service = "rds"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "Production Aurora clusters have a reader to fail over to"
    risk = "A single-instance production Aurora cluster is down until a replacement instance is created."
    remediation = Remediation(
        text="Add a reader instance to the cluster, in another Availability Zone than the writer.",
        cli="aws rds create-db-instance --db-cluster-identifier <cluster> --db-instance-identifier <cluster>-1 "
        "--engine aurora-postgresql --db-instance-class db.serverless",
        terraform='resource "aws_rds_cluster_instance" "main" {\n'
                  '  count = var.environment == "prod" ? 2 : 1\n\n'
                  '  identifier         = "${var.project}-aurora-${count.index}"\n'
                  '  cluster_identifier = aws_rds_cluster.main.id\n'
                  '  instance_class     = "db.serverless"\n'
                  '  engine             = aws_rds_cluster.main.engine\n'
                  '  engine_version     = aws_rds_cluster.main.engine_version\n\n'
                  '  tags = local.common_tags\n'
                  '}',
        url="https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html",
    )
    api_calls = ("rds:DescribeDBClusters",)
    parameters = (*ENVIRONMENT_PARAMETERS, "reliability.aurora_min_instances_production")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        minimum = int(ctx.param("reliability.aurora_min_instances_production"))
        for cluster in sorted(db_clusters(ctx).values(), key=lambda c: c.id):
            if not cluster.engine.startswith("aurora"):
                continue
            env = environment_of(ctx, cluster.tags)
            count = len(cluster.members)
            evidence: dict[str, Any] = {"instances": list(cluster.members), "instance_count": count,
                                        "min_instances_production": minimum, **env.evidence()}
            if count >= minimum:
                yield ctx.passed(cluster.resource, f"Aurora cluster {cluster.id} has {count} DB instances "
                                 f"({env.describe()}).", evidence)
            elif env.known and not env.production:
                yield ctx.passed(cluster.resource, f"Aurora cluster {cluster.id} has {count} DB instance(s), "
                                 f"acceptable for {env.describe()}.", evidence)
            else:
                yield ctx.failed(cluster.resource, f"Aurora cluster {cluster.id} has {count} DB instance(s), fewer "
                                 f"than {minimum}, but is {_judged(env)}.", evidence)
