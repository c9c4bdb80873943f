"""`auditor scan --iac X --code X --fail-on high` as a process: exit 0 (clean) and 2 (bad path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.providers.iac.iac_cli_helpers import CODE_FIXTURE, scan

pytestmark = pytest.mark.slow


def test_clean_repository_exits_0(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(CODE_FIXTURE / "clean.py", repo / "clean.py")
    (repo / "README.md").write_text("# nothing to see\n")
    code, doc, err = scan(tmp_path, repo)
    assert code == 0, err
    summary = doc["summary"]
    assert isinstance(summary, dict)
    assert summary["by_status"]["FAIL"] == 0 and summary["by_status"]["ERROR"] == 0
    checks = {f["check_id"]: f["status"] for f in doc["findings"]}  # type: ignore[union-attr]
    assert checks["iac.checkov.scan"] == "PASS" and checks["code.semgrep.scan"] == "PASS"


def test_missing_path_exits_2_without_traceback(tmp_path: Path) -> None:
    code, _, err = scan(tmp_path, tmp_path / "does-not-exist")
    assert code == 2
    assert "no such file or directory" in err and "Traceback" not in err
