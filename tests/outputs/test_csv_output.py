"""CSV: one row per finding, stable columns, formula injection neutralised."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from auditor.engine import ScanResult
from auditor.models import Finding, Resource, Severity, Status
from auditor.outputs import csv_output

HEADER = [
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
]


def rows(result: ScanResult) -> list[list[str]]:
    stream = io.StringIO()
    csv_output.write(result, stream)
    return list(csv.reader(io.StringIO(stream.getvalue())))


def test_header_and_one_row_per_finding(mixed_result: ScanResult) -> None:
    table = rows(mixed_result)
    assert table[0] == HEADER
    body = [dict(zip(HEADER, r, strict=True)) for r in table[1:]]
    assert len(body) == len(mixed_result.findings)
    assert [r["fingerprint"] for r in body] == [f.fingerprint for f in mixed_result.findings]
    waived = [r for r in body if r["status"] == "WAIVED"]
    assert [(r["waiver_id"], r["waiver_approver"], r["waiver_expires"]) for r in waived] == [
        ("logs-bucket", "alice@example.com", "2027-03-31")
    ]
    iac = next(r for r in body if r["check_id"] == "iac.CKV_AWS_18")
    assert (iac["line"], iac["severity"], iac["status"]) == ("12", "high", "FAIL")


def test_formula_injection_is_neutralised(mixed_result: ScanResult) -> None:
    hostile = Finding(
        check_id="code.test",
        status=Status.FAIL,
        severity=Severity.LOW,
        resource=Resource(id='=HYPERLINK("http://evil.example","x")', type="@SUM(A1:A9)"),
        message="+cmd|' /C calc'!A0",
        remediation="-2+3",
        title="\tTabbed",
        provider="code",
    )
    body = rows(replace(mixed_result, findings=[hostile]))[1]
    row = dict(zip(HEADER, body, strict=True))
    assert row["resource_id"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["resource_type"] == "'@SUM(A1:A9)"
    assert row["message"] == "'+cmd|' /C calc'!A0"
    assert row["remediation"] == "'-2+3"
    assert row["title"] == "'\tTabbed"
    assert row["check_id"] == "code.test"  # ordinary text is untouched


# Cells a spreadsheet could run, by kind: each gets a leading ' and is otherwise kept as it is.
FORMULA_GROUPS = {
    "ascii formula characters": ["=1+1", "+1", "-1", "@SUM(A1:A9)"],
    "dangerous first characters (OWASP, ASVS 1.2.10)": ["\t", "\tTabbed", "\r", "\rx", "\0", "\0x"],
    "ascii whitespace first": [" =1", "   +1", "\n=1", "\r\n=1", "\x0b-1", "\x0c@a", "\t=1"],
    "unicode whitespace first": ["\u00a0=1", "\u3000=1", "\u2003-1", "\u2028@a", "\u202f+1", "\x85=1"],
    "C0, DEL and C1 controls first": ["\x01=1", "\x1b=1", "\x7f=1", "\x9b=1"],
    "invisible format characters first": ["\u200b=1", "\ufeff=1", "\u200e+1", "\u2066@a"],
    "full-width forms": ["＝1", "＋1", "－1", "＠a", " ＝HYPERLINK(1)", "\u00a0＠SUM(A1)", "\n－1"],
    "small, superscript and subscript forms": ["﹦1", "﹢1", "﹣1", "﹫a", "⁼1", "⁺1", "₌1", "₊1"],
    "everything at once": [" \u00a0\n\u3000\x00\u200b=cmd|' /C calc'!A0"],
}
FORMULAS = [text for group in FORMULA_GROUPS.values() for text in group]
# Ordinary text: never touched (`|` and `%` are not triggers on their own).
PLAIN = ["", "abc", "1-2", "a=b", "x+y", "alice@example.com", "'=1", "a ＝b", "1＋1", " abc", "\u00a0abc"]
PLAIN += [
    "\nabc",
    "\u3000text",
    "\u200babc",
    "   ",
    "\n",
    "\u00a0",
    "|cmd",
    "%APPDATA%",
    "arn:aws:s3:::b",
    "main.tf:12",
]


@pytest.mark.parametrize("text", FORMULAS, ids=ascii)
def test_a_formula_cell_is_prefixed(text: str) -> None:
    assert csv_output.is_formula(text)
    assert csv_output.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN, ids=ascii)
def test_plain_text_is_untouched(text: str) -> None:
    assert not csv_output.is_formula(text)
    assert csv_output.neutralise(text) == text


def test_neutralise_non_text_values() -> None:
    assert csv_output.neutralise(None) == ""
    assert csv_output.neutralise(12) == "12"
    assert csv_output.neutralise(-12) == "'-12"


def test_hidden_formulas_survive_the_csv_round_trip_neutralised(mixed_result: ScanResult) -> None:
    """Through the real writer and reader: the prefix is kept, the cell text is intact."""
    hostile = Finding(
        check_id="code.test",
        status=Status.FAIL,
        severity=Severity.LOW,
        resource=Resource(id='\u00a0=HYPERLINK("http://evil.example","x")', type="\n@SUM(A1:A9)"),
        message=" ＝cmd|' /C calc'!A0",
        remediation='\u3000-2+3, "quoted"',
        title="plain, with a comma",
        provider="code",
    )
    row = dict(zip(HEADER, rows(replace(mixed_result, findings=[hostile]))[1], strict=True))
    assert row["resource_id"] == '\'\u00a0=HYPERLINK("http://evil.example","x")'
    assert row["resource_type"] == "'\n@SUM(A1:A9)"
    assert row["message"] == "' ＝cmd|' /C calc'!A0"
    assert row["remediation"] == '\'\u3000-2+3, "quoted"'
    assert row["title"] == "plain, with a comma"
