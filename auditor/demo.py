"""`auditor demo`: the whole pipeline on an embedded sample estate.

The demo builds its sample estate under the output folder (a secrets inventory with
generated certificates; later providers add theirs), scans it on three simulated days
with changes in between (so history, diff and trend have content), and writes the
database and outputs under `./auditor-demo/`.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rich.console import Console

from auditor.clock import utcnow
from auditor.config import AuditConfig
from auditor.engine import ScanResult, run_scan
from auditor.outputs import FORMATS
from auditor.store import Store

DEMO_ORGANISATION = "Example Payments Ltd (demo)"


def make_certificate(path: Path, common_name: str, not_before: datetime, not_after: datetime) -> None:
    """A self-signed certificate with the given validity (public part only on disk)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def write_sample_inventory(folder: Path, now: datetime, rotated: bool) -> Path:
    """The demo's secrets inventory. `rotated` models the fix made between scans."""
    make_certificate(folder / "certs" / "api.pem", "api.example.com", now - timedelta(days=300), now + timedelta(days=65))
    make_certificate(
        folder / "certs" / "payments-mtls.pem", "payments.internal", now - timedelta(days=360), now + timedelta(days=12)
    )
    make_certificate(
        folder / "certs" / "legacy-vpn.pem", "vpn.example.com", now - timedelta(days=800), now - timedelta(days=3)
    )
    db_rotated = (now - timedelta(days=2)).date() if rotated else (now - timedelta(days=150)).date()
    text = f"""\
# Secrets held outside AWS: rotation dates only, never values.
secrets:
  - name: payments-db-password
    owner: platform-team
    system: postgres
    last_rotated: {db_rotated.isoformat()}
    max_age_days: 90
  - name: stripe-api-key
    owner: payments-team
    system: stripe
    last_rotated: {(now - timedelta(days=30)).date().isoformat()}
  - name: smtp-relay-password
    owner: it-ops
    system: postfix
    last_rotated: {(now - timedelta(days=400)).date().isoformat()}
    max_age_days: 180
  - name: analytics-warehouse-token
    owner: data-team
    system: snowflake
  - name: api-tls
    owner: web-team
    certificate: certs/api.pem
  - name: payments-mtls
    owner: platform-team
    certificate: certs/payments-mtls.pem
  - name: legacy-vpn
    owner: it-ops
    certificate: certs/legacy-vpn.pem
"""
    path = folder / "secrets-inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class DemoRun:
    label: str
    result: ScanResult


@dataclass
class Demo:
    out: Path
    console: Console
    runs: list[DemoRun] = field(default_factory=list)

    def step(self, message: str) -> None:
        self.console.print(f"[bold cyan]==>[/] {message}")


def run_demo(out: Path, *, now: datetime | None = None, quiet: bool = False) -> int:
    started = time.monotonic()
    console = Console(file=sys.stderr, quiet=quiet, highlight=False)
    now = now or utcnow()
    out = out.resolve()
    demo = Demo(out=out, console=console)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "auditor.db"
    for stale in (db_path, db_path.with_name("auditor.db-wal"), db_path.with_name("auditor.db-shm")):
        stale.unlink(missing_ok=True)
    estate = out / "estate"
    if estate.exists():
        shutil.rmtree(estate)

    base = AuditConfig(organisation=DEMO_ORGANISATION, db_path=db_path)
    store = Store.open(db_path)
    try:
        for label, day_offset, rotated in (("two weeks ago", 14, False), ("last week", 7, False), ("today", 0, True)):
            when = now - timedelta(days=day_offset)
            demo.step(f"scan {len(demo.runs) + 1}/3 ({label}): building the sample estate and scanning")
            inventory = write_sample_inventory(estate / "secrets", when, rotated=rotated)
            config = replace(base, secrets_inventory=inventory)
            result = run_scan(config, store, now=when)
            demo.runs.append(DemoRun(label, result))
            by = result.summary["by_status"]
            assert isinstance(by, dict)
            console.print(
                f"    run {result.run.id}: {result.summary['total']} findings "
                f"({by['FAIL']} FAIL, {by['PASS']} PASS, {by['ERROR']} ERROR)"
            )
        latest = demo.runs[-1].result
        outputs = {}
        for fmt, name in (("json", "findings.json"), ("table", "findings.txt")):
            target = out / name
            with target.open("w", encoding="utf-8") as fh:
                FORMATS[fmt](latest, fh)
            outputs[fmt] = target
        diff = store.diff(demo.runs[-2].result.run, latest.run)
    finally:
        store.close()

    elapsed = time.monotonic() - started
    console.print()
    console.print(f"[bold]auditor demo finished in {elapsed:.1f} s[/]")
    console.print(
        f"  last run: {latest.summary['total']} findings; since the previous run: "
        f"{len(diff.new)} new, {len(diff.resolved)} resolved, {len(diff.changed)} changed"
    )
    failing = [c.ref for c in latest.controls if c.status.value == "FAIL"]
    console.print(f"  controls failing: {', '.join(failing) or 'none'}")
    console.print(f"  database:  {db_path}")
    for fmt, path in outputs.items():
        console.print(f"  {fmt + ':':10} {path}")
    console.print(f"  explore:   auditor runs --db {db_path}")
    console.print(f"             auditor diff --db {db_path}")
    console.print(f"             auditor trend --db {db_path} --framework soc2")
    return 0
