"""The CloudFormation template of a deployed aws-audit: built here, in the package, from the deploy options.

What the stack holds, and why it looks the way it does (the report bucket and the function follow the same guide the
checks hold every other account to):

- a customer-managed KMS key (rotation on) for the reports, the log group and the topic;
- the report bucket: KMS encryption with a bucket key, versioning, every public access block, objects owned by the
  bucket owner (no ACLs), a TLS-only bucket policy, lifecycle to STANDARD_IA then GLACIER and expiry after a
  year, noncurrent versions expired, events to EventBridge, Object Lock (GOVERNANCE, 30 days); bucket and key are
  retained when the stack is deleted (reports outlive it);
- the execution role: the AWS managed SecurityAudit and ViewOnlyAccess policies — or, with least privilege, exactly
  the policy `aws-audit permissions` prints — plus reading and writing under its own account's prefix in its bucket,
  publishing to its topic, its failed-run queue, its own log group and X-Ray, and nothing else — except, with
  subnets given, what Lambda documents for a function in a VPC (creating its network interfaces in exactly those
  subnets and security groups; describing, deleting and re-addressing network interfaces), in a policy of its own:
  Lambda uses the role for them, and the audit's read-only gateway still refuses every one of those calls;
- the function (Python 3.12, arm64, 900 s, X-Ray Active, reserved concurrency), in the given subnets and security
  groups if any (the seed guide's Lambda pattern), its log group with retention, and an encrypted queue that keeps
  a run that failed after Lambda's retry (its on-failure destination);
- an EventBridge schedule; with fan-out, a Step Functions state machine the schedule starts instead, and its role:
  invoking the function, reading the shard plan from its own prefix of the bucket (and decrypting it through S3),
  starting and watching the child executions of its own Distributed Map, tracing and logging.

The fan-out passes S3 keys between its states, never the shard list or the shard results: Step Functions refuses a
state input or output, and a Lambda payload, over 256 KB, and an organization of 100 accounts in 17 regions is
1,700 shards — 215 KB as a bare list, more with each shard's result. See `state_machine_definition`.

The findings the stack knowingly does not satisfy on its own resources are declared in `accepted.py` and given to
the function (AWS_AUDIT_ACCEPTED), which mutes them, with their reasons, in its own reports.

Metrics are CloudWatch Embedded Metric Format lines written to the function's log (the `metrics` report format),
so the role needs no cloudwatch:PutMetricData.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..config import DEFAULT_WORKERS
from ..models import Severity
from .accepted import ENVIRONMENT_VARIABLE, accepted_findings, environment_value

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
TIMEOUT_SECONDS = 900
LOG_RETENTION_DAYS = 365
OBJECT_LOCK_DAYS = 30
REPORT_RETENTION_DAYS = 365  # the seed guide's expiration; latest.json is rewritten by every run
HANDLER = "auditor.lambda_handler.handler"
MANAGED_READ_POLICIES = ("SecurityAudit", "job-function/ViewOnlyAccess")
MAP_CONCURRENCY = 10
MAP_LABEL = "Shards"  # the Distributed Map's label: its child executions are named <state machine>/Shards:<id>
FUNCTION_ARN = "${FunctionArn}"  # placeholder in the state machine definition
REPORT_PREFIX = "${AWS::AccountId}/"  # the function writes only under its own account's prefix
SUBNET_ID = re.compile(r"subnet-[0-9a-f]+")
SECURITY_GROUP_ID = re.compile(r"sg-[0-9a-f]+")

Json = dict[str, Any]


def memory_for_workers(workers: int) -> int:
    """Lambda gives CPU and network in proportion to memory; the audit is I/O bound threads, ~64 MB per worker."""
    return max(1024, min(10240, 64 * workers))


@dataclass(frozen=True)
class StackOptions:
    stack_name: str = "aws-audit"
    schedule: str = "rate(1 day)"
    bucket_name: str | None = None  # default: aws-audit-reports-<account>-<region>
    notify_email: str | None = None  # creates a topic with an email subscription
    sns_topic_arn: str | None = None  # or publish to an existing topic
    fail_on: Severity = Severity.HIGH
    least_privilege_policy: Json | None = None  # None: the AWS managed SecurityAudit and ViewOnlyAccess policies
    fan_out: bool = False
    org_role_name: str | None = None  # with fan-out: also audit the organization's accounts through this role
    regions: tuple[str, ...] = ()  # empty: every region enabled for the account
    services: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    exclude_checks: tuple[str, ...] = ()
    workers: int = DEFAULT_WORKERS
    reserved_concurrency: int | None = None  # default: 1, or the Map concurrency + 2 with fan-out
    subnet_ids: tuple[str, ...] = ()  # with security_group_ids: the function runs in this VPC's subnets
    security_group_ids: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.notify_email and self.sns_topic_arn:
            raise ValueError("--notify-email and --sns-topic exclude each other")
        if self.org_role_name and not self.fan_out:
            raise ValueError("auditing an organization's accounts needs --fan-out")
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            raise ValueError("--subnet-ids and --security-group-ids go together: give both or neither")
        # The IDs end up in the role's resource ARNs: only well-formed IDs, nothing a substitution could read.
        for value, pattern, what in [*((s, SUBNET_ID, "subnet") for s in self.subnet_ids),
                                     *((g, SECURITY_GROUP_ID, "security group") for g in self.security_group_ids)]:
            if not pattern.fullmatch(value):
                raise ValueError(f"not a {what} ID: {value!r}")

    @property
    def in_vpc(self) -> bool:
        return bool(self.subnet_ids)

    @property
    def concurrency(self) -> int:
        if self.reserved_concurrency is not None:
            return self.reserved_concurrency
        return MAP_CONCURRENCY + 2 if self.fan_out else 1


def _sub(text: str) -> Json:
    return {"Fn::Sub": text}


def _arn(resource: str) -> Json:
    return {"Fn::GetAtt": [resource, "Arn"]}


def _ref(name: str) -> Json:
    return {"Ref": name}


def _policy(*statements: Json) -> Json:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _trust(service: str) -> Json:
    return _policy({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": _ref("AWS::AccountId")}}})


def _tags(options: StackOptions) -> list[Json]:
    tags = {"Project": "aws-audit", "ManagedBy": "aws-audit deploy", "Stack": options.stack_name, **options.tags}
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def state_machine_definition() -> Json:
    """Plan, audit every shard in a child execution of a Distributed Map, aggregate. FUNCTION_ARN is replaced by the
    function's ARN in the template.

    Whatever the number of shards, what passes between the states has a constant size:
    - Plan writes the shard list to s3://BUCKET/<account>/shards/<run-id>/plan.json and returns {run_id, bucket, key,
      count};
    - the Map's ItemReader reads that JSON array from S3 itself; each child execution gets {run_id, shard};
    - a child audits its shard (retried); if it still fails, the catcher hands the error to `shard_failed`, which
      keeps it in S3 next to the reports. Each child's output is {} (OutputPath null): the Map's results are
      discarded, but Step Functions still collects them before discarding, so they must stay tiny (3 bytes a shard).
      A child that fails even so is tolerated (ToleratedFailurePercentage 100) and does not stop the run;
    - Aggregate gets {run_id, bucket, key} and finds every planned shard's report or failure record in S3 itself; a
      shard with neither becomes ERROR rows, so no planned shard is ever missing from the report.
    The Distributed Map also lifts the Inline Map's limits: 40 concurrent iterations, and one execution history
    (25,000 events) holding every shard's events. Child executions are STANDARD: a shard may run up to Lambda's
    15 minutes, longer than an EXPRESS execution may last.
    """
    invoke = "arn:aws:states:::lambda:invoke"
    retry_transient = {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                                       "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
                       "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2.0, "JitterStrategy": "FULL"}
    retry_all = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "MaxAttempts": 2, "BackoffRate": 2.0,
                 "JitterStrategy": "FULL"}

    def call(payload: Json, **state: Any) -> Json:
        return {"Type": "Task", "Resource": invoke, "Parameters": {"FunctionName": FUNCTION_ARN, "Payload": payload},
                "Retry": [retry_transient, retry_all], **state}

    return {
        "Comment": "aws-audit fan-out: plan to S3, one child execution per (account, region) shard, then one "
                   "aggregation; only S3 keys pass between the states",
        "StartAt": "Plan",
        "States": {
            "Plan": call({"mode": "plan", "run_id.$": "$$.Execution.Name"},
                         ResultSelector={"run_id.$": "$.Payload.run_id", "bucket.$": "$.Payload.bucket",
                                         "key.$": "$.Payload.key", "count.$": "$.Payload.count"},
                         Next="Shards"),
            "Shards": {
                "Type": "Map", "Label": MAP_LABEL,
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                               "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}},
                "ItemSelector": {"run_id.$": "$.run_id", "shard.$": "$$.Map.Item.Value"},
                "MaxConcurrency": MAP_CONCURRENCY,
                "ToleratedFailurePercentage": 100,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "AuditShard",
                    "States": {
                        "AuditShard": call({"mode": "shard", "run_id.$": "$.run_id", "shard.$": "$.shard"},
                                           Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                                   "Next": "RecordShardFailure"}],
                                           OutputPath=None, End=True),
                        "RecordShardFailure": call({"mode": "shard_failed", "run_id.$": "$.run_id",
                                                    "shard.$": "$.shard", "error.$": "$.error"},
                                                   OutputPath=None, End=True),
                    },
                },
                "ResultPath": None,
                "Next": "Aggregate",
            },
            "Aggregate": call({"mode": "aggregate", "run_id.$": "$.run_id", "bucket.$": "$.bucket", "key.$": "$.key"},
                              ResultSelector={"report.$": "$.Payload.report",
                                              "new_failing.$": "$.Payload.new_failing"},
                              End=True),
        },
    }


def _definition_string() -> Json:
    """The definition with the function's ARN put in by Fn::Join, not Fn::Sub: the definition's own `$$.` paths
    are no business of a substitution (moto's Fn::Sub turns `$$` into `$`)."""
    parts = json.dumps(state_machine_definition(), indent=2).split(FUNCTION_ARN)
    joined: list[Any] = []
    for index, part in enumerate(parts):
        joined += [part] if index == 0 else [_arn("Function"), part]
    return {"Fn::Join": ["", joined]}


def _environment(options: StackOptions, topic: Json | str | None) -> Json:
    variables: Json = {
        "AWS_AUDIT_BUCKET": _ref("ReportBucket"),
        "AWS_AUDIT_FAIL_ON": options.fail_on.value,
        "AWS_AUDIT_WORKERS": str(options.workers),
        "AWS_AUDIT_REGIONS": ",".join(options.regions),
        "AWS_AUDIT_SERVICES": ",".join(options.services),
        "AWS_AUDIT_CHECKS": ",".join(options.checks),
        "AWS_AUDIT_EXCLUDE_CHECKS": ",".join(options.exclude_checks),
    }
    if topic is not None:
        variables["AWS_AUDIT_TOPIC_ARN"] = topic
    if options.org_role_name:
        variables["AWS_AUDIT_ORG_ROLE"] = options.org_role_name
    # The findings the stack declares on its own resources: the handler mutes them in every run (accepted.py).
    variables[ENVIRONMENT_VARIABLE] = environment_value(accepted_findings(options))
    return {"Variables": variables}


def bucket_name_template(options: StackOptions) -> str:
    """The report bucket's name as Fn::Sub text: the given name, or one per account and region."""
    return options.bucket_name or "aws-audit-reports-${AWS::AccountId}-${AWS::Region}"


def build_template(options: StackOptions, *, code_key: str | None = None) -> Json:
    """The stack. Without `code_key` (the bundle's S3 key in the report bucket) only the key and the bucket are
    built: deploy's first step on a new stack, so the bundle has somewhere to be uploaded."""
    resources: Json = {}
    outputs: Json = {}
    tags = _tags(options)
    bucket_name = bucket_name_template(options)
    function_name = options.stack_name
    log_group_name = f"/aws/lambda/{function_name}"

    resources["ReportKey"] = {
        "Type": "AWS::KMS::Key",
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": f"aws-audit ({options.stack_name}): reports, logs and notifications",
            "EnableKeyRotation": True,
            "KeyPolicy": _policy(
                {"Sid": "AccountAdministers", "Effect": "Allow",
                 "Principal": {"AWS": _sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                 "Action": "kms:*", "Resource": "*"},
                {"Sid": "LogsEncryptTheFunctionLog", "Effect": "Allow",
                 "Principal": {"Service": _sub("logs.${AWS::Region}.amazonaws.com")},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                            "kms:DescribeKey"],
                 "Resource": "*",
                 "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": _sub(
                     f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group_name}"
                 )}}},
            ),
            # No resource tags: the stack's tags propagate (and moto's KMS reads Key/Value tags wrongly).
        },
    }
    resources["ReportKeyAlias"] = {
        "Type": "AWS::KMS::Alias",
        "Properties": {"AliasName": f"alias/{options.stack_name}-reports", "TargetKeyId": _ref("ReportKey")},
    }
    resources["ReportBucket"] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": _sub(bucket_name),
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": _arn("ReportKey")},
                "BucketKeyEnabled": True,
            }]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{
                "Id": "archive", "Status": "Enabled",
                "Transitions": [{"TransitionInDays": 90, "StorageClass": "STANDARD_IA"},
                                {"TransitionInDays": 180, "StorageClass": "GLACIER"}],
                "ExpirationInDays": REPORT_RETENTION_DAYS,
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            }]},
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            # Reports are audit evidence: a version cannot be deleted or overwritten for 30 days, not even by the
            # function's own role (GOVERNANCE: an administrator can still bypass it, e.g. undeploy --delete-bucket).
            "ObjectLockEnabled": True,
            "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {
                "Mode": "GOVERNANCE", "Days": OBJECT_LOCK_DAYS}}},
            "Tags": tags,
        },
    }
    resources["ReportBucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {"Bucket": _ref("ReportBucket"), "PolicyDocument": _policy({
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [_arn("ReportBucket"), _sub("${ReportBucket.Arn}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })},
    }
    outputs["ReportBucket"] = {"Value": _ref("ReportBucket")}
    outputs["ReportKeyArn"] = {"Value": _arn("ReportKey")}
    if code_key is None:
        return _document(options, resources, outputs)

    topic: Json | str | None = None
    if options.notify_email:
        resources["NotificationTopic"] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"{options.stack_name}-findings", "KmsMasterKeyId": _ref("ReportKey"),
                           "Subscription": [{"Protocol": "email", "Endpoint": options.notify_email}],
                           "Tags": tags},
        }
        topic = _ref("NotificationTopic")
        outputs["TopicArn"] = {"Value": topic}
    elif options.sns_topic_arn:
        topic = options.sns_topic_arn

    resources["FunctionLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
        "Properties": {"LogGroupName": log_group_name, "RetentionInDays": LOG_RETENTION_DAYS,
                       "KmsKeyId": _arn("ReportKey"), "Tags": tags},
    }
    resources["FunctionRole"] = _function_role(options, topic, tags)
    if options.least_privilege_policy is not None:
        resources["AuditReadPolicy"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"Description": "aws-audit: exactly the reads the selected checks make",
                           "PolicyDocument": options.least_privilege_policy,
                           "Roles": [_ref("FunctionRole")]},
        }
    resources["Function"] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": function_name,
            "Description": "aws-audit: audits the account on a schedule and writes reports to S3",
            "Runtime": RUNTIME, "Architectures": [ARCHITECTURE], "Handler": HANDLER,
            "Code": {"S3Bucket": _ref("ReportBucket"), "S3Key": code_key},
            "Role": _arn("FunctionRole"),
            "Timeout": TIMEOUT_SECONDS, "MemorySize": memory_for_workers(options.workers),
            "ReservedConcurrentExecutions": options.concurrency,
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {"LogGroup": _ref("FunctionLogGroup"), "LogFormat": "Text"},
            "Environment": _environment(options, topic),
            "Tags": tags,
        },
    }
    if options.in_vpc:
        resources["Function"]["Properties"]["VpcConfig"] = {"SubnetIds": list(options.subnet_ids),
                                                            "SecurityGroupIds": list(options.security_group_ids)}
    # A run that fails after Lambda's retry leaves a record to look at and replay, not nothing.
    resources["FailedRunQueue"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"MessageRetentionPeriod": 1209600, "KmsMasterKeyId": _arn("ReportKey"), "Tags": tags},
    }
    resources["FunctionInvokeConfig"] = {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {"FunctionName": _ref("Function"), "Qualifier": "$LATEST", "MaximumRetryAttempts": 1,
                       "MaximumEventAgeInSeconds": 3600,
                       "DestinationConfig": {"OnFailure": {"Destination": _arn("FailedRunQueue")}}},
    }
    outputs["FailedRunQueueArn"] = {"Value": _arn("FailedRunQueue")}
    outputs["FunctionName"] = {"Value": _ref("Function")}
    outputs["FunctionArn"] = {"Value": _arn("Function")}

    rule: Json = {"Type": "AWS::Events::Rule",
                  "Properties": {"Description": f"aws-audit ({options.stack_name}) schedule",
                                 "ScheduleExpression": options.schedule, "State": "ENABLED"}}
    if options.fan_out:
        resources["StateMachineLogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": f"/aws/vendedlogs/states/{options.stack_name}",
                           "RetentionInDays": LOG_RETENTION_DAYS, "Tags": tags},
        }
        resources["StateMachineRole"] = _state_machine_role(options, tags)
        resources["StateMachine"] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": options.stack_name,
                "StateMachineType": "STANDARD",
                "RoleArn": _arn("StateMachineRole"),
                "DefinitionString": _definition_string(),
                "TracingConfiguration": {"Enabled": True},
                "LoggingConfiguration": {"Level": "ERROR", "IncludeExecutionData": False, "Destinations": [
                    {"CloudWatchLogsLogGroup": {"LogGroupArn": _arn("StateMachineLogGroup")}}]},
            },
        }
        resources["ScheduleRole"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _trust("events.amazonaws.com"),
                "Policies": [{"PolicyName": "start-audit", "PolicyDocument": _policy(
                    {"Effect": "Allow", "Action": "states:StartExecution", "Resource": _ref("StateMachine")})}],
                "Tags": tags,
            },
        }
        rule["Properties"]["Targets"] = [{"Id": "audit", "Arn": _ref("StateMachine"),
                                          "RoleArn": _arn("ScheduleRole")}]
        outputs["StateMachineArn"] = {"Value": _ref("StateMachine")}
    else:
        rule["Properties"]["Targets"] = [{"Id": "audit", "Arn": _arn("Function")}]
        resources["SchedulePermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"FunctionName": _ref("Function"), "Action": "lambda:InvokeFunction",
                           "Principal": "events.amazonaws.com", "SourceArn": _arn("Schedule"),
                           "SourceAccount": _ref("AWS::AccountId")},
        }
    resources["Schedule"] = rule
    return _document(options, resources, outputs)


def _state_machine_role(options: StackOptions, tags: list[Json]) -> Json:
    """Invoke the function; what a Distributed Map needs and no more: read the shard plan under the stack account's
    own prefix of its bucket (decrypting it only through S3), and start, watch and stop the child executions of this
    state machine. The state machine's ARN is built from its name, not referenced: a reference to the state machine
    from its own role would be a circular dependency."""
    machine = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{options.stack_name}"
    children = (f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:"
                f"{options.stack_name}/*")
    statements = [
        {"Sid": "InvokeAudit", "Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": [_arn("Function"), _sub("${Function.Arn}:*")]},
        {"Sid": "ReadShardPlan", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": _sub(f"${{ReportBucket.Arn}}/{REPORT_PREFIX}shards/*")},
        {"Sid": "DecryptShardPlan", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": _arn("ReportKey"),
         "Condition": {"StringEquals": {"kms:ViaService": _sub("s3.${AWS::Region}.amazonaws.com")}}},
        {"Sid": "StartShardExecutions", "Effect": "Allow", "Action": "states:StartExecution",
         "Resource": _sub(machine)},
        {"Sid": "WatchShardExecutions", "Effect": "Allow",
         "Action": ["states:DescribeExecution", "states:StopExecution"], "Resource": _sub(children)},
        {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                                         "xray:GetSamplingRules", "xray:GetSamplingTargets"],
         "Resource": "*"},
        # Vended log delivery for Step Functions is configured on "*" (AWS documents no narrower form).
        {"Sid": "DeliverLogs", "Effect": "Allow", "Action": ["logs:CreateLogDelivery", "logs:GetLogDelivery",
                                                             "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                                                             "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                                                             "logs:DescribeResourcePolicies",
                                                             "logs:DescribeLogGroups"],
         "Resource": "*"},
    ]
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": _trust("states.amazonaws.com"),
        "Policies": [{"PolicyName": "run-fan-out", "PolicyDocument": _policy(*statements)}],
        "Tags": tags,
    }}


def _function_role(options: StackOptions, topic: Json | str | None, tags: list[Json]) -> Json:
    reports = _sub(f"${{ReportBucket.Arn}}/{REPORT_PREFIX}*")
    statements: list[Json] = [
        {"Sid": "WriteOwnReports", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": reports},
        {"Sid": "ListOwnReports", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": _arn("ReportBucket"),
         "Condition": {"StringLike": {"s3:prefix": [_sub(f"{REPORT_PREFIX}*")]}}},
        {"Sid": "UseReportKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
         "Resource": _arn("ReportKey")},
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": _sub("${FunctionLogGroup.Arn}")},
        {"Sid": "RecordFailedRuns", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Resource": _arn("FailedRunQueue")},
        {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
         "Resource": "*"},
    ]
    if topic is not None:
        statements.append({"Sid": "NotifyNewFindings", "Effect": "Allow", "Action": "sns:Publish",
                           "Resource": topic})
    if options.org_role_name:
        statements.append({"Sid": "EnterMemberAccounts", "Effect": "Allow", "Action": "sts:AssumeRole",
                           "Resource": _sub(f"arn:${{AWS::Partition}}:iam::*:role/{options.org_role_name}")})
        if options.least_privilege_policy is not None:  # SecurityAudit has these; the checks' reads do not
            statements.append({"Sid": "ListMemberAccounts", "Effect": "Allow", "Resource": "*", "Action": [
                "organizations:ListAccounts", "organizations:ListAccountsForParent",
                "organizations:ListOrganizationalUnitsForParent"]})
    policies = [{"PolicyName": "write-own-reports", "PolicyDocument": _policy(*statements)}]
    if options.in_vpc:
        policies.append({"PolicyName": "run-in-vpc", "PolicyDocument": _policy(*_vpc_statements(options))})
    properties: Json = {
        "Description": "aws-audit function: reads the account, writes its own reports",
        "AssumeRolePolicyDocument": _trust("lambda.amazonaws.com"),
        "Policies": policies,
        "Tags": tags,
    }
    if options.least_privilege_policy is None:
        properties["ManagedPolicyArns"] = [_sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{name}")
                                           for name in MANAGED_READ_POLICIES]
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def _vpc_statements(options: StackOptions) -> list[Json]:
    """What Lambda documents for a function in a VPC (the actions of AWSLambdaVPCAccessExecutionRole, without its
    logs:CreateLogGroup): Lambda itself uses the execution role to create, describe and remove the function's
    network interfaces. Scoped as tightly as IAM allows: interfaces are created only in the given subnets and
    security groups of this account and region, and only network interfaces can be deleted or re-addressed;
    EC2's Describe actions take no resource, so they are on "*". The audit never makes these calls (its gateway
    refuses anything but reads); the grant is for Lambda's networking."""
    ec2 = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}"
    interfaces = _sub(f"{ec2}:network-interface/*")
    return [
        {"Sid": "LambdaCreatesItsInterfacesInTheGivenSubnets", "Effect": "Allow",
         "Action": "ec2:CreateNetworkInterface",
         "Resource": [interfaces, *(_sub(f"{ec2}:subnet/{s}") for s in options.subnet_ids),
                      *(_sub(f"{ec2}:security-group/{g}") for g in options.security_group_ids)]},
        {"Sid": "LambdaDescribesItsNetwork", "Effect": "Allow",
         "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], "Resource": "*"},
        {"Sid": "LambdaRemovesAndReaddressesItsInterfaces", "Effect": "Allow",
         "Action": ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses"],
         "Resource": interfaces},
    ]


def _document(options: StackOptions, resources: Json, outputs: Json) -> Json:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"aws-audit ({options.stack_name}): scheduled read-only audit of this account"
                       + (", fanned out over regions" if options.fan_out else ""),
        "Resources": resources,
        "Outputs": outputs,
    }


def render(template: Json) -> str:
    return json.dumps(template, indent=2, sort_keys=False) + "\n"
