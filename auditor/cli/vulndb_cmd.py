"""`auditor vulndb import|status`: the offline OSV vulnerability database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from auditor.clock import utcnow
from auditor.models import iso_z
from auditor.vulndb import VulnDB, default_db_path, import_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("vulndb", help="offline vulnerability database (OSV): import, status")
    vsub = p.add_subparsers(dest="vulndb_command", metavar="ACTION", parser_class=type(p))
    vsub.required = True
    imp = vsub.add_parser("import", help="load OSV JSON: a directory, a .json file or an ecosystem zip export")
    imp.add_argument("path", metavar="PATH")
    _add_db_flag(imp)
    imp.set_defaults(func=cmd_import)
    st = vsub.add_parser("status", help="ecosystems, advisory counts and age of the database")
    _add_db_flag(st)
    st.add_argument("--format", choices=("table", "json"), default="table")
    st.set_defaults(func=cmd_status)


def _add_db_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--vulndb", metavar="FILE", help="database file (default: $AUDITOR_VULNDB, else ~/.cache/auditor/vulndb.sqlite)"
    )


def _db_path(args: argparse.Namespace) -> Path:
    return Path(args.vulndb) if args.vulndb else default_db_path()


def cmd_import(args: argparse.Namespace) -> int:
    path = _db_path(args)
    with VulnDB.open(path, create=True) as db:
        stats = import_path(db, Path(args.path), utcnow())
    print(
        f"imported {stats.advisories} advisories from {args.path} into {path} "
        f"({stats.withdrawn} withdrawn, {stats.skipped} skipped)"
    )
    if stats.skipped:
        print(f"auditor: warning: {stats.skipped} input(s) skipped, for example:", file=sys.stderr)
        for w in stats.warnings[:5]:
            print(f"  {w}", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    now = utcnow()
    with VulnDB.open(_db_path(args)) as db:
        st = db.status()
    age = st.age_days(now)
    if args.format == "json":
        doc = {
            "path": str(st.path),
            "advisories": st.advisories,
            "imports": st.imports,
            "last_import_at": iso_z(st.last_import_at) if st.last_import_at else None,
            "age_days": round(age, 2) if age is not None else None,
            "ecosystems": [
                {"ecosystem": e.ecosystem, "advisories": e.advisories, "packages": e.packages,
                 "newest_modified": e.newest_modified}
                for e in st.ecosystems
            ],
        }
        print(json.dumps(doc, indent=2))
        return 0
    print(f"database:    {st.path}")
    print(f"advisories:  {st.advisories} ({st.imports} imports)")
    if st.last_import_at is not None and age is not None:
        print(f"last import: {iso_z(st.last_import_at)} ({age:.1f} days ago)")
    else:
        print("last import: never")
    if st.ecosystems:
        width = max(len("ecosystem"), *(len(e.ecosystem) for e in st.ecosystems))
        print(f"\n{'ecosystem':<{width}}  {'advisories':>10}  {'packages':>8}  newest advisory change")
        for e in st.ecosystems:
            print(f"{e.ecosystem:<{width}}  {e.advisories:>10}  {e.packages:>8}  {e.newest_modified or '-'}")
    return 0
