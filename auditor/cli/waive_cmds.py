"""`auditor waive add|list|remove` (risk acceptance) and `auditor baseline create`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from auditor.baseline import baseline_document
from auditor.cli.common import add_db_flag, open_store, output_stream
from auditor.clock import as_utc_datetime, utcnow
from auditor.errors import StoreError, UsageError
from auditor.outputs.table import make_console
from auditor.redact import redact_text
from auditor.waivers import MAX_WAIVER_DAYS, Waiver, load_waiver_file, parse_date, validate_waiver, waiver_from_row


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser("waive", help="risk acceptance: waivers with reason, approver and expiry")
    wsub = w.add_subparsers(dest="waive_command", metavar="ACTION")
    wsub.required = True

    add = wsub.add_parser("add", help="accept a risk: FAIL findings it matches become WAIVED until it expires")
    add.add_argument("--check", required=True, metavar="GLOB", help="check id or glob (e.g. 'iac.CKV_AWS_*')")
    add.add_argument(
        "--resource", default="*", metavar="PATTERN", help="glob over resource id or path (default: '*', every one)"
    )
    add.add_argument("--reason", required=True, metavar="TEXT", help="why the risk is accepted")
    add.add_argument("--approver", required=True, metavar="NAME", help="who accepted it")
    add.add_argument(
        "--expires", required=True, metavar="DATE", help=f"YYYY-MM-DD, at most {MAX_WAIVER_DAYS} days from today"
    )
    add_db_flag(add)
    add.set_defaults(func=cmd_waive_add)

    ls = wsub.add_parser("list", help="waivers in the database (and in waiver files given with --file)")
    ls.add_argument("--file", metavar="FILE", action="append", default=[], help="also validate and list this file")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    add_db_flag(ls)
    ls.set_defaults(func=cmd_waive_list)

    rm = wsub.add_parser("remove", help="delete a database waiver")
    rm.add_argument("waiver_id", metavar="ID", help="waiver id as `waive list` shows it (3 or db:3)")
    add_db_flag(rm)
    rm.set_defaults(func=cmd_waive_remove)

    b = sub.add_parser("baseline", help="baselines: gate CI only on findings that are new")
    bsub = b.add_subparsers(dest="baseline_command", metavar="ACTION")
    bsub.required = True
    create = bsub.add_parser("create", help="write the fingerprints of a run's FAIL findings to a file")
    create.add_argument("--output", required=True, metavar="FILE", help="baseline file to write (JSON)")
    create.add_argument("--run", default="latest", metavar="ID", help="run id, unique prefix or 'latest' (default)")
    add_db_flag(create)
    create.set_defaults(func=cmd_baseline_create)


def cmd_waive_add(args: argparse.Namespace) -> int:
    today = utcnow().date()
    expires = parse_date(args.expires, "--expires", "expires")
    validate_waiver(
        check=args.check,
        resource=args.resource,
        reason=args.reason,
        approver=args.approver,
        created=today,
        expires=expires,
        where="waive add",
    )
    if expires < today:
        raise UsageError(f"waive add: --expires {expires} is in the past")
    store = open_store(args, create=True)
    try:
        row = store.add_waiver(
            args.check.strip(),
            args.resource.strip(),
            redact_text(args.reason.strip()),
            args.approver.strip(),
            as_utc_datetime(today),
            as_utc_datetime(expires),
        )
    finally:
        store.close()
    w = waiver_from_row(row)
    print(f"waiver {w.id} added: {w.check} on {w.resource}, approved by {w.approver}, expires {w.expires}")
    return 0


def _waiver_row(w: Waiver, today: date) -> dict[str, Any]:
    return {**w.record(), "active": w.is_active(today), "line": w.line}


def cmd_waive_list(args: argparse.Namespace) -> int:
    today = utcnow().date()
    waivers: list[Waiver] = []
    for f in args.file:
        waivers.extend(load_waiver_file(Path(f)))
    db_path_given = bool(getattr(args, "db", None))
    try:
        store = open_store(args, readonly=True)
    except StoreError:
        if db_path_given or not args.file:
            raise
        store = None  # listing only files, and there is no database here: fine
    if store is not None:
        try:
            waivers.extend(waiver_from_row(r) for r in store.list_waivers())
        finally:
            store.close()
    rows = [_waiver_row(w, today) for w in waivers]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = make_console(sys.stdout)
    table = Table(title="Waivers")
    for col in ("Id", "Check", "Resource", "Reason", "Approver", "Created", "Expires", "State", "Source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        state = "[yellow]active[/]" if r["active"] else "[red]expired[/]"
        table.add_row(
            escape(r["id"]),
            escape(r["check"]),
            escape(r["resource"]),
            escape(r["reason"]),
            escape(r["approver"]),
            r["created"],
            r["expires"],
            state,
            escape(r["source"]),
        )
    console.print(table)
    active = sum(1 for r in rows if r["active"])
    console.print(f"{len(rows)} waivers: {active} active, {len(rows) - active} expired")
    return 0


def cmd_waive_remove(args: argparse.Namespace) -> int:
    text = str(args.waiver_id).strip()
    number = text[3:] if text.startswith("db:") else text
    if not number.isdigit():
        raise UsageError(f"waiver id {text!r} is not a database waiver id (like 3 or db:3); file waivers live in files")
    store = open_store(args)
    try:
        removed = store.remove_waiver(int(number))
    finally:
        store.close()
    if not removed:
        raise UsageError(f"no waiver db:{number} in the database (see `auditor waive list`)")
    print(f"waiver db:{number} removed")
    return 0


def cmd_baseline_create(args: argparse.Namespace) -> int:
    store = open_store(args, readonly=True)
    try:
        run = store.get_run(args.run)
        findings = store.findings_for_run(run.id)
    finally:
        store.close()
    doc = baseline_document(run, findings, utcnow())
    with output_stream(args.output) as stream:
        json.dump(doc, stream, indent=2)
        stream.write("\n")
    print(f"baseline of run {run.id}: {len(doc['findings'])} failing findings -> {args.output}", file=sys.stderr)
    return 0
