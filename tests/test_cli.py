"""The CLI contract: JSON shape, exit codes, errors on one line, history commands."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import VENV_BIN, CliResult, run_auditor, write_inventory

Cli = Callable[..., CliResult]

FINDING_KEYS = {
    "fingerprint",
    "check_id",
    "title",
    "provider",
    "status",
    "severity",
    "resource",
    "message",
    "remediation",
    "controls",
    "evidence",
    "waiver",
    "target",
    "first_seen",
    "last_seen",
}


def run_count(db: Path) -> int:
    if not db.exists():
        return 0
    return int(sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def test_json_output_matches_the_contract(cli: Cli, golden_inventory: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    res = cli("scan", "--secrets-inventory", str(golden_inventory), "--db", str(db), "--format", "json")
    assert res.code == 3  # two unreadable certificates: incomplete scan
    doc = res.json()
    assert isinstance(doc, dict)
    assert set(doc) == {"schema", "run", "source_root", "summary", "findings", "controls"}
    assert doc["source_root"] == str(golden_inventory.parent.resolve())  # no repository: the inventory's folder
    assert doc["schema"] == "auditor.scan/1"
    assert set(doc["run"]) == {"id", "started_at", "finished_at", "status", "scanner_version", "targets", "coverage"}
    assert doc["run"]["status"] == "partial"
    assert doc["run"]["started_at"].endswith("Z")
    assert doc["summary"] == {
        "total": 13,
        "by_status": {"PASS": 4, "FAIL": 7, "ERROR": 2, "SKIPPED": 0, "WAIVED": 0},
        "failed_by_severity": {"critical": 1, "high": 4, "medium": 2, "low": 0, "info": 0},
        "unapproved_suppressions": 0,
    }
    for finding in doc["findings"]:
        assert set(finding) == FINDING_KEYS
        assert {"id", "type", "account", "region", "path", "line"} <= set(finding["resource"])
    overdue = next(f for f in doc["findings"] if f["resource"]["id"] == "secret:very-overdue-token")
    assert (overdue["status"], overdue["severity"]) == ("FAIL", "high")
    assert "soc2:CC6.1" in overdue["controls"] and "gdpr:Art.32(1)(b)" in overdue["controls"]
    controls = {(c["framework"], c["id"]): c for c in doc["controls"]}
    assert len(controls) == 61 + 18
    assert controls[("soc2", "CC6.1")]["status"] == "FAIL"
    assert controls[("soc2", "CC1.1")]["status"] == "MANUAL"
    assert controls[("soc2", "A1.2")]["status"] in ("NOT_TESTED", "MANUAL")
    assert run_count(db) == 1


def test_fail_on_gate(cli: Cli, tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    high = write_inventory(tmp_path / "h", "secrets:\n  - name: old\n    last_rotated: 2025-01-01\n")
    medium = write_inventory(tmp_path / "m", "secrets:\n  - name: old\n    last_rotated: 2026-07-01\n")
    assert cli("scan", "--secrets-inventory", str(high), "--db", db, "--fail-on", "high").code == 1
    assert cli("scan", "--secrets-inventory", str(medium), "--db", db, "--fail-on", "high").code == 0
    assert cli("scan", "--secrets-inventory", str(medium), "--db", db, "--fail-on", "medium").code == 1
    assert cli("scan", "--secrets-inventory", str(high), "--db", db).code == 0  # default: none


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("secrets: [\n", "malformed YAML"),
        ("secrets:\n  - name: x\n    last_rotated: 2026-02-30\n", "is not a date"),
        (None, "not found"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_stores_nothing(body: str | None, expected: str, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    ok = write_inventory(tmp_path / "ok", "secrets:\n  - name: x\n    last_rotated: 2026-11-01\n")
    assert run_auditor("scan", "--secrets-inventory", str(ok), "--db", str(db)).code == 0
    target = tmp_path / "bad" / "inventory.yaml"
    if body is not None:
        write_inventory(tmp_path / "bad", body)
    res = run_auditor("scan", "--secrets-inventory", str(target), "--db", str(db))
    assert res.code == 2
    assert res.err.count("\n") == 1 and expected in res.err and res.err.startswith("auditor: error: ")
    assert "Traceback" not in res.err
    assert run_count(db) == 1


def test_usage_errors_exit_2(cli: Cli, tmp_path: Path) -> None:
    assert cli("scan", "--db", str(tmp_path / "a.db")).code == 2  # nothing to scan
    res = cli("scan", "--secrets-inventory", "x", "--framework", "hipaa")
    assert res.code == 2 and "unknown framework" in res.err
    with pytest.raises(SystemExit) as exc:
        cli("scan", "--format", "xml")
    assert exc.value.code == 2


def test_not_an_auditor_database_exits_2(cli: Cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("hello")
    res = cli("runs", "--db", str(junk))
    assert res.code == 2 and "not an auditor database" in res.err
    assert junk.read_text() == "hello"
    res = cli("runs", "--db", str(tmp_path / "none.db"))
    assert res.code == 2 and "no auditor database" in res.err


def test_rotation_shows_as_resolved_in_diff_and_history(cli: Cli, tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    inv = write_inventory(
        tmp_path / "i",
        "secrets:\n  - name: db-pass\n    last_rotated: 2026-01-01\n  - name: ok\n    last_rotated: 2026-11-01\n",
    )
    first = cli("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json").json()
    write_inventory(
        tmp_path / "i",
        "secrets:\n  - name: db-pass\n    last_rotated: 2026-11-27\n  - name: ok\n    last_rotated: 2026-11-01\n",
    )
    cli("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json")
    diff = cli("diff", "--db", db, "--format", "json").json()
    assert isinstance(diff, dict) and isinstance(first, dict)
    assert [c["resource_id"] for c in diff["resolved"]] == ["secret:db-pass"]
    assert diff["new"] == [] and diff["changed"] == []
    fp = next(f["fingerprint"] for f in first["findings"] if f["resource"]["id"] == "secret:db-pass")
    hist = cli("history", fp[:10], "--db", db, "--format", "json").json()
    assert isinstance(hist, dict)
    assert hist["finding"]["resolved_run"] is not None
    assert [i["status"] for i in hist["intervals"]] == ["FAIL", "PASS"]
    text = cli("history", fp, "--db", db)
    assert text.code == 0 and "resolved" in text.out and "secret:db-pass" in text.out
    runs = cli("runs", "--db", db, "--format", "json").json()
    assert isinstance(runs, list) and len(runs) == 2
    trend = cli("trend", "--db", db, "--framework", "soc2", "--format", "json").json()
    assert isinstance(trend, dict)
    cc62 = next(c for c in trend["controls"] if c["control"] == "CC6.2")
    assert cc62["statuses"] == ["FAIL", "PASS"] and cc62["pass_rate"] == 0.5


def test_controls_lists_all_soc2_criteria_with_coverage(cli: Cli) -> None:
    rows = cli("controls", "--framework", "soc2", "--format", "json").json()
    assert isinstance(rows, list) and len(rows) == 61
    by_id = {r["id"]: r for r in rows}
    assert by_id["CC6.1"]["coverage"] == "automated"
    assert by_id["CC1.1"]["coverage"] == "manual" and by_id["CC1.1"]["manual_evidence"]
    table = cli("controls", "--framework", "soc2")
    assert "61 controls" in table.out and "CC9.2" in table.out


def test_checks_lists_every_check_with_controls(cli: Cli) -> None:
    rows = cli("checks", "--provider", "secrets", "--format", "json").json()
    assert isinstance(rows, list)
    assert {r["id"] for r in rows} == {"secrets.inventory.rotation_age", "secrets.certificate.expiry"}
    assert all(r["controls"] for r in rows)


def test_output_file_and_python_dash_m(tmp_path: Path) -> None:
    inv = write_inventory(tmp_path, "secrets:\n  - name: x\n    last_rotated: 2026-11-01\n")
    out = tmp_path / "out" / "scan.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "scan",
            "--secrets-inventory",
            str(inv),
            "--db",
            str(tmp_path / "a.db"),
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert json.loads(out.read_text())["summary"]["total"] == 1


def test_table_output_escapes_markup(cli: Cli, tmp_path: Path) -> None:
    inv = write_inventory(tmp_path, "secrets:\n  - name: '[bold]x[/bold]'\n    last_rotated: 2026-11-01\n")
    res = cli("scan", "--secrets-inventory", str(inv), "--db", str(tmp_path / "a.db"))
    assert res.code == 0 and "[bold]x[/bold]" in res.out


def test_two_concurrent_scans_serialise(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    invs = [
        write_inventory(
            tmp_path / f"i{n}",
            "secrets:\n" + "".join(f"  - name: s{n}-{i}\n    last_rotated: 2026-0{1 + i % 9}-01\n" for i in range(300)),
        )
        for n in range(2)
    ]
    procs = [
        subprocess.Popen(
            [str(VENV_BIN / "auditor"), "scan", "--secrets-inventory", str(inv), "--db", str(db), "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for inv in invs
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    conn = sqlite3.connect(db)
    seqs = sorted(r[0] for r in conn.execute("SELECT obs_seq FROM runs"))
    assert seqs == [1, 2]
    for (out, _), n in zip(outs, range(2), strict=True):
        run_id = json.loads(out)["run"]["id"]
        names = {
            r[0]
            for r in conn.execute(
                "SELECT f.resource_id FROM run_findings rf JOIN findings f USING (fingerprint) WHERE rf.run_id = ?",
                [run_id],
            )
        }
        assert len(names) == 300 and all(name.startswith(f"secret:s{n}-") for name in names)
    # Each scan looked at a different inventory: neither resolves the other's findings.
    assert conn.execute("SELECT COUNT(*) FROM findings WHERE resolved_run IS NOT NULL").fetchone()[0] == 0


def test_output_to_a_pipe_writes_into_it_and_never_replaces_it(cli: Cli, tmp_path: Path) -> None:
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    inv = write_inventory(tmp_path, "secrets:\n  - name: x\n    last_rotated: 2026-11-01\n")
    res = cli(
        "scan",
        "--secrets-inventory",
        str(inv),
        "--db",
        str(tmp_path / "a.db"),
        "--format",
        "json",
        "--output",
        str(fifo),
    )
    reader.join(timeout=30)
    assert res.code == 0
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["summary"]["total"] == 1
