"""Risk acceptance: waivers that turn a FAIL into WAIVED until they expire.

A waiver names a check (a glob over check ids), a resource pattern (a glob over the
resource id and its file path), a reason, an approver, the day it was created and the
day it expires. Expiry is required and at most 365 days after creation: risk is
accepted for a while, never for ever.

Waivers come from three places, all applied the same way:

- `.auditor-waivers.yaml` at the root of any scanned directory (`--iac`, `--code`,
  `--deps`), with resource patterns also matched against paths relative to that root —
  only with `--allow-repo-waivers` (whoever can open a pull request writes that file),
  and never with a wildcard check or resource;
- `--waivers FILE` (same format);
- the database (`auditor waive add|list|remove`).

```yaml
waivers:
  - check: iac.CKV_AWS_18            # glob over check ids
    resource: "terraform/logs.tf*"   # glob over resource id or path (default "*")
    reason: Access logs bucket; logging it into itself would loop
    approver: alice@example.com
    created: 2026-01-10
    expires: 2026-06-30              # required; at most 365 days after created
    id: logs-bucket-logging          # optional label (default: file:line)
```

Applying them (`apply_waivers`): an active waiver turns a matching FAIL into WAIVED and
records itself on the finding (`finding.waiver` and `evidence["waiver"]`); an expired
one no longer applies and the finding's message and evidence say when it expired; an
active waiver that matched no failing (or unevaluated) finding of a provider that ran
is *stale* and is reported so that it can be removed.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from auditor.clock import parse_date_value
from auditor.errors import InputError
from auditor.models import Finding, Resource, Status
from auditor.redact import redact_text
from auditor.safeio import load_yaml, read_text_bounded, show_path

if TYPE_CHECKING:
    from auditor.config import AuditConfig

log = logging.getLogger("auditor.waivers")

WAIVER_FILENAME = ".auditor-waivers.yaml"
MAX_WAIVER_DAYS = 365
MAX_WAIVER_FILE_BYTES = 1024 * 1024
FILE_KEYS = ("id", "check", "resource", "reason", "approver", "created", "expires")
REQUIRED_FILE_KEYS = ("check", "reason", "approver", "created", "expires")
DB_SOURCE = "database"


@dataclass(frozen=True)
class Waiver:
    id: str
    source: str  # "database" or the file it came from
    check: str
    resource: str
    reason: str
    approver: str
    created: date
    expires: date
    root: Path | None = None  # a repository root: resource patterns also match paths relative to it
    line: int | None = None

    def is_active(self, today: date) -> bool:
        """Active through the whole of its expiry day."""
        return today <= self.expires

    def matches(self, finding: Finding, source_root: Path | None = None) -> bool:
        if not fnmatch.fnmatchcase(finding.check_id, self.check):
            return False
        candidates = resource_candidates(finding.resource, self.root, source_root)
        return any(fnmatch.fnmatchcase(c, self.resource) for c in candidates)

    def record(self) -> dict[str, Any]:
        """What a waived finding carries (JSON, stored, rendered in reports)."""
        return {
            "id": self.id,
            "source": self.source,
            "check": self.check,
            "resource": self.resource,
            "reason": self.reason,
            "approver": self.approver,
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat(),
        }

    def provider_prefix(self) -> str | None:
        """The provider a check pattern is about (`iac` in `iac.CKV_*`), or None for `*`/`?` there."""
        head = self.check.split(".", 1)[0]
        return None if any(ch in head for ch in "*?[") else head


def resource_candidates(resource: Resource, root: Path | None = None, source_root: Path | None = None) -> list[str]:
    """The strings a resource pattern is matched against: id, path (relative to the scan's source
    root), path relative to the waiver file's folder and to the working directory."""
    out = [resource.id]
    if resource.path:
        path = resource.path.replace("\\", "/")
        out.append(path)
        if path.startswith("./"):
            out.append(path[2:])
        absolute = Path(resource.path)
        if not absolute.is_absolute():
            absolute = (source_root or Path.cwd()) / absolute
        for base in (root, Path.cwd()):
            if base is None:
                continue
            try:
                rel = os.path.relpath(absolute, base)
            except ValueError:
                continue
            if not rel.startswith(".."):
                out.append(PurePosixPath(*Path(rel).parts).as_posix())
    return list(dict.fromkeys(out))


# Validation shared by files and `auditor waive add` ------------------------------------


def validate_waiver(
    *, check: Any, resource: Any, reason: Any, approver: Any, created: date, expires: date, where: str
) -> None:
    for name, value in (("check", check), ("resource", resource), ("reason", reason), ("approver", approver)):
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: waiver needs a non-empty '{name}'")
    if expires < created:
        raise InputError(f"{where}: waiver expires ({expires}) before it was created ({created})")
    days = (expires - created).days
    if days > MAX_WAIVER_DAYS:
        raise InputError(
            f"{where}: waiver expires {expires}, {days} days after it was created ({created}); "
            f"the limit is {MAX_WAIVER_DAYS} days: accept a risk for at most a year, then review it"
        )


def parse_date(value: Any, where: str, key: str) -> date:
    return parse_date_value(value, f"{where}: waiver '{key}'")


# Files --------------------------------------------------------------------------------


def load_waiver_file(path: Path, root: Path | None = None, *, repository: bool = False) -> list[Waiver]:
    """Waivers of one YAML file; InputError naming file and line when malformed.

    `repository=True` for a file found inside a scanned target: anyone who can open a pull
    request wrote it, so a wildcard check or resource is refused there (exit 2).
    """
    where = show_path(path)
    text = read_text_bounded(path, MAX_WAIVER_FILE_BYTES, "waiver file")
    data, node = load_yaml(text, where)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise InputError(f"{where}:{_line(node)}: expected a mapping with a 'waivers' list")
    extra = sorted(str(k) for k in data if k != "waivers")
    if extra:
        at_line = _key_line(node, extra[0])
        raise InputError(f"{where}:{at_line}: unknown top-level key {extra[0]!r} (expected 'waivers')")
    items = data.get("waivers")
    if items is None:
        return []
    items_node = _value_node(node, "waivers")
    if not isinstance(items, list) or not isinstance(items_node, yaml.SequenceNode):
        raise InputError(f"{where}:{_key_line(node, 'waivers')}: 'waivers' must be a list")
    out: list[Waiver] = []
    seen: set[str] = set()
    for raw, item_node in zip(items, items_node.value, strict=True):
        waiver = _parse_file_waiver(raw, item_node, path, root)
        if repository:
            for key, pattern in (("check", waiver.check), ("resource", waiver.resource)):
                if any(ch in pattern for ch in "*?["):
                    raise InputError(
                        f"{where}:{_key_line(item_node, key)}: a waiver file inside a scanned target may not use a "
                        f"wildcard {key} ({pattern!r}): name one check and one resource, or move it to --waivers "
                        "or `auditor waive add`"
                    )
        if waiver.id in seen:
            raise InputError(f"{where}:{_line(item_node)}: duplicate waiver id {waiver.id!r}")
        seen.add(waiver.id)
        out.append(waiver)
    return out


def _parse_file_waiver(raw: Any, node: yaml.Node, path: Path, root: Path | None) -> Waiver:
    line = _line(node)
    at = f"{path}:{line}"
    if not isinstance(raw, dict) or not isinstance(node, yaml.MappingNode):
        raise InputError(f"{at}: each waiver must be a mapping with check, reason, approver, created, expires")
    for key in raw:
        if key not in FILE_KEYS:
            raise InputError(
                f"{path}:{_key_line(node, str(key))}: unknown waiver key {key!r} (allowed: {', '.join(FILE_KEYS)})"
            )
    for key in REQUIRED_FILE_KEYS:
        if raw.get(key) in (None, ""):
            raise InputError(f"{at}: waiver is missing '{key}'")
    for key in ("check", "resource", "reason", "approver", "id"):
        if key in raw and not isinstance(raw[key], str):
            raise InputError(f"{path}:{_key_line(node, key)}: waiver '{key}' must be text")
    created = parse_date(raw["created"], f"{path}:{_key_line(node, 'created')}", "created")
    expires = parse_date(raw["expires"], f"{path}:{_key_line(node, 'expires')}", "expires")
    resource = raw.get("resource", "*")
    validate_waiver(
        check=raw["check"],
        resource=resource,
        reason=raw["reason"],
        approver=raw["approver"],
        created=created,
        expires=expires,
        where=f"{path}:{_key_line(node, 'expires')}",
    )
    return Waiver(
        id=str(raw.get("id") or f"{path.name}:{line}"),
        source=str(path),
        check=raw["check"].strip(),
        resource=resource.strip(),
        reason=redact_text(raw["reason"].strip()),
        approver=redact_text(raw["approver"].strip()),
        created=created,
        expires=expires,
        root=root if root is not None else path.parent,
        line=line,
    )


def _line(node: Any) -> int:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else 1


def _value_node(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in mapping.value:
        if getattr(k, "value", None) == key:
            node: yaml.Node = v
            return node
    return None


def _key_line(mapping: yaml.Node, key: str) -> int:
    if isinstance(mapping, yaml.MappingNode):
        for k, _v in mapping.value:
            if getattr(k, "value", None) == key:
                return _line(k)
    return _line(mapping)


# Database -----------------------------------------------------------------------------


def waiver_from_row(row: dict[str, Any]) -> Waiver:
    return Waiver(
        id=f"db:{row['id']}",
        source=DB_SOURCE,
        check=row["check_pattern"],
        resource=row["resource_pattern"],
        reason=row["reason"],
        approver=row["approver"],
        created=date.fromisoformat(row["created_at"][:10]),
        expires=date.fromisoformat(row["expires_at"][:10]),
    )


# Collecting every source for a scan ----------------------------------------------------


def repository_waiver_files(paths: Iterable[Path]) -> list[Path]:
    """`.auditor-waivers.yaml` of every scanned directory that has one (each file once)."""
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        candidate = Path(p) / WAIVER_FILENAME
        if Path(p).is_dir() and candidate.is_file():
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                out.append(candidate)
    return out


def load_file_waivers(config: AuditConfig) -> list[Waiver]:
    """Waivers from files: `--waivers FILE`, and `.auditor-waivers.yaml` of scanned targets.

    Files inside a scanned target are written by whoever can change that target (a pull
    request): they apply only when `--allow-repo-waivers` (audit.yaml:
    `allow_repository_waivers: true`) says so, and never with wildcards. Otherwise they are
    ignored, with a warning, so a change under review cannot switch off the gate.
    """
    waivers: list[Waiver] = []
    explicit: set[Path] = set()
    if config.waivers_file is not None:
        waivers.extend(load_waiver_file(Path(config.waivers_file)))
        explicit.add(Path(config.waivers_file).resolve())
    for f in repository_waiver_files(config.targets.repository_paths()):
        if f.resolve() in explicit:
            continue
        if not config.allow_repository_waivers:
            log.warning(
                "%s: waiver file inside a scanned target ignored (pass --allow-repo-waivers, or set "
                "allow_repository_waivers: true in audit.yaml, to apply it)",
                show_path(f),
            )
            continue
        waivers.extend(load_waiver_file(f, repository=True))
    return waivers


def collect_waivers(config: AuditConfig, stored: Iterable[dict[str, Any]] = ()) -> list[Waiver]:
    """Every waiver a scan applies: files (`load_file_waivers`), then the database's
    (`stored`: rows of `Store.list_waivers()`, recorded with `auditor waive add`)."""
    waivers = load_file_waivers(config)
    waivers.extend(waiver_from_row(r) for r in stored)
    return waivers


# Applying -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WaiverOutcome:
    findings: list[Finding]
    waivers: list[Waiver]
    applied: dict[str, int] = field(default_factory=dict)  # waiver id -> findings waived
    stale: list[Waiver] = field(default_factory=list)
    expired: dict[str, int] = field(default_factory=dict)  # expired waiver id -> FAIL findings it matched

    def to_dict(self) -> dict[str, Any]:
        """The `waivers` key of the JSON output."""
        by_id = {w.id: w for w in self.waivers}
        return {
            "loaded": len(self.waivers),
            "applied": [{**by_id[i].record(), "findings": n} for i, n in sorted(self.applied.items())],
            "expired": [{**by_id[i].record(), "findings": n} for i, n in sorted(self.expired.items())],
            "stale": [w.record() for w in self.stale],
        }


def apply_waivers(
    findings: Sequence[Finding],
    waivers: Sequence[Waiver],
    today: date,
    providers: Iterable[str] | None = None,
    source_root: Path | None = None,
) -> WaiverOutcome:
    """FAIL -> WAIVED under an active waiver; note expired ones; find stale ones.

    `providers` are the providers that ran: a waiver for another provider's checks is
    not stale just because this scan did not look there. Finding paths are relative to
    `source_root` (default: the working directory).
    """
    if not waivers:
        return WaiverOutcome(findings=list(findings), waivers=[])
    active = [w for w in waivers if w.is_active(today)]
    expired = [w for w in waivers if not w.is_active(today)]
    applied: dict[str, int] = {}
    expired_hits: dict[str, int] = {w.id: 0 for w in expired}
    used: set[str] = set()
    out: list[Finding] = []
    for f in findings:
        if f.status not in (Status.FAIL, Status.ERROR):
            out.append(f)
            continue
        hit = next((w for w in active if w.matches(f, source_root)), None)
        if f.status is Status.ERROR:
            # Could not be evaluated: the waiver may still be needed, so it is not stale.
            if hit is not None:
                used.add(hit.id)
            out.append(f)
            continue
        if hit is not None:
            used.add(hit.id)
            applied[hit.id] = applied.get(hit.id, 0) + 1
            record = hit.record()
            out.append(replace(f, status=Status.WAIVED, waiver=record, evidence={**f.evidence, "waiver": record}))
            continue
        old = next((w for w in expired if w.matches(f, source_root)), None)
        if old is not None:
            expired_hits[old.id] = expired_hits.get(old.id, 0) + 1
            out.append(
                replace(
                    f,
                    message=f"{f.message} (waiver {old.id} expired on {old.expires.isoformat()})",
                    evidence={**f.evidence, "waiver_expired": old.record()},
                )
            )
            continue
        out.append(f)
    ran = set(providers) if providers is not None else None
    stale = [
        w
        for w in active
        if w.id not in used and (ran is None or w.provider_prefix() is None or w.provider_prefix() in ran)
    ]
    for w in stale:
        log.warning(
            "waiver %s (check %s, resource %s) matched no failing finding in this scan: it is stale; "
            "remove it or fix its patterns",
            w.id,
            w.check,
            w.resource,
        )
    for wid, n in sorted(expired_hits.items()):
        if not n:
            continue
        w = next(x for x in expired if x.id == wid)
        log.warning("waiver %s expired on %s: %d finding(s) it covered fail again", wid, w.expires, n)
    return WaiverOutcome(findings=out, waivers=list(waivers), applied=applied, stale=stale, expired=expired_hits)
