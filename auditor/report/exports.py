"""The full finding list as attachments: findings.json and findings.csv, streamed to disk.

Both are written finding by finding while the view-model is built, so the size of a
run never lives in memory twice. Every value passes through the redaction pass again.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from auditor.models import Finding, Run
from auditor.redact import redact, redact_text
from auditor.report.model import redact_identity

CSV_COLUMNS = (
    "fingerprint",
    "check_id",
    "status",
    "severity",
    "resource_id",
    "resource_type",
    "account",
    "region",
    "path",
    "line",
    "controls",
    "message",
    "waiver_reason",
    "waiver_approver",
    "waiver_expires",
)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must not start with a formula character.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


class FindingExports:
    """Context manager; call it with each finding of the framework."""

    def __init__(self, folder: Path, run: Run, framework: str) -> None:
        self.json_path = folder / "findings.json"
        self.csv_path = folder / "findings.csv"
        self.run = run
        self.framework = framework
        self.count = 0
        self._json: IO[str] | None = None
        self._csv_fh: IO[str] | None = None
        self._csv: Any = None

    def __enter__(self) -> FindingExports:
        self._json = self.json_path.open("w", encoding="utf-8")
        head = {"schema": "auditor.report.findings/1", "framework": self.framework, "run": self.run.to_dict()}
        self._json.write(json.dumps(head, sort_keys=False)[:-1] + ', "findings": [')
        self._csv_fh = self.csv_path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._csv_fh)
        self._csv.writerow(CSV_COLUMNS)
        return self

    def __call__(self, f: Finding) -> None:
        assert self._json is not None
        doc = f.to_dict()
        resource = doc.pop("resource")
        doc = redact(doc)
        doc["resource"] = {
            **resource,
            "id": redact_identity(resource["id"]),
            "path": redact_identity(resource["path"]) if resource["path"] else None,
        }
        self._json.write(("\n" if self.count == 0 else ",\n") + json.dumps(doc, sort_keys=False, default=str))
        w = f.waiver or {}
        r = f.resource
        self._csv.writerow(
            [
                _csv_cell(v)
                for v in (
                    f.fingerprint,
                    f.check_id,
                    f.status.value,
                    f.severity.value,
                    redact_identity(r.id),
                    r.type,
                    r.account,
                    r.region,
                    redact_identity(r.path or ""),
                    r.line,
                    " ".join(f.controls),
                    redact_text(f.message),
                    redact_text(str(w.get("reason", ""))) if w else "",
                    redact_text(str(w.get("approver", ""))) if w else "",
                    str(w.get("expires") or w.get("expires_at") or "") if w else "",
                )
            ]
        )
        self.count += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._json is not None:
            self._json.write(f'\n], "count": {self.count}}}\n')
            self._json.close()
        if self._csv_fh is not None:
            self._csv_fh.close()
