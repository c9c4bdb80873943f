"""S3: public access blocks, encryption, TLS-only policies, versioning, logging, exposure, residency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import (
    as_list,
    principal_is_public,
    public_grants,
    public_statements,
    statements,
)
from auditor.providers.aws.checks.residency import REMEDIATION_HINT, judge_residency
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import (
    AwsCheck,
    CheckInput,
    Outcome,
    Scope,
    info,
    skipped,
    verdict,
)

BUCKET = "AWS::S3::Bucket"
PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
SENSITIVE_TAG_KEYS = (
    "dataclassification",
    "data-classification",
    "data_classification",
    "classification",
    "sensitivity",
)
SENSITIVE_VALUES = ("confidential", "restricted", "personal", "pii", "sensitive")


def region_of(bucket: dict[str, Any]) -> str | None:
    r = bucket.get("region")
    return r if isinstance(r, str) else None


# The shape each bucket part has when it was read (collect.collect_s3); anything else is an answer
# no check can judge: ERROR `MalformedAnswer` for that bucket, never a verdict on it.
BUCKET_PART_KINDS: dict[str, type | tuple[type, ...]] = {
    "region": str,
    "policy": dict,
    "encryption": list,
    "public_access_block": dict,
    "acl": list,
    "versioning": str,
    "mfa_delete": str,
    "logging": dict,
    "tags": dict,
    "ownership": list,
    "replication": list,
    "notifications": dict,
    "lifecycle": list,
    "object_lock": dict,
}


def buckets(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("s3")["buckets"])


def bucket_check(
    fields: tuple[str, ...], judge: Callable[[CheckInput, dict[str, Any]], Outcome]
) -> Callable[[CheckInput], Iterator[Outcome]]:
    """Per bucket (the shared `per_resource` rule): ERROR naming the field and the AWS error code
    when a part it needs could not be read, or `MalformedAnswer` when it is not of its shape."""
    return per_resource(
        buckets,
        lambda b: str(b["arn"]),
        BUCKET,
        lambda b: f"bucket {b['name']}",
        fields,
        judge,
        {f: BUCKET_PART_KINDS[f] for f in fields if f in BUCKET_PART_KINDS},
        region=region_of,
    )


def check_account_pab(inp: CheckInput) -> Iterator[Outcome]:
    pab = inp.data("s3_account")["public_access_block"] or {}
    settings = {f: bool(pab.get(f)) for f in PAB_FIELDS}
    off = [f for f, v in settings.items() if not v]
    msg = (
        "account-level S3 public access block has all four settings on"
        if not off
        else f"account-level S3 public access block has {', '.join(off)} off (expected: all four on)"
    )
    yield verdict(not off, f"arn:aws:s3:::account/{inp.account}", "AWS::S3::AccountPublicAccessBlock", msg, settings)


def judge_bucket_pab(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    account = inp.data("s3_account")["public_access_block"] or {}
    bucket = b["public_access_block"] or {}
    effective = {f: bool(bucket.get(f)) or bool(account.get(f)) for f in PAB_FIELDS}
    off = [f for f, v in effective.items() if not v]
    ev = {
        "bucket": {f: bool(bucket.get(f)) for f in PAB_FIELDS},
        "account": {f: bool(account.get(f)) for f in PAB_FIELDS},
    }
    msg = (
        f"bucket {b['name']} is covered by a public access block (bucket or account level)"
        if not off
        else f"bucket {b['name']} has {', '.join(off)} off at bucket and account level (expected: all on)"
    )
    return verdict(not off, b["arn"], BUCKET, msg, ev, region_of(b))


def sse_algorithms(b: dict[str, Any]) -> list[str]:
    return [
        str(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm"))
        for r in b["encryption"] or []
        if r.get("ApplyServerSideEncryptionByDefault")
    ]


def judge_encryption(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    algos = sse_algorithms(b)
    msg = (
        f"bucket {b['name']} encrypts by default with {', '.join(algos)}"
        if algos
        else f"bucket {b['name']} has no default encryption (expected: SSE-S3 or SSE-KMS)"
    )
    return verdict(bool(algos), b["arn"], BUCKET, msg, {"sse_algorithms": algos}, region_of(b))


def classification(b: dict[str, Any]) -> str | None:
    for k, v in (b.get("tags") or {}).items():
        if k.lower() in SENSITIVE_TAG_KEYS:
            return str(v)
    return None


def judge_kms(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    label = classification(b)
    algos = sse_algorithms(b)
    ev = {"classification": label, "sse_algorithms": algos}
    if label is None or label.lower() not in SENSITIVE_VALUES:
        return skipped(
            b["arn"], BUCKET, f"bucket {b['name']} is not tagged as holding sensitive data", ev, region_of(b)
        )
    kms = any(a.startswith("aws:kms") for a in algos)
    msg = (
        f"bucket {b['name']} ({label}) encrypts with KMS"
        if kms
        else f"bucket {b['name']} is tagged {label} but encrypts with {algos or 'nothing'} (expected: aws:kms)"
    )
    return verdict(kms, b["arn"], BUCKET, msg, ev, region_of(b))


def denies_insecure_transport(policy: Any) -> bool:
    for s in statements(policy):
        if s.get("Effect") != "Deny" or not principal_is_public(s.get("Principal")):
            continue
        actions = as_list(s.get("Action"))
        if not any(a in ("s3:*", "*") for a in actions):
            continue
        cond = (s.get("Condition") or {}).get("Bool") or {}
        if str(cond.get("aws:SecureTransport", "")).lower() == "false":
            return True
    return False


def judge_tls(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    ok = b["policy"] is not None and denies_insecure_transport(b["policy"])
    msg = (
        f"bucket {b['name']} policy denies requests without TLS"
        if ok
        else f"bucket {b['name']} has no policy denying aws:SecureTransport=false (expected: such a Deny)"
    )
    return verdict(ok, b["arn"], BUCKET, msg, {"has_policy": b["policy"] is not None, "tls_only": ok}, region_of(b))


def judge_versioning(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    status = b["versioning"]
    ok = status == "Enabled"
    msg = f"bucket {b['name']} versioning is {status}" + ("" if ok else " (expected: Enabled)")
    return verdict(ok, b["arn"], BUCKET, msg, {"versioning": status}, region_of(b))


def judge_logging(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    target = b["logging"]
    ok = bool(target)
    ev = {"target_bucket": target.get("TargetBucket") if target else None}
    msg = (
        f"bucket {b['name']} logs access to {ev['target_bucket']}"
        if ok
        else f"bucket {b['name']} has server access logging off (expected: on)"
    )
    return verdict(ok, b["arn"], BUCKET, msg, ev, region_of(b))


def judge_public_acl(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    public = public_grants(b["acl"])
    msg = (
        f"bucket {b['name']} ACL grants nothing to AllUsers or AuthenticatedUsers"
        if not public
        else f"bucket {b['name']} ACL grants {', '.join(public)} (expected: no public grants)"
    )
    return verdict(not public, b["arn"], BUCKET, msg, {"public_grants": public}, region_of(b))


def judge_public_policy(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    public = public_statements(b["policy"]) if b["policy"] is not None else []
    msg = (
        f"bucket {b['name']} policy allows no public access"
        if not public
        else f"bucket {b['name']} policy allows anyone ({', '.join(public)}) (expected: no public Allow)"
    )
    return verdict(not public, b["arn"], BUCKET, msg, {"public_statements": public}, region_of(b))


def judge_region(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    return judge_residency(inp, b["region"], b["arn"], BUCKET, f"bucket {b['name']}")


def _bucket(
    name: str,
    title: str,
    sev: Severity,
    risk: str,
    fix: str,
    fields: tuple[str, ...],
    judge: Callable[[CheckInput, dict[str, Any]], Outcome],
    needs: tuple[str, ...] = ("s3",),
    description: str = "",
) -> AwsCheck:
    return AwsCheck(
        info(f"aws.s3.{name}", title, sev, BUCKET, risk, fix, description),
        needs,
        Scope.ACCOUNT,
        bucket_check(fields, judge),
        parts=tuple(f"s3.{f}" for f in fields),
    )


CHECKS: list[AwsCheck] = [
    AwsCheck(
        info(
            "aws.s3.account_public_access_block",
            "Account-level S3 public access block is fully on",
            Severity.HIGH,
            "AWS::S3::AccountPublicAccessBlock",
            "Without the account-wide block, one careless bucket policy or ACL publishes data.",
            "Turn on all four S3 Block Public Access settings for the account.",
        ),
        ("s3_account",),
        Scope.ACCOUNT,
        check_account_pab,
    ),
    _bucket(
        "bucket_public_access_block",
        "Buckets are covered by a public access block",
        Severity.HIGH,
        "A bucket without a public access block can be made public by a policy or ACL change.",
        "Enable all four Block Public Access settings on the bucket (or the account).",
        ("public_access_block",),
        judge_bucket_pab,
        needs=("s3", "s3_account"),
    ),
    _bucket(
        "bucket_default_encryption",
        "Buckets encrypt objects at rest by default",
        Severity.MEDIUM,
        "Objects written without encryption are readable from the underlying storage and backups.",
        "Configure default encryption (SSE-S3 or SSE-KMS) on the bucket.",
        ("encryption",),
        judge_encryption,
    ),
    _bucket(
        "bucket_kms_encryption",
        "Buckets tagged as sensitive encrypt with KMS keys",
        Severity.MEDIUM,
        "SSE-S3 cannot restrict who may decrypt; KMS keys add an access policy and an audit trail per use.",
        "Set default encryption to aws:kms with a customer managed key for buckets holding sensitive data.",
        ("encryption", "tags"),
        judge_kms,
        description="Buckets tagged data-classification (or classification, sensitivity) with confidential, "
        "restricted, sensitive, personal or pii must encrypt by default with aws:kms; other buckets are "
        "SKIPPED by this check (aws.s3.bucket_default_encryption judges them).",
    ),
    _bucket(
        "bucket_tls_only",
        "Bucket policies deny requests without TLS",
        Severity.MEDIUM,
        "Requests over plain HTTP expose data and credentials in transit.",
        "Add a Deny statement for s3:* when aws:SecureTransport is false.",
        ("policy",),
        judge_tls,
    ),
    _bucket(
        "bucket_versioning",
        "Buckets have versioning enabled",
        Severity.MEDIUM,
        "Without versioning an overwrite or delete (or ransomware) destroys the only copy.",
        "Enable versioning, with lifecycle rules to expire old versions.",
        ("versioning",),
        judge_versioning,
    ),
    _bucket(
        "bucket_access_logging",
        "Buckets log server access",
        Severity.LOW,
        "Without access logs nobody can tell who read or changed the data.",
        "Enable server access logging to a dedicated log bucket.",
        ("logging",),
        judge_logging,
    ),
    _bucket(
        "bucket_no_public_acl",
        "Bucket ACLs grant nothing to everyone",
        Severity.CRITICAL,
        "An ACL grant to AllUsers or AuthenticatedUsers publishes the bucket to the internet.",
        "Remove public grants from the bucket ACL and disable ACLs (BucketOwnerEnforced).",
        ("acl",),
        judge_public_acl,
    ),
    _bucket(
        "bucket_no_public_policy",
        "Bucket policies allow no public access",
        Severity.CRITICAL,
        'A policy that allows Principal "*" without conditions publishes the bucket.',
        'Remove or restrict Allow statements for Principal "*".',
        ("policy",),
        judge_public_policy,
    ),
    _bucket(
        "bucket_region_allowed",
        "Buckets are in allowed regions",
        Severity.HIGH,
        "Personal data stored outside the allowed regions may be an unlawful transfer (GDPR Art. 44).",
        f"Move the data to a bucket in an allowed region and delete the copy elsewhere, {REMEDIATION_HINT}.",
        ("region",),
        judge_region,
    ),
]
