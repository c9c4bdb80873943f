"""`auditor demo` end to end: every provider, history, outputs, verified packs, no leftovers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_auditor


def moto_processes() -> set[int]:
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"moto_server" in (proc / "cmdline").read_bytes():
                    pids.add(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_NOW")  # the demo places its runs on past days itself
    before = moto_processes()
    out = tmp_path / "auditor-demo"
    res = run_auditor("demo", "--dir", str(out))
    assert res.code == 0, res.err
    assert "auditor demo finished" in res.err and str(out / "soc2-evidence-pack.zip") in res.err
    assert moto_processes() <= before, "the demo left its moto_server running"

    db = out / "auditor.db"
    runs = sqlite3.connect(db).execute("SELECT status FROM runs ORDER BY seq").fetchall()
    assert [r[0] for r in runs] == ["complete", "complete", "complete"]

    doc = json.loads((out / "findings.json").read_text())
    assert {f["provider"] for f in doc["findings"]} == {"aws", "iac", "code", "deps", "image", "secrets"}
    assert doc["summary"]["by_status"]["ERROR"] == 0
    assert doc["summary"]["by_status"]["WAIVED"] >= 1
    sarif = json.loads((out / "findings.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]

    diff = json.loads(run_auditor("diff", "--db", str(db), "--format", "json").out)
    resolved = {c["resource_id"] for c in diff["resolved"]}
    assert "secret:payments-db-password" in resolved
    assert any("acme-public-site-us" in r for r in resolved)

    for framework in ("soc2", "gdpr"):
        pack = out / f"{framework}-evidence-pack.zip"
        verify = run_auditor("verify", str(pack))
        assert verify.code == 0, verify.out + verify.err
        assert (out / f"{framework}-report.pdf").stat().st_size > 10_000
