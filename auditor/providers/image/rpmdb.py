"""RPM package databases, read from bytes: nothing from the image is ever executed.

Three on-disk formats hold the same thing, one RPM *header blob* per installed package:

- `rpmdb.sqlite` (rpm >= 4.16: Amazon Linux 2023, UBI/RHEL 9, Fedora >= 33): table
  `Packages(hnum, blob)`. Opened in memory with `sqlite3` (`Connection.deserialize`, no
  file written, `query_only`, a progress handler bounds the time spent).
- BerkeleyDB `Packages` (Amazon Linux 2, UBI/RHEL 8, CentOS 7): a BDB *hash* database.
  Read by the pure-Python page reader below (meta page, hash pages, overflow chains),
  the same subset rpm's own read-only `bdb_ro` backend implements. No maintained Python
  binding reads BDB without the C library (`bsddb3`/`berkeleydb` need libdb at build
  time and are AGPL-licensed for recent versions), so the ~100 lines below are it.
- NDB `Packages.db` (rpm's own format, SUSE): a slot table pointing at blob records.

The header blob: big-endian `il` (index entries) and `dl` (data bytes), `il` entries of
(tag, type, offset, count), then the data. Every count, offset and size is checked
against the blob before it is used: a hostile blob is skipped (and counted), never a
crash, never a long loop.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass

# Header tags (rpmtag.h)
TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_LICENSE = 1014
TAG_VENDOR = 1011
TAG_ARCH = 1022
TAG_SOURCERPM = 1044
WANTED_TAGS = {TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_LICENSE, TAG_VENDOR, TAG_ARCH, TAG_SOURCERPM}

# Header data types
T_CHAR, T_INT8, T_INT16, T_INT32, T_INT64, T_STRING, T_BIN, T_STRING_ARRAY, T_I18NSTRING = 1, 2, 3, 4, 5, 6, 7, 8, 9

MAX_INDEX_ENTRIES = 0xFFFF  # rpm's own limit (hdrchkTags)
MAX_DATA_BYTES = 256 * 1024**2  # rpm's own limit (hdrchkData)
MAX_PACKAGES = 200_000  # no real database holds more; a hostile one stops here
MAX_STRING = 64 * 1024
SQLITE_STEPS = 50_000_000  # sqlite VM instructions before the read is abandoned


class RpmDBError(Exception):
    """The database as a whole could not be read (one line for the user)."""


@dataclass(frozen=True)
class RpmHeader:
    name: str
    version: str
    release: str
    epoch: int | None
    arch: str | None
    source_rpm: str | None
    license: str | None
    vendor: str | None

    @property
    def evr(self) -> str:
        """`[epoch:]version-release`, the form OSV's RPM ecosystems use."""
        vr = f"{self.version}-{self.release}"
        return f"{self.epoch}:{vr}" if self.epoch else vr

    @property
    def source_name(self) -> str | None:
        """`openssl` from `openssl-3.0.7-27.el9.src.rpm`."""
        src = self.source_rpm
        if not src:
            return None
        for suffix in (".src.rpm", ".nosrc.rpm"):
            if src.endswith(suffix):
                src = src[: -len(suffix)]
                break
        parts = src.rsplit("-", 2)
        return parts[0] if len(parts) == 3 and parts[0] else None


class BadHeader(ValueError):
    pass


def parse_header(blob: bytes) -> RpmHeader:
    """One header blob (as stored in the databases: no lead, no magic) -> its identity tags."""
    n = len(blob)
    if n < 8:
        raise BadHeader("shorter than its preamble")
    il, dl = struct.unpack_from(">II", blob, 0)
    if il < 1 or il > MAX_INDEX_ENTRIES:
        raise BadHeader(f"{il} index entries")
    if dl > MAX_DATA_BYTES:
        raise BadHeader(f"{dl} data bytes")
    data_start = 8 + 16 * il
    if data_start + dl > n:
        raise BadHeader("index or data run past the end of the blob")
    found: dict[int, str | int] = {}
    for i in range(il):
        tag, typ, off, count = struct.unpack_from(">IIiI", blob, 8 + 16 * i)
        if tag not in WANTED_TAGS or tag in found:
            continue
        if off < 0 or off >= dl or count < 1:
            raise BadHeader(f"tag {tag}: offset {off} / count {count} outside the data")
        start = data_start + off
        end = data_start + dl
        if typ in (T_STRING, T_I18NSTRING, T_STRING_ARRAY):
            stop = blob.find(b"\x00", start, min(end, start + MAX_STRING))
            if stop < 0:
                raise BadHeader(f"tag {tag}: unterminated string")
            found[tag] = blob[start:stop].decode("utf-8", "replace")
        elif typ == T_INT32:
            if start + 4 > end:
                raise BadHeader(f"tag {tag}: integer past the data")
            found[tag] = struct.unpack_from(">I", blob, start)[0]
        else:
            raise BadHeader(f"tag {tag}: unexpected type {typ}")
    name, version, release = found.get(TAG_NAME), found.get(TAG_VERSION), found.get(TAG_RELEASE)
    if not isinstance(name, str) or not isinstance(version, str) or not isinstance(release, str) or not name:
        raise BadHeader("no name, version or release")
    epoch = found.get(TAG_EPOCH)

    def text(tag: int) -> str | None:
        value = found.get(tag)
        return value if isinstance(value, str) and value else None

    return RpmHeader(
        name=name,
        version=version,
        release=release,
        epoch=epoch if isinstance(epoch, int) else None,
        arch=text(TAG_ARCH),
        source_rpm=text(TAG_SOURCERPM),
        license=(text(TAG_LICENSE) or "")[:200] or None,
        vendor=text(TAG_VENDOR),
    )


@dataclass
class RpmDBResult:
    headers: list[RpmHeader]
    skipped: int = 0  # blobs present but not parseable
    first_problem: str | None = None


def read_rpmdb(kind: str, data: bytes) -> RpmDBResult:
    """kind: "sqlite", "bdb" or "ndb". RpmDBError when the database itself is unreadable."""
    blobs = {"sqlite": sqlite_blobs, "bdb": bdb_blobs, "ndb": ndb_blobs}[kind](data)
    result = RpmDBResult(headers=[])
    for blob in blobs:
        if len(result.headers) + result.skipped >= MAX_PACKAGES:
            raise RpmDBError(f"more than {MAX_PACKAGES} package records: refused")
        try:
            result.headers.append(parse_header(blob))
        except BadHeader as exc:
            result.skipped += 1
            if result.first_problem is None:
                result.first_problem = str(exc)
    return result


# --- sqlite ---------------------------------------------------------------------------


def sqlite_blobs(data: bytes) -> list[bytes]:
    if not data.startswith(b"SQLite format 3\x00") or len(data) < 100:
        raise RpmDBError("not an SQLite database")
    image = bytearray(data)
    image[18] = image[19] = 1  # WAL mode -> rollback journal: the copy has no -wal file beside it
    con = sqlite3.connect(":memory:")
    try:
        steps = [0]

        def progress() -> int:
            steps[0] += 1
            return 1 if steps[0] * 1000 > SQLITE_STEPS else 0

        con.text_factory = bytes  # a damaged database may hand back text that is not UTF-8
        con.set_progress_handler(progress, 1000)
        con.deserialize(image)  # sqlite copies it once more; no third copy here
        con.execute("PRAGMA query_only = 1")
        con.execute("PRAGMA trusted_schema = 0")
        rows = con.execute("SELECT blob FROM Packages ORDER BY hnum LIMIT ?", (MAX_PACKAGES + 1,)).fetchall()
    except (sqlite3.Error, OverflowError, MemoryError, ValueError) as exc:
        raise RpmDBError(f"unreadable rpmdb.sqlite: {exc}") from None
    finally:
        con.close()
    return [bytes(r[0]) for r in rows if isinstance(r[0], bytes | bytearray | memoryview)]


# --- BerkeleyDB hash ------------------------------------------------------------------

BDB_HASH_MAGIC = 0x061561
P_OVERFLOW = 7
P_HASH_UNSORTED = 2
P_HASH = 13
H_KEYDATA = 1
H_OFFPAGE = 3
PAGE_HEADER = 26


def bdb_blobs(data: bytes) -> Iterator[bytes]:
    if len(data) < 512:
        raise RpmDBError("not a BerkeleyDB file (too short)")
    for order in ("<", ">"):
        if struct.unpack_from(order + "I", data, 12)[0] == BDB_HASH_MAGIC:
            break
    else:
        raise RpmDBError("not a BerkeleyDB hash database")
    pagesize = struct.unpack_from(order + "I", data, 20)[0]
    if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
        raise RpmDBError(f"BerkeleyDB page size {pagesize} is not valid")
    if data[24] != 0:
        raise RpmDBError("encrypted BerkeleyDB database")
    npages = len(data) // pagesize
    u16 = struct.Struct(order + "H")
    u32 = struct.Struct(order + "I")
    for pgno in range(1, npages):
        base = pgno * pagesize
        ptype = data[base + 25]
        if ptype not in (P_HASH, P_HASH_UNSORTED):
            continue
        entries = u16.unpack_from(data, base + 20)[0]
        if PAGE_HEADER + 2 * entries > pagesize:
            continue  # damaged page
        offsets = [u16.unpack_from(data, base + PAGE_HEADER + 2 * i)[0] for i in range(entries)]
        for i in range(1, entries, 2):  # (key, value) pairs: the values
            off = offsets[i]
            end = offsets[i - 1]
            if not (PAGE_HEADER + 2 * entries <= off < end <= pagesize):
                yield b""  # counted as a skipped record
                continue
            item = data[base + off : base + end]
            if item[0] == H_OFFPAGE and len(item) >= 12:
                first, total = u32.unpack_from(item, 4)[0], u32.unpack_from(item, 8)[0]
                yield _bdb_overflow(data, pagesize, npages, first, total, u16, u32)
            elif item[0] == H_KEYDATA:
                value = item[1:]
                if len(value) > 8:  # the 4-byte record 0 (rpm's instance counter) is not a header
                    yield value
            else:
                yield b""


def _bdb_overflow(
    data: bytes, pagesize: int, npages: int, pgno: int, total: int, u16: struct.Struct, u32: struct.Struct
) -> bytes:
    if total > MAX_DATA_BYTES:
        return b""
    parts: list[bytes] = []
    have = 0
    seen: set[int] = set()
    while pgno != 0 and have < total:
        if pgno >= npages or pgno in seen:
            return b""  # out of the file, or a loop
        seen.add(pgno)
        base = pgno * pagesize
        if data[base + 25] != P_OVERFLOW:
            return b""
        used = u16.unpack_from(data, base + 22)[0]  # HOFFSET: bytes used on an overflow page
        if used > pagesize - PAGE_HEADER:
            return b""
        parts.append(data[base + PAGE_HEADER : base + PAGE_HEADER + used])
        have += used
        pgno = u32.unpack_from(data, base + 16)[0]  # next_pgno
    return b"".join(parts)[:total] if have >= total else b""


# --- NDB ------------------------------------------------------------------------------

NDB_HEADER_MAGIC = int.from_bytes(b"RpmP", "little")
NDB_SLOT_MAGIC = int.from_bytes(b"Slot", "little")
NDB_BLOB_MAGIC = int.from_bytes(b"BlbS", "little")
NDB_PAGE = 4096
NDB_SLOT = 16
NDB_BLOCK = 16
MAX_NDB_SLOT_PAGES = 4096


def ndb_blobs(data: bytes) -> Iterator[bytes]:
    if len(data) < 32:
        raise RpmDBError("not an rpm NDB database (too short)")
    magic, version, _generation, slot_pages = struct.unpack_from("<IIII", data, 0)
    if magic != NDB_HEADER_MAGIC or version != 0:
        raise RpmDBError("not an rpm NDB database")
    if slot_pages < 1 or slot_pages > MAX_NDB_SLOT_PAGES or slot_pages * NDB_PAGE > len(data):
        raise RpmDBError(f"rpm NDB database with {slot_pages} slot pages: damaged")
    nslots = slot_pages * NDB_PAGE // NDB_SLOT - 2  # the file header takes the first two slots
    for i in range(nslots):
        smagic, pkg, blk_off, blk_cnt = struct.unpack_from("<IIII", data, 32 + i * NDB_SLOT)
        if smagic != NDB_SLOT_MAGIC or pkg == 0:
            continue
        start = blk_off * NDB_BLOCK
        if blk_off == 0 or start + 16 > len(data) or blk_cnt * NDB_BLOCK > MAX_DATA_BYTES:
            yield b""
            continue
        bmagic, bpkg, _cksum, blen = struct.unpack_from("<IIII", data, start)
        if bmagic != NDB_BLOB_MAGIC or bpkg != pkg or blen > blk_cnt * NDB_BLOCK or start + 16 + blen > len(data):
            yield b""
            continue
        yield data[start + 16 : start + 16 + blen]
