"""`auditor report`, `auditor verify`, `auditor evidence add|list`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from auditor.cli.common import add_catalog_dir_flag, add_db_flag, add_framework_flags, check_framework, open_store
from auditor.clock import utcnow
from auditor.config import resolve_db_path
from auditor.outputs.table import make_console
from auditor.report.manual_evidence import add_manual_evidence, evidence_rows
from auditor.report.pack import verify_pack
from auditor.safeio import show_path
from auditor.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("report", help="evidence report for a framework: HTML, PDF and/or evidence pack")
    add_framework_flags(r, required=True, help="framework id (installed, from --catalog-dir, or stored with the run)")
    r.add_argument(
        "--run", metavar="ID", help="run id, unique prefix or 'latest' (default: latest, or the latest run in --period)"
    )
    r.add_argument("--period", metavar="START..END", help="SOC 2 Type II period, e.g. 2026-01-01..2026-03-31")
    r.add_argument("--html", metavar="FILE", help="write the HTML report here")
    r.add_argument("--pdf", metavar="FILE", help="write the PDF report here (findings attached as CSV/JSON)")
    r.add_argument("--pack", metavar="FILE.zip", help="write the evidence pack (zip with manifest) here")
    r.add_argument("--sign-key", metavar="KEY", help="Ed25519 private key (PEM) to sign the pack's manifest")
    add_db_flag(r)
    r.set_defaults(func=cmd_report)

    v = sub.add_parser(
        "verify",
        help="check an evidence pack (exit 0 intact and authenticated, 1 tampered or different from the database, "
        "2 unusable, 4 intact but not authenticated)",
    )
    v.add_argument("pack", metavar="PACK.zip")
    v.add_argument("--public-key", metavar="K", help="Ed25519 public key (PEM) the pack must be signed with")
    v.add_argument(
        "--db", metavar="PATH", help="compare the pack finding by finding with the database it was generated from"
    )
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.set_defaults(func=cmd_verify)

    e = sub.add_parser("evidence", help="manual evidence for controls no scan can test")
    esub = e.add_subparsers(dest="evidence_command", metavar="add|list")
    esub.required = True
    a = esub.add_parser("add", help="store a file as evidence for a control")
    a.add_argument("control", metavar="FRAMEWORK:CONTROL", help="e.g. soc2:CC1.1 or gdpr:Art.35")
    a.add_argument("file", metavar="FILE")
    a.add_argument(
        "--item",
        metavar="ITEM",
        help="which expected evidence item of the control this file covers (see `auditor controls`); "
        "a manual control passes only when every item is covered",
    )
    a.add_argument("--owner", required=True, help="person or team responsible")
    a.add_argument("--expires", metavar="DATE", required=True, help="ISO date from which the evidence no longer counts")
    a.add_argument("--approver", metavar="NAME", help="who reviewed and approved this evidence")
    a.add_argument("--note", default="", help="what the file shows")
    add_db_flag(a)
    add_catalog_dir_flag(a)
    a.set_defaults(func=cmd_evidence_add)
    ls = esub.add_parser("list", help="manual evidence on file")
    add_framework_flags(ls, help="only this framework")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    add_db_flag(ls)
    ls.set_defaults(func=cmd_evidence_list)


def cmd_report(args: argparse.Namespace) -> int:
    from auditor.report import parse_period, write_report

    period = parse_period(args.period) if args.period else None
    if not (args.html or args.pdf or args.pack):
        from auditor.errors import UsageError

        raise UsageError("give at least one of --html, --pdf, --pack")
    store = open_store(args, readonly=True)
    try:
        out = write_report(
            store,
            args.framework,
            run_ref=args.run,
            period=period,
            html_path=Path(args.html) if args.html else None,
            pdf_path=Path(args.pdf) if args.pdf else None,
            pack_path=Path(args.pack) if args.pack else None,
            sign_key_path=Path(args.sign_key) if args.sign_key else None,
        )
    finally:
        store.close()
    s = out.model.summary
    print(
        f"{args.framework} report for run {out.model.run.id}: {s.control_status['PASS']}/{s.controls_total} controls "
        f"pass, {s.control_status['FAIL']} fail, {s.control_status['GAP']} gaps; {s.findings_total} findings"
    )
    for label, path in (("html", out.html), ("pdf", out.pdf), ("pack", out.pack)):
        if path:
            print(f"wrote {label}: {path}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """0 intact and authenticated; 1 tampered or different from the database; 2 unusable;
    4 intact but not authenticated (unsigned, or no key and no database)."""
    result = verify_pack(Path(args.pack), Path(args.public_key) if args.public_key else None)
    if args.db:
        from auditor.report.dbcheck import compare_with_database

        store = Store.open(resolve_db_path(args.db), create=False, readonly=True)
        try:
            result.database_differences = compare_with_database(store, result.manifest, result.parts)
        finally:
            store.close()
        result.database = "differs" if result.database_differences else "matches"
    if args.format == "json":
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return result.exit_code
    checks = [f"{len(result.verified)} file(s) verified"]
    checks.append("parts consistent" if not result.inconsistencies else "parts DISAGREE")
    sig = {
        "valid": f"signature valid (key sha256 {(result.key_id or '')[:16]}…)",
        "invalid": "signature INVALID",
        "missing": "signature MISSING",
        "unsigned": "unsigned",
        "not checked": "signed, signature not checked (no --public-key)",
    }[result.signature]
    checks.append(sig)
    if result.database != "not checked":
        checks.append(f"database {'matches' if result.database == 'matches' else 'DIFFERS'}")
    print(f"{args.pack}: {result.verdict}: " + "; ".join(checks))
    for problem in result.problems():
        print(f"  {problem}")
    if result.directories:
        print(f"  note: directory entries ignored (a re-zipped pack): {len(result.directories)}")
    if result.exit_code == 4:
        print(
            f"  not authenticated: {result.unauthenticated_reason()}. Verify with --public-key KEY (a signed pack) "
            "or --db DATABASE (the database it was generated from)."
        )
    return result.exit_code


def cmd_evidence_add(args: argparse.Namespace) -> int:
    store = open_store(args, create=True)
    try:
        row = add_manual_evidence(
            store,
            args.control,
            Path(args.file),
            owner=args.owner,
            note=args.note,
            expires=args.expires,
            now=utcnow(),
            item=args.item,
            approver=args.approver,
        )
    finally:
        store.close()
    expiry = row["expires_at"] or "no expiry"
    item = f" item {row['item']}" if row["item"] else ""
    approver = f", approved by {row['approver']}" if row["approver"] else ""
    print(
        f"stored evidence #{row['id']} for {row['framework']}:{row['control_id']}{item}: {show_path(row['filename'])} "
        f"({row['size']} bytes, sha256 {row['sha256']}), owner {row['owner']}{approver}, expires {expiry}"
    )
    return 0


def cmd_evidence_list(args: argparse.Namespace) -> int:
    check_framework(args.framework)
    store = open_store(args, readonly=True)
    try:
        rows = evidence_rows(store, args.framework, utcnow())
    finally:
        store.close()
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = make_console(sys.stdout)
    table = Table(title="Manual evidence")
    for col in (
        "#",
        "Control",
        "Item",
        "File",
        "Size",
        "SHA-256",
        "Owner",
        "Approver",
        "Added",
        "Expires",
        "Valid",
        "Note",
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["control"],
            escape(r["item"] or "-"),
            escape(r["filename"]),
            str(r["size"]),
            r["sha256"][:16],
            escape(r["owner"]),
            escape(r["approver"] or "-"),
            r["added_at"][:10],
            (r["expires_at"] or "-")[:10],
            "[green]valid[/]" if r["valid"] else "[red]expired[/]",
            escape(r["note"]),
        )
    console.print(table)
    return 0
