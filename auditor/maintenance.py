"""Database upkeep: retention (prune), consistent backups, integrity checks, shard merges.

All of it works on the store's own tables and keeps its invariants:
- pruning deletes old runs but keeps every details/texts row still referenced and the
  lifecycle (first seen, status) of findings that are still open;
- a backup uses SQLite's online backup API, so it is consistent while a scan writes;
- merging shard databases builds ONE run from the newest run of each shard, through the
  same save path as a scan, so evidence is stored once per content hash and the result
  equals an unsharded scan of the same targets.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.catalog import catalog_document
from auditor.engine import new_run_id, roll_up_all, summarise
from auditor.errors import UsageError
from auditor.frameworks import frameworks_for
from auditor.models import Coverage, Finding, Run, RunStatus, Status, iso_z
from auditor.store import OPEN_SEQ, Store, details_hash, text_hash


@dataclass(frozen=True)
class PruneResult:
    runs: int
    observations: int
    findings: int
    details: int
    texts: int


def prune(store: Store, keep_days: int, now: datetime) -> PruneResult:
    """Delete runs that started more than `keep_days` ago, and what only they referenced."""
    if keep_days < 1:
        raise UsageError("--keep-days must be at least 1")
    cutoff = iso_z(now - timedelta(days=keep_days))
    db = store.db
    with store.write_transaction():
        old = [r[0] for r in db.execute("SELECT id FROM runs WHERE started_at < ? AND status != 'running'", [cutoff])]
        if not old:
            return PruneResult(0, 0, 0, 0, 0)
        marks = ",".join("?" for _ in old)
        newest = db.execute(
            "SELECT obs_seq, id, finished_at FROM runs WHERE obs_seq IS NOT NULL ORDER BY obs_seq DESC LIMIT 1"
        ).fetchone()
        if newest is not None and newest[1] in old:
            # The newest stored run goes: what it still saw gets its own last seen, and the
            # open intervals end with it (the next run starts them afresh).
            db.execute(
                "UPDATE findings SET last_seen_run = ?, last_seen_at = ? WHERE last_seen_run IS NULL",
                [newest[1], newest[2]],
            )
            db.execute("UPDATE observations SET last_seq = ? WHERE last_seq = ?", [newest[0], OPEN_SEQ])
        db.execute(f"DELETE FROM control_results WHERE run_id IN ({marks})", old)
        db.execute(f"DELETE FROM runs WHERE id IN ({marks})", old)
        # Observation intervals that no remaining run falls into.
        obs = db.execute(
            """DELETE FROM observations WHERE NOT EXISTS (
                   SELECT 1 FROM runs r WHERE r.obs_seq BETWEEN observations.first_seq AND observations.last_seq)"""
        ).rowcount
        # Lifecycle rows: keep every finding still observed, and every open one.
        findings = db.execute(
            """DELETE FROM findings
                WHERE NOT EXISTS (SELECT 1 FROM observations o WHERE o.fingerprint = findings.fingerprint)
                  AND NOT (status IN ('FAIL', 'WAIVED') AND resolved_run IS NULL)"""
        ).rowcount
        # Content rows go once nothing refers to them any more.
        details = db.execute(
            """DELETE FROM details
                WHERE NOT EXISTS (SELECT 1 FROM observations o WHERE o.details_hash = details.hash)"""
        ).rowcount
        texts = db.execute(
            """DELETE FROM texts WHERE NOT EXISTS (SELECT 1 FROM details d WHERE d.text_hash = texts.hash)"""
        ).rowcount
    return PruneResult(len(old), obs, findings, details, texts)


def backup(store: Store, target: Path, *, force: bool = False) -> int:
    """A consistent copy of the database (SQLite online backup API); returns its size."""
    if target.exists() and not force:
        raise UsageError(f"{target} exists: pass --force to replace it")
    if store.path is not None and target.resolve() == Path(store.path).resolve():
        raise UsageError("the backup target is the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    tmp.unlink(missing_ok=True)
    dest = sqlite3.connect(tmp)
    try:
        store.db.conn.backup(dest, pages=4096)
        dest.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        dest.close()
    tmp.replace(target)
    return target.stat().st_size


@dataclass(frozen=True)
class CheckReport:
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_database(store: Store) -> CheckReport:
    """SQLite's integrity and foreign-key checks plus auditor's own invariants."""
    db = store.db
    problems: list[str] = []
    for (line,) in db.execute("PRAGMA integrity_check").fetchall():
        if line != "ok":
            problems.append(f"integrity: {line}")
    for row in db.execute("PRAGMA foreign_key_check").fetchall():
        problems.append(f"foreign key: table {row[0]} row {row[1]} refers to missing {row[2]}")
    invariants = {
        "observation without its finding": """SELECT COUNT(*) FROM observations o
              WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.fingerprint = o.fingerprint)""",
        "observation without its details": """SELECT COUNT(*) FROM observations o
              WHERE NOT EXISTS (SELECT 1 FROM details d WHERE d.hash = o.details_hash)""",
        "details without their title, remediation and controls": """SELECT COUNT(*) FROM details d
              WHERE NOT EXISTS (SELECT 1 FROM texts t WHERE t.hash = d.text_hash)""",
        "finding still seen without an open interval": """SELECT COUNT(*) FROM findings f
              WHERE f.last_seen_run IS NULL
                AND NOT EXISTS (SELECT 1 FROM observations o WHERE o.fingerprint = f.fingerprint
                                AND o.last_seq = :open)""",
        "open interval of a finding no longer seen": """SELECT COUNT(*) FROM observations o
              JOIN findings f ON f.fingerprint = o.fingerprint
             WHERE o.last_seq = :open AND f.last_seen_run IS NOT NULL""",
        "interval that ends before it starts": "SELECT COUNT(*) FROM observations WHERE last_seq < first_seq",
        "finding observed twice in one run": """SELECT COUNT(*) FROM observations a JOIN observations b
              ON a.fingerprint = b.fingerprint AND a.id < b.id
             AND a.first_seq <= b.last_seq AND b.first_seq <= a.last_seq""",
        "completed run without a sequence number": """SELECT COUNT(*) FROM runs
              WHERE status IN ('complete', 'partial') AND obs_seq IS NULL""",
    }
    for label, sql in invariants.items():
        count = db.execute(sql, {"open": OPEN_SEQ}).fetchone()[0]
        if count:
            problems.append(f"{label}: {count}")
    for h, title, remediation, controls in db.execute("SELECT hash, title, remediation, controls FROM texts"):
        if text_hash(title, remediation, controls) != h:
            problems.append(f"title, remediation and controls {h} do not match their content hash")
    for h, *columns in db.execute(
        "SELECT hash, text_hash, message, waiver, line, end_line, target, evidence FROM details"
    ):
        if details_hash(*columns) != h:
            problems.append(f"details {h} (message, evidence) does not match its content hash")
    return CheckReport(problems)


@dataclass(frozen=True)
class MergeResult:
    run: Run
    sources: list[tuple[Path, str]]
    findings: int


def merge(store: Store, sources: list[Path], now: datetime) -> MergeResult:
    """One run in `store` from the newest stored run of each shard database."""
    if not sources:
        raise UsageError("merge needs at least one shard database")
    picked: list[tuple[Path, Run, dict[str, Any], list[Finding]]] = []
    for path in sources:
        if store.path is not None and path.resolve() == Path(store.path).resolve():
            raise UsageError(f"{path} is the target database itself")
        shard = Store.open(path, create=False, readonly=True)
        try:
            run = shard.get_run("latest")
            ctx = shard.db.execute("SELECT providers, organisation FROM runs WHERE id=?", [run.id]).fetchone()
            picked.append((path, run, {"providers": json.loads(ctx[0]), "organisation": ctx[1]}, []))
            picked[-1][3].extend(shard.findings_for_run(run.id))
        finally:
            shard.close()
    frameworks_ids = sorted({fw for _, run, _, _ in picked for fw in run.frameworks}) or ["soc2", "gdpr"]
    frameworks = frameworks_for(frameworks_ids)
    by_fp: dict[str, Finding] = {}
    for _, _, _, findings in picked:
        for f in findings:
            by_fp.setdefault(f.fingerprint, f)
    findings = sorted(by_fp.values(), key=lambda f: (f.provider, f.check_id, f.resource.id, f.fingerprint))
    started = min(run.started_at for _, run, _, _ in picked)
    finished = max((run.finished_at or run.started_at) for _, run, _, _ in picked)
    targets = sorted({t for _, run, _, _ in picked for t in run.targets})
    providers = sorted({p for _, _, ctx, _ in picked for p in ctx["providers"]})
    organisation = next((ctx["organisation"] for _, _, ctx, _ in picked if ctx["organisation"]), "")
    merged = Run(
        id=new_run_id(started),
        started_at=started,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version=__version__,
        targets=tuple(targets),
        frameworks=tuple(frameworks_ids),
    )
    store.begin_run(merged, providers, organisation)
    try:
        controls = roll_up_all(frameworks, findings, now, store.manual_evidence_expiries())
        summary = summarise(findings)
        summary["merged_from"] = [{"database": str(path), "run": run.id} for path, run, _, _ in picked]
        incomplete = any(run.status is not RunStatus.COMPLETE for _, run, _, _ in picked)
        status = (
            RunStatus.PARTIAL if incomplete or any(f.status is Status.ERROR for f in findings) else RunStatus.COMPLETE
        )
        coverage: dict[str, Coverage] = {}
        for _, run, _, _ in picked:
            for c in run.coverage:
                coverage.setdefault(c.target, c)  # shards scan disjoint accounts; shard 1 the rest
        stored = store.save_run(
            merged.id,
            findings,
            controls,
            status,
            finished,
            summary,
            coverage=list(coverage.values()),
            catalog=catalog_document(frameworks),
        )
    except BaseException as exc:
        store.fail_run(merged.id, f"merge failed: {exc}", now)
        raise
    return MergeResult(stored, [(path, run.id) for path, run, _, _ in picked], len(findings))
