"""The deps provider: golden fixtures offline, the online OSV path, skipped packages, exit codes."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from deps_osv_server import serve_osv

import auditor.providers.deps as deps_mod
from auditor.config import AuditConfig
from auditor.engine import gate_exit_code
from auditor.errors import InputError
from auditor.models import Finding, Severity, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.deps import DepsProvider
from auditor.providers.deps.pip_audit import parse_report
from auditor.providers.deps.sources import discover
from auditor.vulndb import VulnDB, import_path

ROOT = Path(__file__).resolve().parents[3]
DEMO_OSV = ROOT / "auditor" / "demo_data" / "osv"
FIX = Path(__file__).resolve().parent / "fixtures" / "project"
REQ, DEV, PYPROJECT = FIX / "requirements.txt", FIX / "requirements-dev.txt", FIX / "lib" / "pyproject.toml"
JINJA, REQUESTS = "GHSA-h5c8-rqwp-cp95", "GHSA-j8r2-6x86-q33q"
V845, G4MX = "GHSA-v845-jxx5-vc9f", "GHSA-g4mx-q9vg-27p4"

# (status, resource, file, advisory or "") for the whole fixture project.
GOLDEN = {
    ("FAIL", "pypi:jinja2", "requirements.txt", JINJA),
    ("PASS", "pypi:requests", "requirements.txt", ""),
    ("FAIL", "pypi:urllib3", "requirements.txt", G4MX),
    ("PASS", "pypi:idna", "requirements.txt", ""),
    ("PASS", "pypi:flask", "requirements.txt", ""),
    ("FAIL", "pypi:urllib3", "requirements-dev.txt", G4MX),
    ("FAIL", "pypi:urllib3", "requirements-dev.txt", V845),
    ("FAIL", "pypi:requests", "requirements-dev.txt", REQUESTS),  # markers do not hide a vulnerable pin
    ("PASS", "pypi:jinja2", "pyproject.toml", ""),
    ("ERROR", "pypi:requests", "pyproject.toml", ""),  # requests>=2: not pinned, --offline
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def local_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: datetime) -> Path:
    path = tmp_path / "vulndb.sqlite"
    with VulnDB.open(path, create=True) as db:
        import_path(db, DEMO_OSV, now)
    monkeypatch.setenv("AUDITOR_VULNDB", str(path))
    return path


@pytest.fixture
def no_local_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "absent.sqlite"))


def scan(*paths: Path, offline: bool = True, now: datetime | None = None) -> list[Finding]:
    ctx = ScanContext(config=AuditConfig(targets=targets(deps=paths), offline=offline), now=now or datetime.now())
    provider = DepsProvider()
    provider.prepare(ctx)
    return list(provider.run(ctx))


def outcome(findings: list[Finding]) -> set[tuple[str, str, str, str]]:
    return {(f.status.value, f.resource.id, Path(f.resource.path or "").name, f.discriminator) for f in findings}


def by(findings: list[Finding], resource: str, advisory: str = "", file: str = "requirements.txt") -> Finding:
    (hit,) = [f for f in findings if f.resource.id == resource and f.discriminator == advisory
              and Path(f.resource.path or "").name == file]
    return hit


# Discovery ---------------------------------------------------------------------------------


def test_discovery_finds_requirements_and_project_files_only() -> None:
    assert discover(FIX).files == [DEV, REQ, PYPROJECT]  # not .venv/, not a tool-settings-only pyproject
    assert discover(REQ).files == [REQ]
    with pytest.raises(InputError, match="no such file or directory"):
        discover(FIX / "missing.txt")


# Offline, local database -------------------------------------------------------------------


def test_golden_project_offline(local_db: Path) -> None:
    findings = scan(FIX)
    assert outcome(findings) == GOLDEN
    assert len(findings) == len(GOLDEN)


def test_vulnerable_finding_carries_advisory_evidence(local_db: Path) -> None:
    findings = scan(REQ, DEV)
    jinja = by(findings, "pypi:jinja2", JINJA)
    assert jinja.severity is Severity.MEDIUM
    assert (jinja.resource.type, jinja.resource.path, jinja.resource.line) == ("python.package", str(REQ), 2)
    assert jinja.message == (
        "jinja2 3.1.2 is affected by GHSA-h5c8-rqwp-cp95 (CVE-2024-22195): Jinja vulnerable to HTML attribute "
        "injection when passing user input as keys to xmlattr filter; fixed in 3.1.3"
    )
    assert jinja.evidence == {
        "package": "jinja2",
        "version": "3.1.2",
        "requirement": "jinja2==3.1.2",
        "declared_in": f"{REQ}:2",
        "source": f"vulndb:{local_db}",
        "advisory_id": JINJA,
        "aliases": ["CVE-2024-22195"],
        "fixed_versions": ["3.1.3"],
        "summary": "Jinja vulnerable to HTML attribute injection when passing user input as keys to xmlattr filter",
        "severity": "medium",
        "severity_source": "cvss_v3",
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
        "cvss_score": 5.4,
        "severity_label": None,
        "url": "https://github.com/pallets/jinja/security/advisories/GHSA-h5c8-rqwp-cp95",
        "published": "2024-01-11T00:00:00Z",
        "modified": "2024-01-11T00:00:00Z",
    }
    passing = by(findings, "pypi:requests")
    assert passing.evidence["database"] == {
        "path": str(local_db), "pypi_advisories": 4, "last_import_at": "2026-11-28T12:00:00Z",
    }
    v845 = by(findings, "pypi:urllib3", V845, "requirements-dev.txt")
    assert (v845.severity, v845.evidence["severity_source"], v845.evidence["severity_label"]) == (
        Severity.HIGH, "database_specific", "HIGH"
    )
    assert v845.evidence["fixed_versions"] == ["2.0.6"]
    assert v845.evidence["aliases"] == ["CVE-2023-43804", "PYSEC-2023-192"]


def test_fingerprints_follow_advisory_not_version(local_db: Path, tmp_path: Path) -> None:
    before = tmp_path / "a" / "requirements.txt"
    after = tmp_path / "b" / "requirements.txt"
    before.parent.mkdir()
    after.parent.mkdir()
    before.write_text("urllib3==1.26.5\n")
    after.write_text("urllib3==1.26.17\n")
    old = {f.discriminator: f.fingerprint for f in scan(before)}
    new = {f.discriminator: f.fingerprint for f in scan(after)}
    assert set(old) == {G4MX, V845} and set(new) == {G4MX}
    # Same file name in another folder is another resource; within one path the id is stable.
    assert len({*old.values(), *new.values()}) == 3


def test_unauditable_requirements_are_errors(local_db: Path, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(
        "jinja2==3.1.3\n"
        "-e git+https://github.com/example/thing#egg=thing\n"
        "./vendor/localpkg\n"
        "bad line ===\n"
        "odd===not-pep440\n"
        "flask>=2\n"
    )
    findings = scan(req)
    assert outcome(findings) == {
        ("PASS", "pypi:jinja2", "requirements.txt", ""),
        ("ERROR", "pypi:thing", "requirements.txt", ""),
        ("ERROR", "requirement:./vendor/localpkg", "requirements.txt", ""),
        ("ERROR", f"file:{req}", "requirements.txt", "line:4"),
        ("ERROR", "pypi:odd", "requirements.txt", ""),
        ("ERROR", "pypi:flask", "requirements.txt", ""),
    }
    errors = {f.resource.id: f.message for f in findings if f.status is Status.ERROR}
    assert errors["pypi:odd"] == "odd===not-pep440: 'not-pep440' is not a PEP 440 version"
    assert "cannot be resolved offline" in errors["pypi:flask"]


def test_empty_database_is_never_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "empty.sqlite"
    VulnDB.open(path, create=True).close()
    monkeypatch.setenv("AUDITOR_VULNDB", str(path))
    findings = scan(REQ)
    assert {f.status for f in findings} == {Status.ERROR}
    assert all("holds no PyPI advisories" in f.message for f in findings)
    (source,) = [f for f in findings if f.resource.id == f"vulndb:{path}"]
    assert source.affects == ("deps.*",)


def test_offline_without_database_is_input_error(no_local_db: None) -> None:
    with pytest.raises(InputError, match="--offline needs the local vulnerability database"):
        scan(REQ, offline=True)


def test_directory_without_dependency_files_is_skipped(local_db: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (finding,) = scan(tmp_path / "empty")
    assert finding.status is Status.SKIPPED


# pip-audit skipping packages -----------------------------------------------------------------


def test_skipped_packages_are_errors_even_when_pip_audit_says_no_vulnerabilities(
    local_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip-audit's own JSON when its service was out of reach: every package skipped,
    # "No known vulnerabilities found" on stderr, exit 0.
    manifest = json.dumps({"dependencies": [
        {"name": "jinja2", "skip_reason": "Connection refused: could not reach the vulnerability service"},
        {"name": "requests", "skip_reason": "Connection refused: could not reach the vulnerability service"},
        {"name": "urllib3", "skip_reason": "Connection refused: could not reach the vulnerability service"},
        {"name": "idna", "version": "3.7", "vulns": []},
    ], "fixes": []})
    monkeypatch.setattr(deps_mod, "run_pip_audit", lambda *a, **k: parse_report(manifest))
    findings = scan(REQ)
    assert outcome(findings) == {
        ("ERROR", "pypi:jinja2", "requirements.txt", ""),
        ("ERROR", "pypi:requests", "requirements.txt", ""),
        ("ERROR", "pypi:urllib3", "requirements.txt", ""),
        ("PASS", "pypi:idna", "requirements.txt", ""),
        ("ERROR", "pypi:flask", "requirements.txt", ""),  # not reported at all
    }
    messages = {f.resource.id: f.message for f in findings}
    assert messages["pypi:jinja2"] == (
        "pip-audit could not audit jinja2: Connection refused: could not reach the vulnerability service"
    )
    assert messages["pypi:flask"] == "pip-audit did not report flask; it was not audited"
    assert gate_exit_code(findings, Severity.HIGH, allow_errors=False) == 3


# Online OSV path -----------------------------------------------------------------------------


def test_online_osv_path_matches_local_results(
    no_local_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_osv(DEMO_OSV, tmp_path / "server.sqlite") as (url, service):
        monkeypatch.setenv("AUDITOR_OSV_URL", url)
        findings = scan(REQ, offline=False)
    assert outcome(findings) == {o for o in GOLDEN if o[2] == "requirements.txt"}
    queried = sorted(p for m, p in service.requests if m == "POST")
    assert queried == ["/v1/query"] * 5
    assert sorted(p for m, p in service.requests if m == "GET") == [f"/v1/vulns/{G4MX}", f"/v1/vulns/{JINJA}"]
    jinja = by(findings, "pypi:jinja2", JINJA)
    assert jinja.severity is Severity.MEDIUM
    assert jinja.evidence["source"] == f"osv:{url}"
    assert (jinja.evidence["cvss_score"], jinja.evidence["severity_source"]) == (5.4, "cvss_v3")
    assert jinja.evidence["aliases"] == ["CVE-2024-22195"]
    assert jinja.evidence["fixed_versions"] == ["3.1.3"]


@pytest.mark.slow  # pip-audit builds a virtual environment (ensurepip) before pip fails
def test_online_unpinned_that_cannot_be_resolved_is_error(
    no_local_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple")
    with serve_osv(DEMO_OSV, tmp_path / "server.sqlite") as (url, _):
        monkeypatch.setenv("AUDITOR_OSV_URL", url)
        findings = scan(PYPROJECT, offline=False)
    assert outcome(findings) == {
        ("PASS", "pypi:jinja2", "pyproject.toml", ""),
        ("ERROR", "pypi:requests", "pyproject.toml", ""),
    }
    (err,) = [f for f in findings if f.status is Status.ERROR]
    assert err.message.startswith("requests>=2 is not pinned and could not be resolved: pip-audit")


def test_unreachable_service_is_error_for_every_package(no_local_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_OSV_URL", f"http://127.0.0.1:{free_port()}/v1/query")
    findings = scan(REQ, offline=False)
    assert {(f.status, f.resource.id) for f in findings} == {
        (Status.ERROR, f"pypi:{n}") for n in ("jinja2", "requests", "urllib3", "idna", "flask")
    } | {(Status.ERROR, "tool:pip-audit")}
    packages = [f for f in findings if f.resource.id.startswith("pypi:")]
    assert all("could not be audited: pip-audit exited with 1 without a result" in f.message for f in packages)
    assert all("ConnectionError" in f.message for f in packages)
    (service,) = [f for f in findings if f.resource.id == "tool:pip-audit"]
    assert service.affects == ("deps.*",)
    assert service.message.endswith(f"; 5 package(s) under {REQ} were not audited")


# CLI exit codes ----------------------------------------------------------------------------


def test_cli_unreachable_service_exits_3(
    no_local_db: None, tmp_path: Path, auditor_proc: Callable[..., Any]
) -> None:
    res = auditor_proc(
        "scan", "--deps", str(REQ), "--db", str(tmp_path / "a.db"), "--format", "json", "--fail-on", "high",
        env={"AUDITOR_OSV_URL": f"http://127.0.0.1:{free_port()}/v1/query"},
    )
    assert res.code == 3, res.err
    doc = res.json()
    assert doc["run"]["status"] == "partial"
    # Five packages and the pip-audit run they depended on.
    assert doc["summary"]["by_status"] == {"PASS": 0, "FAIL": 0, "ERROR": 6, "SKIPPED": 0, "WAIVED": 0}
    assert "Traceback" not in res.err


@pytest.mark.parametrize(
    ("args", "code", "counts"),
    [
        (["--deps", str(DEV), "--fail-on", "high"], 1, (0, 3, 0)),  # GHSA-v845-jxx5-vc9f is high
        (["--deps", str(REQ), "--fail-on", "high"], 0, (3, 2, 0)),  # only medium advisories, all audited
        (["--deps", str(FIX), "--fail-on", "critical"], 3, (4, 5, 1)),  # requests>=2 not auditable offline
    ],
)
def test_cli_gate_exit_codes(
    local_db: Path, tmp_path: Path, cli: Callable[..., Any], args: list[str], code: int, counts: tuple[int, ...]
) -> None:
    res = cli("scan", "--offline", "--db", str(tmp_path / "a.db"), "--format", "json", *args)
    assert res.code == code, res.err
    by_status = res.json()["summary"]["by_status"]
    assert (by_status["PASS"], by_status["FAIL"], by_status["ERROR"]) == counts


def test_cli_offline_without_database_exits_2(no_local_db: None, tmp_path: Path, cli: Callable[..., Any]) -> None:
    res = cli("scan", "--deps", str(REQ), "--offline", "--db", str(tmp_path / "a.db"))
    assert res.code == 2
    assert res.err.startswith("auditor: error: --offline needs the local vulnerability database")
    assert res.err.count("\n") == 1
