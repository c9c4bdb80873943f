"""The final filesystem view of an image: metadata of every path, contents of a few files.

Paths are relative to the image root, without a leading slash (`etc/os-release`).
Symlinks are resolved inside the view only, clamped at the root exactly as a container
sees them (`../../..` from `/` stays at `/`), with a hop limit against loops: nothing is
ever looked up on the host.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

FILE = "f"
DIR = "d"
SYMLINK = "l"
HARDLINK = "h"
OTHER = "o"  # devices, fifos
MAX_SYMLINK_HOPS = 40


@dataclass(slots=True)
class Entry:
    kind: str
    mode: int
    size: int
    uid: int
    gid: int
    link: str | None  # symlink target as written, or the hard link's normalised target path
    layer: int
    content: bytes | None = None

    @property
    def is_regular(self) -> bool:
        return self.kind in (FILE, HARDLINK)


class SymlinkLoop(Exception):
    pass


@dataclass
class FileSystemView:
    entries: dict[str, Entry] = field(default_factory=dict)
    captured_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    # Captured files that a later layer deleted or replaced, when `keep_removed(path)` says so:
    # (path, layer, content). They stay readable in their layer's blob (secret files).
    removed: list[tuple[str, int, bytes]] = field(default_factory=list)
    keep_removed: Callable[[str], bool] | None = None
    # Every directory that has (or had) something below it, listed in the tar or not.
    dirs: set[str] = field(default_factory=set)

    def apply_layer(self, added: dict[str, Entry], hidden: set[str], opaque: set[str], layer: int) -> None:
        """Hide lower-layer paths (whiteouts, opaque dirs, replaced dirs), then add this layer's entries."""
        if hidden or opaque:
            doomed = []
            for path, entry in self.entries.items():
                if entry.layer >= layer:
                    continue
                if _under_any(path, hidden, include_self=True) or _under_any(path, opaque, include_self=False):
                    doomed.append(path)
            for path in doomed:
                self._drop(path, self.entries.pop(path))
        dirs = self.dirs
        for path, entry in added.items():
            old = self.entries.get(path)
            if old is not None:
                self._drop(path, old)
            self.entries[path] = entry
            cut = path.rfind("/")
            while cut > 0:
                parent = path[:cut]
                if parent in dirs:
                    break
                dirs.add(parent)
                cut = parent.rfind("/")

    def _drop(self, path: str, old: Entry) -> None:
        if old.content is None:
            return
        if self.keep_removed is not None and self.keep_removed(path):
            self.removed.append((path, old.layer, old.content))  # stays counted in captured_bytes
        else:
            self.captured_bytes -= len(old.content)

    def resolve(self, path: str) -> str | None:
        """The path with every symlink resolved inside the image; None if it does not exist or loops."""
        try:
            return self._resolve(path.lstrip("/"), 0)
        except SymlinkLoop:
            return None

    def _resolve(self, path: str, hops: int) -> str | None:
        parts = [p for p in path.split("/") if p not in ("", ".")]
        current: list[str] = []
        i = 0
        while i < len(parts):
            part = parts[i]
            i += 1
            if part == "..":
                if current:
                    current.pop()
                continue
            candidate = "/".join([*current, part])
            entry = self.entries.get(candidate)
            if entry is None:
                if i < len(parts):
                    current.append(part)  # a directory the tar never listed explicitly
                    continue
                return None
            if entry.kind == SYMLINK and entry.link is not None:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise SymlinkLoop(candidate)
                target = entry.link
                base: list[str] = [] if target.startswith("/") else current[:]
                rest = [p for p in target.split("/") if p not in ("", ".")]
                parts = base + rest + parts[i:]
                current = []
                i = 0
                # restart the walk from the root over the rewritten path
                continue
            current.append(part)
        return "/".join(current)

    def get(self, path: str) -> Entry | None:
        """The entry at `path` after resolving symlinks (hard links to their target's data)."""
        real = self.resolve(path)
        if real is None:
            return None
        return self.entries.get(real) if real else None

    def read(self, path: str) -> bytes | None:
        entry = self.get(path)
        if entry is None or not entry.is_regular:
            return None
        return entry.content

    def files(self) -> list[tuple[str, Entry]]:
        return [(p, e) for p, e in self.entries.items() if e.is_regular]


def _under_any(path: str, prefixes: set[str], *, include_self: bool) -> bool:
    if include_self and path in prefixes:
        return True
    parent = path
    while parent:
        parent = posixpath.dirname(parent)
        if parent in prefixes:
            return True
    return False
