"""Opening a database: file checks, read-only opening, migration, the write transaction.

`StoreCore` is the base every part of `Store` builds on: it owns the connection, and the
few run look-ups the writers and the readers share.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

import sqlite_utils

from auditor.clock import parse_instant
from auditor.errors import StoreError
from auditor.models import Coverage, Run, RunStatus
from auditor.store.schema import MIGRATIONS, SCHEMA_VERSION

APP_ID = "auditor"
BUSY_TIMEOUT_S = float(os.environ.get("AUDITOR_DB_TIMEOUT", "60"))


class StoreCore:
    """One auditor database connection; `auditor.store.Store` adds the queries. Use `Store.open(path)`."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.db = db
        self.path = path
        self.timeout = timeout
        self.readonly = False

    # Opening and migrating ------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path, *, create: bool = True, timeout: float | None = None, readonly: bool = False
    ) -> Self:
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
    def _open_readonly(cls, path: Path, timeout: float) -> Self:
        uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
        store: Self | None = None
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
    def memory(cls) -> Self:
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

    def get_run(self, ref: str) -> Run:
        """A run by id, unique id prefix, or `latest` (the newest stored run)."""
        if ref == "latest":
            rows = list(self.db.query("SELECT * FROM runs WHERE obs_seq IS NOT NULL ORDER BY obs_seq DESC LIMIT 1"))
            if not rows:
                raise StoreError("no completed run in the database yet")
            return self._run_from_row(rows[0])
        rows = list(self.db.query("SELECT * FROM runs WHERE id = ?", [ref]))
        if not rows:
            rows = list(self.db.query("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", [like_prefix(ref)]))
        if not rows:
            raise StoreError(f"no run {ref!r} in the database (see `auditor runs`)")
        if len(rows) > 1:
            raise StoreError(f"run id prefix {ref!r} is ambiguous")
        return self._run_from_row(rows[0])

    def _newest_stored_run(self) -> tuple[int, str, str] | None:
        """(obs_seq, id, finished_at) of the newest run that holds findings."""
        row = self.db.execute(
            "SELECT obs_seq, id, finished_at FROM runs WHERE obs_seq IS NOT NULL ORDER BY obs_seq DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None


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


def like_prefix(text: str) -> str:
    """A LIKE pattern (ESCAPE '\\') matching every text that starts with `text`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

