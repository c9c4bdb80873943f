"""The final filesystem view of an image: metadata of every path, contents of a few files.

Paths are relative to the image root, without a leading slash (`etc/os-release`).
Symlinks are resolved inside the view only, clamped at the root exactly as a container
sees them (`../../..` from `/` stays at `/`), with a hop limit against loops: nothing is
ever looked up on the host.

Memory and time grow linearly with the length of the paths, whatever their depth: the
directories implied by the entries are a trie of path components (`DirIndex`), not a set
of every ancestor path (which grows with depth x length: one path 60,000 directories
deep needed gigabytes), and whiteout prefixes are matched through a trie as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FILE = "f"
DIR = "d"
SYMLINK = "l"
HARDLINK = "h"
OTHER = "o"  # devices, fifos
MAX_SYMLINK_HOPS = 40
MAX_RESOLVE_STEPS = 4096  # path components walked while resolving one lookup (symlink hops included)
DEFAULT_MAX_PATH_BYTES = 4096  # PATH_MAX: no kept entry is longer, so no lookup can be either


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
    # What a streamed analyser kept of the file (language packages in archives and binaries).
    derived: Any = None

    @property
    def is_regular(self) -> bool:
        return self.kind in (FILE, HARDLINK)


class SymlinkLoop(Exception):
    pass


class DirIndex:
    """Every directory that has (or had) something below it, as a trie of path components.

    Node ids are ints; a child is found by (parent id, name). Adding a path costs its
    length (one node per new component), never depth x length.
    """

    __slots__ = ("_children", "name_bytes")

    def __init__(self) -> None:
        self._children: dict[tuple[int, str], int] = {}
        self.name_bytes = 0  # total length of the component names stored

    def add_parents(self, path: str) -> None:
        """Record every directory above `path` (not `path` itself)."""
        children = self._children
        node = 0
        parts = path.split("/")
        for name in parts[:-1]:
            key = (node, name)
            child = children.get(key)
            if child is None:
                child = len(children) + 1
                children[key] = child
                self.name_bytes += len(name)
            node = child

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str) or not path:
            return False
        children = self._children
        node = 0
        for name in path.split("/"):
            child = children.get((node, name))
            if child is None:
                return False
            node = child
        return True

    def __len__(self) -> int:
        return len(self._children)


class _PrefixNode:
    __slots__ = ("children", "end")

    def __init__(self) -> None:
        self.children: dict[str, _PrefixNode] = {}
        self.end = False


class PrefixSet:
    """Paths (whiteouts, opaque directories) that hide everything below them: membership of a
    path or of any of its ancestors in time linear in the path's length."""

    def __init__(self, paths: set[str]) -> None:
        self.root = _PrefixNode()
        for p in paths:
            node = self.root
            if p:
                for name in p.split("/"):
                    node = node.children.setdefault(name, _PrefixNode())
            node.end = True

    def covers(self, path: str, *, include_self: bool) -> bool:
        """Whether `path` is strictly below a member (or equal to one, with include_self)."""
        node = self.root
        if node.end and path:
            return True  # the root itself: everything is below it
        parts = path.split("/")
        last = len(parts) - 1
        for i, name in enumerate(parts):
            found = node.children.get(name)
            if found is None:
                return False
            node = found
            if node.end and (i < last or include_self):
                return True
        return False


@dataclass
class FileSystemView:
    entries: dict[str, Entry] = field(default_factory=dict)
    captured_bytes: int = 0
    notes: list[str] = field(default_factory=list)  # the first few wanted contents not kept
    uncaptured: int = 0  # wanted file contents not kept (capture budget exhausted): a gap
    # Captured files that a later layer deleted or replaced, when `keep_removed(path)` says so:
    # (path, layer, content). They stay readable in their layer's blob (secret files).
    # (path, layer, content, size).
    removed: list[tuple[str, int, bytes, int]] = field(default_factory=list)
    keep_removed: Callable[[str], bool] | None = None
    # Every directory that has (or had) something below it, listed in the tar or not.
    dirs: DirIndex = field(default_factory=DirIndex)
    # Total length of the entry paths and symlink targets kept (capped by the reader).
    path_bytes: int = 0
    max_path_bytes: int = DEFAULT_MAX_PATH_BYTES

    @property
    def kept_paths(self) -> int:
        """Entries plus implied directories: what the entry cap counts."""
        return len(self.entries) + len(self.dirs)

    @property
    def kept_bytes(self) -> int:
        return self.path_bytes + self.dirs.name_bytes

    def apply_layer(self, added: dict[str, Entry], hidden: set[str], opaque: set[str], layer: int) -> None:
        """Hide lower-layer paths (whiteouts, opaque dirs, replaced dirs), then add this layer's entries."""
        if hidden or opaque:
            hide = PrefixSet(hidden)
            below = PrefixSet(opaque)
            doomed = []
            for path, entry in self.entries.items():
                if entry.layer >= layer:
                    continue
                if hide.covers(path, include_self=True) or below.covers(path, include_self=False):
                    doomed.append(path)
            for path in doomed:
                self._drop(path, self.entries.pop(path))
        dirs = self.dirs
        for path, entry in added.items():
            old = self.entries.get(path)
            if old is not None:
                self._drop(path, old)
            else:
                self.path_bytes += len(path)
            self.path_bytes += len(entry.link or "")
            self.entries[path] = entry
            if "/" in path:
                dirs.add_parents(path)

    def _drop(self, path: str, old: Entry) -> None:
        self.path_bytes -= len(old.link or "")
        if path not in self.entries:
            self.path_bytes -= len(path)
        if old.content is None:
            return
        if self.keep_removed is not None and self.keep_removed(path):
            # stays counted in captured_bytes
            self.removed.append((path, old.layer, old.content, old.size))
        else:
            self.captured_bytes -= len(old.content)

    def resolve(self, path: str) -> str | None:
        """The path with every symlink resolved inside the image; None if it does not exist or loops."""
        try:
            return self._resolve(path.lstrip("/"), 0)
        except SymlinkLoop:
            return None

    def _resolve(self, path: str, hops: int) -> str | None:
        """Walk component by component; each lookup joins at most `max_path_bytes` characters
        (longer paths cannot be in the view) and one lookup walks at most MAX_RESOLVE_STEPS
        components, so a hostile symlink chain costs bounded time."""
        parts = [p for p in path.split("/") if p not in ("", ".")]
        current: list[str] = []
        length = 0  # len("/".join(current))
        steps = 0
        i = 0
        while i < len(parts):
            part = parts[i]
            i += 1
            steps += 1
            if steps > MAX_RESOLVE_STEPS:
                raise SymlinkLoop(path[:200])
            if part == "..":
                if current:
                    gone = current.pop()
                    length = max(0, length - len(gone) - 1) if current else 0
                continue
            length = length + len(part) + (1 if current else 0)
            if length > self.max_path_bytes:
                return None  # longer than any entry the view keeps
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
                length = 0
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
