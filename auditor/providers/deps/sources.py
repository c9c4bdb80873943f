"""Find Python dependency files and read their requirements.

requirements files are parsed with pip-requirements-parser (pip's own parser, the one
pip-audit uses: hashes, markers, editables, URLs); pyproject.toml through tomllib
(`[project] dependencies` and every optional-dependencies group). Each requirement is
classified:

- `pinned`: exactly one `==V` (no wildcard) or `===V`: auditable without any network;
- `unpinned`: a range or nothing: needs a resolver (pip, so an index) to know the version;
- `unversioned`: URL, VCS, local path or editable: no version to audit at all.

Every file is read through `auditor.safeio` (regular files only, size-capped: a FIFO or
a device is never opened in a way that could block). `-r`/`-c` includes are followed by
auditor itself, not by the parser: only local files inside the scanned target, at most
`MAX_INCLUDE_DEPTH` deep, each read the same bounded way; a remote include is not fetched.

A requirement line can carry a credential (`pkg @ https://deploy:PW@host/pkg.tar.gz`):
`Dependency.spec`, and every message built from a line, is redacted here, so no raw
secret reaches a finding even before the engine's redaction pass.
"""

from __future__ import annotations

import os
import stat
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pip_requirements_parser import RequirementsFile  # type: ignore[import-untyped]

from auditor.errors import InputError
from auditor.models import SkippedItem
from auditor.providers.deps.formats import LOCKFILE_NAMES, SUPERSEDED_BY, purl
from auditor.redact import redact_text
from auditor.safeio import kind_of, read_bounded, show_path

PINNED, UNPINNED, UNVERSIONED = "pinned", "unpinned", "unversioned"
_SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "site-packages", "__pycache__", ".tox",
              ".nox", "build", "dist", ".mypy_cache", ".ruff_cache", ".pytest_cache", "vendor", "target",
              "bower_components"}
MAX_FILES = 500
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_INCLUDE_DEPTH = 10
MAX_INCLUDES = 100  # files read through -r/-c from one dependency file
MAX_SPEC_CHARS = 200
_REMOTE = ("http:", "https:", "file:", "ftp:")


@dataclass(frozen=True)
class Dependency:
    name: str  # as written
    canonical: str  # PEP 503
    kind: str  # pinned | unpinned | unversioned
    version: str | None  # the pinned version
    spec: str  # the requirement as written (one line, no hashes), credentials masked
    line: int | None
    declared_in: str  # file (and line) where it is written
    ecosystem: str = "PyPI"  # the OSV ecosystem (lock files of other languages: lockfiles.py)
    # A lock file that installs one package at several versions (npm nests them): each
    # version is its own resource, so their findings keep distinct fingerprints.
    several_versions: bool = False

    @property
    def resource_id(self) -> str:
        if self.ecosystem != "PyPI":
            return purl(self.ecosystem, self.name, self.version if self.several_versions else None)
        return f"pypi:{self.canonical}" if self.canonical else f"requirement:{self.spec}"

    @property
    def purl(self) -> str:
        return purl(self.ecosystem, self.name if self.ecosystem != "PyPI" else self.canonical, self.version)


@dataclass
class DependencyFile:
    path: Path
    kind: str  # requirements | pyproject | a lock-file format of formats.LOCKFILE_NAMES
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message): could not read
    includes: list[Path] = field(default_factory=list)  # files read through -r/-c

    @property
    def unreadable(self) -> bool:
        """The file itself could not be read (as opposed to some of its lines)."""
        return any(line is None and message.startswith("cannot read") for line, message in self.errors)


@dataclass
class Discovery:
    """The dependency files of one `--deps` target, and what could not be looked at.

    File paths are kept as the user gave the target (`--deps requirements.lock` stays
    relative): they are part of each finding's fingerprint, which must not change between
    two checkouts of one repository (baselines). The target string and the include rule
    use the resolved path.
    """

    target: Path  # resolved
    base: Path  # the folder files are listed from, as given: the target, or a file target's folder
    root: Path  # the same folder resolved: includes must stay in it
    files: list[Path] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)  # in scope, not readable: the scan is incomplete
    excluded: Counter[str] = field(default_factory=Counter)  # out of scope by rule: counts per reason

    def rel(self, path: Path) -> str:
        for folder in (self.base, self.root):
            try:
                return path.relative_to(folder).as_posix()
            except ValueError:
                continue
        return str(path)


def is_requirements_file(path: Path) -> bool:
    name = path.name.lower()
    if not name.endswith(".txt"):
        return False
    return name.startswith("requirements") or path.parent.name.lower() == "requirements"


def discover(target: Path) -> Discovery:
    """The dependency files a `--deps` target names: itself, or those under a directory.

    Under a directory: `requirements*.txt`, `requirements/*.txt`, `pyproject.toml` and the
    lock files of other ecosystems named in `formats.LOCKFILE_NAMES` (npm-shrinkwrap.json
    over package-lock.json, go.mod over go.sum in one folder; vendor/, target/ and
    node_modules/ are copies of dependencies, not declarations, and are not walked). A
    pyproject.toml beside a requirements file is left out (the requirements file is the
    lock that pins it), and so is one that declares no Python project (tool settings only).
    A target that is missing, or neither a regular file nor a directory (a FIFO, a device),
    is an InputError; such a file found under a directory is never opened: it is `skipped`.
    """
    where = show_path(target)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        raise InputError(f"--deps {where}: no such file or directory") from None
    except OSError as exc:
        raise InputError(f"--deps {where}: cannot read: {exc.strerror or exc}") from None
    resolved = target.resolve()
    if stat.S_ISREG(mode):
        return Discovery(target=resolved, base=target.parent, root=resolved.parent, files=[target])
    if not stat.S_ISDIR(mode):
        raise InputError(f"--deps {where}: {kind_of(mode)}, not a dependency file or directory; refusing to read it")
    found = Discovery(target=resolved, base=target, root=resolved)

    def unreadable(exc: OSError) -> None:
        name = found.rel(Path(exc.filename)) if exc.filename else "."
        found.skipped.append(SkippedItem(name, f"folder unreadable: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(target, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        here = Path(dirpath)
        reqs = [p for p in (here / n for n in sorted(filenames)) if is_requirements_file(p) and _usable(found, p)]
        found.files.extend(reqs)
        locks = [n for n in sorted(filenames) if n in LOCKFILE_NAMES and SUPERSEDED_BY.get(n) not in filenames]
        found.files.extend(p for p in (here / n for n in locks) if _usable(found, p))
        sub = here / "requirements"
        sub_reqs = sub.is_dir() and any(is_requirements_file(p) for p in _listdir(sub))
        pyproject = here / "pyproject.toml"
        if (
            "pyproject.toml" in filenames
            and not reqs
            and not sub_reqs
            and _usable(found, pyproject)
            and _declares_project(pyproject)
        ):
            found.files.append(pyproject)
        if len(found.files) > MAX_FILES:
            raise InputError(f"--deps {where}: more than {MAX_FILES} dependency files")
    return found


def _listdir(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _usable(found: Discovery, path: Path) -> bool:
    """A candidate file is read only if it is a regular file inside the target (symlinks followed)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            found.excluded["broken symbolic link"] += 1
        else:
            found.skipped.append(SkippedItem(found.rel(path), f"unreadable: {exc.strerror or exc}"))
        return False
    if os.path.islink(path) and not path.resolve().is_relative_to(found.root):
        found.excluded["symbolic link out of the target"] += 1
        return False
    if not stat.S_ISREG(st.st_mode):
        found.skipped.append(SkippedItem(found.rel(path), f"{kind_of(st.st_mode)}, not a regular file: not read"))
        return False
    return True


def _declares_project(path: Path) -> bool:
    try:
        data = tomllib.loads(read_bounded(path, MAX_FILE_BYTES, "dependency file").decode("utf-8"))
    except (InputError, UnicodeDecodeError, tomllib.TOMLDecodeError):
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


def safe_spec(text: str) -> str:
    """A requirement as it may be shown: one line, credentials masked, bounded."""
    return redact_text(" ".join(text.split()))[:MAX_SPEC_CHARS]


def _reason(error: str) -> str:
    """A parser's reason only: the first line. The rest echoes the offending line, and a line
    that is not a requirement may be anything (`DB_URL=...`): its content is not repeated."""
    lines = error.strip().splitlines()
    return safe_spec(lines[0]) if lines else "unreadable line"


def read_dependency_file(path: Path, root: Path | None = None) -> DependencyFile:
    """Read one dependency file; includes must stay inside `root` (default: the file's folder)."""
    kind = "pyproject" if path.name.lower() == "pyproject.toml" else "requirements"
    df = DependencyFile(path=path, kind=kind)
    try:
        data = read_bounded(path, MAX_FILE_BYTES, "dependency file")
    except InputError as exc:
        df.errors.append((None, f"cannot read {redact_text(str(exc))}"))
        return df
    if kind == "pyproject":
        _read_pyproject(df, data)
    else:
        _RequirementsReader(df, (root or path.parent).resolve()).read(path, data)
    return df


class _RequirementsReader:
    """One requirements file and its local `-r`/`-c` includes, each read bounded."""

    def __init__(self, df: DependencyFile, root: Path) -> None:
        self.df = df
        self.root = root
        self.seen: set[Path] = set()

    def read(self, path: Path, data: bytes, depth: int = 0) -> None:
        df = self.df
        self.seen.add(path.resolve())
        top = path == df.path
        try:
            rf = _parse_requirements(data)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            df.errors.append((None, f"cannot read {show_path(path)}: {safe_spec(str(exc))}"))
            return
        where = "" if top else f" (in {show_path(path)})"
        # Lines in file order, an include's requirements where the include stands.
        items: list[tuple[int, int, Any]] = []
        items.extend((bad.requirement_line.line_number, 0, bad) for bad in rf.invalid_lines)
        items.extend((opt.requirement_line.line_number, 1, opt) for opt in rf.options)
        items.extend((ir.requirement_line.line_number, 2, ir) for ir in rf.requirements)
        for line_number, kind, item in sorted(items, key=lambda i: (i[0], i[1])):
            line = line_number if top else None
            if kind == 0:
                df.errors.append((line, f"invalid requirement{where}: {_reason(str(item.error_message))}"))
            elif kind == 1:
                options = item.options or {}
                for ref in (*(options.get("requirements") or ()), *(options.get("constraints") or ())):
                    self._include(path, str(ref), line, where, depth)
            else:
                self._requirement(item, path, line_number, line)

    def _include(self, path: Path, ref: str, line: int | None, where: str, depth: int) -> None:
        df = self.df
        shown = safe_spec(ref)
        if ref.lower().startswith(_REMOTE):
            df.errors.append((line, f"-r/-c {shown}{where}: remote requirement files are not fetched; "
                                    "audit a local copy"))
            return
        included = (path.parent / ref).resolve()
        if not included.is_relative_to(self.root):
            df.errors.append((line, f"-r/-c {shown}{where}: outside the scanned target ({show_path(self.root)}); "
                                    "not read"))
            return
        if included in self.seen:
            return  # already read (an include cycle, or included twice)
        if depth + 1 > MAX_INCLUDE_DEPTH or len(df.includes) >= MAX_INCLUDES:
            df.errors.append((line, f"-r/-c {shown}{where}: more than {MAX_INCLUDE_DEPTH} levels or "
                                    f"{MAX_INCLUDES} included files; not read"))
            return
        try:
            data = read_bounded(included, MAX_FILE_BYTES, "included requirements file")
        except InputError as exc:
            df.errors.append((line, f"-r/-c {shown}{where}: cannot read {redact_text(str(exc))}"))
            return
        df.includes.append(included)
        self.read(included, data, depth + 1)

    def _requirement(self, ir: Any, path: Path, line_number: int, line: int | None) -> None:
        spec = safe_spec(str(ir.requirement_line.line))
        declared = f"{path}:{line_number}"
        name: str | None = ir.name
        req: Any = ir.req
        if req is None or ir.is_editable or ir.link is not None:
            self.df.dependencies.append(
                Dependency(name=name or spec, canonical=str(canonicalize_name(name)) if name else "",
                           kind=UNVERSIONED, version=None, spec=spec, line=line, declared_in=declared)
            )
            return
        kind, version = classify(req)
        self.df.dependencies.append(
            Dependency(name=name or req.name, canonical=str(canonicalize_name(req.name)), kind=kind,
                       version=version, spec=safe_spec(str(req)), line=line, declared_in=declared)
        )


def _parse_requirements(data: bytes) -> RequirementsFile:
    """pip's parser over bytes already read (it only parses files by name: a private copy)."""
    with tempfile.TemporaryDirectory(prefix="auditor-req-") as tmp:
        copy = Path(tmp) / "requirements.txt"
        copy.write_bytes(data)
        return RequirementsFile.from_file(str(copy), include_nested=False)


def _read_pyproject(df: DependencyFile, data: bytes) -> None:
    try:
        text = data.decode("utf-8")
        doc = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        df.errors.append((None, f"cannot read {show_path(df.path)}: {safe_spec(str(exc))}"))
        return
    project = doc.get("project")
    if not isinstance(project, dict):
        df.errors.append((None, f"{show_path(df.path)} has no [project] table; other layouts (e.g. Poetry) are "
                                "not read: export a requirements file and audit that"))
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
            df.errors.append((line, f"invalid requirement {safe_spec(entry)!r}: {_reason(str(exc))}"))
            continue
        kind, version = classify(req)
        df.dependencies.append(
            Dependency(name=req.name, canonical=str(canonicalize_name(req.name)), kind=kind, version=version,
                       spec=safe_spec(str(req)), line=line, declared_in=f"{df.path}:{line or '?'}")
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
