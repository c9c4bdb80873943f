"""Storage (issue 15): S3 bucket settings beyond access and encryption, EFS, AWS Backup vaults and plans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.resources import customer_managed, part, per_resource, public_statements
from auditor.providers.aws.checks.s3 import BUCKET, bucket_check, region_of
from auditor.providers.aws.model import AwsCheck, CheckInput, Outcome, Scope, info, verdict

EFS = "AWS::EFS::FileSystem"
VAULT = "AWS::Backup::BackupVault"
PLAN = "AWS::Backup::BackupPlan"


# --- S3 ---------------------------------------------------------------------------


def judge_acls_disabled(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    rules = b["ownership"] or []
    ok = "BucketOwnerEnforced" in rules
    msg = (
        f"bucket {b['name']} has ACLs disabled (BucketOwnerEnforced)"
        if ok
        else f"bucket {b['name']} object ownership is {', '.join(rules) or 'not set'}, so ACLs are in effect "
        "(expected: BucketOwnerEnforced)"
    )
    return verdict(ok, b["arn"], BUCKET, msg, {"object_ownership": rules}, region_of(b))


def bucket_regions(inp: CheckInput) -> dict[str, str | None]:
    return {b["name"]: region_of(b) for b in inp.data("s3")["buckets"]}


def judge_replication(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    here = region_of(b)
    enabled = [r for r in b["replication"] or [] if r.get("Status") == "Enabled"]
    regions = bucket_regions(inp) if enabled else {}  # only a bucket that replicates looks the others up
    targets: list[dict[str, Any]] = []
    for r in enabled:
        dest = str((r.get("Destination") or {}).get("Bucket") or "")
        name = dest.rsplit(":", 1)[-1]
        targets.append({"bucket": name, "region": regions.get(name)})
    # A destination outside this account's bucket list has an unknown region: counted as replicated away.
    cross = [t for t in targets if t["region"] is None or t["region"] != here]
    ev = {"region": here, "enabled_rules": len(enabled), "destinations": targets}
    if cross:
        msg = f"bucket {b['name']} replicates to {', '.join(t['bucket'] for t in cross)}"
    elif targets:
        msg = f"bucket {b['name']} replicates only within {here} (expected: a replica in another region)"
    else:
        msg = f"bucket {b['name']} has no enabled replication rule (expected: cross-region replication)"
    return verdict(bool(cross), b["arn"], BUCKET, msg, ev, here)


def judge_notifications(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    kinds = b["notifications"] or {}
    ok = bool(kinds)
    msg = (
        f"bucket {b['name']} sends event notifications ({', '.join(sorted(kinds))})"
        if ok
        else f"bucket {b['name']} has no event notifications (expected: events sent to SNS, SQS, Lambda or EventBridge)"
    )
    return verdict(ok, b["arn"], BUCKET, msg, {"notification_targets": kinds}, region_of(b))


def judge_lifecycle(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    rules = [r for r in b["lifecycle"] or [] if r.get("Status") == "Enabled"]
    ok = bool(rules)
    msg = (
        f"bucket {b['name']} has {len(rules)} enabled lifecycle rule(s)"
        if ok
        else f"bucket {b['name']} has no enabled lifecycle rule (expected: expiry or transition rules)"
    )
    ev = {"enabled_rules": [str(r.get("ID") or "") for r in rules]}
    return verdict(ok, b["arn"], BUCKET, msg, ev, region_of(b))


def judge_mfa_delete(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    state = b["mfa_delete"]
    ok = state == "Enabled"
    msg = f"bucket {b['name']} MFA delete is {state}" + ("" if ok else " (expected: Enabled)")
    return verdict(ok, b["arn"], BUCKET, msg, {"MFADelete": state, "versioning": b.get("versioning")}, region_of(b))


def judge_object_lock(inp: CheckInput, b: dict[str, Any]) -> Outcome:
    cfg = b["object_lock"] or {}
    state = cfg.get("ObjectLockEnabled") or "Disabled"
    ok = state == "Enabled"
    retention = (cfg.get("Rule") or {}).get("DefaultRetention")
    msg = f"bucket {b['name']} object lock is {state}" + ("" if ok else " (expected: Enabled)")
    return verdict(
        ok, b["arn"], BUCKET, msg, {"ObjectLockEnabled": state, "default_retention": retention}, region_of(b)
    )


def _bucket(
    name: str,
    title: str,
    sev: Severity,
    risk: str,
    fix: str,
    fields: tuple[str, ...],
    judge: Callable[[CheckInput, dict[str, Any]], Outcome],
) -> AwsCheck:
    return AwsCheck(
        info(f"aws.s3.{name}", title, sev, BUCKET, risk, fix),
        ("s3",),
        Scope.ACCOUNT,
        bucket_check(fields, judge),
        parts=tuple(f"s3.{f}" for f in fields),
    )


# --- EFS --------------------------------------------------------------------------


# The shape of each file system part when it was read (collect.collect_efs).
EFS_PART_KINDS: dict[str, type | tuple[type, ...]] = {"policy": dict, "backup_policy": str}


def file_systems(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("efs")["file_systems"])


def efs_arn(fs: dict[str, Any]) -> str:
    return str(fs.get("FileSystemArn") or fs["FileSystemId"])


def efs_label(fs: dict[str, Any]) -> str:
    return f"file system {fs['FileSystemId']}" + (f" ({fs['Name']})" if fs.get("Name") else "")


def judge_efs_encrypted(inp: CheckInput, fs: dict[str, Any]) -> Outcome:
    ok = fs.get("Encrypted") is True
    msg = f"{efs_label(fs)} is " + ("encrypted at rest" if ok else "not encrypted at rest (expected: Encrypted)")
    return verdict(
        ok, efs_arn(fs), EFS, msg, {"Encrypted": bool(fs.get("Encrypted")), "KmsKeyId": fs.get("KmsKeyId")}, inp.region
    )


def judge_efs_backup(inp: CheckInput, fs: dict[str, Any]) -> Outcome:
    status = fs["backup_policy"] or "DISABLED"
    ok = status == "ENABLED"
    msg = f"{efs_label(fs)} automatic backup policy is {status}" + ("" if ok else " (expected: ENABLED)")
    return verdict(ok, efs_arn(fs), EFS, msg, {"backup_policy": status}, inp.region)


def judge_efs_policy(inp: CheckInput, fs: dict[str, Any]) -> Outcome:
    policy = fs["policy"]
    public = public_statements(policy)
    if policy is None:
        msg = (
            f"{efs_label(fs)} has no file system policy, so any client that reaches a mount target may mount it "
            "(expected: a policy naming the allowed principals)"
        )
        return verdict(False, efs_arn(fs), EFS, msg, {"has_policy": False, "public_statements": []}, inp.region)
    msg = (
        f"{efs_label(fs)} policy allows no unrestricted public access"
        if not public
        else f"{efs_label(fs)} policy allows anyone ({', '.join(public)}) (expected: named principals only)"
    )
    return verdict(not public, efs_arn(fs), EFS, msg, {"has_policy": True, "public_statements": public}, inp.region)


def _efs(name: str, title: str, sev: Severity, risk: str, fix: str, fields: tuple[str, ...], judge: Any) -> AwsCheck:
    return AwsCheck(
        info(f"aws.efs.{name}", title, sev, EFS, risk, fix),
        ("efs",),
        Scope.REGION,
        per_resource(file_systems, efs_arn, EFS, efs_label, fields, judge, {f: EFS_PART_KINDS[f] for f in fields}),
    )


# --- AWS Backup -------------------------------------------------------------------


def vaults(inp: CheckInput) -> list[dict[str, Any]]:
    return list(part(inp, "backup", "vaults"))


def vault_arn(v: dict[str, Any]) -> str:
    return str(v.get("BackupVaultArn") or v["BackupVaultName"])


def vault_label(v: dict[str, Any]) -> str:
    return f"backup vault {v['BackupVaultName']}"


def judge_vault_cmk(inp: CheckInput, v: dict[str, Any]) -> Outcome:
    key = v.get("EncryptionKeyArn")
    cmk = customer_managed(inp, key)
    ev = {"EncryptionKeyArn": key, "customer_managed": cmk}
    if cmk:
        msg = f"{vault_label(v)} encrypts with customer managed key {key}"
    elif key:
        msg = f"{vault_label(v)} encrypts with AWS managed key {key} (expected: a customer managed KMS key)"
    else:
        msg = f"{vault_label(v)} reports no encryption key (expected: a customer managed KMS key)"
    return verdict(bool(cmk), vault_arn(v), VAULT, msg, ev, inp.region)


def judge_vault_locked(inp: CheckInput, v: dict[str, Any]) -> Outcome:
    locked = v.get("Locked") is True
    ev = {
        "Locked": locked,
        "MinRetentionDays": v.get("MinRetentionDays"),
        "MaxRetentionDays": v.get("MaxRetentionDays"),
    }
    msg = (
        f"{vault_label(v)} has a vault lock (recovery points kept at least {v.get('MinRetentionDays')} days)"
        if locked
        else f"{vault_label(v)} has no vault lock (expected: a lock, so recovery points cannot be deleted early)"
    )
    return verdict(locked, vault_arn(v), VAULT, msg, ev, inp.region)


def judge_vault_policy(inp: CheckInput, v: dict[str, Any]) -> Outcome:
    public = public_statements(v["policy"])
    msg = (
        f"{vault_label(v)} access policy allows no unrestricted public access"
        if not public
        else f"{vault_label(v)} access policy allows anyone ({', '.join(public)}) (expected: named principals only)"
    )
    ev = {"has_policy": v["policy"] is not None, "public_statements": public}
    return verdict(not public, vault_arn(v), VAULT, msg, ev, inp.region)


def plan_details(inp: CheckInput) -> list[dict[str, Any]]:
    return list(part(inp, "backup", "plan_details"))


def plan_arn(p: dict[str, Any]) -> str:
    return str(p.get("arn") or p["id"])


def plan_label(p: dict[str, Any]) -> str:
    return f"backup plan {p.get('name') or p['id']}"


def judge_plan_retention(inp: CheckInput, p: dict[str, Any]) -> Outcome:
    rules = p["rules"] or []
    kept = {str(r.get("RuleName")): (r.get("Lifecycle") or {}).get("DeleteAfterDays") for r in rules}
    unbounded = sorted(name for name, days in kept.items() if not days)
    ok = bool(rules) and not unbounded
    if not rules:
        msg = f"{plan_label(p)} has no rules (expected: rules with a retention period)"
    elif unbounded:
        msg = (
            f"{plan_label(p)} keeps recovery points forever in rule(s) {', '.join(unbounded)} "
            "(expected: a lifecycle DeleteAfterDays on every rule)"
        )
    else:
        msg = f"{plan_label(p)} rules expire recovery points after {sorted({int(d) for d in kept.values() if d})} days"
    return verdict(ok, plan_arn(p), PLAN, msg, {"retention_days": kept}, inp.region)


CHECKS: list[AwsCheck] = [
    _bucket(
        "bucket_acls_disabled",
        "Bucket ACLs are disabled (object ownership BucketOwnerEnforced)",
        Severity.MEDIUM,
        "With ACLs in effect, any writer can grant access to objects outside the bucket policy.",
        "Set object ownership to BucketOwnerEnforced (put-bucket-ownership-controls).",
        ("ownership",),
        judge_acls_disabled,
    ),
    _bucket(
        "bucket_cross_region_replication",
        "Buckets replicate to another region",
        Severity.LOW,
        "A regional outage or a deletion in one region can take the only copy of the data.",
        "Add an enabled replication rule to a bucket in another (allowed) region.",
        ("replication", "region"),
        judge_replication,
    ),
    _bucket(
        "bucket_event_notifications",
        "Buckets send event notifications",
        Severity.LOW,
        "Without event notifications, writes and deletes happen without any system being told.",
        "Configure event notifications to SNS, SQS, Lambda or EventBridge.",
        ("notifications",),
        judge_notifications,
    ),
    _bucket(
        "bucket_lifecycle_configured",
        "Buckets have lifecycle rules",
        Severity.LOW,
        "Without lifecycle rules, objects (and personal data in them) are kept forever.",
        "Add lifecycle rules that expire or transition objects in line with the retention policy.",
        ("lifecycle",),
        judge_lifecycle,
    ),
    _bucket(
        "bucket_mfa_delete",
        "Bucket versioning requires MFA delete",
        Severity.LOW,
        "Stolen credentials alone can delete object versions and disable versioning.",
        "Enable MFA delete with the root account's MFA device (put-bucket-versioning --mfa).",
        ("versioning", "mfa_delete"),  # one call answers both; the verdict shows the versioning state
        judge_mfa_delete,
    ),
    _bucket(
        "bucket_object_lock",
        "Buckets have object lock enabled",
        Severity.LOW,
        "Without object lock, objects can be overwritten or deleted before their retention ends (ransomware).",
        "Enable object lock (new bucket, or put-object-lock-configuration) with a default retention.",
        ("object_lock",),
        judge_object_lock,
    ),
    _efs(
        "encrypted",
        "EFS file systems are encrypted at rest",
        Severity.HIGH,
        "Unencrypted file system storage and backups expose data at rest.",
        "Create an encrypted file system and copy the data; encryption cannot be enabled in place.",
        (),
        judge_efs_encrypted,
    ),
    _efs(
        "backup_policy_enabled",
        "EFS automatic backups are on",
        Severity.MEDIUM,
        "Without backups, deleted or corrupted files cannot be restored.",
        "Enable the file system's automatic backup policy (put-backup-policy Status=ENABLED).",
        ("backup_policy",),
        judge_efs_backup,
    ),
    _efs(
        "policy_not_public",
        "EFS file system policies do not allow anyone",
        Severity.HIGH,
        "Without a restrictive policy, any client that reaches a mount target can read and write the files.",
        "Attach a file system policy that names the allowed principals (and requires TLS).",
        ("policy",),
        judge_efs_policy,
    ),
    AwsCheck(
        info(
            "aws.backup.vault_cmk_encryption",
            "Backup vaults encrypt with customer managed KMS keys",
            Severity.MEDIUM,
            VAULT,
            "With the AWS managed key, who may decrypt recovery points cannot be restricted by a key policy.",
            "Create vaults with a customer managed KMS key and move plans to them.",
        ),
        ("backup", "kms"),
        Scope.REGION,
        per_resource(vaults, vault_arn, VAULT, vault_label, (), judge_vault_cmk),
    ),
    AwsCheck(
        info(
            "aws.backup.vault_policy_not_public",
            "Backup vault access policies do not allow anyone",
            Severity.HIGH,
            VAULT,
            "A public vault policy lets anyone copy, restore or delete recovery points.",
            'Remove Allow statements for Principal "*" without an account or organisation condition.',
        ),
        ("backup",),
        Scope.REGION,
        per_resource(vaults, vault_arn, VAULT, vault_label, ("policy",), judge_vault_policy),
    ),
    AwsCheck(
        info(
            "aws.backup.vault_locked",
            "Backup vaults have a vault lock",
            Severity.LOW,
            VAULT,
            "Without a vault lock, stolen credentials (or ransomware) can delete every recovery point.",
            "Put a vault lock configuration (min retention) on the vault.",
        ),
        ("backup",),
        Scope.REGION,
        per_resource(vaults, vault_arn, VAULT, vault_label, (), judge_vault_locked),
    ),
    AwsCheck(
        info(
            "aws.backup.plan_retention",
            "Backup plans have rules with a retention period",
            Severity.LOW,
            PLAN,
            "A plan without rules backs nothing up; a rule without lifecycle keeps personal data forever.",
            "Give every plan rule a lifecycle DeleteAfterDays matching the retention policy.",
        ),
        ("backup",),
        Scope.REGION,
        per_resource(plan_details, plan_arn, PLAN, plan_label, ("rules",), judge_plan_retention),
    ),
]
