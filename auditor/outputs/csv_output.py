"""`--format csv`: one row per finding, a stable column order, spreadsheet-safe.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with
`'` so that a spreadsheet shows it as text instead of running it as a formula (resource
names and messages come from scanned, possibly hostile, input).
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any, TextIO

from auditor.models import Finding

if TYPE_CHECKING:
    from auditor.engine import ScanResult

COLUMNS = (
    "run_id",
    "fingerprint",
    "check_id",
    "title",
    "provider",
    "status",
    "severity",
    "resource_id",
    "resource_type",
    "account",
    "region",
    "path",
    "line",
    "message",
    "remediation",
    "controls",
    "waiver_id",
    "waiver_reason",
    "waiver_approver",
    "waiver_expires",
    "evidence",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def row(run_id: str, f: Finding) -> list[str]:
    w = f.waiver or {}
    values: list[Any] = [
        run_id,
        f.fingerprint,
        f.check_id,
        f.title,
        f.provider,
        f.status.value,
        f.severity.value,
        f.resource.id,
        f.resource.type,
        f.resource.account,
        f.resource.region,
        f.resource.path,
        f.resource.line,
        f.message,
        f.remediation,
        ";".join(f.controls),
        w.get("id"),
        w.get("reason"),
        w.get("approver"),
        w.get("expires"),
        f.evidence_json(),
    ]
    return [neutralise(v) for v in values]


def write(result: ScanResult, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for f in result.findings:
        writer.writerow(row(result.run.id, f))
