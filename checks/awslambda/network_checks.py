"""Lambda networking: VPC attachment, Availability Zones, and functions that reach a database."""
from __future__ import annotations

import fnmatch
import re
from typing import Iterable, Iterator, Mapping

from auditor import Check, CheckContext, Control, Finding, Remediation, Severity
from auditor.models import Category

from ..vpc.network import subnets
from .resources import Function, functions

VPC_CONFIG_TERRAFORM = (
    'resource "aws_lambda_function" "api" {\n'
    '  function_name = "${var.project}-api"\n\n'
    "  vpc_config {\n"
    "    subnet_ids         = module.vpc.private_subnets\n"
    "    security_group_ids = [aws_security_group.lambda.id]\n"
    "  }\n"
    "}"
)
VPC_CLI = ("aws lambda update-function-configuration --function-name <function> "
           "--vpc-config SubnetIds=<private-subnet-a>,<private-subnet-b>,SecurityGroupIds=<sg>")
VPC_URL = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html"


class LambdaFunctionInVpc(Check):
    """A function connected to a VPC sends its traffic through the VPC's subnets, security groups, route tables
    and network ACLs: its access to private resources is controlled there, and its internet egress can go through
    a NAT gateway or firewall that logs and filters it. A function outside a VPC reaches the internet directly
    from AWS's network, where none of that applies (Security Hub Lambda.3, in the NIST standard)."""

    id = "lambda_function_in_vpc"
    service = "lambda"
    severity = Severity.LOW
    title = "Lambda functions are connected to a VPC"
    risk = "A function outside a VPC has unfiltered, unlogged internet egress outside the network's controls."
    remediation = Remediation(
        text="Attach the function to private subnets in two or more Availability Zones with a security group "
             "that allows only the traffic it needs; give it VPC endpoints or a NAT gateway for AWS APIs.",
        cli=VPC_CLI,
        terraform=VPC_CONFIG_TERRAFORM,
        url=VPC_URL,
    )
    compliance = (Control("aws-securityhub", "Lambda.3"),)
    api_calls = ("lambda:ListFunctions",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        for function in functions(ctx):
            evidence = {"vpc_id": function.vpc_id or None, "subnet_ids": list(function.subnet_ids)}
            if function.in_vpc:
                yield ctx.passed(function.resource,
                                 f"Lambda function {function.name} is connected to VPC {function.vpc_id or '?'}.",
                                 evidence)
            else:
                yield ctx.failed(function.resource, f"Lambda function {function.name} is not connected to a VPC.",
                                 evidence)


class LambdaFunctionVpcMultiAz(Check):
    """A VPC-connected function can run only in the Availability Zones of its subnets. With subnets in a single
    zone, an outage of that zone stops the function altogether (Security Hub Lambda.5). The minimum number of
    zones is the parameter lambda.vpc_min_availability_zones. Functions not connected to a VPC run in every zone
    of the region and are outside this check."""

    id = "lambda_function_vpc_multi_az"
    service = "lambda"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    title = "VPC Lambda functions operate in multiple Availability Zones"
    risk = "A function whose subnets are all in one Availability Zone stops when that zone fails."
    remediation = Remediation(
        text="Add subnets in other Availability Zones (the VPC's private subnets, one per zone) to the function's "
             "VPC configuration.",
        cli=VPC_CLI,
        terraform=VPC_CONFIG_TERRAFORM,
        url="https://docs.aws.amazon.com/lambda/latest/dg/security-resilience.html",
    )
    compliance = (Control("aws-fsbp", "Lambda.5"),)
    api_calls = ("lambda:ListFunctions", "ec2:DescribeSubnets")
    parameters = ("lambda.vpc_min_availability_zones",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        minimum = int(ctx.param("lambda.vpc_min_availability_zones"))
        connected = [f for f in functions(ctx) if f.in_vpc]
        if not connected:
            return
        zone_of = {subnet.id: subnet.availability_zone for subnet in subnets(ctx)}
        for function in connected:
            zones = sorted({zone_of[s] for s in function.subnet_ids if zone_of.get(s)})
            unknown = [s for s in function.subnet_ids if s not in zone_of]
            evidence = {"subnet_ids": list(function.subnet_ids), "availability_zones": zones,
                        "unknown_subnets": unknown, "minimum": minimum}
            if len(zones) >= minimum:
                yield ctx.passed(
                    function.resource,
                    f"Lambda function {function.name} has subnets in {len(zones)} Availability Zones.",
                    evidence,
                )
            else:
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} has subnets in {len(zones)} Availability Zone(s), fewer "
                    f"than {minimum}.",
                    evidence,
                )


def database_variables(
    variables: Mapping[str, str], patterns: Iterable[str], schemes: Iterable[str], host_suffixes: Iterable[str]
) -> list[str]:
    """Names of the variables that suggest a database connection: by name, by a connection-string scheme in the
    value, or by a database endpoint host in the value. Only names are returned, never values."""
    patterns = [p.upper() for p in patterns]
    scheme = re.compile(
        r"(?<![a-z0-9+.-])(?:" + "|".join(re.escape(s.lower()) for s in schemes) + r")(?::[a-z0-9+]+)?://"
    ) if schemes else None
    suffixes = tuple(s.lower() for s in host_suffixes)
    found = []
    for key, value in variables.items():
        lowered = value.lower()
        if (
            any(fnmatch.fnmatchcase(key.upper(), p) for p in patterns)
            or (scheme is not None and scheme.search(lowered))
            or any(suffix in lowered for suffix in suffixes)
        ):
            found.append(key)
    return sorted(found)


class LambdaFunctionDatabaseClientInVpc(Check):
    """A database belongs in private subnets, reachable only from its clients' security groups; a function that
    talks to it from outside the VPC forces the database to be reachable from the internet (publicly accessible,
    a security group open to AWS's address ranges). The seed guide attaches its API function to the private
    subnets for this reason.

    Heuristic: a function is taken to reach a database when one of its environment variables is named like a
    database setting (the globs in lambda.database_variable_patterns, e.g. DATABASE_URL, DB_HOST, PGHOST), or
    holds a connection string with a database scheme (lambda.database_url_schemes, e.g. postgres://, jdbc:mysql://)
    or a database endpoint host (lambda.database_host_suffixes, e.g. .rds.amazonaws.com). Such a function must
    be connected to a VPC. Functions with no such variable are not reported; a database reached through
    configuration read at run time (Secrets Manager, Parameter Store) is not seen. Only variable names appear in
    findings, never their values."""

    id = "lambda_function_database_client_in_vpc"
    service = "lambda"
    severity = Severity.MEDIUM
    title = "Lambda functions that connect to a database run in a VPC"
    risk = "A database client outside the VPC forces the database to accept connections from the internet."
    remediation = Remediation(
        text="Attach the function to the private subnets of the database's VPC with a security group the "
             "database's security group admits, then remove any public access from the database.",
        cli=VPC_CLI,
        terraform=VPC_CONFIG_TERRAFORM,
        url=VPC_URL,
    )
    compliance = ()  # no FSBP or CIS control; the seed guide's API function
    api_calls = ("lambda:ListFunctions",)
    parameters = ("lambda.database_variable_patterns", "lambda.database_url_schemes",
                  "lambda.database_host_suffixes")

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        patterns = [str(p) for p in ctx.param("lambda.database_variable_patterns")]
        schemes = [str(s) for s in ctx.param("lambda.database_url_schemes")]
        suffixes = [str(s) for s in ctx.param("lambda.database_host_suffixes")]
        for function in functions(ctx):
            if function.environment_error and not function.environment:
                if not function.in_vpc:  # in a VPC it passes whatever the variables say
                    yield self._unreadable(ctx, function)
                continue
            found = database_variables(function.environment, patterns, schemes, suffixes)
            if not found:
                continue
            evidence = {"database_variables": found, "vpc_id": function.vpc_id or None}
            if function.in_vpc:
                yield ctx.passed(
                    function.resource,
                    f"Lambda function {function.name} connects to a database ({', '.join(found)}) from a VPC.",
                    evidence,
                )
            else:
                yield ctx.failed(
                    function.resource,
                    f"Lambda function {function.name} connects to a database ({', '.join(found)}) from outside a "
                    "VPC.",
                    evidence,
                )

    @staticmethod
    def _unreadable(ctx: CheckContext, function: Function) -> Finding:
        return ctx.error(
            function.resource,
            f"Lambda function {function.name} did not return its environment variables "
            f"({function.environment_error}).",
            {"error_code": function.environment_error},
        )
