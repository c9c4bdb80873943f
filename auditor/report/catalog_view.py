"""The catalog in force: the controls as they stood when a run was scanned.

Every run stores the catalog it was scanned with (`Store.catalog_for_run`). A report renders
its controls from that stored catalog, never from the catalog shipped with today's auditor,
so a report written a year later still shows what was tested and why. Runs stored before
catalogs were recorded fall back to today's catalog, and the report says so.

For a period report, every change of the framework's catalog between consecutive runs of the
period is disclosed: controls added, removed, and controls whose checks (pass conditions),
supporting signals or expected evidence items changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.catalog import Control, Framework, catalog_document, frameworks_from_document
from auditor.errors import InputError
from auditor.frameworks import installed_ids, load_catalog
from auditor.models import Run, iso_z
from auditor.store import Store

STORED = "stored"
CURRENT = "current"


def framework_digest(framework: Framework) -> str:
    """SHA-256 of the framework's canonical catalog document (what the run stored)."""
    return hashlib.sha256(catalog_document([framework]).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CatalogInForce:
    framework: Framework
    source: str  # stored (recorded with the run) | current (today's catalog: the run recorded none)
    digest: str
    same_as_current: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.digest,
            "version": self.framework.version,
        }


def _stored_framework(store: Store, run_id: str, framework_id: str) -> Framework | None:
    text = store.catalog_for_run(run_id)
    if not text:
        return None
    try:
        return frameworks_from_document(text).get(framework_id)
    except (ValueError, KeyError, TypeError):
        return None


def catalog_in_force(store: Store, run_id: str, framework_id: str) -> CatalogInForce:
    current = load_catalog().get(framework_id) if framework_id in installed_ids() else None
    stored = _stored_framework(store, run_id, framework_id)
    if stored is not None:
        digest = framework_digest(stored)
        same = current is not None and framework_digest(current) == digest
        return CatalogInForce(stored, STORED, digest, same)
    if current is None:
        known = ", ".join(installed_ids())
        raise InputError(f"unknown framework {framework_id!r} (installed: {known})")
    return CatalogInForce(current, CURRENT, framework_digest(current), True)


@dataclass(frozen=True)
class ControlChange:
    control_id: str
    checks_added: tuple[str, ...] = ()
    checks_removed: tuple[str, ...] = ()
    supporting_added: tuple[str, ...] = ()
    supporting_removed: tuple[str, ...] = ()
    items_added: tuple[str, ...] = ()
    items_removed: tuple[str, ...] = ()
    other: tuple[str, ...] = ()  # title, description, rationale

    @property
    def summary(self) -> str:
        bits = []
        for label, values in (
            ("checks added", self.checks_added),
            ("checks removed", self.checks_removed),
            ("supporting signals added", self.supporting_added),
            ("supporting signals removed", self.supporting_removed),
            ("evidence items added", self.items_added),
            ("evidence items removed", self.items_removed),
        ):
            if values:
                bits.append(f"{label}: {', '.join(values)}")
        if self.other:
            bits.append(f"{', '.join(self.other)} changed")
        return "; ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control_id,
            "checks_added": list(self.checks_added),
            "checks_removed": list(self.checks_removed),
            "supporting_added": list(self.supporting_added),
            "supporting_removed": list(self.supporting_removed),
            "evidence_items_added": list(self.items_added),
            "evidence_items_removed": list(self.items_removed),
            "other_changes": list(self.other),
        }


@dataclass(frozen=True)
class CatalogChange:
    """The catalog of `run_id` differs from the one of the run before it in the period."""

    run_id: str
    at: datetime
    previous_run_id: str
    before: str | None  # digest, None: not recorded
    after: str | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[ControlChange, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "at": iso_z(self.at),
            "previous_run": self.previous_run_id,
            "catalog_before_sha256": self.before,
            "catalog_after_sha256": self.after,
            "controls_added": list(self.added),
            "controls_removed": list(self.removed),
            "controls_changed": [c.to_dict() for c in self.changed],
            "note": self.note,
        }


def _diff_control(a: Control, b: Control) -> ControlChange | None:
    def delta(x: tuple[str, ...], y: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(sorted(set(y) - set(x))), tuple(sorted(set(x) - set(y)))

    checks_added, checks_removed = delta(a.checks, b.checks)
    sup_added, sup_removed = delta(a.supporting, b.supporting)
    items_added, items_removed = delta(tuple(i.id for i in a.manual_evidence), tuple(i.id for i in b.manual_evidence))
    other = tuple(
        name
        for name, x, y in (
            ("title", a.title, b.title),
            ("description", a.description, b.description),
            ("rationale", dict(a.rationale), dict(b.rationale)),
            ("evidence item titles", [i.title for i in a.manual_evidence], [i.title for i in b.manual_evidence]),
        )
        if x != y
    )
    change = ControlChange(
        a.id, checks_added, checks_removed, sup_added, sup_removed, items_added, items_removed, other
    )
    if not (checks_added or checks_removed or sup_added or sup_removed or items_added or items_removed or other):
        return None
    return change


def diff_frameworks(a: Framework, b: Framework) -> tuple[tuple[str, ...], tuple[str, ...], tuple[ControlChange, ...]]:
    """(controls added, controls removed, controls changed) from `a` to `b`."""
    ids_a = {c.id: c for c in a.controls}
    ids_b = {c.id: c for c in b.controls}
    added = tuple(c for c in ids_b if c not in ids_a)
    removed = tuple(c for c in ids_a if c not in ids_b)
    changed = tuple(ch for cid in ids_b if cid in ids_a and (ch := _diff_control(ids_a[cid], ids_b[cid])) is not None)
    return added, removed, changed


@dataclass
class CatalogHistory:
    """The catalog of each run of a period, and every change between consecutive runs."""

    digests: dict[str, str | None] = field(default_factory=dict)  # run id -> digest (None: not recorded)
    changes: list[CatalogChange] = field(default_factory=list)

    @property
    def unrecorded_runs(self) -> list[str]:
        return [rid for rid, d in self.digests.items() if d is None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": dict(self.digests),
            "changes": [c.to_dict() for c in self.changes],
        }


def catalog_history(store: Store, runs: list[Run], framework_id: str) -> CatalogHistory:
    history = CatalogHistory()
    prev: tuple[Run, Framework | None, str | None] | None = None
    for run in runs:
        fw = _stored_framework(store, run.id, framework_id)
        digest = framework_digest(fw) if fw is not None else None
        history.digests[run.id] = digest
        if prev is not None and prev[2] != digest:
            before_run, before_fw, before_digest = prev
            if before_fw is not None and fw is not None:
                added, removed, changed = diff_frameworks(before_fw, fw)
                history.changes.append(
                    CatalogChange(run.id, run.started_at, before_run.id, before_digest, digest, added, removed, changed)
                )
            else:
                history.changes.append(
                    CatalogChange(
                        run.id,
                        run.started_at,
                        before_run.id,
                        before_digest,
                        digest,
                        note=(
                            "the earlier run recorded no catalog"
                            if before_fw is None
                            else "this run recorded no catalog"
                        ),
                    )
                )
        prev = (run, fw, digest)
    return history
