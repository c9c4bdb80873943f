"""Shared fixtures: a fixed clock, inventories with certificates, CLI runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.demo import make_certificate

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's database, cache or clock, nor the version orderings another test's
    image scan registered for the process (`auditor.vulndb.versions.register_scheme`)."""
    from auditor.vulndb import versions

    monkeypatch.setattr(versions, "_SCHEMES", dict(versions._SCHEMES))
    monkeypatch.setenv("AUDITOR_NOW", NOW.isoformat())
    monkeypatch.setenv("AUDITOR_DB", str(tmp_path / "default.db"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def write_inventory(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def golden_inventory(tmp_path: Path) -> Path:
    """Named secrets and certificates with known outcomes at NOW (see test_secrets_provider)."""
    folder = tmp_path / "estate"
    day = timedelta(days=1)
    make_certificate(folder / "certs" / "valid.pem", "valid.example", NOW - 100 * day, NOW + 65 * day)
    make_certificate(folder / "certs" / "soon.pem", "soon.example", NOW - 100 * day, NOW + 20 * day)
    make_certificate(folder / "certs" / "urgent.pem", "urgent.example", NOW - 100 * day, NOW + 5 * day)
    make_certificate(folder / "certs" / "expired.pem", "expired.example", NOW - 400 * day, NOW - 3 * day)
    make_certificate(folder / "certs" / "future.pem", "future.example", NOW + 10 * day, NOW + 400 * day)
    (folder / "certs" / "garbage.pem").write_text("not a certificate\n")
    return write_inventory(
        folder,
        """\
secrets:
  - name: fresh-password
    owner: team-a
    last_rotated: 2026-11-01
  - name: edge-of-policy
    owner: team-a
    last_rotated: 2026-08-30
  - name: overdue-password
    owner: team-b
    system: postgres
    last_rotated: 2026-07-01
  - name: very-overdue-token
    owner: team-b
    last_rotated: 2026-01-15
  - name: custom-age-key
    owner: team-c
    last_rotated: 2026-05-01
    max_age_days: 365
  - name: never-recorded
    owner: team-c
  - name: cert-valid
    certificate: certs/valid.pem
  - name: cert-soon
    certificate: certs/soon.pem
  - name: cert-urgent
    certificate: certs/urgent.pem
  - name: cert-expired
    certificate: certs/expired.pem
  - name: cert-future
    certificate: certs/future.pem
  - name: cert-garbage
    certificate: certs/garbage.pem
  - name: cert-missing
    certificate: certs/missing.pem
""",
    )


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `auditor ...` in-process."""

    def run(*args: str) -> CliResult:
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_auditor(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    """Run the installed `auditor` console script as a real process."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [str(VENV_BIN / "auditor"), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def auditor_proc() -> Iterator[Callable[..., CliResult]]:
    yield run_auditor
