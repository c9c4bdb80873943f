"""`auditor prune`, `backup`, `db check`, `merge`: keeping the history healthy."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from auditor.cli.common import add_catalog_dir_flag, add_db_flag, open_store
from auditor.clock import utcnow
from auditor.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("prune", help="delete runs older than N days (keeps evidence in use and open findings)")
    p.add_argument("--keep-days", type=int, metavar="N", help="default: retention.keep_days of --config")
    p.add_argument("--config", metavar="FILE", help="audit.yaml: its retention and database settings")
    p.add_argument("--vacuum", action="store_true", help="also give the freed space back to the file system")
    add_db_flag(p)
    p.set_defaults(func=cmd_prune)

    b = sub.add_parser("backup", help="a consistent copy of the database, safe while a scan is running")
    b.add_argument("target", metavar="FILE")
    b.add_argument("--force", action="store_true", help="replace FILE if it exists")
    add_db_flag(b)
    b.set_defaults(func=cmd_backup)

    d = sub.add_parser("db", help="database maintenance")
    dsub = d.add_subparsers(dest="db_command", metavar="SUBCOMMAND")
    dsub.required = True
    c = dsub.add_parser("check", help="integrity check (SQLite's and auditor's own invariants)")
    add_db_flag(c)
    c.set_defaults(func=cmd_db_check)

    m = sub.add_parser("merge", help="merge the newest run of each shard database into one run of --db")
    m.add_argument("sources", nargs="+", metavar="DB")
    add_db_flag(m)
    add_catalog_dir_flag(m)
    m.add_argument("--format", choices=("table", "json"), default="table")
    m.set_defaults(func=cmd_merge)


def cmd_prune(args: argparse.Namespace) -> int:
    from auditor.maintenance import prune
    from auditor.store import Store

    keep_days = args.keep_days
    if args.config:
        from auditor.config_file import db_path_for, load_config

        config = load_config(args.config)
        keep_days = keep_days if keep_days is not None else config.retention_days
        store = Store.open(db_path_for(args.db, config), create=False)
    else:
        store = open_store(args)
    if keep_days is None:
        store.close()
        raise UsageError("give --keep-days N, or a --config whose retention sets keep_days")
    args.keep_days = keep_days
    try:
        result = prune(store, keep_days, utcnow())
        if args.vacuum:
            store.vacuum()
    finally:
        store.close()
    print(
        f"pruned {result.runs} runs older than {args.keep_days} days: {result.observations} observation intervals "
        f"(with their details and evidence), {result.findings} closed findings and {result.texts} check texts"
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from auditor.maintenance import backup

    store = open_store(args, readonly=True)
    try:
        size = backup(store, Path(args.target), force=args.force)
    finally:
        store.close()
    print(f"backup written to {args.target} ({size:,} bytes)")
    return 0


def cmd_db_check(args: argparse.Namespace) -> int:
    from auditor.maintenance import check_database

    store = open_store(args, readonly=True)
    try:
        report = check_database(store)
    finally:
        store.close()
    if report.ok:
        print(f"{store.path}: ok")
        return 0
    for problem in report.problems:
        print(f"{store.path}: {problem}", file=sys.stderr)
    return 1


def cmd_merge(args: argparse.Namespace) -> int:
    from auditor.maintenance import merge

    store = open_store(args, create=True)
    try:
        result = merge(store, [Path(s) for s in args.sources], utcnow())
    finally:
        store.close()
    if args.format == "json":
        json.dump(
            {"run": result.run.to_dict(), "findings": result.findings,
             "sources": [{"database": str(p), "run": r} for p, r in result.sources]},
            sys.stdout, indent=2,
        )
        sys.stdout.write("\n")
    else:
        print(f"merged {len(result.sources)} shard runs into run {result.run.id} ({result.findings} findings)")
    return 0
