"""Framework catalogs (controls/*.yaml): load, validate, map checks, roll up status.

Each control names the automated checks that test it (exact check ids, or glob
patterns over tool ids such as `iac.CKV_AWS_*`) and the manual evidence items that
no scan can produce. The roll-up is exactly the one in design.md:

- FAIL if any mapped check FAILs (unwaived);
- ERROR if none fail but some could not be evaluated;
- PASS if all evaluated and passed;
- NOT_TESTED if the control has automated checks but none of them ran;
- MANUAL for controls with no automated check: PASS only with manual evidence that
  has not expired, MANUAL (a gap) otherwise.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml

from auditor.errors import ConfigError
from auditor.models import ControlResult, ControlStatus, Finding, Status
from auditor.resources import resource_dir


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    category: str
    description: str
    checks: tuple[str, ...]
    manual_evidence: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.framework}:{self.id}"

    @property
    def automated(self) -> bool:
        return bool(self.checks)

    def matches(self, check_id: str) -> bool:
        return any(_ref_matches(ref, check_id) for ref in self.checks)


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    version: str
    controls: tuple[Control, ...]

    def control(self, control_id: str) -> Control | None:
        for c in self.controls:
            if c.id == control_id:
                return c
        return None


def _ref_matches(ref: str, check_id: str) -> bool:
    if any(ch in ref for ch in "*?["):
        return fnmatch.fnmatchcase(check_id, ref)
    return ref == check_id


_CONTROL_KEYS = {"id", "title", "category", "description", "checks", "manual_evidence"}


def load_framework(path: Path) -> Framework:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read control catalog: {exc}".replace("\n", " ")) from None
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
        raise ConfigError(f"{path}: a catalog needs 'framework' and a 'controls' list")
    fw = str(data.get("framework") or "")
    if not fw:
        raise ConfigError(f"{path}: missing 'framework'")
    controls: list[Control] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["controls"]):
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: control #{i + 1} is not a mapping")
        unknown = set(raw) - _CONTROL_KEYS
        if unknown:
            raise ConfigError(f"{path}: control {raw.get('id')!r} has unknown keys {sorted(unknown)}")
        cid = str(raw.get("id") or "")
        if not cid or cid in seen:
            raise ConfigError(f"{path}: control #{i + 1} has a missing or duplicate id {cid!r}")
        seen.add(cid)
        checks = tuple(str(c) for c in raw.get("checks") or ())
        if len(set(checks)) != len(checks):
            raise ConfigError(f"{path}: control {cid} lists a check twice")
        controls.append(
            Control(
                framework=fw,
                id=cid,
                title=str(raw.get("title") or ""),
                category=str(raw.get("category") or ""),
                description=" ".join(str(raw.get("description") or "").split()),
                checks=checks,
                manual_evidence=tuple(str(m) for m in raw.get("manual_evidence") or ()),
            )
        )
    return Framework(
        id=fw, name=str(data.get("name") or fw), version=str(data.get("version") or ""), controls=tuple(controls)
    )


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, Framework]:
    """Every framework shipped in controls/, by framework id."""
    frameworks: dict[str, Framework] = {}
    for path in sorted(resource_dir("controls").glob("*.yaml")):
        fw = load_framework(path)
        if fw.id in frameworks:
            raise ConfigError(f"{path}: framework {fw.id!r} defined twice")
        frameworks[fw.id] = fw
    return frameworks


def frameworks_for(ids: Iterable[str]) -> list[Framework]:
    catalog = load_catalog()
    out = []
    for fid in ids:
        if fid not in catalog:
            raise ConfigError(f"unknown framework {fid!r} (known: {', '.join(sorted(catalog))})")
        out.append(catalog[fid])
    return out


def controls_for_check(check_id: str, frameworks: Iterable[Framework]) -> tuple[str, ...]:
    """Control refs (`soc2:CC6.1`) that a check id maps to."""
    return tuple(c.ref for fw in frameworks for c in fw.controls if c.matches(check_id))


class ControlMapper:
    """Caches check id -> control refs for one scan (checks repeat thousands of times)."""

    def __init__(self, frameworks: Iterable[Framework]) -> None:
        self.frameworks = list(frameworks)
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, check_id: str) -> tuple[str, ...]:
        hit = self._cache.get(check_id)
        if hit is None:
            hit = controls_for_check(check_id, self.frameworks)
            self._cache[check_id] = hit
        return hit


@dataclass(frozen=True)
class ManualEvidenceState:
    """Manual evidence on file for a control: whether any item is still valid."""

    valid: bool
    items: int = 0


def roll_up(
    framework: Framework,
    findings: Iterable[Finding],
    manual: Mapping[str, ManualEvidenceState] | None = None,
) -> list[ControlResult]:
    """Control status per control of one framework from one run's findings.

    `manual` is keyed by control ref (`soc2:CC1.1`), as `manual_states` returns it.
    """
    manual = manual or {}
    counts: dict[str, dict[str, int]] = {c.id: {s.value: 0 for s in Status} for c in framework.controls}
    ran: dict[str, set[str]] = {c.id: set() for c in framework.controls}
    prefix = framework.id + ":"
    for f in findings:
        for ref in f.controls:
            if not ref.startswith(prefix):
                continue
            cid = ref[len(prefix) :]
            if cid in counts:
                counts[cid][f.status.value] += 1
                ran[cid].add(f.check_id)
    results = []
    for c in framework.controls:
        n = counts[c.id]
        state = manual.get(c.ref)
        if not c.automated:
            status = ControlStatus.PASS if state and state.valid else ControlStatus.MANUAL
        elif n["FAIL"]:
            status = ControlStatus.FAIL
        elif n["ERROR"]:
            status = ControlStatus.ERROR
        elif n["PASS"] or n["WAIVED"]:
            status = ControlStatus.PASS
        else:
            # Only SKIPPED, or nothing ran at all: not evidence of a working control.
            status = ControlStatus.NOT_TESTED
        results.append(
            ControlResult(
                framework=framework.id,
                control_id=c.id,
                title=c.title,
                status=status,
                counts={k: n[k] for k in ("PASS", "FAIL", "ERROR", "SKIPPED", "WAIVED")},
                automated=c.automated,
                checks=tuple(sorted(ran[c.id])),
            )
        )
    return results


def manual_states(entries: Iterable[tuple[str, datetime | None]], now: datetime) -> dict[str, ManualEvidenceState]:
    """(control ref, expires_at) pairs -> per-control state for one framework or all."""
    out: dict[str, ManualEvidenceState] = {}
    for ref, expires in entries:
        valid = expires is None or expires > now
        prev = out.get(ref)
        out[ref] = ManualEvidenceState(valid=valid or bool(prev and prev.valid), items=(prev.items if prev else 0) + 1)
    return out
