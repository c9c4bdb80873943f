"""The store alone owns SQL (issue 14): no module outside `auditor.store` (and the offline
vulnerability database `auditor.vulndb`, another database; and the image provider's reader
of an image's own rpmdb.sqlite) imports sqlite3 or sqlite-utils, lazily or not, or runs SQL
through `.execute(` / `.query(` or the store's connection."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "auditor"
# Packages that own a database; demo_data is sample content the demo scans, not auditor's code.
OWNERS = ("store", "vulndb")
# Modules that read a foreign SQLite file, never auditor's own: an image's rpmdb.sqlite (issue 16).
FOREIGN_DATABASE_READERS = ("providers/image/rpmdb.py",)
SKIPPED = ("demo_data",)
DRIVERS = {"sqlite3", "sqlite_utils"}
SQL_CALLS = {"execute", "executemany", "executescript", "query"}
CONNECTION_ATTRS = {"conn"}


def sql_fence_violations(package: Path) -> list[str]:
    """`path:line: what` for every import of a SQLite driver and every SQL call outside the owners."""
    problems: list[str] = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] in OWNERS + SKIPPED or rel.as_posix() in FOREIGN_DATABASE_READERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):  # every node: imports inside functions count too
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                problems += [f"{where}: imports {a.name}" for a in node.names if a.name.split(".")[0] in DRIVERS]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in DRIVERS:
                problems.append(f"{where}: imports from {node.module}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
                problems.append(f"{where}: calls .{node.func.attr}()")
            elif isinstance(node, ast.Attribute) and node.attr in CONNECTION_ATTRS:
                problems.append(f"{where}: reaches a database connection (.{node.attr})")
    return problems


def test_no_module_outside_the_store_touches_sqlite() -> None:
    assert sql_fence_violations(PACKAGE) == []


def test_the_store_is_a_package_of_cohesive_modules_with_one_facade() -> None:
    import auditor.store as store

    modules = {p.stem for p in (PACKAGE / "store").glob("*.py")}
    assert modules == {
        "__init__", "content", "schema", "core", "writes", "history", "evidence", "waivers", "notifications", "upkeep",
    }
    # Everything other modules import from auditor.store comes through the facade.
    for name in ("Store", "StoreError", "StoredFinding", "FindingChange", "RunDiff", "OPEN_SEQ", "SCHEMA_VERSION",
                 "STORE_ERRORS", "details_hash", "text_hash"):
        assert hasattr(store, name), name
    assert all(len(p.read_text().splitlines()) < 500 for p in (PACKAGE / "store").glob("*.py"))


@pytest.mark.parametrize(
    ("module", "code", "found"),
    [
        ("maintenance.py", "import sqlite3\n", "maintenance.py:{n}: imports sqlite3"),
        ("report/model.py", "def f():\n    import sqlite_utils.db\n", "report/model.py:{m}: imports sqlite_utils.db"),
        ("notify.py", "from sqlite3 import Error\n", "notify.py:{n}: imports from sqlite3"),
        ("report/period.py", "def f(store):\n    return store.db.execute('SELECT 1')\n",
         "report/period.py:{m}: calls .execute()"),
        ("cli/db_cmds.py", "def f(store):\n    return store.db.query('SELECT 1')\n",
         "cli/db_cmds.py:{m}: calls .query()"),
        ("engine.py", "def f(store):\n    return store.db.conn\n",
         "engine.py:{m}: reaches a database connection (.conn)"),
    ],
)
def test_the_fence_catches_sql_outside_the_store(tmp_path: Path, module: str, code: str, found: str) -> None:
    copy = tmp_path / "auditor"
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in SKIPPED:
            continue
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = copy / module
    lines = len(target.read_text(encoding="utf-8").splitlines())
    target.write_text(target.read_text(encoding="utf-8") + "\n" + code, encoding="utf-8")
    assert sql_fence_violations(copy) == [found.format(n=lines + 2, m=lines + 3)]
