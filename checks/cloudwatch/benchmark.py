"""The CIS AWS Foundations Benchmark's monitoring recommendations (section 4 of v3.0.0 and v4.0.1): data only.

Each entry holds the narrowest metric-filter pattern the benchmark accepts for the item. An account's filter
passes when it is at least as broad (see `filter_pattern.covers`). Where the benchmark offers a variant that
excludes noise (4.1 without log delivery and HeadBucket, 4.2 limited to successful IAM-user sign-ins) or pins
the event source, the entry holds that narrower variant, so the benchmark's plain pattern, its variant and
Security Hub's pattern all pass; anything that narrows the match further fails.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MonitoredActivity:
    key: str
    cis: str  # the recommendation number, the same in CIS v3.0.0 and v4.0.1
    securityhub: str | None  # the Security Hub control that implements it, if any
    activity: str  # what the alarm watches, as a sentence fragment
    pattern: str  # the narrowest JSON filter pattern the benchmark accepts
    metric_name: str  # the metric (and filter) name the benchmark's remediation suggests


def _events(*names: str) -> str:
    return " || ".join(f"($.eventName = {name})" for name in names)


MONITORED_ACTIVITIES: tuple[MonitoredActivity, ...] = (
    MonitoredActivity(
        key="unauthorized_api_calls",
        cis="4.1",
        securityhub="CloudWatch.2",
        activity="unauthorized API calls",
        pattern='{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) '
                '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
        metric_name="unauthorized_api_calls_metric",
    ),
    MonitoredActivity(
        key="console_signin_without_mfa",
        cis="4.2",
        securityhub="CloudWatch.3",
        activity="Management Console sign-in without MFA",
        pattern='{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
                '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        metric_name="no_mfa_console_signin_metric",
    ),
    MonitoredActivity(
        key="root_account_usage",
        cis="4.3",
        securityhub="CloudWatch.1",
        activity="use of the root user",
        pattern='{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
                '&& $.eventType != "AwsServiceEvent" }',
        metric_name="root_usage_metric",
    ),
    MonitoredActivity(
        key="iam_policy_changes",
        cis="4.4",
        securityhub="CloudWatch.4",
        activity="IAM policy changes",
        pattern="{ ($.eventSource = iam.amazonaws.com) && ("
                + _events("DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
                          "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
                          "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
                          "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy")
                + ") }",
        metric_name="iam_changes_metric",
    ),
    MonitoredActivity(
        key="cloudtrail_config_changes",
        cis="4.5",
        securityhub="CloudWatch.5",
        activity="CloudTrail configuration changes",
        pattern="{ ($.eventSource = cloudtrail.amazonaws.com) && ("
                + _events("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")
                + ") }",
        metric_name="cloudtrail_cfg_changes_metric",
    ),
    MonitoredActivity(
        key="console_auth_failures",
        cis="4.6",
        securityhub="CloudWatch.6",
        activity="Management Console authentication failures",
        pattern='{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        metric_name="console_signin_failure_metric",
    ),
    MonitoredActivity(
        key="kms_key_disable_or_deletion",
        cis="4.7",
        securityhub="CloudWatch.7",
        activity="disabling or scheduled deletion of customer managed KMS keys",
        pattern="{ ($.eventSource = kms.amazonaws.com) && ("
                + _events("DisableKey", "ScheduleKeyDeletion")
                + ") }",
        metric_name="disable_or_delete_cmk_changes_metric",
    ),
    MonitoredActivity(
        key="s3_bucket_policy_changes",
        cis="4.8",
        securityhub="CloudWatch.8",
        activity="S3 bucket policy changes",
        pattern="{ ($.eventSource = s3.amazonaws.com) && ("
                + _events("PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
                          "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
                          "DeleteBucketReplication")
                + ") }",
        metric_name="s3_bucket_policy_changes_metric",
    ),
    MonitoredActivity(
        key="config_changes",
        cis="4.9",
        securityhub="CloudWatch.9",
        activity="AWS Config configuration changes",
        pattern="{ ($.eventSource = config.amazonaws.com) && ("
                + _events("StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
                          "PutConfigurationRecorder")
                + ") }",
        metric_name="aws_config_changes_metric",
    ),
    MonitoredActivity(
        key="security_group_changes",
        cis="4.10",
        securityhub="CloudWatch.10",
        activity="security group changes",
        pattern="{ ($.eventSource = ec2.amazonaws.com) && ("
                + _events("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                          "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
                          "DeleteSecurityGroup")
                + ") }",
        metric_name="security_group_changes_metric",
    ),
    MonitoredActivity(
        key="nacl_changes",
        cis="4.11",
        securityhub="CloudWatch.11",
        activity="network ACL changes",
        pattern="{ ($.eventSource = ec2.amazonaws.com) && ("
                + _events("CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
                          "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation")
                + ") }",
        metric_name="nacl_changes_metric",
    ),
    MonitoredActivity(
        key="network_gateway_changes",
        cis="4.12",
        securityhub="CloudWatch.12",
        activity="network gateway changes",
        pattern="{ ($.eventSource = ec2.amazonaws.com) && ("
                + _events("CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
                          "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway")
                + ") }",
        metric_name="network_gw_changes_metric",
    ),
    MonitoredActivity(
        key="route_table_changes",
        cis="4.13",
        securityhub="CloudWatch.13",
        activity="route table changes",
        pattern="{ ($.eventSource = ec2.amazonaws.com) && ("
                + _events("CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
                          "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable")
                + ") }",
        metric_name="route_table_changes_metric",
    ),
    MonitoredActivity(
        key="vpc_changes",
        cis="4.14",
        securityhub="CloudWatch.14",
        activity="VPC changes",
        pattern="{ ($.eventSource = ec2.amazonaws.com) && ("
                + _events("CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
                          "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
                          "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink",
                          "EnableVpcClassicLink")
                + ") }",
        metric_name="vpc_changes_metric",
    ),
    MonitoredActivity(
        key="organizations_changes",
        cis="4.15",
        securityhub=None,
        activity="AWS Organizations changes",
        pattern="{ ($.eventSource = organizations.amazonaws.com) && ("
                + _events("AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit",
                          "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit",
                          "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType",
                          "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
                          "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit")
                + ") }",
        metric_name="organizations_changes_metric",
    ),
)

ACTIVITIES = {activity.key: activity for activity in MONITORED_ACTIVITIES}
