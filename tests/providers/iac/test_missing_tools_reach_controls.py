"""A missing checkov or semgrep turns every control its checks map to ERROR, never PASS.

Before: the one ERROR finding mapped only to the controls of `iac.checkov.scan` /
`code.semgrep.scan` (CC8.1, Art.32(1)(d)), so CC6.8 and Art.25 (IaC checks plus code
rules that passed) and CC6.7 (code rules plus a valid certificate) rolled up to PASS.
Each scan here runs the other real providers so that those controls do have a PASS.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from auditor import tools
from auditor.config import AuditConfig
from auditor.demo import make_certificate
from auditor.engine import ScanResult
from auditor.models import ControlStatus, Status
from auditor.providers import targets
from auditor.providers.code import CodeProvider
from auditor.providers.iac import IacProvider
from auditor.providers.secrets import SecretsInventoryProvider
from auditor.runs import run_scan
from auditor.store import Store
from tests.conftest import NOW, write_inventory

pytestmark = pytest.mark.slow
CLEAN = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5)\n"


def without(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    real = tools.find_tool

    def find_tool(name: str) -> str:
        if name == missing:
            raise tools.ToolError(f"{name} is not installed (looked beside the interpreter and on PATH)")
        return real(name)

    monkeypatch.setattr(tools, "find_tool", find_tool)


def controls(result: ScanResult) -> dict[str, ControlStatus]:
    return {c.ref: c.status for c in result.controls}


def test_missing_checkov_turns_cc6_8_and_art_25_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text(CLEAN)
    (repo / "main.tf").write_text('resource "aws_ebs_volume" "v" {\n  size = 1\n}\n')
    without(monkeypatch, "checkov")
    config = AuditConfig(targets=targets(iac=(repo,), code=(repo,)))
    result = run_scan(config, Store.open(tmp_path / "a.db"), providers=[IacProvider(), CodeProvider()], now=NOW)
    [error] = [f for f in result.findings if f.status is Status.ERROR]
    assert error.check_id == "iac.checkov.scan" and "checkov is not installed" in error.message
    assert {"soc2:CC6.8", "gdpr:Art.25", "soc2:CC8.1", "gdpr:Art.32(1)(d)"} <= set(error.controls)
    status = controls(result)
    # code rules passed on both controls: without the fix they rolled up to PASS
    assert any(f.status is Status.PASS and "soc2:CC6.8" in f.controls for f in result.findings)
    assert status["soc2:CC6.8"] is ControlStatus.ERROR
    assert status["gdpr:Art.25"] is ControlStatus.ERROR
    [cov] = [c for c in result.coverage if c.provider == "iac"]
    assert not cov.complete and "iac.*" in cov.errored_checks


def test_missing_semgrep_turns_cc6_7_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text(CLEAN)
    make_certificate(
        tmp_path / "inv" / "valid.pem", "valid.example", NOW - timedelta(days=10), NOW + timedelta(days=200)
    )
    inventory = write_inventory(tmp_path / "inv", "secrets:\n  - name: cert-valid\n    certificate: valid.pem\n")
    without(monkeypatch, "semgrep")
    config = AuditConfig(targets=targets(code=(repo,), secrets=inventory))
    providers = [CodeProvider(), SecretsInventoryProvider()]
    result = run_scan(config, Store.open(tmp_path / "a.db"), providers=providers, now=NOW)
    [error] = [f for f in result.findings if f.status is Status.ERROR]
    assert error.check_id == "code.semgrep.scan" and error.affects == ("code.*",)
    assert "soc2:CC6.7" in error.controls
    assert any(f.status is Status.PASS and "soc2:CC6.7" in f.controls for f in result.findings)  # the certificate
    assert controls(result)["soc2:CC6.7"] is ControlStatus.ERROR
