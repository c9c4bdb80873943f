"""`auditor runs`, `diff`, `history`, `trend`: questions answered by SQL over the store."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

from rich.markup import escape
from rich.table import Table

from auditor.cli.common import add_db_flag, add_framework_flags, check_framework, open_store
from auditor.clock import parse_instant
from auditor.errors import UsageError
from auditor.models import iso_z
from auditor.outputs.table import STATUS_STYLE, make_console


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("runs", help="list runs (id, time, status, counts)")
    add_db_flag(p)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_runs)

    d = sub.add_parser("diff", help="new / resolved / changed findings between two runs (default: last two)")
    d.add_argument("run_a", nargs="?", metavar="RUN_A")
    d.add_argument("run_b", nargs="?", metavar="RUN_B")
    add_db_flag(d)
    d.add_argument("--format", choices=("table", "json"), default="table")
    d.set_defaults(func=cmd_diff)

    h = sub.add_parser("history", help="one finding's life: first seen, status changes, resolved")
    h.add_argument("fingerprint", metavar="FINGERPRINT", help="a fingerprint or a unique prefix of one")
    add_db_flag(h)
    h.add_argument("--format", choices=("table", "json"), default="table")
    h.set_defaults(func=cmd_history)

    t = sub.add_parser("trend", help="pass rate per control over time")
    add_framework_flags(t, help="only this framework")
    t.add_argument("--since", metavar="DATE", help="only runs started on or after DATE (ISO-8601)")
    add_db_flag(t)
    t.add_argument("--format", choices=("table", "json"), default="table")
    t.set_defaults(func=cmd_trend)


def _dump(obj: Any) -> int:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    store = open_store(args, readonly=True)
    runs = store.list_runs(args.limit)
    if args.format == "json":
        return _dump([{**run.to_dict(), "summary": summary, "error": run.error} for run, summary in runs])
    console = make_console(sys.stdout)
    table = Table(title=f"Runs in {store.path}")
    for col in ("Run", "Started", "Status", "Findings", "PASS", "FAIL", "ERROR", "WAIVED", "Targets"):
        table.add_column(col, overflow="fold")
    for run, summary in runs:
        by = summary.get("by_status", {})
        table.add_row(
            run.id,
            iso_z(run.started_at),
            run.status.value,
            str(summary.get("total", "-")),
            *(str(by.get(k, "-")) for k in ("PASS", "FAIL", "ERROR", "WAIVED")),
            escape(", ".join(run.targets)),
        )
    console.print(table)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    store = open_store(args, readonly=True)
    if args.run_a and args.run_b:
        a, b = store.get_run(args.run_a), store.get_run(args.run_b)
    elif args.run_a:
        raise UsageError("give two runs, or none for the last two")
    else:
        last = store.stored_runs(2)
        if len(last) < 2:
            raise UsageError("diff needs two stored runs; this database has fewer")
        a, b = last
    diff = store.diff(a, b)
    groups = {
        "new": diff.new,
        "resolved": diff.resolved,
        "changed": diff.changed,
        # Failing in A; B did not look again (target not scanned, or the check ended in ERROR).
        "not_rechecked": diff.not_rechecked,
    }
    if args.format == "json":
        return _dump(
            {
                "run_a": a.id,
                "run_b": b.id,
                **{k: [vars(c) for c in v] for k, v in groups.items()},
            }
        )
    console = make_console(sys.stdout)
    console.print(
        f"Diff {a.id} -> {b.id}: {len(diff.new)} new, {len(diff.resolved)} resolved, {len(diff.changed)} changed, "
        f"{len(diff.not_rechecked)} not re-checked"
    )
    titles = {"not_rechecked": "Not re-checked (the later run did not look again: not resolved)"}
    for name, changes in groups.items():
        if not changes:
            continue
        table = Table(title=titles.get(name, name.capitalize()))
        for col in ("Fingerprint", "Check", "Resource", "Severity", "Before", "After", "Target"):
            table.add_column(col, overflow="fold")
        for c in changes:
            table.add_row(
                c.fingerprint[:12],
                escape(c.check_id),
                escape(c.resource_id),
                c.severity,
                c.before or "-",
                c.after or "-",
                escape(c.target or "-"),
            )
        console.print(table)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    store = open_store(args, readonly=True)
    life, intervals = store.history(args.fingerprint)
    if args.format == "json":
        return _dump({"finding": life, "intervals": intervals})
    console = make_console(sys.stdout)
    console.print(f"[bold]{escape(life['check_id'])}[/] on {escape(life['resource_id'])}")
    console.print(f"fingerprint {life['fingerprint']}")
    console.print(f"first seen {life['first_seen_at']} (run {life['first_seen_run']})")
    console.print(f"last seen  {life['last_seen_at']} (run {life['last_seen_run']})")
    if life["resolved_at"]:
        console.print(f"resolved   {life['resolved_at']} (run {life['resolved_run']})")
    else:
        console.print(f"current    {life['status']}")
    table = Table(title="Status over time")
    for col in ("From run", "From", "To run", "To", "Runs", "Status", "Severity", "Message"):
        table.add_column(col, overflow="fold")
    for i in intervals:
        style = STATUS_STYLE.get(i["status"], "")
        table.add_row(
            i["first_run"] or "-",
            i["first_at"] or "-",
            i["last_run"] or "-",
            i["last_at"] or "-",
            str(i["runs"]),
            f"[{style}]{i['status']}[/]",
            i["severity"],
            escape(i["message"]),
        )
    console.print(table)
    return 0


def cmd_trend(args: argparse.Namespace) -> int:
    check_framework(args.framework)
    store = open_store(args, readonly=True)
    since = parse_instant(args.since) if args.since else None
    rows = store.trend(args.framework, since)
    # Pass rate per control = share of runs in which the control passed.
    per: dict[tuple[str, str], list[str]] = defaultdict(list)
    runs: list[str] = []
    for r in rows:
        per[(r["framework"], r["control_id"])].append(r["status"])
        if not runs or runs[-1] != r["run_id"]:
            runs.append(r["run_id"])
    summary = [
        {
            "framework": fw,
            "control": cid,
            "runs": len(statuses),
            "passed": statuses.count("PASS"),
            "pass_rate": round(statuses.count("PASS") / len(statuses), 4) if statuses else None,
            "statuses": statuses,
        }
        for (fw, cid), statuses in per.items()
    ]
    if args.format == "json":
        return _dump({"runs": runs, "controls": summary})
    console = make_console(sys.stdout)
    table = Table(title=f"Control pass rate over {len(runs)} runs")
    for col in ("Control", "Runs", "Passed", "Pass rate", "Latest", "Timeline (oldest -> newest)"):
        table.add_column(col, overflow="fold")
    marks = {"PASS": "[green]+[/]", "FAIL": "[red]x[/]", "ERROR": "[magenta]![/]"}
    for s in summary:
        statuses = s["statuses"]
        assert isinstance(statuses, list)
        if all(st in ("MANUAL", "NOT_TESTED") for st in statuses):
            continue
        rate = f"{100 * s['pass_rate']:.0f} %" if s["pass_rate"] is not None else "-"
        timeline = "".join(marks.get(st, ".") for st in statuses[-40:])
        table.add_row(
            f"{s['framework']}:{s['control']}", str(s["runs"]), str(s["passed"]), rate, statuses[-1], timeline
        )
    console.print(table)
    return 0
