"""Read an image source into a `ScannedImage`: the final filesystem view plus what went wrong.

`open_image(ref)` validates the reference and reads the manifest and config (InputError on
unusable input); `read_image(source)` streams every layer once. A layer that cannot be
read (truncated, digest mismatch, decompression bomb, ...) is recorded as a problem and
the scan goes on with the next one: the image is then "partly readable", and every check
that depends on the filesystem reports ERROR instead of a PASS it could not prove.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auditor.errors import InputError
from auditor.providers.image.archive import ImageSource, open_local_image
from auditor.providers.image.filesystem import FileSystemView
from auditor.providers.image.layers import DEFAULT_LIMITS, LayerError, LayerReport, LayerStream, Limits, read_layer
from auditor.providers.image.secret_rules import secret_file_candidate

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
EXACT_WANTED = {
    "etc/os-release": 64 * 1024,
    "usr/lib/os-release": 64 * 1024,
    "etc/passwd": 1024 * 1024,
    "etc/group": 1024 * 1024,
    "var/lib/dpkg/status": 64 * 1024**2,
    "lib/apk/db/installed": 64 * 1024**2,
}
METADATA_BYTES = 64 * 1024
SECRET_FILE_BYTES = 256 * 1024
DPKG_STATUS_D = "var/lib/dpkg/status.d/"


def wanted(path: str, size: int) -> int:
    """How many bytes of a file's content the inventory and checks need (0: none)."""
    exact = EXACT_WANTED.get(path)
    if exact is not None:
        return exact
    base = posixpath.basename(path)
    if base in ("METADATA", "PKG-INFO"):
        parent = posixpath.basename(posixpath.dirname(path))
        if parent.endswith(".dist-info") or parent.endswith(".egg-info"):
            return METADATA_BYTES
        return 0
    if base.endswith(".egg-info"):
        return METADATA_BYTES
    if path.startswith(DPKG_STATUS_D) and not base.endswith(".md5sums"):
        return 4 * 1024**2
    if secret_file_candidate(path) and size <= SECRET_FILE_BYTES:
        return SECRET_FILE_BYTES
    return 0


@dataclass
class ScannedImage:
    source: ImageSource
    view: FileSystemView
    layers: list[LayerReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # layers that could not be read completely

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def unsafe_entries(self) -> list[str]:
        return [f"layer {r.index + 1}: {u}" for r in self.layers for u in r.unsafe]

    @property
    def image_id(self) -> str:
        return self.source.config_digest

    def describe(self) -> dict[str, Any]:
        s = self.source
        return {
            "image_id": s.config_digest,
            "manifest_digest": s.manifest_digest,
            "reference": s.reference,
            "source_kind": s.kind,
            "tags": list(s.tags),
            "layers": len(s.layers),
        }


def open_image(ref: str, limits: Limits = DEFAULT_LIMITS, *, registry_auth: Any = None) -> ImageSource:
    """Resolve an `--image` value to a source (manifest and config read and validated)."""
    ref = ref.strip()
    if not ref:
        raise InputError("--image needs a value: a docker-archive tar, an OCI layout, or registry://HOST/REPO:TAG")
    if ref.startswith(("registry://", "registry+http://", "registry+https://")):
        from auditor.providers.image.registry import open_registry_image

        return open_registry_image(ref, limits, auth=registry_auth)
    return open_local_image(ref, limits)


def read_image(
    source: ImageSource,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[str], None] | None = None,
) -> ScannedImage:
    view = FileSystemView(keep_removed=secret_file_candidate)
    scanned = ScannedImage(source=source, view=view)
    budget = [limits.max_image_bytes]
    for layer in source.layers:
        report = LayerReport(index=layer.index, digest=layer.digest or layer.diff_id or "")
        scanned.layers.append(report)
        if progress:
            progress(f"{source.reference}: layer {layer.index + 1}/{len(source.layers)}")
        try:
            with source.open_layer(layer) as raw:
                stream = LayerStream(
                    raw,
                    expected_digest=layer.digest,
                    expected_diff_id=layer.diff_id,
                    limits=limits,
                    image_budget=budget,
                )
                read_layer(stream, view, report, wanted, limits)
                report.info = stream.finish()
        except LayerError as exc:
            label = (layer.digest or layer.diff_id or layer.locator)[:19]
            scanned.problems.append(f"layer {layer.index + 1} ({label}): {exc}")
            if "image decompresses to more than" in str(exc) or "files in the image" in str(exc):
                break
    return scanned
