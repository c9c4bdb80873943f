"""The deps provider's inputs and records: targets and coverage, hostile files (FIFOs,
devices, includes that leave the target), credentials in requirement lines, and a
pip-audit that is missing, crashes or prints garbage."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import auditor.tools as tools
from auditor.config import AuditConfig
from auditor.engine import rebase_finding
from auditor.errors import InputError
from auditor.models import Coverage, Finding, SkippedItem, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.deps import DepsProvider
from auditor.providers.deps.sources import discover
from auditor.redact import mask
from auditor.runs import run_scan
from auditor.scope import PathRebaser
from auditor.store import Store
from auditor.vulndb import VulnDB, import_path

ROOT = Path(__file__).resolve().parents[3]
DEMO_OSV = ROOT / "auditor" / "demo_data" / "osv"
FIX = Path(__file__).resolve().parent / "fixtures" / "project"
REQ = FIX / "requirements.txt"
PASSWORD = "Tr0ub4dor-deploy-7731"  # planted in requirement lines: must never come out
MASKED = mask(PASSWORD)


@pytest.fixture
def local_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: datetime) -> Path:
    path = tmp_path / "vulndb.sqlite"
    with VulnDB.open(path, create=True) as db:
        import_path(db, DEMO_OSV, now)
    monkeypatch.setenv("AUDITOR_VULNDB", str(path))
    return path


def scan_with_coverage(*paths: Path, now: datetime) -> tuple[list[Finding], list[Coverage]]:
    ctx = ScanContext(config=AuditConfig(targets=targets(deps=paths), offline=True), now=now)
    provider = DepsProvider()
    provider.prepare(ctx)
    return list(provider.run(ctx)), ctx.coverage


def outcome(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.status.value, f.resource.id, f.message) for f in findings}


# Targets and coverage ------------------------------------------------------------------------


def test_every_finding_has_its_target_and_each_target_one_coverage(local_db: Path, now: datetime) -> None:
    findings, coverage = scan_with_coverage(FIX, REQ, now=now)
    target = f"deps:{FIX.resolve()}"
    # requirements.txt is under both targets: audited once, under the first.
    assert {f.target for f in findings} == {target}
    assert [c.target for c in coverage] == [target, f"deps:{REQ.resolve()}"]
    assert DepsProvider().targets(AuditConfig(targets=targets(deps=(FIX, REQ)))) == [c.target for c in coverage]
    project, lock = coverage
    assert project.examined == {
        "files_found": 3, "files_read": 3, "packages": 9, "pinned": 8, "audited": 8, "errored": 1,
    }
    assert project.skipped == ()
    assert project.complete is False  # requests>=2 cannot be resolved offline
    assert project.details == {
        "vulnerability_source": f"vulndb:{local_db}",
        "files": ["requirements-dev.txt", "requirements.txt", "lib/pyproject.toml"],
        "included_files": [],
        "packages_by_ecosystem": {"PyPI": 9},
        "database": {"path": str(local_db), "pypi_advisories": 4, "last_import_at": "2026-11-28T12:00:00Z"},
    }
    assert lock.examined == {
        "files_found": 1, "files_read": 0, "packages": 0, "pinned": 0, "audited": 0, "errored": 0,
    }
    assert lock.details["files_audited_under_another_target"] == [str(REQ)]


def test_a_clean_target_is_complete(local_db: Path, tmp_path: Path, now: datetime) -> None:
    (tmp_path / "requirements.txt").write_text("jinja2==3.1.4\nidna==3.7\n")
    findings, (coverage,) = scan_with_coverage(tmp_path, now=now)
    assert {(f.status, f.resource.id) for f in findings} == {(Status.PASS, "pypi:jinja2"), (Status.PASS, "pypi:idna")}
    assert coverage.complete is True
    assert coverage.examined["audited"] == 2


def test_fingerprints_do_not_depend_on_where_the_checkout_is(
    local_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    """A baseline made in one checkout must match in another (CI): the provider names the file it
    read (absolute), the engine names it relative to the source root, and the fingerprint follows."""
    seen = []
    for checkout in ("one", "two"):
        (tmp_path / checkout / "app").mkdir(parents=True)
        (tmp_path / checkout / "app" / "requirements.txt").write_text("jinja2==3.1.2\n")
        monkeypatch.chdir(tmp_path / checkout)
        for target in (Path("app"), Path("app/requirements.txt")):
            findings, (coverage,) = scan_with_coverage(target, now=now)
            (f,) = findings
            assert f.resource.path == str(tmp_path / checkout / "app" / "requirements.txt")
            assert coverage.target == f"deps:{tmp_path / checkout / target}"
            rebased = rebase_finding(f, PathRebaser(tmp_path / checkout))
            assert rebased.resource.path == "app/requirements.txt"
            seen.append(rebased.fingerprint)
    assert len(set(seen)) == 1


# Credentials in requirement lines -------------------------------------------------------------


def test_requirement_credentials_never_reach_a_finding_even_before_redaction(
    local_db: Path, tmp_path: Path, now: datetime
) -> None:
    (tmp_path / "requirements.txt").write_text(
        "jinja2==3.1.4\n"
        f"pkg @ https://deploy:{PASSWORD}@pkgs.example.com/pkg-1.0.tar.gz\n"
        f"https://deploy:{PASSWORD}@pkgs.example.com/nameless-1.0.tar.gz\n"
        f"-e git+https://oauth2:{PASSWORD}@git.example.com/team/tool.git#egg=tool\n"
        f"--index-url https://deploy:{PASSWORD}@pkgs.example.com/simple\n"
        f"-r https://deploy:{PASSWORD}@pkgs.example.com/more.txt\n"
        f"DEPLOY_KEY={PASSWORD}\n"
        f"ARTIFACTORY={PASSWORD}\n"
    )
    # Straight from the provider: the engine's redaction pass has not run yet.
    findings, (coverage,) = scan_with_coverage(tmp_path, now=now)
    for f in findings:
        assert PASSWORD not in json.dumps(f.to_dict()), f.to_dict()
    assert PASSWORD not in json.dumps(coverage.to_dict())
    errors = {(f.resource.id, f.resource.line): f.message for f in findings if f.status is Status.ERROR}
    req = tmp_path / "requirements.txt"
    assert errors[("pypi:pkg", 2)] == (
        f"pkg @ https://deploy:{MASKED}@pkgs.example.com/pkg-1.0.tar.gz: "
        "a URL, path or VCS requirement has no version to audit"
    )
    assert (f"requirement:https://deploy:{MASKED}@pkgs.example.com/nameless-1.0.tar.gz", 3) in errors
    assert ("pypi:tool", 4) in errors
    assert errors[(f"file:{req}", 6)] == (
        f"-r/-c https://deploy:{MASKED}@pkgs.example.com/more.txt: remote requirement files are "
        "not fetched; audit a local copy"
    )
    # Lines that are no requirement are not echoed at all: only the parser's reason.
    assert errors[(f"file:{req}", 8)] == (
        "invalid requirement: Invalid requirement: = is not a valid operator. Did you mean == ?: "
        "Expected end or semicolon (after name and no valid version specifier)"
    )


def test_online_source_url_credentials_are_not_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "absent.sqlite"))
    monkeypatch.setenv("AUDITOR_OSV_URL", f"http://mirror:{PASSWORD}@127.0.0.1:9/v1/query")
    (tmp_path / "requirements.txt").write_text("idna==3.7\n")
    ctx = ScanContext(config=AuditConfig(targets=targets(deps=(tmp_path,))), now=datetime(2026, 11, 28))
    provider = DepsProvider()
    provider.prepare(ctx)
    findings = list(provider.run(ctx))
    assert {f.status for f in findings} == {Status.ERROR}
    for f in findings:
        assert PASSWORD not in json.dumps(f.to_dict())
    assert ctx.coverage[0].details["vulnerability_source"] == f"osv:http://mirror:{MASKED}@127.0.0.1:9/v1/query"


# Hostile files: never opened in a way that could hang ------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.timeout(60)
def test_a_target_that_is_not_a_file_or_directory_is_input_error(tmp_path: Path, kind: str) -> None:
    target = Path("/dev/zero")
    if kind == "fifo":
        target = tmp_path / "requirements.txt"
        os.mkfifo(target)
    with pytest.raises(InputError, match=r"^--deps .*: a (FIFO \(named pipe\)|device), not a dependency file"):
        discover(target)


@pytest.mark.timeout(60)
def test_cli_fifo_target_exits_2_with_one_line(tmp_path: Path, cli: Callable[..., Any]) -> None:
    fifo = tmp_path / "requirements.txt"
    os.mkfifo(fifo)
    res = cli("scan", "--deps", str(fifo), "--db", str(tmp_path / "a.db"))
    assert res.code == 2
    assert res.err == f"auditor: error: --deps {fifo}: a FIFO (named pipe), not a dependency file or directory; " \
                      "refusing to read it\n"
    assert not (tmp_path / "a.db").exists()


@pytest.mark.timeout(60)
def test_fifos_in_the_tree_are_errors_never_read(local_db: Path, tmp_path: Path, now: datetime) -> None:
    (tmp_path / "requirements.txt").write_text("idna==3.7\n")
    os.mkfifo(tmp_path / "requirements-dev.txt")
    (tmp_path / "requirements-zero.txt").symlink_to("/dev/zero")
    (tmp_path / "lib").mkdir()
    os.mkfifo(tmp_path / "lib" / "pyproject.toml")
    findings, (coverage,) = scan_with_coverage(tmp_path, now=now)
    assert outcome(findings) == {
        ("PASS", "pypi:idna", f"idna 3.7: no known vulnerability (vulndb:{local_db})"),
        ("ERROR", f"file:{tmp_path / 'requirements-dev.txt'}",
         "requirements-dev.txt: a FIFO (named pipe), not a regular file: not read"),
        ("ERROR", f"file:{tmp_path / 'lib' / 'pyproject.toml'}",
         "lib/pyproject.toml: a FIFO (named pipe), not a regular file: not read"),
    }
    assert coverage.complete is False
    assert set(coverage.skipped) == {
        SkippedItem("requirements-dev.txt", "a FIFO (named pipe), not a regular file: not read"),
        SkippedItem("lib/pyproject.toml", "a FIFO (named pipe), not a regular file: not read"),
    }
    assert coverage.examined["files_found"] == 3
    # A link out of the target is out of scope (as for every file target), counted, never opened.
    assert coverage.details["excluded"] == {"symbolic link out of the target": 1}


@pytest.mark.timeout(60)
def test_includes_are_followed_inside_the_target_only(local_db: Path, tmp_path: Path, now: datetime) -> None:
    project = tmp_path / "project"
    (project / "reqs").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("jinja2==3.1.2\n")
    os.mkfifo(project / "reqs" / "pipe.txt")
    (project / "reqs" / "base.txt").write_text("idna==3.7\n-r ../requirements.txt\n")  # a cycle: read once
    (project / "requirements.txt").write_text(
        "-r reqs/base.txt\n"
        "-r ../outside.txt\n"
        "-r reqs/pipe.txt\n"
        "-c /proc/self/environ\n"
        "-r reqs/missing.txt\n"
    )
    findings, (coverage,) = scan_with_coverage(project, now=now)
    req = project / "requirements.txt"
    assert outcome(findings) == {
        ("PASS", "pypi:idna", f"idna 3.7: no known vulnerability (vulndb:{local_db})"),
        ("ERROR", f"file:{req}", f"-r/-c ../outside.txt: outside the scanned target ({project}); not read"),
        ("ERROR", f"file:{req}", f"-r/-c /proc/self/environ: outside the scanned target ({project}); not read"),
        ("ERROR", f"file:{req}", f"-r/-c reqs/pipe.txt: cannot read {project}/reqs/pipe.txt: included requirements "
                                 "file is a FIFO (named pipe), not a regular file; refusing to read it"),
        ("ERROR", f"file:{req}", f"-r/-c reqs/missing.txt: cannot read {project}/reqs/missing.txt: included "
                                 "requirements file not found"),
    }
    (idna,) = [f for f in findings if f.resource.id == "pypi:idna"]
    assert (idna.resource.path, idna.resource.line, idna.evidence["declared_in"]) == (
        str(req), None, f"{project}/reqs/base.txt:1"
    )
    assert coverage.details["included_files"] == ["reqs/base.txt"]
    assert {s.item for s in coverage.skipped} == {"requirements.txt:2", "requirements.txt:3", "requirements.txt:4",
                                                  "requirements.txt:5"}


# pip-audit missing, crashing, printing garbage -----------------------------------------------


def fake_tool(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "fake-pip-audit"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


FAULTS = {
    "missing": None,
    "crash": "echo 'Traceback (most recent call last):' >&2\necho 'RuntimeError: boom' >&2\nexit 1\n",
    "garbage": "echo 'No known vulnerabilities found'\nexit 0\n",
    "wrong versions": "echo '{\"dependencies\": [{\"name\": \"idna\", \"version\": \"9.9\", \"vulns\": []}, "
                      "{\"name\": \"jinja2\", \"version\": \"9.9\", \"vulns\": []}]}'\nexit 0\n",
}
FAULT_ERRORS = {
    "missing": "pip-audit is not installed (looked beside",
    "crash": "pip-audit exited with 1 without a result: RuntimeError: boom",
    "garbage": "pip-audit exited with 0 without a result",
    "wrong versions": "pip-audit reported idna '9.9' where '3.7' was asked for",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broken_pip_audit_is_error_for_every_package_and_its_controls(
    local_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: datetime, fault: str
) -> None:
    script = FAULTS[fault]
    real = tools.find_tool

    def find_tool(name: str) -> str:
        if name != "pip-audit":
            return real(name)
        if script is None:
            raise tools.ToolError("pip-audit is not installed (looked beside the interpreter and on PATH)")
        return str(fake_tool(tmp_path, script))

    monkeypatch.setattr(tools, "find_tool", find_tool)
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("idna==3.7\njinja2==3.1.2\n")
    store = Store.open(tmp_path / "a.db")
    try:
        result = run_scan(AuditConfig(targets=targets(deps=(project,)), offline=True), store, now=now)
    finally:
        store.close()
    assert {(f.status, f.resource.id) for f in result.findings} == {
        (Status.ERROR, "pypi:idna"), (Status.ERROR, "pypi:jinja2"), (Status.ERROR, "tool:pip-audit"),
    }
    (service,) = [f for f in result.findings if f.resource.id == "tool:pip-audit"]
    assert service.message.startswith(f"pip-audit could not audit: {FAULT_ERRORS[fault]}")
    assert service.message.endswith(f"; 2 package(s) under {project} were not audited")
    assert service.affects == ("deps.*",)
    assert service.target == f"deps:{project}"
    controls = {c.ref: c.status.value for c in result.controls}
    assert (controls["soc2:CC7.1"], controls["gdpr:Art.32(1)(b)"]) == ("ERROR", "ERROR")
    (coverage,) = result.coverage
    assert (coverage.complete, coverage.examined["errored"], coverage.examined["audited"]) == (False, 2, 0)
    assert "deps.*" in coverage.errored_checks
