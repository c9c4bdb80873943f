"""CSV: one row per finding, stable columns, formula injection neutralised."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

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


def test_neutralise_truth_table() -> None:
    cases = {"=1": "'=1", "+1": "'+1", "-1": "'-1", "@a": "'@a", "a=1": "a=1", "": "", "1-2": "1-2"}
    assert {k: csv_output.neutralise(k) for k in cases} == cases
    assert csv_output.neutralise(None) == ""
    assert csv_output.neutralise(12) == "12"
