"""Bad input: one clear line, exit 2, nothing written; hostile files never hang or exhaust the machine.

Each test here reproduces a case that, before the fix, crashed (exit 70), hung, ran out of memory,
wrote a database anyway, or could not read a read-only database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from auditor.store import Store
from tests.conftest import NOW, VENV_BIN, CliResult, run_auditor, write_inventory

Cli = Callable[..., CliResult]

INVENTORY = "secrets:\n  - name: db\n    last_rotated: 2026-11-01\n  - name: old\n    last_rotated: 2026-01-01\n"
BAD_DATE_WAIVERS = """\
waivers:
  - check: secrets.inventory.rotation_age
    resource: secret:old
    reason: replaced next sprint
    approver: alice
    created: 2026-11-01
    expires: 2026-13-10
"""


def one_line_error(res: CliResult) -> str:
    assert res.code == 2, (res.code, res.err)
    assert "Traceback" not in res.err and "internal error" not in res.err
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err
    return lines[0]


# Impossible dates: exit 2 with file:line, never 70 --------------------------------------------------


def test_impossible_date_in_a_waivers_file(cli: Cli, tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", INVENTORY)
    waivers = tmp_path / "w.yaml"
    waivers.write_text(BAD_DATE_WAIVERS)
    db = tmp_path / "a.db"
    line = one_line_error(cli("scan", "--secrets-inventory", str(inv), "--waivers", str(waivers), "--db", str(db)))
    assert line.startswith(f"auditor: error: {waivers}:7: ")
    assert "2026-13-10" in line and "is not a date" in line
    assert not db.exists()


def test_impossible_date_in_a_repository_waivers_file(cli: Cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    (repo / ".auditor-waivers.yaml").write_text(BAD_DATE_WAIVERS)
    db = tmp_path / "a.db"
    # Allowed: read before anything runs (without the flag it is ignored: see test_waivers.py).
    line = one_line_error(cli("scan", "--iac", str(repo), "--allow-repo-waivers", "--db", str(db)))
    assert line.startswith(f"auditor: error: {repo / '.auditor-waivers.yaml'}:7: ")
    assert not db.exists()


def test_impossible_date_in_audit_yaml(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text("version: 1\norganisation: 2026-13-10\n")
    line = one_line_error(cli("scan", "--config", str(config)))
    assert line.startswith(f"auditor: error: {config}:2: organisation")
    assert "2026-13-10" in line


# Nothing is written on bad input; --output is checked before scanning -------------------------------


def test_output_directory_is_refused_before_anything_is_stored(cli: Cli, tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", INVENTORY)
    db = tmp_path / "a.db"
    line = one_line_error(cli("scan", "--secrets-inventory", str(inv), "--db", str(db), "--output", str(tmp_path)))
    assert "is a directory" in line
    assert not db.exists()
    missing_parent = inv / "out.json"  # a file where a folder should be
    line = one_line_error(
        cli("scan", "--secrets-inventory", str(inv), "--db", str(db), "--output", str(missing_parent))
    )
    assert "is not a directory" in line
    assert not db.exists()


def test_a_newline_in_a_path_cannot_cut_or_forge_the_error_line(cli: Cli, tmp_path: Path) -> None:
    evil = tmp_path / "inv\nauditor: all good, exit 0.yaml"
    line = one_line_error(cli("scan", "--secrets-inventory", str(evil), "--db", str(tmp_path / "a.db")))
    assert "inv\\nauditor: all good" in line


# Devices, FIFOs, huge files: refused at once, never read -----------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    yield path


@pytest.mark.parametrize("flag", ["--config", "--secrets-inventory", "--waivers", "--baseline"])
@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_devices_and_fifos_are_refused_not_read(tmp_path: Path, fifo: Path, flag: str, kind: str) -> None:
    target = "/dev/zero" if kind == "device" else str(fifo)
    args = [flag, target]
    if flag in ("--waivers", "--baseline"):
        inv = write_inventory(tmp_path / "inv", INVENTORY)
        args = ["--secrets-inventory", str(inv), *args]
    started = time.monotonic()
    res = run_auditor("scan", *args, "--db", str(tmp_path / "a.db"))
    assert time.monotonic() - started < 30
    line = one_line_error(res)
    assert ("a device" if kind == "device" else "a FIFO") in line, line
    assert not (tmp_path / "a.db").exists()


def test_certificate_that_is_a_device_or_fifo_is_an_error_not_a_hang(tmp_path: Path, fifo: Path) -> None:
    folder = tmp_path / "inv"
    inv = write_inventory(
        folder,
        f"secrets:\n  - name: zero\n    certificate: /dev/zero\n  - name: pipe\n    certificate: {fifo}\n"
        "  - name: db\n    last_rotated: 2026-11-01\n",
    )
    started = time.monotonic()
    res = run_auditor("scan", "--secrets-inventory", str(inv), "--db", str(tmp_path / "a.db"), "--format", "json")
    assert time.monotonic() - started < 30
    assert res.code == 3  # incomplete: two certificates could not be read
    doc = res.json()
    assert isinstance(doc, dict)
    got = {(f["resource"]["id"], f["status"]) for f in doc["findings"]}
    assert got == {("secret:zero", "ERROR"), ("secret:pipe", "ERROR"), ("secret:db", "PASS")}
    messages = {f["resource"]["id"]: f["message"] for f in doc["findings"]}
    assert "a device" in messages["secret:zero"] and "a FIFO" in messages["secret:pipe"]
    coverage = doc["run"]["coverage"]
    assert [c["complete"] for c in coverage] == [False]
    assert {s["item"] for s in coverage[0]["skipped"]} == {"certificate zero", "certificate pipe"}


# A full disk: exit 2, nothing half-written, earlier runs intact ----------------------------------------


def test_database_full_mid_write_exits_2_and_keeps_earlier_runs(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = write_inventory(tmp_path / "inv", INVENTORY)
    db = tmp_path / "a.db"
    assert cli("scan", "--secrets-inventory", str(inv), "--db", str(db)).code == 0
    # SQLite's own "database or disk is full" (SQLITE_FULL), the error a full disk gives:
    # the next run may not grow the file by a single page.
    big = write_inventory(
        tmp_path / "big",
        "secrets:\n" + "".join(f"  - name: s{i}-{'x' * 200}\n    last_rotated: 2026-11-01\n" for i in range(400)),
    )
    real_open = Store.open

    def capped_open(path: Path, **kwargs: object) -> Store:
        store = real_open(path, **kwargs)  # type: ignore[arg-type]
        if not kwargs.get("readonly"):
            pages = store.db.execute("PRAGMA page_count").fetchone()[0]
            store.db.execute(f"PRAGMA max_page_count = {pages}")
        return store

    monkeypatch.setattr(Store, "open", staticmethod(capped_open))
    line = one_line_error(cli("scan", "--secrets-inventory", str(big), "--db", str(db)))
    monkeypatch.undo()
    assert "disk is full" in line and "nothing of this change was written" in line
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    statuses = [r[0] for r in conn.execute("SELECT status FROM runs ORDER BY seq")]
    assert statuses[0] == "complete" and all(s in ("complete", "failed") for s in statuses)
    assert statuses.count("complete") == 1
    assert cli("db", "check", "--db", str(db)).code == 0


def test_output_on_a_full_device_exits_2(cli: Cli, tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", INVENTORY)
    line = one_line_error(
        cli("scan", "--secrets-inventory", str(inv), "--db", str(tmp_path / "a.db"), "--output", "/dev/full")
    )
    assert "No space left on device" in line


def test_output_on_a_full_filesystem_leaves_no_partial_file(cli: Cli, tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs CAP_SYS_ADMIN); /dev/full covers ENOSPC above")
    try:
        inv = write_inventory(
            tmp_path / "inv",
            "secrets:\n" + "".join(f"  - name: s{i}\n    last_rotated: 2026-11-01\n" for i in range(600)),
        )
        out = mnt / "findings.json"
        line = one_line_error(
            cli("scan", "--secrets-inventory", str(inv), "--db", str(tmp_path / "a.db"), "--format", "json",
                "--output", str(out))
        )
        assert "No space left on device" in line and "nothing was written" in line
        assert list(mnt.iterdir()) == []  # no half-written file, no temporary left behind
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# A read-only database is readable by every read command ------------------------------------------------


def _as_reader(args: list[str], env: dict[str, str]) -> CliResult:
    """Run auditor as a user who may only read the database (as root, root would write anyway)."""
    cmd = [str(VENV_BIN / "auditor"), *args]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def test_read_only_database_answers_every_read_command(tmp_path: Path) -> None:
    if not os.access(sys.executable, os.X_OK):  # pragma: no cover - sanity
        pytest.skip("no interpreter")
    base = Path(tempfile.mkdtemp(prefix="auditor-ro-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        inv = write_inventory(base / "inv", INVENTORY)
        db = base / "a.db"
        env = {**os.environ, "AUDITOR_NOW": NOW.isoformat(), "HOME": str(base)}
        for _ in range(2):
            assert run_auditor("scan", "--secrets-inventory", str(inv), "--db", str(db), env=env).code == 0
        for p in base.rglob("*"):
            os.chmod(p, 0o555 if p.is_dir() else 0o444)
        os.chmod(base, 0o555)
        before = {p.name: p.stat().st_mtime_ns for p in base.iterdir()}
        for args in (
            ["runs"],
            ["diff"],
            ["trend"],
            ["db", "check"],
            ["waive", "list"],
            ["evidence", "list"],
            ["report", "--framework", "soc2", "--html", "/dev/null"],
        ):
            res = _as_reader([*args, "--db", str(db)], env)
            assert res.code == 0, (args, res.err)
            assert "readonly" not in res.err and "Traceback" not in res.err
        assert {p.name: p.stat().st_mtime_ns for p in base.iterdir()} == before
        # A write command says why in one line.
        res = _as_reader(["scan", "--secrets-inventory", str(inv), "--db", str(db)], env)
        assert res.code == 2 and len(res.err.strip().splitlines()) == 1, res.err
    finally:
        os.chmod(base, 0o755)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("flag", ["--public-key", "--sign-key"])
def test_key_files_that_are_devices_are_refused(tmp_path: Path, flag: str) -> None:
    db = tmp_path / "a.db"
    if flag == "--public-key":
        args = ["verify", str(tmp_path / "pack.zip"), "--public-key", "/dev/zero"]
    else:
        inv = write_inventory(tmp_path / "inv", INVENTORY)
        assert run_auditor("scan", "--secrets-inventory", str(inv), "--db", str(db)).code == 0
        args = ["report", "--framework", "soc2", "--pack", str(tmp_path / "p.zip"), "--sign-key", "/dev/zero"]
    started = time.monotonic()
    line = one_line_error(run_auditor(*args, "--db", str(db)))
    assert time.monotonic() - started < 30
    assert f"{flag} /dev/zero: key file is a device" in line, line


def test_max_file_bytes_decides_what_a_code_scan_skips(cli: Cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text('import requests\nrequests.get("https://x", verify=False)\n' + "#\n" * 200)
    base = ["scan", "--code", str(repo), "--format", "json", "--db", str(tmp_path / "a.db")]
    small = cli(*base, "--max-file-bytes", "100")
    assert small.code == 3  # the only file was not scanned: incomplete, never PASS
    doc = small.json()
    assert isinstance(doc, dict)
    (cov,) = doc["run"]["coverage"]
    assert cov["complete"] is False and [s["item"] for s in cov["skipped"]] == ["app.py"]
    assert "raise it with --max-file-bytes" in cov["skipped"][0]["reason"]
    assert not any(f["status"] == "PASS" for f in doc["findings"])
    large = cli(*base, "--max-file-bytes", "100000")
    assert large.code == 0
    doc = large.json()
    assert isinstance(doc, dict)
    assert [f["check_id"] for f in doc["findings"] if f["status"] == "FAIL"] == ["code.python.tls-verify-disabled"]
    assert one_line_error(run_auditor(*base, "--max-file-bytes", "0")).endswith("must be at least 1")
