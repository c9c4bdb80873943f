"""`auditor evidence add|list` and `auditor report` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import auditor.report.manual_evidence as manual_evidence


@pytest.fixture
def evidence_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.txt"
    path.write_text("Information security policy v2\n")
    return path


def test_add_and_list(cli: Any, tmp_path: Path, evidence_file: Path) -> None:
    db = str(tmp_path / "e.db")
    res = cli(
        "evidence",
        "add",
        "soc2:CC1.1",
        str(evidence_file),
        "--owner",
        "ciso",
        "--note",
        "policy",
        "--expires",
        "2027-06-30",
        "--db",
        db,
    )
    assert res.code == 0, res.err
    assert "stored evidence #1 for soc2:CC1.1: policy.txt" in res.out
    listed = cli("evidence", "list", "--format", "json", "--db", db).json()
    assert [(r["control"], r["filename"], r["owner"], r["valid"], r["size"]) for r in listed] == [
        ("soc2:CC1.1", "policy.txt", "ciso", True, len(evidence_file.read_bytes()))
    ]
    import hashlib

    assert listed[0]["sha256"] == hashlib.sha256(evidence_file.read_bytes()).hexdigest()
    table = cli("evidence", "list", "--db", db)
    assert table.code == 0 and "soc2:CC1.1" in table.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["soc2:CC99.9"], "unknown control 'CC99.9'"),
        (["iso:A.5"], "unknown framework 'iso'"),
        (["CC1.1"], "control must look like"),
    ],
)
def test_unknown_control_exits_2(cli: Any, tmp_path: Path, evidence_file: Path, args: list[str], message: str) -> None:
    res = cli("evidence", "add", *args, str(evidence_file), "--owner", "x", "--db", str(tmp_path / "e.db"))
    assert res.code == 2 and message in res.err and "Traceback" not in res.err


def test_missing_empty_large_and_expired_are_refused(
    cli: Any, tmp_path: Path, evidence_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "e.db")
    res = cli("evidence", "add", "soc2:CC1.1", str(tmp_path / "nope.pdf"), "--owner", "x", "--db", db)
    assert res.code == 2 and "evidence file not found" in res.err
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert "empty" in cli("evidence", "add", "soc2:CC1.1", str(empty), "--owner", "x", "--db", db).err
    monkeypatch.setattr(manual_evidence, "MAX_EVIDENCE_BYTES", 10)
    res = cli("evidence", "add", "soc2:CC1.1", str(evidence_file), "--owner", "x", "--db", db)
    assert res.code == 2 and "the limit for one evidence file is 10 bytes" in res.err
    monkeypatch.setattr(manual_evidence, "MAX_EVIDENCE_BYTES", 1000)
    res = cli(
        "evidence", "add", "soc2:CC1.1", str(evidence_file), "--owner", "x", "--expires", "2020-01-01", "--db", db
    )
    assert res.code == 2 and "already passed" in res.err
    assert cli("evidence", "list", "--format", "json", "--db", db).json() == []


def test_report_cli_writes_html_and_requires_an_output(cli: Any, tmp_path: Path, golden_inventory: Path) -> None:
    db = str(tmp_path / "r.db")
    assert (
        cli("scan", "--secrets-inventory", str(golden_inventory), "--db", db, "--format", "json", "--allow-errors").code
        == 0
    )
    res = cli("report", "--framework", "gdpr", "--db", db)
    assert res.code == 2 and "--html, --pdf, --pack" in res.err
    res = cli("report", "--framework", "gdpr", "--db", db, "--period", "2026-03-01..2026-01-01", "--html", "x")
    assert res.code == 2 and "end is before the start" in res.err
    out = tmp_path / "gdpr.html"
    res = cli("report", "--framework", "gdpr", "--db", db, "--html", str(out))
    assert res.code == 0, res.err
    html = out.read_text()
    # (which failing findings are shown as samples depends on the run id: a seeded random draw)
    assert "Art.32(1)(a)" in html and "secrets.certificate.expiry" in html
    res = cli("report", "--framework", "gdpr", "--db", db, "--html", str(out), "--run", "nosuchrun")
    assert res.code == 2 and "no run 'nosuchrun'" in res.err
    res = cli("report", "--framework", "gdpr", "--db", db, "--html", str(out), "--sign-key", str(out))
    assert res.code == 2 and "--sign-key" in res.err
    assert json.loads(json.dumps({"ok": True}))
