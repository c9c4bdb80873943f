"""`auditor demo`: the whole pipeline on an embedded sample estate.

The demo builds a sample estate under the output folder — a secrets inventory with
generated certificates, a sample repository (Terraform, Kubernetes, Dockerfile, Python
code, requirements) scanned by every provider that scans repositories, an offline
vulnerability database — and asks every installed provider for its own sample estate
through the provider contract (`Provider.demo_estate`, reached through the registry,
never by importing a provider): the image provider builds a container image archive
(and gives the OSV records of its packages' advisories), the AWS provider seeds a
moto_server it starts on an ephemeral loopback port. It scans everything on three
simulated days with fixes in between (so history, diff, trend and the period report have
content), writes the database, JSON, SARIF and the signed evidence packs under
`./auditor-demo/`, prints where they are, and stops what the providers started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from rich.console import Console

from auditor.clock import utcnow
from auditor.config import AuditConfig
from auditor.engine import ScanResult
from auditor.outputs import FORMATS, sarif
from auditor.providers import Registry, registry, targets
from auditor.providers.base import DemoContext, DemoEstate
from auditor.runs import run_scan
from auditor.selfsigned import self_signed_pem
from auditor.store import Store

DEMO_ORGANISATION = "Example Payments Ltd (demo)"
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


def make_certificate(path: Path, common_name: str, not_before: datetime, not_after: datetime) -> None:
    """A certificate file with the given validity (public part only on disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(self_signed_pem(common_name, not_before, not_after)[0])


def write_sample_inventory(folder: Path, now: datetime, rotated: bool) -> Path:
    """The demo's secrets inventory. `rotated` models the fix made between scans."""
    make_certificate(
        folder / "certs" / "api.pem", "api.example.com", now - timedelta(days=300), now + timedelta(days=65)
    )
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
class Demo:
    out: Path
    console: Console
    runs: list[ScanResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def step(self, message: str) -> None:
        self.console.print(f"[bold cyan]==>[/] {message}")


@contextlib.contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build_vulndb(path: Path, now: datetime, records: Sequence[Mapping[str, Any]] = ()) -> int:
    """The bundled OSV advisories (Python packages), plus `records` (the providers' estates')."""
    import json

    from auditor.vulndb import VulnDB, import_path

    staging = path.parent / "osv"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(DEMO_DATA / "osv", staging, ignore=shutil.ignore_patterns("*.md"))
    for record in records:
        (staging / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
    path.unlink(missing_ok=True)
    with VulnDB.open(path, create=True) as db:
        stats = import_path(db, staging, now)
    return stats.advisories


def build_estate(demo: Demo) -> dict[str, Path]:
    """A fresh estate folder with the sample repository."""
    estate = demo.out / "estate"
    if estate.exists():
        shutil.rmtree(estate)
    repo = estate / "repo"
    shutil.copytree(DEMO_DATA / "sample_repo", repo)
    return {"estate": estate, "repo": repo}


@contextlib.contextmanager
def provider_estates(
    demo: Demo, estate: Path, now: datetime, reg: Registry | None = None
) -> Iterator[dict[str, DemoEstate]]:
    """Every installed provider's own sample estate (`Provider.demo_estate`), by provider name,
    held open until the demo's scans are done. A provider that cannot be loaded is left out
    with a note."""
    loaded, unavailable = (reg or registry()).load_all()
    for name, reason in unavailable.items():
        demo.notes.append(f"{name} provider unavailable ({reason}): its part of the demo skipped")
    with contextlib.ExitStack() as stack:
        estates: dict[str, DemoEstate] = {}
        for name, cls in loaded.items():
            context = DemoContext(workdir=estate / name, now=now, step=demo.step, note=demo.notes.append)
            got = stack.enter_context(cls.demo_estate(context))
            if got is not None:
                estates[name] = got
        yield estates


def demo_targets(
    repo: Path, estates: Mapping[str, DemoEstate], reg: Registry | None = None
) -> dict[str, dict[str, Any]]:
    """Settings by provider: the sample repository for every installed provider that scans
    repositories (its `repository=True` paths setting), and each provider's own estate."""
    loaded, _ = (reg or registry()).load_all()
    out: dict[str, dict[str, Any]] = {}
    for name, cls in loaded.items():
        setting = next((s for s in cls.declared_settings() if s.repository and s.kind == "paths"), None)
        if setting is not None:
            out[name] = {setting.key: (repo,)}
    for name, estate in estates.items():
        out[name] = {**out.get(name, {}), **estate.settings}
    return out


# (control, owner, approver, what the files say). Every expected item of these controls gets a
# file, so the controls pass; CC2.2's onboarding materials lapsed five days ago, so CC2.2 shows
# as a gap with the lapsed item named.
MANUAL_EVIDENCE = (
    ("soc2:CC1.1", "HR", "Chief People Officer", "Code of conduct programme, acknowledged by all 212 staff"),
    ("soc2:CC1.4", "People Ops", "Chief People Officer", "Competence, training and succession records"),
    ("soc2:CC2.2", "CISO office", "CISO", "Internal security communication"),
    ("gdpr:Art.30", "DPO", "Data protection officer", "Records of processing activities, reviewed this quarter"),
    ("gdpr:Art.35", "DPO", "Data protection officer", "DPIA programme for the payments platform, signed off"),
    ("iso27001:A.6.3", "People Ops", "Chief People Officer", "Security awareness programme, completed by all staff"),
)
LAPSED_ITEM = ("soc2:CC2.2", "onboarding-materials")
# The demo scans and reports every framework auditor ships (ISO/IEC 27001 comes through the same
# `auditor.frameworks` entry point as a plugin would).
@contextlib.contextmanager
def quiet_emulator_gaps() -> Iterator[None]:
    """The sample AWS account is moto, which answers the APIs it lacks with an HTML error page: the
    checks that read them are ERROR in the findings and reports (demo_estate.MOTO_UNSERVED), so the
    demo does not also print each read's warning on the console."""
    aws_log = logging.getLogger("auditor.aws")
    level = aws_log.level
    aws_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        aws_log.setLevel(level)


DEMO_FRAMEWORKS = ("soc2", "gdpr", "iso27001", "cis-aws")


def add_demo_manual_evidence(store: Store, folder: Path, now: datetime) -> None:
    """One file per expected evidence item of a few organisational controls (one item already lapsed)."""
    from auditor.report.manual_evidence import add_manual_evidence, control_for

    folder.mkdir(parents=True, exist_ok=True)
    for ref, owner, approver, subject in MANUAL_EVIDENCE:
        control = control_for(ref)
        for item in control.manual_evidence:
            path = folder / f"{control.framework}-{control.id}-{item.id}.txt".replace("(", "").replace(")", "")
            path.write_text(
                f"{item.title}\n{subject}.\nOwner: {owner}. Approved by: {approver}.\n"
                f"Collected for the demo estate of {DEMO_ORGANISATION}.\n"
            )
            lapsed = (ref, item.id) == LAPSED_ITEM
            expires = (now - timedelta(days=5)) if lapsed else (now + timedelta(days=180))
            add_manual_evidence(
                store,
                ref,
                path,
                item=item.id,
                owner=owner,
                approver=approver,
                note=f"{subject}: {item.id}",
                expires=expires.date().isoformat(),
                now=now - timedelta(days=30),
            )


SIGNING_KEY = "pack-signing-key.pem"
PUBLIC_KEY = "pack-signing-key.pub.pem"


def demo_signing_key(out: Path) -> tuple[Path, Path]:
    """The demo's Ed25519 pack-signing key pair under `out` (private key 0600), made once and reused."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = out / SIGNING_KEY, out / PUBLIC_KEY
    key: Ed25519PrivateKey | None = None
    if private.is_file():
        try:
            loaded = serialization.load_pem_private_key(private.read_bytes(), password=None)
            key = loaded if isinstance(loaded, Ed25519PrivateKey) else None
        except (ValueError, TypeError):
            key = None
    if key is None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        private.unlink(missing_ok=True)
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    os.chmod(private, 0o600)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def run_demo(out: Path, *, now: datetime | None = None, quiet: bool = False) -> int:
    started = time.monotonic()
    console = Console(file=sys.stderr, quiet=quiet, highlight=False, soft_wrap=True)
    now = now or utcnow()
    out = out.resolve()
    demo = Demo(out=out, console=console)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "auditor.db"
    for stale in (db_path, db_path.with_name("auditor.db-wal"), db_path.with_name("auditor.db-shm")):
        stale.unlink(missing_ok=True)

    demo.step("building the sample estate: repository, container image, vulnerability database, secrets")
    paths = build_estate(demo)
    store = Store.open(db_path)
    try:
        store.add_waiver(
            "secrets.inventory.rotation_age",
            "secret:analytics-warehouse-token",
            "Token is being replaced by workload identity (PLAT-412); rotation paused until cut-over.",
            "CISO Jane Doe",
            now - timedelta(days=20),
            now + timedelta(days=40),
        )
        add_demo_manual_evidence(store, paths["estate"] / "evidence", now)
        with provider_estates(demo, paths["estate"], now) as estates:
            vulndb = paths["estate"] / "vulndb.sqlite"
            build_vulndb(vulndb, now, [record for e in estates.values() for record in e.osv_records])
            base = AuditConfig(
                organisation=DEMO_ORGANISATION,
                frameworks=DEMO_FRAMEWORKS,
                db_path=db_path,
                targets=targets(**demo_targets(paths["repo"], estates)),
                offline=True,
                source_root=out,  # the demo folder stands for the repository: paths are relative to it
            )
            # The providers' environment for the scans; the demo's own database wins.
            scan_env = {key: value for e in estates.values() for key, value in e.env.items()}
            scan_env["AUDITOR_VULNDB"] = str(vulndb)
            schedule = (("two weeks ago", 14, False), ("last week", 7, False), ("today", 0, True))
            for index, (label, day_offset, fixed) in enumerate(schedule, start=1):
                when = now - timedelta(days=day_offset)
                if fixed:
                    for e in estates.values():
                        if e.fix is not None:
                            e.fix()
                demo.step(f"scan {index}/{len(schedule)} ({label}){': after fixes' if fixed else ''}")
                inventory = write_sample_inventory(paths["estate"] / "secrets", when, rotated=fixed)
                config = replace(base, targets=base.targets.with_("secrets", targets(secrets=inventory)["secrets"]))
                with patched_environ(scan_env), quiet_emulator_gaps():
                    result = run_scan(config, store, now=when)
                demo.runs.append(result)
                by = result.summary["by_status"]
                assert isinstance(by, dict)
                console.print(
                    f"    run {result.run.id}: {result.summary['total']} findings "
                    f"({by['FAIL']} FAIL, {by['PASS']} PASS, {by['WAIVED']} WAIVED, {by['ERROR']} ERROR)"
                )
        latest = demo.runs[-1]
        outputs: dict[str, Path] = {}
        for fmt, name in (("json", "findings.json"), ("sarif", "findings.sarif"), ("table", "findings.txt")):
            target = out / name
            with target.open("w", encoding="utf-8") as fh:
                if fmt == "sarif":
                    # The demo folder is the source root: cloud findings go on the lines of a
                    # resource inventory beside the SARIF, as `--sarif-resources` does.
                    resources = sarif.ResourceInventory(path=out / "cloud-resources.txt", rel="cloud-resources.txt")
                    resources.path.write_text(resources.render(latest.findings), encoding="utf-8")
                    sarif.write(latest, fh, resources)
                else:
                    FORMATS[fmt](latest, fh)
            outputs[fmt] = target
            if fmt == "sarif":
                outputs["resources"] = out / "cloud-resources.txt"  # the lines SARIF places cloud findings on
        diff = store.diff(demo.runs[-2].run, latest.run)

        from auditor.report import write_report
        from auditor.report.period import Period

        period = Period(start=(now - timedelta(days=14)).date(), end=now.date())
        signing_key, public_key = demo_signing_key(out)
        for framework in DEMO_FRAMEWORKS:
            demo.step(f"writing the signed {framework.upper()} evidence pack (PDF, HTML, findings, manifest)")
            report = write_report(
                store,
                framework,
                period=period,
                html_path=out / f"{framework}-report.html",
                pdf_path=out / f"{framework}-report.pdf",
                pack_path=out / f"{framework}-evidence-pack.zip",
                sign_key_path=signing_key,
                now=now,
            )
            outputs[f"{framework} pack"] = report.pack or out / f"{framework}-evidence-pack.zip"
            outputs[f"{framework} pdf"] = report.pdf or out / f"{framework}-report.pdf"
    finally:
        store.close()

    from auditor.report.pack import verify_pack

    verified: dict[str, int] = {}
    for framework in DEMO_FRAMEWORKS:
        check = verify_pack(outputs[f"{framework} pack"], public_key)
        verified[framework] = check.exit_code
        demo.step(f"verified the {framework.upper()} pack with the public key: {check.verdict} ({check.exit_code})")
        for problem in check.problems():
            console.print(f"    {problem}")

    elapsed = time.monotonic() - started
    console.print()
    console.print(f"[bold]auditor demo finished in {elapsed:.1f} s[/]")
    by = latest.summary["by_status"]
    assert isinstance(by, dict)
    console.print(
        f"  last run: {latest.summary['total']} findings ({by['FAIL']} FAIL, {by['PASS']} PASS); since the previous "
        f"run: {len(diff.new)} new, {len(diff.resolved)} resolved, {len(diff.changed)} changed"
    )
    for fw in DEMO_FRAMEWORKS:
        statuses = [c.status.value for c in latest.controls if c.framework == fw]
        console.print(
            f"  {fw}: {statuses.count('PASS')} controls pass, {statuses.count('FAIL')} fail, "
            f"{statuses.count('ERROR')} error, {statuses.count('MANUAL')} need manual evidence"
        )
    for note in demo.notes:
        console.print(f"  note: {note}")
    console.print(f"  database:   {db_path}")
    for name, path in outputs.items():
        console.print(f"  {name + ':':11} {path}")
    console.print(f"  explore:    auditor runs --db {db_path}")
    console.print(f"              auditor diff --db {db_path}")
    console.print(f"              auditor trend --db {db_path} --framework soc2")
    console.print(f"              auditor serve --db {db_path}   (the dashboard, http://127.0.0.1:8080/)")
    console.print(f"  public key: {public_key}  (packs are signed with {signing_key.name}, kept 0600 beside it)")
    console.print("  verify:")
    for framework in DEMO_FRAMEWORKS:
        console.print(f"              auditor verify {outputs[f'{framework} pack']} --public-key {public_key}")
    console.print(f"              auditor verify {outputs['soc2 pack']} --public-key {public_key} --db {db_path}")
    return 0 if all(code == 0 for code in verified.values()) else 1
