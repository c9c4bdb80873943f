"""Offline vulnerability database: OSV import, SQLite storage, per-ecosystem matching.

Reusable by every provider that audits packages:

    with VulnDB.open() as db:
        advisories = db.match("PyPI", "Jinja2", "3.1.2")

Ecosystems other than PyPI plug in their version ordering with `register_scheme`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from auditor.vulndb.db import (
    Advisory,
    DBStatus,
    EcosystemStatus,
    ImportStats,
    UnorderableVersion,
    UnsupportedEcosystem,
    VulnDB,
    default_db_path,
)
from auditor.vulndb.importer import DEFAULT_LIMITS, ImportLimits, read_osv_path
from auditor.vulndb.versions import PyPIScheme, VersionScheme, register_scheme, scheme_for

__all__ = [
    "Advisory",
    "DBStatus",
    "EcosystemStatus",
    "ImportLimits",
    "ImportStats",
    "PyPIScheme",
    "UnorderableVersion",
    "UnsupportedEcosystem",
    "VersionScheme",
    "VulnDB",
    "default_db_path",
    "import_path",
    "register_scheme",
    "scheme_for",
]


def import_path(db: VulnDB, path: Path, now: datetime, limits: ImportLimits = DEFAULT_LIMITS) -> ImportStats:
    """Load every OSV advisory under `path` into `db` in one transaction."""
    stats = ImportStats(source=str(path))
    records = read_osv_path(path, stats, limits)
    return db.import_records(records, stats, now)
