"""`semgrep --test policies/semgrep` (through scripts/semgrep-test) passes: every rule meets its fixtures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[3]


@pytest.mark.slow
def test_semgrep_rule_tests_pass() -> None:
    proc = subprocess.run([str(REPO / "scripts" / "semgrep-test")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "All tests passed" in proc.stdout + proc.stderr
