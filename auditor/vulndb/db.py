"""The local vulnerability database: OSV advisories in one SQLite file.

Schema (PRAGMA user_version = 2):
- `advisories`: one row per OSV id with what findings need (aliases, summary, severity
  with its source, dates, a reference URL);
- `affected`: one row per (advisory, ecosystem, package) with the OSV ranges and
  versions as one JSON array `[ranges, versions]`; names are stored normalised for their ecosystem (PEP 503 for PyPI)
  and indexed by (ecosystem, name);
- `imports`: every import with its source, time and counts (the database's age).

An import is one transaction: a rejected input leaves the database as it was.
Matching compiles each package's ranges once per VulnDB object and caches them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.models import Severity
from auditor.vulndb.osv import AdvisoryRecord, CompiledAffected, compile_affected, preferred_advisory_id
from auditor.vulndb.versions import VersionScheme, name_normaliser, scheme_for

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY,
    aliases TEXT NOT NULL,
    summary TEXT NOT NULL,
    modified TEXT,
    published TEXT,
    severity TEXT NOT NULL,
    severity_score REAL,
    severity_source TEXT NOT NULL,
    severity_vector TEXT,
    severity_label TEXT,
    url TEXT,
    import_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    advisories INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    skipped INTEGER NOT NULL
);
"""


def default_db_path() -> Path:
    """`$AUDITOR_VULNDB`, else `$XDG_CACHE_HOME/auditor/vulndb.sqlite`, else `~/.cache/auditor/...`."""
    env = os.environ.get("AUDITOR_VULNDB")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "auditor" / "vulndb.sqlite"


class UnorderableVersion(ValueError):
    """The package's version is not valid in its ecosystem, so ranges cannot be evaluated."""


class UnsupportedEcosystem(ValueError):
    """No version ordering is registered for this ecosystem."""


@dataclass(frozen=True)
class Advisory:
    """One advisory that affects one package version."""

    id: str
    ecosystem: str
    package: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity
    severity_score: float | None
    severity_source: str
    severity_vector: str | None
    severity_label: str | None
    fixed_versions: tuple[str, ...]
    url: str | None
    modified: str | None
    published: str | None


@dataclass
class ImportStats:
    source: str
    advisories: int = 0
    withdrawn: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.skipped += 1
        if len(self.warnings) < 20:
            self.warnings.append(message)


@dataclass(frozen=True)
class EcosystemStatus:
    ecosystem: str
    advisories: int
    packages: int
    newest_modified: str | None


@dataclass(frozen=True)
class DBStatus:
    path: Path
    ecosystems: tuple[EcosystemStatus, ...]
    advisories: int
    last_import_at: datetime | None
    imports: int

    def age_days(self, now: datetime) -> float | None:
        if self.last_import_at is None:
            return None
        return (now - self.last_import_at).total_seconds() / 86400


class _Candidate:
    """One (advisory, affected entry) row for a package; the Advisory is built on first hit."""

    __slots__ = ("_advisory", "affected", "ecosystem", "name", "row")

    def __init__(self, ecosystem: str, name: str, row: tuple[Any, ...], affected: CompiledAffected) -> None:
        self.ecosystem = ecosystem
        self.name = name
        self.row = row
        self.affected = affected
        self._advisory: Advisory | None = None

    def advisory(self) -> Advisory:
        if self._advisory is None:
            r = self.row
            self._advisory = Advisory(
                id=r[0], ecosystem=self.ecosystem, package=self.name, aliases=tuple(json.loads(r[1])), summary=r[2],
                modified=r[3], published=r[4], severity=Severity(r[5]), severity_score=r[6], severity_source=r[7],
                severity_vector=r[8], severity_label=r[9], url=r[10], fixed_versions=self.affected.fixed,
            )
        return self._advisory


class VulnDB:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._cache: dict[tuple[str, str], list[_Candidate]] = {}

    # Opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None, *, create: bool = False) -> VulnDB:
        path = path or default_db_path()
        if not create and not path.is_file():
            raise InputError(f"no vulnerability database at {path}: run `auditor vulndb import PATH` first")
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
        try:
            conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path} is not a vulnerability database: {exc}") from None
        ours = {"advisories", "affected", "imports"}
        if create and 0 < version < SCHEMA_VERSION and tables == ours:
            # An older auditor's cache of public data: rebuilt by this import.
            conn.executescript("DROP TABLE affected; DROP TABLE advisories; DROP TABLE imports;")
            tables, version = set(), 0
        if version == 0 and not tables and create:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION or not ours <= tables:
            conn.close()
            raise InputError(
                f"{path} is not an auditor vulnerability database of schema {SCHEMA_VERSION} "
                f"(found {version}): run `auditor vulndb import PATH` to rebuild it"
            )
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Import ------------------------------------------------------------------------

    def import_records(self, records: Iterable[AdvisoryRecord], stats: ImportStats, now: datetime) -> ImportStats:
        """Upsert records (a withdrawn record removes its advisory) in one transaction."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                "INSERT INTO imports (source, imported_at, advisories, withdrawn, skipped) VALUES (?, ?, 0, 0, 0)",
                (stats.source, now.astimezone(UTC).isoformat()),
            )
            import_id = cur.lastrowid
            batch_adv: list[tuple[Any, ...]] = []
            batch_aff: list[tuple[Any, ...]] = []
            batch_del: list[tuple[str]] = []
            for rec in records:
                batch_del.append((rec.id,))
                if rec.withdrawn:
                    stats.withdrawn += 1
                else:
                    stats.advisories += 1
                    sev = rec.severity
                    batch_adv.append(
                        (rec.id, json.dumps(list(rec.aliases)), rec.summary, rec.modified, rec.published,
                         sev.severity.value, sev.score, sev.source, sev.vector, sev.label, rec.url, import_id)
                    )
                    for aff in rec.affected:
                        norm = name_normaliser(aff.ecosystem)
                        spec = json.dumps([list(aff.ranges), list(aff.versions)], separators=(",", ":"))
                        batch_aff.append((rec.id, aff.ecosystem, norm(aff.name), spec))
                if len(batch_del) >= 2000:
                    self._flush(batch_del, batch_adv, batch_aff)
            self._flush(batch_del, batch_adv, batch_aff)
            conn.execute(
                "UPDATE imports SET advisories = ?, withdrawn = ?, skipped = ? WHERE id = ?",
                (stats.advisories, stats.withdrawn, stats.skipped, import_id),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._cache.clear()
        return stats

    def _flush(self, dels: list[tuple[str]], advs: list[tuple[Any, ...]], affs: list[tuple[Any, ...]]) -> None:
        c = self.conn
        c.executemany("DELETE FROM affected WHERE advisory_id = ?", dels)
        c.executemany("DELETE FROM advisories WHERE id = ?", dels)
        c.executemany("INSERT INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", advs)
        c.executemany("INSERT INTO affected VALUES (?, ?, ?, ?)", affs)
        dels.clear()
        advs.clear()
        affs.clear()

    # Status ------------------------------------------------------------------------

    def status(self) -> DBStatus:
        rows = self.conn.execute(
            "SELECT f.ecosystem, COUNT(DISTINCT f.advisory_id), COUNT(DISTINCT f.name), MAX(a.modified) "
            "FROM affected f JOIN advisories a ON a.id = f.advisory_id GROUP BY f.ecosystem ORDER BY f.ecosystem"
        ).fetchall()
        total = self.conn.execute("SELECT COUNT(*) FROM advisories").fetchone()[0]
        last, count = self.conn.execute("SELECT MAX(imported_at), COUNT(*) FROM imports").fetchone()
        return DBStatus(
            path=self.path,
            ecosystems=tuple(EcosystemStatus(r[0], r[1], r[2], r[3]) for r in rows),
            advisories=total,
            last_import_at=datetime.fromisoformat(last) if last else None,
            imports=count,
        )

    def ecosystem_family(self, ecosystem: str) -> tuple[str, ...]:
        """The stored ecosystems an image's ecosystem name stands for: itself and every stored
        `<ecosystem>:<suffix>`. OSV splits some distributions into streams an installed package
        does not record: `Red Hat:enterprise_linux:9` -> `...:9::appstream`, `...:9::baseos`;
        `Ubuntu:22.04` -> `Ubuntu:22.04:LTS`. A release never matches another one's prefix
        (`Red Hat:enterprise_linux:9` does not take `...:9.2::baseos`, an EUS stream)."""
        rows = self.conn.execute(
            "SELECT DISTINCT ecosystem FROM affected WHERE ecosystem = ? OR (ecosystem > ? AND ecosystem < ?)",
            (ecosystem, f"{ecosystem}:", f"{ecosystem};"),  # ';' sorts right after ':'
        ).fetchall()
        return tuple(sorted({str(r[0]) for r in rows} | {ecosystem}))

    def advisory_count(self, ecosystem: str) -> int:
        n: int = self.conn.execute(
            "SELECT COUNT(DISTINCT advisory_id) FROM affected WHERE ecosystem = ?", (ecosystem,)
        ).fetchone()[0]
        return n

    # Matching ----------------------------------------------------------------------

    def match(self, ecosystem: str, name: str, version: str) -> list[Advisory]:
        """Advisories affecting `name` at `version` in `ecosystem`, aliases merged, sorted by id.

        Raises UnsupportedEcosystem when no ordering is registered for the ecosystem and
        UnorderableVersion when `version` is not valid there (the caller reports ERROR).
        """
        scheme = scheme_for(ecosystem)
        if scheme is None:
            raise UnsupportedEcosystem(f"no version ordering for ecosystem {ecosystem!r}")
        candidates = self._candidates(ecosystem, scheme.normalise_name(name), scheme)
        if not candidates:
            return []
        key = scheme.parse(version)
        if key is None:
            raise UnorderableVersion(f"{name} {version!r} is not a valid {ecosystem} version")
        hits = [c.advisory() for c in candidates if c.affected.affects(version, key)]
        if len(hits) <= 1:
            return hits
        return merge_aliased(hits)

    def match_many(self, ecosystem: str, packages: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Advisory]]:
        """`match` for many (name, version) pairs; loads each batch of names with one query."""
        pairs = list(packages)
        self.prefetch(ecosystem, (n for n, _ in pairs))
        return {(n, v): self.match(ecosystem, n, v) for n, v in pairs}

    def prefetch(self, ecosystem: str, names: Iterable[str]) -> None:
        """Load and compile the advisories of many packages at once (batched SQL)."""
        scheme = scheme_for(ecosystem)
        if scheme is None:
            raise UnsupportedEcosystem(f"no version ordering for ecosystem {ecosystem!r}")
        self._load(ecosystem, {scheme.normalise_name(n) for n in names}, scheme)

    def _candidates(self, ecosystem: str, norm_name: str, scheme: VersionScheme) -> list[_Candidate]:
        cached = self._cache.get((ecosystem, norm_name))
        if cached is None:
            self._load(ecosystem, {norm_name}, scheme)
            cached = self._cache[(ecosystem, norm_name)]
        return cached

    def _load(self, ecosystem: str, names: set[str], scheme: VersionScheme) -> None:
        todo = sorted(n for n in names if (ecosystem, n) not in self._cache)
        if len(self._cache) + len(todo) > 500_000:
            self._cache.clear()
        for start in range(0, len(todo), 500):
            chunk = todo[start : start + 500]
            found: dict[str, list[_Candidate]] = {n: [] for n in chunk}
            rows = self.conn.execute(
                "SELECT f.name, f.spec, a.id, a.aliases, a.summary, a.modified, a.published, a.severity, "
                "a.severity_score, a.severity_source, a.severity_vector, a.severity_label, a.url "
                "FROM affected f JOIN advisories a ON a.id = f.advisory_id "
                f"WHERE f.ecosystem = ? AND f.name IN ({','.join('?' * len(chunk))})",
                (ecosystem, *chunk),
            ).fetchall()
            for r in rows:
                ranges, versions = json.loads(r[1])
                found[r[0]].append(_Candidate(ecosystem, r[0], r[2:], compile_affected(scheme, ranges, versions)))
            for n, cands in found.items():
                self._cache[(ecosystem, n)] = cands


_SOURCE_RANK = {"cvss_v3": 0, "database_specific": 1, "default": 2}


def merge_aliased(advisories: list[Advisory]) -> list[Advisory]:
    """One advisory per vulnerability: records that alias each other are merged.

    The representative id follows `preferred_advisory_id`; aliases and fixed versions are
    the union; the severity is the best-founded one (CVSS vector > database label >
    default). Sorted by id.
    """
    groups: list[list[Advisory]] = []
    names: list[set[str]] = []
    for adv in sorted(advisories, key=lambda a: a.id):
        ids = {adv.id, *adv.aliases}
        hits = [i for i, g in enumerate(names) if g & ids]
        merged = [adv]
        for i in reversed(hits):
            merged.extend(groups.pop(i))
            ids |= names.pop(i)
        groups.append(merged)
        names.append(ids)
    out = []
    for group, ids in zip(groups, names, strict=True):
        if len(group) == 1:
            out.append(group[0])
            continue
        rep_id = preferred_advisory_id(a.id for a in group)
        rep = next(a for a in group if a.id == rep_id)
        sev = min(group, key=lambda a: (_SOURCE_RANK.get(a.severity_source, 3), a.id != rep_id))
        fixed = tuple(dict.fromkeys(v for a in sorted(group, key=lambda a: a.id != rep_id) for v in a.fixed_versions))
        out.append(
            replace(
                rep,
                aliases=tuple(sorted(ids - {rep_id})),
                fixed_versions=fixed,
                severity=sev.severity,
                severity_score=sev.severity_score,
                severity_source=sev.severity_source,
                severity_vector=sev.severity_vector,
                severity_label=sev.severity_label,
                summary=rep.summary or sev.summary,
            )
        )
    return sorted(out, key=lambda a: a.id)
