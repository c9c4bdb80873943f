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
    # `root` relative to the scan's source root ("infra/", "" for the root itself); None when
    # outside it. What messages and evidence show, so they name a file as `resource.path` does.
    shown_prefix: str | None = ""

    def shown(self, rel: str) -> str:
        """A file of this scope as every output shows it: relative to the source root."""
        if self.shown_prefix is None:
            return (self.root / rel).as_posix()
        return self.shown_prefix + rel



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


def walk_target(
    target: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, source_root: Path | None = None
) -> Scope:
    """The scope of one file or folder target (see the module doc); `source_root` decides how
    its files are shown (`Scope.shown`)."""
    resolved = target.resolve()
    if resolved.is_file():
        scope = Scope(target=resolved, root=resolved.parent)
        scope.shown_prefix = _prefix(scope.root, source_root)
        _add_file(scope, resolved, resolved.name, max_file_bytes)
        return scope
    scope = Scope(target=resolved, root=resolved)
    scope.shown_prefix = _prefix(scope.root, source_root)
    try:
        _walk(scope, resolved, "", _Ignores(), max_file_bytes)
    except _TooMany:
        pass  # recorded in `skipped`: the target's scan is incomplete
    scope.files.sort(key=lambda f: f.rel)
    return scope


def _prefix(folder: Path, source_root: Path | None) -> str | None:
    if source_root is None:
        return ""
    rel = PathRebaser(source_root).rebase(str(folder))
    if rel.startswith("/"):
        return None
    return "" if rel == "." else rel + "/"


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



# One path base for every finding ----------------------------------------------------------
#
# A finding's `resource.path` is stored and shown relative to one source root, so that
# SARIF's %SRCROOT%, JUnit's `file`, OCSF, CSV, JSON, the table and the reports name the
# same file the same way, whatever folder was scanned and wherever the scan ran from.


def git_top_level(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git` (a folder, or a file in a worktree
    or submodule), without running git; None outside any repository."""
    here = start if start.is_dir() else start.parent
    for candidate in (here, *here.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return None


def default_source_root(targets: list[Path], cwd: Path | None = None) -> Path:
    """The root paths are relative to when `--source-root` is not given: the git top level of
    the scanned path targets; when they are in no repository (or in several), the deepest folder
    holding them all; with no path target, the git top level of the working directory."""
    resolved = [t.resolve() for t in targets]
    if not resolved:
        here = (cwd or Path.cwd()).resolve()
        return git_top_level(here) or here
    tops = {git_top_level(t) for t in resolved}
    if len(tops) == 1 and None not in tops:
        top = tops.pop()
        assert top is not None
        return top
    folders = [t if t.is_dir() else t.parent for t in resolved]
    common = Path(os.path.commonpath([str(f) for f in folders]))
    return git_top_level(common) or common


class PathRebaser:
    """Turns the paths providers report into paths relative to the source root.

    The provider contract: `resource.path` is absolute, or relative to the finding's target
    when the target names a path (`iac:/abs/folder`, `deps:/abs/requirements.txt`: relative to
    the folder, or to a file target's folder), else already relative to the source root. The
    result uses `/`; a file outside the root keeps its absolute path.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._real_root = Path(os.path.realpath(self.root))
        self._bases: dict[str, Path | None] = {}
        self._done: dict[tuple[Path | None, str], str] = {}

    def base_of(self, target: str) -> Path | None:
        if target not in self._bases:
            _, _, rest = target.partition(":")
            base: Path | None = None
            if rest.startswith("/"):
                p = Path(rest)
                base = p if p.is_dir() else p.parent
            self._bases[target] = base
        return self._bases[target]

    def rebase(self, path: str, target: str = "") -> str:
        base = self.base_of(target) if target else None
        key = (base, path)
        if key not in self._done:
            self._done[key] = self._rebase(path, base)
        return self._done[key]

    def _rebase(self, path: str, base: Path | None) -> str:
        p = Path(path)
        if not p.is_absolute():
            if base is None:
                return PathRebaser._posix(os.path.normpath(path))
            p = base / p
        absolute = Path(os.path.normpath(p))
        for root, candidate in ((self.root, absolute), (self._real_root, Path(os.path.realpath(absolute)))):
            rel = os.path.relpath(candidate, root)
            if rel != ".." and not rel.startswith("../"):
                return PathRebaser._posix(rel)
        return absolute.as_posix()

    @staticmethod
    def _posix(rel: str) -> str:
        return rel.replace(os.sep, "/") if os.sep != "/" else rel
