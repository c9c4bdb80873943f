"""Find Python dependency files and read their requirements.

requirements files are parsed with pip-requirements-parser (pip's own parser, the one
pip-audit uses: `-r` includes, hashes, markers, editables, URLs); pyproject.toml through
tomllib (`[project] dependencies` and every optional-dependencies group). Each
requirement is classified:

- `pinned`: exactly one `==V` (no wildcard) or `===V`: auditable without any network;
- `unpinned`: a range or nothing: needs a resolver (pip, so an index) to know the version;
- `unversioned`: URL, VCS, local path or editable: no version to audit at all.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pip_requirements_parser import RequirementsFile  # type: ignore[import-untyped]

from auditor.errors import InputError

PINNED, UNPINNED, UNVERSIONED = "pinned", "unpinned", "unversioned"
_SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "site-packages", "__pycache__", ".tox",
              ".nox", "build", "dist", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
MAX_FILES = 500
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Dependency:
    name: str  # as written
    canonical: str  # PEP 503
    kind: str  # pinned | unpinned | unversioned
    version: str | None  # the pinned version
    spec: str  # the requirement as written (one line, no hashes)
    line: int | None
    declared_in: str  # file (and line) where it is written

    @property
    def resource_id(self) -> str:
        return f"pypi:{self.canonical}" if self.canonical else f"requirement:{self.spec}"


@dataclass
class DependencyFile:
    path: Path
    kind: str  # requirements | pyproject
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message): could not read


def is_requirements_file(path: Path) -> bool:
    name = path.name.lower()
    if not name.endswith(".txt"):
        return False
    return name.startswith("requirements") or path.parent.name.lower() == "requirements"


def discover(target: Path) -> list[Path]:
    """The dependency files a `--deps` target names: itself, or those under a directory.

    Under a directory: `requirements*.txt`, `requirements/*.txt` and `pyproject.toml`. A
    pyproject.toml beside a requirements file is left out (the requirements file is the
    lock that pins it), and so is one that declares no Python project (tool settings only).
    """
    if not target.exists():
        raise InputError(f"--deps {target}: no such file or directory")
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise InputError(f"--deps {target}: not a file or directory")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(target):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        here = Path(dirpath)
        reqs = [here / n for n in sorted(filenames) if is_requirements_file(here / n)]
        found.extend(reqs)
        sub_reqs = (here / "requirements").is_dir() and any(
            is_requirements_file(p) for p in (here / "requirements").iterdir()
        )
        if "pyproject.toml" in filenames and not reqs and not sub_reqs and _declares_project(here / "pyproject.toml"):
            found.append(here / "pyproject.toml")
        if len(found) > MAX_FILES:
            raise InputError(f"--deps {target}: more than {MAX_FILES} dependency files")
    return found


def _declares_project(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # unreadable: read it for real and report the error
    tool = data.get("tool")
    return "project" in data or (isinstance(tool, dict) and "poetry" in tool)


def classify(req: Requirement) -> tuple[str, str | None]:
    if req.url:
        return UNVERSIONED, None
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return PINNED, specs[0].version
    return UNPINNED, None


def read_dependency_file(path: Path) -> DependencyFile:
    kind = "pyproject" if path.name.lower() == "pyproject.toml" else "requirements"
    df = DependencyFile(path=path, kind=kind)
    try:
        size = path.stat().st_size
    except OSError as exc:
        df.errors.append((None, f"cannot read {path}: {exc.strerror or exc}"))
        return df
    if size > MAX_FILE_BYTES:
        df.errors.append((None, f"{path} is {size} bytes, larger than a dependency file can be"))
        return df
    if kind == "pyproject":
        _read_pyproject(df)
    else:
        _read_requirements(df)
    return df


def _read_requirements(df: DependencyFile) -> None:
    try:
        rf = RequirementsFile.from_file(str(df.path), include_nested=True)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        df.errors.append((None, f"cannot read {df.path}: {exc}".replace("\n", " ")))
        return
    top = str(df.path)
    for bad in rf.invalid_lines:
        where = "" if bad.filename == top else f" (in {bad.filename})"
        message = " ".join(str(bad.error_message).split())
        df.errors.append((bad.line_number if not where else None, f"invalid requirement{where}: {message}"))
    for ir in rf.requirements:
        rline = ir.requirement_line
        in_top = rline.filename == top
        declared = f"{rline.filename}:{rline.line_number}"
        if ir.req is None or ir.is_editable or ir.link is not None:
            name = ir.name or rline.line.strip()
            df.dependencies.append(
                Dependency(name=name, canonical=str(canonicalize_name(name)) if ir.name else "", kind=UNVERSIONED,
                           version=None, spec=rline.line.strip()[:200], line=rline.line_number if in_top else None,
                           declared_in=declared)
            )
            continue
        kind, version = classify(ir.req)
        df.dependencies.append(
            Dependency(name=ir.name, canonical=str(canonicalize_name(ir.name)), kind=kind, version=version,
                       spec=str(ir.req), line=rline.line_number if in_top else None, declared_in=declared)
        )


def _read_pyproject(df: DependencyFile) -> None:
    try:
        text = df.path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        df.errors.append((None, f"cannot read {df.path}: {exc}".replace("\n", " ")))
        return
    project = data.get("project")
    if not isinstance(project, dict):
        df.errors.append((None, f"{df.path} has no [project] table; other layouts (e.g. Poetry) are not read: "
                                "export a requirements file and audit that"))
        return
    entries: list[str] = []
    deps = project.get("dependencies") or []
    if isinstance(deps, list):
        entries.extend(d for d in deps if isinstance(d, str))
    optional = project.get("optional-dependencies") or {}
    if isinstance(optional, dict):
        for group in optional.values():
            if isinstance(group, list):
                entries.extend(d for d in group if isinstance(d, str))
    lines = text.splitlines()
    for entry in dict.fromkeys(entries):
        line = _find_line(lines, entry)
        try:
            req = Requirement(entry)
        except InvalidRequirement as exc:
            df.errors.append((line, f"invalid requirement {entry!r}: {exc}".replace("\n", " ")))
            continue
        kind, version = classify(req)
        df.dependencies.append(
            Dependency(name=req.name, canonical=str(canonicalize_name(req.name)), kind=kind, version=version,
                       spec=str(req), line=line, declared_in=f"{df.path}:{line or '?'}")
        )


def _find_line(lines: list[str], entry: str) -> int | None:
    for i, text in enumerate(lines, 1):
        if f'"{entry}"' in text or f"'{entry}'" in text:
            return i
    return None


def valid_version(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True
