"""Container images: read safely, inventory packages, find vulnerabilities, secrets and risky configuration.

`--image REF_OR_TAR` (repeatable) takes a `docker save` archive, an OCI image layout
(directory or tar), or `registry://HOST[:PORT]/REPO:TAG` / `...@sha256:...` (HTTPS;
`registry+http://` for a plain-HTTP registry such as one on 127.0.0.1). Layers are
streamed, verified against their digests and never extracted. See docs/providers/image.md.

Every finding's resource is the image, identified by its image id (the sha256 digest of
its config, the same whether the image came from an archive or a registry); the
reference, tags and manifest digest are in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import CheckInfo, Finding, Resource, Status
from auditor.providers.base import Provider, ScanContext
from auditor.providers.image.archive import ImageSource
from auditor.providers.image.checks import (
    ALL_CHECKS,
    ImageFacts,
    Result,
    check_age,
    check_eol,
    check_healthcheck,
    check_layer_integrity,
    check_metadata_secrets,
    check_mutable_tag,
    check_runs_as_root,
    check_secret_files,
    check_setuid,
    check_unsafe_entries,
)
from auditor.providers.image.inventory import build_inventory
from auditor.providers.image.layers import DEFAULT_LIMITS, Limits
from auditor.providers.image.scan import open_image, read_image

RESOURCE_TYPE = "container_image"


@dataclass
class _Prepared:
    ref: str
    source: ImageSource


class ImageProvider(Provider):
    name = "image"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._prepared: list[_Prepared] = []

    def checks(self) -> list[CheckInfo]:
        return list(ALL_CHECKS)

    def selected(self, config: AuditConfig) -> bool:
        return bool(config.images)

    def targets(self, config: AuditConfig) -> list[str]:
        return [f"image:{ref}" for ref in config.images]

    def prepare(self, ctx: ScanContext) -> None:
        """Open every image (manifest and config read and validated): unusable input is exit 2."""
        self.close()
        try:
            for ref in ctx.config.images:
                self._prepared.append(_Prepared(ref, open_image(ref, self.limits)))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for p in self._prepared:
            p.source.close()
        self._prepared = []

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        if not self._prepared:
            self.prepare(ctx)
        try:
            for prepared in self._prepared:
                if ctx.cancelled.is_set():
                    return
                yield from self.scan_image(prepared.source, ctx)
        finally:
            self.close()

    def scan_image(self, source: ImageSource, ctx: ScanContext) -> Iterator[Finding]:
        ctx.progress(self.name, source.reference)
        scanned = read_image(source, self.limits, progress=lambda msg: ctx.progress(self.name, msg))
        facts = ImageFacts(scanned=scanned, inventory=build_inventory(scanned.view))
        from auditor.providers.image.vulns import check_vulnerable

        resource = Resource(id=scanned.image_id, type=RESOURCE_TYPE)
        base = scanned.describe()
        if facts.inventory.os is not None:
            base["os"] = facts.inventory.os.pretty_name
        results: list[Result] = [
            *check_layer_integrity(facts),
            *check_unsafe_entries(facts),
            *check_runs_as_root(facts),
            *check_healthcheck(facts),
            *check_metadata_secrets(facts),
            *check_mutable_tag(facts),
            *check_age(facts, ctx.now, ctx.config.thresholds.image_max_age_days),
            *check_secret_files(facts),
            *check_setuid(facts),
            *check_eol(facts, ctx.now),
            *check_vulnerable(facts),
        ]
        for r in results:
            kwargs = {"severity": r.severity} if r.severity is not None else {}
            yield self.finding(
                r.check,
                r.status,
                resource,
                r.message,
                evidence={"image": base, **r.evidence},
                discriminator=r.discriminator,
                **kwargs,
            )


def scan_single_image(ref: str, limits: Limits = DEFAULT_LIMITS) -> ImageFacts:
    """Open and read one image (for `auditor sbom`): InputError if it cannot be read completely."""
    source = open_image(ref, limits)
    try:
        scanned = read_image(source, limits)
    finally:
        source.close()
    if not scanned.complete:
        raise InputError(f"{ref}: the image could not be read completely: {scanned.problems[0]}")
    return ImageFacts(scanned=scanned, inventory=build_inventory(scanned.view))


__all__ = ["ImageProvider", "Status", "scan_single_image"]
