"""Database upkeep on the store's own tables: retention, online backup, integrity, VACUUM.

`auditor.maintenance` decides (what to prune, where to back up, how to report); the SQL is here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from auditor.store.content import OPEN_SEQ, details_hash, dumps, text_hash
from auditor.store.core import StoreCore


@dataclass(frozen=True)
class PruneCounts:
    runs: int
    observations: int
    findings: int
    texts: int


# Invariants of the interval layout that SQLite cannot declare: label -> count of offending rows.
INVARIANTS = {
    "observation without its finding": """SELECT COUNT(*) FROM observations o
          WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.fingerprint = o.fingerprint)""",
    "observation without its title, remediation and controls": """SELECT COUNT(*) FROM observations o
          WHERE NOT EXISTS (SELECT 1 FROM texts t WHERE t.hash = o.text_hash)""",
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


class UpkeepMixin(StoreCore):
    """Prune, backup, integrity check, VACUUM."""

    def prune_runs(self, cutoff: str) -> PruneCounts:
        """Delete runs that started before `cutoff` (ISO instant), and what only they referenced.

        Keeps every texts row still referenced and the lifecycle (first seen, status)
        of findings that are still open. One transaction.
        """
        db = self.db
        with self.write_transaction():
            old = [
                r[0] for r in db.execute("SELECT id FROM runs WHERE started_at < ? AND status != 'running'", [cutoff])
            ]
            if not old:
                return PruneCounts(0, 0, 0, 0)
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
            gone = [dumps(old)]  # one JSON parameter: no SQL text is built
            db.execute("DELETE FROM control_results WHERE run_id IN (SELECT value FROM json_each(?))", gone)
            db.execute("DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))", gone)
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
            # Check texts go once no observation refers to them any more.
            texts = db.execute(
                """DELETE FROM texts WHERE NOT EXISTS (SELECT 1 FROM observations o WHERE o.text_hash = texts.hash)"""
            ).rowcount
        return PruneCounts(len(old), obs, findings, texts)

    def vacuum(self) -> None:
        """Give the space of deleted rows back to the file system."""
        self.db.execute("VACUUM")

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the database in `target` (SQLite online backup API), one self-contained file."""
        dest = sqlite3.connect(target)
        try:
            self.db.conn.backup(dest, pages=4096)
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()

    def integrity_problems(self) -> list[str]:
        """SQLite's integrity and foreign-key checks plus the store's own invariants and content hashes."""
        db = self.db
        problems: list[str] = []
        for (line,) in db.execute("PRAGMA integrity_check").fetchall():
            if line != "ok":
                problems.append(f"integrity: {line}")
        for row in db.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign key: table {row[0]} row {row[1]} refers to missing {row[2]}")
        for label, sql in INVARIANTS.items():
            count = db.execute(sql, {"open": OPEN_SEQ}).fetchone()[0]
            if count:
                problems.append(f"{label}: {count}")
        for h, title, remediation, controls in db.execute("SELECT hash, title, remediation, controls FROM texts"):
            if text_hash(title, remediation, controls) != h:
                problems.append(f"title, remediation and controls {h} do not match their content hash")
        for oid, h, *columns in db.execute(
            "SELECT id, details_hash, text_hash, message, waiver, line, end_line, target, evidence FROM observations"
        ):
            if details_hash(*columns) != h:
                problems.append(f"observation {oid}: details {h} (message, evidence) do not match their content hash")
        return problems
