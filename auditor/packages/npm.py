"""package-lock.json and npm-shrinkwrap.json (and node_modules/.package-lock.json), read once
for every provider.

lockfileVersion 1 records the installed tree as nested `dependencies`; 2 and 3 record it
flat in `packages`, keyed by install path (v2 carries the v1 tree as well: `packages`
wins). What is a package:

- an entry under `node_modules/`; the root project (`""`), workspace members (paths
  outside node_modules) and `link` entries are the project's own code, not packages;
- an alias is the REAL package: in `packages` the entry's `name` (`"node_modules/x":
  {"name": "lodash", ...}`), in a v1 tree or a yarn/pnpm spec the version `npm:real@1.2.3`
  (a vulnerable package installed under another name is still that package);
- an exact version (`1.2.3`, `v1.2.3`, `1.2.3-rc.1+build`) is a registry version (the `v`
  is dropped); anything else (a git URL, `file:`, a tarball URL) has no registry version.

Bounds: the v1 tree is walked without recursion, at most `MAX_DEPTH` levels deep; the
caller caps the file's size (before reading it) and the number of packages (the reader
yields records one by one, so a caller stops when it has enough).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from auditor.packages import LockfileError
from auditor.packages.text import line_index

MAX_DEPTH = 64  # v1 nesting: far beyond real files

_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")
_JSON_KEY_LINE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*:', re.MULTILINE)


@dataclass(frozen=True)
class NpmPackage:
    """One installed package: `version` is its exact registry version, None when it has
    none (git, file, tarball, or no version at all); `spec` is what the file says, for
    display; `line` is where its entry starts (None when not known)."""

    name: str
    version: str | None
    spec: str
    line: int | None = None


def npm_package(name: str, version: str, line: int | None = None) -> NpmPackage:
    """`name` at `version` as a lock file writes it: an alias `npm:real@1.2.3` is the real
    package; an exact version is a registry version; anything else is unversioned."""
    if version.startswith("npm:"):  # an alias: npm:real-name@1.2.3
        real = version[4:]
        at = real.rfind("@")
        if at > 0:
            name, version = real[:at], real[at + 1:]
    exact = _EXACT.match(version) is not None
    return NpmPackage(name, version.lstrip("v") if exact else None, f"{name}@{version}", line)


def read_package_lock(text: str | bytes, *, lines: bool = True) -> Iterator[NpmPackage]:
    """The packages of a package-lock.json, one by one (duplicates included: one name at
    one version may be installed at several paths). `lines=False` skips the line index.

    Raises (possibly after some packages were yielded) `json.JSONDecodeError` (a
    ValueError), `UnicodeDecodeError` (bytes that are not UTF-8), `RecursionError` (JSON
    nested beyond the parser's limit) or `LockfileError` (not a mapping, a v1 tree nested
    deeper than `MAX_DEPTH`)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise LockfileError("the document is not a mapping")
    packages = doc.get("packages")
    if isinstance(packages, dict):
        where = line_index(text, _JSON_KEY_LINE) if lines else {}
        for key, meta in packages.items():
            if not isinstance(key, str) or not isinstance(meta, dict) or "node_modules/" not in key:
                continue  # the root project ("") and workspace members
            if meta.get("link"):
                continue
            alias = meta.get("name")
            name = alias if isinstance(alias, str) else key.rsplit("node_modules/", 1)[1]
            if not name.strip():
                continue
            version = meta.get("version")
            if isinstance(version, str):
                yield npm_package(name, version, where.get(key))
            else:
                yield NpmPackage(name, None, f"{name} (no version)", where.get(key))
        return
    deps = doc.get("dependencies")
    if deps is None:
        return
    if not isinstance(deps, dict):
        raise LockfileError("dependencies is not a mapping")
    stack: list[tuple[dict[str, Any], int]] = [(deps, 0)]
    while stack:
        level, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise LockfileError(f"dependencies nested more than {MAX_DEPTH} levels")
        for name, meta in level.items():
            if not isinstance(meta, dict):
                continue
            version = meta.get("version")
            if isinstance(version, str) and name.strip():
                yield npm_package(name, version)
            nested = meta.get("dependencies")
            if isinstance(nested, dict):
                stack.append((nested, depth + 1))
