"""Seed a simulated account with a given number of resources spread over services and regions."""
from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import boto3

# Share of the resources per kind; IAM users and buckets are counted once per account, the rest per region.
MIX = {
    "security_group": 0.30,
    "ebs_volume": 0.20,
    "ec2_instance": 0.15,
    "s3_bucket": 0.10,
    "iam_user": 0.10,
    "lambda_function": 0.05,
    "rds_instance": 0.05,
    "ecs_task_definition": 0.05,
}


@dataclass(frozen=True)
class Seeded:
    resources: int
    by_kind: dict[str, int]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def seed(session: boto3.Session, endpoint: str, total: int, regions: tuple[str, ...], threads: int = 16) -> Seeded:
    counts = {kind: max(1, round(total * share)) for kind, share in MIX.items()}
    client: Callable[..., object] = lambda service, region: session.client(  # noqa: E731
        service, region_name=region, endpoint_url=endpoint)
    iam = client("iam", regions[0])
    role = iam.create_role(  # type: ignore[attr-defined]
        RoleName="bench-lambda",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    code = _zip()
    jobs: list[Callable[[], object]] = []
    # moto's EC2 security groups are not safe to create from several threads at once (a dict changes size while
    # another request iterates it): these are created one after another.
    serial_jobs: list[Callable[[], object]] = []

    def per_region(kind: str) -> list[tuple[str, int]]:
        n = counts[kind]
        return [(region, n // len(regions) + (1 if i < n % len(regions) else 0)) for i, region in enumerate(regions)]

    for region, n in per_region("security_group"):
        ec2 = client("ec2", region)
        for i in range(n):
            def make_sg(ec2=ec2, i=i):  # type: ignore[no-untyped-def]
                group = ec2.create_security_group(GroupName=f"bench-{i}", Description="bench")["GroupId"]
                port = 22 if i % 10 == 0 else 443
                ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
                    "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            serial_jobs.append(make_sg)
    for region, n in per_region("ebs_volume"):
        ec2 = client("ec2", region)
        jobs += [lambda ec2=ec2, region=region, i=i: ec2.create_volume(  # type: ignore[misc]
            AvailabilityZone=f"{region}a", Size=8, Encrypted=i % 2 == 0) for i in range(n)]
    for region, n in per_region("ec2_instance"):
        ec2 = client("ec2", region)
        for start in range(0, n, 50):
            batch = min(50, n - start)
            jobs.append(lambda ec2=ec2, k=batch: ec2.run_instances(  # type: ignore[misc]
                ImageId="ami-12345678", MinCount=k, MaxCount=k, InstanceType="t3.micro"))
    for region, n in per_region("s3_bucket"):
        s3 = client("s3", region)
        config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        jobs += [lambda s3=s3, region=region, i=i, config=config: s3.create_bucket(  # type: ignore[misc]
            Bucket=f"bench-{region}-{i}", **config) for i in range(n)]
    jobs += [lambda i=i: iam.create_user(UserName=f"bench-user-{i}")  # type: ignore[attr-defined,misc]
             for i in range(counts["iam_user"])]
    for region, n in per_region("lambda_function"):
        lam = client("lambda", region)
        jobs += [lambda lam=lam, i=i: lam.create_function(  # type: ignore[misc]
            FunctionName=f"bench-{i}", Runtime="python3.12" if i % 3 else "python3.8", Role=role,
            Handler="index.handler", Code={"ZipFile": code}, Environment={"Variables": {"STAGE": "bench"}})
            for i in range(n)]
    for region, n in per_region("rds_instance"):
        rds = client("rds", region)
        jobs += [lambda rds=rds, i=i: rds.create_db_instance(  # type: ignore[misc]
            DBInstanceIdentifier=f"bench-{i}", Engine="postgres", DBInstanceClass="db.t3.micro",
            MasterUsername="bench", MasterUserPassword="bench-password-1", AllocatedStorage=20,
            StorageEncrypted=i % 2 == 0) for i in range(n)]
    for region, n in per_region("ecs_task_definition"):
        ecs = client("ecs", region)
        jobs += [lambda ecs=ecs, i=i: ecs.register_task_definition(  # type: ignore[misc]
            family=f"bench-{i}", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 256,
                                                        "privileged": i % 5 == 0}]) for i in range(n)]
    for job in serial_jobs:
        job()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    return Seeded(resources=sum(counts.values()), by_kind=counts)
