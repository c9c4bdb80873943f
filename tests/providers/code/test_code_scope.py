"""The code scan's scope is ours, through real semgrep: one repository, one scan, many assertions.

The repository sits inside a git repository whose `.gitignore` lists it (what `auditor demo`
writes into a checkout of this project), holds ignore files of its own, a tests/ folder, a
1.7 MB source file (over semgrep's own 1 MB limit), a file over our size limit and every
kind of `nosemgrep` comment.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.models import Coverage, Finding, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.code import CodeProvider, shipped_rules
from auditor.providers.code.nosem import find_nosem
from auditor.providers.code.semgrep import DEFAULT_RULE_TIMEOUT_S, parse_semgrep_output, semgrep_args
from auditor.tools import run_tool

pytestmark = pytest.mark.slow
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LIMIT = 2_000_000
PYTHON_RULES = {"code." + rid for rid, r in shipped_rules()[1].items() if "python" in r.languages}

FLAW = "requests.get(url, verify=False)"
APP = f"""\
import requests


def plain(url):
    return {FLAW}


def unapproved(url):
    return {FLAW}  # nosemgrep


def approved(url):
    return {FLAW}  # nosemgrep: python.tls-verify-disabled -- own CA approved-by=jane@example.com expires=2027-03-31


def expired(url):
    # nosemgrep: python.tls-verify-disabled approved-by=jane@example.com expires=2026-01-31 legacy host
    return {FLAW}


def too_far(url):
    return {FLAW}  # nosemgrep approved-by=jane@example.com expires=2028-12-31


def other_rule(url):
    return {FLAW}  # nosemgrep: python.some-other-rule
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def flawed(name: str) -> str:
    return f"import requests\n\n\ndef {name}(url):\n    return {FLAW}\n"


def big_source() -> str:
    parts = []
    size = 0
    i = 0
    while size < 1_700_000:
        part = f"def f{i}(a, b):\n    c = a + b * {i}\n    return str(c) + 'x{i}'\n\n\n"
        parts.append(part)
        size += len(part)
        i += 1
    return "".join(parts) + flawed("at_the_end")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outer = tmp_path_factory.mktemp("checkout")
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    (outer / ".gitignore").write_text("estate/\n")
    root = outer / "estate" / "repo"
    files = {
        ".gitignore": "build/\n*.generated.py\n",
        "app/app.py": APP,
        "app/big.py": big_source(),
        "app/huge.py": "# padding\n" * (LIMIT // 10 + 10) + flawed("over_the_limit"),
        "build/out.py": flawed("built"),
        "sub/.auditorignore": "vendored.py\n",
        "sub/vendored.py": flawed("vendored"),
        "sub/x.generated.py": flawed("generated"),
        "sub/kept.py": flawed("kept"),
        "tests/test_app.py": flawed("in_tests"),
        "node_modules/pkg/index.py": flawed("dependency"),
        "web/client.mts": "export const x = 1;\n",
        "README.md": "# repo\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="module")
def scan(repo: Path) -> tuple[list[Finding], Coverage]:
    ctx = ScanContext(config=AuditConfig(targets=targets(code=(repo,))), now=NOW)
    provider = CodeProvider()
    provider.max_file_bytes = LIMIT
    findings = list(provider.run(ctx))
    [coverage] = ctx.coverage
    return findings, coverage


def test_the_scope_is_ours_not_semgreps(repo: Path, scan: tuple[list[Finding], Coverage]) -> None:
    findings, coverage = scan
    tls = {
        (f.resource.path, f.resource.line)
        for f in findings
        if f.check_id == "code.python.tls-verify-disabled" and f.status in (Status.FAIL, Status.WAIVED)
    }
    big_line = line_of(big_source(), FLAW)
    # The enclosing checkout's .gitignore does not apply; the target's own ignore files do
    # (build/, *.generated.py, sub/.auditorignore); tests/ is scanned; node_modules is not;
    # a 1.7 MB file is scanned to its last line; the file over our limit is not given.
    assert {path for path, _ in tls} == {"app/app.py", "app/big.py", "sub/kept.py", "tests/test_app.py"}
    assert ("app/big.py", big_line) in tls
    assert {f.target for f in findings} == {coverage.target} == {f"code:{repo.resolve()}"}


def test_file_over_the_limit_is_an_error_that_stops_the_python_rules(scan: tuple[list[Finding], Coverage]) -> None:
    findings, coverage = scan
    errors = [f for f in findings if f.status is Status.ERROR]
    assert [(f.check_id, f.resource.path) for f in errors] == [("code.semgrep.scan", "app/huge.py")]
    assert set(errors[0].affects) == PYTHON_RULES
    assert "over the 2000000-byte scan limit" in errors[0].message
    assert not any(f.check_id == "code.semgrep.scan" and f.status is Status.PASS for f in findings)
    assert [s.item for s in coverage.skipped] == ["app/huge.py"] and not coverage.complete


def test_coverage_counts_are_ours_and_semgreps(scan: tuple[list[Finding], Coverage]) -> None:
    _, coverage = scan
    given = ["app/app.py", "app/big.py", "sub/kept.py", "tests/test_app.py"]
    assert coverage.examined == {
        "files_in_scope": 8,  # .gitignore, sub/.auditorignore, README.md, web/client.mts and the four given
        "files": len(given),
        "files_scanned": len(given),
        "python": 4,
        "javascript": 0,
        "typescript": 0,
    }
    assert coverage.details["excluded"] == {"always-skipped folder": 1, "ignore file": 3}
    assert coverage.details["other_files"] == 4  # .mts is not a language semgrep 1.185.0 takes
    assert coverage.details["version"] == "1.185.0"


def test_nosemgrep_needs_an_unexpired_approval(scan: tuple[list[Finding], Coverage]) -> None:
    findings, _ = scan
    got = {
        f.resource.line: (f.status, f.waiver)
        for f in findings
        if f.resource.path == "app/app.py" and f.check_id == "code.python.tls-verify-disabled"
    }
    assert got == {
        line_of(APP, FLAW, 1): (Status.FAIL, None),
        line_of(APP, FLAW, 2): (
            Status.FAIL,
            {"source": "inline", "approved": False, "reason": "", "comment": "nosemgrep"},
        ),
        line_of(APP, FLAW, 3): (
            Status.WAIVED,
            {
                "source": "inline",
                "approved": True,
                "approver": "jane@example.com",
                "expires": "2027-03-31",
                "reason": "own CA",
            },
        ),
        line_of(APP, FLAW, 4): (
            Status.FAIL,
            {
                "source": "inline",
                "approved": False,
                "reason": "legacy host",
                "comment": "nosemgrep: python.tls-verify-disabled approved-by=jane@example.com expires=2026-01-31 "
                "legacy host",
            },
        ),
        line_of(APP, FLAW, 5): (
            Status.FAIL,
            {
                "source": "inline",
                "approved": False,
                "reason": "",
                "comment": "nosemgrep approved-by=jane@example.com expires=2028-12-31",
            },
        ),
        line_of(APP, FLAW, 6): (Status.FAIL, None),  # the comment names another rule: no suppression
    }
    messages = {f.resource.line: f.message for f in findings if f.resource.path == "app/app.py"}
    assert messages[line_of(APP, FLAW, 2)].startswith("suppressed without approval (no approved-by=")
    assert "approval expired on 2026-01-31" in messages[line_of(APP, FLAW, 4)]
    assert "more than 365 days after the scan" in messages[line_of(APP, FLAW, 5)]
    unapproved = [f for f in findings if f.suppressed_without_approval]
    assert len(unapproved) == 3


def test_our_nosemgrep_reading_is_semgreps(repo: Path) -> None:
    """semgrep itself (nosem enabled) drops exactly the matches we call suppressed."""
    rules_dir, _ = shipped_rules()
    args = semgrep_args(rules_dir, ["app/app.py"], LIMIT + 1, DEFAULT_RULE_TIMEOUT_S)
    with_nosem = [a for a in args if a != "--disable-nosem"]
    env = {"SEMGREP_SETTINGS_FILE": str(repo.parent / "s.yml"), "SEMGREP_LOG_FILE": str(repo.parent / "s.log")}
    everything = parse_semgrep_output(run_tool("semgrep", args, env=env, cwd=repo, ok_codes=(0, 1)).stdout)
    kept = parse_semgrep_output(run_tool("semgrep", with_nosem, env=env, cwd=repo, ok_codes=(0, 1)).stdout)
    lines = APP.splitlines()
    ours = {(m.rule_id, m.line) for m in everything.matches if find_nosem(m.rule_id, lines, m.line) is None}
    assert len(everything.matches) > len(kept.matches)
    assert ours == {(m.rule_id, m.line) for m in kept.matches}


def test_demo_sample_repository_under_an_ignored_folder_is_scanned(tmp_path: Path) -> None:
    """Issue 11: `auditor demo` in a checkout scanned 0 files and passed."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("auditor-demo/\n")
    repo = tmp_path / "auditor-demo" / "estate" / "repo"
    sample = Path(__file__).parents[3] / "auditor" / "demo_data" / "sample_repo"
    shutil.copytree(sample, repo, ignore=shutil.ignore_patterns("__pycache__"))
    ctx = ScanContext(config=AuditConfig(targets=targets(code=(repo,))), now=NOW)
    findings = list(CodeProvider().run(ctx))
    failed = {(f.check_id.removeprefix("code."), f.resource.path) for f in findings if f.status is Status.FAIL}
    assert failed == {
        (rule, "app/app.py")
        for rule in (
            "python.debug-mode-enabled",
            "python.hardcoded-credential",
            "python.insecure-random-token",
            "python.personal-data-in-logs",
            "python.plaintext-http-request",
            "python.shell-true-with-input",
            "python.sql-built-from-strings",
            "python.unsafe-deserialisation",
            "python.weak-password-hash",
        )
    }
    scan = [f for f in findings if f.check_id == "code.semgrep.scan"]
    assert [(f.status, f.evidence["files_scanned"]) for f in scan] == [(Status.PASS, 1)]


def test_a_long_file_list_is_scanned_in_chunks_by_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "one.py").write_text(flawed(f"{folder}_one"))
        (tmp_path / folder / "two.py").write_text("x = 1\n")
    monkeypatch.setattr("auditor.providers.file_scans.MAX_COMMAND_LINE_BYTES", 20)  # one folder per chunk
    ctx = ScanContext(config=AuditConfig(targets=targets(code=(tmp_path,))), now=NOW)
    findings = list(CodeProvider().run(ctx))
    [coverage] = ctx.coverage
    assert coverage.details["chunks"] == 2 and coverage.complete
    assert coverage.examined["files_scanned"] == 4
    failed = {f.resource.path for f in findings if f.check_id == "code.python.tls-verify-disabled"}
    assert failed == {"a/one.py", "b/one.py"}
