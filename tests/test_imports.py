"""Import fences: the `.importlinter` contracts hold, cover every core module, and catch a
broken fence; no module of auditor is part of an import cycle."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.conftest import VENV_BIN

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"
PROVIDERS = ("aws", "code", "deps", "iac", "image", "secrets")


def _contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(inline_comment_prefixes=None)
    parser.read(CONFIG)
    return parser


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith(";")]


def _lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "COLUMNS": "500"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(VENV_BIN / "lint-imports"), "--config", str(CONFIG), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=pythonpath or ROOT,
        env=env,
        timeout=120,
    )


def test_every_contract_is_kept() -> None:
    done = _lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 6 kept, 0 broken." in done.stdout


def test_the_contracts_are_the_ones_the_issue_names() -> None:
    parser = _contracts()
    kinds = {parser[s]["name"]: parser[s]["type"] for s in parser.sections() if s.startswith("importlinter:contract:")}
    assert sorted(kinds.values()) == [
        "acyclic_siblings",
        "forbidden",
        "forbidden",
        "forbidden",
        "forbidden",
        "independence",
    ]
    engine = parser["importlinter:contract:engine-no-store"]
    assert _lines(engine["source_modules"]) == ["auditor.engine"]
    assert "auditor.store" in _lines(engine["forbidden_modules"])
    independent = _lines(parser["importlinter:contract:providers-independent"]["modules"])
    assert independent == [f"auditor.providers.{p}" for p in PROVIDERS]
    # Every provider package that exists is fenced (a seventh built-in must be added here).
    on_disk = sorted(p.name for p in (ROOT / "auditor" / "providers").iterdir() if (p / "__init__.py").is_file())
    assert on_disk == list(PROVIDERS)
    fenced = _lines(parser["importlinter:contract:providers-no-front-ends"]["forbidden_modules"])
    assert {"auditor.cli", "auditor.store", "auditor.report", "auditor.engine"} <= set(fenced)
    reports = parser["importlinter:contract:reports-no-providers"]
    assert _lines(reports["forbidden_modules"]) == [f"auditor.providers.{p}" for p in PROVIDERS]


def test_core_contract_covers_every_module_but_the_providers() -> None:
    """A new top-level module is core unless it is a provider: it must be in the contract."""
    parser = _contracts()
    core = set(_lines(parser["importlinter:contract:core-no-providers"]["source_modules"]))
    package = ROOT / "auditor"
    top = {f"auditor.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    top |= {f"auditor.{p.name}" for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert core == top - {"auditor.providers"}
    forbidden = _lines(parser["importlinter:contract:core-no-providers"]["forbidden_modules"])
    assert forbidden == [f"auditor.providers.{p}" for p in PROVIDERS]
    # No exception: the CLI's provider commands, the pre-commit hook and the demo reach providers
    # through the registry and entry points only.
    assert "ignore_imports" not in parser["importlinter:contract:core-no-providers"]


def _module_cycles(package: str) -> list[list[str]]:
    """Strongly connected components (more than one module) of the package's import graph."""
    graph = grimp.build_graph(package)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_is_part_of_an_import_cycle() -> None:
    # Lazy imports inside functions count: they were how both former cycles hid
    # (auditor.demo <-> providers.aws.demo_estate, aws.collect <-> aws.model).
    assert _module_cycles("auditor") == []


def test_aws_dataset_scopes_and_collectors_are_one_table() -> None:
    from auditor.providers.aws.collect import DATASETS
    from auditor.providers.aws.model import DATASET_SCOPES

    assert {n: d.scope for n, d in DATASETS.items()} == DATASET_SCOPES


def test_report_lists_installed_providers_without_importing_one() -> None:
    code = (
        "import sys\n"
        "import auditor.report.generate, auditor.report.model, auditor.report.pack\n"
        "from auditor.report.scope_view import registered_provider_names\n"
        "names = registered_provider_names()\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('auditor.providers.'))\n"
        "print(names, loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['aws', 'code', 'deps', 'iac', 'image', 'secrets'] ['auditor.providers.base']"


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("providers/aws/__init__.py", "import auditor.providers.image.sbom\n", "Providers never import each other"),
        ("providers/iac/__init__.py", "from auditor.store import Store\n", "Providers never import the CLI"),
        ("report/chart.py", "import auditor.providers.deps\n", "Reports and outputs never import a provider"),
        ("engine.py", "import auditor.providers.secrets\n", "Core never imports a provider"),
        ("engine.py", "from auditor.store import Store\n", "The engine never touches the database"),
        ("providers/aws/model.py", "import auditor.providers.aws.collect\n", "No import cycles"),
    ],
)
def test_a_broken_fence_fails_the_check(tmp_path: Path, module: str, line: str, broken: str) -> None:
    copy = tmp_path / "auditor"
    shutil.copytree(ROOT / "auditor", copy, ignore=shutil.ignore_patterns("__pycache__", "demo_data"))
    target = copy / module
    target.write_text(target.read_text() + "\n" + line)
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    broken_lines = [ln for ln in done.stdout.splitlines() if " BROKEN" in ln]
    assert [ln for ln in broken_lines if ln.startswith(broken)], done.stdout
