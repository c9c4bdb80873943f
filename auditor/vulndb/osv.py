"""OSV records: parse what we store, derive a severity, evaluate affected ranges.

OSV schema 1.x (https://ossf.github.io/osv-schema/). Range evaluation follows the
schema's algorithm: events sorted by version in the ecosystem's ordering, `introduced`
opens a range, `fixed` closes it (exclusive), `last_affected` closes it (inclusive),
`limit` bounds the whole range from above. Explicit `versions` lists always count.

Unusable data errs on the side of reporting: an `introduced` version that does not
parse opens the range at zero, and a `fixed`/`last_affected`/`limit` that does not
parse is dropped (the range stays open). An affected entry with neither ranges nor
versions affects every version. `GIT` ranges (commit hashes) are not evaluated; OSV
enumerates their releases in `versions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from auditor.models import Severity
from auditor.vulndb.cvss import CvssError, base_score
from auditor.vulndb.versions import VersionScheme

DEFAULT_SEVERITY = Severity.HIGH
GHSA_SEVERITY = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}
INTRODUCED, FIXED, LAST_AFFECTED, LIMIT = 0, 1, 2, 3
_EVENT_KINDS = {"introduced": INTRODUCED, "fixed": FIXED, "last_affected": LAST_AFFECTED, "limit": LIMIT}
_MAX_TEXT = 500
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")


class RecordError(ValueError):
    """An OSV record that cannot be used at all (no id, wrong shape)."""


@dataclass(frozen=True)
class SeverityInfo:
    severity: Severity
    score: float | None
    source: str  # "cvss_v3", "database_specific", "default"
    vector: str | None = None
    label: str | None = None  # the advisory's own label, e.g. GHSA's MODERATE


@dataclass(frozen=True)
class AffectedPackage:
    ecosystem: str
    name: str
    ranges: tuple[dict[str, Any], ...]  # [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, ...]}]
    versions: tuple[str, ...]


@dataclass(frozen=True)
class AdvisoryRecord:
    """The parts of one OSV record that auditor keeps."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    modified: str | None
    published: str | None
    withdrawn: str | None
    severity: SeverityInfo
    url: str | None
    affected: tuple[AffectedPackage, ...]


def _text(value: Any, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str):
        return ""
    one_line = " ".join(value.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_record(data: Any) -> AdvisoryRecord:
    """Validate the shape we rely on; raise RecordError when the record is unusable."""
    if not isinstance(data, dict):
        raise RecordError("an OSV record must be a JSON object")
    vid = data.get("id")
    if not isinstance(vid, str) or not _ID_RE.match(vid):
        raise RecordError(f"missing or invalid 'id': {str(vid)[:60]!r}")
    schema = data.get("schema_version")
    if isinstance(schema, str) and schema and not schema.startswith("1."):
        raise RecordError(f"{vid}: unsupported OSV schema_version {schema}")
    aliases = tuple(a for a in data.get("aliases") or () if isinstance(a, str) and _ID_RE.match(a))
    affected: list[AffectedPackage] = []
    raw_affected = data.get("affected") or []
    if not isinstance(raw_affected, list):
        raise RecordError(f"{vid}: 'affected' must be a list")
    for entry in raw_affected:
        pkg = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(pkg, dict):
            continue
        eco, name = pkg.get("ecosystem"), pkg.get("name")
        if not isinstance(eco, str) or not isinstance(name, str) or not eco or not name:
            continue
        ranges = tuple(_clean_range(r) for r in entry.get("ranges") or () if isinstance(r, dict))
        versions = tuple(v for v in entry.get("versions") or () if isinstance(v, str))
        affected.append(AffectedPackage(eco, name, tuple(r for r in ranges if r is not None), versions))
    return AdvisoryRecord(
        id=vid,
        aliases=aliases,
        summary=_text(data.get("summary")) or _text(data.get("details"), 200),
        modified=_opt_str(data.get("modified")),
        published=_opt_str(data.get("published")),
        withdrawn=_opt_str(data.get("withdrawn")),
        severity=derive_severity(data),
        url=_advisory_url(data),
        affected=tuple(affected),
    )


def _clean_range(raw: dict[str, Any]) -> dict[str, Any] | None:
    rtype = raw.get("type")
    events = raw.get("events")
    if not isinstance(rtype, str) or not isinstance(events, list):
        return None
    clean = []
    for ev in events:
        if isinstance(ev, dict) and len(ev) == 1:
            ((kind, value),) = ev.items()
            if kind in _EVENT_KINDS and isinstance(value, str):
                clean.append({kind: value})
    return {"type": rtype, "events": clean}


def _advisory_url(data: dict[str, Any]) -> str | None:
    refs = data.get("references") or []
    if not isinstance(refs, list):
        return None
    for wanted in ("ADVISORY", "WEB"):
        for ref in refs:
            if isinstance(ref, dict) and ref.get("type") == wanted and isinstance(ref.get("url"), str):
                url: str = ref["url"]
                return url
    return None


def _severity_lists(data: dict[str, Any]) -> Iterable[Any]:
    yield data.get("severity")
    for entry in data.get("affected") or ():
        if isinstance(entry, dict):
            yield entry.get("severity")


def _db_specific_labels(data: dict[str, Any]) -> Iterable[Any]:
    ds = data.get("database_specific")
    if isinstance(ds, dict):
        yield ds.get("severity")
    for entry in data.get("affected") or ():
        if isinstance(entry, dict):
            for key in ("database_specific", "ecosystem_specific"):
                sub = entry.get(key)
                if isinstance(sub, dict):
                    yield sub.get("severity")


def derive_severity(data: dict[str, Any]) -> SeverityInfo:
    """CVSS v3 vector (base score computed here) > database_specific.severity > default (high)."""
    best: SeverityInfo | None = None
    for lst in _severity_lists(data):
        for item in lst if isinstance(lst, list) else ():
            if not isinstance(item, dict) or item.get("type") not in ("CVSS_V3", "CVSS_V31"):
                continue
            vector = item.get("score")
            if not isinstance(vector, str):
                continue
            try:
                score = base_score(vector)
            except CvssError:
                continue
            if best is None or (best.score or 0.0) < score.base_score:
                best = SeverityInfo(score.severity, score.base_score, "cvss_v3", score.vector)
    if best is not None:
        return best
    for label in _db_specific_labels(data):
        if isinstance(label, str) and label.upper() in GHSA_SEVERITY:
            return SeverityInfo(GHSA_SEVERITY[label.upper()], None, "database_specific", label=label.upper())
    return SeverityInfo(DEFAULT_SEVERITY, None, "default")


# Range evaluation -----------------------------------------------------------------------


class CompiledRange:
    """One OSV range with its events sorted in the ecosystem's order (key None = version zero)."""

    __slots__ = ("events", "limits")

    def __init__(self, events: list[tuple[int, Any]], limits: list[Any]) -> None:
        self.events = events
        self.limits = limits

    def affects(self, key: Any) -> bool:
        if self.limits and not any(key < lim for lim in self.limits):
            return False
        affected = False
        for kind, ev_key in self.events:
            if ev_key is not None and ev_key > key:
                break  # sorted: no later event can apply
            if kind == INTRODUCED:
                affected = True
            elif kind == FIXED or (kind == LAST_AFFECTED and key > ev_key):
                affected = False
        return affected


class CompiledAffected:
    """One affected entry, ready to test versions against (built once per package name)."""

    __slots__ = ("_parse", "_version_keys", "all_versions", "fixed", "ranges", "versions")

    def __init__(
        self,
        ranges: list[CompiledRange],
        versions: frozenset[str],
        all_versions: bool,
        fixed: tuple[str, ...],
        parse: Callable[[str], Any],
    ) -> None:
        self.ranges = ranges
        self.versions = versions
        self.all_versions = all_versions
        self.fixed = fixed
        self._parse = parse
        self._version_keys: list[Any] | None = None

    def affects(self, version: str, key: Any) -> bool:
        if self.all_versions or version in self.versions:
            return True
        for rng in self.ranges:
            if rng.affects(key):
                return True
        if not self.versions:
            return False
        if self._version_keys is None:  # other spellings of a listed version (1.0 == 1.0.0)
            self._version_keys = [k for k in map(self._parse, self.versions) if k is not None]
        return any(k == key for k in self._version_keys)


_EMPTY: frozenset[str] = frozenset()


def compile_affected(
    scheme: VersionScheme, ranges: Iterable[dict[str, Any]], versions: Iterable[str]
) -> CompiledAffected:
    """Parse and order one affected entry's events once (the matching hot path reuses it)."""
    range_list = ranges if isinstance(ranges, list) else list(ranges)
    compiled: list[CompiledRange] = []
    fixed: list[tuple[Any, str]] = []
    parse = scheme.parse
    kinds = _EVENT_KINDS
    for rng in range_list:
        if rng.get("type") == "GIT":
            continue
        events: list[tuple[int, Any]] = []
        limits: list[Any] = []
        in_order = True
        prev_kind, prev_key = -1, None
        for ev in rng.get("events") or ():
            for name, value in ev.items():
                kind = kinds[name]
                key = None if (kind == INTRODUCED and value == "0") else parse(value)
                if kind != INTRODUCED:
                    if key is None:
                        continue  # unparseable upper bound: the range stays open
                    if kind == LIMIT:
                        limits.append(key)
                        continue
                    if kind == FIXED:
                        fixed.append((key, value))
                # (an unparseable introduced opens the range at zero)
                if in_order and events:
                    if key is None:
                        in_order = prev_key is None and prev_kind <= kind
                    elif prev_key is not None and (prev_key > key or (prev_key == key and prev_kind > kind)):
                        in_order = False
                events.append((kind, key))
                prev_kind, prev_key = kind, key
        if not in_order:
            events.sort(key=_event_order)
        compiled.append(CompiledRange(events, limits))
    version_set = frozenset(versions) if versions else _EMPTY
    if len(fixed) > 1:
        fixed.sort(key=lambda f: f[0])
        fixed_strings = tuple(dict.fromkeys(v for _, v in fixed))
    else:
        fixed_strings = tuple(v for _, v in fixed)
    return CompiledAffected(
        ranges=compiled,
        versions=version_set,
        all_versions=not range_list and not version_set,
        fixed=fixed_strings,
        parse=parse,
    )


def _event_order(event: tuple[int, Any]) -> tuple[tuple[int, Any], int]:
    kind, key = event
    return ((0, 0) if key is None else (1, key)), kind


def preferred_advisory_id(ids: Iterable[str]) -> str:
    """One stable name for an advisory known under several ids (GHSA > PYSEC > others > CVE).

    The same vulnerability is often published as a GHSA, a PYSEC and a CVE record that
    alias each other; findings use one id whichever source reported it, so fingerprints
    do not change when the vulnerability data source does.
    """

    def rank(vid: str) -> tuple[int, str]:
        upper = vid.upper()
        if upper.startswith("GHSA-"):
            return 0, vid
        if upper.startswith("PYSEC-"):
            return 1, vid
        if upper.startswith("CVE-"):
            return 3, vid
        return 2, vid

    return min(ids, key=rank)
