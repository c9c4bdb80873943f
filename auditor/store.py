"""SQLite history through sqlite-utils: declared migrations, atomic runs, queries.

How a run's findings are kept
-----------------------------
A daily scan of an unchanged estate must not copy every finding every day. Findings
are therefore stored as *observation intervals*: one row says "fingerprint F had
status S, severity V and details D in every stored run from sequence number A to B".
An interval of a finding still seen in the newest stored run is *open*: B is OPEN_SEQ.
Saving a run where a finding is unchanged therefore writes nothing for it (no growth,
no UPDATE; an unchanged finding is recognised by a hash of its values before anything is
serialised); a changed finding closes its interval and opens a new one, a vanished one
closes its interval. Messages, line numbers, controls, the target and the evidence are
stored once per content hash (`details`); titles and remediation are per check, stored
once (`texts`). The lifecycle (`findings`: first seen, status, resolved) is written only
when a finding appears, changes, vanishes or is resolved; its last seen is NULL while it
is still seen in the newest stored run. `run_findings` (a view) gives "findings per run"
back as plain rows (run id + fingerprint + ...), and every history question is a SQL query.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from auditor.clock import parse_instant
from auditor.errors import StoreError
from auditor.models import (
    CheckInfo,
    ControlResult,
    Coverage,
    Finding,
    Resource,
    Run,
    RunStatus,
    Severity,
    Status,
    iso_z,
)
from auditor.redact import redact_text

APP_ID = "auditor"
BUSY_TIMEOUT_S = float(os.environ.get("AUDITOR_DB_TIMEOUT", "60"))

# An open observation interval (the finding is still seen in the newest stored run) ends here.
OPEN_SEQ = 1 << 62

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
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _sha(text: str) -> str:
    """Content address: 128 bits of SHA-256 are plenty to tell evidence apart."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def text_hash(title: str, remediation: str, controls: str) -> str:
    """Content address of what a check's findings share: title, remediation, controls (`texts`)."""
    return _sha(f"{title}\x1f{remediation}\x1f{controls}")


def details_hash(
    text: str,
    message: str,
    waiver: str | None,
    line: int | None,
    end_line: int | None,
    target: str | None,
    evidence: str,
) -> str:
    """Content address of one `details` row (its columns as stored; `db check` recomputes it)."""
    return _sha("\x1f".join(map(str, (text, message, waiver, line, end_line, target, evidence))))


# One encoder for every stored JSON text (json.dumps with options builds a new one per call).
# Same output as `Finding.evidence_json`.
_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode


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
    target: str | None = None


@dataclass(frozen=True)
class RunDiff:
    run_a: Run
    run_b: Run
    new: list[FindingChange]
    resolved: list[FindingChange]
    changed: list[FindingChange]
    # Failing in A, and B did not look again: its target was not scanned, or the check
    # ended in ERROR there (a tool missing, data denied). Never counted as resolved.
    not_rechecked: list[FindingChange] = field(default_factory=list)


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
        self.readonly = False

    # Opening and migrating ------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path, *, create: bool = True, timeout: float | None = None, readonly: bool = False
    ) -> Store:
        """Open (and migrate) an auditor database.

        `readonly=True` is for commands that only read (`runs`, `diff`, `report`, `verify
        --db`, `db check`): the file is opened read-only, so a database on read-only media,
        or one the user may only read, still answers; nothing is created or migrated.
        """
        path = Path(path)
        timeout = BUSY_TIMEOUT_S if timeout is None else timeout
        if path.exists():
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not an auditor database")
            if not path.is_file():
                raise StoreError(f"{path} is not a regular file, not an auditor database")
            try:
                with path.open("rb") as fh:
                    head = fh.read(16)
            except OSError as exc:
                raise StoreError(f"{path}: cannot read the database: {exc.strerror or exc}") from None
            if head and head != b"SQLite format 3\x00":
                raise StoreError(f"{path} is not an auditor database (not an SQLite file)")
        elif not create or readonly:
            raise StoreError(f"no auditor database at {path}: run `auditor scan` first or pass --db")
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the database folder {path.parent}: {exc.strerror or exc}") from None
        if readonly:
            return cls._open_readonly(path, timeout)
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
            raise StoreError(f"{path}: cannot use database: {_db_error(exc)}") from None
        return store

    @classmethod
    def _open_readonly(cls, path: Path, timeout: float) -> Store:
        uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
        store: Store | None = None
        for suffix in ("", "&immutable=1"):
            # A WAL database on read-only media has no -shm file to share: SQLite then
            # reads it as immutable (no other writer can exist on such a file anyway).
            try:
                conn = sqlite3.connect(uri + suffix, uri=True, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as exc:
                last = exc
                continue
            store = cls(sqlite_utils.Database(conn), path, timeout)
            store.readonly = True
            break
        if store is None:
            raise StoreError(f"{path}: cannot open the database read-only: {_db_error(last)}")
        try:
            store._check_app()
            version = store.schema_version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot use database: {_db_error(exc)}") from None
        if version < SCHEMA_VERSION:
            store.close()
            if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
                return cls.open(path, create=False, timeout=timeout)  # upgrade it once, then read
            raise StoreError(
                f"{path} was written by an older auditor (schema {version}, this version reads {SCHEMA_VERSION}) "
                "and is read-only here: open it once where it is writable to upgrade it"
            )
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

    def _check_app(self) -> None:
        tables = set(self.db.table_names())
        if "auditor_meta" not in tables:
            if tables or self.readonly:
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

    def _migrate(self) -> None:
        self._check_app()
        if self.schema_version() == SCHEMA_VERSION:
            return
        # Table rebuilds (migration 5) drop tables that others refer to: enforcement is off
        # while migrating (it cannot change inside a transaction), `db check` verifies after.
        enforced = self.db.execute("PRAGMA foreign_keys").fetchone()[0]
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.write_transaction():
                # Re-read inside the lock: another process may have migrated meanwhile.
                current = self.schema_version()
                if current == 0:
                    self.db.execute(
                        "CREATE TABLE IF NOT EXISTS auditor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                    )
                    self.db.execute("INSERT OR REPLACE INTO auditor_meta VALUES ('app', ?)", [APP_ID])
                for version, statements in MIGRATIONS:
                    if version <= current:
                        continue
                    for statement in statements:
                        if isinstance(statement, str):
                            self.db.execute(statement)
                        else:
                            statement(self.db.conn)
                    self.db.execute(
                        "INSERT OR REPLACE INTO auditor_meta VALUES ('schema_version', ?)", [str(version)]
                    )
        finally:
            if enforced:
                self.db.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """`BEGIN IMMEDIATE` ... `COMMIT`: one writer at a time, all or nothing.

        A full disk or a read-only file ends the transaction with nothing written and one
        clear StoreError (exit 2), never a traceback; earlier runs are untouched.
        """
        if self.readonly:
            raise StoreError(f"{self.path}: the database was opened read-only")
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{self.path}: the database is locked by another auditor process "
                    f"(waited {self.timeout:.0f} s); try again when it has finished"
                ) from None
            raise StoreError(f"{self.path}: cannot write to the database: {_db_error(exc)}") from None
        try:
            yield
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(exc, sqlite3.OperationalError | sqlite3.IntegrityError) and _is_storage_error(exc):
                raise StoreError(
                    f"{self.path}: cannot write to the database: {_db_error(exc)}; nothing of this change was written"
                ) from None
            raise

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
                    redact_text(organisation),
                    _dumps([redact_text(t) for t in run.targets]),
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
                [redact_text(error)[:2000], iso_z(finished_at), run_id],
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
        coverage: Iterable[Coverage] = (),
        catalog: str | None = None,
    ) -> Run:
        """Write a finished run's findings, control results, coverage and status atomically.

        `catalog` is the catalog in force (JSON text, see `catalog.catalog_document`): it is
        stored once per content hash and the run points at it.
        """
        findings = list(findings)
        control_results = list(control_results)
        checks = list(checks)
        cov = list(coverage)
        # This write inserts content rows before the rows that refer to them, so the
        # per-row foreign-key lookups only cost time (about a third of the ingest);
        # `auditor db check` verifies the references with PRAGMA foreign_key_check.
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            return self._save_run(
                run_id, findings, control_results, status, finished_at, summary, checks, cov, catalog
            )
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
        coverage: list[Coverage],
        catalog: str | None,
    ) -> Run:
        with self.write_transaction():
            row = self.db.execute("SELECT seq, started_at, status FROM runs WHERE id=?", [run_id]).fetchone()
            if row is None:
                raise StoreError(f"run {run_id} was not started in this database")
            if row[2] != RunStatus.RUNNING.value:
                raise StoreError(f"run {run_id} is already {row[2]}")
            prev = self.db.execute("SELECT MAX(obs_seq) FROM runs").fetchone()[0] or 0
            seq = prev + 1
            self._write_observations(run_id, seq, prev, findings, iso_z(finished_at), coverage)
            self._write_control_results(run_id, control_results)
            if checks:
                self._write_checks(checks)
            catalog_hash = None
            if catalog is not None:
                catalog_hash = _sha(catalog)
                self.db.execute("INSERT OR IGNORE INTO catalogs (hash, body) VALUES (?, ?)", [catalog_hash, catalog])
            self.db.execute(
                "UPDATE runs SET status=?, finished_at=?, summary=?, obs_seq=?, coverage=?, catalog_hash=? WHERE id=?",
                [
                    status.value,
                    iso_z(finished_at),
                    _dumps(summary),
                    seq,
                    _dumps([c.to_dict() for c in coverage]),
                    catalog_hash,
                    run_id,
                ],
            )
        return self.get_run(run_id)

    def seen_times(self, fingerprints: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """fingerprint -> (first seen, last seen), from the lifecycle table (all when None).

        A finding still seen in the newest stored run has no last_seen of its own: it is
        that run's time.
        """
        newest = self._newest_stored_run()
        now = newest[2] if newest is not None else None
        if fingerprints is None:
            rows = self.db.execute("SELECT fingerprint, first_seen_at, last_seen_at FROM findings")
            return {fp: (first, last or now or first) for fp, first, last in rows}
        wanted = list(fingerprints)
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(wanted), 900):
            chunk = wanted[i : i + 900]
            marks = ",".join("?" for _ in chunk)
            for fp, first, last in self.db.execute(
                f"SELECT fingerprint, first_seen_at, last_seen_at FROM findings WHERE fingerprint IN ({marks})", chunk
            ):
                out[fp] = (first, last or now or first)
        return out

    def catalog_for_run(self, run_id: str) -> str | None:
        """The catalog in force when the run was scanned (JSON text), None for older runs."""
        row = self.db.execute(
            "SELECT c.body FROM runs r JOIN catalogs c ON c.hash = r.catalog_hash WHERE r.id = ?", [run_id]
        ).fetchone()
        return str(row[0]) if row else None

    def _write_observations(
        self, run_id: str, seq: int, prev: int, findings: list[Finding], when: str, coverage: Sequence[Coverage] = ()
    ) -> None:
        conn = self.db.conn
        # One finding per fingerprint: a duplicate keeps the worse status.
        by_fp: dict[str, Finding] = {}
        for f in findings:
            old = by_fp.get(f.fingerprint)
            if old is None or _status_weight(f.status) > _status_weight(old.status):
                by_fp[f.fingerprint] = f
        # Intervals still open: the findings seen in the newest stored run (`prev`).
        open_rows: dict[str, tuple[int, str, str, str, bytes | None]] = {
            fp: (oid, st, sev, dh, raw)
            for oid, fp, st, sev, dh, raw in conn.execute(
                "SELECT id, fingerprint, status, severity, details_hash, raw FROM observations WHERE last_seq = ?",
                [OPEN_SEQ],
            )
        }
        texts: dict[tuple[str, str, tuple[str, ...]], tuple[str, str]] = {}
        details_rows: dict[str, tuple[Any, ...]] = {}
        close: list[tuple[int, int]] = []  # (last_seq, observation id)
        new_obs: list[tuple[str, int, int, str, str, str, bytes]] = []
        set_raw: list[tuple[bytes, int]] = []
        lifecycle: list[tuple[Any, ...]] = []
        sha256 = hashlib.sha256
        for fp, f in by_fp.items():
            res = f.resource
            status, severity, evidence = f.status, f.severity, f.evidence
            # Fast path: the finding exactly as the previous run reported it (same Python
            # values) is unchanged, without serialising its evidence. `raw` is only ever
            # compared for equality; the stored content keeps its own hash.
            line, end_line, target = res.line, res.end_line, f.target or None
            values = (f.title, f.remediation, f.message, f.controls, f.waiver, line, end_line, target, evidence)
            raw = sha256(repr(values).encode()).digest()[:16]
            hit = open_rows.get(fp)
            if hit is not None and hit[4] == raw and hit[1] == status and hit[2] == severity:
                continue  # still seen, nothing changed: its open interval covers this run
            key = (f.title, f.remediation, f.controls)
            text = texts.get(key)
            if text is None:
                controls = _dumps(list(f.controls))
                text = texts[key] = (text_hash(f.title, f.remediation, controls), controls)
            th = text[0]
            waiver = _dumps(f.waiver) if f.waiver is not None else None
            ev = _dumps(evidence)
            dh = details_hash(th, f.message, waiver, line, end_line, target, ev)
            if hit is not None and hit[1] == status and hit[2] == severity and hit[3] == dh:
                set_raw.append((raw, hit[0]))  # same content, other Python values (older row, set order)
                continue
            details_rows[dh] = (dh, th, f.message, waiver, line, end_line, target, ev)
            if hit is not None:
                close.append((prev, hit[0]))
            new_obs.append((fp, seq, OPEN_SEQ, status, severity, dh, raw))  # StrEnum members are str
            lifecycle.append(
                (fp, f.check_id, f.provider, res.id, res.type, res.account, res.region, res.path, run_id, when,
                 status, severity, target)
            )
        vanished = [fp for fp in open_rows if fp not in by_fp]
        close.extend((prev, open_rows[fp][0]) for fp in vanished)
        conn.executemany(
            "INSERT OR IGNORE INTO texts (hash, title, remediation, controls) VALUES (?, ?, ?, ?)",
            [(th, title, remediation, controls) for (title, remediation, _), (th, controls) in texts.items()],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO details (hash, text_hash, message, waiver, line, end_line, target, evidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            sorted(details_rows.values()),  # in key order: B-tree appends instead of page splits
        )
        # Lifecycle. Findings no longer seen get the run they were last seen in; a finding
        # still seen keeps last_seen NULL (= the newest stored run), so an unchanged finding's
        # row is never rewritten.
        if vanished:
            last = conn.execute("SELECT id, finished_at FROM runs WHERE obs_seq = ?", [prev]).fetchone()
            conn.executemany(
                "UPDATE findings SET last_seen_run = ?, last_seen_at = ? WHERE fingerprint = ?",
                [(last[0], last[1], fp) for fp in vanished],
            )
        # New fingerprints are inserted; changed ones move status, reopen or resolve.
        conn.executemany(
            """INSERT INTO findings (fingerprint, check_id, provider, resource_id, resource_type, account, region,
                                     path, first_seen_run, first_seen_at, last_seen_run, last_seen_at, status,
                                     severity, resolved_run, resolved_at, target)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL, NULL, ?)
               ON CONFLICT(fingerprint) DO UPDATE SET
                 last_seen_run = NULL,
                 last_seen_at = NULL,
                 severity = excluded.severity,
                 target = excluded.target,
                 resolved_run = CASE
                   WHEN excluded.status IN ('FAIL', 'WAIVED') THEN NULL
                   WHEN findings.status IN ('FAIL', 'WAIVED') AND findings.resolved_run IS NULL
                        AND excluded.status = 'PASS' THEN excluded.first_seen_run
                   ELSE findings.resolved_run END,
                 resolved_at = CASE
                   WHEN excluded.status IN ('FAIL', 'WAIVED') THEN NULL
                   WHEN findings.status IN ('FAIL', 'WAIVED') AND findings.resolved_run IS NULL
                        AND excluded.status = 'PASS' THEN excluded.first_seen_at
                   ELSE findings.resolved_at END,
                 status = excluded.status""",
            sorted(lifecycle),  # in key order (fingerprint)
        )
        # Failing findings that this run no longer reports (last_seen set) are resolved, but
        # only where this run looked again: it covered the finding's target and the check did
        # not end in ERROR there. Anything else stays open ("not re-checked").
        by_target = {c.target: c for c in coverage}
        providers_json, targets = self.db.execute("SELECT providers, targets FROM runs WHERE id=?", [run_id]).fetchone()
        providers = json.loads(providers_json or "[]")
        if providers:
            # Findings stored without a target (older runs, providers that name none): the
            # same provider scanning exactly the same targets again.
            conn.execute(
                """UPDATE findings SET resolved_run = ?, resolved_at = ?
                    WHERE status IN ('FAIL', 'WAIVED') AND resolved_run IS NULL
                      AND target IS NULL AND provider IN (SELECT value FROM json_each(?))
                      AND last_seen_run IN (SELECT id FROM runs WHERE targets = ?)""",
                [run_id, when, providers_json, targets],
            )
        if by_target:
            candidates = conn.execute(
                """SELECT fingerprint, check_id, target FROM findings
                    WHERE status IN ('FAIL', 'WAIVED') AND resolved_run IS NULL AND last_seen_run IS NOT NULL
                      AND target IS NOT NULL"""
            ).fetchall()
            resolved = [
                (run_id, when, fp)
                for fp, check_id, target in candidates
                if (cov := by_target.get(target)) is not None and cov.covers(check_id)
            ]
            conn.executemany(
                "UPDATE findings SET resolved_run = ?, resolved_at = ? WHERE fingerprint = ?", resolved
            )
        # Observation intervals: close the changed and the vanished, open new ones.
        conn.executemany("UPDATE observations SET last_seq = ? WHERE id = ?", close)
        conn.executemany("UPDATE observations SET raw = ? WHERE id = ?", set_raw)
        conn.executemany(
            "INSERT INTO observations (fingerprint, first_seq, last_seq, status, severity, details_hash, raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            new_obs,
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
            coverage=tuple(Coverage.from_dict(c) for c in json.loads(row.get("coverage") or "[]")),
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

    def manual_evidence_expiries(self) -> list[tuple[str, str | None, datetime | None]]:
        """(control ref, evidence item id, expiry) for every manual evidence file on file."""
        return [
            (f"{fw}:{cid}", item, parse_instant(exp) if exp else None)
            for fw, cid, item, exp in self.db.execute(
                "SELECT framework, control_id, item, expires_at FROM manual_evidence"
            )
        ]

    # History queries ------------------------------------------------------------------

    def diff(self, a: Run, b: Run) -> RunDiff:
        """New, resolved, changed and not re-checked findings between two stored runs.

        A finding that failed in A is *resolved* in B only when B covered its target and its
        check ran there (no ERROR); when B did not look again it is *not re-checked*.
        """
        sql = """
            WITH ra AS (SELECT fingerprint, status, severity, details_hash FROM observations
                        WHERE first_seq <= :sa AND last_seq >= :sa),
                 rb AS (SELECT fingerprint, status, severity FROM observations
                        WHERE first_seq <= :sb AND last_seq >= :sb),
                 pairs AS (
                    SELECT rb.fingerprint AS fp, ra.status AS sa, rb.status AS sb, rb.severity AS sev,
                           ra.details_hash AS dha
                      FROM rb LEFT JOIN ra ON ra.fingerprint = rb.fingerprint
                    UNION ALL
                    SELECT ra.fingerprint, ra.status, NULL, ra.severity, ra.details_hash
                      FROM ra WHERE ra.fingerprint NOT IN (SELECT fingerprint FROM rb))
            SELECT p.fp, f.check_id, f.resource_id, p.sev, p.sa, p.sb, COALESCE(d.target, f.target), f.provider
              FROM pairs p JOIN findings f ON f.fingerprint = p.fp
              LEFT JOIN details d ON d.hash = p.dha
             WHERE p.sa IS NOT p.sb
             ORDER BY f.check_id, f.resource_id
        """
        sa = self._obs_seq(a)
        sb = self._obs_seq(b)
        new, resolved, changed, unchecked = [], [], [], []
        legacy = not b.coverage
        rows = self.db.execute(sql, {"sa": sa, "sb": sb}).fetchall()
        for fp, check_id, resource_id, sev, before, after, target, _provider in rows:
            change = FindingChange(fp, check_id, resource_id, sev, before, after, target)
            if after == "FAIL":
                new.append(change)
            elif before in ("FAIL", "WAIVED") and after in (None, "ERROR"):
                # Gone, or could not be evaluated: resolved only where B looked again.
                if after is None and self._rechecked(b, target, check_id, a, legacy):
                    if before == "FAIL":
                        resolved.append(change)
                else:
                    unchecked.append(change)
            elif before == "FAIL" and after == "PASS":
                resolved.append(change)
            elif before is not None and after is not None:
                changed.append(change)
            # A non-failing finding that appears or disappears is not a change worth showing.
        return RunDiff(a, b, new, resolved, changed, unchecked)

    @staticmethod
    def _rechecked(b: Run, target: str | None, check_id: str, a: Run, legacy: bool) -> bool:
        if legacy or target is None:
            # Runs written before coverage was recorded: the same targets scanned again.
            return bool(b.targets) and b.targets == a.targets
        cov = b.coverage_for(target)
        return cov is not None and cov.covers(check_id)

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
        life = dict(rows[0])
        newest = self._newest_stored_run()
        if life["last_seen_run"] is None and newest is not None:  # still seen in the newest stored run
            life["last_seen_run"], life["last_seen_at"] = newest[1], newest[2]
        top = newest[0] if newest is not None else 0
        sql = """
            SELECT o.first_seq, MIN(o.last_seq, :top) AS last_seq, o.status, o.severity, d.message,
                   (SELECT id FROM runs WHERE obs_seq = o.first_seq) AS first_run,
                   (SELECT started_at FROM runs WHERE obs_seq = o.first_seq) AS first_at,
                   (SELECT id FROM runs WHERE obs_seq = MIN(o.last_seq, :top)) AS last_run,
                   (SELECT started_at FROM runs WHERE obs_seq = MIN(o.last_seq, :top)) AS last_at,
                   (SELECT COUNT(*) FROM runs WHERE obs_seq BETWEEN o.first_seq AND o.last_seq) AS runs
              FROM observations o JOIN details d ON d.hash = o.details_hash
             WHERE o.fingerprint = :fp ORDER BY o.first_seq
        """
        return life, list(self.db.query(sql, {"fp": life["fingerprint"], "top": top}))

    def _newest_stored_run(self) -> tuple[int, str, str] | None:
        """(obs_seq, id, finished_at) of the newest run that holds findings."""
        row = self.db.execute(
            "SELECT obs_seq, id, finished_at FROM runs WHERE obs_seq IS NOT NULL ORDER BY obs_seq DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

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
                   f.account, f.region, f.path, t.title, d.message, t.remediation, t.controls, d.waiver, d.line,
                   d.end_line, d.evidence, COALESCE(d.target, f.target)
            FROM observations o
            JOIN findings f ON f.fingerprint = o.fingerprint
            JOIN details d ON d.hash = o.details_hash
            JOIN texts t ON t.hash = d.text_hash
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
                    target=r[18] or "",
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
            SELECT f.check_id, f.resource_id, t.controls, d.waiver,
                   MAX(o.first_seq, :a) AS from_seq, MIN(o.last_seq, :b) AS to_seq
              FROM observations o
              JOIN findings f ON f.fingerprint = o.fingerprint
              JOIN details d ON d.hash = o.details_hash
              JOIN texts t ON t.hash = d.text_hash
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
        item: str | None = None,
        approver: str | None = None,
    ) -> dict[str, Any]:
        """Store one manual evidence file with its SHA-256; returns its row (without content).

        `item` is the id of the expected evidence item (catalog) the file covers.
        """
        digest = hashlib.sha256(content).hexdigest()
        with self.write_transaction():
            cur = self.db.conn.execute(
                """INSERT INTO manual_evidence (framework, control_id, filename, sha256, size, content, owner, note,
                                                added_at, expires_at, item, approver)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    framework,
                    control_id,
                    filename,
                    digest,
                    len(content),
                    content,
                    redact_text(owner),  # free text: a secret typed into a note never reaches the database
                    redact_text(note),
                    iso_z(added_at),
                    iso_z(expires_at) if expires_at else None,
                    item,
                    redact_text(approver) if approver else approver,
                ],
            )
            new_id = cur.lastrowid
        return self.list_manual_evidence(evidence_id=new_id)[0]

    def list_manual_evidence(
        self, framework: str | None = None, evidence_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Manual evidence rows (no file content), by framework and control."""
        sql = """SELECT id, framework, control_id, filename, sha256, size, owner, note, added_at, expires_at,
                        item, approver
                   FROM manual_evidence
                  WHERE (:fw IS NULL OR framework = :fw) AND (:id IS NULL OR id = :id)
                  ORDER BY framework, control_id, id"""
        return list(self.db.query(sql, {"fw": framework, "id": evidence_id}))

    def manual_evidence_content(self, evidence_id: int) -> bytes:
        row = self.db.execute("SELECT content FROM manual_evidence WHERE id = ?", [evidence_id]).fetchone()
        if row is None:
            raise StoreError(f"no manual evidence #{evidence_id}")
        return bytes(row[0])

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
                [check_pattern, resource_pattern, redact_text(reason), redact_text(approver), iso_z(created_at),
                 iso_z(expires_at)],
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


def _db_error(exc: BaseException) -> str:
    text = str(exc)
    if "disk is full" in text or "database or disk is full" in text:
        return "the disk is full (or the database reached its size limit)"
    if "readonly" in text or "read-only" in text:
        return "the database file or its folder is read-only"
    return text


def _is_storage_error(exc: BaseException) -> bool:
    text = str(exc)
    return any(k in text for k in ("disk is full", "readonly", "read-only", "disk I/O error", "unable to open"))


def _status_weight(status: Status) -> int:
    return {Status.FAIL: 4, Status.ERROR: 3, Status.WAIVED: 2, Status.PASS: 1, Status.SKIPPED: 0}[status]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
