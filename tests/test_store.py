"""The SQLite store: migrations, atomic runs, interval storage, history queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from auditor.errors import StoreError
from auditor.models import Coverage, Finding, Resource, Run, RunStatus, Severity, Status, iso_z
from auditor.store import SCHEMA_VERSION, Store
from tests.conftest import NOW


def finding(name: str, status: Status = Status.FAIL, message: str = "m", line: int | None = None) -> Finding:
    return Finding(
        check_id="t.svc.check",
        status=status,
        severity=Severity.HIGH,
        resource=Resource(id=name, type="thing", path="f.tf" if line else None, line=line),
        message=message,
        provider="t",
        evidence={"observed": name},
    )


def save(
    store: Store,
    findings: Iterable[Finding],
    when: datetime = NOW,
    providers: tuple[str, ...] = ("t",),
    targets: tuple[str, ...] = ("t-target",),
) -> Run:
    run = Run(
        id=f"run-{when:%Y%m%d%H%M%S}-{len(store.list_runs())}",
        started_at=when,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version="test",
        targets=targets,
    )
    store.begin_run(run, providers)
    return store.save_run(run.id, list(findings), [], RunStatus.COMPLETE, when, {"total": 0})


def test_new_database_is_migrated_and_in_wal(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.db.journal_mode == "wal"
    tables = set(store.db.table_names())
    assert {"runs", "findings", "observations", "texts", "control_results"} <= tables
    assert "evidence" not in tables  # merged into details (migration 5)
    store.close()
    assert Store.open(tmp_path / "a.db").schema_version() == SCHEMA_VERSION  # idempotent reopen


def test_refuses_foreign_and_newer_databases(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not an auditor database"):
        Store.open(text)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(StoreError, match="not an auditor database"):
        Store.open(other)
    newer = tmp_path / "newer.db"
    Store.open(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE auditor_meta SET value='999' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer auditor"):
        Store.open(newer)
    with pytest.raises(StoreError, match="no auditor database"):
        Store.open(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_findings_round_trip_exactly() -> None:
    store = Store.memory()
    original = [finding("a"), finding("b", Status.PASS, line=7), finding("c", Status.ERROR)]
    run = save(store, original)
    loaded = {f.fingerprint: f for f in store.findings_for_run(run.id)}
    assert set(loaded) == {f.fingerprint for f in original}
    for f in original:
        got = loaded[f.fingerprint]
        assert (got.status, got.severity, got.resource, got.message, got.evidence) == (
            f.status,
            f.severity,
            f.resource,
            f.message,
            f.evidence,
        )


def test_identical_runs_extend_intervals_instead_of_copying() -> None:
    store = Store.memory()
    batch = [finding(f"r{i}") for i in range(50)]
    for day in range(10):
        save(store, batch, NOW + timedelta(days=day))
    assert store.db["observations"].count == 50  # one interval per finding, its details stored once
    assert store.db["texts"].count == 1  # one check: its title and remediation once
    # Nine re-scans where nothing changed wrote no lifecycle row: last seen is the newest run.
    assert store.db.execute("SELECT COUNT(*) FROM findings WHERE last_seen_run IS NOT NULL").fetchone()[0] == 0
    newest = store.stored_runs(1)[0]
    seen = store.seen_times()
    assert len(seen) == 50 and {last for _, last in seen.values()} == {iso_z(newest.finished_at)}
    runs = store.stored_runs(10)
    assert len(runs) == 10
    for run in runs:
        assert len(store.findings_for_run(run.id)) == 50


def test_diff_and_lifecycle_over_three_runs() -> None:
    store = Store.memory()
    r1 = save(store, [finding("a"), finding("b"), finding("c", Status.PASS)], NOW)
    r2 = save(store, [finding("a"), finding("b", Status.PASS), finding("c", Status.FAIL)], NOW + timedelta(days=1))
    diff = store.diff(r1, r2)
    assert [c.resource_id for c in diff.new] == ["c"]
    assert [c.resource_id for c in diff.resolved] == ["b"]
    assert diff.changed == []
    # "a" disappears from a run that scanned its provider: resolved; "b" regresses.
    r3 = save(store, [finding("b"), finding("c")], NOW + timedelta(days=2))
    diff = store.diff(r2, r3)
    assert [c.resource_id for c in diff.resolved] == ["a"]
    assert [c.resource_id for c in diff.new] == ["b"]
    life_a, _ = store.history(finding("a").fingerprint)
    assert life_a["resolved_run"] == r3.id
    life_b, intervals = store.history(finding("b").fingerprint)
    assert life_b["resolved_run"] is None and life_b["status"] == "FAIL"
    assert [(i["status"], i["first_run"], i["last_run"]) for i in intervals] == [
        ("FAIL", r1.id, r1.id),
        ("PASS", r2.id, r2.id),
        ("FAIL", r3.id, r3.id),
    ]


def test_a_run_of_another_provider_or_target_resolves_nothing() -> None:
    store = Store.memory()
    save(store, [finding("a")], NOW)
    save(store, [], NOW + timedelta(days=1), providers=("other",))
    save(store, [], NOW + timedelta(days=2), targets=("another-inventory",))
    life, _ = store.history(finding("a").fingerprint)
    assert life["resolved_run"] is None


def test_a_runs_findings_keep_the_target_they_were_seen_under() -> None:
    """One fingerprint seen under two targets (`--iac .`, then `--iac infra`: paths are relative to
    the source root): each run reads back with its own target, and a diff judges A's failures by A's."""
    store = Store.memory()
    cov = {t: Coverage("t", t, examined={"files": 1}) for t in ("iac:/repo", "iac:/repo/infra")}
    a = replace(finding("a"), target="iac:/repo")
    r1 = store.save_run(*_begin(store, NOW), [a], [], RunStatus.COMPLETE, NOW, {}, coverage=[cov["iac:/repo"]])
    later = NOW + timedelta(days=1)
    b = replace(a, target="iac:/repo/infra")
    r2 = store.save_run(*_begin(store, later), [b], [], RunStatus.COMPLETE, later, {}, coverage=[cov[b.target]])
    assert a.fingerprint == b.fingerprint
    assert [f.target for f in store.iter_findings_for_run(r1.id)] == ["iac:/repo"]
    assert [f.target for f in store.iter_findings_for_run(r2.id)] == ["iac:/repo/infra"]
    # A third run covers only the first target and no longer reports it: resolved there, and the
    # diff from run 1 names the target of run 1.
    last = NOW + timedelta(days=2)
    r3 = store.save_run(*_begin(store, last), [], [], RunStatus.COMPLETE, last, {}, coverage=[cov["iac:/repo"]])
    diff = store.diff(r1, r3)
    assert [(c.fingerprint, c.target) for c in diff.resolved] == [(a.fingerprint, "iac:/repo")]


def _begin(store: Store, when: datetime) -> tuple[str]:
    run = Run(
        id=f"run-{when:%Y%m%d%H%M%S}", started_at=when, finished_at=None, status=RunStatus.RUNNING,
        scanner_version="test", targets=("t-target",),
    )  # fmt: skip
    store.begin_run(run, ["t"])
    return (run.id,)


def test_line_moves_keep_the_fingerprint_and_the_history() -> None:
    store = Store.memory()
    r1 = save(store, [finding("a", line=3)])
    r2 = save(store, [finding("a", line=30)], NOW + timedelta(days=1))
    assert finding("a", line=3).fingerprint == finding("a", line=30).fingerprint
    diff = store.diff(r1, r2)
    assert diff.new == diff.resolved == diff.changed == []


def test_failed_save_is_rolled_back_and_earlier_runs_survive(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    r1 = save(store, [finding("a"), finding("b")])
    # Make the next save die half-way (after observations, at the control results).
    store.db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON control_results BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    run = Run(id="r2", started_at=NOW, finished_at=None, status=RunStatus.RUNNING, scanner_version="t")
    store.begin_run(run, ["t"])
    from auditor.models import ControlResult, ControlStatus

    cr = ControlResult("soc2", "CC6.1", "t", ControlStatus.FAIL, {"FAIL": 1}, True)
    with pytest.raises(sqlite3.IntegrityError):
        store.save_run("r2", [finding("a", Status.PASS), finding("z")], [cr], RunStatus.COMPLETE, NOW, {})
    store.fail_run("r2", "disk on fire", NOW)
    assert store.get_run("r2").status is RunStatus.FAILED
    assert {f.resource.id for f in store.findings_for_run(r1.id)} == {"a", "b"}
    assert store.db["findings"].count == 2  # "z" never landed
    assert store.get_run("latest").id == r1.id


def test_abandoned_running_run_is_marked_failed(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    store.begin_run(Run("ghost", NOW, None, RunStatus.RUNNING, "t"), ["t"])
    store.db.execute("UPDATE runs SET pid = 999999999 WHERE id = 'ghost'")  # no such process
    save(store, [finding("a")])
    ghost = store.get_run("ghost")
    assert ghost.status is RunStatus.FAILED and ghost.error and "ended" in ghost.error


def test_locked_database_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Store.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = Store.open(path, timeout=0.2)
        with pytest.raises(StoreError, match="locked by another auditor process"):
            store.begin_run(Run("x", NOW, None, RunStatus.RUNNING, "t"), ["t"])
    finally:
        holder.execute("ROLLBACK")


def test_run_references() -> None:
    store = Store.memory()
    r1 = save(store, [finding("a")])
    assert store.get_run(r1.id[:8]).id == r1.id
    assert store.get_run("latest").id == r1.id
    with pytest.raises(StoreError, match="no run"):
        store.get_run("nope")
    with pytest.raises(StoreError, match="no finding"):
        store.history("ffff")


def test_trend_rows_per_run_and_control() -> None:
    from auditor.models import ControlResult, ControlStatus

    store = Store.memory()
    for day, status in enumerate([ControlStatus.FAIL, ControlStatus.PASS]):
        run = Run(f"r{day}", NOW + timedelta(days=day), None, RunStatus.RUNNING, "t")
        store.begin_run(run, ["t"])
        cr = ControlResult("soc2", "CC6.1", "t", status, {"PASS": 1}, True)
        store.save_run(run.id, [], [cr], RunStatus.COMPLETE, run.started_at, {})
    rows = store.trend("soc2")
    assert [(r["run_id"], r["status"]) for r in rows] == [("r0", "FAIL"), ("r1", "PASS")]
    assert [r["run_id"] for r in store.trend("soc2", since=NOW + timedelta(hours=1))] == ["r1"]


def save_covered(store: Store, findings: list[Finding], when: datetime, coverage: list[Coverage]) -> Run:
    run = Run(
        id=f"run-{when:%Y%m%d%H%M%S}",
        started_at=when,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version="test",
        targets=tuple(c.target for c in coverage),
    )
    store.begin_run(run, ["t"])
    return store.save_run(run.id, findings, [], RunStatus.COMPLETE, when, {"total": 0}, coverage=coverage)


def test_a_finding_is_resolved_only_by_a_run_that_looked_at_its_target_again() -> None:
    """Scan image A, then image B: A's failures are not resolved; a run whose tool failed resolves nothing."""
    store = Store.memory()
    a = replace(finding("in-a"), target="image:a")
    b = replace(finding("in-b"), target="image:b")
    r1 = save_covered(store, [a, b], NOW, [Coverage("t", "image:a"), Coverage("t", "image:b")])
    # Only B scanned: b is gone (resolved), a was not looked at (not re-checked).
    r2 = save_covered(store, [], NOW + timedelta(days=1), [Coverage("t", "image:b")])
    diff = store.diff(r1, r2)
    assert [c.resource_id for c in diff.resolved] == ["in-b"]
    assert [(c.resource_id, c.target) for c in diff.not_rechecked] == [("in-a", "image:a")]
    assert store.history(a.fingerprint)[0]["resolved_run"] is None
    assert store.history(b.fingerprint)[0]["resolved_run"] == r2.id
    # A scanned again, but its tool failed (the check ended in ERROR there): still not resolved.
    broken = Coverage("t", "image:a", complete=False, errored_checks=("t.*",))
    r3 = save_covered(store, [], NOW + timedelta(days=2), [broken])
    # (b was not looked at by r3 either: compared with r1, neither is resolved.)
    assert [c.resource_id for c in store.diff(r1, r3).not_rechecked] == ["in-a", "in-b"]
    assert store.diff(r1, r3).resolved == []
    assert store.history(a.fingerprint)[0]["resolved_run"] is None
    # A scanned completely: now a is resolved.
    r4 = save_covered(store, [], NOW + timedelta(days=3), [Coverage("t", "image:a")])
    assert [c.resource_id for c in store.diff(r1, r4).resolved] == ["in-a"]
    assert store.history(a.fingerprint)[0]["resolved_run"] == r4.id
    # The run's coverage round-trips.
    assert store.get_run(r3.id).coverage == (broken,)


def test_a_failure_that_becomes_error_is_not_resolved() -> None:
    store = Store.memory()
    a = replace(finding("x"), target="image:a")
    r1 = save_covered(store, [a], NOW, [Coverage("t", "image:a")])
    err = replace(a, status=Status.ERROR)
    broken = Coverage("t", "image:a", errored_checks=("t.svc.check",))
    r2 = save_covered(store, [err], NOW + timedelta(days=1), [broken])
    diff = store.diff(r1, r2)
    assert diff.resolved == [] and [c.after for c in diff.not_rechecked] == ["ERROR"]
    assert store.history(a.fingerprint)[0]["resolved_run"] is None


def test_a_rescan_where_nothing_changed_writes_no_finding_row() -> None:
    """Issue 14: unchanged findings are recognised before anything is serialised, and cost no write."""
    store = Store.memory()
    batch = [finding(f"r{i}", Status.PASS if i % 3 else Status.FAIL) for i in range(30)]
    save(store, batch, NOW)
    before = store.db.conn.total_changes
    again = save(store, batch, NOW + timedelta(days=1))
    assert store.db.conn.total_changes - before == 2  # the run row: inserted when begun, updated when saved
    assert {f.fingerprint for f in store.findings_for_run(again.id)} == {f.fingerprint for f in batch}
    # Equal content from other Python values (a tuple where a list was) is unchanged too: no new interval.
    retyped = [replace(f, evidence={"observed": f.resource.id, "ids": (1, 2)}) for f in batch]
    listed = [replace(f, evidence={"observed": f.resource.id, "ids": [1, 2]}) for f in batch]
    save(store, retyped, NOW + timedelta(days=2))
    intervals = store.db["observations"].count
    save(store, listed, NOW + timedelta(days=3))
    assert store.db["observations"].count == intervals
    # One finding changes, one vanishes: exactly their intervals close, one opens.
    changed = [replace(listed[0], message="rotated late"), *listed[2:]]
    last = save(store, changed, NOW + timedelta(days=4))
    assert store.db["observations"].count == intervals + 1
    seen = store.seen_times([f.fingerprint for f in batch])
    newest = iso_z(store.get_run(last.id).finished_at)
    assert seen[batch[1].fingerprint][1] == iso_z(NOW + timedelta(days=3))  # vanished: its last run
    assert {fp for fp, (_, last_seen) in seen.items() if last_seen == newest} == {f.fingerprint for f in changed}
    life, steps = store.history(batch[0].fingerprint)
    assert life["last_seen_run"] == last.id
    assert [s["message"] for s in steps] == ["m", "m", "rotated late"]  # evidence gained "ids" on day 2
    assert steps[-1]["last_run"] == last.id and steps[1]["last_run"] == store.stored_runs(2)[0].id


def test_the_fast_evidence_encoder_writes_exactly_the_stored_json() -> None:
    """`dumps_data` (one reused C encoder) must give the text `dumps` gives: content hashes depend on it."""
    from auditor.store.content import dumps, dumps_data

    values: list[Any] = [
        {"b": 1, "a": [1.5, float("nan"), float("inf"), -0.0, 10**20], "c": None, "d": True},
        {"name": "Zürich ✓ \u2028", "nested": {"z": {"y": [{"x": "\x00\n\t\"'"}]}}, "empty": {}},
        {"when": datetime(2026, 1, 2, 3, 4, 5), "path": PurePosixPath("/a/b"), "tuple": (1, "2")},
        [3, 2, {"k": "v"}],
        {},
        [],
    ]
    for value in values:
        assert dumps_data(value) == dumps(value)
    assert dumps_data("text") == dumps("text") and dumps_data(None) == "null"
