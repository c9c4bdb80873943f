"""Stream image layers into the final filesystem view: never extracted, always bounded.

A layer blob is read once, front to back:

    raw blob bytes -> sha256 (must equal the descriptor digest, when one is known)
                   -> gunzip (multi-member) / zstd (if the `zstandard` package is there) / as is
                   -> sha256 (must equal the config's diff_id, when one is known)
                   -> size and ratio caps (a gzip bomb stops at the cap, not at the end of memory)
                   -> tarfile in stream mode ('r|'), one member at a time

Each member is normalised to a path relative to the image root and recorded in the
`FileSystemView` (metadata only, plus the contents of the few small files the inventory
and the checks read). Whiteouts (`.wh.NAME`) and opaque directories (`.wh..wh..opq`) of a
layer hide entries of the layers below it, as the OCI image spec says.

Hostile members never reach the host filesystem because nothing is written anywhere;
members whose path or hard-link target would escape the root (`..`) are left out of the
view and reported as unsafe entries. Members whose path is deeper than
`Limits.max_path_depth` components or longer than `Limits.max_path_bytes` (PATH_MAX), or
whose link target is, are not kept either: they are unsafe entries *and* a gap in the
view (`LayerReport.dropped`), so no check can PASS on a view that lacks them. The view
as a whole is capped (`max_entries` paths, `max_view_path_bytes` of path text), checked
while a layer is read, not after.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
import threading
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from auditor.providers.image.filesystem import DIR, FILE, HARDLINK, OTHER, SYMLINK, Entry, FileSystemView

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1024 * 1024
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile image from exhausting memory, disk or time."""

    max_layer_bytes: int = 8 * 1024**3  # decompressed bytes of one layer
    max_image_bytes: int = 32 * 1024**3  # decompressed bytes of all layers
    max_ratio: int = 200  # decompressed / compressed, checked once past ratio_floor_bytes
    ratio_floor_bytes: int = 64 * 1024**2
    max_entries: int = 2_000_000  # paths in the final view (entries and the directories they imply)
    max_path_depth: int = 1024  # components of one member path (or link target)
    max_path_bytes: int = 4096  # bytes of one member path or link target (Linux PATH_MAX)
    max_view_path_bytes: int = 256 * 1024**2  # total path text the view keeps
    max_header_bytes: int = 1024 * 1024  # pax / GNU long-name header payloads
    max_captured_bytes: int = 256 * 1024**2  # total file contents kept in memory
    max_manifest_bytes: int = 4 * 1024**2  # manifest / index / config JSON


DEFAULT_LIMITS = Limits()


class LayerError(Exception):
    """A layer could not be read completely (the message is one line for the user)."""


class DigestMismatch(LayerError):
    pass


class ImageCapExceeded(LayerError):
    """An image-wide cap was reached (bytes, files, path text): no later layer is read."""


class _HeaderTooLarge(tarfile.HeaderError):
    pass


def make_tarinfo_class(max_header_bytes: int) -> type[tarfile.TarInfo]:
    """A TarInfo that refuses giant pax / GNU long-name headers before tarfile reads them into memory."""

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tarfile_: tarfile.TarFile) -> Any:
            if (
                self.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE)
                and self.size > max_header_bytes
            ):
                raise _HeaderTooLarge(f"a tar extended header of {self.size} bytes (limit {max_header_bytes})")
            return super()._proc_member(tarfile_)  # type: ignore[misc]

    return BoundedTarInfo


_HASHER: ThreadPoolExecutor | None = None
_HASHER_LOCK = threading.Lock()
MAX_PENDING_CHUNKS = 16  # at most this many raw chunks (16 MiB) wait for the hasher


def _hasher() -> ThreadPoolExecutor:
    """One worker thread that hashes raw layer bytes beside the parsing (hashlib releases the
    GIL on large updates): the digest costs no wall time on a second core. One worker keeps
    each hash's updates in submission order."""
    global _HASHER
    with _HASHER_LOCK:
        if _HASHER is None:
            _HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layer-sha256")
        return _HASHER


class _BackgroundSha256:
    """sha256 whose updates run on the hasher thread, in order; `hexdigest` waits for them."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._pending: deque[Future[None]] = deque()

    def update(self, data: bytes) -> None:
        self._pending.append(_hasher().submit(self._hash.update, data))
        while len(self._pending) > MAX_PENDING_CHUNKS:
            self._pending.popleft().result()

    def hexdigest(self) -> str:
        while self._pending:
            self._pending.popleft().result()
        return self._hash.hexdigest()


class _HashingReader:
    """Reads the raw blob, hashing and counting every byte."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hash = _BackgroundSha256()
        self.count = 0
        self.eof = False

    def read(self, n: int = CHUNK) -> bytes:
        if self.eof:
            return b""
        try:
            data = self.raw.read(n if n and n > 0 else CHUNK)
        except OSError as exc:
            raise LayerError(f"cannot read layer data: {exc}") from None
        if not data:
            self.eof = True
            return b""
        self.hash.update(data)
        self.count += len(data)
        return data


class LayerStream(io.RawIOBase):
    """A read-only stream of a layer's uncompressed tar bytes, verified and capped as it goes."""

    def __init__(
        self,
        raw: IO[bytes],
        *,
        expected_digest: str | None,
        expected_diff_id: str | None,
        limits: Limits,
        image_budget: list[int],
    ) -> None:
        super().__init__()
        self._src = _HashingReader(raw)
        self._expected_digest = expected_digest
        self._expected_diff_id = expected_diff_id
        self._limits = limits
        self._budget = image_budget  # one-element list shared by the layers of an image
        self._out_bytes = 0
        self._buf = b""
        self._pos = 0
        self._tail = b""
        self._fed = False
        self._head = self._src.read(CHUNK)
        self._gzip: Any = None
        self._zstd: Any = None
        if self._head.startswith(GZIP_MAGIC):
            self.compression = "gzip"
            self._gzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._head.startswith(ZSTD_MAGIC):
            self.compression = "zstd"
            try:
                import zstandard  # type: ignore[import-not-found, unused-ignore]
            except ImportError:
                raise LayerError("zstd-compressed layer, and the 'zstandard' package is not installed") from None
            self._zstd = zstandard.ZstdDecompressor().stream_reader(
                _Prefixed(self._head, self._src), read_across_frames=True
            )
            self._head = b""
        else:
            self.compression = "none"
        # Uncompressed layers: the raw digest is the diff_id, so hash once.
        self._diff_hash = _BackgroundSha256() if (self.compression != "none" and expected_diff_id) else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def read(self, size: int | None = -1) -> bytes:
        want = CHUNK if size is None or size < 0 else size
        buf, pos = self._buf, self._pos
        if len(buf) - pos >= want:  # the common case: tarfile asks for a record at a time
            self._pos = pos + want
            return buf[pos : pos + want]
        parts = [buf[pos:]]
        have = len(buf) - pos
        self._buf, self._pos = b"", 0
        while have < want:
            chunk = self._next_decoded()
            if not chunk:
                break
            take = want - have
            if len(chunk) <= take:
                parts.append(chunk)
                have += len(chunk)
            else:
                parts.append(chunk[:take])
                self._buf, self._pos = chunk, take
                have = want
        return b"".join(parts)

    def _take_raw(self) -> bytes:
        if self._head:
            raw, self._head = self._head, b""
            return raw
        return self._src.read(CHUNK)

    def _next_decoded(self) -> bytes:
        while True:
            if self.compression == "none":
                out = self._take_raw()
            elif self._zstd is not None:
                try:
                    out = self._zstd.read(CHUNK)
                except LayerError:
                    raise
                except Exception as exc:  # noqa: BLE001 - zstandard.ZstdError has no common base
                    raise LayerError(f"corrupt zstd data: {exc}") from None
            else:
                feed = self._tail or self._take_raw()
                self._tail = b""
                if not feed:
                    if self._fed and not self._gzip.eof:
                        raise LayerError("truncated gzip data (the layer blob ends early)")
                    return b""
                self._fed = True
                try:
                    out = self._gzip.decompress(feed, CHUNK * 4)
                except zlib.error as exc:
                    raise LayerError(f"corrupt gzip data: {exc}") from None
                self._tail = self._gzip.unconsumed_tail
                if self._gzip.eof:
                    rest = self._gzip.unused_data
                    self._gzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    self._fed = False
                    if rest.strip(b"\x00"):
                        self._tail = rest
                if not out:
                    continue
            self._account(out)
            return out

    def _account(self, out: bytes) -> None:
        n = len(out)
        self._out_bytes += n
        self._budget[0] -= n
        if self._diff_hash is not None and out:
            self._diff_hash.update(out)
        lim = self._limits
        if self._out_bytes > lim.max_layer_bytes:
            raise LayerError(
                f"layer decompresses to more than {lim.max_layer_bytes} bytes: refused (decompression bomb?)"
            )
        if self._budget[0] < 0:
            raise ImageCapExceeded(f"image decompresses to more than {lim.max_image_bytes} bytes: refused")
        if (
            self.compression != "none"
            and self._out_bytes > lim.ratio_floor_bytes
            and self._out_bytes > lim.max_ratio * max(self._src.count, 1)
        ):
            raise LayerError(
                f"layer decompresses more than {lim.max_ratio}:1 past {lim.ratio_floor_bytes} bytes: "
                "refused as a decompression bomb"
            )

    def finish(self) -> dict[str, Any]:
        """Drain what tarfile left unread (end-of-archive padding) and verify both digests."""
        self._buf, self._pos = b"", 0
        while self._next_decoded():
            pass
        raw_digest = "sha256:" + self._src.hash.hexdigest()
        if self._expected_digest and raw_digest != self._expected_digest:
            raise DigestMismatch(f"content digest {raw_digest} does not match the manifest's {self._expected_digest}")
        if self.compression == "none":
            diff_id: str | None = raw_digest
        else:
            diff_id = "sha256:" + self._diff_hash.hexdigest() if self._diff_hash is not None else None
        if self._expected_diff_id and diff_id != self._expected_diff_id:
            raise DigestMismatch(
                f"uncompressed digest {diff_id} does not match the config's diff_id {self._expected_diff_id}"
            )
        return {
            "compression": self.compression,
            "compressed_bytes": self._src.count,
            "uncompressed_bytes": self._out_bytes,
            "digest": raw_digest,
            "diff_id": diff_id,
        }


class _Prefixed:
    """A reader that returns `head` first, then the rest of `src` (for zstandard)."""

    def __init__(self, head: bytes, src: _HashingReader) -> None:
        self.head = head
        self.src = src

    def read(self, n: int = CHUNK) -> bytes:
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            return out
        return self.src.read(n)


def normalise_member_path(name: str) -> str | None:
    """The member's path relative to the image root ('' for the root); None when it would escape it.

    Absolute member names are read relative to the root, as container runtimes do.
    """
    path = name.lstrip("/")
    if _escapes(path):
        return None
    norm = posixpath.normpath(path) if path else "."
    return "" if norm == "." else norm


def _escapes(path: str) -> bool:
    depth = 0
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        else:
            depth += 1
    return False


Wanted = Callable[[str, int], int]
"""wanted(path, size) -> how many bytes of the file's content to keep (0: none)."""
Analyse = Callable[[str, int, int], Callable[[IO[bytes], int], Any] | None]
"""analyse(path, size, mode) -> a function that reads the member's bytes as the layer streams
by and returns what to keep of it (`Entry.derived`), or None: the file is not analysed."""


@dataclass
class LayerReport:
    index: int
    digest: str
    entries: int = 0
    unsafe: list[str] = field(default_factory=list)
    # Members that belong to the image but were not kept (over the depth/length caps): a gap.
    dropped: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    # "verified": read to the end and matched every digest named for it; "unverified": read,
    # but no digest was named to check it against; "mismatch": read, digest differs;
    # "unreadable": could not be read to the end; "not read": never opened.
    state: str = "not read"
    error: str | None = None

    @property
    def verified(self) -> bool:
        return self.state == "verified"


def path_over_caps(path: str, limits: Limits) -> str | None:
    """Why a member path (or link target) is not kept, or None. Linear in the path's length."""
    if len(path) > limits.max_path_bytes or len(path.encode("utf-8", "surrogateescape")) > limits.max_path_bytes:
        return f"longer than {limits.max_path_bytes} bytes"
    if path.count("/") + 1 > limits.max_path_depth:
        return f"deeper than {limits.max_path_depth} directories"
    return None


def _short(name: str) -> str:
    return name if len(name) <= 200 else f"{name[:120]}...{name[-60:]} ({len(name)} characters)"


def read_layer(
    stream: LayerStream,
    view: FileSystemView,
    report: LayerReport,
    wanted: Wanted,
    limits: Limits,
    analyse: Analyse | None = None,
) -> None:
    """Apply one layer's members to the view (whiteouts first hide lower layers' entries).

    The view's caps are checked as members arrive: a layer of ten million members stops at
    the cap, not after they were all held in memory.
    """
    added: dict[str, Entry] = {}
    hidden: set[str] = set()  # paths whose lower-layer entries (and children) disappear
    opaque: set[str] = set()  # directories whose lower-layer children disappear
    pending_bytes = 0  # path text held for this layer (added keys, links, whiteouts)
    # Names up to this many characters are within both caps (4 bytes per character at most,
    # one component per two characters at most): only longer ones are measured.
    quick_ok = min(limits.max_path_bytes // 4, 2 * limits.max_path_depth - 1)
    view.max_path_bytes = limits.max_path_bytes
    try:
        tf = tarfile.open(  # noqa: SIM115 - stream mode, read to the end below
            fileobj=stream,
            mode="r|",
            tarinfo=make_tarinfo_class(limits.max_header_bytes),
        )
    except tarfile.TarError as exc:
        raise LayerError(f"not a tar archive: {exc}") from None
    try:
        while True:
            try:
                member = tf.next()
            except _HeaderTooLarge as exc:
                raise LayerError(str(exc)) from None
            except (tarfile.TarError, EOFError) as exc:
                raise LayerError(f"truncated or damaged tar data: {exc}") from None
            if member is None:
                break
            tf.members = []  # type: ignore[attr-defined]  # stream mode keeps every TarInfo otherwise
            report.entries += 1
            if view.kept_paths + len(added) + len(hidden) + len(opaque) >= limits.max_entries:
                raise ImageCapExceeded(f"more than {limits.max_entries} files in the image: refused")
            if view.kept_bytes + pending_bytes > limits.max_view_path_bytes:
                raise ImageCapExceeded(
                    f"more than {limits.max_view_path_bytes} bytes of path names in the image: refused"
                )
            over = path_over_caps(member.name, limits) if len(member.name) > quick_ok else None
            if over is not None:
                what = f"path {over}: {_short(member.name)}"
                report.unsafe.append(what)
                report.dropped.append(what)
                continue
            path = normalise_member_path(member.name)
            if path is None:
                report.unsafe.append(f"path escapes the image root: {member.name[:200]}")
                continue
            if path == "":
                continue
            parent, base = posixpath.split(path)
            if base.startswith(WHITEOUT_PREFIX):
                if base == OPAQUE_MARKER:
                    opaque.add(parent)
                else:
                    target = posixpath.join(parent, base[len(WHITEOUT_PREFIX) :])
                    hidden.add(target)
                    added.pop(target, None)
                pending_bytes += len(path)
                continue
            if (member.issym() or member.islnk()) and (link_over := path_over_caps(member.linkname, limits)):
                what = f"link target {link_over}: {_short(member.name)}"
                report.unsafe.append(what)
                report.dropped.append(what)
                continue
            entry = _entry_for(member, path, report)
            if entry is None:
                continue
            pending_bytes += len(path) + len(entry.link or "")
            if entry.kind == FILE:
                keep = wanted(path, member.size)
                if keep > 0:
                    entry.content = _read_content(tf, member, keep, view, limits)
                elif analyse is not None and (analyser := analyse(path, member.size, entry.mode)) is not None:
                    fh = tf.extractfile(member)
                    if fh is not None:
                        entry.derived = analyser(fh, member.size)
            elif entry.kind == HARDLINK and entry.link is not None:
                target_entry = added.get(entry.link) or view.entries.get(entry.link)
                if target_entry is not None:
                    entry.size = target_entry.size
                    entry.content = target_entry.content
                    entry.derived = target_entry.derived
            if entry.kind != DIR:
                lower = view.entries.get(path)
                if (lower is not None and lower.kind == DIR) or path in view.dirs:
                    hidden.add(path)  # a non-directory replaces a lower directory and everything below it
            added[path] = entry
    except LayerError:
        raise
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise LayerError(f"truncated or damaged tar data: {exc}") from None
    view.apply_layer(added, hidden, opaque, report.index)
    if view.kept_paths > limits.max_entries:
        raise ImageCapExceeded(f"more than {limits.max_entries} files in the image: refused")


def _entry_for(member: tarfile.TarInfo, path: str, report: LayerReport) -> Entry | None:
    mode = member.mode & 0o7777
    if member.isreg():
        return Entry(FILE, mode, member.size, member.uid, member.gid, None, report.index)
    if member.isdir():
        return Entry(DIR, mode, 0, member.uid, member.gid, None, report.index)
    if member.issym():
        return Entry(SYMLINK, mode, 0, member.uid, member.gid, member.linkname, report.index)
    if member.islnk():
        target = normalise_member_path(member.linkname)
        if target is None or target == "":
            report.unsafe.append(f"hard link escapes the image root: {member.name[:200]} -> {member.linkname[:200]}")
            return None
        return Entry(HARDLINK, mode, 0, member.uid, member.gid, target, report.index)
    return Entry(OTHER, mode, 0, member.uid, member.gid, None, report.index)


def _read_content(
    tf: tarfile.TarFile, member: tarfile.TarInfo, keep: int, view: FileSystemView, limits: Limits
) -> bytes | None:
    n = min(keep, member.size)
    if view.captured_bytes + n > limits.max_captured_bytes:
        view.uncaptured += 1
        if len(view.notes) < 20:
            view.notes.append(f"content of {_short(member.name)} not kept: capture budget exhausted")
        return None
    fh = tf.extractfile(member)
    if fh is None:
        return None
    data = fh.read(n)
    if len(data) < n:
        raise LayerError(f"truncated tar data in {member.name[:200]}")
    view.captured_bytes += len(data)
    return data
