"""`--format table`: a human summary with rich (colour on a terminal, plain when piped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from auditor.models import ControlStatus, Status

if TYPE_CHECKING:
    from auditor.engine import ScanResult

STATUS_STYLE = {
    "PASS": "green",
    "FAIL": "bold red",
    "ERROR": "bold magenta",
    "SKIPPED": "dim",
    "WAIVED": "yellow",
    "NOT_TESTED": "dim",
    "MANUAL": "cyan",
}
# Every control that is not passing, gaps included: a control with no automated test and no
# valid manual evidence is not evidenced, whatever the findings say.
NOT_PASSING_LABELS = {
    ControlStatus.FAIL: "FAIL",
    ControlStatus.ERROR: "ERROR (could not be evaluated)",
    ControlStatus.NOT_TESTED: "NOT TESTED (no automated check produced a result)",
    ControlStatus.MANUAL: "GAP (manual control without valid evidence)",
}
_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WAIVED: 2, Status.SKIPPED: 3, Status.PASS: 4}


def make_console(stream: TextIO) -> Console:
    return Console(file=stream, highlight=False, soft_wrap=False, width=None if stream.isatty() else 160)


def write(result: ScanResult, stream: TextIO) -> None:
    console = make_console(stream)
    table = Table(title=f"Findings of run {result.run.id}", show_lines=False, expand=False)
    for col in ("Status", "Severity", "Check", "Resource", "Message"):
        table.add_column(col, overflow="fold")
    ordered = sorted(result.findings, key=lambda f: (_ORDER[f.status], -f.severity.rank, f.check_id, f.resource.id))
    for f in ordered:
        where = f.resource.id
        if f.resource.path and f.resource.line:
            where = f"{f.resource.path}:{f.resource.line}"
        table.add_row(
            f"[{STATUS_STYLE[f.status.value]}]{f.status.value}[/]",
            f.severity.value,
            escape(f.check_id),
            escape(where),
            escape(f.message),
        )
    console.print(table)
    by = result.summary["by_status"]
    assert isinstance(by, dict)
    parts = [f"[{STATUS_STYLE[k]}]{k} {v}[/]" for k, v in by.items() if v]
    console.print(f"Run {result.run.id} ({result.run.status}): {result.summary['total']} findings: " + ", ".join(parts))
    not_passing = [c for c in result.controls if c.status is not ControlStatus.PASS]
    if not_passing:
        console.print(f"Controls not passing: {len(not_passing)} of {len(result.controls)}")
        for status, label in NOT_PASSING_LABELS.items():
            refs = [c.ref for c in not_passing if c.status is status]
            if refs:
                console.print(f"  [{STATUS_STYLE[status.value]}]{label}[/] ({len(refs)}): " + ", ".join(refs))
