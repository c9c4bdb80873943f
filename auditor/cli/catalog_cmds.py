"""`auditor controls`, `auditor checks` and `auditor providers`: what the catalogs and providers offer."""

from __future__ import annotations

import argparse
import json
import sys

from rich.markup import escape
from rich.table import Table

from auditor.cli.common import add_catalog_dir_flag, add_framework_flags
from auditor.errors import UsageError
from auditor.frameworks import catalog_problems, frameworks_for, load_catalog
from auditor.outputs.table import make_console
from auditor.providers import registry


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("controls", help="framework catalog with automated and manual coverage")
    add_framework_flags(p, help="one framework (default: every installed one)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--validate",
        action="store_true",
        help="check the installed catalogs against the installed providers: every check reference resolves, "
        "every check maps to a control (exit 1 on a problem)",
    )
    p.set_defaults(func=cmd_controls)
    c = sub.add_parser("checks", help="every check with severity and mapped controls")
    c.add_argument("--provider", help="only this provider's checks")
    c.add_argument("--format", choices=("table", "json"), default="table")
    add_catalog_dir_flag(c)
    c.set_defaults(func=cmd_checks)
    p = sub.add_parser(
        "providers", help="installed providers: version, distribution, checks, flags and whether they load"
    )
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_providers)


def cmd_controls(args: argparse.Namespace) -> int:
    if args.validate:
        return validate_catalogs()
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
    reg = registry()
    if args.provider:
        if args.provider not in reg.names():
            raise UsageError(f"unknown provider {args.provider!r} (installed: {', '.join(reg.names())})")
        classes = {args.provider: reg.load(args.provider)}  # only this one is imported
    else:
        classes = reg.load_all()[0]
    for cls in classes.values():
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


def validate_catalogs() -> int:
    """`auditor controls --validate`: every installed framework against every loadable provider."""
    frameworks = list(load_catalog().values())
    loaded, failed = registry().load_all()
    ids: set[str] = set()
    patterns: list[str] = []
    for cls in loaded.values():
        provider = cls()
        ids.update(c.id for c in provider.checks())
        patterns.extend(provider.tool_id_patterns())
    problems = catalog_problems(frameworks, ids, patterns)
    for name, why in sorted(failed.items()):
        print(f"auditor: provider {name} cannot be loaded, its checks were not validated: {why}", file=sys.stderr)
    for problem in problems:
        print(problem)
    controls = sum(len(fw.controls) for fw in frameworks)
    verdict = f"{len(problems)} problem(s)" if problems else "every reference resolves and every check is mapped"
    print(f"{len(frameworks)} frameworks, {controls} controls, {len(ids)} checks of {len(loaded)} providers: {verdict}")
    return 1 if problems else 0


def provider_rows() -> list[dict[str, object]]:
    """One row per registered provider; one that cannot be imported or built says why."""
    rows: list[dict[str, object]] = []
    for info in registry().info():
        row: dict[str, object] = {
            "name": info.name,
            "version": info.version,
            "distribution": info.distribution,
            "entry_point": info.value,
            "title": info.cls.title if info.cls is not None else None,
            "checks": None,
            "flags": [],
            "config_keys": [],
            "status": "ok",
            "error": info.error,
        }
        if info.cls is not None:
            try:
                row["checks"] = len(info.cls().checks())
            except Exception as exc:  # noqa: BLE001 - a plugin's constructor may raise anything
                row["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            settings = info.cls.declared_settings()
            row["flags"] = [f for s in settings for f in ((s.flag,) if s.flag else ()) + s.aliases]
            row["config_keys"] = [f"targets.{k}" for k in (info.name, *info.cls.config_aliases)]
        if row["error"] is not None:
            row["status"] = "unavailable"
        rows.append(row)
    return rows


def cmd_providers(args: argparse.Namespace) -> int:
    rows = provider_rows()
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = make_console(sys.stdout)
    table = Table(title="Providers")
    for col in ("Provider", "Version", "Distribution", "Checks", "Flags", "Status"):
        table.add_column(col, overflow="fold")
    for r in rows:
        flags = r["flags"]
        assert isinstance(flags, list)
        status = "ok" if r["status"] == "ok" else f"unavailable: {r['error']}"
        table.add_row(
            *(
                escape(str(v))
                for v in (
                    r["name"],
                    r["version"] or "-",
                    r["distribution"] or "-",
                    "-" if r["checks"] is None else r["checks"],
                    " ".join(flags) or "-",
                    status,
                )
            )
        )
    console.print(table)
    return 0
