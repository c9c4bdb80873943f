"""`--format table`: every finding on one line, worst first, nothing a terminal would interpret."""

from __future__ import annotations

import io
from dataclasses import replace

from auditor.engine import ScanResult
from auditor.models import Resource, Status
from auditor.outputs import FORMATS


def render(result: ScanResult) -> str:
    stream = io.StringIO()
    FORMATS["table"](result, stream)
    return stream.getvalue()


def test_every_finding_is_one_line_worst_first(mixed_result: ScanResult) -> None:
    text = render(mixed_result)
    lines = text.splitlines()
    assert lines[0] == f"Findings of run {mixed_result.run.id}"
    assert lines[1].split() == ["STATUS", "SEVERITY", "CHECK", "RESOURCE", "MESSAGE"]
    rows = lines[2 : 2 + len(mixed_result.findings)]
    assert [r.split()[0] for r in rows] == sorted(
        (r.split()[0] for r in rows), key=["FAIL", "ERROR", "WAIVED", "SKIPPED", "PASS"].index
    )
    assert len([r for r in rows if r.startswith("FAIL")]) == sum(
        1 for f in mixed_result.findings if f.status is Status.FAIL
    )
    assert "infra/main.tf:12" in text and "estate/inventory.yaml:" in text
    assert "\x1b" not in text  # not a terminal: no colour


def test_hostile_names_are_shown_escaped(mixed_result: ScanResult) -> None:
    evil = "\x1b[2J\x1b]0;pwned\x07bucket\nFAIL fake-row"
    f = mixed_result.findings[0]
    hostile = replace(f, resource=Resource(id=evil, type="t"), message=f"about {evil}")
    text = render(replace(mixed_result, findings=[hostile]))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in text and "\\n" in text
    assert len(text.splitlines()) == 3 or not text.splitlines()[3].startswith("FAIL fake-row")
