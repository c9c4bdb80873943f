"""The full finding list as attachments: findings.json and findings.csv, streamed to disk.

Both are written finding by finding while the view-model is built, so the size of a
run never lives in memory twice. Every value passes through the redaction pass again.
Each finding carries when it was first and last seen (the lifecycle table, looked up in
batches while streaming); findings.json ends with the counts per status, WAIVED and
"suppressed without approval" included, which the report, controls.json and the pack's
manifest repeat and `auditor verify` compares.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from auditor.models import Finding, Run, Status
from auditor.outputs import csv_output
from auditor.redact import redact
from auditor.report.redaction import redact_identity

FINDINGS_SCHEMA = "auditor.report.findings/1"
CSV_COLUMNS = (*csv_output.COLUMNS, "first_seen", "last_seen")
STATUS_KEYS = ("PASS", "FAIL", "ERROR", "WAIVED", "SKIPPED")
SEEN_BATCH = 500

SeenLookup = Callable[[Iterable[str]], dict[str, tuple[str, str]]]


def finding_document(f: Finding, seen: tuple[str, str] | None) -> dict[str, Any]:
    """One entry of findings.json (`auditor verify --db` rebuilds it the same way)."""
    raw = f.to_dict()
    resource = raw.pop("resource")
    doc: dict[str, Any] = redact(raw)
    doc["resource"] = {
        **resource,
        "id": redact_identity(resource["id"]),
        "path": redact_identity(resource["path"]) if resource["path"] else None,
    }
    doc["first_seen"], doc["last_seen"] = seen if seen is not None else (None, None)
    return doc


def csv_row(run_id: str, f: Finding, doc: dict[str, Any]) -> list[str]:
    """The findings.csv row of a finding: the same (redacted) values as its findings.json entry."""
    r = doc["resource"]
    shown = replace(
        f,
        title=doc["title"],
        message=doc["message"],
        remediation=doc["remediation"],
        evidence=doc["evidence"],
        waiver=doc["waiver"],
        controls=tuple(doc["controls"]),
        resource=replace(f.resource, id=r["id"], path=r["path"]),
    )
    return [*csv_output.row(run_id, shown), doc["first_seen"] or "", doc["last_seen"] or ""]


def findings_summary(by_status: Counter[str], suppressed: int) -> dict[str, Any]:
    return {
        "by_status": {k: by_status.get(k, 0) for k in STATUS_KEYS},
        "waived": by_status.get("WAIVED", 0),
        "suppressed_without_approval": suppressed,
    }


class FindingExports:
    """Context manager; call it with each finding of the framework."""

    def __init__(self, folder: Path, run: Run, framework: str, seen: SeenLookup | None = None) -> None:
        self.json_path = folder / "findings.json"
        self.csv_path = folder / "findings.csv"
        self.run = run
        self.framework = framework
        self.count = 0
        self.by_status: Counter[str] = Counter()
        self.suppressed = 0
        self._seen = seen
        self._pending: list[Finding] = []
        self._json: IO[str] | None = None
        self._csv_fh: IO[str] | None = None
        self._csv: Any = None

    def __enter__(self) -> FindingExports:
        self._json = self.json_path.open("w", encoding="utf-8")
        head = {"schema": FINDINGS_SCHEMA, "framework": self.framework, "run": self.run.to_dict()}
        self._json.write(json.dumps(head, sort_keys=False)[:-1] + ', "findings": [')
        self._csv_fh = self.csv_path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._csv_fh)
        self._csv.writerow(CSV_COLUMNS)
        return self

    def __call__(self, f: Finding) -> None:
        self._pending.append(f)
        self.by_status[f.status.value] += 1
        if f.status is Status.FAIL and f.suppressed_without_approval:
            self.suppressed += 1
        if len(self._pending) >= SEEN_BATCH:
            self._flush()

    def _flush(self) -> None:
        assert self._json is not None
        batch, self._pending = self._pending, []
        seen = self._seen(f.fingerprint for f in batch) if self._seen and batch else {}
        for f in batch:
            doc = finding_document(f, seen.get(f.fingerprint))
            self._json.write(("\n" if self.count == 0 else ",\n") + json.dumps(doc, sort_keys=False, default=str))
            self._csv.writerow(csv_row(self.run.id, f, doc))
            self.count += 1

    @property
    def summary(self) -> dict[str, Any]:
        return findings_summary(self.by_status, self.suppressed)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._json is not None:
            if exc_type is None:
                self._flush()
            tail = json.dumps(self.summary, sort_keys=False)
            self._json.write(f'\n], "count": {self.count}, "summary": {tail}}}\n')
            self._json.close()
        if self._csv_fh is not None:
            self._csv_fh.close()
