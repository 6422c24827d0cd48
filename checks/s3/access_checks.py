"""S3 bucket checks on who can reach the data: public read and write access (through the bucket policy and the
ACL, after Block Public Access), access granted to other accounts, and ACLs used to grant access.

Bucket policies are read with the shared policy analyser (`auditor.policy`); these checks decide only which of
the actions it reports matter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from auditor import Check, CheckContext, Control, Finding, Remediation, Scope, Severity
from auditor.policy import Access, PolicyError

from .checks import LIST_BUCKETS, PUBLIC_ACCESS_BLOCK_TERRAFORM
from .policy import matching_grants
from .resources import (
    Bucket,
    account_public_access_block,
    bucket_policy,
    bucket_public_access_block,
    each_bucket,
)
from .settings_resources import (
    ACL_READ_PERMISSIONS,
    ACL_WRITE_PERMISSIONS,
    Grant,
    bucket_acl,
    bucket_object_ownership,
)

PUBLIC_ACCESS_READS = (*LIST_BUCKETS, "s3:GetBucketPublicAccessBlock", "s3:GetAccountPublicAccessBlock",
                       "s3:GetBucketAcl", "s3:GetBucketPolicy")
POLICY_TERRAFORM = """\
resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReadForAppRole"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.app.arn }  # a named principal, never "*"
      Action    = ["s3:GetObject"]
      Resource  = "${aws_s3_bucket.data.arn}/*"
    }]
  })
}"""


class PolicyUnreadable(Exception):
    """The bucket policy is not a JSON policy document."""


def policy_access(ctx: CheckContext, bucket: Bucket) -> Access | None:
    """Who outside the account the bucket policy lets in; None when the bucket has no policy."""
    policy = bucket_policy(ctx, bucket)
    if policy.text is None:
        return None
    try:
        return policy.parsed().access(ctx.account)
    except PolicyError as exc:
        raise PolicyUnreadable(str(exc)) from None


@dataclass(frozen=True)
class Exposure:
    """What makes a bucket public for one kind of access, after the effective Block Public Access settings."""

    acl_grants: tuple[Grant, ...]  # public grants in the bucket ACL (empty when IgnorePublicAcls is on)
    policy_actions: tuple[str, ...]  # actions the policy allows to anyone (empty when RestrictPublicBuckets is on)
    ignore_public_acls: bool
    restrict_public_buckets: bool

    @property
    def public(self) -> bool:
        return bool(self.acl_grants or self.policy_actions)

    def evidence(self) -> dict[str, Any]:
        return {
            "public_acl_grants": [g.evidence() for g in self.acl_grants],
            "public_policy_actions": list(self.policy_actions),
            "ignore_public_acls": self.ignore_public_acls,
            "restrict_public_buckets": self.restrict_public_buckets,
        }

    def sources(self) -> str:
        parts = []
        if self.acl_grants:
            parts.append("its ACL (" + ", ".join(f"{g.grantee} {g.permission}" for g in self.acl_grants) + ")")
        if self.policy_actions:
            parts.append("its bucket policy (" + ", ".join(self.policy_actions) + ")")
        return " and ".join(parts)


def public_exposure(ctx: CheckContext, bucket: Bucket, acl_permissions: frozenset[str],
                    actions: list[str]) -> Exposure:
    """Public grants S3 would honour: IgnorePublicAcls voids public ACL grants, RestrictPublicBuckets voids
    public policy grants (BlockPublicAcls and BlockPublicPolicy only refuse new ones)."""
    effective = bucket_public_access_block(ctx, bucket).combined(account_public_access_block(ctx))
    acl_grants: tuple[Grant, ...] = ()
    if not effective.ignore_public_acls:
        acl_grants = bucket_acl(ctx, bucket).public(acl_permissions)
    policy_actions: tuple[str, ...] = ()
    if not effective.restrict_public_buckets:
        access = policy_access(ctx, bucket)
        if access is not None:
            policy_actions = tuple(matching_grants(access.public_actions, actions))
    return Exposure(acl_grants, policy_actions, effective.ignore_public_acls, effective.restrict_public_buckets)


def _evaluate_public(ctx: CheckContext, bucket: Bucket, kind: str, acl_permissions: frozenset[str],
                     actions: list[str]) -> Iterator[Finding]:
    try:
        exposure = public_exposure(ctx, bucket, acl_permissions, actions)
    except PolicyUnreadable as exc:
        yield ctx.error(bucket.resource, f"Could not evaluate {bucket.name}: its bucket policy is not valid JSON.",
                        {"error": str(exc)})
        return
    if exposure.public:
        yield ctx.failed(bucket.resource, f"Bucket {bucket.name} allows public {kind} access through "
                                          f"{exposure.sources()}.", exposure.evidence())
    elif exposure.ignore_public_acls and exposure.restrict_public_buckets:
        yield ctx.passed(bucket.resource, f"Bucket {bucket.name} allows no public {kind} access: Block Public "
                                          f"Access ignores public ACLs and restricts public policies.",
                         exposure.evidence())
    else:
        yield ctx.passed(bucket.resource, f"Bucket {bucket.name} grants no public {kind} access in its ACL or "
                                          f"bucket policy.", exposure.evidence())


class S3BucketPublicReadProhibited(Check):
    """A bucket whose policy lets anyone read objects, or whose ACL grants read to AllUsers or AuthenticatedUsers
    (anyone with any AWS account), publishes its contents to the internet. Block Public Access voids such grants:
    IgnorePublicAcls for ACLs, RestrictPublicBuckets for policies. A grant limited by a condition on a VPC
    endpoint, a source account, an organisation or an IP range is not public; aws:SecureTransport limits nothing."""

    id = "s3_bucket_public_read_prohibited"
    service = "s3"
    severity = Severity.CRITICAL
    title = "S3 buckets do not allow public read access"
    risk = "Anyone on the internet can list or download the bucket's objects."
    remediation = Remediation(
        text="Remove the public read grants from the bucket policy and ACL, and turn on Block Public Access for "
             "the bucket (or the account).",
        cli="aws s3api put-public-access-block --bucket <bucket> --public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        terraform=PUBLIC_ACCESS_BLOCK_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
    )
    compliance = (Control("aws-fsbp", "S3.2"),)
    api_calls = PUBLIC_ACCESS_READS
    scope = Scope.GLOBAL
    parameters = ("s3.public_read_actions",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        actions = [str(a) for a in ctx.param("s3.public_read_actions")]
        yield from each_bucket(
            ctx, lambda bucket: _evaluate_public(ctx, bucket, "read", ACL_READ_PERMISSIONS, actions))


class S3BucketPublicWriteProhibited(Check):
    """A bucket that anyone can write to is used to host malware and illegal content at the owner's expense, to
    overwrite or delete the owner's data, and (through a writable ACL or policy) to take the bucket over. Public
    write comes from a bucket policy allowing writes to anyone or an ACL granting WRITE to AllUsers or
    AuthenticatedUsers; Block Public Access voids both."""

    id = "s3_bucket_public_write_prohibited"
    service = "s3"
    severity = Severity.CRITICAL
    title = "S3 buckets do not allow public write access"
    risk = "Anyone on the internet can upload, overwrite or delete objects, or change who has access."
    remediation = Remediation(
        text="Remove the public write grants from the bucket policy and ACL, and turn on Block Public Access for "
             "the bucket (or the account).",
        cli=S3BucketPublicReadProhibited.remediation.cli,
        terraform=PUBLIC_ACCESS_BLOCK_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
    )
    compliance = (Control("aws-fsbp", "S3.3"),)
    api_calls = PUBLIC_ACCESS_READS
    scope = Scope.GLOBAL
    parameters = ("s3.public_write_actions",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        actions = [str(a) for a in ctx.param("s3.public_write_actions")]
        yield from each_bucket(
            ctx, lambda bucket: _evaluate_public(ctx, bucket, "write", ACL_WRITE_PERMISSIONS, actions))


class S3BucketCrossAccountAccessRestricted(Check):
    """A bucket policy that lets principals in other accounts change the bucket's policy, ACLs or encryption hands
    control of the bucket's security to those accounts: they can open it to the world, lock the owner out, or
    re-encrypt its data with their own key. Reading or writing objects across accounts can be legitimate; these
    administrative actions should stay with the owner."""

    id = "s3_bucket_cross_account_access_restricted"
    service = "s3"
    severity = Severity.HIGH
    title = "S3 bucket policies do not let other accounts administer the bucket"
    risk = "Another account can change the bucket's policy, ACLs or encryption and take control of its data."
    remediation = Remediation(
        text="Remove the listed actions from the statements that allow other accounts (or anyone), or scope them "
             "to principals of the owner account.",
        cli="aws s3api put-bucket-policy --bucket <bucket> --policy file://policy-without-cross-account-admin.json",
        terraform=POLICY_TERRAFORM,
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html",
    )
    compliance = (Control("aws-fsbp", "S3.6"),)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketPolicy")
    scope = Scope.GLOBAL
    parameters = ("s3.cross_account_denied_actions",)

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        denied = [str(a) for a in ctx.param("s3.cross_account_denied_actions")]

        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            try:
                access = policy_access(ctx, bucket)
            except PolicyUnreadable as exc:
                yield ctx.error(bucket.resource,
                                f"Could not evaluate {bucket.name}: its bucket policy is not valid JSON.",
                                {"error": str(exc)})
                return
            if access is None:
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} has no bucket policy granting other "
                                                  f"accounts anything.", {"policy": None})
                return
            granted: dict[str, list[str]] = {}
            public = matching_grants(access.public_actions, denied)
            if public:
                granted["*"] = public
            for account, actions in sorted(access.cross_account.items()):
                matched = matching_grants(actions, denied)
                if matched:
                    granted[account] = matched
            evidence = {"other_accounts": sorted(access.cross_account), "denied_actions_granted": granted}
            if granted:
                who = ", ".join("anyone" if a == "*" else f"account {a}" for a in granted)
                yield ctx.failed(bucket.resource, f"Bucket {bucket.name} lets {who} administer it through its "
                                                  f"bucket policy.", evidence)
            else:
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} lets no other account administer it.",
                                 evidence)

        yield from each_bucket(ctx, evaluate_bucket)


class S3BucketAclGrantsOwnerOnly(Check):
    """Access to S3 is best managed with policies alone: ACLs are a legacy mechanism, hard to audit (every object
    has its own), and grant access outside IAM. With Object Ownership set to BucketOwnerEnforced, ACLs are
    disabled and the bucket owner owns every object. A bucket passes when ACLs are disabled, or when its ACL
    grants nothing to anyone but the owner."""

    id = "s3_bucket_acl_grants_owner_only"
    service = "s3"
    severity = Severity.MEDIUM
    title = "S3 bucket ACLs grant access to no one but the bucket owner"
    risk = "Access granted through ACLs escapes policy reviews and can expose the bucket to other accounts."
    remediation = Remediation(
        text="Move any access the ACL grants into the bucket policy, then disable ACLs by setting Object "
             "Ownership to BucketOwnerEnforced.",
        cli="aws s3api put-bucket-ownership-controls --bucket <bucket> --ownership-controls "
            "'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'",
        terraform='resource "aws_s3_bucket_ownership_controls" "data" {\n'
                  "  bucket = aws_s3_bucket.data.id\n\n"
                  "  rule {\n"
                  '    object_ownership = "BucketOwnerEnforced"\n'
                  "  }\n"
                  "}",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html",
    )
    compliance = (Control("aws-fsbp", "S3.12"),)
    api_calls = (*LIST_BUCKETS, "s3:GetBucketOwnershipControls", "s3:GetBucketAcl")
    scope = Scope.GLOBAL

    def evaluate(self, ctx: CheckContext) -> Iterator[Finding]:
        def evaluate_bucket(bucket: Bucket) -> Iterator[Finding]:
            ownership = bucket_object_ownership(ctx, bucket)
            if ownership == "BucketOwnerEnforced":
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} has ACLs disabled (BucketOwnerEnforced).",
                                 {"object_ownership": ownership, "acl_grants": []})
                return
            others = bucket_acl(ctx, bucket).others
            evidence = {"object_ownership": ownership, "acl_grants": [g.evidence() for g in others]}
            if others:
                yield ctx.failed(bucket.resource,
                                 f"Bucket {bucket.name} grants access through its ACL to "
                                 f"{', '.join(sorted({g.grantee for g in others}))}.", evidence)
            else:
                yield ctx.passed(bucket.resource, f"Bucket {bucket.name} has ACLs enabled ({ownership}), but its "
                                                  f"ACL grants access only to the owner.", evidence)

        yield from each_bucket(ctx, evaluate_bucket)
