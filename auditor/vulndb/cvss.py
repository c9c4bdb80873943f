"""CVSS v3.0 / v3.1 base score from a vector string (FIRST specification, section 7).

Only the base metric group is scored: advisories publish base vectors, and temporal or
environmental metrics in a vector do not change the base score. A vector that is not
CVSS 3.x, or lacks a base metric, raises `CvssError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from auditor.models import Severity

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_BASE_METRICS = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")


class CvssError(ValueError):
    """Not a usable CVSS 3.x vector."""


@dataclass(frozen=True)
class CvssScore:
    version: str  # "3.0" or "3.1"
    vector: str
    base_score: float

    @property
    def severity(self) -> Severity:
        return severity_for_score(self.base_score)


def severity_for_score(score: float) -> Severity:
    """The CVSS v3 qualitative rating; "None" (0.0) maps to info."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score >= 0.1:
        return Severity.LOW
    return Severity.INFO


def _roundup_31(value: float) -> float:
    """CVSS 3.1 Roundup: the smallest number with one decimal >= value, float-safe."""
    as_int = round(value * 100000)
    if as_int % 10000 == 0:
        return as_int / 100000.0
    return (math.floor(as_int / 10000) + 1) / 10.0


def _roundup_30(value: float) -> float:
    return math.ceil(value * 10) / 10


def parse_vector(vector: str) -> tuple[str, dict[str, str]]:
    parts = vector.strip().split("/")
    if not parts or not parts[0].startswith("CVSS:"):
        raise CvssError(f"not a CVSS vector: {vector!r}")
    version = parts[0][5:]
    if version not in ("3.0", "3.1"):
        raise CvssError(f"unsupported CVSS version {version!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep or not key or not value:
            raise CvssError(f"malformed CVSS metric {part!r}")
        if key in metrics:
            raise CvssError(f"CVSS metric {key} given twice")
        metrics[key] = value
    missing = [m for m in _BASE_METRICS if m not in metrics]
    if missing:
        raise CvssError(f"CVSS vector lacks base metrics {', '.join(missing)}")
    return version, metrics


def base_score(vector: str) -> CvssScore:
    version, m = parse_vector(vector)
    try:
        changed = {"U": False, "C": True}[m["S"]]
        av, ac, ui = _AV[m["AV"]], _AC[m["AC"]], _UI[m["UI"]]
        pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
        c, i, a = _CIA[m["C"]], _CIA[m["I"]], _CIA[m["A"]]
    except KeyError as exc:
        raise CvssError(f"invalid CVSS metric value {exc.args[0]!r} in {vector!r}") from None
    roundup = _roundup_31 if version == "3.1" else _roundup_30
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = 8.22 * av * ac * pr * ui
    if impact <= 0:
        score = 0.0
    elif changed:
        score = roundup(min(1.08 * (impact + exploitability), 10.0))
    else:
        score = roundup(min(impact + exploitability, 10.0))
    return CvssScore(version=version, vector=vector.strip(), base_score=score)
