"""The one path resolver for shipped data, and the wheel carrying that data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from auditor.errors import AuditorError
from auditor.resources import DATA_DIRS, resource_dir

ROOT = Path(__file__).resolve().parent.parent


def test_source_tree_resolves_top_level_folders() -> None:
    for name in DATA_DIRS:
        assert resource_dir(name) == ROOT / name
    assert (resource_dir("controls") / "soc2.yaml").is_file()


def test_installed_layout_prefers_packaged_copy(tmp_path: Path) -> None:
    pkg = tmp_path / "site" / "auditor"
    (pkg / "_data" / "controls").mkdir(parents=True)
    (tmp_path / "site" / "controls").mkdir()
    assert resource_dir("controls", package_dir=pkg) == pkg / "_data" / "controls"


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AuditorError, match="missing from this installation"):
        resource_dir("reports", package_dir=tmp_path / "nowhere" / "auditor")
    with pytest.raises(ValueError):
        resource_dir("secrets")


@pytest.mark.slow
def test_wheel_ships_controls_policies_and_reports(tmp_path: Path) -> None:
    # Build from a copy: setuptools leaves build/ and *.egg-info beside the sources.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", "auditor-demo")
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("auditor-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "auditor/_data/controls/soc2.yaml" in names
    assert "auditor/_data/controls/gdpr.yaml" in names
    assert "auditor/_data/controls/iso27001.yaml" in names
    assert "auditor/demo_data/osv/GHSA-h5c8-rqwp-cp95.json" in names
    assert "auditor/demo_data/sample_repo/terraform/main.tf" in names
    for folder in ("policies", "reports"):
        source_files = [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        for p in source_files:
            assert f"auditor/_data/{p.relative_to(ROOT).as_posix()}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[auditor.providers]" in text and "secrets = auditor.providers.secrets:SecretsInventoryProvider" in text
    assert "auditor = auditor.cli:run" in text
    # Frameworks are installed through their entry point group, the built-ins included.
    assert "[auditor.frameworks]" in text
    for fid in ("soc2", "gdpr", "iso27001"):
        assert f"{fid} = auditor.catalogs:{fid}" in text
