"""`auditor controls` and `auditor checks`: what the catalogs and providers offer."""

from __future__ import annotations

import argparse
import json
import sys

from rich.markup import escape
from rich.table import Table

from auditor.cli.common import add_catalog_dir_flag, add_framework_flags
from auditor.frameworks import frameworks_for, load_catalog
from auditor.outputs.table import make_console
from auditor.providers import discover_providers


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("controls", help="framework catalog with automated and manual coverage")
    add_framework_flags(p, help="one framework (default: every installed one)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_controls)
    c = sub.add_parser("checks", help="every check with severity and mapped controls")
    c.add_argument("--provider", help="only this provider's checks")
    c.add_argument("--format", choices=("table", "json"), default="table")
    add_catalog_dir_flag(c)
    c.set_defaults(func=cmd_checks)


def cmd_controls(args: argparse.Namespace) -> int:
    frameworks = frameworks_for([args.framework]) if args.framework else list(load_catalog().values())
    rows = [
        {
            "framework": fw.id,
            "id": c.id,
            "title": c.title,
            "category": c.category,
            "coverage": "automated" if c.automated else "manual",
            "checks": list(c.checks),
            "supporting": list(c.supporting),
            "rationale": dict(c.rationale),
            "manual_evidence": [{"id": i.id, "title": i.title} for i in c.manual_evidence],
        }
        for fw in frameworks
        for c in fw.controls
    ]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = make_console(sys.stdout)
    for fw in frameworks:
        table = Table(title=fw.name)
        for col in ("Control", "Title", "Coverage", "Automated checks"):
            table.add_column(col, overflow="fold")
        for c in fw.controls:
            cov = f"automated ({len(c.checks)})" if c.automated else "manual evidence"
            table.add_row(c.id, escape(c.title), cov, escape(", ".join(c.checks)))
        console.print(table)
        auto = sum(1 for c in fw.controls if c.automated)
        console.print(f"{fw.id}: {len(fw.controls)} controls, {auto} automated, {len(fw.controls) - auto} manual")
    return 0


def cmd_checks(args: argparse.Namespace) -> int:
    catalog = list(load_catalog().values())
    rows = []
    for name, cls in discover_providers().items():
        if args.provider and name != args.provider:
            continue
        for check in cls().checks():
            refs = [c.ref for fw in catalog for c in fw.controls if c.matches(check.id)]
            rows.append({**check.to_dict(), "controls": refs})
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = make_console(sys.stdout)
    table = Table(title="Checks")
    for col in ("Check", "Severity", "Title", "Controls"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(escape(r["id"]), r["severity"], escape(r["title"]), ", ".join(r["controls"]))
    console.print(table)
    console.print(f"{len(rows)} checks")
    return 0
