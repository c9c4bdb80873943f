"""`--format json`: the machine contract `auditor.scan/1` (design.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from auditor.engine import ScanResult
    from auditor.models import Finding

SCHEMA = "auditor.scan/1"


def to_document(result: ScanResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "run": result.run.to_dict(),
        # Every finding's resource.path is relative to this folder.
        "source_root": str(result.source_root),
        "summary": result.summary,
        "findings": [_finding(f, result.seen.get(f.fingerprint)) for f in result.findings],
        "controls": [c.to_dict() for c in result.controls],
    }
    # Extra keys, present only when used: applied, expired and stale waivers; baseline counts.
    if result.waivers is not None:
        doc["waivers"] = result.waivers.to_dict()
    if result.baseline is not None:
        doc["baseline"] = result.baseline.summary(result.findings)
    return doc


def _finding(f: Finding, seen: tuple[str, str] | None) -> dict[str, Any]:
    doc = f.to_dict()
    doc["first_seen"], doc["last_seen"] = seen if seen is not None else (None, None)
    return doc


def write(result: ScanResult, stream: TextIO) -> None:
    """One finding and one control per line: valid JSON, easy to grep, and written by the
    C encoder (`indent=` forces json's pure-Python path: about 10x slower on large runs)."""
    doc = to_document(result)
    encode = json.JSONEncoder(ensure_ascii=False, default=str, separators=(", ", ": ")).encode
    stream.write("{\n")
    keys = list(doc)
    for i, key in enumerate(keys):
        value = doc[key]
        stream.write(f"{encode(key)}: ")
        if key in ("findings", "controls") and value:
            stream.write("[\n")
            stream.write(",\n".join("  " + encode(item) for item in value))
            stream.write("\n]")
        else:
            stream.write(encode(value))
        stream.write(",\n" if i < len(keys) - 1 else "\n")
    stream.write("}\n")
