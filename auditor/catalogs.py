"""The catalogs auditor ships, as `auditor.frameworks` entry point targets.

pyproject.toml declares `soc2 = "auditor.catalogs:soc2"` and so on: each attribute is the path of
a catalog file, exactly what a third-party framework's entry point names (see docs/plugins.md).
The built-ins are found through the same entry point group as any plugin, nothing more.
"""

from __future__ import annotations

from pathlib import Path

from auditor.resources import resource_dir


def __getattr__(name: str) -> Path:
    """`soc2` -> the path of controls/soc2.yaml (resolved on use: the source tree or the wheel's copy)."""
    if name.startswith("_"):
        raise AttributeError(name)
    path = resource_dir("controls") / f"{name}.yaml"
    if not path.is_file():
        raise AttributeError(f"auditor ships no catalog named {name!r}")
    return path
