"""Frameworks are plugins: the `auditor.frameworks` entry point group and `--catalog-dir`.

A throwaway framework is installed the way pip leaves one behind (a module and a plain dist-info
folder on sys.path) and used by real `auditor` processes: scan, report, verify. A folder catalog
comes in through --catalog-dir and audit.yaml. Bad catalogs and unknown ids exit 2 with one line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from auditor.demo import demo_signing_key
from auditor.frameworks import ENTRY_POINT_GROUP, Registry
from tests.conftest import VENV_BIN, CliResult
from tests.report.report_estate import write_inventory

X_CATALOG = """\
framework: x
name: "X Baseline - a throwaway framework"
version: "0.1"
controls:
  - id: X-1
    title: Secrets are rotated
    category: Credentials
    description: Every secret in the inventory is rotated within its maximum age.
    checks:
      - check: secrets.inventory.rotation_age
        why: A secret past its maximum age is exactly what this throwaway control forbids.
    manual_evidence:
      - id: rotation-procedure
        title: The written procedure for rotating secrets
  - id: X-2
    title: Certificates are current
    category: Credentials
    description: Every certificate in the inventory is valid and not about to expire.
    checks:
      - check: secrets.certificate.expiry
        why: An expired certificate is the failure this throwaway control describes.
    manual_evidence:
      - id: certificate-register
        title: The register of certificates and their owners
  - id: X-3
    title: Someone owns security
    category: Governance
    description: A named person is accountable for security, and everybody knows who it is.
    manual_evidence:
      - id: owner-letter
        title: Letter naming the person accountable for security
"""

INSTALLED = "cis-aws, gdpr, iso27001, soc2"


def install_framework(site: Path, catalog: str = X_CATALOG, entry: str = "x = x_framework:CATALOG") -> None:
    """What `pip install x-framework` leaves behind: a module, its catalog folder, a dist-info."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "x_framework.py").write_text(
        "from pathlib import Path\n\nCATALOG = Path(__file__).with_name('x_framework_catalogs')\n"
    )
    (site / "x_framework_catalogs").mkdir()
    (site / "x_framework_catalogs" / "x.yaml").write_text(catalog)
    dist = site / "x_framework-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: x-framework\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry}\n")


def auditor(*args: str, site: Path | None = None) -> CliResult:
    env = {**os.environ}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    proc = subprocess.run(
        [str(VENV_BIN / "auditor"), *args], capture_output=True, text=True, env=env, timeout=300
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def one_line_error(res: CliResult) -> str:
    assert res.code == 2, res.out + res.err
    assert "Traceback" not in res.err and len(res.err.strip().splitlines()) == 1, res.err
    return res.err.strip()


@pytest.mark.slow
def test_a_framework_installed_from_a_dist_info_scans_reports_and_verifies(tmp_path: Path, now: datetime) -> None:
    site = tmp_path / "site"
    install_framework(site)
    db = tmp_path / "a.db"
    inv = write_inventory(tmp_path / "estate", now, rotated=False, hostile=False)

    controls = auditor("controls", "--framework", "x", "--format", "json", site=site)
    assert controls.code == 0, controls.err
    assert [(c["id"], c["coverage"]) for c in json.loads(controls.out)] == [
        ("X-1", "automated"), ("X-2", "automated"), ("X-3", "manual")
    ]  # fmt: skip
    # Installed next to the built-ins, none of which is privileged.
    every = {c["framework"] for c in json.loads(auditor("controls", "--format", "json", site=site).out)}
    assert every == {"soc2", "gdpr", "iso27001", "cis-aws", "x"}

    scan = auditor(
        "scan", "--framework", "x", "--secrets-inventory", str(inv), "--db", str(db), "--format", "json", site=site
    )
    assert scan.code == 0, scan.err
    doc = json.loads(scan.out)
    outcome = {(f["resource"]["id"], f["check_id"], f["status"], tuple(f["controls"])) for f in doc["findings"]}
    assert outcome == {
        ("secret:db-password", "secrets.inventory.rotation_age", "FAIL", ("x:X-1",)),
        ("secret:api-tls", "secrets.certificate.expiry", "PASS", ("x:X-2",)),
        ("secret:legacy-vpn", "secrets.certificate.expiry", "FAIL", ("x:X-2",)),
    }
    assert {c["id"]: c["status"] for c in doc["controls"]} == {"X-1": "FAIL", "X-2": "FAIL", "X-3": "MANUAL"}

    key, public = demo_signing_key(tmp_path)
    html, pdf, pack = tmp_path / "x.html", tmp_path / "x.pdf", tmp_path / "x-pack.zip"
    report = auditor(
        "report", "--framework", "x", "--db", str(db), "--html", str(html), "--pdf", str(pdf), "--pack", str(pack),
        "--sign-key", str(key), site=site,
    )  # fmt: skip
    assert report.code == 0, report.err
    text = html.read_text(encoding="utf-8")
    assert "X Baseline - a throwaway framework" in text and "Letter naming the person accountable" in text
    assert "X-1" in text and "A secret past its maximum age is exactly what this throwaway control forbids." in text
    assert pdf.read_bytes().startswith(b"%PDF") and zipfile.is_zipfile(pack)

    verify = auditor("verify", str(pack), "--public-key", str(public), "--db", str(db), site=site)
    assert verify.code == 0 and "INTACT and AUTHENTICATED" in verify.out, verify.out + verify.err
    # The run carries its catalog: the report still renders where the plugin is not installed.
    again = auditor("report", "--framework", "x", "--db", str(db), "--html", str(tmp_path / "again.html"))
    assert again.code == 0, again.err

    # Not installed: x is unknown, and the message lists what is installed.
    err = one_line_error(auditor("controls", "--framework", "x"))
    assert err == f"auditor: error: unknown framework 'x' (installed: {INSTALLED})"


def test_a_plugin_whose_catalog_is_broken_or_misnamed_exits_2_naming_the_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    install_framework(broken, X_CATALOG.replace("  - id: X-2", "  - id: X-1"))
    err = one_line_error(auditor("controls", "--framework", "x", site=broken))
    catalog = broken / "x_framework_catalogs" / "x.yaml"
    assert err == f"auditor: error: {catalog}:15: control #2 has a missing or duplicate id 'X-1'"

    misnamed = tmp_path / "misnamed"
    install_framework(misnamed, X_CATALOG.replace("framework: x", "framework: y"))
    err = one_line_error(auditor("controls", "--framework", "x", site=misnamed))
    assert re.fullmatch(r"auditor: error: .*x\.yaml:1: the catalog says framework 'y' but is installed as 'x' .*", err)

    missing = tmp_path / "missing"
    install_framework(missing, entry="x = x_framework_gone:CATALOG")
    err = one_line_error(auditor("controls", "--framework", "x", site=missing))
    assert "framework 'x' (entry point x = x_framework_gone:CATALOG (x-framework 0.1)) cannot be loaded" in err
    # A broken plugin is invisible unless it is used: the built-ins still work beside it.
    assert auditor("controls", "--framework", "soc2", "--format", "json", site=missing).code == 0


def test_discovery_reads_metadata_only_and_parses_a_catalog_when_it_is_needed(tmp_path: Path) -> None:
    from importlib.metadata import EntryPoint

    eps = [
        EntryPoint(name="x", value="x_framework_never_imported:CATALOG", group=ENTRY_POINT_GROUP),
        EntryPoint(name="soc2", value="auditor.catalogs:soc2", group=ENTRY_POINT_GROUP),
    ]
    reg = Registry(eps=eps)
    assert reg.ids() == ["soc2", "x"]  # listed without importing x's module
    assert reg.get("soc2").id == "soc2"
    with pytest.raises(Exception, match="x_framework_never_imported"):
        reg.get("x")


def _write_y(folder: Path, body: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "y.yaml").write_text(body or X_CATALOG.replace("framework: x", "framework: y").replace("X Baseline", "Y"))
    return folder


def test_catalog_dir_adds_a_folder_of_catalogs_to_scan_report_and_controls(
    tmp_path: Path, cli: Callable[..., CliResult], now: datetime
) -> None:
    catalogs = _write_y(tmp_path / "catalogs")
    db = str(tmp_path / "a.db")
    inv = write_inventory(tmp_path / "estate", now, rotated=True, hostile=False)

    res = cli("controls", "--catalog-dir", str(catalogs), "--framework", "y", "--format", "json")
    assert res.code == 0, res.err
    assert [c["id"] for c in res.json()] == ["X-1", "X-2", "X-3"]  # type: ignore[union-attr]
    # --catalog-dir is per command: without it y is unknown again.
    assert one_line_error(cli("controls", "--framework", "y")) == (
        f"auditor: error: unknown framework 'y' (installed: {INSTALLED})"
    )

    scan = cli(
        "scan", "--catalog-dir", str(catalogs), "--framework", "y,soc2", "--secrets-inventory", str(inv),
        "--db", db, "--format", "json",
    )  # fmt: skip
    assert scan.code == 0, scan.err
    controls = {(c["framework"], c["id"]): c["status"] for c in scan.json()["controls"]}  # type: ignore[index]
    assert {k: v for k, v in controls.items() if k[0] == "y"} == {
        ("y", "X-1"): "PASS", ("y", "X-2"): "FAIL", ("y", "X-3"): "MANUAL"
    }  # fmt: skip
    assert ("soc2", "CC6.1") in controls

    html = tmp_path / "y.html"
    report = cli("report", "--framework", "y", "--db", db, "--html", str(html), "--catalog-dir", str(catalogs))
    assert report.code == 0, report.err
    assert "Y - a throwaway framework" in html.read_text(encoding="utf-8")

    # audit.yaml: catalog_dir relative to the file, frameworks validated against it.
    (tmp_path / "audit.yaml").write_text(
        f"catalog_dir: catalogs\nframeworks: [y]\ntargets:\n  secrets_inventory: {inv}\n"
    )
    scan = cli("scan", "--config", str(tmp_path / "audit.yaml"), "--db", db, "--format", "json")
    assert scan.code == 0, scan.err
    assert {c["framework"] for c in scan.json()["controls"]} == {"y"}  # type: ignore[index]
    (tmp_path / "bad.yaml").write_text("catalog_dir: catalogs\nframeworks: [y, z]\n")
    err = one_line_error(cli("scan", "--config", str(tmp_path / "bad.yaml"), "--db", db))
    assert re.fullmatch(r"auditor: error: .*bad\.yaml:2: frameworks\[1\]: .*'z'.*", err), err


def test_a_bad_catalog_in_catalog_dir_exits_2_naming_file_and_line(
    tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    body = X_CATALOG.replace("framework: x", "framework: y").replace("    colour", "").replace(
        "    category: Governance\n", "    category: Governance\n    colour: red\n"
    )
    catalogs = _write_y(tmp_path / "catalogs", body)
    err = one_line_error(cli("controls", "--catalog-dir", str(catalogs), "--framework", "y"))
    assert err == f"auditor: error: {catalogs / 'y.yaml'}:25: control 'X-3' has unknown keys ['colour']"
    inv = tmp_path / "inv.yaml"
    inv.write_text("secrets: []\n")
    scan = cli("scan", "--catalog-dir", str(catalogs), "--framework", "y", "--secrets-inventory", str(inv),
               "--db", str(tmp_path / "a.db"))  # fmt: skip
    assert one_line_error(scan).startswith(f"auditor: error: {catalogs / 'y.yaml'}:25:")
    assert not (tmp_path / "a.db").exists()  # bad input: no database created

    yaml_error = _write_y(tmp_path / "syntax", "framework: y\ncontrols:\n  - id: [unclosed\n")
    err = one_line_error(cli("controls", "--catalog-dir", str(yaml_error), "--framework", "y"))
    where = re.escape(str(yaml_error / "y.yaml"))
    assert re.fullmatch(rf"auditor: error: {where}:\d+: malformed control catalog: .*", err)

    clash = _write_y(tmp_path / "clash", X_CATALOG.replace("framework: x", "framework: soc2"))
    (clash / "y.yaml").rename(clash / "soc2.yaml")
    err = one_line_error(cli("controls", "--catalog-dir", str(clash)))
    assert "framework 'soc2' is already installed" in err
    assert one_line_error(cli("controls", "--catalog-dir", str(tmp_path / "nowhere"))).endswith(": not a folder")


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "--framework", "soc2,nist", "--secrets-inventory", "inv.yaml", "--db", "a.db"],
        ["controls", "--framework", "nist"],
        ["report", "--framework", "nist", "--html", "r.html", "--db", "a.db"],
        ["trend", "--framework", "nist", "--db", "a.db"],
        ["evidence", "list", "--framework", "nist", "--db", "a.db"],
    ],
)
def test_an_unknown_framework_exits_2_listing_the_installed_ones(
    args: list[str], tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inv.yaml").write_text("secrets: []\n")
    if args[0] == "report":  # a report needs a run: one soc2 scan first
        assert cli("scan", "--secrets-inventory", "inv.yaml", "--db", "a.db").code == 0
    err = one_line_error(cli(*args))
    assert err == f"auditor: error: unknown framework 'nist' (installed: {INSTALLED})"
