"""`--format csv`: one row per finding, a stable column order, spreadsheet-safe.

Resource names and messages come from scanned, possibly hostile, input, so a cell that a
spreadsheet could run as a formula is prefixed with `'` (shown as text; the rest of the
cell is kept as it is). Following OWASP's CSV injection guidance and ASVS 5.0 1.2.10:

- a cell whose first character is a tab, a carriage return or NUL;
- a cell whose first *significant* character is a formula character `=`, `+`, `-`, `@`,
  where leading Unicode whitespace (space, line feed, NBSP, U+3000 ...), control
  characters (C0, DEL, C1) and invisible format characters (zero-width space, BOM,
  bidi marks) are skipped first, because spreadsheets trim some of them on import;
- compatibility forms count as the ASCII character (NFKC): full-width `＝ ＋ － ＠`,
  small forms `﹦ ﹢ ﹣ ﹫`, super/subscript `⁼ ⁺ ₌ ₊`.

`|` and `%` are not triggers on their own (a DDE payload needs a leading formula
character, which is caught); separators and quotes inside a cell are quoted by the csv
writer (RFC 4180).
"""

from __future__ import annotations

import csv
import unicodedata
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
FORMULA_CHARS = frozenset("=+-@")
DANGEROUS_FIRST = frozenset("\t\r\0")
_SKIPPED_CATEGORIES = frozenset({"Cc", "Cf"})  # control and invisible format characters


def _skipped(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in _SKIPPED_CATEGORIES


def is_formula(text: str) -> bool:
    """Could a spreadsheet take this cell for a formula (see the module docstring)?"""
    if not text:
        return False
    if text[0] in DANGEROUS_FIRST:
        return True
    for ch in text:
        if not _skipped(ch):
            return unicodedata.normalize("NFKC", ch)[:1] in FORMULA_CHARS
    return False


def neutralise(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if is_formula(text) else text


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
