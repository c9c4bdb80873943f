"""Secrets held outside AWS: rotation age from an inventory, certificate expiry from files.

Severity policy (documented in docs/providers/secrets.md):

`secrets.inventory.rotation_age`
- PASS while the age since `last_rotated` is within `max_age_days`;
- FAIL medium once overdue, FAIL high when older than twice its maximum age;
- FAIL high when no rotation date is recorded: the age is unknown, and an unknown age
  cannot be shown to be within policy (we do not guess "critical": nothing says it leaked);
- a `last_rotated` in the future is bad data: FAIL medium, with the date in evidence.

`secrets.certificate.expiry`
- PASS with more than the warning window (default 30 days) left;
- FAIL medium within the window, FAIL high within 7 days, FAIL critical once expired;
- FAIL high when the certificate is not valid yet;
- ERROR when the file is missing or not a certificate: could not look, never PASS.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from auditor.config import AuditConfig, Setting
from auditor.errors import InputError
from auditor.models import CheckInfo, Coverage, Finding, Resource, Severity, SkippedItem, Status
from auditor.providers.base import Provider, ScanContext
from auditor.providers.secrets.inventory import Inventory, InventoryEntry, load_inventory
from auditor.safeio import read_bounded

MAX_CERT_BYTES = 1024 * 1024
URGENT_DAYS = 7

ROTATION_AGE = CheckInfo(
    id="secrets.inventory.rotation_age",
    title="Secrets are rotated within their maximum age",
    severity=Severity.HIGH,
    provider="secrets",
    description="Each secret in the inventory must have been rotated within its maximum age (default 90 days).",
    risk="A credential that is never rotated stays usable for as long as anyone who ever saw it keeps a copy.",
    remediation="Rotate the secret, update its consumers, and record the new last_rotated date in the inventory.",
    resource_type="secret",
)
CERT_EXPIRY = CheckInfo(
    id="secrets.certificate.expiry",
    title="Certificates are valid and not about to expire",
    severity=Severity.CRITICAL,
    provider="secrets",
    description="Each certificate in the inventory must be valid now and for more than the warning window.",
    risk="An expired certificate breaks encrypted connections; clients that are told to ignore it lose protection.",
    remediation="Renew the certificate before it expires and automate renewal where the issuer allows it.",
    resource_type="certificate",
)


class SecretsInventoryProvider(Provider):
    name = "secrets"
    title = "rotation age of secrets and expiry of certificates, from a YAML inventory"
    settings = (
        Setting(
            "inventory",
            "path",
            help="YAML inventory of secrets and certificates",
            flag="--secrets-inventory",
            metavar="FILE",
            path_kind="file",
        ),
    )
    shorthand = "inventory"
    config_aliases = ("secrets_inventory",)

    def __init__(self) -> None:
        self._inventory: Inventory | None = None

    def checks(self) -> list[CheckInfo]:
        return [ROTATION_AGE, CERT_EXPIRY]

    def inventory_path(self, config: AuditConfig) -> Path | None:
        path: Path | None = self.settings_of(config)["inventory"]
        return path

    def targets(self, config: AuditConfig) -> list[str]:
        path = self.inventory_path(config)
        return [f"secrets-inventory:{path}"] if path else []

    def prepare(self, ctx: ScanContext) -> None:
        path = self.inventory_path(ctx.config)
        assert path is not None
        self._inventory = load_inventory(path, ctx.config.thresholds.secret_max_age_days)

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        if self._inventory is None:
            self.prepare(ctx)
        assert self._inventory is not None
        inv = self._inventory
        target = self.target_of(inv.path)
        examined = {"secrets": 0, "certificates": 0}
        skipped: list[SkippedItem] = []
        for entry in inv.entries:
            ctx.progress(self.name, entry.name)
            if entry.certificate is not None:
                f = self.check_certificate(entry, inv.path, ctx.now, ctx.config.thresholds.certificate_warning_days)
                if f.status is Status.ERROR:
                    skipped.append(SkippedItem(f"certificate {entry.name}", str(f.evidence.get("error", ""))))
                else:
                    examined["certificates"] += 1
            else:
                f = self.check_rotation_age(entry, inv.path, ctx.now)
                examined["secrets"] += 1
            yield replace(f, target=target)
        ctx.record_coverage(
            Coverage(
                provider=self.name,
                target=target,
                examined=examined,
                skipped=tuple(skipped),
                complete=not skipped,
                details={"inventory": str(inv.path), "entries": len(inv.entries)},
            )
        )

    @staticmethod
    def target_of(path: Path) -> str:
        return f"secrets:{path.resolve()}"

    def _resource(self, entry: InventoryEntry, inventory_path: Path, kind: str) -> Resource:
        return Resource(id=f"secret:{entry.name}", type=kind, path=str(inventory_path.absolute()), line=entry.line)

    def check_rotation_age(self, entry: InventoryEntry, inventory_path: Path, now: datetime) -> Finding:
        resource = self._resource(entry, inventory_path, "secret")
        evidence: dict[str, object] = {
            "name": entry.name,
            "owner": entry.owner,
            "system": entry.system,
            "last_rotated": entry.last_rotated.isoformat() if entry.last_rotated else None,
            "max_age_days": entry.max_age_days,
            "evaluated_at": now.date().isoformat(),
        }
        if entry.last_rotated is None:
            return self.finding(
                ROTATION_AGE,
                Status.FAIL,
                resource,
                f"secret {entry.name!r} has no recorded rotation date; its age is unknown "
                f"(expected a rotation within {entry.max_age_days} days)",
                evidence={**evidence, "age_days": None},
                severity=Severity.HIGH,
            )
        age = (now.date() - entry.last_rotated).days
        evidence["age_days"] = age
        if age < 0:
            return self.finding(
                ROTATION_AGE,
                Status.FAIL,
                resource,
                f"secret {entry.name!r} has a last_rotated date in the future ({entry.last_rotated}); fix the record",
                evidence=evidence,
                severity=Severity.MEDIUM,
            )
        if age <= entry.max_age_days:
            return self.finding(
                ROTATION_AGE,
                Status.PASS,
                resource,
                f"secret {entry.name!r} was rotated {age} days ago (maximum {entry.max_age_days})",
                evidence=evidence,
            )
        severity = Severity.HIGH if age > 2 * entry.max_age_days else Severity.MEDIUM
        return self.finding(
            ROTATION_AGE,
            Status.FAIL,
            resource,
            f"secret {entry.name!r} was last rotated {age} days ago, {age - entry.max_age_days} days past "
            f"its maximum age of {entry.max_age_days}",
            evidence=evidence,
            severity=severity,
        )

    def check_certificate(
        self, entry: InventoryEntry, inventory_path: Path, now: datetime, warning_days: int
    ) -> Finding:
        resource = self._resource(entry, inventory_path, "certificate")
        assert entry.certificate is not None
        base_evidence: dict[str, object] = {
            "name": entry.name,
            "owner": entry.owner,
            "system": entry.system,
            "certificate_file": str(entry.certificate),
        }
        try:
            cert = read_certificate(entry.certificate)
        except CertificateError as exc:
            return self.finding(
                CERT_EXPIRY,
                Status.ERROR,
                resource,
                f"certificate for {entry.name!r} could not be read: {exc}",
                evidence={**base_evidence, "error": str(exc)},
            )
        not_before = cert.not_valid_before_utc
        not_after = cert.not_valid_after_utc
        # Validity dates are whole seconds: count whole seconds left, or a certificate that
        # expires in exactly 72 hours reads as "2 days" (the floor of 2.99999...).
        seconds_left = math.ceil((not_after - now).total_seconds())
        days_left = seconds_left / 86400
        evidence = {
            **base_evidence,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serial_number": format(cert.serial_number, "x"),
            "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
            "not_valid_before": not_before.isoformat(),
            "not_valid_after": not_after.isoformat(),
            "days_left": seconds_left // 86400,
            "warning_days": warning_days,
        }
        if days_left < 0:
            return self.finding(
                CERT_EXPIRY,
                Status.FAIL,
                resource,
                f"certificate {entry.name!r} expired on {not_after.date()} ({-int(days_left // 1) - 1} days ago)",
                evidence=evidence,
                severity=Severity.CRITICAL,
            )
        if not_before > now:
            return self.finding(
                CERT_EXPIRY,
                Status.FAIL,
                resource,
                f"certificate {entry.name!r} is not valid until {not_before.date()}",
                evidence=evidence,
                severity=Severity.HIGH,
            )
        if days_left <= warning_days:
            severity = Severity.HIGH if days_left <= URGENT_DAYS else Severity.MEDIUM
            return self.finding(
                CERT_EXPIRY,
                Status.FAIL,
                resource,
                f"certificate {entry.name!r} expires on {not_after.date()}, in {time_left(seconds_left)} "
                f"(warning window {warning_days} days)",
                evidence=evidence,
                severity=severity,
            )
        return self.finding(
            CERT_EXPIRY,
            Status.PASS,
            resource,
            f"certificate {entry.name!r} is valid until {not_after.date()} ({time_left(seconds_left)} left)",
            evidence=evidence,
        )


def time_left(seconds: int) -> str:
    """`3 days` for exactly 72 hours, `2 days 12 hours`, `47 hours` (under two days)."""
    days, rest = divmod(max(seconds, 0), 86400)
    hours = rest // 3600
    if days < 2:
        return f"{days * 24 + hours} hours"
    return f"{days} days" + (f" {hours} hours" if hours else "")


class CertificateError(Exception):
    pass


def read_certificate(path: Path) -> x509.Certificate:
    """The first certificate in a PEM or DER file. Private keys in the file are ignored.

    Only a regular file of at most 1 MiB is read: `/dev/zero`, a FIFO or a huge file is an
    error for this certificate (ERROR), never a hang or an exhausted machine."""
    try:
        data = read_bounded(path, MAX_CERT_BYTES, "certificate file")
    except InputError as exc:
        raise CertificateError(str(exc)) from None
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            certs = x509.load_pem_x509_certificates(data)
            return certs[0]
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateError(f"{path.name} holds no readable X.509 certificate (PEM or DER)") from None
