"""The simulated AWS account of `aws-audit demo`: "acme", a small company built from the seed guide.

This is the only module of aws-audit that writes to AWS, and it writes only to moto's simulated account:
`seed_demo_account` asks STS who it is talking to and raises `RuntimeError` unless the answer is moto's default
account 123456789012, before it creates anything. The audit engine never imports it.

The account has a production environment (first region) and a staging one (second region). Some of it follows the
seed guide closely (good), some of it is the kind of drift real accounts accumulate (bad), so every check has
something to pass and something to fail. Every secret below is fake, fixed and only shaped like the real thing,
so that secret detection has something to find; none of them has ever worked anywhere.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
from botocore.client import BaseClient
from botocore.config import Config

SIMULATED_ACCOUNT = "123456789012"
PROJECT = "acme"
OWNER = "platform-team"
COST_CENTERS = {"prod": "CC-1001", "staging": "CC-2001"}
TRUSTED_DEPLOY_ACCOUNT = "111122223333"
DEPLOY_EXTERNAL_ID = "acme-deploy-5b1f0c"

# Fake secrets, fixed so that every seeding is identical. Pattern-valid, never real, not AWS's documentation examples.
FAKE_ACCESS_KEY_ID = "AKIAACMELEGACY7Q2X4Z"
FAKE_SECRET_ACCESS_KEY = "q8ZfN2+demoFAKEkeyR7vXw/3LpTb9HsKc0YjM1u"
FAKE_DB_PASSWORD = "Vx7qL2mRt9KpW4zN"
FAKE_API_TOKEN = "tok_9fK2xQ7vLp3ZrW8mN4bT6yH1cD5sE0aJ"
FAKE_CONSOLE_PASSWORD = "Demo-only-not-a-real-password-1"
FAKE_MASTER_PASSWORD = "demo-only-master-password-1"

Tier = Literal["public", "private", "database"]
AnyDict = dict[str, Any]


# -- layout -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubnetLayout:
    tier: Tier
    cidr: str
    az: str  # suffix of the region name: "a", "b"


@dataclass(frozen=True)
class Ingress:
    port: int
    source: str  # an IPv4 or IPv6 CIDR, or the key of another security group in the same layout
    description: str


@dataclass(frozen=True)
class SecurityGroupLayout:
    key: str
    description: str
    ingress: tuple[Ingress, ...]
    egress_to_anywhere: bool = True
    legacy: bool = False  # created by hand: no cost tags


@dataclass(frozen=True)
class InstanceLayout:
    name: str
    az: str
    http_tokens: Literal["required", "optional"]
    root_encrypted: bool
    data_volume_encrypted: bool | None  # None: no data volume
    user_data: str = ""
    security_groups: tuple[str, ...] = ("app",)
    legacy: bool = False  # created by hand: no cost tags, no instance profile


@dataclass(frozen=True)
class EnvironmentLayout:
    name: Literal["prod", "staging"]
    region: str
    vpc_cidr: str
    subnets: tuple[SubnetLayout, ...]
    security_groups: tuple[SecurityGroupLayout, ...]
    instances: tuple[InstanceLayout, ...]
    flow_logs: bool
    ebs_encryption_by_default: bool
    guardduty: bool

    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.name}"


_ANYWHERE = "0.0.0.0/0"
_ANYWHERE_V6 = "::/0"

_PROD_SECURITY_GROUPS = (
    SecurityGroupLayout(
        "alb",
        "ALB: HTTPS and HTTP from the internet",
        (Ingress(443, _ANYWHERE, "HTTPS from internet"), Ingress(80, _ANYWHERE, "HTTP (redirect to HTTPS)")),
    ),
    SecurityGroupLayout("app", "Application: app port from the ALB", (Ingress(8080, "alb", "App port from ALB"),)),
    SecurityGroupLayout(
        "db", "Database: PostgreSQL from the app", (Ingress(5432, "app", "PostgreSQL from app"),),
        egress_to_anywhere=False,
    ),
    SecurityGroupLayout(
        "bastion", "Legacy bastion host", (Ingress(22, _ANYWHERE, "SSH from anywhere"),), legacy=True,
    ),
    SecurityGroupLayout(
        "debug", "Temporary database debugging", (Ingress(5432, _ANYWHERE_V6, "psql from home"),), legacy=True,
    ),
)

_LEGACY_USER_DATA = f"""#!/bin/bash
# bootstrap copied from the old wiki page
export AWS_ACCESS_KEY_ID={FAKE_ACCESS_KEY_ID}
export AWS_SECRET_ACCESS_KEY="{FAKE_SECRET_ACCESS_KEY}"
export AWS_DEFAULT_REGION=us-east-1
aws s3 sync s3://acme-legacy-uploads/app /opt/app
/opt/app/start.sh
"""

_APP_USER_DATA = """#!/bin/bash
dnf install -y amazon-cloudwatch-agent
systemctl enable --now acme-app
"""


def _environments(regions: tuple[str, str]) -> tuple[EnvironmentLayout, EnvironmentLayout]:
    production, staging = regions
    prod = EnvironmentLayout(
        name="prod",
        region=production,
        vpc_cidr="10.0.0.0/16",
        subnets=(
            SubnetLayout("public", "10.0.1.0/24", "a"),
            SubnetLayout("public", "10.0.2.0/24", "b"),
            SubnetLayout("private", "10.0.10.0/24", "a"),
            SubnetLayout("private", "10.0.20.0/24", "b"),
            SubnetLayout("database", "10.0.100.0/24", "a"),
            SubnetLayout("database", "10.0.200.0/24", "b"),
        ),
        security_groups=_PROD_SECURITY_GROUPS,
        instances=(
            InstanceLayout("acme-prod-app-1", "a", "required", True, True, _APP_USER_DATA),
            InstanceLayout("acme-legacy-app", "b", "optional", True, False, _LEGACY_USER_DATA, ("app", "bastion"),
                           legacy=True),
        ),
        flow_logs=True,
        ebs_encryption_by_default=True,
        guardduty=True,
    )
    stage = EnvironmentLayout(
        name="staging",
        region=staging,
        vpc_cidr="10.1.0.0/16",
        subnets=(SubnetLayout("public", "10.1.1.0/24", "a"), SubnetLayout("private", "10.1.10.0/24", "a")),
        security_groups=(
            SecurityGroupLayout("app", "Application: app port from the VPC",
                                (Ingress(8080, "10.1.0.0/16", "App port"),)),
        ),
        instances=(InstanceLayout("acme-staging-app-1", "a", "optional", False, None),),
        flow_logs=False,
        ebs_encryption_by_default=False,
        guardduty=False,
    )
    return prod, stage


# -- seeding context ----------------------------------------------------------------------------------------------
@dataclass
class Network:
    vpc_id: str
    subnets: dict[Tier, list[str]]
    security_groups: dict[str, str]


@dataclass
class _Seeder:
    session: boto3.Session
    account: str
    primary_region: str
    created: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _clients: dict[tuple[str, str], BaseClient] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.primary_region
        if (service, region) not in self._clients:
            # Path-style S3 addressing works both in-process and against moto's server on 127.0.0.1.
            config = Config(s3={"addressing_style": "path"}) if service == "s3" else None
            self._clients[service, region] = self.session.client(service, region_name=region, config=config)
        return self._clients[service, region]

    def record(self, service: str, name: str) -> None:
        self.created[service].append(name)

    def arn(self, service: str, resource: str, region: str = "") -> str:
        return f"arn:aws:{service}:{region}:{self.account}:{resource}"


def _tags(env: str, name: str | None = None) -> dict[str, str]:
    tags = {"Project": PROJECT, "Environment": env, "ManagedBy": "terraform", "Owner": OWNER,
            "CostCenter": COST_CENTERS[env]}
    return {**tags, "Name": name} if name else tags


def _legacy_tags(name: str) -> dict[str, str]:
    """Resources made by hand long ago: a name and nothing a cost report could use."""
    return {"Name": name}


def _key_value(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _tag_spec(resource_type: str, tags: dict[str, str]) -> list[AnyDict]:
    return [{"ResourceType": resource_type, "Tags": _key_value(tags)}]


def _trust(principal: AnyDict, condition: AnyDict | None = None) -> str:
    statement: AnyDict = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _policy(*statements: AnyDict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions: list[str] | str, resources: list[str] | str, sid: str | None = None) -> AnyDict:
    statement: AnyDict = {"Effect": "Allow", "Action": actions, "Resource": resources}
    return {"Sid": sid, **statement} if sid else statement


# -- the account --------------------------------------------------------------------------------------------------
def seed_demo_account(
    session: boto3.Session, regions: tuple[str, str] = ("us-east-1", "eu-west-1")
) -> dict[str, Any]:
    """Create the acme account in moto and return what was created: counts and names by service.

    Raises RuntimeError, before writing anything, unless STS reports moto's default account 123456789012.
    """
    if len(regions) != 2 or regions[0] == regions[1]:
        raise ValueError(f"two different regions are needed (production, staging), got {regions!r}")
    identity = session.client("sts", region_name=regions[0]).get_caller_identity()
    if identity.get("Account") != SIMULATED_ACCOUNT:
        raise RuntimeError(
            f"refusing to seed account {identity.get('Account')!r}: the demo account is only ever created in moto's "
            f"simulated account {SIMULATED_ACCOUNT}"
        )
    seeder = _Seeder(session, SIMULATED_ACCOUNT, regions[0])
    prod, staging = _environments(regions)

    keys = _seed_kms(seeder, prod)
    roles = _seed_iam(seeder)
    networks: dict[str, Network] = {}
    for env in (prod, staging):
        networks[env.name] = _seed_vpc(seeder, env, roles)
        _seed_ec2(seeder, env, networks[env.name])
    secret_arn = _seed_secrets(seeder, prod)
    _seed_s3(seeder, prod, staging, keys)
    _seed_rds(seeder, prod, networks["prod"], keys)
    _seed_ecs(seeder, prod, networks["prod"], roles, secret_arn)
    _seed_lambda(seeder, prod, staging, networks["prod"], roles, secret_arn)
    _seed_cloudtrail(seeder, prod, keys)
    for env in (prod, staging):
        _seed_guardduty(seeder, env)
    _seed_config(seeder, prod, f"{PROJECT}-cloudtrail-{seeder.account}")
    _seed_budgets(seeder)

    names = {service: list(items) for service, items in sorted(seeder.created.items())}
    return {
        "account": seeder.account,
        "regions": {prod.region: prod.name, staging.region: staging.name},
        "counts": {service: len(items) for service, items in names.items()},
        "names": names,
    }


# -- KMS ----------------------------------------------------------------------------------------------------------
def _seed_kms(seeder: _Seeder, env: EnvironmentLayout) -> dict[str, str]:
    """One customer-managed key per use, with rotation on. Returns use -> key ARN."""
    kms = seeder.client("kms", env.region)
    keys: dict[str, str] = {}
    for use in ("rds", "s3", "cloudtrail"):
        key = kms.create_key(
            Description=f"{PROJECT} {use} encryption", Tags=[{"TagKey": k, "TagValue": v}
                                                             for k, v in _tags(env.name).items()]
        )["KeyMetadata"]
        kms.enable_key_rotation(KeyId=key["KeyId"])
        kms.create_alias(AliasName=f"alias/{PROJECT}-{use}", TargetKeyId=key["KeyId"])
        keys[use] = key["Arn"]
        seeder.record("kms", f"alias/{PROJECT}-{use}")
    return keys


# -- IAM ----------------------------------------------------------------------------------------------------------
def _seed_iam(seeder: _Seeder) -> dict[str, str]:
    """Roles as the guide has them (good), a wildcard admin policy and a user without MFA (bad).

    Returns role key -> role ARN. The account password policy is left unset (bad).
    """
    iam = seeder.client("iam")
    tags = _key_value(_tags("prod"))
    data_bucket = f"arn:aws:s3:::{PROJECT}-data-{seeder.account}"
    project_secrets = seeder.arn("secretsmanager", f"secret:{PROJECT}/*", seeder.primary_region)
    roles: dict[str, str] = {}

    def role(key: str, name: str, trust: str, inline: dict[str, str] | None = None) -> None:
        roles[key] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Tags=tags)["Role"]["Arn"]
        for policy_name, document in (inline or {}).items():
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)
        seeder.record("iam", f"role/{name}")

    def managed_policy(name: str, document: str) -> str:
        seeder.record("iam", f"policy/{name}")
        return iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]

    ecs_tasks = _trust({"Service": "ecs-tasks.amazonaws.com"})
    role("app", f"{PROJECT}-app-role", ecs_tasks)
    s3_access = managed_policy(f"{PROJECT}-s3-access", _policy(
        _allow(["s3:ListBucket"], data_bucket, "ListBucket"),
        _allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], f"{data_bucket}/*", "ReadWriteObjects"),
    ))
    secrets_access = managed_policy(f"{PROJECT}-secrets-access", _policy(
        _allow(["secretsmanager:GetSecretValue"], [project_secrets]),
    ))
    for policy_arn in (s3_access, secrets_access):
        iam.attach_role_policy(RoleName=f"{PROJECT}-app-role", PolicyArn=policy_arn)

    role("execution", f"{PROJECT}-ecs-execution-role", ecs_tasks, {"ecs-execution": _policy(
        _allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                "logs:CreateLogStream", "logs:PutLogEvents"], "*"),
        _allow(["secretsmanager:GetSecretValue"], [project_secrets]),
    )})
    role("lambda", f"{PROJECT}-lambda-role", _trust({"Service": "lambda.amazonaws.com"}), {"lambda-basic": _policy(
        _allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "*"),
        _allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
        _allow(["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"], "*"),
    )})
    role("ec2", f"{PROJECT}-ec2-app-role", _trust({"Service": "ec2.amazonaws.com"}), {"read-data": _policy(
        _allow(["s3:GetObject"], f"{data_bucket}/*"),
    )})
    iam.create_instance_profile(InstanceProfileName=f"{PROJECT}-ec2-app", Tags=tags)
    iam.add_role_to_instance_profile(InstanceProfileName=f"{PROJECT}-ec2-app", RoleName=f"{PROJECT}-ec2-app-role")
    role("flow_logs", f"{PROJECT}-vpc-flow-logs-role", _trust({"Service": "vpc-flow-logs.amazonaws.com"}),
         {"flow-logs": _policy(_allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], "*"))})
    role(
        "cross_account", "CrossAccountDeployRole",
        _trust({"AWS": f"arn:aws:iam::{TRUSTED_DEPLOY_ACCOUNT}:root"},
               {"StringEquals": {"sts:ExternalId": DEPLOY_EXTERNAL_ID}}),
        {"deploy": _policy(_allow(["ecs:UpdateService", "ecs:DescribeServices"],
                                  seeder.arn("ecs", f"service/{PROJECT}-cluster/*", seeder.primary_region)))},
    )

    legacy_admin = managed_policy(f"{PROJECT}-legacy-admin", _policy(_allow("*", "*")))

    # alice: console + MFA (good); bob: console, no MFA, wildcard admin (bad); ci-deployer: access key only.
    for user in ("alice", "bob", "ci-deployer"):
        iam.create_user(UserName=user, Tags=tags)
        seeder.record("iam", f"user/{user}")
    for user in ("alice", "bob"):
        iam.create_login_profile(UserName=user, Password=FAKE_CONSOLE_PASSWORD)
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=mfa, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    iam.attach_user_policy(UserName="bob", PolicyArn=legacy_admin)
    iam.create_access_key(UserName="ci-deployer")
    iam.put_user_policy(UserName="ci-deployer", PolicyName="deploy", PolicyDocument=_policy(
        _allow("sts:AssumeRole", roles["cross_account"]),
    ))
    return roles


# -- VPC ----------------------------------------------------------------------------------------------------------
def _seed_vpc(seeder: _Seeder, env: EnvironmentLayout, roles: dict[str, str]) -> Network:
    """The guide's VPC: subnets per tier and AZ, internet gateway, a NAT gateway per public subnet, route tables,
    security groups and (in production only) flow logs. The default security group keeps moto's default rules."""
    ec2 = seeder.client("ec2", env.region)
    name = f"{env.prefix}-vpc"
    vpc_id = ec2.create_vpc(CidrBlock=env.vpc_cidr, TagSpecifications=_tag_spec("vpc", _tags(env.name, name)))[
        "Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    seeder.record("vpc", name)

    subnets: dict[Tier, list[str]] = defaultdict(list)
    subnet_az: dict[str, str] = {}
    for layout in env.subnets:
        az = env.region + layout.az
        subnet_id = ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=layout.cidr, AvailabilityZone=az,
            TagSpecifications=_tag_spec("subnet", _tags(env.name, f"{env.prefix}-{layout.tier}-{az}")),
        )["Subnet"]["SubnetId"]
        subnets[layout.tier].append(subnet_id)
        subnet_az[subnet_id] = layout.az

    igw = ec2.create_internet_gateway(TagSpecifications=_tag_spec("internet-gateway", _tags(env.name, name)))[
        "InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)

    def route_table(rt_name: str, members: list[str], **default_route: str) -> None:
        table = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=_tag_spec(
            "route-table", _tags(env.name, rt_name)))["RouteTable"]["RouteTableId"]
        if default_route:
            ec2.create_route(RouteTableId=table, DestinationCidrBlock=_ANYWHERE, **default_route)
        for subnet_id in members:
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)

    route_table(f"{env.prefix}-public", subnets["public"], GatewayId=igw)
    for public_subnet in subnets["public"]:
        az = subnet_az[public_subnet]
        eip = ec2.allocate_address(Domain="vpc", TagSpecifications=_tag_spec(
            "elastic-ip", _tags(env.name, f"{env.prefix}-nat-{az}")))["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public_subnet, AllocationId=eip, TagSpecifications=_tag_spec(
            "natgateway", _tags(env.name, f"{env.prefix}-nat-{az}")))["NatGateway"]["NatGatewayId"]
        private = [s for s in subnets["private"] if subnet_az[s] == az]
        route_table(f"{env.prefix}-private-{az}", private, NatGatewayId=nat)
    if subnets["database"]:
        route_table(f"{env.prefix}-database", subnets["database"])

    security_groups = _seed_security_groups(seeder, env, vpc_id)
    if env.flow_logs:
        log_group = f"/aws/vpc-flow-log/{env.prefix}"
        logs = seeder.client("logs", env.region)
        logs.create_log_group(logGroupName=log_group, tags=_tags(env.name))
        logs.put_retention_policy(logGroupName=log_group, retentionInDays=90)
        ec2.create_flow_logs(
            ResourceIds=[vpc_id], ResourceType="VPC", TrafficType="ALL", LogDestinationType="cloud-watch-logs",
            LogGroupName=log_group, DeliverLogsPermissionArn=roles["flow_logs"],
            TagSpecifications=_tag_spec("vpc-flow-log", _tags(env.name, f"{env.prefix}-flow-log")),
        )
        seeder.record("logs", log_group)
    return Network(vpc_id, dict(subnets), security_groups)


def _seed_security_groups(seeder: _Seeder, env: EnvironmentLayout, vpc_id: str) -> dict[str, str]:
    ec2 = seeder.client("ec2", env.region)
    ids: dict[str, str] = {}
    for layout in env.security_groups:
        name = f"{env.prefix}-{layout.key}-sg" if not layout.legacy else f"{PROJECT}-{layout.key}"
        tags = _legacy_tags(name) if layout.legacy else _tags(env.name, name)
        group_id = ec2.create_security_group(
            GroupName=name, Description=layout.description, VpcId=vpc_id,
            TagSpecifications=_tag_spec("security-group", tags),
        )["GroupId"]
        ids[layout.key] = group_id
        permissions = [_permission(rule, ids) for rule in layout.ingress]
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
        if not layout.egress_to_anywhere:
            ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": _ANYWHERE}]}]
            )
        seeder.record("ec2", f"security-group/{name}")
    return ids


def _permission(rule: Ingress, group_ids: dict[str, str]) -> AnyDict:
    permission: AnyDict = {"IpProtocol": "tcp", "FromPort": rule.port, "ToPort": rule.port}
    if ":" in rule.source:
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule.source, "Description": rule.description}]
    elif "/" in rule.source:
        permission["IpRanges"] = [{"CidrIp": rule.source, "Description": rule.description}]
    else:
        permission["UserIdGroupPairs"] = [{"GroupId": group_ids[rule.source], "Description": rule.description}]
    return permission


# -- EC2 ----------------------------------------------------------------------------------------------------------
def _seed_ec2(seeder: _Seeder, env: EnvironmentLayout, network: Network) -> None:
    """App instances in the private subnets. Instances are launched before EBS encryption by default is switched
    on, as the legacy one was in real life."""
    ec2 = seeder.client("ec2", env.region)
    image = ec2.register_image(Name=f"{PROJECT}-app-al2023", Description="acme application image")["ImageId"]
    private_by_az = {
        layout.az: subnet_id
        for layout, subnet_id in zip([s for s in env.subnets if s.tier == "private"], network.subnets["private"],
                                     strict=True)
    }
    for instance in env.instances:
        volumes: list[AnyDict] = [
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "VolumeType": "gp3",
                                                "Encrypted": instance.root_encrypted}}
        ]
        if instance.data_volume_encrypted is not None:
            volumes.append({"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 50, "VolumeType": "gp3",
                                                              "Encrypted": instance.data_volume_encrypted}})
        tags = _legacy_tags(instance.name) if instance.legacy else _tags(env.name, instance.name)
        options: AnyDict = {}
        if not instance.legacy and env.name == "prod":
            options["IamInstanceProfile"] = {"Name": f"{PROJECT}-ec2-app"}
        if instance.user_data:
            options["UserData"] = instance.user_data
        ec2.run_instances(
            ImageId=image, InstanceType="t3.small", MinCount=1, MaxCount=1,
            SubnetId=private_by_az[instance.az],
            SecurityGroupIds=[network.security_groups[key] for key in instance.security_groups],
            MetadataOptions={"HttpTokens": instance.http_tokens, "HttpEndpoint": "enabled"},
            BlockDeviceMappings=volumes,
            TagSpecifications=_tag_spec("instance", tags) + _tag_spec("volume", tags),
            **options,
        )
        seeder.record("ec2", f"instance/{instance.name}")
    if env.ebs_encryption_by_default:
        ec2.enable_ebs_encryption_by_default()


# -- Secrets Manager ----------------------------------------------------------------------------------------------
def _seed_secrets(seeder: _Seeder, env: EnvironmentLayout) -> str:
    name = f"{PROJECT}/{env.name}/database-url"
    host = f"{PROJECT}-{env.name}-db.{env.region}.rds.amazonaws.com"
    arn: str = seeder.client("secretsmanager", env.region).create_secret(
        Name=name, Description="Connection string of the production database",
        SecretString=f"postgres://acme:{FAKE_MASTER_PASSWORD}@{host}:5432/acme",
        Tags=_key_value(_tags(env.name)),
    )["ARN"]
    seeder.record("secretsmanager", name)
    return arn


# -- S3 -----------------------------------------------------------------------------------------------------------
def _create_bucket(seeder: _Seeder, name: str, region: str, tags: dict[str, str]) -> Any:
    s3 = seeder.client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _key_value(tags)})
    seeder.record("s3", name)
    return s3


def _block_public_access(s3: Any, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    })


def _deny_insecure_transport(bucket: str) -> AnyDict:
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def _seed_s3(seeder: _Seeder, prod: EnvironmentLayout, staging: EnvironmentLayout, keys: dict[str, str]) -> None:
    """The guide's data bucket (good), a legacy bucket with nothing configured (bad), the CloudTrail log bucket,
    and a staging bucket without versioning (bad). The account-level public access block is left off (bad)."""
    account = seeder.account

    data = f"{PROJECT}-data-{account}"
    s3 = _create_bucket(seeder, data, prod.region, _tags(prod.name))
    s3.put_bucket_versioning(Bucket=data, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=data, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys["s3"]},
        "BucketKeyEnabled": True,
    }]})
    _block_public_access(s3, data)
    s3.put_bucket_policy(Bucket=data, Policy=_policy(_deny_insecure_transport(data)))
    s3.put_bucket_lifecycle_configuration(Bucket=data, LifecycleConfiguration={"Rules": [{
        "ID": "archive", "Status": "Enabled", "Filter": {"Prefix": ""},
        "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}, {"Days": 180, "StorageClass": "GLACIER"}],
        "Expiration": {"Days": 365},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    }]})

    legacy = f"{PROJECT}-legacy-uploads-{account}"
    s3 = _create_bucket(seeder, legacy, prod.region, _legacy_tags(f"{PROJECT}-legacy-uploads"))
    s3.put_bucket_acl(Bucket=legacy, ACL="public-read")  # someone once shared it with a partner

    trail_bucket = f"{PROJECT}-cloudtrail-{account}"
    s3 = _create_bucket(seeder, trail_bucket, prod.region, _tags(prod.name))
    s3.put_bucket_versioning(Bucket=trail_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=trail_bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    _block_public_access(s3, trail_bucket)
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    s3.put_bucket_policy(Bucket=trail_bucket, Policy=_policy(
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": cloudtrail, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{trail_bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": cloudtrail, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{trail_bucket}/AWSLogs/{account}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        _deny_insecure_transport(trail_bucket),
    ))

    staging_bucket = f"{PROJECT}-staging-{account}"
    s3 = _create_bucket(seeder, staging_bucket, staging.region, _tags(staging.name))
    s3.put_bucket_encryption(Bucket=staging_bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    _block_public_access(s3, staging_bucket)


# -- RDS ----------------------------------------------------------------------------------------------------------
def _seed_rds(seeder: _Seeder, env: EnvironmentLayout, network: Network, keys: dict[str, str]) -> None:
    """The production database as the guide has it (good) and a reporting copy someone made public (bad)."""
    rds = seeder.client("rds", env.region)
    tags = _key_value(_tags(env.name))
    rds.create_db_subnet_group(
        DBSubnetGroupName=f"{env.prefix}-database", DBSubnetGroupDescription="acme database subnets",
        SubnetIds=network.subnets["database"], Tags=tags,
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{env.prefix}-db", Engine="postgres", EngineVersion="15.4",
        DBInstanceClass="db.t3.medium", AllocatedStorage=50, DBName="acme",
        MasterUsername="acme", MasterUserPassword=FAKE_MASTER_PASSWORD,
        DBSubnetGroupName=f"{env.prefix}-database", VpcSecurityGroupIds=[network.security_groups["db"]],
        StorageEncrypted=True, KmsKeyId=keys["rds"], PubliclyAccessible=False, MultiAZ=True,
        BackupRetentionPeriod=30, PreferredBackupWindow="03:00-04:00", EnableCloudwatchLogsExports=["postgresql"],
        DeletionProtection=True, CopyTagsToSnapshot=True, AutoMinorVersionUpgrade=True, Tags=tags,
    )
    seeder.record("rds", f"{env.prefix}-db")

    rds.create_db_subnet_group(
        DBSubnetGroupName=f"{PROJECT}-reporting-public", DBSubnetGroupDescription="reporting (public subnets)",
        SubnetIds=network.subnets["public"],
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{PROJECT}-reporting-db", Engine="postgres", EngineVersion="13.7",
        DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="reporting",
        MasterUserPassword=FAKE_MASTER_PASSWORD, DBSubnetGroupName=f"{PROJECT}-reporting-public",
        VpcSecurityGroupIds=[network.security_groups["debug"]], StorageEncrypted=False, PubliclyAccessible=True,
        BackupRetentionPeriod=1, Tags=_key_value(_legacy_tags(f"{PROJECT}-reporting-db")),
    )
    seeder.record("rds", f"{PROJECT}-reporting-db")


# -- ECS ----------------------------------------------------------------------------------------------------------
def _seed_ecs(
    seeder: _Seeder, env: EnvironmentLayout, network: Network, roles: dict[str, str], secret_arn: str
) -> None:
    """The guide's cluster, Fargate task definition and service (good), and a privileged worker task definition
    with a database password in its plain environment (bad)."""
    ecs = seeder.client("ecs", env.region)
    tags = [{"key": k, "value": v} for k, v in _tags(env.name).items()]
    cluster = f"{PROJECT}-cluster"
    ecs.create_cluster(clusterName=cluster, settings=[{"name": "containerInsights", "value": "enabled"}], tags=tags)
    seeder.record("ecs", f"cluster/{cluster}")

    log_group = f"/ecs/{PROJECT}-app"
    logs = seeder.client("logs", env.region)
    logs.create_log_group(logGroupName=log_group, tags=_tags(env.name))
    logs.put_retention_policy(logGroupName=log_group, retentionInDays=30)
    seeder.record("logs", log_group)

    ecs.register_task_definition(
        family=f"{PROJECT}-app", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", executionRoleArn=roles["execution"], taskRoleArn=roles["app"], tags=tags,
        containerDefinitions=[{
            "name": "app",
            "image": f"{seeder.account}.dkr.ecr.{env.region}.amazonaws.com/{PROJECT}-app:1.4.2",
            "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "NODE_ENV", "value": "production"}],
            "secrets": [{"name": "DATABASE_URL", "valueFrom": secret_arn}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_group, "awslogs-region": env.region, "awslogs-stream-prefix": "app"}},
            "healthCheck": {"command": ["CMD-SHELL", "wget -q --spider http://localhost:8080/health || exit 1"],
                            "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60},
        }],
    )
    seeder.record("ecs", f"task-definition/{PROJECT}-app")

    database_url = f"postgres://acme:{FAKE_DB_PASSWORD}@db.{PROJECT}.internal:5432/acme"
    ecs.register_task_definition(
        family=f"{PROJECT}-worker",
        containerDefinitions=[{
            "name": "worker", "image": f"{PROJECT}/worker:latest", "essential": True, "memory": 512,
            "privileged": True,
            "environment": [{"name": "DATABASE_URL", "value": database_url}, {"name": "QUEUE", "value": "jobs"}],
        }],
    )
    seeder.record("ecs", f"task-definition/{PROJECT}-worker")

    ecs.create_service(
        cluster=cluster, serviceName=f"{PROJECT}-app", taskDefinition=f"{PROJECT}-app", desiredCount=2,
        launchType="FARGATE", deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200},
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": network.subnets["private"], "securityGroups": [network.security_groups["app"]],
            "assignPublicIp": "DISABLED"}},
        tags=tags,
    )
    seeder.record("ecs", f"service/{PROJECT}-app")


# -- Lambda -------------------------------------------------------------------------------------------------------
def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("index.py", date_time=(2024, 1, 1, 0, 0, 0))  # fixed time: identical bytes each run
        archive.writestr(info, "def handler(event, context):\n    return {'statusCode': 200}\n")
    return buffer.getvalue()


def _seed_lambda(
    seeder: _Seeder,
    prod: EnvironmentLayout,
    staging: EnvironmentLayout,
    network: Network,
    roles: dict[str, str],
    secret_arn: str,
) -> None:
    """An API function as the guide has it, in each environment (good), and a forgotten cron job on a deprecated
    runtime, without tracing, with a token in its environment (bad)."""
    code = {"ZipFile": _function_zip()}

    def function(env: EnvironmentLayout, name: str, runtime: str, variables: dict[str, str], **extra: Any) -> None:
        seeder.client("lambda", env.region).create_function(
            FunctionName=name, Runtime=runtime, Role=roles["lambda"], Handler="index.handler", Code=code,
            Timeout=30, MemorySize=256, Environment={"Variables": variables}, **extra,
        )
        seeder.record("lambda", name)

    function(
        prod, f"{PROJECT}-api", "python3.12",
        {"APP_ENV": "production", "LOG_LEVEL": "info", "DATA_BUCKET": f"{PROJECT}-data-{seeder.account}",
         "DB_SECRET_ARN": secret_arn},
        TracingConfig={"Mode": "Active"}, Tags=_tags(prod.name),
        VpcConfig={"SubnetIds": network.subnets["private"], "SecurityGroupIds": [network.security_groups["app"]]},
    )
    function(prod, f"{PROJECT}-legacy-cron", "python3.8", {"API_TOKEN": FAKE_API_TOKEN, "REPORT_HOUR": "3"},
             Tags=_legacy_tags(f"{PROJECT}-legacy-cron"))
    function(staging, f"{PROJECT}-staging-api", "python3.12", {"APP_ENV": "staging", "LOG_LEVEL": "debug"},
             TracingConfig={"Mode": "Active"}, Tags=_tags(staging.name))


# -- CloudTrail, GuardDuty, Budgets -------------------------------------------------------------------------------
def _seed_cloudtrail(seeder: _Seeder, env: EnvironmentLayout, keys: dict[str, str]) -> None:
    """One multi-region trail with log file validation and KMS encryption, logging (good)."""
    cloudtrail = seeder.client("cloudtrail", env.region)
    name = f"{PROJECT}-trail"
    cloudtrail.create_trail(
        Name=name, S3BucketName=f"{PROJECT}-cloudtrail-{seeder.account}", IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True, EnableLogFileValidation=True, KmsKeyId=keys["cloudtrail"],
        TagsList=_key_value(_tags(env.name)),
    )
    cloudtrail.start_logging(Name=name)
    seeder.record("cloudtrail", name)


def _seed_guardduty(seeder: _Seeder, env: EnvironmentLayout) -> None:
    """A detector where the layout asks for one (production); none elsewhere (bad)."""
    if not env.guardduty:
        return
    features = [{"Name": name, "Status": "ENABLED"} for name in ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS",
                                                                 "LAMBDA_NETWORK_LOGS", "EBS_MALWARE_PROTECTION")]
    seeder.client("guardduty", env.region).create_detector(
        Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES", Tags=_tags(env.name), Features=features
    )
    seeder.record("guardduty", f"detector/{env.region}")


def _seed_config(seeder: _Seeder, env: EnvironmentLayout, bucket: str) -> None:
    """AWS Config recording every resource type in production (good); nothing in staging (bad)."""
    config = seeder.client("config", env.region)
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default",
        "roleARN": f"arn:aws:iam::{seeder.account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
    })
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    seeder.record("config", f"recorder/{env.region}")


def _seed_budgets(seeder: _Seeder) -> None:
    """The guide's monthly cost budget with a forecast alert at 80 % and an actual alert at 100 %."""
    subscribers = [{"SubscriptionType": "EMAIL", "Address": "finops@acme.example"}]
    notifications = [
        {"Notification": {"NotificationType": kind, "ComparisonOperator": "GREATER_THAN", "Threshold": threshold,
                          "ThresholdType": "PERCENTAGE"}, "Subscribers": subscribers}
        for kind, threshold in (("FORECASTED", 80.0), ("ACTUAL", 100.0))
    ]
    name = f"{PROJECT}-monthly-budget"
    seeder.client("budgets", "us-east-1").create_budget(
        AccountId=seeder.account,
        Budget={"BudgetName": name, "BudgetLimit": {"Amount": "5000", "Unit": "USD"}, "TimeUnit": "MONTHLY",
                "BudgetType": "COST"},
        NotificationsWithSubscribers=notifications,
    )
    seeder.record("budgets", name)
