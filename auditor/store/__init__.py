"""SQLite history through sqlite-utils: declared migrations, atomic runs, queries.

How a run's findings are kept
-----------------------------
A daily scan of an unchanged estate must not copy every finding every day. Findings
are therefore stored as *observation intervals*: one row says "fingerprint F had
status S, severity V and details D in every stored run from sequence number A to B".
An interval of a finding still seen in the newest stored run is *open*: B is OPEN_SEQ.
Saving a run where a finding is unchanged therefore writes nothing for it (no growth,
no UPDATE; an unchanged finding is recognised by the content hash of its details); a
changed finding closes its interval and opens a new one, a vanished one closes its
interval. The details (message, line numbers, target, waiver, evidence) live on the
interval, stored once for as long as they do not change; titles, remediation and mapped
controls are per check, stored once (`texts`). The lifecycle (`findings`: first seen,
status, resolved) is written only when a finding appears, changes, vanishes or is
resolved; its last seen is NULL while it is still seen in the newest stored run.
`run_findings` (a view) gives "findings per run"
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

The package alone holds SQL on this schema: `schema` (migrations), `core` (opening,
locking, the write transaction), `writes` (runs), `history` (queries), `evidence`,
`waivers`, `notifications` and `upkeep` (prune, backup, integrity). Everything else uses
`Store`.
"""

from __future__ import annotations

import sqlite3

from auditor.errors import StoreError
from auditor.store.content import OPEN_SEQ, details_hash, text_hash
from auditor.store.core import APP_ID, BUSY_TIMEOUT_S
from auditor.store.evidence import EvidenceMixin
from auditor.store.history import FindingChange, FindingFilter, HistoryMixin, RunDiff, StoredFinding
from auditor.store.notifications import NotificationsMixin
from auditor.store.schema import MIGRATIONS, SCHEMA_VERSION
from auditor.store.upkeep import PruneCounts, UpkeepMixin
from auditor.store.waivers import WaiversMixin
from auditor.store.writes import WritesMixin

# What a caller catches when a store call fails: our clear errors and SQLite's own (a
# database that went bad underneath). Callers never import sqlite3 themselves.
STORE_ERRORS: tuple[type[Exception], ...] = (StoreError, sqlite3.Error)


class Store(WritesMixin, HistoryMixin, EvidenceMixin, WaiversMixin, NotificationsMixin, UpkeepMixin):
    """One auditor database. Use `Store.open(path)` (or `Store.memory()`)."""


__all__ = [
    "APP_ID",
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "OPEN_SEQ",
    "SCHEMA_VERSION",
    "STORE_ERRORS",
    "FindingChange",
    "FindingFilter",
    "PruneCounts",
    "RunDiff",
    "Store",
    "StoreError",
    "StoredFinding",
    "details_hash",
    "text_hash",
]
