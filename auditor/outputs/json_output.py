"""`--format json`: the machine contract `auditor.scan/1` (design.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from auditor.engine import ScanResult

SCHEMA = "auditor.scan/1"


def to_document(result: ScanResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "run": result.run.to_dict(),
        "summary": result.summary,
        "findings": [f.to_dict() for f in result.findings],
        "controls": [c.to_dict() for c in result.controls],
    }
    # Extra keys, present only when used: applied, expired and stale waivers; baseline counts.
    if result.waivers is not None:
        doc["waivers"] = result.waivers.to_dict()
    if result.baseline is not None:
        doc["baseline"] = result.baseline.summary(result.findings)
    return doc


def write(result: ScanResult, stream: TextIO) -> None:
    json.dump(to_document(result), stream, indent=2, sort_keys=False, default=str)
    stream.write("\n")
