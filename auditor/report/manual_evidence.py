"""Manual evidence: files (policies, training records, attestations) stored in the database.

Stored once with their SHA-256, owner, note and optional expiry. A control without
automated checks passes only while at least one of its evidence items has not expired.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.catalog import load_catalog
from auditor.clock import parse_instant
from auditor.errors import InputError, UsageError
from auditor.store import Store

MAX_EVIDENCE_BYTES = 25 * 1024 * 1024


def parse_control_ref(ref: str) -> tuple[str, str]:
    """`soc2:CC1.1` -> ("soc2", "CC1.1"); InputError for an unknown framework or control."""
    framework, sep, control_id = ref.partition(":")
    if not sep or not framework or not control_id:
        raise UsageError(f"control must look like soc2:CC1.1 or gdpr:Art.35, not {ref!r}")
    catalog = load_catalog()
    fw = catalog.get(framework)
    if fw is None:
        raise InputError(f"unknown framework {framework!r} in {ref!r} (known: {', '.join(sorted(catalog))})")
    if fw.control(control_id) is None:
        raise InputError(f"unknown control {control_id!r} in framework {framework} (see `auditor controls`)")
    return framework, control_id


def read_evidence_file(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path}: evidence file not found")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > MAX_EVIDENCE_BYTES:
        raise InputError(f"{path}: {size} bytes; the limit for one evidence file is {MAX_EVIDENCE_BYTES} bytes")
    if size == 0:
        raise InputError(f"{path}: the evidence file is empty")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def add_manual_evidence(
    store: Store,
    ref: str,
    path: Path,
    *,
    owner: str,
    note: str,
    expires: str | None,
    now: datetime,
) -> dict[str, Any]:
    framework, control_id = parse_control_ref(ref)
    owner = owner.strip()
    if not owner:
        raise UsageError("--owner must name the person or team responsible for this evidence")
    expires_at = parse_instant(expires) if expires else None
    if expires_at is not None and expires_at <= now:
        raise InputError(f"--expires {expires}: that date has already passed")
    content = read_evidence_file(path)
    return store.add_manual_evidence(framework, control_id, path.name, content, owner, note, now, expires_at)


def evidence_rows(store: Store, framework: str | None, now: datetime) -> list[dict[str, Any]]:
    rows = store.list_manual_evidence(framework)
    for r in rows:
        r["valid"] = r["expires_at"] is None or parse_instant(r["expires_at"]) > now
        r["control"] = f"{r['framework']}:{r['control_id']}"
    return rows
