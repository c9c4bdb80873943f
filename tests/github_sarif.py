"""GitHub code scanning's ingestion rules that can be checked offline (docs/ci.md lists them).

`ingestion_problems(doc)` returns what GitHub would reject, truncate or misplace in a
SARIF document: an empty list means it is accepted as written. Used on the demo's SARIF
and on real scans of workspaces (tests/outputs/test_paths_resolve.py, tests/test_demo.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jsonschema

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text())
MAX_RUNS = 20
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_LOCATIONS = 10
MAX_TAGS = 10


def _lines(path: Path) -> int:
    return max(1, len(path.read_text(encoding="utf-8", errors="replace").splitlines()))


def ingestion_problems(doc: dict[str, Any], checkout: Path | None = None) -> list[str]:
    """Everything wrong with `doc` for GitHub; `checkout` (default: %SRCROOT%) is where URIs must resolve."""
    problems: list[str] = []
    try:
        jsonschema.Draft4Validator(SCHEMA).validate(doc)
    except jsonschema.ValidationError as exc:
        problems.append(f"schema: {exc.message}")
    runs = doc.get("runs", [])
    if not 1 <= len(runs) <= MAX_RUNS:
        problems.append(f"{len(runs)} runs")
    for run in runs:
        rules = run["tool"]["driver"].get("rules", [])
        ids = [r["id"] for r in rules]
        if len(ids) != len(set(ids)) or len(ids) > MAX_RULES:
            problems.append("rule ids not unique or too many rules")
        by_id = {r["id"]: (i, r) for i, r in enumerate(rules)}
        for r in rules:
            if len(r.get("properties", {}).get("tags", [])) > MAX_TAGS:
                problems.append(f"rule {r['id']}: more than {MAX_TAGS} tags")
        base_uri = run.get("originalUriBaseIds", {}).get("%SRCROOT%", {}).get("uri")
        root = checkout or (Path(unquote(urlparse(base_uri).path)) if base_uri else None)
        results = run.get("results", [])
        if len(results) > MAX_RESULTS:
            problems.append(f"{len(results)} results")
        for res in results:
            rid = res.get("ruleId")
            where = f"result {rid} {res.get('partialFingerprints')}"
            if rid not in by_id:
                problems.append(f"{where}: ruleId not in rules")
                continue
            index, rule = by_id[rid]
            if res.get("ruleIndex", index) != index:
                problems.append(f"{where}: ruleIndex {res.get('ruleIndex')} is not {index}")
            if res.get("level", rule["defaultConfiguration"]["level"]) != rule["defaultConfiguration"]["level"]:
                problems.append(f"{where}: level differs from its rule's")
            if "security-severity" in res.get("properties", {}) and res["properties"]["security-severity"] != rule[
                "properties"
            ].get("security-severity"):
                problems.append(f"{where}: security-severity differs from its rule's")
            if not res.get("partialFingerprints"):
                problems.append(f"{where}: no partialFingerprints")
            locations = res.get("locations", [])
            if not 1 <= len(locations) <= MAX_LOCATIONS:
                problems.append(f"{where}: {len(locations)} locations")
            for loc in locations:
                phys = loc.get("physicalLocation", {})
                art = phys.get("artifactLocation", {})
                uri = art.get("uri")
                line = phys.get("region", {}).get("startLine")
                if not uri:
                    problems.append(f"{where}: no artifact URI")
                    continue
                if not isinstance(line, int) or line < 1:
                    problems.append(f"{where}: startLine {line!r}")
                    continue
                if art.get("uriBaseId") != "%SRCROOT%" or root is None:
                    problems.append(f"{where}: {uri} is not relative to %SRCROOT%")
                    continue
                file = root / unquote(uri)
                if not file.is_file():
                    problems.append(f"{where}: {uri} does not exist under {root}")
                elif line > _lines(file):
                    problems.append(f"{where}: line {line} is past the end of {uri}")
    return problems
