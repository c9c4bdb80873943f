"""Build real image archives in pure Python (tarfile + gzip + json + hashlib).

Used by the demo's sample image, the tests and the benchmark: a layer is a list of
`FileSpec`s (or a tar file already on disk); an image is layers + a config; it is written
as a `docker save` archive or as an OCI image layout (directory or tar).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass
class FileSpec:
    path: str
    data: bytes = b""
    mode: int = 0o644
    kind: str = "file"  # file, dir, symlink, hardlink, whiteout, opaque
    link: str = ""
    uid: int = 0
    gid: int = 0


def layer_tar(files: list[FileSpec], mtime: int = 1_700_000_000) -> bytes:
    """An uncompressed layer tar (deterministic) from file specs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for spec in files:
            name = spec.path
            if spec.kind == "whiteout":
                parent, _, base = name.rpartition("/")
                name = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
            elif spec.kind == "opaque":
                name = name.rstrip("/") + "/.wh..wh..opq"
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            info.mode = spec.mode
            info.uid, info.gid = spec.uid, spec.gid
            if spec.kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = spec.mode if spec.mode != 0o644 else 0o755
                tf.addfile(info)
            elif spec.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = spec.link
                tf.addfile(info)
            elif spec.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = spec.link
                tf.addfile(info)
            else:
                info.size = len(spec.data)
                tf.addfile(info, io.BytesIO(spec.data))
    return buf.getvalue()


def gzip_bytes(data: bytes, level: int = 6) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Layer:
    """A layer blob as stored (maybe gzipped) with its uncompressed digest."""

    blob: bytes
    diff_id: str
    media_type: str

    @classmethod
    def from_files(cls, files: list[FileSpec], *, compress: bool = False) -> Layer:
        tar = layer_tar(files)
        if compress:
            return cls(gzip_bytes(tar), sha256(tar), OCI_LAYER_GZIP)
        return cls(tar, sha256(tar), OCI_LAYER)

    @property
    def digest(self) -> str:
        return sha256(self.blob)


@dataclass
class ImageSpec:
    layers: list[Layer]
    user: str | None = None
    env: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    healthcheck: list[str] | None = None
    created: str = "2026-01-01T00:00:00Z"
    history: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=lambda: ["/bin/sh"])

    def config(self) -> dict[str, Any]:
        runtime: dict[str, Any] = {"Env": self.env, "Cmd": self.cmd, "Labels": self.labels}
        if self.user is not None:
            runtime["User"] = self.user
        if self.healthcheck is not None:
            runtime["Healthcheck"] = {"Test": self.healthcheck}
        history = [{"created": self.created, "created_by": h} for h in self.history]
        return {
            "architecture": "amd64",
            "os": "linux",
            "created": self.created,
            "config": runtime,
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in self.layers]},
            "history": history,
        }

    def config_bytes(self) -> bytes:
        return json.dumps(self.config(), sort_keys=True).encode()


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    tf.addfile(info, io.BytesIO(data))


def write_docker_archive(spec: ImageSpec, out: Path, tags: list[str] | None = None) -> Path:
    """The classic `docker save` layout: manifest.json, <id>.json, <layer>/layer.tar."""
    config = spec.config_bytes()
    config_name = sha256(config).split(":")[1] + ".json"
    layer_names = [f"{layer.digest.split(':')[1]}/layer.tar" for layer in spec.layers]
    manifest = [{"Config": config_name, "RepoTags": tags if tags is not None else ["app:1.0"], "Layers": layer_names}]
    with tarfile.open(out, "w") as tf:
        for name, layer in zip(layer_names, spec.layers, strict=True):
            _add_bytes(tf, name, layer.blob)
        _add_bytes(tf, config_name, config)
        _add_bytes(tf, "manifest.json", json.dumps(manifest).encode())
    return out


def oci_blobs(spec: ImageSpec, ref_name: str | None = "1.0") -> tuple[dict[str, bytes], bytes, bytes]:
    """(blobs by digest, index.json, manifest bytes) of an OCI layout."""
    config = spec.config_bytes()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [
            {"mediaType": layer.media_type, "digest": layer.digest, "size": len(layer.blob)} for layer in spec.layers
        ],
    }
    manifest_bytes = json.dumps(manifest).encode()
    blobs = {sha256(config): config, sha256(manifest_bytes): manifest_bytes}
    for layer in spec.layers:
        blobs[layer.digest] = layer.blob
    desc: dict[str, Any] = {"mediaType": OCI_MANIFEST, "digest": sha256(manifest_bytes), "size": len(manifest_bytes)}
    if ref_name:
        desc["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc]}).encode()
    return blobs, index, manifest_bytes


def write_oci_layout(spec: ImageSpec, out: Path, *, as_tar: bool = False, ref_name: str | None = "1.0") -> Path:
    blobs, index, _ = oci_blobs(spec, ref_name)
    layout = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()
    if as_tar:
        with tarfile.open(out, "w") as tf:
            _add_bytes(tf, "oci-layout", layout)
            _add_bytes(tf, "index.json", index)
            for digest, data in blobs.items():
                _add_bytes(tf, "blobs/sha256/" + digest.split(":")[1], data)
        return out
    (out / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (out / "oci-layout").write_bytes(layout)
    (out / "index.json").write_bytes(index)
    for digest, data in blobs.items():
        (out / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    return out
