"""Tamper-evident evidence packs: a zip with a SHA-256 manifest, optionally signed (Ed25519).

`manifest.json` lists every other file of the pack with its SHA-256 and size, the run
ids the report covers, the attachments embedded in the PDF and the report's finding counts.
`manifest.sig` (optional) is the base64 Ed25519 signature of manifest.json's bytes.
`verify_pack` reads the zip in place (nothing is extracted to disk), with caps on the
number of members and on the bytes it will decompress, names every file that is changed,
missing or extra, checks the signature, and checks that the parts agree with each other
(`consistency.py`). Digests alone prove nothing about origin: whoever edits a file can
re-hash the manifest. A pack is *authenticated* only by a valid signature for the key the
verifier trusts, or by matching the database it was generated from (`dbcheck.py`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from auditor.errors import InputError
from auditor.safeio import read_bounded

PACK_SCHEMA = "auditor.pack/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_MANIFEST_BYTES = 32 * 1024**2
MAX_KEY_BYTES = 64 * 1024
MAX_PART_BYTES = 1024**3  # findings.json, the PDF ...: read whole for the cross-checks
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PackEntry:
    """One file for the pack: from disk (`path`) or from memory (`data`)."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    def chunks(self) -> Iterable[bytes]:
        if self.data is not None:
            yield self.data
            return
        assert self.path is not None
        with self.path.open("rb") as fh:
            while block := fh.read(CHUNK):
                yield block


def _digest(entry: PackEntry) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    for block in entry.chunks():
        h.update(block)
        size += len(block)
    return h.hexdigest(), size


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_key_file(path, "--sign-key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        reason = "it is encrypted (give an unencrypted key)" if "encrypted" in str(exc).lower() else "not a PEM key"
        raise InputError(f"--sign-key {path}: cannot load the private key: {reason}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"--sign-key {path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = _read_key_file(path, "--public-key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InputError(f"--public-key {path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"--public-key {path}: not an Ed25519 public key")
    return key


def _read_key_file(path: Path, flag: str) -> bytes:
    try:
        return read_bounded(path, MAX_KEY_BYTES, "key file")
    except InputError as exc:
        raise InputError(f"{flag} {exc}") from None


def public_key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def write_pack(
    target: Path,
    entries: list[PackEntry],
    header: dict[str, Any],
    when: datetime,
    sign_key: Ed25519PrivateKey | None = None,
) -> dict[str, Any]:
    """Write the zip atomically; returns the manifest."""
    names = [e.name for e in entries]
    if len(set(names)) != len(names) or MANIFEST in names or SIGNATURE in names:
        raise ValueError("pack entry names must be unique and must not be the manifest's")
    files = []
    for e in entries:
        sha, size = _digest(e)
        files.append({"path": e.name, "sha256": sha, "size": size})
    manifest: dict[str, Any] = {
        "schema": PACK_SCHEMA,
        **header,
        "files": files,
        "signature": (
            {"algorithm": "Ed25519", "file": SIGNATURE, "public_key_sha256": public_key_id(sign_key.public_key())}
            if sign_key
            else None
        ),
    }
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode("utf-8")
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    tmp = target.with_name(f".{target.name}.tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr(_info(MANIFEST, stamp), manifest_bytes)
            if sign_key:
                sig = base64.b64encode(sign_key.sign(manifest_bytes)) + b"\n"
                zf.writestr(_info(SIGNATURE, stamp), sig)
            for e in entries:
                with zf.open(_info(e.name, stamp), "w", force_zip64=True) as out:
                    for block in e.chunks():
                        out.write(block)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the evidence pack {target}: {exc.strerror or exc}") from None
    return manifest


def _info(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


@dataclass
class VerifyResult:
    """What `verify_pack` found. Exit codes (`exit_code`): 0 intact and authenticated, 1 tampered
    (or different from the database), 4 intact but not authenticated; unusable packs raise InputError (2)."""

    manifest: dict[str, Any]
    verified: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)  # directory entries of a re-zipped pack: ignored
    # valid | invalid | missing (the manifest declares a signature, manifest.sig is gone)
    # | unsigned | not checked (signed, no --public-key given)
    signature: str = "unsigned"
    key_id: str | None = None
    inconsistencies: list[str] = field(default_factory=list)
    database: str = "not checked"  # not checked | matches | differs
    database_differences: list[str] = field(default_factory=list)
    parts: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def tampered(self) -> bool:
        return bool(
            self.changed
            or self.missing
            or self.extra
            or self.signature in ("invalid", "missing")
            or self.inconsistencies
            or self.database == "differs"
        )

    @property
    def authenticated(self) -> bool:
        return self.signature == "valid" or self.database == "matches"

    @property
    def intact(self) -> bool:
        return not self.tampered

    @property
    def exit_code(self) -> int:
        if self.tampered:
            return 1
        return 0 if self.authenticated else 4

    @property
    def verdict(self) -> str:
        if self.tampered:
            files_ok = not (self.changed or self.missing or self.extra or self.inconsistencies)
            only_db = files_ok and self.signature not in ("invalid", "missing")
            return "DIFFERS FROM THE DATABASE" if only_db else "TAMPERED"
        return "INTACT and AUTHENTICATED" if self.authenticated else "INTACT but NOT AUTHENTICATED"

    def unauthenticated_reason(self) -> str:
        why = {
            "unsigned": "the pack is unsigned",
            "not checked": "the pack is signed, but no --public-key was given to check the signature",
        }.get(self.signature, f"signature {self.signature}")
        db = "no --db was given to compare it with the database" if self.database == "not checked" else ""
        return f"{why}{' and ' + db if db else ''}: nothing shows who made it"

    def problems(self) -> list[str]:
        out = [f"changed: {n}" for n in self.changed]
        out += [f"missing: {n}" for n in self.missing]
        out += [f"extra: {n}" for n in self.extra]
        if self.signature == "invalid":
            out.append("signature: INVALID (manifest.json was altered, or signed with another key)")
        if self.signature == "missing":
            out.append("signature: the manifest declares a signature but manifest.sig is missing")
        out += [f"inconsistent: {line}" for line in self.inconsistencies]
        out += [f"database: {line}" for line in self.database_differences]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "intact": self.intact,
            "authenticated": self.authenticated,
            "files_verified": len(self.verified),
            "changed": self.changed,
            "missing": self.missing,
            "extra": self.extra,
            "directories_ignored": self.directories,
            "signature": self.signature,
            "signing_key_sha256": self.key_id,
            "inconsistencies": self.inconsistencies,
            "database": self.database,
            "database_differences": self.database_differences,
            "run_ids": self.manifest.get("run_ids", []),
            "framework": self.manifest.get("framework"),
        }


def _hash_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> str | None:
    """SHA-256 of one member's content, or None when the stored data is corrupt."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(f"pack member {info.filename!r} is {info.file_size} bytes, over the limit; refusing")
    h = hashlib.sha256()
    read = 0
    try:
        with zf.open(info, "r") as fh:
            while block := fh.read(CHUNK):
                read += len(block)
                budget[0] -= len(block)
                if read > MAX_MEMBER_BYTES or budget[0] < 0:
                    raise InputError("the pack decompresses to more data than auditor will read; refusing")
                h.update(block)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return None
    return h.hexdigest()


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """A member read whole for the cross-checks (bounded), or None when it is corrupt."""
    if info.file_size > MAX_PART_BYTES:
        raise InputError(f"pack member {info.filename!r} is too large to cross-check; refusing")
    try:
        with zf.open(info, "r") as fh:
            data = fh.read(MAX_PART_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return None
    if len(data) > MAX_PART_BYTES:
        raise InputError(f"pack member {info.filename!r} is too large to cross-check; refusing")
    return data


def _is_directory(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith("/") and info.file_size == 0


def verify_pack(path: Path, public_key: Path | None = None) -> VerifyResult:
    """Recompute every digest of a pack, check its signature and that its parts agree.

    Raises InputError when the pack is unusable. Directory entries and member order (a pack
    unzipped and zipped again) are not tampering."""
    from auditor.report.consistency import CROSS_CHECKED, check_parts

    key = load_public_key(public_key) if public_key else None
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(f"{path}: not a zip file (not an evidence pack)") from None
    with zf:
        all_infos = zf.infolist()
        if len(all_infos) > MAX_MEMBERS:
            raise InputError(f"{path}: {len(all_infos)} members, more than an evidence pack holds; refusing")
        infos = [i for i in all_infos if not _is_directory(i)]
        counts = Counter(i.filename for i in infos)
        by_name = {i.filename: i for i in infos}
        if MANIFEST not in by_name:
            raise InputError(f"{path}: not an evidence pack (no {MANIFEST})")
        if counts[MANIFEST] > 1:
            raise InputError(f"{path}: holds {MANIFEST} twice; cannot tell which one is genuine")
        minfo = by_name[MANIFEST]
        if minfo.file_size > MAX_MANIFEST_BYTES:
            raise InputError(f"{path}: {MANIFEST} is too large")
        try:
            manifest_bytes = zf.read(minfo)
            manifest = json.loads(manifest_bytes)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise InputError(f"{path}: {MANIFEST} is unreadable or not JSON") from None
        files = manifest.get("files") if isinstance(manifest, dict) else None
        if not isinstance(manifest, dict) or manifest.get("schema") != PACK_SCHEMA or not isinstance(files, list):
            raise InputError(f"{path}: {MANIFEST} is not an auditor pack manifest ({PACK_SCHEMA})")
        result = VerifyResult(manifest=manifest)
        result.directories = sorted(i.filename for i in all_infos if _is_directory(i))
        budget = [MAX_TOTAL_BYTES]
        listed: set[str] = set()
        for entry in files:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise InputError(f"{path}: {MANIFEST} has a malformed file entry")
            name = entry["path"]
            listed.add(name)
            info = by_name.get(name)
            if info is None:
                result.missing.append(name)
                continue
            digest = _hash_member(zf, info, budget)
            if counts[name] > 1 or digest != entry.get("sha256") or info.file_size != entry.get("size"):
                result.changed.append(name)
            else:
                result.verified.append(name)
        result.extra = sorted(n for n in counts if n not in listed and n not in (MANIFEST, SIGNATURE))
        for name in CROSS_CHECKED:
            info = by_name.get(name)
            if info is not None and counts[name] == 1:
                data = _read_part(zf, info)
                if data is not None:
                    result.parts[name] = data
        declared = manifest.get("signature")
        sig_info = by_name.get(SIGNATURE)
        if sig_info is None:
            result.signature = "missing" if declared else "unsigned"
        elif key is None:
            result.signature = "not checked"
        else:
            result.key_id = public_key_id(key)
            try:
                if sig_info.file_size > 4096:
                    raise ValueError("signature file too large")
                sig = base64.b64decode(zf.read(sig_info).strip(), validate=True)
                key.verify(sig, manifest_bytes)
                result.signature = "valid"
            except (InvalidSignature, ValueError, zipfile.BadZipFile, OSError):
                result.signature = "invalid"
    result.inconsistencies = check_parts(manifest, result.parts)
    return result
