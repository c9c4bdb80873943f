"""Providers from outside the package: a throwaway provider and framework installed from a plain
dist-info (what `pip install` leaves behind), used by real `auditor` processes.

The provider declares its own flags and its own `targets.<name>` schema; the CLI (`scan --help`),
the audit.yaml loader and `auditor providers` are built from that declaration, exactly as for
the built-ins. Discovery imports only what a scan selects: a provider that cannot be imported (a
broken plugin, a missing dependency of a built-in) is invisible unless selected, and then it is
one ERROR naming it (exit 3) while every other provider still scans.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from auditor.demo import demo_signing_key
from auditor.frameworks import ENTRY_POINT_GROUP as FRAMEWORKS_GROUP
from auditor.providers import ENTRY_POINT_GROUP, ProviderUnavailable, Registry, discover_providers
from tests.conftest import VENV_BIN, CliResult
from tests.report.report_estate import write_inventory

PLUGIN = '''
import json
from collections.abc import Iterator

from auditor.config import AuditConfig, Setting
from auditor.errors import InputError
from auditor.models import CheckInfo, Coverage, Finding, Resource, Severity, Status
from auditor.providers.base import Provider, ScanContext
from pathlib import Path

CATALOG = Path(__file__).with_name("vault_auditor_catalogs")

SEALED = CheckInfo(
    id="vault.sealed",
    title="Vault is sealed when idle",
    severity=Severity.HIGH,
    provider="vault",
    description="An idle Vault cluster is sealed.",
    risk="An unsealed idle cluster serves secrets to whoever reaches it.",
    remediation="Seal it.",
    resource_type="vault",
)
AUDIT = CheckInfo(
    id="vault.audit_device",
    title="Vault records every request in an audit device",
    severity=Severity.MEDIUM,
    provider="vault",
    description="At least one audit device is enabled.",
    risk="Without an audit device nobody can tell who read which secret.",
    remediation="Enable a file or syslog audit device.",
    resource_type="vault",
)


class VaultProvider(Provider):
    name = "vault"
    title = "HashiCorp Vault clusters, from `vault status -format=json` exports"
    settings = (
        Setting(
            "exports", "paths", help="a status export; repeatable", flag="--vault", metavar="FILE", path_kind="file"
        ),
        Setting(
            "require_audit", "flag", help="also require an audit device", flag="--vault-require-audit", selects=False
        ),
    )
    shorthand = "exports"

    def checks(self) -> list[CheckInfo]:
        return [SEALED, AUDIT]

    def exports(self, config: AuditConfig) -> tuple[Path, ...]:
        return self.settings_of(config).paths("exports")

    def targets(self, config: AuditConfig) -> list[str]:
        return [f"vault:{p.resolve()}" for p in self.exports(config)]

    def prepare(self, ctx: ScanContext) -> None:
        for path in self.exports(ctx.config):
            if not path.is_file():
                raise InputError(f"--vault {path}: no such file")

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        settings = self.settings_of(ctx.config)
        for path in self.exports(ctx.config):
            target = f"vault:{path.resolve()}"
            doc = json.loads(path.read_text())
            res = Resource(f"vault:{doc['cluster_name']}", "vault")
            sealed = Status.PASS if doc["sealed"] else Status.FAIL
            evidence = {"sealed": doc["sealed"]}
            yield self.finding(SEALED, sealed, res, f"sealed: {doc['sealed']}", evidence, target=target)
            if settings["require_audit"]:
                devices = doc.get("audit_devices", [])
                status = Status.PASS if devices else Status.FAIL
                message = f"{len(devices)} audit device(s)"
                yield self.finding(AUDIT, status, res, message, {"devices": devices}, target=target)
            ctx.record_coverage(Coverage(provider=self.name, target=target, examined={"clusters": 1}))
'''

CATALOG = """\
framework: vaultfw
name: "Vault Hardening Baseline - a throwaway framework"
version: "1.0"
controls:
  - id: VLT-1
    title: Idle clusters are sealed
    category: Secrets management
    description: Every Vault cluster that serves no traffic is sealed.
    checks:
      - check: vault.sealed
        why: An unsealed idle cluster is exactly what this control forbids.
  - id: VLT-2
    title: Every request is audited
    category: Logging
    description: Every Vault cluster records each request in an audit device.
    checks:
      - check: vault.audit_device
        why: Without an audit device no request is recorded.
  - id: VLT-3
    title: Unseal keys are held by different people
    category: Governance
    description: No single person holds enough unseal key shares to unseal a cluster.
    manual_evidence:
      - id: key-holders
        title: The register of unseal key holders
"""

BROKEN = "import definitely_missing_dependency_of_auditor_broken  # noqa: F401\n"


def install(site: Path, catalog: str = CATALOG) -> Path:
    """The vault plugin (a provider and a framework in one distribution) and a broken provider
    plugin, as pip leaves them: modules plus plain dist-info folders."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "vault_auditor.py").write_text(PLUGIN)
    (site / "vault_auditor_catalogs").mkdir()
    (site / "vault_auditor_catalogs" / "vaultfw.yaml").write_text(catalog)
    dist = site / "auditor_vault-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: auditor-vault\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nvault = vault_auditor:VaultProvider\n\n"
        f"[{FRAMEWORKS_GROUP}]\nvaultfw = vault_auditor:CATALOG\n"
    )
    (site / "broken_auditor.py").write_text(BROKEN)
    broken = site / "auditor_broken-0.3.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: auditor-broken\nVersion: 0.3\n")
    (broken / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nbroken = broken_auditor:BrokenProvider\n")
    return site


def exports(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    good, bad = folder / "prod.json", folder / "staging.json"
    good.write_text(json.dumps({"cluster_name": "prod", "sealed": True, "audit_devices": ["file"]}))
    bad.write_text(json.dumps({"cluster_name": "staging", "sealed": False}))
    return good, bad


def auditor(*args: str, site: Path | None = None, cwd: Path | None = None) -> CliResult:
    env = {**os.environ}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    proc = subprocess.run(
        [str(VENV_BIN / "auditor"), *args], capture_output=True, text=True, env=env, timeout=300, cwd=cwd
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def outcome(doc: dict[str, object]) -> set[tuple[str, str, str, tuple[str, ...]]]:
    findings = doc["findings"]
    assert isinstance(findings, list)
    return {(f["resource"]["id"], f["check_id"], f["status"], tuple(f["controls"])) for f in findings}


@pytest.mark.slow
def test_a_plugin_provider_and_framework_from_a_dist_info_scan_report_and_verify(
    tmp_path: Path, now: datetime
) -> None:
    site = install(tmp_path / "site")
    good, bad = exports(tmp_path / "vault")

    # Listed with its own version, distribution and checks; the broken one says why it cannot load.
    listed = auditor("providers", "--format", "json", site=site)
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in json.loads(listed.out)}
    assert set(rows) == {"aws", "broken", "code", "deps", "iac", "image", "secrets", "vault"}
    vault = rows["vault"]
    assert (vault["version"], vault["distribution"], vault["checks"]) == ("1.0", "auditor-vault", 2)
    assert vault["status"] == "ok" and vault["error"] is None
    assert vault["flags"] == ["--vault", "--vault-require-audit"] and vault["config_keys"] == ["targets.vault"]
    assert rows["broken"]["status"] == "unavailable" and rows["broken"]["version"] == "0.3"
    assert "definitely_missing_dependency_of_auditor_broken" in rows["broken"]["error"]
    assert all(rows[b]["status"] == "ok" and rows[b]["distribution"] == "auditor" for b in ("aws", "iac", "secrets"))

    # `scan --help` lists the plugin's options, as it lists the built-ins'.
    helped = auditor("scan", "--help", site=site)
    assert helped.code == 0, helped.err
    flat = " ".join(helped.out.split())
    assert "vault provider: HashiCorp Vault clusters" in flat
    assert "--vault FILE a status export; repeatable" in flat and "--vault-require-audit" in flat
    assert "broken (ModuleNotFoundError" in flat  # named as unavailable, not a crash

    # audit.yaml: `targets.vault` read with the plugin's own schema; paths relative to the file.
    (tmp_path / "audit.yaml").write_text(
        textwrap.dedent(
            """\
            organisation: Vault Users Ltd
            frameworks: [vaultfw]
            database: runs.db
            targets:
              vault:
                exports: [vault/prod.json, vault/staging.json]
                require_audit: true
            """
        )
    )
    scan = auditor("scan", "--config", "audit.yaml", "--format", "json", site=site, cwd=tmp_path)
    assert scan.code == 0, scan.err
    doc = json.loads(scan.out)
    assert outcome(doc) == {
        ("vault:prod", "vault.sealed", "PASS", ("vaultfw:VLT-1",)),
        ("vault:prod", "vault.audit_device", "PASS", ("vaultfw:VLT-2",)),
        ("vault:staging", "vault.sealed", "FAIL", ("vaultfw:VLT-1",)),
        ("vault:staging", "vault.audit_device", "FAIL", ("vaultfw:VLT-2",)),
    }
    assert {c["id"]: c["status"] for c in doc["controls"]} == {"VLT-1": "FAIL", "VLT-2": "FAIL", "VLT-3": "MANUAL"}
    assert {c["target"] for c in doc["run"]["coverage"]} == {f"vault:{good.resolve()}", f"vault:{bad.resolve()}"}

    # The same scan from flags; the non-selecting flag left out, so the audit check does not run.
    flags = auditor(
        "scan", "--framework", "vaultfw", "--vault", str(good), "--vault", str(bad),
        "--db", str(tmp_path / "runs.db"), "--format", "json", site=site,
    )  # fmt: skip
    assert flags.code == 0, flags.err
    assert {(r, c, s) for r, c, s, _ in outcome(json.loads(flags.out))} == {
        ("vault:prod", "vault.sealed", "PASS"),
        ("vault:staging", "vault.sealed", "FAIL"),
    }

    # Errors in the plugin's section name file, line and key, like the built-ins'.
    (tmp_path / "typo.yaml").write_text("targets:\n  vault:\n    exprts: [vault/prod.json]\n")
    typo = auditor("scan", "--config", "typo.yaml", site=site, cwd=tmp_path)
    assert typo.code == 2 and typo.err == (
        "auditor: error: typo.yaml:3: targets.vault.exprts: unknown key "
        "(did you mean 'exports'? allowed here: exports, require_audit)\n"
    ), typo.err
    (tmp_path / "missing.yaml").write_text("targets:\n  vault: [vault/nope.json]\n")
    missing = auditor("scan", "--config", "missing.yaml", site=site, cwd=tmp_path)
    assert missing.code == 2 and "missing.yaml:2: targets.vault[0]: vault/nope.json does not exist" in missing.err

    # Report and signed pack for the plugin framework, verified against the database.
    db = tmp_path / "runs.db"
    key, public = demo_signing_key(tmp_path)
    html, pdf, pack = tmp_path / "v.html", tmp_path / "v.pdf", tmp_path / "v-pack.zip"
    report = auditor(
        "report", "--framework", "vaultfw", "--db", str(db), "--html", str(html), "--pdf", str(pdf),
        "--pack", str(pack), "--sign-key", str(key), site=site,
    )  # fmt: skip
    assert report.code == 0, report.err
    text = html.read_text(encoding="utf-8")
    assert "Vault Hardening Baseline - a throwaway framework" in text and "vault:staging" in text
    assert "The register of unseal key holders" in text
    assert pdf.read_bytes().startswith(b"%PDF") and zipfile.is_zipfile(pack)
    verify = auditor("verify", str(pack), "--public-key", str(public), "--db", str(db), site=site)
    assert verify.code == 0 and "INTACT and AUTHENTICATED" in verify.out, verify.out + verify.err


def test_plugin_catalogs_get_the_same_meta_validation_as_the_builtins(tmp_path: Path) -> None:
    from auditor.frameworks import load_catalog

    builtin = list(load_catalog().values())
    checks = sum(len(cls().checks()) for cls in discover_providers().values())
    # The vault plugin adds one framework of 3 controls, one provider of 2 checks (the broken one loads nothing).
    controls = sum(len(fw.controls) for fw in builtin) + 3
    counts = f"{len(builtin) + 1} frameworks, {controls} controls, {checks + 2} checks"
    good = auditor("controls", "--validate", site=install(tmp_path / "good"))
    assert good.code == 0, good.out + good.err
    assert good.out.splitlines()[-1] == (
        f"{counts} of 7 providers: every reference resolves and every check is mapped"
    )
    assert "provider broken cannot be loaded" in good.err  # said, and the rest still validated

    wrong = CATALOG.replace("      - check: vault.audit_device\n", "      - check: vault.audit_devices\n")
    bad = auditor("controls", "--validate", site=install(tmp_path / "bad", wrong))
    assert bad.code == 1
    assert bad.out.splitlines() == [
        "vaultfw:VLT-2: check vault.audit_devices is not a check of any installed provider",
        "check vault.audit_device maps to no control of any installed framework",
        f"{counts} of 7 providers: 2 problem(s)",
    ]


def test_a_provider_that_cannot_be_imported_is_invisible_unless_selected(tmp_path: Path, now: datetime) -> None:
    site = install(tmp_path / "site")
    inv = write_inventory(tmp_path / "estate", now, rotated=True, hostile=False)
    db = str(tmp_path / "a.db")

    # Not selected: the scan does not notice it.
    plain = auditor("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json", site=site)
    assert plain.code == 0, plain.err
    assert "broken" not in plain.out + plain.err

    # Selected by a flag (its flags start with --broken) or by audit.yaml: one ERROR naming it, exit 3,
    # and every other provider still scans.
    for args in (
        ["--broken", "--secrets-inventory", str(inv)],
        ["--broken-level", "9", "--secrets-inventory", str(inv)],
    ):
        res = auditor("scan", *args, "--db", db, "--format", "json", site=site)
        assert res.code == 3, res.err
        doc = json.loads(res.out)
        errors = [f for f in doc["findings"] if f["status"] == "ERROR"]
        assert [(f["check_id"], f["provider"], f["resource"]["id"]) for f in errors] == [
            ("broken.provider", "broken", "provider:broken")
        ]
        assert "definitely_missing_dependency_of_auditor_broken" in errors[0]["message"]
        assert {f["provider"] for f in doc["findings"]} == {"broken", "secrets"}
        assert "provider:broken" in doc["run"]["targets"]
    (tmp_path / "audit.yaml").write_text(f"targets:\n  broken: {{level: 9}}\n  secrets_inventory: {inv}\n")
    res = auditor("scan", "--config", str(tmp_path / "audit.yaml"), "--db", db, "--format", "json", site=site)
    assert res.code == 3, res.err
    assert {f["check_id"] for f in json.loads(res.out)["findings"] if f["status"] == "ERROR"} == {"broken.provider"}
    allowed = auditor("scan", "--broken", "--secrets-inventory", str(inv), "--db", db, "--allow-errors", site=site)
    assert allowed.code == 0, allowed.err

    # A flag no installed provider owns is still a usage error.
    unknown = auditor("scan", "--nonexistent-provider-flag", "--secrets-inventory", str(inv), "--db", db, site=site)
    assert unknown.code == 2 and "unrecognized arguments: --nonexistent-provider-flag" in unknown.err


def test_a_missing_dependency_of_one_builtin_only_stops_that_provider(tmp_path: Path, now: datetime) -> None:
    """`packageurl` (an image provider dependency) uninstalled: shadowed by a package that fails to import."""
    site = tmp_path / "site"
    (site / "packageurl").mkdir(parents=True)
    (site / "packageurl" / "__init__.py").write_text("raise ImportError(\"No module named 'packageurl'\")\n")
    inv = write_inventory(tmp_path / "estate", now, rotated=True, hostile=False)
    db = str(tmp_path / "a.db")

    secrets_only = auditor("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json", site=site)
    assert secrets_only.code == 0, secrets_only.err
    assert {f["provider"] for f in json.loads(secrets_only.out)["findings"]} == {"secrets"}

    both = auditor(
        "scan", "--image", str(tmp_path / "app.tar"), "--secrets-inventory", str(inv), "--db", db,
        "--format", "json", site=site,
    )  # fmt: skip
    assert both.code == 3, both.err
    doc = json.loads(both.out)
    errors = [f for f in doc["findings"] if f["status"] == "ERROR"]
    assert [f["check_id"] for f in errors] == ["image.provider"]
    assert "packageurl" in errors[0]["message"]
    assert {f["provider"] for f in doc["findings"] if f["status"] != "ERROR"} == {"secrets"}
    # Every control an image check maps to is ERROR (or FAIL where a secrets check failed it), never green.
    image_controls = set(errors[0]["controls"])
    statuses = {f"{c['framework']}:{c['id']}": c["status"] for c in doc["controls"]}
    assert len(image_controls) >= 5 and {statuses[ref] for ref in image_controls} == {"ERROR", "FAIL"}

    listed = {r["name"]: r for r in json.loads(auditor("providers", "--format", "json", site=site).out)}
    assert listed["image"]["status"] == "unavailable" and "packageurl" in listed["image"]["error"]
    assert listed["secrets"]["status"] == "ok"


def test_a_scan_imports_only_the_providers_it_selects(tmp_path: Path, now: datetime) -> None:
    inv = write_inventory(tmp_path / "estate", now, rotated=True, hostile=False)
    argv = ["scan", "--secrets-inventory", str(inv), "--db", str(tmp_path / "a.db"), "--output", str(tmp_path / "o")]
    code = textwrap.dedent(
        f"""
        import sys
        from auditor.cli import main
        code = main({argv!r})
        names = {{m.split(".")[2] for m in sys.modules if m.startswith("auditor.providers.") and m.count(".") >= 2}}
        print(code, sorted(names))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 ['base', 'secrets']"


def test_registry_reads_names_from_metadata_and_refuses_what_is_not_a_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.metadata import EntryPoint

    site = install(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    reg = Registry(
        [
            EntryPoint(name="ghost", value="module_that_was_never_installed:Ghost", group=ENTRY_POINT_GROUP),
            EntryPoint(name="notaprovider", value="vault_auditor:SEALED", group=ENTRY_POINT_GROUP),
            EntryPoint(name="misnamed", value="vault_auditor:VaultProvider", group=ENTRY_POINT_GROUP),
            EntryPoint(name="vault", value="vault_auditor:VaultProvider", group=ENTRY_POINT_GROUP),
        ]
    )
    assert reg.names() == ["ghost", "misnamed", "notaprovider", "vault"]  # nothing imported yet
    assert "module_that_was_never_installed" not in sys.modules
    assert reg.by_flag("--vault-require-audit") == "vault" and reg.by_flag("--vaults") is None
    with pytest.raises(ProviderUnavailable, match="module_that_was_never_installed"):
        reg.load("ghost")
    with pytest.raises(ProviderUnavailable, match="not an auditor Provider class"):
        reg.load("notaprovider")
    with pytest.raises(ProviderUnavailable, match="the entry-point name must be the provider's name"):
        reg.load("misnamed")
    assert reg.load("vault").name == "vault"
    assert list(reg.load_all()[0]) == ["vault"]
    assert set(reg.load_all()[1]) == {"ghost", "misnamed", "notaprovider"}


def test_builtin_providers_come_from_entry_points() -> None:
    assert set(discover_providers()) == {"aws", "code", "deps", "iac", "image", "secrets"}


def test_a_plugin_whose_flag_is_taken_is_named_not_a_crash(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "iacx_auditor.py").write_text(
        PLUGIN.replace('name = "vault"', 'name = "iacx"').replace('flag="--vault"', 'flag="--iac"')
    )
    dist = site / "auditor_iacx-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: auditor-iacx\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\niacx = iacx_auditor:VaultProvider\n")
    helped = auditor("scan", "--help", site=site)
    assert helped.code == 0, helped.err
    flat = " ".join(helped.out.split())
    assert "iacx (its flag --iac is already taken by another provider or by auditor itself)" in flat
    assert "--iac PATH infrastructure as code" in flat  # the built-in keeps its flag
