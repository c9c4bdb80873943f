"""Framework catalogs (controls/*.yaml): load, validate, map checks, roll up status.

Each control names the automated checks that test it (exact check ids, or glob
patterns over tool ids such as `iac.CKV_AWS_*`) and the manual evidence items that
no scan can produce. The roll-up is exactly the one in design.md:

- FAIL if any mapped check FAILs (unwaived);
- ERROR if none fail but some could not be evaluated;
- PASS if all evaluated and passed;
- NOT_TESTED if the control has automated checks but none of them ran;
- MANUAL for controls with no automated check: PASS only when every expected evidence
  item it lists is covered by a stored file that has not expired, MANUAL (a gap) otherwise.

A check reference may carry a rationale (`{check: ID, why: TEXT}`): the one line that says
why this check is evidence for this control, shown in reports next to the test. Controls
may also list `supporting` checks: detective signals shown beside a (manual) control but
never its pass condition. Expected manual evidence items have ids (`{id: ..., title: ...}`)
so that a stored file can say which item it covers (`auditor evidence add --item`).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import ConfigError
from auditor.models import ControlResult, ControlStatus, Finding, Status


@dataclass(frozen=True)
class EvidenceRequirement:
    """One item of manual evidence a control expects (a policy, a register, a sign-off)."""

    id: str
    title: str

    def __str__(self) -> str:
        return self.title


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    category: str
    description: str
    checks: tuple[str, ...]
    manual_evidence: tuple[EvidenceRequirement, ...]
    supporting: tuple[str, ...] = ()
    rationale: tuple[tuple[str, str], ...] = ()  # (check ref, why it is evidence for this control)

    @property
    def ref(self) -> str:
        return f"{self.framework}:{self.id}"

    @property
    def automated(self) -> bool:
        return bool(self.checks)

    def matches(self, check_id: str) -> bool:
        """Whether `check_id` is one of this control's pass conditions."""
        return any(_ref_matches(ref, check_id) for ref in self.checks)

    def supported_by(self, check_id: str) -> bool:
        """Whether `check_id` is a supporting signal (shown, never the pass condition)."""
        return any(_ref_matches(ref, check_id) for ref in self.supporting)

    def touched_by(self, pattern: str) -> bool:
        """Whether a check-id glob (an ERROR's `affects`) overlaps one of this control's checks."""
        return any(_ref_overlaps(ref, pattern) for ref in self.checks)

    def why(self, check_ref: str) -> str:
        """The recorded rationale for one of this control's check references ('' when none)."""
        for ref, text in self.rationale:
            if ref == check_ref:
                return text
        return ""

    def why_for(self, check_id: str) -> str:
        """The rationale of the reference that maps `check_id` here: the exact id first, then a glob."""
        exact = self.why(check_id)
        if exact:
            return exact
        for ref, text in self.rationale:
            if _ref_matches(ref, check_id):
                return text
        return ""



@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    version: str
    controls: tuple[Control, ...]
    # What the framework calls a report over a long period ("Type II" for SOC 2; "" for none).
    # Presentation only: not part of the catalog document stored with a run.
    period_term: str = ""

    def control(self, control_id: str) -> Control | None:
        for c in self.controls:
            if c.id == control_id:
                return c
        return None


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _ref_matches(ref: str, check_id: str) -> bool:
    if _is_glob(ref):
        return fnmatch.fnmatchcase(check_id, ref)
    return ref == check_id


def _ref_overlaps(ref: str, pattern: str) -> bool:
    """A catalog reference (id or glob) and a check-id glob name some check in common.

    Exact for the shapes we use: a glob pattern matched against the reference text
    (`iac.*` covers `iac.CKV_AWS_*`), and a glob reference matched against a concrete id.
    """
    if fnmatch.fnmatchcase(ref, pattern):
        return True
    return _is_glob(ref) and not _is_glob(pattern) and fnmatch.fnmatchcase(pattern, ref)


_CONTROL_KEYS = {"id", "title", "category", "description", "checks", "manual_evidence", "supporting"}
_ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _check_refs(raw: Any, where: str, key: str) -> list[tuple[str, str]]:
    """`checks:`/`supporting:` entries: a check ref, or `{check: REF, why: TEXT}`."""
    out: list[tuple[str, str]] = []
    for item in raw or ():
        if isinstance(item, str):
            out.append((item, ""))
        elif isinstance(item, dict) and isinstance(item.get("check"), str) and set(item) <= {"check", "why"}:
            out.append((item["check"], " ".join(str(item.get("why") or "").split())))
        else:
            raise ConfigError(f"{where}: each '{key}' entry is a check id or {{check: ID, why: TEXT}}")
    return out


def _evidence_items(raw: Any, where: str) -> tuple[EvidenceRequirement, ...]:
    """`manual_evidence:` entries: `{id: ITEM, title: TEXT}` (a bare text gets the id `item-N`)."""
    out: list[EvidenceRequirement] = []
    for n, item in enumerate(raw or (), start=1):
        if isinstance(item, str):
            out.append(EvidenceRequirement(f"item-{n}", " ".join(item.split())))
        elif isinstance(item, dict) and set(item) <= {"id", "title"} and item.get("id") and item.get("title"):
            iid = str(item["id"])
            if not _ITEM_ID.match(iid):
                raise ConfigError(f"{where}: evidence item id {iid!r} must be lower-case letters, digits and '-'")
            out.append(EvidenceRequirement(iid, " ".join(str(item["title"]).split())))
        else:
            raise ConfigError(f"{where}: each 'manual_evidence' entry is a text or {{id: ITEM, title: TEXT}}")
    ids = [i.id for i in out]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{where}: evidence item ids must be unique")
    return tuple(out)


def _control_line(text: str, index: int | None) -> int:
    """1-based line of `controls[index]` (of the `controls` key when None): only on the error path."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return 1
    if not isinstance(root, yaml.MappingNode):
        return 1
    for key, value in root.value:
        if getattr(key, "value", None) == "controls":
            if index is not None and isinstance(value, yaml.SequenceNode) and index < len(value.value):
                return int(value.value[index].start_mark.line) + 1
            return int(key.start_mark.line) + 1
    return 1


def load_framework(path: Path) -> Framework:
    """Parse and validate one catalog file; a bad catalog is one ConfigError naming file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read control catalog: {exc}".replace("\n", " ")) from None
    try:
        # libyaml's safe loader when present: the catalogs are large (a rationale per mapping)
        # and the pure-Python loader spent about 0.7 s of every scan's start-up on them.
        data = yaml.load(text, Loader=yaml.CSafeLoader) if hasattr(yaml, "CSafeLoader") else yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{line}: malformed control catalog: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
        raise ConfigError(f"{path}:1: a catalog needs 'framework' and a 'controls' list")
    fw = str(data.get("framework") or "")
    if not fw:
        raise ConfigError(f"{path}:1: missing 'framework'")
    controls: list[Control] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["controls"]):
        try:
            controls.append(_control(fw, raw, i, seen))
        except ConfigError as exc:
            raise ConfigError(f"{path}:{_control_line(text, i)}: {exc}") from None
    unknown_top = set(data) - {"framework", "name", "version", "period_term", "controls"}
    if unknown_top:
        raise ConfigError(f"{path}:1: unknown top-level keys {sorted(unknown_top)}")
    return Framework(
        id=fw,
        name=str(data.get("name") or fw),
        version=str(data.get("version") or ""),
        controls=tuple(controls),
        period_term=" ".join(str(data.get("period_term") or "").split()),
    )


def _control(fw: str, raw: Any, i: int, seen: set[str]) -> Control:
    """One control of a catalog; ConfigError (without the file name) when it is invalid."""
    if not isinstance(raw, dict):
        raise ConfigError(f"control #{i + 1} is not a mapping")
    unknown = set(raw) - _CONTROL_KEYS
    if unknown:
        raise ConfigError(f"control {raw.get('id')!r} has unknown keys {sorted(unknown)}")
    cid = str(raw.get("id") or "")
    if not cid or cid in seen:
        raise ConfigError(f"control #{i + 1} has a missing or duplicate id {cid!r}")
    seen.add(cid)
    where = f"control {cid}"
    checks = _check_refs(raw.get("checks"), where, "checks")
    supporting = _check_refs(raw.get("supporting"), where, "supporting")
    refs = [r for r, _ in checks] + [r for r, _ in supporting]
    if len(set(refs)) != len(refs):
        raise ConfigError(f"{where} lists a check twice")
    return Control(
        framework=fw,
        id=cid,
        title=str(raw.get("title") or ""),
        category=str(raw.get("category") or ""),
        description=" ".join(str(raw.get("description") or "").split()),
        checks=tuple(r for r, _ in checks),
        manual_evidence=_evidence_items(raw.get("manual_evidence"), where),
        supporting=tuple(r for r, _ in supporting),
        rationale=tuple((r, why) for r, why in (*checks, *supporting) if why),
    )


def catalog_document(frameworks: Iterable[Framework]) -> str:
    """The catalog in force, as canonical JSON text: stored with every run (once per content
    hash) so a report can show the controls as they stood when the run was scanned."""
    doc = {
        "schema": "auditor.catalog/1",
        "frameworks": [
            {
                "id": fw.id,
                "name": fw.name,
                "version": fw.version,
                "controls": [
                    {
                        "id": c.id,
                        "title": c.title,
                        "category": c.category,
                        "description": c.description,
                        "checks": list(c.checks),
                        "supporting": list(c.supporting),
                        "rationale": {ref: why for ref, why in c.rationale},
                        "manual_evidence": [{"id": i.id, "title": i.title} for i in c.manual_evidence],
                    }
                    for c in fw.controls
                ],
            }
            for fw in frameworks
        ],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def frameworks_from_document(text: str) -> dict[str, Framework]:
    """The frameworks of a stored catalog document (the inverse of `catalog_document`)."""
    data = json.loads(text)
    out: dict[str, Framework] = {}
    for fw in data.get("frameworks") or ():
        controls = tuple(
            Control(
                framework=fw["id"],
                id=c["id"],
                title=c.get("title", ""),
                category=c.get("category", ""),
                description=c.get("description", ""),
                checks=tuple(c.get("checks") or ()),
                manual_evidence=tuple(
                    EvidenceRequirement(i["id"], i["title"]) for i in c.get("manual_evidence") or ()
                ),
                supporting=tuple(c.get("supporting") or ()),
                rationale=tuple(sorted((c.get("rationale") or {}).items())),
            )
            for c in fw.get("controls") or ()
        )
        out[fw["id"]] = Framework(id=fw["id"], name=fw.get("name", fw["id"]), version=fw.get("version", ""),
                                  controls=controls)
    return out


def controls_for_check(check_id: str, frameworks: Iterable[Framework]) -> tuple[str, ...]:
    """Control refs (`soc2:CC6.1`) that a check id maps to."""
    return tuple(c.ref for fw in frameworks for c in fw.controls if c.matches(check_id))


def controls_touched(pattern: str, frameworks: Iterable[Framework]) -> tuple[str, ...]:
    """Control refs with a check that a check-id glob (an ERROR's `affects`) overlaps."""
    return tuple(c.ref for fw in frameworks for c in fw.controls if c.touched_by(pattern))


class ControlMapper:
    """Caches check id -> control refs for one scan (checks repeat thousands of times)."""

    def __init__(self, frameworks: Iterable[Framework]) -> None:
        self.frameworks = list(frameworks)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._touched: dict[str, tuple[str, ...]] = {}
        # An index of the references: exact ids by id, globs in a list, each with the
        # control's position so a check's controls keep catalog order (as `controls_for_check`).
        self._exact: dict[str, list[tuple[int, str]]] = {}
        self._globs: list[tuple[str, int, str]] = []
        position = 0
        for fw in self.frameworks:
            for c in fw.controls:
                for ref in c.checks:
                    if _is_glob(ref):
                        self._globs.append((ref, position, c.ref))
                    else:
                        self._exact.setdefault(ref, []).append((position, c.ref))
                position += 1

    def _controls_for(self, check_id: str) -> tuple[str, ...]:
        hits = list(self._exact.get(check_id, ()))
        hits.extend((pos, ref) for glob, pos, ref in self._globs if fnmatch.fnmatchcase(check_id, glob))
        return tuple(dict.fromkeys(ref for _, ref in sorted(hits)))

    def __call__(self, check_id: str, affects: Iterable[str] = ()) -> tuple[str, ...]:
        hit = self._cache.get(check_id)
        if hit is None:
            hit = self._controls_for(check_id)
            self._cache[check_id] = hit
        extra: list[str] = []
        for pattern in affects:
            touched = self._touched.get(pattern)
            if touched is None:
                touched = self._touched[pattern] = controls_touched(pattern, self.frameworks)
            extra.extend(touched)
        if not extra:
            return hit
        return tuple(dict.fromkeys((*hit, *extra)))


@dataclass(frozen=True)
class ManualEvidenceState:
    """Manual evidence on file for one control: which expected items unexpired files cover."""

    valid_items: frozenset[str] = frozenset()  # item ids covered by at least one unexpired file
    files: int = 0
    any_valid: bool = False

    def covers(self, control: Control) -> bool:
        """Every expected item is covered (a control that lists none needs one valid file)."""
        required = {i.id for i in control.manual_evidence}
        if not required:
            return self.any_valid
        return required <= self.valid_items

    def missing(self, control: Control) -> list[EvidenceRequirement]:
        return [i for i in control.manual_evidence if i.id not in self.valid_items]


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
            status = ControlStatus.PASS if state is not None and state.covers(c) else ControlStatus.MANUAL
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


def manual_states(
    entries: Iterable[tuple[str, str | None, datetime | None]], now: datetime
) -> dict[str, ManualEvidenceState]:
    """(control ref, item id, expires_at) of each stored file -> per-control state."""
    items: dict[str, set[str]] = {}
    files: dict[str, int] = {}
    any_valid: dict[str, bool] = {}
    for ref, item, expires in entries:
        valid = expires is None or expires > now
        files[ref] = files.get(ref, 0) + 1
        any_valid[ref] = any_valid.get(ref, False) or valid
        items.setdefault(ref, set())
        if valid and item:
            items[ref].add(item)
    return {
        ref: ManualEvidenceState(valid_items=frozenset(items[ref]), files=files[ref], any_valid=any_valid[ref])
        for ref in files
    }
