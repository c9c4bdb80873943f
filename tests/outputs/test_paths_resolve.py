"""One path base: every file a CI output names exists where a CI system looks for it.

A real scan (real checkov, semgrep, the offline vulnerability database, the secrets
inventory) of a git workspace, run the way CI runs it: from the workspace root, over a
subfolder or over the whole repository, and from somewhere else with absolute paths.
Every SARIF `artifactLocation` resolved against the working directory (= `%SRCROOT%`),
every JUnit `file`, every OCSF `resources[].data.path` and every CSV/JSON path must be
an existing file, and every line must be inside it.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from auditor.cli import parse_args
from auditor.cli.scan_cmd import config_from_args
from auditor.outputs import FORMATS
from auditor.runs import run_scan
from auditor.store import Store
from auditor.vulndb import VulnDB, import_path
from tests.conftest import CliResult, run_auditor, write_inventory
from tests.github_sarif import ingestion_problems

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with IaC, code, dependencies and a secrets inventory in subfolders."""
    ws = tmp_path_factory.mktemp("ws") / "repo"
    (ws / "infra" / "k8s").mkdir(parents=True)
    (ws / "src" / "app").mkdir(parents=True)
    (ws / "services" / "api").mkdir(parents=True)
    (ws / "ops").mkdir()
    golden = FIXTURES / "iac" / "golden"
    (ws / "infra" / "main.tf").write_text((golden / "terraform" / "main.tf").read_text())
    (ws / "infra" / "k8s" / "pods.yaml").write_text((golden / "kubernetes" / "pods.yaml").read_text())
    (ws / "src" / "app" / "views.py").write_text((FIXTURES / "code" / "app" / "views.py").read_text())
    (ws / "services" / "api" / "requirements.txt").write_text("jinja2==3.1.2\nrequests==2.30.0\n")
    write_inventory(
        ws / "ops",
        "secrets:\n  - name: old-token\n    owner: platform\n    last_rotated: 2020-01-01\n",
    )
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws


@pytest.fixture(scope="module")
def vulndb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vulndb") / "vulndb.sqlite"
    with VulnDB.open(path, create=True) as db:
        import_path(db, ROOT / "auditor" / "demo_data" / "osv", datetime(2026, 11, 29))
    return path


def scan(
    cwd: Path, vulndb: Path, out: Path, *targets: str, fmt: str = "sarif", extra: tuple[str, ...] = ()
) -> CliResult:
    res = run_auditor(
        "scan",
        *targets,
        "--offline",
        "--allow-errors",
        "--db",
        str(out.with_suffix(".db")),
        "--format",
        fmt,
        "--output",
        str(out),
        *extra,
        env={"AUDITOR_VULNDB": str(vulndb), "AUDITOR_NOW": "2026-11-29T12:00:00+00:00"},
        cwd=cwd,
    )
    assert res.code == 0, res.err
    return res


def lines_in(path: Path) -> int:
    return max(1, len(path.read_text(encoding="utf-8", errors="replace").splitlines()))


def sarif_locations(doc: dict[str, Any]) -> list[tuple[Path, str, int]]:
    """(file resolved against %SRCROOT%, uri, startLine) for every result."""
    run = doc["runs"][0]
    base = Path(unquote(urlparse(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]).path))
    out = []
    for r in run["results"]:
        assert len(r["locations"]) == 1
        phys = r["locations"][0]["physicalLocation"]
        art = phys["artifactLocation"]
        assert art["uriBaseId"] == "%SRCROOT%", art
        out.append((base / unquote(art["uri"]), art["uri"], phys["region"]["startLine"]))
    return out


def assert_resolve(cwd: Path, locations: list[tuple[Path, str, int]]) -> None:
    assert locations
    for resolved, uri, line in locations:
        # the way GitHub resolves a checked-out repository: the uri against the working directory
        assert (cwd / unquote(uri)).is_file(), uri
        assert resolved.resolve() == (cwd / unquote(uri)).resolve()
        assert 1 <= line <= lines_in(resolved), (uri, line)


SUBFOLDER = {"infra/main.tf", "infra/k8s/pods.yaml"}
WHOLE = {
    "infra/main.tf",
    "infra/k8s/pods.yaml",
    "src/app/views.py",
    "services/api/requirements.txt",
    "ops/inventory.yaml",
}


def test_a_subfolder_scan_from_the_workspace_root_resolves(workspace: Path, vulndb: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub.sarif"
    scan(workspace, vulndb, out, "--iac", "infra")
    locations = sarif_locations(json.loads(out.read_text()))
    assert_resolve(workspace, locations)
    assert {uri for _, uri, _ in locations} == SUBFOLDER


def scan_every_format(cwd: Path, vulndb: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, str]:
    """One real scan from `cwd` with the scan command's own flags, rendered in every format."""
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("AUDITOR_VULNDB", str(vulndb))
    config = config_from_args(parse_args(["scan", *args, "--offline", "--db", ":memory:"]))
    store = Store.memory()
    try:
        result = run_scan(config, store, now=datetime(2026, 11, 29, 12, tzinfo=UTC))
    finally:
        store.close()
    out = {}
    for fmt, writer in FORMATS.items():
        stream = io.StringIO()
        writer(result, stream)
        out[fmt] = stream.getvalue()
    return out


SCENARIOS = {
    "subfolders from the root": (
        ".",
        ("--iac", "infra", "--code", "src", "--deps", "services/api/requirements.txt",
         "--secrets-inventory", "ops/inventory.yaml"),
    ),
    "the whole repository from the root": (
        ".",
        ("--iac", ".", "--code", ".", "--deps", ".", "--secrets-inventory", "ops/inventory.yaml"),
    ),
    "a subfolder from inside it": (
        "infra",
        ("--iac", ".", "--code", "../src", "--deps", "../services/api",
         "--secrets-inventory", "../ops/inventory.yaml"),
    ),
    "absolute paths from elsewhere": (
        None,
        ("--iac", "{ws}/infra", "--code", "{ws}/src", "--deps", "{ws}/services/api/requirements.txt",
         "--secrets-inventory", "{ws}/ops/inventory.yaml"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_format_names_files_that_exist_in_the_checkout(
    workspace: Path, vulndb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    where, args = SCENARIOS[scenario]
    cwd = tmp_path if where is None else workspace / where
    outputs = scan_every_format(cwd, vulndb, monkeypatch, *(a.format(ws=workspace) for a in args))

    sarif = json.loads(outputs["sarif"])
    assert ingestion_problems(sarif, checkout=workspace) == []
    locations = sarif_locations(sarif)
    assert_resolve(workspace, locations)  # the checkout, wherever the scan ran from
    assert {uri for _, uri, _ in locations} == WHOLE

    cases = [c for c in ET.fromstring(outputs["junit"]).iter("testcase") if c.get("file")]
    assert {c.get("file") for c in cases} >= WHOLE
    for c in cases:
        file = c.get("file")
        assert file is not None and (workspace / file).exists(), file  # a target folder's own case: the folder
        if c.get("line"):
            assert 1 <= int(c.get("line") or 0) <= lines_in(workspace / file)

    doc = json.loads(outputs["json"])
    paths = {f["resource"]["path"] for f in doc["findings"] if f["resource"]["path"]}
    assert paths >= WHOLE and all((workspace / p).exists() for p in paths), paths - WHOLE
    assert paths - WHOLE <= {".", "infra", "src", "services/api"}  # a target's own findings name its folder
    assert doc["source_root"] == str(workspace.resolve())
    assert {f["provider"] for f in doc["findings"] if f["resource"]["path"] and f["status"] == "FAIL"} == {
        "iac",
        "code",
        "deps",
        "secrets",
    }
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert {r["path"] for r in rows if r["path"]} == paths
    events = [json.loads(line) for line in outputs["ocsf"].splitlines() if line.strip()]
    located = [e["resources"][0].get("data", {}) for e in events]
    assert {d["path"] for d in located if d.get("path")} == paths
    for d in located:
        if d.get("line"):
            assert 1 <= d["line"] <= lines_in(workspace / d["path"])
    table_paths = {p for p in WHOLE if p in outputs["table"]}
    assert table_paths == WHOLE


def test_source_root_flag_sets_the_base(workspace: Path, vulndb: Path, tmp_path: Path) -> None:
    out = tmp_path / "infra.sarif"
    scan(workspace, vulndb, out, "--iac", "infra", extra=("--source-root", "infra"))
    doc = json.loads(out.read_text())
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (workspace / "infra").resolve().as_uri() + "/"
    locations = sarif_locations(doc)
    assert_resolve(workspace / "infra", locations)
    assert {uri for _, uri, _ in locations} == {"main.tf", "k8s/pods.yaml"}


def test_a_missing_source_root_is_a_usage_error(workspace: Path, tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    db = tmp_path / "never.db"
    res = cli("scan", "--iac", str(workspace / "infra"), "--source-root", str(tmp_path / "nope"), "--db", str(db))
    assert res.code == 2 and res.err.count("\n") == 1 and "--source-root" in res.err
    assert not db.exists()


def test_one_file_has_one_identity_from_any_folder(workspace: Path, vulndb: Path, tmp_path: Path) -> None:
    """The same file scanned as part of the repository or on its own: same path, same fingerprint."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    scan(workspace, vulndb, a, "--iac", "infra", fmt="json")
    scan(workspace / "infra", vulndb, b, "--iac", "main.tf", fmt="json")

    def by_fingerprint(doc: Path) -> dict[str, str]:
        findings = json.loads(doc.read_text())["findings"]
        return {f["fingerprint"]: f["resource"]["path"] for f in findings if f["resource"]["type"] != "iac.path"}

    fa, fb = by_fingerprint(a), by_fingerprint(b)
    assert set(fb.values()) == {"infra/main.tf"} and len(fb) >= 5
    assert fb.items() <= fa.items()


def test_resource_inventory_must_be_inside_the_source_root(
    workspace: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    db = tmp_path / "never.db"
    res = cli(
        "scan", "--iac", str(workspace / "infra"), "--format", "sarif",
        "--sarif-resources", str(tmp_path / "resources.txt"), "--db", str(db),
    )  # fmt: skip
    assert res.code == 2 and "outside the source root" in res.err and res.err.count("\n") == 1
    assert not db.exists()
    res = cli("scan", "--iac", str(workspace / "infra"), "--sarif-resources", "x.txt", "--db", str(db))
    assert res.code == 2 and "--format sarif" in res.err
