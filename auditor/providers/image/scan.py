"""Read an image source into a `ScannedImage`: the final filesystem view plus what went wrong.

`open_image(ref)` validates the reference and reads the manifest and config (InputError on
unusable input); `read_image(source)` streams every layer once. A layer that cannot be
read (truncated, decompression bomb, ...) or whose content does not match its digest (or
has no digest to be checked against) is recorded as a problem and the scan goes on with
the next one.

The view is then not trustworthy as a whole: an unverified layer's facts may be forged,
an unreadable layer's whiteouts and files are missing. `ScannedImage.gaps` lists every
reason (layer problems, members over the path caps, wanted contents over the capture
budget) and `complete` is False whenever there is one: every check that reads the view
may still FAIL on what it found (it is there), but reports ERROR where it would PASS or
call itself not applicable.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auditor.errors import InputError
from auditor.providers.image.archive import ImageSource, open_local_image
from auditor.providers.image.filesystem import FileSystemView
from auditor.providers.image.langpkgs import analyser_for, gemspec_file, npm_package_dir
from auditor.providers.image.layers import (
    DEFAULT_LIMITS,
    DigestMismatch,
    ImageCapExceeded,
    LayerError,
    LayerReport,
    LayerStream,
    Limits,
    read_layer,
)
from auditor.providers.image.secret_rules import secret_file_candidate

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
RPMDB_BYTES = 128 * 1024**2  # container images hold 5-60 MB; the reader holds up to 3 copies
# rpm's database: sqlite (rpm >= 4.16), BerkeleyDB Packages, NDB Packages.db; Fedora >= 36
# keeps it under /usr/lib/sysimage/rpm (/var/lib/rpm is a symlink there).
RPMDB_PATHS = {
    f"{d}/{f}": kind
    for d in ("var/lib/rpm", "usr/lib/sysimage/rpm")
    for f, kind in (("rpmdb.sqlite", "sqlite"), ("Packages", "bdb"), ("Packages.db", "ndb"))
}
NPM_LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")
EXACT_WANTED = {
    "etc/os-release": 64 * 1024,
    "usr/lib/os-release": 64 * 1024,
    "etc/passwd": 1024 * 1024,
    "etc/group": 1024 * 1024,
    "var/lib/dpkg/status": 64 * 1024**2,
    "lib/apk/db/installed": 64 * 1024**2,
    "etc/system-release": 64 * 1024,
    "etc/redhat-release": 64 * 1024,
    **dict.fromkeys(RPMDB_PATHS, RPMDB_BYTES),
}
METADATA_BYTES = 64 * 1024
SECRET_FILE_BYTES = 1024 * 1024
DPKG_STATUS_D = "var/lib/dpkg/status.d/"


def wanted(path: str, size: int) -> int:
    """How many bytes of a file's content the inventory and checks need (0: none)."""
    exact = EXACT_WANTED.get(path)
    if exact is not None:
        if path in RPMDB_PATHS and size > exact:
            return 0  # not read at all: the inventory reports the database as too large
        return exact
    base = posixpath.basename(path)
    if base in ("METADATA", "PKG-INFO"):
        parent = posixpath.basename(posixpath.dirname(path))
        if parent.endswith(".dist-info") or parent.endswith(".egg-info"):
            return METADATA_BYTES
        return 0
    if base.endswith(".egg-info"):
        return METADATA_BYTES
    if base == "package.json" and npm_package_dir(path):
        return 1024 * 1024
    if base in NPM_LOCKFILES and "node_modules/" not in path:
        return 64 * 1024**2
    if base == ".package-lock.json" and path.endswith("node_modules/.package-lock.json"):
        return 64 * 1024**2
    if gemspec_file(path):
        return 256 * 1024
    if path.startswith(DPKG_STATUS_D) and not base.endswith(".md5sums"):
        return 4 * 1024**2
    if secret_file_candidate(path):
        return SECRET_FILE_BYTES  # a larger file: its first 1 MiB (the check says it saw only part)
    return 0


@dataclass
class ScannedImage:
    source: ImageSource
    view: FileSystemView
    layers: list[LayerReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # layers not read completely or not verified

    @property
    def dropped_entries(self) -> list[str]:
        return [f"layer {r.index + 1}: {d}" for r in self.layers for d in r.dropped]

    @property
    def gaps(self) -> list[str]:
        """Why the view cannot vouch for a PASS: layer problems, members not kept, contents not kept."""
        out = list(self.problems)
        dropped = self.dropped_entries
        if dropped:
            out.append(f"{len(dropped)} layer entr{'y' if len(dropped) == 1 else 'ies'} not kept ({dropped[0]})")
        if self.view.uncaptured:
            out.append(
                f"{self.view.uncaptured} file content(s) not read: capture budget exhausted ({self.view.notes[0]})"
            )
        return out

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def unsafe_entries(self) -> list[str]:
        return [f"layer {r.index + 1}: {u}" for r in self.layers for u in r.unsafe]

    @property
    def verified_layers(self) -> int:
        return sum(1 for r in self.layers if r.verified)

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
    view = FileSystemView(keep_removed=secret_file_candidate, max_path_bytes=limits.max_path_bytes)
    scanned = ScannedImage(source=source, view=view)
    budget = [limits.max_image_bytes]
    stopped: str | None = None
    for layer in source.layers:
        report = LayerReport(index=layer.index, digest=layer.digest or layer.diff_id or "")
        scanned.layers.append(report)
        label = (layer.digest or layer.diff_id or layer.locator)[:19]
        if stopped is not None:
            report.error = f"not read: {stopped}"
            scanned.problems.append(f"layer {layer.index + 1} ({label}): {report.error}")
            continue
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
                read_layer(stream, view, report, wanted, limits, analyser_for)
                report.info = stream.finish()
        except LayerError as exc:
            report.state = "mismatch" if isinstance(exc, DigestMismatch) else "unreadable"
            report.error = str(exc)
            scanned.problems.append(f"layer {layer.index + 1} ({label}): {exc}")
            if isinstance(exc, ImageCapExceeded):
                stopped = f"an earlier layer reached an image-wide limit ({exc})"
            continue
        if layer.digest or layer.diff_id:
            report.state = "verified"
        else:
            report.state = "unverified"
            report.error = "no digest names this layer's content: it cannot be verified"
            scanned.problems.append(f"layer {layer.index + 1} ({label}): {report.error}")
    return scanned
