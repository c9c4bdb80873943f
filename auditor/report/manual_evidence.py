"""Manual evidence: files (policies, registers, training records, sign-offs) stored in the database.

A control lists the evidence items it expects (`controls/*.yaml`, `{id: ..., title: ...}`).
Each stored file says which item it covers (`--item`), who owns it, who approved it and
when it expires. A control without automated checks passes only while *every* expected
item is covered by a file that has not expired: one short note does not evidence a
control that asks for a code of conduct, signed agreements, a violations log and
background checks.

Files are read through `auditor.safeio` (regular files only, size-capped); the note is
stored redacted.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.catalog import Control
from auditor.clock import parse_instant
from auditor.errors import InputError, UsageError
from auditor.frameworks import frameworks_for, installed_ids
from auditor.redact import one_line
from auditor.safeio import read_bounded, show_path
from auditor.store import Store

MAX_EVIDENCE_BYTES = 25 * 1024 * 1024


def parse_control_ref(ref: str) -> tuple[str, str]:
    """`soc2:CC1.1` -> ("soc2", "CC1.1"); InputError for an unknown framework or control."""
    framework, sep, control_id = ref.partition(":")
    if not sep or not framework or not control_id:
        raise UsageError(f"control must look like soc2:CC1.1 or gdpr:Art.35, not {ref!r}")
    installed = installed_ids()
    if framework not in installed:
        raise InputError(f"unknown framework {framework!r} in {ref!r} (installed: {', '.join(installed)})")
    fw = frameworks_for([framework])[0]
    if fw.control(control_id) is None:
        raise InputError(f"unknown control {control_id!r} in framework {framework} (see `auditor controls`)")
    return framework, control_id


def control_for(ref: str) -> Control:
    framework, control_id = parse_control_ref(ref)
    control = frameworks_for([framework])[0].control(control_id)
    assert control is not None  # parse_control_ref checked it
    return control


def resolve_item(control: Control, item: str | None) -> str | None:
    """The evidence item id a file covers: required (and checked) when the control lists items."""
    valid = [i.id for i in control.manual_evidence]
    if not valid:
        if item:
            raise UsageError(f"{control.ref} lists no evidence items; drop --item")
        return None
    if not item:
        raise UsageError(
            f"{control.ref} expects {len(valid)} evidence items: say which one this file covers with "
            f"--item ({', '.join(valid)})"
        )
    if item not in valid:
        raise UsageError(
            f"--item {one_line(item)!r} is not an evidence item of {control.ref} (valid: {', '.join(valid)})"
        )
    return item


def read_evidence_file(path: Path) -> bytes:
    content = read_bounded(path, MAX_EVIDENCE_BYTES, "evidence file")
    if not content:
        raise InputError(f"{show_path(path)}: the evidence file is empty")
    return content


def add_manual_evidence(
    store: Store,
    ref: str,
    path: Path,
    *,
    owner: str,
    note: str,
    expires: str | None,
    now: datetime,
    item: str | None = None,
    approver: str | None = None,
) -> dict[str, Any]:
    control = control_for(ref)
    item_id = resolve_item(control, item)
    owner = one_line(owner.strip())
    if not owner:
        raise UsageError("--owner must name the person or team responsible for this evidence")
    approver = one_line(approver.strip()) if approver and approver.strip() else None
    if not expires:
        raise UsageError("--expires is required: manual evidence counts only until the date it must be renewed")
    expires_at = parse_instant(expires)
    if expires_at <= now:
        raise InputError(f"--expires {one_line(expires)}: that date has already passed")
    content = read_evidence_file(path)
    return store.add_manual_evidence(
        control.framework,
        control.id,
        path.name,
        content,
        owner,
        one_line(note.strip()),
        now,
        expires_at,
        item=item_id,
        approver=approver,
    )


def evidence_rows(store: Store, framework: str | None, now: datetime) -> list[dict[str, Any]]:
    rows = store.list_manual_evidence(framework)
    for r in rows:
        r["valid"] = r["expires_at"] is None or parse_instant(r["expires_at"]) > now
        r["control"] = f"{r['framework']}:{r['control_id']}"
    return rows
