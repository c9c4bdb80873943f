"""Secret and key rotation: KMS key rotation, Secrets Manager rotation and age, ACM certificate expiry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import age_days, iso, parse_time
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import (
    AwsCheck,
    CheckInput,
    CollectError,
    Outcome,
    Scope,
    errored,
    failed,
    info,
    passed,
    skipped,
    verdict,
)

KEY = "AWS::KMS::Key"
SECRET = "AWS::SecretsManager::Secret"
CERT = "AWS::CertificateManager::Certificate"
URGENT_DAYS = 7


def check_kms_rotation(inp: CheckInput) -> Iterator[Outcome]:
    for k in inp.data("kms")["keys"]:
        rid = k.get("arn") or f"arn:aws:kms:{inp.region}:{inp.account}:key/{k['id']}"
        meta = k["metadata"]
        if isinstance(meta, CollectError):
            yield errored(rid, KEY, f"key {k['id']}: {meta.code}", {"error_code": meta.code}, inp.region)
            continue
        if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") != "Enabled":
            continue  # AWS managed keys rotate themselves; disabled keys encrypt nothing new
        if (
            meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT"
            or meta.get("Origin", "AWS_KMS") != "AWS_KMS"
        ):
            yield skipped(
                rid,
                KEY,
                f"key {k['id']} ({meta.get('KeySpec')}, {meta.get('Origin')}) cannot auto-rotate",
                {"key_spec": meta.get("KeySpec"), "origin": meta.get("Origin")},
                inp.region,
            )
            continue
        rotation = k["rotation_enabled"]
        if isinstance(rotation, CollectError):
            yield errored(
                rid, KEY, f"key {k['id']} rotation status: {rotation.code}", {"error_code": rotation.code}, inp.region
            )
            continue
        if not isinstance(rotation, bool):
            # The collector reads the status only for keys it judged rotatable: a key the check
            # judges rotatable without a status was never asked about. Not "off".
            yield errored(
                rid, KEY, f"key {k['id']} rotation status was not read", {"KeyRotationEnabled": rotation}, inp.region
            )
            continue
        ok = rotation
        msg = f"key {k['id']} automatic rotation is {'on' if ok else 'off (expected: on)'}"
        yield verdict(ok, rid, KEY, msg, {"KeyRotationEnabled": ok, "description": meta.get("Description")}, inp.region)


def check_secret_rotation_enabled(inp: CheckInput) -> Iterator[Outcome]:
    for s in inp.data("secretsmanager")["secrets"]:
        on = bool(s.get("RotationEnabled"))  # absent when rotation was never configured
        rules = s.get("RotationRules") or {}
        msg = f"secret {s['Name']} rotation is {'enabled' if on else 'not enabled (expected: enabled)'}"
        ev = {
            "RotationEnabled": on,
            "rotation_days": rules.get("AutomaticallyAfterDays"),
            "rotation_lambda": bool(s.get("RotationLambdaARN")),
        }
        yield verdict(on, s["ARN"], SECRET, msg, ev, inp.region)


def check_secret_age(inp: CheckInput) -> Iterator[Outcome]:
    limit = inp.thresholds.secret_max_age_days
    for s in inp.data("secretsmanager")["secrets"]:
        rotated = parse_time(s.get("LastRotatedDate"))
        changed = parse_time(s.get("LastChangedDate"))
        created = parse_time(s.get("CreatedDate"))
        # The value's age: since the last rotation or change (a new value put by hand), else creation.
        renewed = max((d for d in (rotated, changed) if d is not None), default=None)
        since = renewed or created
        ev: dict[str, Any] = {
            "last_rotated": iso(rotated),
            "last_changed": iso(changed),
            "created": iso(created),
            "max_age_days": limit,
        }
        if since is None:
            # ListSecrets always reports CreatedDate: without it the age is unknown, not old.
            yield errored(
                s["ARN"], SECRET, f"secret {s['Name']}: ListSecrets gave no rotation or creation date", ev, inp.region
            )
            continue
        days = age_days(since, inp.now)
        ev["age_days"] = days
        what = "last rotated" if rotated and rotated == renewed else "last changed" if renewed else "created"
        severity = Severity.HIGH if days > 2 * limit else None
        yield verdict(
            days <= limit,
            s["ARN"],
            SECRET,
            f"secret {s['Name']} {what} {days} days ago (expected: within {limit} days)",
            ev,
            inp.region,
            severity=severity,
        )


def judge_certificate_expiry(inp: CheckInput, c: dict[str, Any]) -> Outcome:
    warn = inp.thresholds.certificate_warning_days
    arn = c["CertificateArn"]
    name = c.get("DomainName")
    not_after = parse_time(c.get("NotAfter"))
    ev: dict[str, Any] = {
        "domain": name,
        "status": c.get("Status"),
        "not_after": iso(not_after),
        "in_use_by": len(c.get("InUseBy") or []),
        "warning_days": warn,
    }
    if not_after is None:
        return skipped(arn, CERT, f"certificate {name} is {c.get('Status')} and has no expiry yet", ev, inp.region)
    days = (not_after - inp.now).total_seconds() / 86400
    ev["days_left"] = int(days // 1)
    if days < 0:
        return failed(
            arn, CERT, f"certificate {name} expired on {not_after.date()}", ev, inp.region, severity=Severity.CRITICAL
        )
    if days <= warn:
        sev = Severity.HIGH if days <= URGENT_DAYS else Severity.MEDIUM
        return failed(
            arn,
            CERT,
            f"certificate {name} expires on {not_after.date()}, in {int(days)} days (expected: more than {warn})",
            ev,
            inp.region,
            severity=sev,
        )
    msg = f"certificate {name} is valid until {not_after.date()} ({int(days)} days left)"
    return passed(arn, CERT, msg, ev, inp.region)


# A certificate that could not be described (its `error`) is ERROR naming the code.
check_certificate_expiry = per_resource(
    lambda inp: list(inp.data("acm")["certificates"]), lambda c: str(c["CertificateArn"]), CERT,
    lambda c: f"certificate {c.get('DomainName')}", ("error",), judge_certificate_expiry,
)  # fmt: skip


CHECKS: list[AwsCheck] = [
    AwsCheck(
        info(
            "aws.kms.key_rotation_enabled",
            "Customer managed KMS keys rotate automatically",
            Severity.MEDIUM,
            KEY,
            "Key material that never rotates widens the impact of a compromised key.",
            "Enable automatic key rotation on each customer managed symmetric key.",
        ),
        ("kms",),
        Scope.REGION,
        check_kms_rotation,
    ),
    AwsCheck(
        info(
            "aws.secretsmanager.rotation_enabled",
            "Secrets Manager secrets have rotation enabled",
            Severity.MEDIUM,
            SECRET,
            "Secrets without rotation stay valid for as long as any copy exists.",
            "Configure a rotation Lambda and schedule for the secret.",
        ),
        ("secretsmanager",),
        Scope.REGION,
        check_secret_rotation_enabled,
    ),
    AwsCheck(
        info(
            "aws.secretsmanager.rotated_recently",
            "Secrets were rotated within 90 days",
            Severity.MEDIUM,
            SECRET,
            "An old secret has had more time to leak through logs, laptops and former staff.",
            "Rotate the secret now (rotate-secret) and keep the rotation schedule within the threshold.",
            description="A secret's value is as old as its last rotation or change (LastRotatedDate or "
            "LastChangedDate, whichever is later; else CreatedDate); older than "
            "thresholds.secret_max_age_days (default 90) FAILs, whether rotation is enabled or not.",
        ),
        ("secretsmanager",),
        Scope.REGION,
        check_secret_age,
    ),
    AwsCheck(
        info(
            "aws.acm.certificate_expiry",
            "ACM certificates are not expired or about to expire",
            Severity.HIGH,
            CERT,
            "An expired certificate breaks TLS for every client of the service.",
            "Renew or re-issue the certificate; use DNS validation so ACM renews it automatically.",
        ),
        ("acm",),
        Scope.REGION,
        check_certificate_expiry,
    ),
]
