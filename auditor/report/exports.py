"""The full finding list as attachments: findings.json and findings.csv, streamed to disk.

Both are written finding by finding while the view-model is built, so the size of a
run never lives in memory twice. Every value passes through the redaction pass again.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from auditor.models import Finding, Run
from auditor.outputs import csv_output
from auditor.redact import redact, redact_text
from auditor.report.model import redact_identity


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
        self._csv.writerow(csv_output.COLUMNS)
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
        # The same columns as `auditor scan --format csv`, identities redacted as in the report.
        r = f.resource
        shown = replace(
            f,
            message=redact_text(f.message),
            resource=replace(r, id=redact_identity(r.id), path=redact_identity(r.path) if r.path else None),
        )
        self._csv.writerow(csv_output.row(self.run.id, shown))
        self.count += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._json is not None:
            self._json.write(f'\n], "count": {self.count}}}\n')
            self._json.close()
        if self._csv_fh is not None:
            self._csv_fh.close()
