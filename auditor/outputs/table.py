"""`--format table`: one line per finding, then a summary (colour on a terminal, plain when piped)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TextIO

from rich.console import Console

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


_PRINTABLE = re.compile(r"[^\x20-\x7e\xa0-\u2027\u202a-\U0010ffff]")
ANSI = {"PASS": "32", "FAIL": "1;31", "ERROR": "1;35", "SKIPPED": "2", "WAIVED": "33"}
MAX_CHECK_WIDTH = 48
MAX_RESOURCE_WIDTH = 64


def _clean(text: str) -> str:
    """One line, no terminal control sequences: a resource named with an escape code or a newline
    is shown escaped, never interpreted."""
    if _PRINTABLE.search(text) is None:
        return text
    return _PRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def write(result: ScanResult, stream: TextIO) -> None:
    """One line per finding, aligned columns, worst first. Written directly (a rich table of 100,000
    rows takes a minute; this takes a fraction of a second), coloured only on a terminal."""
    console = make_console(stream)
    colour = stream.isatty()
    ordered = sorted(result.findings, key=lambda f: (_ORDER[f.status], -f.severity.rank, f.check_id, f.resource.id))
    rows = []
    for f in ordered:
        r = f.resource
        where = f"{r.path}:{r.line}" if r.path and r.line else (r.path if r.path and r.id == r.path else r.id)
        rows.append((f.status.value, f.severity.value, _clean(f.check_id), _clean(where), _clean(f.message)))
    check_w = min(MAX_CHECK_WIDTH, max([len("CHECK"), *(len(r[2]) for r in rows)]))
    where_w = min(MAX_RESOURCE_WIDTH, max([len("RESOURCE"), *(len(r[3]) for r in rows)]))
    out = [f"Findings of run {result.run.id}", f"{'STATUS':<7}  {'SEVERITY':<8}  {'CHECK':<{check_w}}  "
           f"{'RESOURCE':<{where_w}}  MESSAGE"]
    for status, severity, check, where, message in rows:
        shown = f"\x1b[{ANSI[status]}m{status:<7}\x1b[0m" if colour else f"{status:<7}"
        out.append(f"{shown}  {severity:<8}  {check:<{check_w}}  {where:<{where_w}}  {message}".rstrip())
    stream.write("\n".join(out) + "\n")
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
