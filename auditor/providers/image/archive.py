"""Image sources: a `docker save` archive, an OCI image layout (directory or tar), a registry.

Every source answers the same questions: the config JSON and its digest (the image id),
the manifest digest when there is one, the tags, and the layers in order, each opened as
a stream of its raw blob bytes. Nothing is extracted: a tar archive is indexed once
(member name -> header) and blobs are read straight out of it.

Structural problems that leave nothing to scan (missing file, a manifest that is not
JSON, digests that do not match) raise InputError: exit 2 before anything is written.
A layer that is missing or unreadable is the scan's business (LayerError -> ERROR findings).

Every file is opened as a regular file and size-capped: an archive path is opened once
(non-blocking, so a FIFO cannot hang the scan) and the open descriptor must be a regular
file (a device such as /dev/zero, a FIFO or a socket is refused with a one-line error);
index.json goes through `auditor.safeio.read_bounded`; blobs of a layout directory are
never symlinks, devices or FIFOs (`O_NOFOLLOW`, checked on the descriptor).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tarfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from auditor import safeio
from auditor.errors import InputError
from auditor.providers.image.layers import DEFAULT_LIMITS, LayerError, Limits, make_tarinfo_class, normalise_member_path
from auditor.safeio import read_bounded, show_path

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}
INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
REF_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@dataclass(frozen=True)
class LayerRef:
    index: int
    digest: str | None  # digest of the raw blob as the manifest names it (None: not named)
    diff_id: str | None  # digest of the uncompressed tar, from the config
    media_type: str
    size: int | None
    locator: str  # where the source finds it (member name, blob path, digest)


@dataclass
class ImageSource(ABC):
    reference: str
    kind: str
    config: dict[str, Any]
    config_digest: str
    layers: list[LayerRef]
    manifest_digest: str | None = None
    tags: list[str] = field(default_factory=list)

    @abstractmethod
    def open_layer(self, layer: LayerRef) -> Any:
        """A context manager yielding the raw blob as a binary stream (LayerError if unavailable)."""

    def close(self) -> None:  # noqa: B027 - optional
        pass

    @property
    def image_id(self) -> str:
        return self.config_digest


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_json(data: bytes, what: str, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{where}: {what} is not valid JSON") from None


def check_digest(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not DIGEST_RE.match(value):
        raise InputError(f"{where}: {what} has an invalid digest {str(value)[:80]!r} (expected sha256:<64 hex>)")
    return value


def validate_config(config: Any, where: str) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise InputError(f"{where}: the image config is not a JSON object")
    rootfs = config.get("rootfs")
    if rootfs is not None and not isinstance(rootfs, dict):
        raise InputError(f"{where}: the image config's rootfs is not an object")
    inner = config.get("config")
    if inner is not None and not isinstance(inner, dict):
        raise InputError(f"{where}: the image config's 'config' is not an object")
    return config


def diff_ids(config: dict[str, Any], count: int, where: str) -> list[str | None]:
    ids = (config.get("rootfs") or {}).get("diff_ids")
    if ids is None:
        return [None] * count
    if not isinstance(ids, list) or len(ids) != count:
        n = len(ids) if isinstance(ids, list) else "no"
        raise InputError(f"{where}: the config lists {n} layer diff_ids but the manifest has {count} layers")
    return [check_digest(d, "a config diff_id", where) for d in ids]


def open_regular_file(path: Path, what: str, max_bytes: int) -> IO[bytes]:
    """`auditor.safeio.open_regular_file` with this module's argument order."""
    return safeio.open_regular_file(path, max_bytes, what)


class TarIndex:
    """A tar archive on disk, indexed once: normalised member name -> header. Never extracted."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.truncated: str | None = None
        self.file = open_regular_file(path, "the image archive", limits.max_image_bytes)
        try:
            self.tar = tarfile.open(  # noqa: SIM115 - kept open for the scan, closed by close()
                fileobj=self.file, mode="r:*", tarinfo=make_tarinfo_class(limits.max_header_bytes)
            )
        except (tarfile.TarError, OSError, EOFError) as exc:
            self.file.close()
            raise InputError(f"{show_path(path)}: not a readable tar archive ({exc})") from None
        self.members: dict[str, tarfile.TarInfo] = {}
        try:
            while True:
                member = self.tar.next()
                if member is None:
                    break
                name = normalise_member_path(member.name)
                if name and member.isreg():
                    self.members[name] = member
                if len(self.members) > 1_000_000:
                    raise InputError(f"{path}: more than a million members in an image archive: refused")
        except (tarfile.TarError, EOFError, OSError) as exc:
            self.truncated = f"truncated or damaged archive ({exc})"

    def read_small(self, name: str, what: str) -> bytes:
        member = self.members.get(name)
        if member is None:
            extra = f"; {self.truncated}" if self.truncated else ""
            raise InputError(f"{self.path}: {what} ({name}) is missing from the archive{extra}")
        if member.size > self.limits.max_manifest_bytes:
            raise InputError(
                f"{self.path}: {what} is {member.size} bytes, over the {self.limits.max_manifest_bytes} limit"
            )
        try:
            fh = self.tar.extractfile(member)
            data = fh.read() if fh is not None else b""
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InputError(f"{self.path}: cannot read {what}: {exc}") from None
        if len(data) != member.size:
            raise InputError(f"{self.path}: {what} is truncated")
        return data

    @contextmanager
    def open_member(self, name: str) -> Iterator[_Guarded]:
        member = self.members.get(name)
        if member is None:
            extra = f" ({self.truncated})" if self.truncated else ""
            raise LayerError(f"layer blob {name} is missing from the archive{extra}")
        fh = self.tar.extractfile(member)
        if fh is None:
            raise LayerError(f"layer blob {name} is not a file")
        yield _Guarded(fh, name)

    def close(self) -> None:
        self.tar.close()
        self.file.close()  # tarfile does not close a file object it was given


class _Guarded:
    """Turns tarfile's errors while reading a member (archive cut short) into LayerError."""

    def __init__(self, fh: IO[bytes], name: str) -> None:
        self.fh = fh
        self.name = name

    def read(self, n: int = -1) -> bytes:
        try:
            return self.fh.read(n)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise LayerError(f"layer blob {self.name} is truncated or unreadable: {exc}") from None


@dataclass
class DockerArchive(ImageSource):
    index: TarIndex | None = None

    def open_layer(self, layer: LayerRef) -> Any:
        assert self.index is not None
        return self.index.open_member(layer.locator)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()


def load_docker_archive(index: TarIndex, reference: str) -> DockerArchive:
    where = reference
    manifest = parse_json(index.read_small("manifest.json", "manifest.json"), "manifest.json", where)
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise InputError(f"{where}: manifest.json must be a list of image entries")
    if len(manifest) > 1:
        raise InputError(f"{where}: the archive holds {len(manifest)} images; save one image per archive to scan it")
    entry = manifest[0]
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise InputError(f"{where}: manifest.json entry needs 'Config' and 'Layers'")
    config_member = normalise_member_path(config_name)
    if not config_member:
        raise InputError(f"{where}: manifest.json names an unsafe config path {config_name[:100]!r}")
    config_bytes = index.read_small(config_member, "the image config")
    config_digest = sha256_digest(config_bytes)
    claimed = _digest_from_name(config_member)
    if claimed and claimed != config_digest:
        raise InputError(f"{where}: the image config's content does not match its digest {claimed}")
    config = validate_config(parse_json(config_bytes, "the image config", where), where)
    ids = diff_ids(config, len(layer_names), where)
    layers = []
    for i, name in enumerate(layer_names):
        member = normalise_member_path(name) if isinstance(name, str) else None
        if not member:
            raise InputError(f"{where}: manifest.json names an unsafe or invalid layer path {str(name)[:100]!r}")
        layers.append(
            LayerRef(
                index=i,
                digest=_digest_from_name(member),
                diff_id=ids[i],
                media_type="application/vnd.docker.image.rootfs.diff.tar",
                size=index.members[member].size if member in index.members else None,
                locator=member,
            )
        )
    tags = [t for t in entry.get("RepoTags") or [] if isinstance(t, str)]
    return DockerArchive(
        reference=reference,
        kind="docker-archive",
        config=config,
        config_digest=config_digest,
        layers=layers,
        tags=tags,
        index=index,
    )


def _digest_from_name(name: str) -> str | None:
    m = re.match(r"^blobs/sha256/([0-9a-f]{64})$", name)
    return f"sha256:{m.group(1)}" if m else None


# OCI image layout ------------------------------------------------------------------------


class BlobStore(ABC):
    @abstractmethod
    def read_small(self, digest: str, what: str, limit: int) -> bytes: ...

    @abstractmethod
    def open_blob(self, digest: str) -> Any: ...

    def close(self) -> None:  # noqa: B027 - optional
        pass


class DirBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def blob_path(self, digest: str) -> Path:
        alg, _, hexpart = digest.partition(":")
        path = self.root / "blobs" / alg / hexpart
        try:
            st = path.lstat()
        except OSError:
            raise LayerError(f"blob {digest} is missing from the layout") from None
        if not stat.S_ISREG(st.st_mode):
            raise LayerError(f"blob {digest} is not a regular file (a symlink or device is never followed)")
        return path

    def read_small(self, digest: str, what: str, limit: int) -> bytes:
        try:
            path = self.blob_path(digest)
        except LayerError as exc:
            raise InputError(f"{self.root}: {what}: {exc}") from None
        data = read_bounded(path, limit, what)  # regular file, size-capped (a swapped symlink fails the digest)
        if sha256_digest(data) != digest:
            raise InputError(f"{self.root}: {what} does not match its digest {digest}")
        return data

    @contextmanager
    def open_blob(self, digest: str) -> Iterator[IO[bytes]]:
        path = self.blob_path(digest)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise LayerError(f"cannot open blob {digest}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise LayerError(f"blob {digest} is not a regular file (a symlink or device is never followed)")
        with os.fdopen(fd, "rb") as fh:
            yield fh


class TarBlobStore(BlobStore):
    def __init__(self, index: TarIndex) -> None:
        self.index = index

    def read_small(self, digest: str, what: str, limit: int) -> bytes:
        data = self.index.read_small("blobs/" + digest.replace(":", "/"), what)
        if sha256_digest(data) != digest:
            raise InputError(f"{self.index.path}: {what} does not match its digest {digest}")
        return data

    def open_blob(self, digest: str) -> Any:
        return self.index.open_member("blobs/" + digest.replace(":", "/"))

    def close(self) -> None:
        self.index.close()


@dataclass
class OciLayout(ImageSource):
    blobs: BlobStore | None = None

    def open_layer(self, layer: LayerRef) -> Any:
        assert self.blobs is not None
        return self.blobs.open_blob(layer.locator)

    def close(self) -> None:
        if self.blobs is not None:
            self.blobs.close()


def select_manifest(
    index: dict[str, Any], fetch: Any, where: str, depth: int = 0
) -> tuple[dict[str, Any], bytes, str, list[str]]:
    """Walk an image index down to one image manifest (linux/amd64 first, else the first image).

    `fetch(digest, what) -> bytes` returns a verified blob. Returns the manifest, its bytes,
    its digest and the tags named by annotations on the way.
    """
    if depth > 4:
        raise InputError(f"{where}: image indexes nested too deeply")
    manifests = index.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise InputError(f"{where}: the image index lists no manifests")
    descs = [m for m in manifests if isinstance(m, dict)]

    def platform_rank(d: dict[str, Any]) -> int:
        p = d.get("platform") or {}
        if not isinstance(p, dict) or not p:
            return 1
        if p.get("os") == "linux" and p.get("architecture") == "amd64":
            return 0
        if p.get("os") == "unknown":  # attestation manifests
            return 9
        return 2

    descs.sort(key=platform_rank)
    desc = descs[0]
    tags = [
        str(desc["annotations"][k])
        for k in REF_NAME_ANNOTATIONS
        if isinstance(desc.get("annotations"), dict) and k in desc["annotations"]
    ]
    digest = check_digest(desc.get("digest"), "a manifest descriptor", where)
    data = fetch(digest, "the image manifest")
    doc = parse_json(data, "the image manifest", where)
    if not isinstance(doc, dict):
        raise InputError(f"{where}: the image manifest is not a JSON object")
    media = doc.get("mediaType") or desc.get("mediaType")
    if media in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
        inner, raw, inner_digest, more = select_manifest(doc, fetch, where, depth + 1)
        return inner, raw, inner_digest, tags + more
    return doc, data, digest, tags


def source_from_manifest(
    manifest: dict[str, Any], fetch: Any, where: str, limits: Limits
) -> tuple[dict[str, Any], str, list[LayerRef]]:
    cfg_desc = manifest.get("config")
    layer_descs = manifest.get("layers")
    if not isinstance(cfg_desc, dict) or not isinstance(layer_descs, list):
        raise InputError(f"{where}: the image manifest needs 'config' and 'layers'")
    config_digest = check_digest(cfg_desc.get("digest"), "the config descriptor", where)
    config = validate_config(parse_json(fetch(config_digest, "the image config"), "the image config", where), where)
    ids = diff_ids(config, len(layer_descs), where)
    layers = []
    for i, d in enumerate(layer_descs):
        if not isinstance(d, dict):
            raise InputError(f"{where}: layer descriptor {i + 1} is not an object")
        digest = check_digest(d.get("digest"), f"layer descriptor {i + 1}", where)
        size = d.get("size")
        layers.append(
            LayerRef(
                index=i,
                digest=digest,
                diff_id=ids[i],
                media_type=str(d.get("mediaType") or ""),
                size=size if isinstance(size, int) else None,
                locator=digest,
            )
        )
    return config, config_digest, layers


def load_oci_layout(blobs: BlobStore, index_bytes: bytes, reference: str, limits: Limits) -> OciLayout:
    where = reference
    index = parse_json(index_bytes, "index.json", where)
    if not isinstance(index, dict):
        raise InputError(f"{where}: index.json is not a JSON object")

    def fetch(digest: str, what: str) -> bytes:
        return blobs.read_small(digest, what, limits.max_manifest_bytes)

    manifest, _raw, manifest_digest, tags = select_manifest(index, fetch, where)
    config, config_digest, layers = source_from_manifest(manifest, fetch, where, limits)
    return OciLayout(
        reference=reference,
        kind="oci-layout",
        config=config,
        config_digest=config_digest,
        layers=layers,
        manifest_digest=manifest_digest,
        tags=tags,
        blobs=blobs,
    )


def open_local_image(ref: str, limits: Limits = DEFAULT_LIMITS) -> ImageSource:
    """A docker-archive or OCI layout (directory or tar) at a local path."""
    path = Path(ref)
    if path.is_dir():
        index_path = path / "index.json"
        if not os.path.lexists(index_path):
            raise InputError(f"{ref}: a directory image must be an OCI image layout (no index.json here)")
        if index_path.is_symlink():
            raise InputError(f"{ref}: index.json is a symlink: refused")
        index_bytes = read_bounded(index_path, limits.max_manifest_bytes, "index.json")
        return load_oci_layout(DirBlobStore(path), index_bytes, ref, limits)
    if not os.path.lexists(path):
        raise InputError(f"{ref}: no such file or directory (for a registry image use registry://HOST/REPO:TAG)")
    tar_index = TarIndex(path, limits)
    try:
        if "manifest.json" in tar_index.members:
            return load_docker_archive(tar_index, ref)
        if "index.json" in tar_index.members:
            return load_oci_layout(
                TarBlobStore(tar_index), tar_index.read_small("index.json", "index.json"), ref, limits
            )
        if tar_index.truncated:
            raise InputError(f"{ref}: {tar_index.truncated}, and no manifest.json or index.json was found")
        raise InputError(f"{ref}: neither a docker-archive (manifest.json) nor an OCI layout (index.json)")
    except BaseException:
        tar_index.close()
        raise
