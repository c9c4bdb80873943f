"""Golden fixtures for the secrets inventory provider: exact sets per outcome."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import Finding, Severity, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.secrets import SecretsInventoryProvider
from auditor.providers.secrets.inventory import load_inventory
from tests.conftest import write_inventory


def scan(inventory: Path, now: datetime) -> list[Finding]:
    provider = SecretsInventoryProvider()
    ctx = ScanContext(config=AuditConfig(targets=targets(secrets=inventory)), now=now)
    provider.prepare(ctx)
    return list(provider.run(ctx))


def outcome(findings: list[Finding]) -> dict[str, tuple[str, str]]:
    return {f.resource.id.removeprefix("secret:"): (f.status.value, f.severity.value) for f in findings}


def test_golden_inventory_exact_outcomes(golden_inventory: Path, now: datetime) -> None:
    got = outcome(scan(golden_inventory, now))
    assert got == {
        "fresh-password": ("PASS", "high"),
        "edge-of-policy": ("PASS", "high"),  # exactly 90 days: still within policy
        "custom-age-key": ("PASS", "high"),  # 211 days, max_age_days 365
        "overdue-password": ("FAIL", "medium"),  # 150 days: overdue, less than twice
        "very-overdue-token": ("FAIL", "high"),  # 317 days: more than twice overdue
        "never-recorded": ("FAIL", "high"),  # unknown age
        "cert-valid": ("PASS", "critical"),
        "cert-soon": ("FAIL", "medium"),  # 20 days left, warning window 30
        "cert-urgent": ("FAIL", "high"),  # 5 days left
        "cert-expired": ("FAIL", "critical"),
        "cert-future": ("FAIL", "high"),  # not valid yet
        "cert-garbage": ("ERROR", "critical"),
        "cert-missing": ("ERROR", "critical"),
    }


def test_findings_carry_evidence_and_checks(golden_inventory: Path, now: datetime) -> None:
    findings = {f.resource.id: f for f in scan(golden_inventory, now)}
    fresh = findings["secret:fresh-password"]
    assert fresh.check_id == "secrets.inventory.rotation_age"
    assert fresh.evidence["age_days"] == 27 and fresh.evidence["max_age_days"] == 90
    assert fresh.evidence["owner"] == "team-a"
    cert = findings["secret:cert-valid"]
    assert cert.check_id == "secrets.certificate.expiry"
    assert cert.evidence["days_left"] == 65
    assert cert.evidence["subject"] == "CN=valid.example"
    assert len(cert.evidence["sha256_fingerprint"]) == 64
    # Resource line points at the inventory entry.
    assert findings["secret:fresh-password"].resource.line == 2
    assert findings["secret:cert-missing"].resource.line == 33


def test_rotation_moves_finding_to_pass_with_same_fingerprint(tmp_path: Path, now: datetime) -> None:
    before = scan(write_inventory(tmp_path / "a", "secrets:\n  - name: db\n    last_rotated: 2026-01-01\n"), now)
    after = scan(write_inventory(tmp_path / "a", "secrets:\n  - name: db\n    last_rotated: 2026-11-20\n"), now)
    assert before[0].status is Status.FAIL and after[0].status is Status.PASS
    assert before[0].fingerprint == after[0].fingerprint


def test_private_key_beside_certificate_never_reaches_evidence(tmp_path: Path, now: datetime) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from auditor.demo import make_certificate

    cert = tmp_path / "bundle.pem"
    make_certificate(cert, "bundle.example", now.replace(year=2025), now.replace(year=2027))
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert.write_bytes(key + cert.read_bytes())
    findings = scan(write_inventory(tmp_path, "secrets:\n  - name: bundle\n    certificate: bundle.pem\n"), now)
    assert findings[0].status is Status.PASS
    dumped = json.dumps([f.to_dict() for f in findings])
    assert "PRIVATE KEY" not in dumped and key.decode().splitlines()[1] not in dumped


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("secrets: [\n  - name: x\n", "inventory.yaml:2: malformed YAML"),
        ("- a\n- b\n", "expected a mapping with a 'secrets' list"),
        ("secrets: {}\n", "'secrets' must be a list"),
        ("secrets:\n  - owner: x\n", "inventory.yaml:2: every secret needs a non-empty 'name'"),
        (
            "secrets:\n  - name: x\n    last_rotated: 2026-13-01\n",
            "inventory.yaml:2: secret 'x': last_rotated '2026-13-01'",
        ),
        ("secrets:\n  - name: x\n    last_rotated: soon\n", "is not a date"),
        ("secrets:\n  - name: x\n    max_age_days: -5\n", "max_age_days must be a positive"),
        ("secrets:\n  - name: x\n  - name: x\n", "inventory.yaml:3: duplicate secret name 'x'"),
        ("secrets:\n  - name: x\n    colour: red\n", "unknown keys ['colour']"),
        ("secrets:\n  - name: x\n    ttl: 3\n", "unknown keys ['ttl']"),
        ("extra: 1\nsecrets: []\n", "unknown top-level keys"),
    ],
)
def test_bad_inventory_is_one_clear_error(tmp_path: Path, body: str, message: str) -> None:
    path = write_inventory(tmp_path, body)
    with pytest.raises(InputError) as err:
        load_inventory(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_secret_value_in_inventory_is_refused_without_echo(tmp_path: Path) -> None:
    path = write_inventory(tmp_path, "secrets:\n  - name: x\n    password: hunter2-very-secret\n")
    with pytest.raises(InputError) as err:
        load_inventory(path)
    assert "never values" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_missing_and_huge_inventory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_inventory(tmp_path / "nope.yaml")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (6 * 1024 * 1024))
    with pytest.raises(InputError, match="limit"):
        load_inventory(big)


def test_check_metadata_is_complete() -> None:
    for check in SecretsInventoryProvider().checks():
        assert check.id.startswith("secrets.")
        assert check.title and check.description and check.risk and check.remediation
        assert isinstance(check.severity, Severity)
