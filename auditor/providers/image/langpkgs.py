"""Language packages inside image layers: npm, Ruby gems, Java archives, Go and Rust binaries.

Small metadata files (package.json, *.gemspec, lockfiles) are captured like the other
inventory files and parsed here. Archives and binaries are *analysed while the layer
streams by* (`analyser_for`): the analyser reads the member's bytes through the tar
stream, keeps only the packages it found, and never holds more than its cap:

- Java archives (.jar/.war/.ear): read whole up to `MAX_ARCHIVE_BYTES`, then
  `META-INF/maven/**/pom.properties` of the archive and of the archives nested inside it
  (to `MAX_NESTING` levels, each inner member decompressed only up to its own cap and the
  archive's total budget: a zip bomb stops at the cap);
- executables: the first bytes say whether it is ELF; Go build info (the
  `\\xff Go buildinf:` header, inline strings of Go >= 1.18, or the pointer format of
  older toolchains resolved through the ELF program headers) and Rust `cargo auditable`
  data (the `.dep-v0` section: zlib-compressed JSON, found by its stream header and
  decompressed to at most `MAX_AUDIT_JSON`) are looked for chunk by chunk.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from auditor.packages.npm import read_package_lock

MAX_ARCHIVE_BYTES = 128 * 1024**2  # one outer Java archive read into memory
MAX_NESTED_BYTES = 32 * 1024**2  # one nested archive
MAX_NESTING = 3
MAX_ZIP_MEMBERS = 100_000
MAX_PROPERTIES_BYTES = 64 * 1024
MAX_ARCHIVE_BUDGET = 256 * 1024**2  # decompressed bytes read out of one outer archive, nested included
MAX_BINARY_BYTES = 512 * 1024**2  # executables larger than this are not analysed
MAX_HISTORY_BYTES = 32 * 1024**2  # bytes of an ELF kept for the pre-1.18 Go pointer format
MAX_BUILDINFO_BYTES = 4 * 1024**2
MAX_AUDIT_JSON = 16 * 1024**2
CHUNK = 1024 * 1024
OVERLAP = 4096  # bytes of one window searched again in the next
MAX_PACKAGES_PER_FILE = 50_000

GO_MAGIC = b"\xff Go buildinf:"
GO_INFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
GO_INFO_END = bytes.fromhex("f932433186182072008242104116d8f2")
ZIP_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,  # encrypted members
    zlib.error,
    struct.error,
)
# The `.note.go.buildid` ELF note (namesz 4, type 4, name "Go"), little- or big-endian
GO_NOTE = re.compile(
    rb"\x04\x00\x00\x00.\x00\x00\x00\x04\x00\x00\x00Go\x00\x00|\x00\x00\x00\x04\x00\x00\x00.\x00\x00\x00\x04Go\x00\x00",
    re.DOTALL,
)
ZLIB_HEADER = re.compile(rb"\x78[\x01\x5e\x9c\xda]")  # zlib streams of every compression level
AUDIT_PREFIX = b'{"packages":['


@dataclass(frozen=True)
class Found:
    """A package found in a file: (type, name, version) plus an optional group (Maven)."""

    type: str  # "npm", "gem", "maven", "golang", "cargo"
    name: str
    version: str
    namespace: str | None = None


@dataclass(frozen=True)
class Analysis:
    """What an analyser kept of one file: its packages and, when it could not finish, why."""

    found: tuple[Found, ...]
    problem: str | None = None
    unidentified: bool = False  # a Java archive without Maven metadata: its packages are unknown


Analyser = Callable[[IO[bytes], int], Analysis]


# --- captured metadata files -----------------------------------------------------------


def npm_package_dir(path: str) -> bool:
    """`.../node_modules/NAME/package.json` or `.../node_modules/@SCOPE/NAME/package.json`."""
    parts = path.split("/")
    if len(parts) < 3 or parts[-1] != "package.json":
        return False
    if parts[-3] == "node_modules" and not parts[-2].startswith("@"):
        return True
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


def parse_npm_package_json(data: bytes) -> list[Found]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return []
    if not isinstance(doc, dict):
        return []
    name, version = doc.get("name"), doc.get("version")
    if isinstance(name, str) and isinstance(version, str) and name and version:
        return [Found("npm", name[:214], version[:100])]
    return []


def parse_npm_lockfile(data: bytes) -> list[Found]:
    """package-lock.json / npm-shrinkwrap.json v1-v3: the installed tree it records, read by the
    shared reader (`auditor.packages.npm`, as the deps provider reads a repository's): an alias
    is the real package; git, file and tarball entries (no registry version) are left out. A file
    that is not a lock file (not JSON, not UTF-8, not a mapping) gives no packages; one whose v1
    tree is nested too deeply gives those read before the limit."""
    out: list[Found] = []
    try:
        for pkg in read_package_lock(data, lines=False):
            if pkg.version is not None:
                out.append(Found("npm", pkg.name, pkg.version))
                if len(out) >= MAX_PACKAGES_PER_FILE:
                    break
    except (ValueError, RecursionError):  # json.JSONDecodeError, UnicodeDecodeError, LockfileError
        pass
    return out


GEMSPEC_NAME = re.compile(rb"""\.name\s*=\s*["']([^"'\n]+)["']""")
GEMSPEC_VERSION = re.compile(rb"""\.version\s*=\s*(?:Gem::Version\.new\()?\s*["']([^"'\n]+)["']""")


def gemspec_file(path: str) -> bool:
    """`.../specifications/NAME-VERSION.gemspec`, and Ruby's default gems in `specifications/default/`."""
    if not path.endswith(".gemspec"):
        return False
    parent = posixpath.dirname(path)
    return posixpath.basename(parent) == "specifications" or parent.endswith("/specifications/default")


def parse_gemspec(path: str, data: bytes) -> list[Found]:
    """Name and version from the spec's content; the file name (`NAME-VERSION[-PLATFORM].gemspec`) otherwise."""
    name_m, version_m = GEMSPEC_NAME.search(data), GEMSPEC_VERSION.search(data)
    name = name_m.group(1).decode("utf-8", "replace") if name_m else None
    version = version_m.group(1).decode("utf-8", "replace") if version_m else None
    if not (name and version):
        stem = posixpath.basename(path)[: -len(".gemspec")]
        parts = stem.split("-")
        for i in range(len(parts) - 1, 0, -1):
            if parts[i][:1].isdigit():
                name, version = name or "-".join(parts[:i]), version or parts[i]
                break
    if name and version:
        return [Found("gem", name, version)]
    return []


# --- streamed analysers -----------------------------------------------------------------

JAVA_ARCHIVE = (".jar", ".war", ".ear")


def analyser_for(path: str, size: int, mode: int) -> Analyser | None:
    """The analyser a regular file needs while its layer streams by (None: none)."""
    if path.endswith(JAVA_ARCHIVE):
        return _guarded(analyse_java_archive)
    if mode & 0o111 and 64 <= size <= MAX_BINARY_BYTES:
        return _guarded(analyse_binary)
    return None


# Data errors a parser may still meet on hostile input; the tar stream's own errors
# (tarfile.TarError: the layer is truncated) are not caught here: they are the layer's.
DATA_ERRORS = (ValueError, IndexError, KeyError, struct.error, zlib.error, RecursionError, OverflowError)


def _guarded(analyser: Analyser) -> Analyser:
    def run(fh: IO[bytes], size: int) -> Analysis:
        try:
            return analyser(fh, size)
        except DATA_ERRORS as exc:
            return Analysis((), f"unreadable: {type(exc).__name__}: {str(exc)[:200]}")

    return run


def _read_capped(fh: IO[bytes], size: int, cap: int) -> bytes | None:
    if size > cap:
        return None
    data = fh.read(size)
    return data if len(data) == size else None


class _Budget:
    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, n: int) -> bool:
        self.left -= n
        return self.left >= 0


def analyse_java_archive(fh: IO[bytes], size: int) -> Analysis:
    data = _read_capped(fh, size, MAX_ARCHIVE_BYTES)
    if data is None:
        return Analysis((), f"Java archive of {size} bytes: over the {MAX_ARCHIVE_BYTES}-byte cap, not read")
    found: list[Found] = []
    problems: list[str] = []
    _scan_zip(data, 0, _Budget(MAX_ARCHIVE_BUDGET), found, problems)
    problem = None
    if problems:
        problem = problems[0] + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else "")
    unique = tuple(dict.fromkeys(found))[:MAX_PACKAGES_PER_FILE]
    return Analysis(unique, problem, unidentified=not unique and problem is None)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, budget: _Budget) -> bytes | None:
    """A member's bytes, decompressed in steps: stops at `cap` whatever the header claims."""
    if info.file_size > cap:
        return None
    out = bytearray()
    with zf.open(info) as member:
        while True:
            chunk = member.read(64 * 1024)
            if not chunk:
                break
            out += chunk
            if len(out) > cap or not budget.take(len(chunk)):
                return None
    return bytes(out)


def _scan_zip(data: bytes, depth: int, budget: _Budget, found: list[Found], problems: list[str]) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except ZIP_ERRORS as exc:
        problems.append(f"not a readable zip archive: {str(exc)[:200]}")
        return
    if len(infos) > MAX_ZIP_MEMBERS:
        problems.append(f"more than {MAX_ZIP_MEMBERS} members: not read")
        return
    for info in infos:
        name = info.filename
        try:
            if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
                raw = _read_member(zf, info, MAX_PROPERTIES_BYTES, budget)
                if raw is None:
                    problems.append(f"{name[:200]}: over its cap")
                    continue
                pkg = parse_pom_properties(raw)
                if pkg is not None:
                    found.append(pkg)
            elif name.endswith(JAVA_ARCHIVE):
                if depth + 1 > MAX_NESTING:
                    problems.append(f"{name[:200]}: nested deeper than {MAX_NESTING} archives, not read")
                    continue
                inner = _read_member(zf, info, MAX_NESTED_BYTES, budget)
                if inner is None:
                    problems.append(f"{name[:200]}: nested archive over its cap, not read")
                    continue
                _scan_zip(inner, depth + 1, budget, found, problems)
        except ZIP_ERRORS as exc:
            problems.append(f"{name[:200]}: {str(exc)[:200]}")
        if budget.left < 0:
            problems.append(f"more than {MAX_ARCHIVE_BUDGET} decompressed bytes: the rest not read")
            return


def parse_pom_properties(raw: bytes) -> Found | None:
    values: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if sep:
            values.setdefault(key.strip(), value.strip())
    group, artifact, version = values.get("groupId"), values.get("artifactId"), values.get("version")
    if group and artifact and version:
        return Found("maven", artifact, version, namespace=group)
    return None


def analyse_binary(fh: IO[bytes], size: int) -> Analysis:
    head = fh.read(min(size, CHUNK))
    if not head.startswith(b"\x7fELF"):
        return Analysis(())  # scripts and other executables: nothing to read
    # The file so far (chunks), while under MAX_HISTORY_BYTES: the pre-1.18 Go pointer format
    # points back into it. None once the file is larger, or when the first page has no Go
    # build-id note (every gc-built Go ELF has one): the inline format needs no history.
    history: list[bytes] | None = [head] if GO_NOTE.search(head, 0, 64 * 1024) else None
    kept = len(head)
    window = head
    offset = 0  # file offset of window[0]

    def more_data(n: int) -> bytes:
        nonlocal history, kept
        data = fh.read(n)
        if history is not None:
            kept += len(data)
            if kept <= MAX_HISTORY_BYTES:
                history.append(data)
            else:
                history = None
        return data

    while True:
        pos = window.find(GO_MAGIC)
        while pos >= 0 and (offset + pos) % 16:
            pos = window.find(GO_MAGIC, pos + 1)
        if pos >= 0:
            need = pos + MAX_BUILDINFO_BYTES
            while len(window) < need:
                more = more_data(min(CHUNK, need - len(window)))
                if not more:
                    break
                window += more
            return _go_buildinfo(window, pos, b"".join(history) if history is not None else None, offset)
        audit = _find_cargo_audit(window)
        if audit is _MORE:  # a cargo auditable stream runs past the window: read on, to its cap
            window += more_data(MAX_AUDIT_JSON)
            audit = _find_cargo_audit(window)
        if isinstance(audit, Analysis):
            return audit
        more = more_data(CHUNK)
        if not more:
            break
        tail = window[-OVERLAP:]  # a header split across chunks is found in the next window
        offset += len(window) - len(tail)
        window = tail + more
    return Analysis(())


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(10):
        if pos + i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos + i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos + i + 1
        shift += 7
    raise ValueError("varint too long")


def _go_buildinfo(window: bytes, pos: int, whole: bytes | None, window_offset: int) -> Analysis:
    hdr = window[pos : pos + 32]
    if len(hdr) < 32:
        return Analysis((), "Go build info header cut short")
    ptr_size, flags = hdr[14], hdr[15]
    try:
        if flags & 2:  # Go >= 1.18: the strings follow the header
            vlen, p = _uvarint(window, pos + 32)
            if vlen > MAX_BUILDINFO_BYTES:
                raise ValueError("version string too long")
            go_version = window[p : p + vlen].decode("utf-8", "replace")
            p += vlen
            mlen, p = _uvarint(window, p)
            if mlen > MAX_BUILDINFO_BYTES or p + mlen > len(window):
                raise ValueError("module info past the data")
            modinfo = window[p : p + mlen]
        else:
            if whole is None:
                return Analysis(
                    (),
                    "Go binary of a toolchain before 1.18: build info not resolved "
                    f"(larger than {MAX_HISTORY_BYTES} bytes, or no Go build-id note)",
                )
            go_version, modinfo = _go_pointer_strings(whole, hdr, ptr_size, flags)
    except (ValueError, struct.error) as exc:
        return Analysis((), f"Go build info unreadable: {exc}")
    return Analysis(tuple(parse_go_modinfo(modinfo, go_version)))


def _go_pointer_strings(elf: bytes, hdr: bytes, ptr_size: int, flags: int) -> tuple[str, bytes]:
    if ptr_size not in (4, 8):
        raise ValueError(f"pointer size {ptr_size}")
    order = ">" if flags & 1 else "<"
    fmt = order + ("Q" if ptr_size == 8 else "I")
    loads = _elf_loads(elf)

    def at(vaddr: int, n: int) -> bytes:
        for seg_vaddr, seg_off, seg_size in loads:
            if seg_vaddr <= vaddr and vaddr + n <= seg_vaddr + seg_size:
                start = seg_off + vaddr - seg_vaddr
                if start + n > len(elf):
                    raise ValueError("address past the file")
                return elf[start : start + n]
        raise ValueError(f"address {vaddr:#x} is not mapped")

    def go_string(vaddr: int) -> bytes:
        header = at(vaddr, 2 * ptr_size)
        data_ptr = struct.unpack_from(fmt, header, 0)[0]
        length = struct.unpack_from(fmt, header, ptr_size)[0]
        if length > MAX_BUILDINFO_BYTES:
            raise ValueError("string too long")
        return at(data_ptr, length) if length else b""

    version_ptr = struct.unpack_from(fmt, hdr, 16)[0]
    mod_ptr = struct.unpack_from(fmt, hdr, 16 + ptr_size)[0]
    return go_string(version_ptr).decode("utf-8", "replace"), go_string(mod_ptr)


def _elf_loads(elf: bytes) -> list[tuple[int, int, int]]:
    """PT_LOAD segments: (vaddr, file offset, file size)."""
    if len(elf) < 64 or elf[:4] != b"\x7fELF":
        raise ValueError("not ELF")
    is64 = elf[4] == 2
    order = "<" if elf[5] == 1 else ">"
    if is64:
        phoff = struct.unpack_from(order + "Q", elf, 32)[0]
        phentsize, phnum = struct.unpack_from(order + "HH", elf, 54)
        fmt, fields = order + "IIQQQQ", (2, 3, 4)  # type, flags, offset, vaddr, paddr, filesz
    else:
        phoff = struct.unpack_from(order + "I", elf, 28)[0]
        phentsize, phnum = struct.unpack_from(order + "HH", elf, 42)
        fmt, fields = order + "IIIII", (1, 2, 4)  # type, offset, vaddr, paddr, filesz
    if phnum > 256 or phentsize < struct.calcsize(fmt) or phoff + phnum * phentsize > len(elf):
        raise ValueError("program headers out of the file")
    out = []
    for i in range(phnum):
        row = struct.unpack_from(fmt, elf, phoff + i * phentsize)
        if row[0] == 1:  # PT_LOAD
            off_i, vaddr_i, size_i = fields
            out.append((row[vaddr_i], row[off_i], row[size_i + 1] if is64 else row[size_i]))
    return out


def parse_go_modinfo(modinfo: bytes, go_version: str) -> list[Found]:
    """`path`/`mod`/`dep`/`=>` lines between the sentinels; the main module's `(devel)` is left out."""
    text = modinfo
    if len(text) >= 33 and text[:16] == GO_INFO_START:
        text = text[16:-16] if text[-17:-1] == GO_INFO_END or text[-16:] == GO_INFO_END else text[16:]
    out: list[Found] = []
    lines = text.decode("utf-8", "replace").splitlines()
    for i, line in enumerate(lines):
        fields = line.split("\t")
        if fields[0] not in ("mod", "dep") or len(fields) < 3:
            continue
        path, version = fields[1], fields[2]
        if i + 1 < len(lines):  # a replacement (`=>\tpath\tversion\tsum`) is what was built
            repl = lines[i + 1].split("\t")
            if repl[0] == "=>" and len(repl) >= 3 and repl[2]:
                path, version = repl[1], repl[2]
        if version and version != "(devel)":
            out.append(Found("golang", path, version))
    if go_version.startswith("go") and len(go_version) > 2:
        out.append(Found("golang", "stdlib", go_version[2:].split(" ")[0]))
    return out[:MAX_PACKAGES_PER_FILE]


_MORE = object()


def _find_cargo_audit(window: bytes) -> Analysis | object | None:
    for match in ZLIB_HEADER.finditer(window):  # one pass in C; a candidate costs a 64-byte inflate
        result = _try_audit(window, match.start())
        if result is not None:
            return result
    return None


def _try_audit(window: bytes, pos: int) -> Analysis | object | None:
    d = zlib.decompressobj()
    try:
        first = d.decompress(window[pos : pos + 64], len(AUDIT_PREFIX))
    except zlib.error:
        return None
    if not first.startswith(AUDIT_PREFIX):
        return None
    d = zlib.decompressobj()
    try:
        doc_bytes = d.decompress(window[pos:], MAX_AUDIT_JSON + 1)
    except zlib.error as exc:
        return Analysis((), f"cargo auditable data unreadable: {exc}")
    if len(doc_bytes) > MAX_AUDIT_JSON:
        return Analysis((), f"cargo auditable data over its {MAX_AUDIT_JSON}-byte cap")
    if not d.eof:
        return _MORE if len(window) - pos < MAX_AUDIT_JSON else Analysis((), "cargo auditable data cut short")
    try:
        doc = json.loads(doc_bytes)
    except (ValueError, RecursionError) as exc:
        return Analysis((), f"cargo auditable data unreadable: {str(exc)[:100]}")
    out: list[Found] = []
    for pkg in doc.get("packages", []) if isinstance(doc, dict) else []:
        if not isinstance(pkg, dict):
            continue
        name, version, source = pkg.get("name"), pkg.get("version"), pkg.get("source")
        # `source: local` is the binary's own workspace crates, not published crates
        if isinstance(name, str) and isinstance(version, str) and source not in ("local", "git"):
            out.append(Found("cargo", name, version))
    return Analysis(tuple(out[:MAX_PACKAGES_PER_FILE]))
