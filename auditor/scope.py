"""One scope for file targets (`--iac`, `--code`), decided by us, not by the tools.

checkov and semgrep each have their own skip rules (semgrep applies the `.gitignore` of a
git repository that *encloses* the target, skips files over 1 MB and a default list of
folders; checkov skips hidden folders). A scan that silently looked at less than the user
asked for must not pass, so the file list is decided here and the tools get exactly it:

- every regular file under the target, except
- the always-skipped folders (version control, dependency and tool caches, virtualenvs:
  they hold no code or infrastructure of the project), and
- what the ignore files *inside* the target exclude: `.gitignore` and `.auditorignore`,
  in any folder, with git's syntax and precedence (a deeper file wins). Ignore files
  above the target never apply: scanning `repo/infra` is not affected by `repo/.gitignore`.

Files that are in scope but cannot be scanned are `skipped` (with the reason) and make the
target's scan incomplete (ERROR): larger than the size limit, unreadable. Things that are
out of scope by rule are only counted (`excluded`). Devices, FIFOs and sockets are never
read; symbolic links are followed only to files inside the target.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from auditor.models import SkippedItem
from auditor.safeio import read_text_bounded

# Files larger than this are not given to a tool (their scan is reported as incomplete).
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
IGNORE_FILES = (".gitignore", ".auditorignore")
MAX_IGNORE_FILE_BYTES = 1024 * 1024
ALWAYS_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".terraform",
        ".venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
MAX_FILES = 200_000  # a target this large is refused rather than half-scanned


class _TooMany(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ScopeFile:
    path: Path  # absolute
    rel: str  # relative to the scope root, with `/`
    size: int


@dataclass
class Scope:
    """The files of one target that the tools must scan, and what was left out."""

    target: Path  # as resolved
    root: Path  # the folder paths are relative to (the target, or a file target's folder)
    files: list[ScopeFile] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)  # in scope, not scannable: incomplete
    excluded: Counter[str] = field(default_factory=Counter)  # out of scope by rule: counts per reason



class _Ignores:
    """The ignore specs in force for one folder: (folder relative to root, spec), outermost first."""

    def __init__(self, specs: tuple[tuple[str, pathspec.GitIgnoreSpec], ...] = ()) -> None:
        self.specs = specs

    def extend(self, folder_rel: str, folder: Path, scope: Scope) -> _Ignores:
        lines: list[str] = []
        for name in IGNORE_FILES:
            path = folder / name
            if not os.path.lexists(path):
                continue
            try:
                lines.extend(read_text_bounded(path, MAX_IGNORE_FILE_BYTES, "ignore file").splitlines())
            except Exception as exc:  # noqa: BLE001 - an unreadable ignore file must not hide files
                scope.skipped.append(SkippedItem(_rel(folder_rel, name), f"ignore file unreadable: {exc}"))
        if not lines:
            return self
        return _Ignores((*self.specs, (folder_rel, pathspec.GitIgnoreSpec.from_lines(lines))))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """git's rule: the deepest ignore file with a matching pattern decides."""
        for base, spec in reversed(self.specs):
            sub = rel[len(base) + 1 :] if base else rel
            result = spec.check_file(sub + "/" if is_dir else sub)
            if result.include is not None:
                return bool(result.include)
        return False


def _rel(folder_rel: str, name: str) -> str:
    return f"{folder_rel}/{name}" if folder_rel else name


def walk_target(target: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Scope:
    """The scope of one file or folder target (see the module doc)."""
    resolved = target.resolve()
    if resolved.is_file():
        scope = Scope(target=resolved, root=resolved.parent)
        _add_file(scope, resolved, resolved.name, max_file_bytes)
        return scope
    scope = Scope(target=resolved, root=resolved)
    try:
        _walk(scope, resolved, "", _Ignores(), max_file_bytes)
    except _TooMany:
        pass  # recorded in `skipped`: the target's scan is incomplete
    scope.files.sort(key=lambda f: f.rel)
    return scope


def _walk(scope: Scope, folder: Path, folder_rel: str, ignores: _Ignores, max_file_bytes: int) -> None:
    ignores = ignores.extend(folder_rel, folder, scope)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        scope.skipped.append(SkippedItem(folder_rel or ".", f"folder unreadable: {exc.strerror or exc}"))
        return
    for entry in entries:
        rel = _rel(folder_rel, entry.name)
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if entry.name in ALWAYS_SKIPPED_DIRS or (Path(entry.path) / "pyvenv.cfg").is_file():
                scope.excluded["always-skipped folder"] += 1
            elif ignores.ignored(rel, True):
                scope.excluded["ignore file"] += 1
            else:
                _walk(scope, Path(entry.path), rel, ignores, max_file_bytes)
            continue
        if ignores.ignored(rel, False):
            scope.excluded["ignore file"] += 1
            continue
        path = Path(entry.path)
        if is_link:
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError):
                scope.excluded["broken symbolic link"] += 1
                continue
            if not real.is_relative_to(scope.root):
                scope.excluded["symbolic link out of the target"] += 1
                continue
            if real.is_dir():
                scope.excluded["symbolic link to a folder"] += 1
                continue
        _add_file(scope, path, rel, max_file_bytes)
        if len(scope.files) > MAX_FILES:
            scope.skipped.append(SkippedItem(rel, f"more than {MAX_FILES} files in the target; the rest not listed"))
            raise _TooMany


def _add_file(scope: Scope, path: Path, rel: str, max_file_bytes: int) -> None:
    try:
        st = os.stat(path)
    except OSError as exc:
        scope.skipped.append(SkippedItem(rel, f"unreadable: {exc.strerror or exc}"))
        return
    if not stat.S_ISREG(st.st_mode):
        scope.excluded["not a regular file"] += 1  # a device, FIFO or socket holds no code
        return
    if st.st_size > max_file_bytes:
        scope.skipped.append(
            SkippedItem(
                rel, f"{st.st_size} bytes, over the {max_file_bytes}-byte scan limit (raise it with --max-file-bytes)"
            )
        )
        return
    if not os.access(path, os.R_OK):
        scope.skipped.append(SkippedItem(rel, "not readable (permission denied)"))
        return
    scope.files.append(ScopeFile(path=path, rel=rel, size=st.st_size))

