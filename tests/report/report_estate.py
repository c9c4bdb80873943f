"""Test estates for report tests: real engine runs over a generated secrets inventory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditor.catalog import ControlMapper, Framework, catalog_document
from auditor.config import AuditConfig
from auditor.demo import make_certificate
from auditor.engine import ScanResult, roll_up_all, summarise
from auditor.frameworks import frameworks_for
from auditor.models import Coverage, Finding, Resource, Run, RunStatus, Severity, Status
from auditor.providers import targets
from auditor.runs import run_scan
from auditor.store import Store

PLANTED_SECRET = "hunter2-Sup3rS3cretValue"
PLANTED_KEY = "AKIAIOSFODNN7EXAMPLQ"
DAY0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def write_inventory(folder: Path, now: datetime, *, rotated: bool, hostile: bool = True) -> Path:
    """Named resources: db-password (FAIL until rotated), api-tls (PASS), legacy-vpn (expired: FAIL critical).

    The inventory also carries a secret planted in a description and a credential-shaped name: neither may
    reach any report.
    """
    make_certificate(
        folder / "certs" / "api.pem", "api.example.com", now - timedelta(days=100), now + timedelta(days=200)
    )
    make_certificate(
        folder / "certs" / "vpn.pem", "vpn.example.com", now - timedelta(days=400), now - timedelta(days=2)
    )
    last = (now - timedelta(days=3 if rotated else 200)).date().isoformat()
    hostile_entries = ""
    if hostile:
        hostile_entries = f"""
  - name: "<script>alert(1)</script>"
    owner: "<img src=x onerror=alert(1)>"
    last_rotated: {(now - timedelta(days=1)).date().isoformat()}
  - name: "{PLANTED_KEY}"
    owner: ops
    description: "password={PLANTED_SECRET}"
    last_rotated: {(now - timedelta(days=1)).date().isoformat()}
"""
    text = f"""secrets:
  - name: db-password
    owner: platform-team
    system: postgres
    last_rotated: {last}
    max_age_days: 90
  - name: api-tls
    owner: web-team
    certificate: certs/api.pem
  - name: legacy-vpn
    owner: network-team
    certificate: certs/vpn.pem
{hostile_entries}"""
    path = folder / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def scan_day(store: Store, folder: Path, when: datetime, *, rotated: bool, hostile: bool = True) -> ScanResult:
    inv = write_inventory(folder, when, rotated=rotated, hostile=hostile)
    config = AuditConfig(organisation="Acme Test GmbH", targets=targets(secrets=inv), frameworks=("soc2", "gdpr"))
    return run_scan(config, store, now=when)


def save_synthetic_run(
    store: Store,
    when: datetime,
    findings: list[Finding],
    organisation: str = "Acme Test GmbH",
    *,
    providers: tuple[str, ...] = ("secrets",),
    coverage: tuple[Coverage, ...] = (),
    frameworks: list[Framework] | None = None,
    store_catalog: bool = True,
    suffix: str = "synthx",
) -> Run:
    """Store a run directly (large or hand-made finding sets), with controls rolled up as the engine does.

    `frameworks` is the catalog in force for the run (default: today's); it is stored with the run
    unless `store_catalog` is False (a run from before catalogs were recorded)."""
    frameworks = frameworks or frameworks_for(("soc2", "gdpr"))
    mapper = ControlMapper(frameworks)
    findings = [replace(f, controls=mapper(f.check_id)) for f in findings]
    run = Run(
        id=when.strftime("%Y%m%dT%H%M%SZ-") + suffix,
        started_at=when,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version="0.1.0",
        targets=tuple(c.target for c in coverage) or ("secrets-inventory:synthetic.yaml",),
        frameworks=tuple(fw.id for fw in frameworks),
    )
    store.begin_run(run, list(providers), organisation)
    controls = roll_up_all(frameworks, findings, when, store.manual_evidence_expiries())
    return store.save_run(
        run.id,
        findings,
        controls,
        RunStatus.COMPLETE,
        when,
        summarise(findings),
        coverage=coverage,
        catalog=catalog_document(frameworks) if store_catalog else None,
    )


def synthetic_findings(n: int, *, fail_every: int = 7, waived_every: int = 50) -> list[Finding]:
    out = []
    for i in range(n):
        if i % waived_every == 1:
            status, waiver = (
                Status.WAIVED,
                {
                    "reason": "legacy system scheduled for decommission",
                    "approver": "ciso@example.com",
                    "expires": "2026-12-31",
                },
            )
        elif i % fail_every == 0:
            status, waiver = Status.FAIL, None
        else:
            status, waiver = Status.PASS, None
        check = "secrets.inventory.rotation_age" if i % 2 else "secrets.certificate.expiry"
        out.append(
            Finding(
                check_id=check,
                status=status,
                severity=Severity.HIGH if status is not Status.PASS else Severity.INFO,
                resource=Resource(id=f"secret:svc-{i:06d}", type="secret", path="synthetic.yaml", line=i + 1),
                message=f"secret svc-{i:06d} evaluated ({status.value.lower()})",
                title="Secrets are rotated within their maximum age",
                provider="secrets",
                evidence={"name": f"svc-{i:06d}", "age_days": i % 300, "max_age_days": 90, "owner": "team-a"},
                waiver=waiver,
            )
        )
    return out
