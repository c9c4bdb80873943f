"""The exceptions register: every exception behind a WAIVED finding, and every unapproved suppression.

An exception is whatever turned a FAIL into WAIVED: a waiver stored with `auditor waive`
(database), a waiver file (`--waivers`, or a repository's `.auditor-waivers.yaml` when
allowed), or an inline suppression comment that carries approval (`approved-by=... expires=...`).
The register groups the WAIVED findings by the exception that covers them, so its counts
add up to the report's WAIVED total, in every output.

An inline suppression *without* approval does not waive anything: the finding stays FAIL
(it counts as failing in every roll-up). Such findings are listed separately as
"suppressed without approval", and counted in the summary, so an auditor sees who tried
to silence what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.models import Finding, Status
from auditor.redact import redact_text
from auditor.report.redaction import redact_identity as _identity

MAX_SHOWN_SUPPRESSIONS = 100


def exception_kind(waiver: dict[str, Any] | None) -> str:
    """`database`, `file`, `inline` or `unrecorded` (a WAIVED finding without a waiver record)."""
    if not waiver:
        return "unrecorded"
    source = str(waiver.get("source") or "")
    if source == "inline":
        return "inline"
    if source == "database" or str(waiver.get("id", "")).startswith("db:"):
        return "database"
    return "file" if source else "unrecorded"


def _where(f: Finding) -> str:
    r = f.resource
    if r.path:
        return f"{r.path}:{r.line}" if r.line else r.path
    return r.id


@dataclass
class ExceptionEntry:
    kind: str
    source: str
    waiver_id: str
    check: str
    reason: str
    approver: str
    created: str
    expires: str
    findings: int = 0
    controls: set[str] = field(default_factory=set)
    example: str = ""
    approved: bool = False

    @property
    def source_label(self) -> str:
        if self.kind == "database":
            return f"waiver {self.waiver_id} (auditor waive, database)" if self.waiver_id else "database waiver"
        if self.kind == "file":
            return f"waiver file {self.source}" + (f" (id {self.waiver_id})" if self.waiver_id else "")
        if self.kind == "inline":
            if self.approved:
                return "inline suppression comment with approval"
            return "inline suppression comment; no approval recorded (waived by an older auditor)"
        return "no waiver record stored with the finding"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "waiver_id": self.waiver_id,
            "check": self.check,
            "reason": self.reason,
            "approver": self.approver,
            "created": self.created,
            "expires": self.expires,
            "findings": self.findings,
            "controls": sorted(self.controls),
            "example": self.example,
            "approved": self.approved if self.kind == "inline" else None,
        }


@dataclass(frozen=True)
class Suppression:
    fingerprint: str
    check_id: str
    severity: str
    location: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "check_id": self.check_id,
            "severity": self.severity,
            "location": self.location,
            "reason": self.reason,
        }


@dataclass
class ExceptionRegister:
    entries: dict[tuple[str, ...], ExceptionEntry] = field(default_factory=dict)
    suppressions: list[Suppression] = field(default_factory=list)
    suppressed_total: int = 0
    waived_total: int = 0

    def add(self, f: Finding, control_ids: list[str]) -> None:
        """Call once for every finding of the report's framework."""
        if f.status is Status.WAIVED:
            self.waived_total += 1
            w = f.waiver or {}
            kind = exception_kind(f.waiver)
            check = str(w.get("check") or f.check_id)
            if kind == "inline":
                check = f.check_id
            key = (
                kind,
                str(w.get("source", "")),
                str(w.get("id", "")),
                check,
                str(w.get("reason", "")),
                str(w.get("approver", "")),
                str(w.get("created", "")),
                str(w.get("expires") or w.get("expires_at") or ""),
            )
            entry = self.entries.get(key)
            if entry is None:
                entry = self.entries[key] = ExceptionEntry(
                    kind=kind,
                    source=_identity(key[1]) if kind == "file" else key[1],
                    waiver_id=key[2],
                    check=check,
                    reason=redact_text(key[4]) or "(no reason recorded)",
                    approver=redact_text(key[5]) or "(no approver recorded)",
                    created=key[6],
                    expires=key[7] or "(no expiry recorded)",
                    example=_identity(_where(f)),
                    approved=bool(w.get("approved")),
                )
            entry.findings += 1
            entry.controls.update(control_ids)
        elif f.suppressed_without_approval:
            self.suppressed_total += 1
            w = f.waiver or {}
            self.suppressions.append(
                Suppression(
                    fingerprint=f.fingerprint,
                    check_id=f.check_id,
                    severity=f.severity.value,
                    location=_identity(_where(f)),
                    reason=redact_text(str(w.get("reason") or w.get("comment") or "")) or "(no reason given)",
                )
            )

    @property
    def register(self) -> list[ExceptionEntry]:
        order = {"database": 0, "file": 1, "inline": 2, "unrecorded": 3}
        return sorted(self.entries.values(), key=lambda e: (order.get(e.kind, 9), e.check, e.source, e.reason))

    @property
    def shown_suppressions(self) -> list[Suppression]:
        return sorted(self.suppressions, key=lambda s: (s.check_id, s.location))[:MAX_SHOWN_SUPPRESSIONS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "waived_findings": self.waived_total,
            "register": [e.to_dict() for e in self.register],
            "suppressed_without_approval": {
                "count": self.suppressed_total,
                "findings": [s.to_dict() for s in sorted(self.suppressions, key=lambda s: (s.check_id, s.location))],
            },
        }
