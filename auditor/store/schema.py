"""The store's schema: declared, versioned migrations (never edit a released one)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from auditor.store.content import OPEN_SEQ, details_hash, text_hash

Migration = str | Callable[[sqlite3.Connection], None]


def _migrate_5(conn: sqlite3.Connection) -> None:
    """Issue 14 (store speed), on an existing database.

    - `details` takes the evidence body (the `evidence` table goes: one table, one hash) and
      points at `texts` for the title, remediation and mapped controls, which are per check:
      stored once.
      Every details hash is recomputed over the new content, and observations follow.
    - Intervals still open after the newest stored run end at OPEN_SEQ: a re-scan where
      nothing changed writes no row.
    - `findings.last_seen_run/at` are NULL while the finding is seen in the newest stored run
      (derived from the open interval), so they are not rewritten by every run.
    """
    conn.execute(
        """CREATE TABLE texts (
            hash TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            remediation TEXT NOT NULL,
            controls TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
    conn.execute(
        """CREATE TABLE details_v5 (
            id INTEGER PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            text_hash TEXT NOT NULL REFERENCES texts(hash),
            message TEXT NOT NULL,
            waiver TEXT,
            line INTEGER,
            end_line INTEGER,
            target TEXT,
            evidence TEXT NOT NULL
        )"""
    )
    texts: dict[tuple[str, str, str], str] = {}
    rows: list[tuple[Any, ...]] = []
    remap: list[tuple[str, str]] = []
    for old, title, remediation, message, controls, waiver, line, end_line, target, evidence in conn.execute(
        """SELECT d.hash, d.title, d.remediation, d.message, d.controls, d.waiver, d.line, d.end_line, d.target,
                  e.body
             FROM details d JOIN evidence e ON e.hash = d.evidence_hash ORDER BY d.hash"""
    ):
        th = texts.get((title, remediation, controls))
        if th is None:
            th = texts[(title, remediation, controls)] = text_hash(title, remediation, controls)
        dh = details_hash(th, message, waiver, line, end_line, target, evidence)
        rows.append((dh, th, message, waiver, line, end_line, target, evidence))
        remap.append((old, dh))
    conn.executemany(
        "INSERT INTO texts (hash, title, remediation, controls) VALUES (?, ?, ?, ?)",
        [(h, *key) for key, h in texts.items()],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO details_v5 (hash, text_hash, message, waiver, line, end_line, target, evidence) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("CREATE TEMP TABLE details_remap (old TEXT PRIMARY KEY, new TEXT NOT NULL) WITHOUT ROWID")
    conn.executemany("INSERT INTO temp.details_remap (old, new) VALUES (?, ?)", remap)
    conn.execute(
        "UPDATE observations SET details_hash = "
        "(SELECT new FROM temp.details_remap WHERE old = observations.details_hash)"
    )
    conn.execute("DROP TABLE temp.details_remap")
    conn.execute("DROP TABLE details")
    conn.execute("DROP TABLE evidence")
    conn.execute("ALTER TABLE details_v5 RENAME TO details")
    # Open intervals and the lifecycle's "last seen".
    conn.execute("ALTER TABLE observations ADD COLUMN raw BLOB")
    top = conn.execute("SELECT MAX(obs_seq) FROM runs").fetchone()[0]
    if top is not None:
        conn.execute("UPDATE observations SET last_seq = ? WHERE last_seq = ?", [OPEN_SEQ, top])
    conn.execute("ALTER TABLE findings RENAME COLUMN last_seen_run TO last_seen_run_v4")
    conn.execute("ALTER TABLE findings RENAME COLUMN last_seen_at TO last_seen_at_v4")
    conn.execute("ALTER TABLE findings ADD COLUMN last_seen_run TEXT")
    conn.execute("ALTER TABLE findings ADD COLUMN last_seen_at TEXT")
    conn.execute(
        """UPDATE findings SET last_seen_run = last_seen_run_v4, last_seen_at = last_seen_at_v4
            WHERE fingerprint NOT IN (SELECT fingerprint FROM observations WHERE last_seq = ?)""",
        [OPEN_SEQ],
    )
    conn.execute("ALTER TABLE findings DROP COLUMN last_seen_run_v4")
    conn.execute("ALTER TABLE findings DROP COLUMN last_seen_at_v4")


def _migrate_6(conn: sqlite3.Connection) -> None:
    """Issue 14 (store speed, second step): an observation carries its details.

    A finding's details (message, line, target, waiver, evidence) are stored once per interval:
    an unchanged finding's interval stays open and writes nothing, so a separate content-addressed
    `details` table only saved a copy when a finding changed and changed back, and cost every new
    finding a second row and a unique-index entry. Observations take the columns (their
    `details_hash` stays the content hash `db check` recomputes); the per-finding `raw` value
    hash goes (serialising is cheaper than fingerprinting Python values). Titles, remediation
    and controls stay per check in `texts`.
    """
    conn.execute("DROP VIEW run_findings")
    conn.execute(
        """CREATE TABLE observations_v6 (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            severity TEXT NOT NULL,
            details_hash TEXT NOT NULL,
            text_hash TEXT NOT NULL REFERENCES texts(hash),
            message TEXT NOT NULL,
            waiver TEXT,
            line INTEGER,
            end_line INTEGER,
            target TEXT,
            evidence TEXT NOT NULL
        )"""
    )
    conn.execute(
        """INSERT INTO observations_v6 (id, fingerprint, first_seq, last_seq, status, severity, details_hash,
                                        text_hash, message, waiver, line, end_line, target, evidence)
           SELECT o.id, o.fingerprint, o.first_seq, o.last_seq, o.status, o.severity, d.hash,
                  d.text_hash, d.message, d.waiver, d.line, d.end_line, d.target, d.evidence
             FROM observations o JOIN details d ON d.hash = o.details_hash
            ORDER BY o.id"""
    )
    conn.execute("DROP TABLE observations")
    conn.execute("DROP TABLE details")
    conn.execute("ALTER TABLE observations_v6 RENAME TO observations")
    conn.execute("CREATE INDEX observations_last ON observations(last_seq)")
    conn.execute(
        """CREATE VIEW run_findings AS
            SELECT r.id AS run_id, r.seq AS run_seq, o.fingerprint, o.status, o.severity, o.details_hash,
                   o.message, o.line, o.end_line, o.target, o.waiver, o.evidence
            FROM runs r JOIN observations o
              ON o.first_seq <= r.obs_seq AND o.last_seq >= r.obs_seq"""
    )
    # Control results are what every run adds even when nothing changed: one copy of each
    # row (the primary key is the table), and no second index by framework (the trend
    # query reads them all in run order; per-run look-ups use the key).
    conn.execute("DROP INDEX control_results_fw")
    conn.execute("ALTER TABLE control_results RENAME TO control_results_v5")
    conn.execute(
        """CREATE TABLE control_results (
            run_id TEXT NOT NULL REFERENCES runs(id),
            framework TEXT NOT NULL,
            control_id TEXT NOT NULL,
            status TEXT NOT NULL,
            pass INTEGER NOT NULL,
            fail INTEGER NOT NULL,
            error INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            waived INTEGER NOT NULL,
            PRIMARY KEY (run_id, framework, control_id)
        ) WITHOUT ROWID"""
    )
    conn.execute("INSERT INTO control_results SELECT * FROM control_results_v5")
    conn.execute("DROP TABLE control_results_v5")


# Declared, versioned migrations: (version, statements). Never edit a released one;
# append a new version instead. A statement is SQL text or a function of the connection
# (run inside the migration's transaction, with foreign-key enforcement off).
MIGRATIONS: list[tuple[int, list[Migration]]] = [
    (
        1,
        [
            """CREATE TABLE runs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                status TEXT NOT NULL,
                scanner_version TEXT NOT NULL,
                organisation TEXT,
                targets TEXT NOT NULL DEFAULT '[]',
                frameworks TEXT NOT NULL DEFAULT '[]',
                providers TEXT NOT NULL DEFAULT '[]',
                summary TEXT,
                error TEXT,
                obs_seq INTEGER UNIQUE,
                pid INTEGER,
                host TEXT
            )""",
            """CREATE TABLE findings (
                fingerprint TEXT PRIMARY KEY,
                check_id TEXT NOT NULL,
                provider TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                account TEXT,
                region TEXT,
                path TEXT,
                first_seen_run TEXT NOT NULL,
                first_seen_at TEXT NOT NULL,
                last_seen_run TEXT NOT NULL,
                last_seen_at TEXT NOT NULL,
                status TEXT NOT NULL,
                severity TEXT NOT NULL,
                resolved_run TEXT,
                resolved_at TEXT
            ) WITHOUT ROWID""",
            """CREATE TABLE evidence (
                hash TEXT PRIMARY KEY,
                body TEXT NOT NULL
            ) WITHOUT ROWID""",
            """CREATE TABLE details (
                hash TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                message TEXT NOT NULL,
                remediation TEXT NOT NULL,
                controls TEXT NOT NULL,
                waiver TEXT,
                line INTEGER,
                end_line INTEGER,
                evidence_hash TEXT NOT NULL REFERENCES evidence(hash)
            ) WITHOUT ROWID""",
            """CREATE TABLE observations (
                id INTEGER PRIMARY KEY,
                fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
                first_seq INTEGER NOT NULL,
                last_seq INTEGER NOT NULL,
                status TEXT NOT NULL,
                severity TEXT NOT NULL,
                details_hash TEXT NOT NULL REFERENCES details(hash)
            )""",
            "CREATE INDEX observations_last ON observations(last_seq)",
            """CREATE VIEW run_findings AS
                SELECT r.id AS run_id, r.seq AS run_seq, o.fingerprint, o.status, o.severity,
                       o.details_hash
                FROM runs r JOIN observations o
                  ON o.first_seq <= r.obs_seq AND o.last_seq >= r.obs_seq""",
            """CREATE TABLE control_results (
                run_id TEXT NOT NULL REFERENCES runs(id),
                framework TEXT NOT NULL,
                control_id TEXT NOT NULL,
                status TEXT NOT NULL,
                pass INTEGER NOT NULL,
                fail INTEGER NOT NULL,
                error INTEGER NOT NULL,
                skipped INTEGER NOT NULL,
                waived INTEGER NOT NULL,
                PRIMARY KEY (run_id, framework, control_id)
            )""",
            "CREATE INDEX control_results_fw ON control_results(framework, control_id)",
            """CREATE TABLE checks (
                id TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                severity TEXT NOT NULL,
                provider TEXT NOT NULL,
                description TEXT NOT NULL,
                risk TEXT NOT NULL,
                remediation TEXT NOT NULL,
                resource_type TEXT NOT NULL
            )""",
            """CREATE TABLE controls (
                framework TEXT NOT NULL,
                id TEXT NOT NULL,
                title TEXT NOT NULL,
                category TEXT NOT NULL,
                description TEXT NOT NULL,
                checks TEXT NOT NULL,
                manual_evidence TEXT NOT NULL,
                PRIMARY KEY (framework, id)
            )""",
            """CREATE TABLE waivers (
                id INTEGER PRIMARY KEY,
                check_pattern TEXT NOT NULL,
                resource_pattern TEXT NOT NULL DEFAULT '*',
                reason TEXT NOT NULL,
                approver TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL
            )""",
            """CREATE TABLE manual_evidence (
                id INTEGER PRIMARY KEY,
                framework TEXT NOT NULL,
                control_id TEXT NOT NULL,
                filename TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                content BLOB NOT NULL,
                owner TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                added_at TEXT NOT NULL,
                expires_at TEXT
            )""",
            "CREATE INDEX manual_evidence_control ON manual_evidence(framework, control_id)",
        ],
    ),
    (
        2,
        [
            # Issue 8: the outcome of each notification attempt after a run (sent or failed).
            """CREATE TABLE notifications (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                channel TEXT NOT NULL,
                status TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT '',
                findings INTEGER NOT NULL DEFAULT 0,
                at TEXT NOT NULL
            )""",
            "CREATE INDEX notifications_run ON notifications(run_id)",
        ],
    ),
    (
        3,
        [
            # Issue 11: what each run examined per target (JSON list of Coverage), and the
            # target each finding belongs to: a finding is resolved only by a run that
            # covered its target with its check again.
            "ALTER TABLE runs ADD COLUMN coverage TEXT",
            "ALTER TABLE findings ADD COLUMN target TEXT",
            # Issue 12: the catalog in force at scan time, stored once per content hash.
            "ALTER TABLE runs ADD COLUMN catalog_hash TEXT",
            """CREATE TABLE catalogs (
                hash TEXT PRIMARY KEY,
                body TEXT NOT NULL
            ) WITHOUT ROWID""",
            # Issue 12: which expected evidence item a manual evidence file covers, and who approved it.
            "ALTER TABLE manual_evidence ADD COLUMN item TEXT",
            "ALTER TABLE manual_evidence ADD COLUMN approver TEXT",
        ],
    ),
    (
        4,
        [
            # Issue 13: the target a finding was seen under, per observation. Paths are relative
            # to a source root, so one fingerprint can be seen under several targets over time
            # (`--iac .` then `--iac infra`; another checkout folder): a run's findings read back
            # with the target of that run, not of the latest one (findings.target).
            "ALTER TABLE details ADD COLUMN target TEXT",
        ],
    ),
    (5, [_migrate_5]),
    (6, [_migrate_6]),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
