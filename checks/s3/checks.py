"""S3 checks: public access, encryption at rest and in transit, versioning, lifecycle.

Bucket listing is account-wide, so every check here runs once per account (`Scope.GLOBAL`) and reports one
result per bucket in an audited region, with the bucket's region on the finding.
"""
from __future__ import annotations

from typing import Iterator

from auditor import Check, CheckContext, Control, DataUnavailable, Finding, Remediation, Scope, Severity
from auditor.policy import PolicyError

from .policy import evaluate_transport
from .resources import (
    Bucket,
    account_public_access_block,
    bucket_encryption,
    bucket_lifecycle,
    bucket_policy,
    bucket_public_access_block,
    bucket_versioning,
    each_bucket,
)

LIST_BUCKETS = ("s3:ListAllMyBuckets", "s3:GetBucketLocation")
CIS_BLOCK_PUBLIC_ACCESS = (Control("cis-aws-3.0", "2.1.4"), Control("cis-aws-4.0.1", "2.1.4"))
CIS_DENY_HTTP = (Control("cis-aws-3.0", "2.1.1"), Control("cis-aws-4.0.1", "2.1.1"))

PUBLIC_ACCESS_BLOCK_TERRAFORM = """\
resource "aws_s3_bucket_public_access_block" "data" {
  bucket = aws_s3_bucket.data.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}"""

ENCRYPTION_TERRAFORM = """\
resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.s3.arn
    }
    bucket_key_enabled = true
  }
}"""


class S3AccountPublicAccessBlocked(Check):
    """S3 Block Public Access at the account level overrides every bucket's ACLs and policies: with all four
    settings on, no bucket in the account can be made public by mistake, whatever its own settings say. It is the
    one switch that protects buckets created tomorrow by someone who forgot the bucket-level block."""

    id = "s3_account_public_access_blocked"
    service = "s3"
    severity = Severity.MEDIUM
    title = "S3 Block Public Access is fully enabled for the account"
    risk = "Without the account-level block, any bucket whose own settings allow it can be made public."
    remediation = Remediation(
        text="Turn on all four S3 Block Public Access settings for the account.",
        cli="aws s3control put-public-access-block --account-id <account-id> --public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        terraform='resource "aws_s3_account_public_access_block" "main" {\n'
                  "  block_public_acls       = true\n"
                  "  block_public_policy     = true\n"
                  "  ignore_public_acls      = true\n"
                  "  restrict_public_buckets = true\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-account.html",
    )
    compliance = (Control("aws-fsbp", "S3.1"), *CIS_BLOCK_PUBLIC_ACCESS)
    api_calls = ("s3:GetAccountPublicAccessBlock",)
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        block = account_public_access_block(ctx)
        account = ctx.account_resource()
        if block.all_on:
            yield ctx.passed(account, f"Account {ctx.account} blocks public access to S3 with all four settings.",
                             {"settings": block.settings})
        elif not block.configured:
            yield ctx.failed(account, f"Account {ctx.account} has no account-level S3 Block Public Access.",
                             {"settings": None})
        else:
            yield ctx.failed(
                account,
                f"Account {ctx.account} leaves S3 Block Public Access partly off: {', '.join(block.missing)}.",
                {"settings": block.settings, "missing": block.missing},
            )


class S3BucketPublicAccessBlocked(Check):
    """A bucket with Block Public Access fully on cannot be opened to the internet by an ACL or a bucket policy,
    whether by mistake or by a compromised principal. Public buckets are the classic cause of S3 data leaks. S3
    enforces the most restrictive combination of the bucket's and the account's settings, so a bucket passes when
    that combination has all four settings on (for example, when the account-level block covers it)."""

    id = "s3_bucket_public_access_blocked"
    service = "s3"
    severity = Severity.HIGH
    title = "S3 buckets block public access"
    risk = "An ACL or bucket policy can make the bucket's objects readable or writable by anyone on the internet."
    remediation = Remediation(
        text="Turn on all four Block Public Access settings on the bucket (or for the whole account).",
        cli="aws s3api put-public-access-block --bucket <bucket> --public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        terraform=PUBLIC_ACCESS_BLOCK_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-bucket.html",
    )
    compliance = (Control("aws-fsbp", "S3.8"), *CIS_BLOCK_PUBLIC_ACCESS)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketPublicAccessBlock", "s3:GetAccountPublicAccessBlock")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from each_bucket(ctx, lambda bucket: self._evaluate_bucket(ctx, bucket))

    @staticmethod
    def _evaluate_bucket(ctx: CheckContext, bucket: Bucket) -> Iterator[Finding]:
        unreadable: DataUnavailable | None = None
        try:
            own = bucket_public_access_block(ctx, bucket)
        except DataUnavailable as exc:  # the account-level block may still settle it
            unreadable, own = exc, None
        if own is not None and own.all_on:
            yield ctx.passed(bucket.resource, f"Bucket {bucket.name} blocks public access with all four settings.",
                             {"bucket": own.settings, "covered_by": "bucket"})
            return
        try:
            account = account_public_access_block(ctx)
        except DataUnavailable:
            if unreadable is not None:  # report the bucket's own read, the one this finding is about
                raise unreadable from None
            raise
        if account.all_on:
            yield ctx.passed(
                bucket.resource,
                f"Bucket {bucket.name} is covered by the account-level block of public access (all four settings).",
                {"bucket": own.evidence() if own else "unreadable", "account": account.settings,
                 "covered_by": "account"},
            )
            return
        if unreadable is not None:
            raise unreadable
        assert own is not None
        effective = own.combined(account)
        evidence = {"bucket": own.evidence(), "account": account.evidence(), "missing": effective.missing}
        if effective.all_on:
            yield ctx.passed(
                bucket.resource,
                f"Bucket {bucket.name} blocks public access through its own and the account's settings together.",
                {**evidence, "covered_by": "bucket and account"},
            )
        else:
            yield ctx.failed(
                bucket.resource,
                f"Bucket {bucket.name} does not block public access: {', '.join(effective.missing)} off.",
                evidence,
            )


class S3BucketDefaultEncryptionEnabled(Check):
    """Default encryption makes S3 encrypt every new object at rest without the writer asking for it. Since
    January 2023 AWS applies SSE-S3 to every bucket that has no other setting, so on AWS this mostly confirms the
    setting has not been removed; a bucket without default encryption relies on every client to encrypt."""

    id = "s3_bucket_default_encryption_enabled"
    service = "s3"
    severity = Severity.MEDIUM
    title = "S3 buckets encrypt new objects by default"
    risk = "Objects written without an encryption header are stored unencrypted."
    remediation = Remediation(
        text="Configure default encryption on the bucket: SSE-KMS with a customer managed key, or at least SSE-S3.",
        cli="aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-configuration "
            "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\","
            "\"KMSMasterKeyID\":\"<kms-key-arn>\"},\"BucketKeyEnabled\":true}]}'",
        terraform=ENCRYPTION_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",
    )
    api_calls = (*LIST_BUCKETS, "s3:GetEncryptionConfiguration")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            encryption = bucket_encryption(ctx, bucket)
            if encryption.enabled:
                yield ctx.passed(bucket.resource,
                                 f"Bucket {bucket.name} encrypts new objects by default with {encryption.algorithm}.",
                                 encryption.evidence())
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has no default encryption.",
                                 encryption.evidence())

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketKmsEncrypted(Check):
    """SSE-KMS puts a KMS key between the data and anyone who can read the bucket: decrypting needs kms:Decrypt on
    the key too, every use of the key is logged in CloudTrail, and disabling the key cuts off access at once.
    SSE-S3 encrypts with keys S3 manages and grants none of that control."""

    id = "s3_bucket_kms_encrypted"
    service = "s3"
    severity = Severity.MEDIUM
    title = "S3 buckets encrypt new objects with AWS KMS keys by default"
    risk = "Anyone with s3:GetObject reads the data; access cannot be audited or revoked through a key."
    remediation = Remediation(
        text="Set the bucket's default encryption to SSE-KMS (aws:kms) with a customer managed key and a bucket key.",
        cli=S3BucketDefaultEncryptionEnabled.remediation.cli,
        terraform=ENCRYPTION_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
    )
    compliance = (Control("aws-securityhub", "S3.17"),)
    api_calls = (*LIST_BUCKETS, "s3:GetEncryptionConfiguration")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            encryption = bucket_encryption(ctx, bucket)
            if encryption.uses_kms:
                key = encryption.kms_key or "the AWS managed key aws/s3"
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} encrypts new objects with KMS key {key}.",
                                 encryption.evidence())
            elif encryption.enabled:
                yield ctx.failed(bucket.resource,
                                 f"Bucket {bucket.name} encrypts with {encryption.algorithm}, not with a KMS key.",
                                 encryption.evidence())
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has no default encryption.",
                                 encryption.evidence())

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketTlsRequired(Check):
    """S3 accepts plain HTTP unless the bucket policy refuses it. Over HTTP, object contents and request details
    cross the network in clear text, open to interception and tampering. The fix is a policy statement that
    denies every S3 action to everyone when aws:SecureTransport is false."""

    id = "s3_bucket_tls_required"
    service = "s3"
    severity = Severity.MEDIUM
    title = "S3 bucket policies deny requests that do not use TLS"
    risk = "Data sent to or read from the bucket over HTTP can be read or altered in transit."
    remediation = Remediation(
        text="Add a bucket policy statement that denies s3:* to every principal when aws:SecureTransport is false.",
        cli="aws s3api put-bucket-policy --bucket <bucket> --policy '{\"Version\":\"2012-10-17\",\"Statement\":"
            "[{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
            "\"Resource\":[\"arn:aws:s3:::<bucket>\",\"arn:aws:s3:::<bucket>/*\"],"
            "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}'",
        terraform='resource "aws_s3_bucket_policy" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n\n"
                  "  policy = jsonencode({\n"
                  '    Version = "2012-10-17"\n'
                  "    Statement = [{\n"
                  '      Sid       = "DenyInsecureTransport"\n'
                  '      Effect    = "Deny"\n'
                  '      Principal = "*"\n'
                  '      Action    = "s3:*"\n'
                  '      Resource  = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]\n'
                  "      Condition = {\n"
                  '        Bool = { "aws:SecureTransport" = "false" }\n'
                  "      }\n"
                  "    }]\n"
                  "  })\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
    )
    compliance = (Control("aws-fsbp", "S3.5"), *CIS_DENY_HTTP)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketPolicy")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            policy = bucket_policy(ctx, bucket)
            if policy.text is None:
                yield ctx.failed(bucket.resource,
                                 f"Bucket {bucket.name} has no bucket policy, so it accepts requests over HTTP.",
                                 {"policy": None})
                return
            try:
                parsed = policy.parsed()
            except PolicyError as exc:
                yield ctx.error(bucket.resource,
                                f"Could not evaluate {bucket.name}: its bucket policy is not valid JSON.",
                                {"error": str(exc)})
                return
            verdict = evaluate_transport(parsed, bucket.arn)
            if verdict.enforced:
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} denies every request made without TLS.",
                                 {"statement": verdict.statement})
            elif verdict.partial:
                yield ctx.failed(bucket.resource,
                                 f"Bucket {bucket.name} denies only some requests made without TLS.",
                                 {"partial_denials": list(verdict.partial)})
            else:
                yield ctx.failed(bucket.resource,
                                 f"Bucket {bucket.name} has a bucket policy that does not deny requests without TLS.",
                                 {"statements": len(parsed.statements)})

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketVersioningEnabled(Check):
    """Versioning keeps every version of every object, so an overwrite or a delete, accidental, buggy or
    malicious (ransomware rewriting objects), can be undone. Suspended versioning keeps old versions but stops
    protecting new writes."""

    id = "s3_bucket_versioning_enabled"
    service = "s3"
    severity = Severity.LOW
    title = "S3 buckets have versioning enabled"
    risk = "Overwritten or deleted objects cannot be recovered."
    remediation = Remediation(
        text="Enable versioning on the bucket, and add a lifecycle rule that expires noncurrent versions.",
        cli="aws s3api put-bucket-versioning --bucket <bucket> --versioning-configuration Status=Enabled",
        terraform='resource "aws_s3_bucket_versioning" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n"
                  "  versioning_configuration {\n"
                  '    status = "Enabled"\n'
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/manage-versioning-examples.html",
    )
    compliance = (Control("aws-securityhub", "S3.14"),)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketVersioning")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            versioning = bucket_versioning(ctx, bucket)
            evidence = {"status": versioning.status, "mfa_delete": versioning.mfa_delete}
            if versioning.enabled:
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} has versioning enabled.", evidence)
            elif versioning.status == "Suspended":
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has versioning suspended.", evidence)
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has never had versioning enabled.",
                                 evidence)

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketLifecycleConfigured(Check):
    """Lifecycle rules move ageing objects to cheaper storage classes and expire what is no longer needed,
    including the noncurrent versions versioning keeps. Without them, storage costs only grow and old data is
    kept long after it should have been deleted."""

    id = "s3_bucket_lifecycle_configured"
    service = "s3"
    severity = Severity.LOW
    title = "S3 buckets have an enabled lifecycle rule"
    risk = "Objects and old versions are kept, and paid for, forever."
    remediation = Remediation(
        text="Add a lifecycle configuration with at least one enabled rule (transitions, expiration, and "
             "expiration of noncurrent versions).",
        cli="aws s3api put-bucket-lifecycle-configuration --bucket <bucket> --lifecycle-configuration "
            "'{\"Rules\":[{\"ID\":\"archive\",\"Status\":\"Enabled\",\"Filter\":{},"
            "\"Transitions\":[{\"Days\":90,\"StorageClass\":\"STANDARD_IA\"}],"
            "\"NoncurrentVersionExpiration\":{\"NoncurrentDays\":30}}]}'",
        terraform='resource "aws_s3_bucket_lifecycle_configuration" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n\n"
                  "  rule {\n"
                  '    id     = "archive"\n'
                  '    status = "Enabled"\n\n'
                  "    transition {\n"
                  "      days          = 90\n"
                  '      storage_class = "STANDARD_IA"\n'
                  "    }\n\n"
                  "    noncurrent_version_expiration {\n"
                  "      noncurrent_days = 30\n"
                  "    }\n"
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html",
    )
    compliance = (Control("aws-fsbp", "S3.13"),)
    api_calls = (*LIST_BUCKETS, "s3:GetLifecycleConfiguration")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            lifecycle = bucket_lifecycle(ctx, bucket)
            evidence = {"rules": list(lifecycle.rule_ids), "enabled_rules": list(lifecycle.enabled_rule_ids)}
            if lifecycle.enabled_rule_ids:
                yield ctx.passed(bucket.resource,
                                 f"Bucket {bucket.name} has {len(lifecycle.enabled_rule_ids)} enabled lifecycle "
                                 f"rule(s).", evidence)
            elif lifecycle.rule_ids:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has lifecycle rules, but none is enabled.",
                                 evidence)
            else:
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} has no lifecycle configuration.", evidence)

        yield from each_bucket(ctx, evaluate_bucket)
