"""A provider defined outside the package loads through the entry-point group."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from auditor.errors import AuditorError
from auditor.providers import ENTRY_POINT_GROUP, discover_providers
from tests.conftest import VENV_BIN, write_inventory

PLUGIN = """
from collections.abc import Iterator

from auditor.models import CheckInfo, Finding, Resource, Severity, Status
from auditor.providers.base import Provider


CHECK = CheckInfo(
    id="secrets.thirdparty.vault_seal",
    title="Vault is sealed when idle",
    severity=Severity.MEDIUM,
    provider="thirdparty",
    description="A third-party check.",
    risk="None; this is a test.",
    remediation="Seal it.",
    resource_type="vault",
)


class ThirdPartyProvider(Provider):
    name = "thirdparty"

    def checks(self) -> list[CheckInfo]:
        return [CHECK]

    def selected(self, config) -> bool:
        return config.secrets_inventory is not None

    def run(self, ctx) -> Iterator[Finding]:
        yield self.finding(CHECK, Status.FAIL, Resource("vault:main", "vault"), "unsealed", {"sealed": False})


class NotAProvider:
    name = "broken"
"""


def install_plugin(site: Path, target: str = "ThirdPartyProvider") -> None:
    """What `pip install` leaves behind: a module and a dist-info with entry_points.txt."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "thirdparty_provider.py").write_text(PLUGIN)
    dist = site / "auditor_thirdparty-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: auditor-thirdparty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nthirdparty = thirdparty_provider:{target}\n")


def test_builtin_secrets_provider_comes_from_an_entry_point() -> None:
    assert "secrets" in discover_providers()


def test_external_provider_is_discovered_and_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_plugin(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    checks = subprocess.run(
        [str(VENV_BIN / "auditor"), "checks", "--provider", "thirdparty", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert checks.returncode == 0, checks.stderr
    assert [c["id"] for c in json.loads(checks.stdout)] == ["secrets.thirdparty.vault_seal"]
    inv = write_inventory(tmp_path / "inv", "secrets: []\n")
    scan = subprocess.run(
        [
            str(VENV_BIN / "auditor"),
            "scan",
            "--secrets-inventory",
            str(inv),
            "--db",
            str(tmp_path / "a.db"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert scan.returncode == 0, scan.stderr
    findings = json.loads(scan.stdout)["findings"]
    assert [(f["check_id"], f["status"], f["provider"]) for f in findings] == [
        ("secrets.thirdparty.vault_seal", "FAIL", "thirdparty")
    ]


def test_an_entry_point_that_is_not_a_provider_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    site = tmp_path / "site"
    install_plugin(site, "NotAProvider")
    monkeypatch.syspath_prepend(str(site))
    ep = EntryPoint(name="broken", value="thirdparty_provider:NotAProvider", group=ENTRY_POINT_GROUP)
    with pytest.raises(AuditorError, match="not an auditor Provider"):
        discover_providers([ep])
