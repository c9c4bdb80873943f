"""CodeProvider: rule metadata, id normalisation, fingerprints, and one real semgrep scan."""

from __future__ import annotations

import json
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor import tools
from auditor.catalog import ControlMapper
from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.frameworks import load_catalog
from auditor.models import Finding, Severity, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.code import CodeProvider, shipped_rules
from auditor.providers.code.semgrep import SemgrepMatch, SemgrepReport, normalise_rule_id, parse_semgrep_output
from auditor.scope import walk_target

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FIXTURE = Path(__file__).parents[2] / "fixtures" / "code" / "app"


def ctx_for(paths: list[Path]) -> ScanContext:
    return ScanContext(config=AuditConfig(targets=targets(code=tuple(paths))), now=NOW)


# Rules as data --------------------------------------------------------------------------------


def test_at_least_twenty_rules_for_python_and_js_ts_each_with_a_test_file() -> None:
    rules_dir, rules = shipped_rules()
    assert len(rules) >= 20
    langs = {lang for r in rules.values() for lang in r.languages}
    assert {"python", "javascript", "typescript"} <= langs
    for r in rules.values():
        stem = rules_dir / Path(r.file).stem
        tests = [p for p in rules_dir.glob(stem.name + ".*") if p.suffix in {".py", ".js", ".ts"}]
        assert tests, f"{r.id} has no semgrep --test file"
        assert any(f"ruleid: {r.id}" in p.read_text() for p in tests), r.id
        assert any(f"ok: {r.id}" in p.read_text() for p in tests), r.id


def test_rule_controls_are_listed_in_the_catalog() -> None:
    _, rules = shipped_rules()
    catalog = load_catalog()
    for r in rules.values():
        for ref in r.controls:
            fw, cid = ref.split(":", 1)
            control = catalog[fw].control(cid)
            assert control is not None, ref
            assert "code." + r.id in control.checks, (r.id, ref)


def test_topics_required_by_the_issue_are_covered() -> None:
    _, rules = shipped_rules()
    ids = " ".join(rules)
    for topic in (
        "hardcoded-credential",
        "tls-verif",
        "weak-password-hash",
        "insecure-random-token",
        "sql-built",
        "deserialisation",
        "shell-true",
        "debug-mode",
        "cookie-without-secure",
        "jwt-verification",
        "personal-data-in-logs",
        "plaintext-http",
    ):
        assert topic in ids, topic


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("python.tls-verify-disabled", "python.tls-verify-disabled"),
        ("policies.semgrep.python.tls-verify-disabled", "python.tls-verify-disabled"),
        ("work.main.policies.semgrep.js.sql-built-from-strings", "js.sql-built-from-strings"),
        ("something.else", "something.else"),
    ],
)
def test_check_id_prefix_is_normalised(raw: str, expected: str) -> None:
    assert normalise_rule_id(raw, shipped_rules()[1]) == expected


def test_parse_rejects_non_json() -> None:
    with pytest.raises(ValueError):
        parse_semgrep_output("Traceback ...")


# Findings from a synthetic report -------------------------------------------------------------


def findings_for(p: CodeProvider, root: Path, report: SemgrepReport) -> list[Finding]:
    return p.findings_for(root, walk_target(root), report, NOW.date()).findings


def match(rule: str, path: str, line: int, text_before: str, text: str) -> SemgrepMatch:
    start = len(text_before.encode())
    return SemgrepMatch(rule, path, line, line, start, start + len(text.encode()), "msg")


def test_two_matches_differ_and_a_moved_match_keeps_its_fingerprint(tmp_path: Path) -> None:
    line = 'subprocess.run("x " + p, shell=True)'
    src = tmp_path / "a.py"
    src.write_text(f"{line}\n{line}\n")
    p = CodeProvider()
    rid = "policies.semgrep.python.shell-true-with-input"
    rep = SemgrepReport(
        matches=[match(rid, "a.py", 1, "", line), match(rid, "a.py", 2, line + "\n", line)], scanned=["a.py"]
    )
    first = [f for f in findings_for(p, tmp_path, rep) if f.status is Status.FAIL]
    assert [f.resource.line for f in first] == [1, 2]
    assert first[0].fingerprint != first[1].fingerprint
    src.write_text(f"import subprocess\n\n{line}\n\n{line}\n")
    moved = SemgrepReport(
        matches=[
            match(rid, "a.py", 3, "import subprocess\n\n", line),
            match(rid, "a.py", 5, f"import subprocess\n\n{line}\n\n", line),
        ],
        scanned=["a.py"],
    )
    second = [f for f in findings_for(p, tmp_path, moved) if f.status is Status.FAIL]
    assert [f.fingerprint for f in second] == [f.fingerprint for f in first]
    assert second[0].evidence["code"] == line


def test_credential_rules_never_copy_code(tmp_path: Path) -> None:
    line = 'DB_PASSWORD = "s3cr3t-Pa55w0rd"'
    (tmp_path / "s.py").write_text(line + "\n")
    rep = SemgrepReport(matches=[match("python.hardcoded-credential", "s.py", 1, "", line)], scanned=["s.py"])
    found = [f for f in findings_for(CodeProvider(), tmp_path, rep) if f.status is Status.FAIL]
    assert len(found) == 1 and "code" not in found[0].evidence
    assert "s3cr3t" not in json.dumps(found[0].to_dict())


def test_rules_without_files_of_their_language_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "only.py").write_text("x = 1\n")
    found = findings_for(CodeProvider(), tmp_path, SemgrepReport(scanned=["only.py"], version="1.185.0"))
    by_status: dict[Status, set[str]] = {}
    for f in found:
        by_status.setdefault(f.status, set()).add(f.check_id.split(".")[1])
    assert by_status[Status.SKIPPED] == {"js"}
    assert by_status[Status.PASS] == {"python", "semgrep"}


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        CodeProvider().prepare(ctx_for([tmp_path / "nope"]))


@pytest.mark.parametrize(
    ("body", "timeout", "expect"),
    [("exit 7", 30.0, "exited with 7"), ("echo '{}'", 30.0, "no readable JSON"), ("sleep 30", 0.5, "timed out")],
)
def test_tool_failure_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, timeout: float, expect: str
) -> None:
    tool_dir = tmp_path / "bin"
    tool_dir.mkdir()
    script = tool_dir / "fake-semgrep"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("x = 1\n")
    monkeypatch.setattr(tools, "find_tool", lambda name: str(script))
    p = CodeProvider()
    p.timeout_s = timeout
    ctx = ctx_for([repo])
    found = list(p.run(ctx))
    assert [(f.check_id, f.status, f.affects) for f in found] == [("code.semgrep.scan", Status.ERROR, ("code.*",))]
    assert expect in found[0].message
    assert [(c.target, c.complete) for c in ctx.coverage] == [(f"code:{repo.resolve()}", False)]


# One real semgrep run -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    root = tmp_path_factory.mktemp("code") / "app"
    shutil.copytree(FIXTURE, root)
    return list(CodeProvider().run(ctx_for([root])))


@pytest.mark.slow
def test_golden_code_scan(scanned: list[Finding]) -> None:
    fails = sorted(
        (f.check_id, f.resource.path or "", f.resource.line or 0) for f in scanned if f.status is Status.FAIL
    )
    assert fails == [
        ("code.js.jwt-verification-disabled", "server.js", 4),
        ("code.python.personal-data-in-logs", "views.py", 22),
        ("code.python.shell-true-with-input", "views.py", 14),
        ("code.python.shell-true-with-input", "views.py", 18),
        ("code.python.tls-verify-disabled", "views.py", 10),
    ]
    by_id = {f.check_id: f for f in scanned if f.status is Status.FAIL}
    assert by_id["code.js.jwt-verification-disabled"].severity is Severity.CRITICAL
    assert by_id["code.python.tls-verify-disabled"].evidence["code"].strip().startswith("return requests.get(")
    assert len({f.fingerprint for f in scanned}) == len(scanned)
    passed = {f.check_id for f in scanned if f.status is Status.PASS}
    assert "code.python.unsafe-deserialisation" in passed and "code.js.sql-built-from-strings" in passed
    assert {f.status for f in scanned} == {Status.PASS, Status.FAIL}
    scan = [f for f in scanned if f.check_id == "code.semgrep.scan"]
    assert scan[0].evidence["files_scanned"] == 3


# semgrep's errors: each one with a path stops the rules it names there ---------------------


def semgrep_json(scanned: list[str], errors: list[dict[str, object]]) -> str:
    return json.dumps({"version": "1.185.0", "results": [], "errors": errors, "paths": {"scanned": scanned}})


TIMEOUT = {
    "code": 2,
    "level": "warn",
    "type": "Timeout",
    "rule_id": "python.tls-verify-disabled",
    "message": "Timeout when running python.tls-verify-disabled on app/big.py:\n ",
    "path": "app/big.py",
}
PARTIAL = {
    "code": 3,
    "level": "warn",
    "type": ["PartialParsing", [{"path": "app/odd.py", "start": {"line": 1}, "end": {"line": 1}}]],
    "message": "Syntax error at line app/odd.py:1:\n `match` was unexpected",
    "path": "app/odd.py",
}


def test_errors_with_a_path_are_errors_for_that_file_and_its_rules(tmp_path: Path) -> None:
    for name in ("big.py", "odd.py", "ok.py"):
        (tmp_path / "app").mkdir(exist_ok=True)
        (tmp_path / "app" / name).write_text("x = 1\n")
    report = parse_semgrep_output(semgrep_json(["app/big.py", "app/odd.py", "app/ok.py"], [TIMEOUT, PARTIAL]))
    p = CodeProvider()
    scan = p.findings_for(tmp_path, walk_target(tmp_path), report, NOW.date())
    errors = {f.resource.path: f for f in scan.findings if f.status is Status.ERROR}
    assert set(errors) == {"app/big.py", "app/odd.py"}
    assert errors["app/big.py"].affects == ("code.python.tls-verify-disabled",)
    assert "Timeout" in errors["app/big.py"].message and "python.tls-verify-disabled" in errors["app/big.py"].message
    assert set(errors["app/odd.py"].affects) == set(p.rules_for("python"))  # no rule named: all of them
    passes = {f.check_id: f.evidence["files_scanned"] for f in scan.findings if f.status is Status.PASS}
    assert passes["code.python.tls-verify-disabled"] == 1  # only ok.py was scanned cleanly by it
    assert passes["code.python.shell-true-with-input"] == 2
    assert "code.semgrep.scan" not in passes
    assert scan.coverage is not None and not scan.coverage.complete
    assert {s.item for s in scan.coverage.skipped} == {"app/big.py", "app/odd.py"}
    # The engine maps `affects` to the controls: the timeout stops CC6.7 (TLS verification).
    mapper = ControlMapper(load_catalog().values())
    assert "soc2:CC6.7" in mapper(errors["app/big.py"].check_id, errors["app/big.py"].affects)


def test_a_file_semgrep_did_not_scan_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real run through a fake semgrep that leaves one given file out of `paths.scanned`."""
    repo = tmp_path / "repo"
    (repo / "web").mkdir(parents=True)
    (repo / "app.py").write_text("x = 1\n")
    (repo / "web" / "client.js").write_text("let x = 1;\n")
    out = tmp_path / "out.json"
    out.write_text(semgrep_json(["app.py"], []))
    script = tmp_path / "fake-semgrep"
    script.write_text(f"#!/bin/sh\ncat {out}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(tools, "find_tool", lambda name: str(script))
    ctx = ctx_for([repo])
    found = list(CodeProvider().run(ctx))
    errors = [(f.resource.path, f.affects) for f in found if f.status is Status.ERROR]
    assert errors == [("web/client.js", CodeProvider().rules_for("javascript"))]
    assert "semgrep skipped web/client.js" in next(f.message for f in found if f.status is Status.ERROR)
    [cov] = ctx.coverage
    assert cov.examined["files"] == 2 and cov.examined["files_scanned"] == 1 and not cov.complete


def test_an_error_without_a_path_stops_every_code_check(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    fatal = {"code": 2, "level": "error", "type": "SemgrepError", "message": "Invalid scanning root: a.py"}
    report = parse_semgrep_output(semgrep_json([], [fatal]))
    found = CodeProvider().findings_for(tmp_path, walk_target(tmp_path), report, NOW.date()).findings
    errors = {(f.resource.path, f.affects) for f in found if f.status is Status.ERROR}
    assert errors == {
        ("a.py", CodeProvider().rules_for("python")),  # given, not scanned
        (str(tmp_path), ("code.*",)),
    }
    assert not any(f.status is Status.PASS for f in found)


def test_a_target_without_source_files_is_skipped_not_passed(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# docs only\n")
    scan = CodeProvider().findings_for(tmp_path, walk_target(tmp_path), None, NOW.date())
    assert {f.status for f in scan.findings} == {Status.SKIPPED}
    assert scan.coverage is not None and scan.coverage.complete and scan.coverage.examined["files"] == 0


def test_lines_are_counted_as_semgrep_counts_them(tmp_path: Path) -> None:
    """A form feed is not a line break for semgrep: the nosemgrep comment stays on its line."""
    line = "requests.get(url, verify=False)  # nosemgrep"
    text = f"import requests\n\x0c\ndef f(url):\n    return {line}\r\n"
    (tmp_path / "a.py").write_text(text, newline="")
    start = text.index("requests.get(url")
    m = SemgrepMatch("python.tls-verify-disabled", "a.py", 4, 4, start, start + 31, "msg")
    [f] = [
        f
        for f in findings_for(CodeProvider(), tmp_path, SemgrepReport(matches=[m], scanned=["a.py"], version="1"))
        if f.status is Status.FAIL
    ]
    assert f.suppressed_without_approval and f.evidence["code"] == f"    return {line}"
