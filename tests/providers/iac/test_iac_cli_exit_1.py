"""`auditor scan --iac X --code X --fail-on high` as a process: exit 1 (a high FAIL)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.providers.iac.iac_cli_helpers import CODE_FIXTURE, SSH_WORLD, scan

pytestmark = pytest.mark.slow


def test_high_failure_exits_1(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text(SSH_WORLD)
    shutil.copy(CODE_FIXTURE / "views.py", repo / "views.py")
    code, doc, err = scan(tmp_path, repo)
    assert code == 1, err
    failed = {(f["check_id"], f["severity"]) for f in doc["findings"] if f["status"] == "FAIL"}  # type: ignore[union-attr]
    assert ("iac.CKV_AWS_24", "high") in failed
    assert ("code.python.tls-verify-disabled", "high") in failed
