"""Migrations carry databases written by earlier releases forward (issue 14).

tests/fixtures/store_v4 was written by the release before the store-speed schema (schema 4,
see make_fixture.py there): a database of three daily secrets scans (one finding resolved on
the third day), manual evidence, an unsigned evidence pack of the last run, and expected.json,
what that release answered about the database. tests/fixtures/store_v5 was written by the
release with schema 5 (main at dd684ce): five runs with vanished, resolved, waived and
unchanged findings, a hand-made run of another target, a database waiver and manual evidence.
Opened with the current code, each database is upgraded in place and must answer exactly the
same (runs, findings, history, diff, trend, the report model of the last run and of a period);
`auditor verify --db` of the pack written before the upgrade still finds the pack equal to
the database, and the upgraded database takes new runs.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from auditor.maintenance import check_database
from auditor.models import iso_z
from auditor.store import SCHEMA_VERSION, Store

sys.path.insert(0, str(Path(__file__).parent / "report"))
from report_estate import DAY0, scan_day

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "store_v4"
FIXTURE_V5 = FIXTURES / "store_v5"


def _fixture_module(folder: Path = FIXTURE) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{folder.name}_fixture", folder / "make_fixture.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy(folder: Path, name: str, version: str, dest: Path) -> Path:
    db = dest / name
    shutil.copyfile(folder / name, db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM auditor_meta WHERE key = 'schema_version'").fetchone()[0] == version
    conn.close()
    return db


@pytest.fixture()
def upgraded(tmp_path: Path) -> Path:
    return _copy(FIXTURE, "v4.db", "4", tmp_path)


@pytest.fixture()
def upgraded_v5(tmp_path: Path) -> Path:
    return _copy(FIXTURE_V5, "v5.db", "5", tmp_path)


def test_a_release_4_database_reads_back_the_same_after_the_upgrade(upgraded: Path) -> None:
    expected: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text())
    store = Store.open(upgraded)
    try:
        assert store.schema_version() == SCHEMA_VERSION > 4
        got = _fixture_module().snapshot(store)
        assert check_database(store).problems == []
    finally:
        store.close()
    # Fields the report model gained after release 4 (not stored data): the catalog's period term.
    for framework in (got["report"]["framework"], got["report"]["catalog"]["framework"]):
        assert framework.pop("period_term") in ("", "Type II")
    assert [r["id"] for r in got["runs"]] == [r["id"] for r in expected["runs"]]
    # Whether the stored catalog equals the shipped one changes whenever a shipped catalog gains a mapping.
    for doc in (got, expected):
        assert isinstance(doc["report"]["catalog"].pop("same_as_current"), bool)
    for key in ("runs", "findings", "seen", "history", "diff", "report"):
        assert got[key] == expected[key], key
    # The resolved finding and the still-failing ones are there, so the comparison is not vacuous.
    lives = [h["life"] for h in expected["history"].values()]
    assert any(life["resolved_run"] for life in lives) and any(life["status"] == "FAIL" for life in lives)


def test_a_pack_written_before_the_upgrade_verifies_against_the_upgraded_database(upgraded: Path, cli: Any) -> None:
    res = cli("verify", str(FIXTURE / "pack.zip"), "--db", str(upgraded), "--format", "json")
    doc = json.loads(res.out)
    assert doc["database"] == "matches" and doc["authenticated"], doc
    assert res.code == 0  # intact, and the database authenticates it


def test_a_release_5_database_reads_back_the_same_after_the_upgrade(upgraded_v5: Path) -> None:
    expected: dict[str, Any] = json.loads((FIXTURE_V5 / "expected.json").read_text())
    store = Store.open(upgraded_v5)
    try:
        assert store.schema_version() == SCHEMA_VERSION == 6
        got = _fixture_module(FIXTURE_V5).snapshot(store)
        assert check_database(store).problems == []
        tables = set(store.db.table_names())
    finally:
        store.close()
    assert "details" not in tables  # migration 6: the details live on their observation interval
    assert [r["id"] for r in got["runs"]] == [r["id"] for r in expected["runs"]]
    # The report's catalog digest is the shipped catalog's for these runs: it changes whenever a shipped
    # catalog gains a mapping, so it is compared for its form only.
    for doc in (got, expected):
        for part in ("report", "period"):
            assert len(doc[part].pop("catalog")) == 64
    for key in ("runs", "findings", "seen", "history", "diff", "trend", "report", "period"):
        assert got[key] == expected[key], key
    # Not vacuous: a resolved finding, a vanished one, waived and failing ones, a period with runs.
    lives = [h["life"] for h in expected["history"].values()]
    assert any(life["resolved_run"] for life in lives)
    assert any(life["last_seen_run"] and life["last_seen_run"] != expected["runs"][0]["id"] for life in lives)
    assert {"FAIL", "WAIVED", "PASS"} <= {life["status"] for life in lives}
    assert len(expected["runs"]) == 5 and expected["period"]["period"] and expected["trend"]


def test_a_pack_written_by_release_5_verifies_against_the_upgraded_database(upgraded_v5: Path, cli: Any) -> None:
    res = cli("verify", str(FIXTURE_V5 / "pack.zip"), "--db", str(upgraded_v5), "--format", "json")
    doc = json.loads(res.out)
    assert doc["database"] == "matches" and doc["authenticated"], doc
    assert res.code == 0


@pytest.mark.parametrize("release", ["v4", "v5"])
def test_the_upgraded_database_takes_new_runs(release: str, tmp_path: Path) -> None:
    """A scan after the upgrade extends the history: first seen kept, last seen moves only where seen."""
    folder = FIXTURES / f"store_{release}"
    module = _fixture_module(folder)
    upgraded = _copy(folder, f"{release}.db", release[1:], tmp_path)
    store = Store.open(upgraded)
    try:
        before = {fp: h["life"] for fp, h in module.snapshot(store)["history"].items()}
        when = DAY0 + timedelta(days=3 if release == "v4" else 4)
        result = scan_day(store, tmp_path / "estate", when, rotated=True, hostile=False)
        after = {fp: h["life"] for fp, h in module.snapshot(store)["history"].items()}
        seen = store.seen_times()
        assert check_database(store).problems == []
    finally:
        store.close()
    now_seen = {f.fingerprint for f in result.findings}
    assert set(after) == set(before) | now_seen
    finished = result.run.finished_at
    assert finished is not None
    for fp, life in after.items():
        if fp in before:
            assert life["first_seen_run"] == before[fp]["first_seen_run"]
        if fp in now_seen:
            assert (life["last_seen_run"], seen[fp][1]) == (result.run.id, iso_z(finished))
        else:  # not seen again: its last seen is what the release recorded
            assert (life["last_seen_run"], life["last_seen_at"]) == (
                before[fp]["last_seen_run"],
                before[fp]["last_seen_at"],
            )
