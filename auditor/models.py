"""The core model: every provider, the engine, the store and every output speak it.

All values are frozen dataclasses and string enums so that findings can be hashed,
compared, serialised and stored without surprises.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 ... info=0."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"  # could not be evaluated: never a PASS
    SKIPPED = "SKIPPED"  # not applicable
    WAIVED = "WAIVED"  # a FAIL covered by an active waiver


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"  # finished, but some checks ended in ERROR
    FAILED = "failed"  # crashed or interrupted: no findings stored


class ControlStatus(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_TESTED = "NOT_TESTED"  # automated checks exist, none ran
    MANUAL = "MANUAL"  # no automated check and no valid manual evidence: a gap


@dataclass(frozen=True, slots=True)
class Resource:
    """What a finding is about: an ARN, a file path, an image digest, a named secret."""

    id: str
    type: str
    account: str | None = None
    region: str | None = None
    path: str | None = None
    line: int | None = None
    end_line: int | None = None

    def identity(self) -> tuple[str, ...]:
        """The parts that name the resource. Line numbers are not part of it."""
        return (self.id, self.type, self.account or "", self.region or "", self.path or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "account": self.account,
            "region": self.region,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resource:
        return cls(
            id=data["id"],
            type=data["type"],
            account=data.get("account"),
            region=data.get("region"),
            path=data.get("path"),
            line=data.get("line"),
            end_line=data.get("end_line"),
        )


def compute_fingerprint(check_id: str, resource: Resource, discriminator: str = "") -> str:
    """A stable hash of check id + resource identity (+ an optional discriminator).

    The message, line number, evidence and status are deliberately left out so that the
    same problem keeps its fingerprint across runs and across edits that move it.
    """
    payload = "\x1f".join((check_id, *resource.identity(), discriminator))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """A check's metadata: data, not code. Every check has one."""

    id: str
    title: str
    severity: Severity
    provider: str
    description: str
    risk: str
    remediation: str
    resource_type: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": str(self.severity),
            "provider": self.provider,
            "description": self.description,
            "risk": self.risk,
            "remediation": self.remediation,
            "resource_type": self.resource_type,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    check_id: str
    status: Status
    severity: Severity
    resource: Resource
    message: str
    title: str = ""
    provider: str = ""
    remediation: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    controls: tuple[str, ...] = ()
    waiver: dict[str, Any] | None = None
    # Extra identity for tools that report several findings of one check on one
    # resource (for example two semgrep matches in one file): never a line number.
    discriminator: str = ""
    fingerprint: str = ""
    # The scan target this finding belongs to (`iac:/abs/path`, `aws:123456789012/eu-west-1`):
    # a later run resolves the finding only if it covered this target again (store.py).
    target: str = ""
    # An ERROR that stops other checks from being evaluated (a tool that did not run, a
    # file that could not be parsed) names them here, as check ids or globs (`iac.*`):
    # every control those checks map to is ERROR for the run, never judged without them.
    affects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.fingerprint:
            fp = compute_fingerprint(self.check_id, self.resource, self.discriminator)
            object.__setattr__(self, "fingerprint", fp)

    @property
    def suppressed_without_approval(self) -> bool:
        """A FAIL that an inline comment (`checkov:skip`, `nosemgrep`) suppresses with no
        approver and expiry: failing in every roll-up and report; honoured only by the CI
        gate, unless `--strict-suppressions`."""
        w = self.waiver
        return self.status is Status.FAIL and w is not None and w.get("source") == "inline" and not w.get("approved")

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract shape (design.md, `auditor.scan/1`)."""
        return {
            "fingerprint": self.fingerprint,
            "check_id": self.check_id,
            "title": self.title,
            "provider": self.provider,
            "status": str(self.status),
            "severity": str(self.severity),
            "resource": self.resource.to_dict(),
            "message": self.message,
            "remediation": self.remediation,
            "controls": list(self.controls),
            "evidence": self.evidence,
            "waiver": self.waiver,
            "target": self.target or None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            check_id=data["check_id"],
            status=Status(data["status"]),
            severity=Severity(data["severity"]),
            resource=Resource.from_dict(data["resource"]),
            message=data.get("message", ""),
            title=data.get("title", ""),
            provider=data.get("provider", ""),
            remediation=data.get("remediation", ""),
            evidence=data.get("evidence") or {},
            controls=tuple(data.get("controls") or ()),
            waiver=data.get("waiver"),
            fingerprint=data["fingerprint"],
            target=data.get("target") or "",
        )

    def evidence_json(self) -> str:
        return json.dumps(self.evidence, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """Something in a target's scope that was not examined, and why (a file over the size
    limit, a file a tool could not parse, a region that was not scanned)."""

    item: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one provider examined in one target, and what it left out.

    `examined` counts what was looked at (`{"files": 12}`, `{"resources": 340}`) so a
    report can say how much a PASS rests on; `skipped` names what was in scope but not
    examined; `complete` is False whenever anything in scope was not examined or a tool
    did not run (the provider then also reports ERROR findings). `errored_checks` is
    filled by the engine: check ids and globs that ended in ERROR for this target, so a
    later run knows which findings it may call resolved.
    """

    provider: str
    target: str
    examined: dict[str, int] = field(default_factory=dict)
    skipped: tuple[SkippedItem, ...] = ()
    complete: bool = True
    details: dict[str, Any] = field(default_factory=dict)
    errored_checks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "target": self.target,
            "complete": self.complete,
            "examined": dict(self.examined),
            "skipped": [s.to_dict() for s in self.skipped],
            "details": self.details,
            "errored_checks": list(self.errored_checks),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Coverage:
        return cls(
            provider=str(data.get("provider") or ""),
            target=str(data.get("target") or ""),
            examined={str(k): int(v) for k, v in (data.get("examined") or {}).items()},
            skipped=tuple(
                SkippedItem(str(s.get("item", "")), str(s.get("reason", ""))) for s in data.get("skipped") or ()
            ),
            complete=bool(data.get("complete", True)),
            details=dict(data.get("details") or {}),
            errored_checks=tuple(str(c) for c in data.get("errored_checks") or ()),
        )

    def covers(self, check_id: str) -> bool:
        """Whether this target's scan evaluated `check_id` (it did not end in ERROR here)."""
        return not any(fnmatch.fnmatchcase(check_id, pattern) for pattern in self.errored_checks)


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    scanner_version: str
    targets: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    seq: int | None = None
    error: str | None = None
    coverage: tuple[Coverage, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": iso_z(self.started_at),
            "finished_at": iso_z(self.finished_at) if self.finished_at else None,
            "status": str(self.status),
            "scanner_version": self.scanner_version,
            "targets": list(self.targets),
            "coverage": [c.to_dict() for c in self.coverage],
        }

    def coverage_for(self, target: str) -> Coverage | None:
        for c in self.coverage:
            if c.target == target:
                return c
        return None


@dataclass(frozen=True, slots=True)
class ControlResult:
    framework: str
    control_id: str
    title: str
    status: ControlStatus
    counts: dict[str, int]
    automated: bool
    checks: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.framework}:{self.control_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "id": self.control_id,
            "title": self.title,
            "status": str(self.status),
            "counts": dict(self.counts),
            "automated": self.automated,
        }


def iso_z(value: datetime) -> str:
    """UTC timestamp in the contract's `...Z` form, to the second."""

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
