"""Baselines: accept today's failures, gate only on new ones.

`auditor baseline create --output FILE [--run ID|latest]` writes the fingerprints of a
stored run's FAIL findings. `auditor scan ... --baseline FILE` still reports every
finding, but only a FAIL whose fingerprint is *not* in the baseline can breach
`--fail-on`. Fingerprints are check id + resource identity (never the line number), so
a finding that moves to another line stays baselined.

```json
{"schema": "auditor.baseline/1", "created_at": "...Z",
 "run": {"id": "...", "started_at": "...Z"},
 "findings": [{"fingerprint": "...", "check_id": "...", "resource_id": "...",
               "path": null, "severity": "high"}]}
```
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.models import Finding, Run, Status, iso_z
from auditor.safeio import read_text_bounded, show_path

SCHEMA = "auditor.baseline/1"
MAX_BASELINE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Baseline:
    fingerprints: frozenset[str]
    path: Path | None = None
    run_id: str | None = None

    def is_new(self, finding: Finding) -> bool:
        """True when the finding is not in the baseline: it may breach the gate."""
        return finding.fingerprint not in self.fingerprints

    def state(self, finding: Finding) -> str:
        """SARIF `baselineState` of a finding: `new` or `unchanged`."""
        return "new" if self.is_new(finding) else "unchanged"

    def summary(self, findings: Iterable[Finding]) -> dict[str, Any]:
        """The `baseline` key of the JSON output: how many failing findings are new."""
        failing = [f for f in findings if f.status is Status.FAIL]
        new = sum(1 for f in failing if self.is_new(f))
        return {
            "file": str(self.path) if self.path else None,
            "run_id": self.run_id,
            "fingerprints": len(self.fingerprints),
            "failed_new": new,
            "failed_unchanged": len(failing) - new,
        }


def baseline_document(run: Run, findings: Iterable[Finding], created_at: datetime) -> dict[str, Any]:
    failing = sorted((f for f in findings if f.status is Status.FAIL), key=lambda f: f.fingerprint)
    return {
        "schema": SCHEMA,
        "created_at": iso_z(created_at),
        "run": {"id": run.id, "started_at": iso_z(run.started_at)},
        "findings": [
            {
                "fingerprint": f.fingerprint,
                "check_id": f.check_id,
                "resource_id": f.resource.id,
                "path": f.resource.path,
                "severity": f.severity.value,
            }
            for f in failing
        ],
    }


def load_baseline(path: Path) -> Baseline:
    where = show_path(path)
    text = read_text_bounded(path, MAX_BASELINE_BYTES, "baseline file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}: baseline is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(
            f'{where}: not an auditor baseline (expected "schema": "{SCHEMA}"); create one with '
            "`auditor baseline create`"
        )
    items = data.get("findings")
    if not isinstance(items, list):
        raise InputError(f"{where}: baseline has no 'findings' list")
    fingerprints: set[str] = set()
    for i, item in enumerate(items):
        fp = item.get("fingerprint") if isinstance(item, dict) else None
        if not isinstance(fp, str) or not fp:
            raise InputError(f"{where}: baseline finding #{i + 1} has no fingerprint")
        fingerprints.add(fp)
    run = data.get("run")
    run_id = run.get("id") if isinstance(run, dict) else None
    return Baseline(fingerprints=frozenset(fingerprints), path=path, run_id=run_id if isinstance(run_id, str) else None)
