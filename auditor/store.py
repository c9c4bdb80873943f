"""SQLite history through sqlite-utils: declared migrations, atomic runs, queries.

How a run's findings are kept
-----------------------------
A daily scan of an unchanged estate must not copy every finding every day. Findings
are therefore stored as *observation intervals*: one row says "fingerprint F had
status S, severity V and details D in every stored run from sequence number A to B".
Saving a run extends the interval of every finding that is unchanged since the
previous stored run (an UPDATE, no growth) and opens a new interval for the rest.
Messages, remediation, line numbers, controls and evidence are stored once per content
hash (`details`, `evidence`). `run_findings` (a view) gives "findings per run" back as
plain rows (run id + fingerprint + ...), and every history question is a SQL query.

Atomicity and concurrency
-------------------------
A run row is written with status `running` when a scan starts. Its findings, its
control results and its final status are written in one `BEGIN IMMEDIATE`
transaction; a crash or Ctrl-C before that leaves the earlier runs untouched and the
run is marked `failed` (at once on Ctrl-C or an exception; by the next writer when the
process died). Writers take SQLite's write lock in turn (WAL, busy timeout), so two
concurrent scans serialise and never interleave; one that waits too long fails with a
clear message.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from auditor.clock import parse_instant
from auditor.errors import StoreError
from auditor.models import (
    CheckInfo,
    ControlResult,
    Finding,
    Resource,
    Run,
    RunStatus,
    Severity,
    Status,
    iso_z,
)

APP_ID = "auditor"
BUSY_TIMEOUT_S = float(os.environ.get("AUDITOR_DB_TIMEOUT", "60"))

# Declared, versioned migrations: (version, statements). Never edit a released one;
# append a new version instead.
MIGRATIONS: list[tuple[int, list[str]]] = [
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
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _sha(text: str) -> str:
    """Content address: 128 bits of SHA-256 are plenty to tell evidence apart."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class StoredFinding:
    """A finding as stored for one run, with its lifecycle."""

    finding: Finding
    first_seen_at: str
    last_seen_at: str
    resolved_at: str | None


@dataclass(frozen=True)
class FindingChange:
    fingerprint: str
    check_id: str
    resource_id: str
    severity: str
    before: str | None  # status in run A (None: absent)
    after: str | None  # status in run B (None: absent)


@dataclass(frozen=True)
class RunDiff:
    run_a: Run
    run_b: Run
    new: list[FindingChange]
    resolved: list[FindingChange]
    changed: list[FindingChange]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """One auditor database. Use `Store.open(path)`."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.db = db
        self.path = path
        self.timeout = timeout

    # Opening and migrating ------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, create: bool = True, timeout: float | None = None) -> Store:
        path = Path(path)
        timeout = BUSY_TIMEOUT_S if timeout is None else timeout
        if path.exists():
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not an auditor database")
            with path.open("rb") as fh:
                head = fh.read(16)
            if head and head != b"SQLite format 3\x00":
                raise StoreError(f"{path} is not an auditor database (not an SQLite file)")
        elif not create:
            raise StoreError(f"no auditor database at {path}: run `auditor scan` first or pass --db")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
            db = sqlite_utils.Database(conn)
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA cache_size=-65536")  # 64 MiB: hash-keyed inserts touch many pages
            db.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed run's integrity
            store = cls(db, path, timeout)
            store._migrate()
            if db.journal_mode != "wal":
                db.enable_wal()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot use database: {exc}") from None
        return store

    @classmethod
    def memory(cls) -> Store:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store = cls(sqlite_utils.Database(conn), None)
        store._migrate()
        return store

    def close(self) -> None:
        self.db.conn.close()

    def schema_version(self) -> int:
        if "auditor_meta" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT value FROM auditor_meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        tables = set(self.db.table_names())
        if "auditor_meta" not in tables:
            if tables:
                raise StoreError(f"{self.path} is an SQLite database but not an auditor database")
        else:
            app = self.db.execute("SELECT value FROM auditor_meta WHERE key='app'").fetchone()
            if not app or app[0] != APP_ID:
                raise StoreError(f"{self.path} is not an auditor database")
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer auditor (schema {current}; this version knows "
                f"{SCHEMA_VERSION}): upgrade auditor to read it"
            )
        if current == SCHEMA_VERSION:
            return
        with self.write_transaction():
            # Re-read inside the lock: another process may have migrated meanwhile.
            current = self.schema_version()
            if current == 0:
                self.db.execute("CREATE TABLE IF NOT EXISTS auditor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self.db.execute("INSERT OR REPLACE INTO auditor_meta VALUES ('app', ?)", [APP_ID])
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    self.db.execute(statement)
                self.db.execute("INSERT OR REPLACE INTO auditor_meta VALUES ('schema_version', ?)", [str(version)])

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """`BEGIN IMMEDIATE` ... `COMMIT`: one writer at a time, all or nothing."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{self.path}: the database is locked by another auditor process "
                    f"(waited {self.timeout:.0f} s); try again when it has finished"
                ) from None
            raise
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # Writing runs ---------------------------------------------------------------------

    def begin_run(self, run: Run, providers: Sequence[str], organisation: str = "") -> None:
        with self.write_transaction():
            self._fail_abandoned_runs()
            self.db.execute(
                """INSERT INTO runs (id, started_at, status, scanner_version, organisation, targets,
                                     frameworks, providers, pid, host)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    run.id,
                    iso_z(run.started_at),
                    RunStatus.RUNNING.value,
                    run.scanner_version,
                    organisation,
                    _dumps(list(run.targets)),
                    _dumps(list(run.frameworks)),
                    _dumps(list(providers)),
                    os.getpid(),
                    socket.gethostname(),
                ],
            )

    def _fail_abandoned_runs(self) -> None:
        host = socket.gethostname()
        rows = self.db.execute("SELECT id, pid, host FROM runs WHERE status = 'running'").fetchall()
        for run_id, pid, run_host in rows:
            if run_host == host and pid and not _pid_alive(pid):
                self.db.execute(
                    "UPDATE runs SET status='failed', error='the scanning process ended before the run was saved' "
                    "WHERE id = ?",
                    [run_id],
                )

    def fail_run(self, run_id: str, error: str, finished_at: datetime) -> None:
        with self.write_transaction():
            self.db.execute(
                "UPDATE runs SET status='failed', error=?, finished_at=? WHERE id=? AND status='running'",
                [error[:2000], iso_z(finished_at), run_id],
            )

    def save_run(
        self,
        run_id: str,
        findings: Iterable[Finding],
        control_results: Iterable[ControlResult],
        status: RunStatus,
        finished_at: datetime,
        summary: dict[str, Any],
        checks: Iterable[CheckInfo] = (),
    ) -> Run:
        """Write a finished run's findings, control results and status atomically."""
        findings = list(findings)
        control_results = list(control_results)
        checks = list(checks)
        # This write inserts content rows before the rows that refer to them, so the
        # per-row foreign-key lookups only cost time (about a third of the ingest);
        # `auditor db check` verifies the references with PRAGMA foreign_key_check.
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            return self._save_run(run_id, findings, control_results, status, finished_at, summary, checks)
        finally:
            self.db.execute("PRAGMA foreign_keys=ON")

    def _save_run(
        self,
        run_id: str,
        findings: list[Finding],
        control_results: list[ControlResult],
        status: RunStatus,
        finished_at: datetime,
        summary: dict[str, Any],
        checks: list[CheckInfo],
    ) -> Run:
        with self.write_transaction():
            row = self.db.execute("SELECT seq, started_at, status FROM runs WHERE id=?", [run_id]).fetchone()
            if row is None:
                raise StoreError(f"run {run_id} was not started in this database")
            if row[2] != RunStatus.RUNNING.value:
                raise StoreError(f"run {run_id} is already {row[2]}")
            prev = self.db.execute("SELECT MAX(obs_seq) FROM runs").fetchone()[0] or 0
            seq = prev + 1
            self._write_observations(run_id, seq, prev, findings, iso_z(finished_at))
            self._write_control_results(run_id, control_results)
            if checks:
                self._write_checks(checks)
            self.db.execute(
                "UPDATE runs SET status=?, finished_at=?, summary=?, obs_seq=? WHERE id=?",
                [status.value, iso_z(finished_at), _dumps(summary), seq, run_id],
            )
        return self.get_run(run_id)

    def _write_observations(self, run_id: str, seq: int, prev: int, findings: list[Finding], when: str) -> None:
        conn = self.db.conn
        # One finding per fingerprint: a duplicate keeps the worse status.
        by_fp: dict[str, Finding] = {}
        for f in findings:
            old = by_fp.get(f.fingerprint)
            if old is None or _status_weight(f.status) > _status_weight(old.status):
                by_fp[f.fingerprint] = f
        # Intervals still open after the previous stored run; their details are on file.
        open_rows = (
            {
                fp: (oid, st, sev, dh)
                for oid, fp, st, sev, dh in conn.execute(
                    "SELECT id, fingerprint, status, severity, details_hash FROM observations WHERE last_seq = ?",
                    [prev],
                )
            }
            if prev
            else {}
        )
        known_details = {row[3] for row in open_rows.values()}
        evidence_rows: dict[str, str] = {}
        details_rows: dict[str, tuple[Any, ...]] = {}
        obs: list[tuple[str, str, str, str]] = []
        controls_json: dict[tuple[str, ...], str] = {}
        for fp, f in by_fp.items():
            ev = f.evidence_json()
            ev_hash = _sha(ev)
            controls = controls_json.get(f.controls)
            if controls is None:
                controls = controls_json[f.controls] = _dumps(list(f.controls))
            waiver = _dumps(f.waiver) if f.waiver is not None else None
            d = (f.title, f.message, f.remediation, controls, waiver, f.resource.line, f.resource.end_line, ev_hash)
            d_hash = _sha("\x1f".join(map(str, d)))
            if d_hash not in known_details:  # unchanged since the last run: nothing to write
                details_rows[d_hash] = d
                evidence_rows[ev_hash] = ev
            obs.append((fp, f.status, f.severity, d_hash))  # StrEnum members are str
        conn.executemany("INSERT OR IGNORE INTO evidence (hash, body) VALUES (?, ?)", evidence_rows.items())
        conn.executemany(
            "INSERT OR IGNORE INTO details (hash, title, message, remediation, controls, waiver, line, end_line, "
            "evidence_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(h, *d) for h, d in details_rows.items()],
        )
        # Lifecycle: insert new fingerprints, move last-seen, resolve and reopen.
        conn.executemany(
            """INSERT INTO findings (fingerprint, check_id, provider, resource_id, resource_type, account, region,
                                     path, first_seen_run, first_seen_at, last_seen_run, last_seen_at, status,
                                     severity, resolved_run, resolved_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
               ON CONFLICT(fingerprint) DO UPDATE SET
                 last_seen_run = excluded.last_seen_run,
                 last_seen_at = excluded.last_seen_at,
                 severity = excluded.severity,
                 resolved_run = CASE
                   WHEN excluded.status IN ('FAIL', 'WAIVED') THEN NULL
                   WHEN findings.status IN ('FAIL', 'WAIVED') AND findings.resolved_run IS NULL
                        AND excluded.status = 'PASS' THEN excluded.last_seen_run
                   ELSE findings.resolved_run END,
                 resolved_at = CASE
                   WHEN excluded.status IN ('FAIL', 'WAIVED') THEN NULL
                   WHEN findings.status IN ('FAIL', 'WAIVED') AND findings.resolved_run IS NULL
                        AND excluded.status = 'PASS' THEN excluded.last_seen_at
                   ELSE findings.resolved_at END,
                 status = excluded.status""",
            [
                (
                    fp,
                    f.check_id,
                    f.provider,
                    f.resource.id,
                    f.resource.type,
                    f.resource.account,
                    f.resource.region,
                    f.resource.path,
                    run_id,
                    when,
                    run_id,
                    when,
                    f.status,  # StrEnum members are str
                    f.severity,
                )
                for fp, f in by_fp.items()
            ],
        )
        # Failing findings that this run no longer reports are resolved, but only when this
        # run looked where they were last seen: same provider, same targets.
        providers_json, targets = self.db.execute(
            "SELECT providers, targets FROM runs WHERE id=?", [run_id]
        ).fetchone()
        providers = json.loads(providers_json or "[]")
        if providers:
            marks = ",".join("?" for _ in providers)
            conn.execute(
                f"""UPDATE findings SET resolved_run = ?, resolved_at = ?
                    WHERE status IN ('FAIL', 'WAIVED') AND resolved_run IS NULL AND last_seen_run != ?
                      AND provider IN ({marks})
                      AND last_seen_run IN (SELECT id FROM runs WHERE targets = ?)""",
                [run_id, when, run_id, *providers, targets],
            )
        # Observation intervals: extend the unchanged, open new ones for the rest.
        extend: list[tuple[int, int]] = []
        new_rows: list[tuple[str, int, int, str, str, str]] = []
        for fp, st, sev, dh in obs:
            hit = open_rows.get(fp)
            if hit is not None and hit[1] == st and hit[2] == sev and hit[3] == dh:
                extend.append((seq, hit[0]))
            else:
                new_rows.append((fp, seq, seq, st, sev, dh))
        conn.executemany("UPDATE observations SET last_seq = ? WHERE id = ?", extend)
        conn.executemany(
            "INSERT INTO observations (fingerprint, first_seq, last_seq, status, severity, details_hash) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            new_rows,
        )

    def _write_control_results(self, run_id: str, results: list[ControlResult]) -> None:
        self.db.conn.executemany(
            "INSERT INTO control_results (run_id, framework, control_id, status, pass, fail, error, skipped, waived) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    r.framework,
                    r.control_id,
                    r.status.value,
                    r.counts.get("PASS", 0),
                    r.counts.get("FAIL", 0),
                    r.counts.get("ERROR", 0),
                    r.counts.get("SKIPPED", 0),
                    r.counts.get("WAIVED", 0),
                )
                for r in results
            ],
        )

    def _write_checks(self, checks: list[CheckInfo]) -> None:
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO checks (id, title, severity, provider, description, risk, remediation, "
            "resource_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (c.id, c.title, c.severity.value, c.provider, c.description, c.risk, c.remediation, c.resource_type)
                for c in checks
            ],
        )

    # Reading runs ---------------------------------------------------------------------

    def _run_from_row(self, row: dict[str, Any]) -> Run:
        return Run(
            id=row["id"],
            started_at=parse_instant(row["started_at"]),
            finished_at=parse_instant(row["finished_at"]) if row["finished_at"] else None,
            status=RunStatus(row["status"]),
            scanner_version=row["scanner_version"],
            targets=tuple(json.loads(row["targets"] or "[]")),
            frameworks=tuple(json.loads(row["frameworks"] or "[]")),
            seq=row["seq"],
            error=row["error"],
        )

    def list_runs(self, limit: int | None = None) -> list[tuple[Run, dict[str, Any]]]:
        sql = "SELECT * FROM runs ORDER BY seq DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [(self._run_from_row(r), json.loads(r["summary"]) if r["summary"] else {}) for r in self.db.query(sql)]

    def get_run(self, ref: str) -> Run:
        """A run by id, unique id prefix, or `latest` (the newest stored run)."""
        if ref == "latest":
            rows = list(self.db.query("SELECT * FROM runs WHERE obs_seq IS NOT NULL ORDER BY obs_seq DESC LIMIT 1"))
            if not rows:
                raise StoreError("no completed run in the database yet")
            return self._run_from_row(rows[0])
        rows = list(self.db.query("SELECT * FROM runs WHERE id = ?", [ref]))
        if not rows:
            rows = list(self.db.query("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", [_like_prefix(ref)]))
        if not rows:
            raise StoreError(f"no run {ref!r} in the database (see `auditor runs`)")
        if len(rows) > 1:
            raise StoreError(f"run id prefix {ref!r} is ambiguous")
        return self._run_from_row(rows[0])

    def stored_runs(self, count: int) -> list[Run]:
        """The newest `count` runs that hold findings, oldest first."""
        rows = list(
            self.db.query("SELECT * FROM runs WHERE obs_seq IS NOT NULL ORDER BY obs_seq DESC LIMIT ?", [count])
        )
        return [self._run_from_row(r) for r in reversed(rows)]

    def findings_for_run(self, run_id: str) -> list[Finding]:
        """Every finding of one stored run, ordered by check and resource."""
        return list(self.iter_findings_for_run(run_id))

    def control_results(self, run_id: str, framework: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM control_results WHERE run_id = ?"
        params: list[Any] = [run_id]
        if framework:
            sql += " AND framework = ?"
            params.append(framework)
        return list(self.db.query(sql, params))

    def manual_evidence_expiries(self) -> list[tuple[str, datetime | None]]:
        """(control ref, expiry) for every manual evidence item on file."""
        return [
            (f"{fw}:{cid}", parse_instant(exp) if exp else None)
            for fw, cid, exp in self.db.execute("SELECT framework, control_id, expires_at FROM manual_evidence")
        ]

    # History queries ------------------------------------------------------------------

    def diff(self, a: Run, b: Run) -> RunDiff:
        """New, resolved and changed findings between two stored runs (by fingerprint)."""
        sql = """
            WITH ra AS (SELECT fingerprint, status, severity FROM observations
                        WHERE first_seq <= :sa AND last_seq >= :sa),
                 rb AS (SELECT fingerprint, status, severity FROM observations
                        WHERE first_seq <= :sb AND last_seq >= :sb),
                 pairs AS (
                    SELECT rb.fingerprint AS fp, ra.status AS sa, rb.status AS sb, rb.severity AS sev
                      FROM rb LEFT JOIN ra ON ra.fingerprint = rb.fingerprint
                    UNION ALL
                    SELECT ra.fingerprint, ra.status, NULL, ra.severity
                      FROM ra WHERE ra.fingerprint NOT IN (SELECT fingerprint FROM rb))
            SELECT p.fp, f.check_id, f.resource_id, p.sev, p.sa, p.sb
              FROM pairs p JOIN findings f ON f.fingerprint = p.fp
             WHERE p.sa IS NOT p.sb
             ORDER BY f.check_id, f.resource_id
        """
        sa = self._obs_seq(a)
        sb = self._obs_seq(b)
        new, resolved, changed = [], [], []
        for fp, check_id, resource_id, sev, before, after in self.db.execute(sql, {"sa": sa, "sb": sb}).fetchall():
            change = FindingChange(fp, check_id, resource_id, sev, before, after)
            if after == "FAIL":
                new.append(change)
            elif before == "FAIL" and after in (None, "PASS"):
                resolved.append(change)
            elif before is not None and after is not None:
                changed.append(change)
            # A non-failing finding that appears or disappears is not a change worth showing.
        return RunDiff(a, b, new, resolved, changed)

    def _obs_seq(self, run: Run) -> int:
        row = self.db.execute("SELECT obs_seq FROM runs WHERE id=?", [run.id]).fetchone()
        if not row or row[0] is None:
            raise StoreError(f"run {run.id} holds no findings (status {run.status})")
        return int(row[0])

    def history(self, fingerprint: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A finding's lifecycle row and its status per stored run (one row per status change)."""
        rows = list(self.db.query("SELECT * FROM findings WHERE fingerprint = ?", [fingerprint]))
        if not rows:
            rows = list(
                self.db.query(
                    "SELECT * FROM findings WHERE fingerprint LIKE ? ESCAPE '\\' LIMIT 2", [_like_prefix(fingerprint)]
                )
            )
        if not rows:
            raise StoreError(f"no finding with fingerprint {fingerprint!r}")
        if len(rows) > 1:
            raise StoreError(f"fingerprint prefix {fingerprint!r} is ambiguous")
        life = rows[0]
        sql = """
            SELECT o.first_seq, o.last_seq, o.status, o.severity, d.message,
                   (SELECT id FROM runs WHERE obs_seq = o.first_seq) AS first_run,
                   (SELECT started_at FROM runs WHERE obs_seq = o.first_seq) AS first_at,
                   (SELECT id FROM runs WHERE obs_seq = o.last_seq) AS last_run,
                   (SELECT started_at FROM runs WHERE obs_seq = o.last_seq) AS last_at,
                   (SELECT COUNT(*) FROM runs WHERE obs_seq BETWEEN o.first_seq AND o.last_seq) AS runs
              FROM observations o JOIN details d ON d.hash = o.details_hash
             WHERE o.fingerprint = ? ORDER BY o.first_seq
        """
        return life, list(self.db.query(sql, [life["fingerprint"]]))

    def trend(self, framework: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """Per run and control: status and counts, oldest run first."""
        sql = """
            SELECT r.id AS run_id, r.started_at, c.framework, c.control_id, c.status, c.pass, c.fail, c.error
              FROM control_results c JOIN runs r ON r.id = c.run_id
             WHERE (:fw IS NULL OR c.framework = :fw) AND (:since IS NULL OR r.started_at >= :since)
             ORDER BY r.obs_seq, c.framework, c.control_id
        """
        return list(self.db.query(sql, {"fw": framework, "since": iso_z(since) if since else None}))

    # Reports and manual evidence (issue 6) ------------------------------------------------

    def run_context(self, run_id: str) -> dict[str, Any]:
        """Organisation, providers, targets and frameworks recorded for a run."""
        row = self.db.execute(
            "SELECT organisation, providers, targets, frameworks, obs_seq FROM runs WHERE id=?", [run_id]
        ).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in the database (see `auditor runs`)")
        return {
            "organisation": row[0] or "",
            "providers": json.loads(row[1] or "[]"),
            "targets": json.loads(row[2] or "[]"),
            "frameworks": json.loads(row[3] or "[]"),
            "obs_seq": row[4],
        }

    def iter_findings_for_run(self, run_id: str) -> Iterator[Finding]:
        """The findings of one run, streamed (same rows and order as `findings_for_run`)."""
        seq_row = self.db.execute("SELECT obs_seq FROM runs WHERE id=?", [run_id]).fetchone()
        if not seq_row or seq_row[0] is None:
            return
        sql = """
            SELECT o.fingerprint, o.status, o.severity, f.check_id, f.provider, f.resource_id, f.resource_type,
                   f.account, f.region, f.path, d.title, d.message, d.remediation, d.controls, d.waiver, d.line,
                   d.end_line, e.body
            FROM observations o
            JOIN findings f ON f.fingerprint = o.fingerprint
            JOIN details d ON d.hash = o.details_hash
            JOIN evidence e ON e.hash = d.evidence_hash
            WHERE o.first_seq <= :s AND o.last_seq >= :s
            ORDER BY f.check_id, f.resource_id
        """
        cursor = self.db.conn.execute(sql, {"s": seq_row[0]})
        while True:
            rows = cursor.fetchmany(2000)
            if not rows:
                return
            for r in rows:
                yield Finding(
                    fingerprint=r[0],
                    status=Status(r[1]),
                    severity=Severity(r[2]),
                    check_id=r[3],
                    provider=r[4],
                    resource=Resource(
                        id=r[5], type=r[6], account=r[7], region=r[8], path=r[9], line=r[15], end_line=r[16]
                    ),
                    title=r[10],
                    message=r[11],
                    remediation=r[12],
                    controls=tuple(json.loads(r[13])),
                    waiver=json.loads(r[14]) if r[14] else None,
                    evidence=json.loads(r[17]),
                )

    def stored_runs_between(self, start: datetime | None, end: datetime | None) -> list[Run]:
        """Runs that hold findings and started in [start, end), oldest first (None: open)."""
        rows = self.db.query(
            """SELECT * FROM runs WHERE obs_seq IS NOT NULL
                 AND (:a IS NULL OR started_at >= :a) AND (:b IS NULL OR started_at < :b)
               ORDER BY obs_seq""",
            {"a": iso_z(start) if start else None, "b": iso_z(end) if end else None},
        )
        return [self._run_from_row(r) for r in rows]

    def control_statuses(self, framework: str, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """run id -> control id -> stored control status, for the given runs of one framework."""
        out: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        for i in range(0, len(run_ids), 500):
            chunk = list(run_ids[i : i + 500])
            marks = ",".join("?" for _ in chunk)
            for rid, cid, status in self.db.execute(
                f"SELECT run_id, control_id, status FROM control_results WHERE framework = ? AND run_id IN ({marks})",
                [framework, *chunk],
            ):
                out[rid][cid] = status
        return out

    def waived_observations(self, first_seq: int, last_seq: int) -> list[dict[str, Any]]:
        """WAIVED findings observed in any stored run with obs_seq in [first_seq, last_seq]."""
        sql = """
            SELECT f.check_id, f.resource_id, d.controls, d.waiver,
                   MAX(o.first_seq, :a) AS from_seq, MIN(o.last_seq, :b) AS to_seq
              FROM observations o
              JOIN findings f ON f.fingerprint = o.fingerprint
              JOIN details d ON d.hash = o.details_hash
             WHERE o.status = 'WAIVED' AND o.first_seq <= :b AND o.last_seq >= :a
             ORDER BY f.check_id, f.resource_id, o.first_seq
        """
        return [
            {
                "check_id": r[0],
                "resource_id": r[1],
                "controls": json.loads(r[2]),
                "waiver": json.loads(r[3]) if r[3] else {},
                "from_seq": r[4],
                "to_seq": r[5],
            }
            for r in self.db.execute(sql, {"a": first_seq, "b": last_seq})
        ]

    def add_manual_evidence(
        self,
        framework: str,
        control_id: str,
        filename: str,
        content: bytes,
        owner: str,
        note: str,
        added_at: datetime,
        expires_at: datetime | None,
    ) -> dict[str, Any]:
        """Store one manual evidence file with its SHA-256; returns its row (without content)."""
        digest = hashlib.sha256(content).hexdigest()
        with self.write_transaction():
            cur = self.db.conn.execute(
                """INSERT INTO manual_evidence (framework, control_id, filename, sha256, size, content, owner, note,
                                                added_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    framework,
                    control_id,
                    filename,
                    digest,
                    len(content),
                    content,
                    owner,
                    note,
                    iso_z(added_at),
                    iso_z(expires_at) if expires_at else None,
                ],
            )
            new_id = cur.lastrowid
        return self.list_manual_evidence(evidence_id=new_id)[0]

    def list_manual_evidence(
        self, framework: str | None = None, evidence_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Manual evidence rows (no file content), by framework and control."""
        sql = """SELECT id, framework, control_id, filename, sha256, size, owner, note, added_at, expires_at
                   FROM manual_evidence
                  WHERE (:fw IS NULL OR framework = :fw) AND (:id IS NULL OR id = :id)
                  ORDER BY framework, control_id, id"""
        return list(self.db.query(sql, {"fw": framework, "id": evidence_id}))

    def manual_evidence_content(self, evidence_id: int) -> bytes:
        row = self.db.execute("SELECT content FROM manual_evidence WHERE id = ?", [evidence_id]).fetchone()
        if row is None:
            raise StoreError(f"no manual evidence #{evidence_id}")
        return bytes(row[0])

    def report_digest(self, run_ids: Sequence[str], framework: str) -> str:
        """SHA-256 over the stored rows a report is built from (runs, control results, findings, evidence)."""
        h = hashlib.sha256()

        def feed(rows: Iterable[Sequence[Any]]) -> None:
            for row in rows:
                h.update(_dumps(list(row)).encode("utf-8"))
                h.update(b"\n")

        for rid in sorted(run_ids):
            feed(
                self.db.execute(
                    "SELECT id, started_at, finished_at, status, scanner_version, summary, obs_seq FROM runs "
                    "WHERE id = ?",
                    [rid],
                )
            )
            feed(
                self.db.execute(
                    "SELECT control_id, status, pass, fail, error, skipped, waived FROM control_results "
                    "WHERE run_id = ? AND framework = ? ORDER BY control_id",
                    [rid, framework],
                )
            )
            feed(
                self.db.execute(
                    "SELECT fingerprint, status, severity, details_hash FROM run_findings WHERE run_id = ? "
                    "ORDER BY fingerprint",
                    [rid],
                )
            )
        feed(
            self.db.execute(
                "SELECT id, control_id, sha256, added_at, expires_at FROM manual_evidence WHERE framework = ? "
                "ORDER BY id",
                [framework],
            )
        )
        return h.hexdigest()

    # Waivers (issue 7) ----------------------------------------------------------------------

    def add_waiver(
        self,
        check_pattern: str,
        resource_pattern: str,
        reason: str,
        approver: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> dict[str, Any]:
        """Store one risk-acceptance waiver; returns its row."""
        with self.write_transaction():
            cur = self.db.conn.execute(
                "INSERT INTO waivers (check_pattern, resource_pattern, reason, approver, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [check_pattern, resource_pattern, reason, approver, iso_z(created_at), iso_z(expires_at)],
            )
            new_id = cur.lastrowid
        return self.list_waivers(waiver_id=new_id)[0]

    def list_waivers(self, waiver_id: int | None = None) -> list[dict[str, Any]]:
        """Waiver rows, oldest first."""
        sql = """SELECT id, check_pattern, resource_pattern, reason, approver, created_at, expires_at
                   FROM waivers WHERE (:id IS NULL OR id = :id) ORDER BY id"""
        return list(self.db.query(sql, {"id": waiver_id}))

    def remove_waiver(self, waiver_id: int) -> bool:
        """Delete one waiver; False when there was none with that id."""
        with self.write_transaction():
            cur = self.db.conn.execute("DELETE FROM waivers WHERE id = ?", [waiver_id])
            removed = cur.rowcount > 0
        return removed

    # Notifications (issue 8) ---------------------------------------------------------------

    def previous_comparable_run(self, run: Run) -> Run | None:
        """The newest stored run before `run` that scanned the same targets (None: first of its kind)."""
        row = self.db.execute("SELECT obs_seq, targets FROM runs WHERE id = ?", [run.id]).fetchone()
        if row is None or row[0] is None:
            return None
        rows = list(
            self.db.query(
                "SELECT * FROM runs WHERE obs_seq IS NOT NULL AND obs_seq < ? AND targets = ? "
                "ORDER BY obs_seq DESC LIMIT 1",
                [row[0], row[1]],
            )
        )
        return self._run_from_row(rows[0]) if rows else None

    def record_notification(
        self, run_id: str, channel: str, status: str, detail: str, findings: int, at: datetime
    ) -> None:
        """Record one notification attempt (channel: webhook|email; status: sent|failed) on a run."""
        with self.write_transaction():
            self.db.execute(
                "INSERT INTO notifications (run_id, channel, status, detail, findings, at) VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, channel, status, detail[:1000], findings, iso_z(at)],
            )

    def notifications_for_run(self, run_id: str) -> list[dict[str, Any]]:
        """Notification attempts recorded on a run, in order."""
        sql = "SELECT channel, status, detail, findings, at FROM notifications WHERE run_id = ? ORDER BY id"
        return list(self.db.query(sql, [run_id]))


def _status_weight(status: Status) -> int:
    return {Status.FAIL: 4, Status.ERROR: 3, Status.WAIVED: 2, Status.PASS: 1, Status.SKIPPED: 0}[status]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
