"""Read OSV JSON from a directory, a single file, or a per-ecosystem zip export.

Inputs are treated as hostile: zip members are read into memory with a size cap and
never extracted to disk; member counts and the total uncompressed size are capped;
members that are not `.json` are ignored. A file that is not valid JSON, or a record
that is not a usable OSV advisory, is skipped with a counted warning. A PATH that
cannot be used at all raises InputError (exit 2, one line).
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.safeio import is_regular_file, read_bounded
from auditor.vulndb.db import ImportStats
from auditor.vulndb.osv import AdvisoryRecord, RecordError, parse_record


@dataclass(frozen=True)
class ImportLimits:
    max_file_bytes: int = 16 * 1024 * 1024  # one OSV JSON file or zip member
    max_members: int = 1_000_000  # zip members (the largest OSV exports hold ~100k)
    max_total_bytes: int = 8 * 1024 * 1024 * 1024  # uncompressed bytes read from one zip
    max_files: int = 1_000_000  # .json/.zip files under a directory


DEFAULT_LIMITS = ImportLimits()
_SKIP_DIRS = {".git", "__pycache__", "node_modules"}


def read_osv_path(path: Path, stats: ImportStats, limits: ImportLimits = DEFAULT_LIMITS) -> Iterator[AdvisoryRecord]:
    """Every usable advisory under PATH. Validation of PATH itself happens before the first yield."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        files = _list_dir(path, limits)
        if not files:
            raise InputError(f"{path}: no .json or .zip files with OSV advisories")
        return _read_files(files, stats, limits)
    if not path.is_file():
        raise InputError(f"{path}: not a regular file or directory")
    if zipfile.is_zipfile(path):
        zf = _open_zip(path, limits)
        return _read_zip(zf, path, stats, limits, top_level=True)
    if path.suffix.lower() == ".zip":
        raise InputError(f"{path}: not a usable zip file")
    if path.suffix.lower() != ".json":
        raise InputError(f"{path}: expected a directory, a .json file or a .zip export of OSV advisories")
    _check_readable(path)
    return _read_files([path], stats, limits)


def _check_readable(path: Path) -> None:
    if not is_regular_file(path):
        read_bounded(path, 0, "advisory file")  # raises the precise reason (device, FIFO, missing)
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _list_dir(root: Path, limits: ImportLimits) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise_walk_error):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if name.lower().endswith((".json", ".zip")):
                found.append(Path(dirpath) / name)
                if len(found) > limits.max_files:
                    raise InputError(f"{root}: more than {limits.max_files} files to import")
    return found


def _raise_walk_error(exc: OSError) -> None:
    raise InputError(f"{exc.filename}: cannot read directory: {exc.strerror or exc}")


def _open_zip(path: Path, limits: ImportLimits) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a usable zip file: {exc}") from None
    count = len(zf.infolist())
    if count > limits.max_members:
        zf.close()
        raise InputError(f"{path}: {count} zip members, more than the limit of {limits.max_members}")
    return zf


def _read_files(files: list[Path], stats: ImportStats, limits: ImportLimits) -> Iterator[AdvisoryRecord]:
    for f in files:
        if f.suffix.lower() == ".zip":
            if not zipfile.is_zipfile(f):
                stats.warn(f"{f.name}: not a zip file")
                continue
            try:
                zf = _open_zip(f, limits)
            except InputError as exc:
                stats.warn(str(exc))
                continue
            yield from _read_zip(zf, f, stats, limits)
            continue
        try:
            data = read_bounded(f, limits.max_file_bytes, "advisory file")
        except InputError as exc:
            stats.warn(str(exc))
            continue
        yield from _parse_document(data, f.name, stats)


def _read_zip(
    zf: zipfile.ZipFile, path: Path, stats: ImportStats, limits: ImportLimits, top_level: bool = False
) -> Iterator[AdvisoryRecord]:
    total = 0
    members = 0
    with zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.lower().endswith(".json"):
                continue
            members += 1
            label = f"{path.name}:{info.filename[:200]}"
            try:
                with zf.open(info) as fh:
                    data = fh.read(limits.max_file_bytes + 1)
            except (RuntimeError, zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, EOFError) as exc:
                stats.warn(f"{label}: unreadable member: {exc}")
                continue
            if len(data) > limits.max_file_bytes:
                stats.warn(f"{label}: larger than the limit of {limits.max_file_bytes} bytes")
                continue
            total += len(data)
            if total > limits.max_total_bytes:
                raise InputError(f"{path}: more than {limits.max_total_bytes} bytes uncompressed; refusing the rest")
            yield from _parse_document(data, label, stats)
    if members == 0:
        if top_level:
            raise InputError(f"{path}: no .json members (not an OSV export)")
        stats.warn(f"{path.name}: no .json members")


def _parse_document(data: bytes, label: str, stats: ImportStats) -> Iterator[AdvisoryRecord]:
    try:
        doc: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        stats.warn(f"{label}: not valid JSON ({str(exc)[:80]})")
        return
    if isinstance(doc, dict) and "id" not in doc and isinstance(doc.get("vulns"), list):
        doc = doc["vulns"]  # an OSV API response
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        try:
            yield parse_record(item)
        except RecordError as exc:
            stats.warn(f"{label}: {exc}")
