"""The one path resolver for the data shipped with auditor.

`controls/`, `policies/` and `reports/` live at the top of the source tree. A wheel
carries copies under `auditor/_data/` (setup.py's build step puts them there). Source
checkouts and editable installs read the top-level folders directly.
"""

from __future__ import annotations

from pathlib import Path

from auditor.errors import AuditorError

DATA_DIRS = ("controls", "policies", "reports")
_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str, package_dir: Path = _PACKAGE_DIR) -> Path:
    """Absolute path of a shipped data folder: `controls`, `policies` or `reports`."""
    if name not in DATA_DIRS:
        raise ValueError(f"unknown data folder {name!r}")
    for candidate in (package_dir / "_data" / name, package_dir.parent / name):
        if candidate.is_dir():
            return candidate
    raise AuditorError(f"auditor's {name}/ folder is missing from this installation (looked in {package_dir})")


def resource_path(name: str, *parts: str) -> Path:
    return resource_dir(name).joinpath(*parts)
