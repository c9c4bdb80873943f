"""A real process interrupted mid-scan: earlier runs intact, the run marked failed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import VENV_BIN, run_auditor, write_inventory

SLOW_PLUGIN = """
import time
from collections.abc import Iterator

from auditor.config import Setting
from auditor.models import CheckInfo, Finding, Resource, Severity, Status
from auditor.providers.base import Provider

CHECK = CheckInfo("secrets.slow.wait", "waits", Severity.LOW, "slow", "d", "r", "fix", "thing")


class SlowProvider(Provider):
    name = "slow"
    settings = (Setting("marker", "path", help="a file next to which it writes `started`", flag="--slow"),)

    def checks(self):
        return [CHECK]

    def run(self, ctx) -> Iterator[Finding]:
        open(self.settings_of(ctx.config)["marker"].parent / "started", "w").close()
        for _ in range(600):
            if ctx.cancelled.is_set():
                return
            time.sleep(0.1)
        yield self.finding(CHECK, Status.PASS, Resource("x", "thing"), "done")
"""


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    dist = site / "slow_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "slow_plugin.py").write_text(SLOW_PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[auditor.providers]\nslow = slow_plugin:SlowProvider\n")
    return {**os.environ, "PYTHONPATH": str(site)}


def statuses(db: Path) -> list[str]:
    return [r[0] for r in sqlite3.connect(db).execute("SELECT status FROM runs ORDER BY seq")]


def start_slow_scan(tmp_path: Path, db: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    inv = write_inventory(tmp_path / "slow", "secrets:\n  - name: a\n    last_rotated: 2026-11-01\n")
    proc = subprocess.Popen(
        [str(VENV_BIN / "auditor"), "scan", "--slow", str(inv), "--secrets-inventory", str(inv), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not (inv.parent / "started").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "slow provider never started"
        time.sleep(0.05)
    return proc


def seed_one_run(tmp_path: Path, db: Path) -> None:
    inv = write_inventory(tmp_path / "ok", "secrets:\n  - name: a\n    last_rotated: 2026-01-01\n")
    assert run_auditor("scan", "--secrets-inventory", str(inv), "--db", str(db)).code == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_marks_the_run_failed(tmp_path: Path, plugin_env: dict[str, str], signum: int) -> None:
    db = tmp_path / "a.db"
    seed_one_run(tmp_path, db)
    proc = start_slow_scan(tmp_path, db, plugin_env)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert statuses(db) == ["complete", "failed"]
    runs = run_auditor("runs", "--db", str(db), "--format", "json")
    assert runs.code == 0


def test_killed_scan_is_marked_failed_by_the_next_writer(tmp_path: Path, plugin_env: dict[str, str]) -> None:
    db = tmp_path / "a.db"
    seed_one_run(tmp_path, db)
    proc = start_slow_scan(tmp_path, db, plugin_env)
    proc.kill()
    proc.communicate(timeout=30)
    assert statuses(db) == ["complete", "running"]
    seed_one_run(tmp_path, db)
    assert statuses(db) == ["complete", "failed", "complete"]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


STUCK_PLUGIN = SLOW_PLUGIN.replace(
    """        for _ in range(600):
            if ctx.cancelled.is_set():
                return
            time.sleep(0.1)""",
    """        time.sleep(600)  # blocked where cancellation cannot reach (a hung read, a stuck library)""",
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_signal_is_honoured_within_seconds_while_a_provider_is_blocked(
    tmp_path: Path, plugin_env: dict[str, str], signum: int
) -> None:
    site = Path(plugin_env["PYTHONPATH"])
    (site / "slow_plugin.py").write_text(STUCK_PLUGIN)
    db = tmp_path / "a.db"
    seed_one_run(tmp_path, db)
    proc = start_slow_scan(tmp_path, db, plugin_env)
    sent = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert took < 5, f"the process took {took:.1f} s to honour the signal"
    assert "Traceback" not in err
    assert statuses(db) == ["complete", "failed"]
