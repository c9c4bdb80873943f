"""Which frameworks are installed: the `auditor.frameworks` entry point group and `--catalog-dir`.

A framework is a catalog file (controls/*.yaml format, see auditor/catalog.py). It comes from

- an entry point in the group `auditor.frameworks`, named after the framework id, whose object is
  the path (a `str` or `os.PathLike`) of the catalog file, or of a folder holding `<id>.yaml`.
  auditor's own catalogs are declared exactly like that (`soc2 = "auditor.catalogs:soc2"` in
  pyproject.toml); nothing in the core names a framework;
- a folder given by `--catalog-dir DIR` (audit.yaml `catalog_dir`): every `<id>.yaml` in it is the
  catalog of framework `<id>`.

Discovery is cheap: listing reads entry point metadata and file names only. A catalog is parsed
(and validated: unique ids, known keys, well-formed references, its `framework:` matching the
id it is installed under) the first time it is needed, then kept for the process. Every error is
one ConfigError line (exit 2) naming the file and line, or the entry point.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from auditor.catalog import Framework, load_framework
from auditor.errors import ConfigError
from auditor.safeio import show_path

ENTRY_POINT_GROUP = "auditor.frameworks"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class FrameworkSource:
    """Where one installed framework's catalog comes from (not parsed yet)."""

    id: str
    origin: str  # for messages: `entry point soc2 = auditor.catalogs:soc2 (auditor 0.1.0)` or the file
    entry_point: EntryPoint | None = None
    path: Path | None = None

    def catalog_path(self) -> Path:
        """The catalog file: imports the entry point's module only now."""
        if self.path is not None:
            return self.path
        assert self.entry_point is not None
        try:
            target = self.entry_point.load()
        except Exception as exc:  # noqa: BLE001 - a plugin's import error: one line naming the plugin
            raise ConfigError(f"framework {self.id!r} ({self.origin}) cannot be loaded: {exc}") from None
        if not isinstance(target, (str, os.PathLike)):
            raise ConfigError(
                f"framework {self.id!r} ({self.origin}) names a {type(target).__name__}, "
                "not the path of a catalog file or folder"
            )
        path = Path(os.fspath(target))
        if path.is_dir():
            path = path / f"{self.id}.yaml"
        if not path.is_file():
            raise ConfigError(f"framework {self.id!r} ({self.origin}): no catalog file at {show_path(path)}")
        return path


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    owner = f" ({dist.name} {dist.version})" if dist is not None else ""
    return f"entry point {ep.name} = {ep.value}{owner}"


def discover(catalog_dir: Path | None = None, eps: Iterable[EntryPoint] | None = None) -> dict[str, FrameworkSource]:
    """Installed frameworks by id, from entry point metadata and file names (nothing parsed)."""
    found: dict[str, FrameworkSource] = {}
    for ep in eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP):
        if not _ID.match(ep.name):
            raise ConfigError(f"{_origin(ep)}: a framework id is lower-case letters, digits, '-' and '_'")
        prior = found.get(ep.name)
        if prior is not None:
            if prior.entry_point is not None and prior.entry_point.value == ep.value:
                continue  # the same distribution seen twice on sys.path
            raise ConfigError(f"two installed frameworks claim the id {ep.name!r}: {prior.origin} and {_origin(ep)}")
        found[ep.name] = FrameworkSource(ep.name, _origin(ep), entry_point=ep)
    if catalog_dir is not None:
        for fid, path in _catalog_dir_files(catalog_dir).items():
            if fid in found:
                raise ConfigError(
                    f"{show_path(path)}: framework {fid!r} is already installed ({found[fid].origin}); "
                    "give this catalog another id"
                )
            found[fid] = FrameworkSource(fid, show_path(path), path=path)
    return dict(sorted(found.items()))


def _catalog_dir_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise ConfigError(f"--catalog-dir {show_path(folder)}: not a folder")
    out: dict[str, Path] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        if not path.is_file():
            continue
        if not _ID.match(path.stem):
            raise ConfigError(
                f"{show_path(path)}: a catalog file is named <framework id>.yaml "
                "(lower-case letters, digits, '-' and '_')"
            )
        if path.stem in out:
            raise ConfigError(f"{show_path(path)}: framework {path.stem!r} is defined twice in {show_path(folder)}")
        out[path.stem] = path
    if not out:
        raise ConfigError(f"--catalog-dir {show_path(folder)}: no catalog (<framework id>.yaml) in it")
    return out


class Registry:
    """The frameworks of one process: discovered once, each parsed when first asked for."""

    def __init__(self, catalog_dir: Path | None = None, eps: Iterable[EntryPoint] | None = None) -> None:
        self.catalog_dir = catalog_dir
        self._eps = list(eps) if eps is not None else None
        self._sources: dict[str, FrameworkSource] | None = None
        self._loaded: dict[str, Framework] = {}

    @property
    def sources(self) -> dict[str, FrameworkSource]:
        if self._sources is None:
            self._sources = discover(self.catalog_dir, self._eps)
        return self._sources

    def ids(self) -> list[str]:
        return list(self.sources)

    def check_ids(self, ids: Iterable[str], what: str = "framework") -> tuple[str, ...]:
        """The ids, validated against what is installed (ConfigError listing the installed ones)."""
        out = tuple(ids)
        for fid in out:
            if fid not in self.sources:
                installed = ", ".join(self.sources) or "none"
                raise ConfigError(f"unknown {what} {fid!r} (installed: {installed})")
        return out

    def get(self, fid: str) -> Framework:
        hit = self._loaded.get(fid)
        if hit is not None:
            return hit
        self.check_ids([fid])
        source = self.sources[fid]
        path = source.catalog_path()
        fw = load_framework(path)
        if fw.id != fid:
            raise ConfigError(
                f"{show_path(path)}:1: the catalog says framework {fw.id!r} "
                f"but is installed as {fid!r} ({source.origin})"
            )
        self._loaded[fid] = fw
        return fw

    def load(self, ids: Iterable[str]) -> list[Framework]:
        return [self.get(fid) for fid in self.check_ids(ids)]

    def load_all(self) -> dict[str, Framework]:
        return {fid: self.get(fid) for fid in self.sources}


_registry: Registry | None = None


def registry() -> Registry:
    """The process's registry (entry points plus the `--catalog-dir` set by `use_catalog_dir`)."""
    global _registry
    if _registry is None:
        _registry = Registry()
    return _registry


def use_catalog_dir(folder: Path | None) -> Registry:
    """Make `folder`'s catalogs part of the installed frameworks for this process (None: entry points only)."""
    global _registry
    current = registry()
    if current.catalog_dir != folder:
        _registry = Registry(folder)
        _registry.sources  # noqa: B018 - validate the folder now: a bad --catalog-dir is a usage error
    return registry()


def installed_ids() -> list[str]:
    return registry().ids()


def load_frameworks(ids: Iterable[str]) -> list[Framework]:
    return registry().load(ids)


def load_all() -> dict[str, Framework]:
    return registry().load_all()


def load_catalog() -> dict[str, Framework]:
    """Every installed framework (the `auditor.frameworks` entry points, and the active
    `--catalog-dir`), by framework id; each catalog is parsed once per process."""
    return load_all()


def frameworks_for(ids: Iterable[str], catalog_dir: Path | None = None) -> list[Framework]:
    """The named frameworks, parsed on demand; ConfigError listing the installed ones for an unknown id.
    `catalog_dir` (audit.yaml `catalog_dir`, --catalog-dir) adds its catalogs to the installed ones."""
    if catalog_dir is not None:
        use_catalog_dir(catalog_dir)
    return load_frameworks(ids)


def catalog_problems(
    frameworks: Iterable[Framework], check_ids: Iterable[str], patterns: Iterable[str] = ()
) -> list[str]:
    """What is wrong between the installed catalogs and the installed providers' checks:
    a check reference (pass condition or support) that resolves to no check or declared tool-id
    pattern, and a check that no control of any framework maps (unique ids and well-formed
    references are already enforced when a catalog loads). `auditor controls --validate`."""
    import fnmatch

    ids = set(check_ids)
    globs = list(patterns)
    fws = list(frameworks)

    def resolves(ref: str) -> bool:
        if any(ch in ref for ch in "*?["):
            return ref in globs or any(fnmatch.fnmatchcase(ref, p) for p in globs) or any(
                fnmatch.fnmatchcase(i, ref) for i in ids
            )
        return ref in ids or any(fnmatch.fnmatchcase(ref, p) for p in globs)

    problems: list[str] = []
    for fw in fws:
        for c in fw.controls:
            for ref in c.checks:
                if not resolves(ref):
                    problems.append(f"{c.ref}: check {ref} is not a check of any installed provider")
            for ref in c.supporting:
                if not resolves(ref):
                    problems.append(f"{c.ref}: supporting check {ref} is not a check of any installed provider")
    controls = [c for fw in fws for c in fw.controls]
    for check_id in sorted(ids):
        if not any(c.matches(check_id) or c.supported_by(check_id) for c in controls):
            problems.append(f"check {check_id} maps to no control of any installed framework")
    return problems
