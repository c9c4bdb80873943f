"""Container images: read safely, inventory packages, find vulnerabilities, secrets and risky configuration.

`--image REF_OR_TAR` (repeatable) takes a `docker save` archive, an OCI image layout
(directory or tar), or `registry://HOST[:PORT]/REPO:TAG` / `...@sha256:...` (HTTPS;
`registry+http://` for a plain-HTTP registry such as one on 127.0.0.1). Layers are
streamed, verified against their digests and never extracted. See docs/providers/image.md.

Every finding's resource is the image, identified by its image id (the sha256 digest of
its config, the same whether the image came from an archive or a registry); the
reference, tags and manifest digest are in the evidence.

Targets and coverage: each `--image` value is one target, `image:<reference as given>`
(credential formats redacted), set on every finding of that image. One `Coverage` per
image records the layers read and verified, the files in the view, the packages
inventoried per ecosystem, and what was skipped (layers that could not be read or
verified, entries over the path caps, contents over the capture budget); it is complete
only when nothing was.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

from auditor.config import AuditConfig, Setting
from auditor.errors import InputError
from auditor.models import CheckInfo, Coverage, Finding, Resource, SkippedItem, Status
from auditor.providers.base import DemoContext, DemoEstate, Provider, ScanContext
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
from auditor.providers.image.scan import ScannedImage, open_image, read_image
from auditor.redact import redact_formats

RESOURCE_TYPE = "container_image"
MAX_SKIPPED_ITEMS = 50
log = logging.getLogger("auditor.image")


def image_target(ref: str) -> str:
    """The target of one `--image` value: the reference as given, credential formats redacted."""
    return "image:" + redact_formats(ref.strip())


@dataclass
class _Prepared:
    ref: str
    source: ImageSource


class ImageProvider(Provider):
    name = "image"
    title = "container images (docker-archive, OCI layout, registry) for packages, secrets and configuration"
    settings = (
        Setting(
            "refs",
            "texts",
            help="container image: docker-archive tar, OCI layout, or registry://HOST/REPO:TAG; repeatable",
            flag="--image",
            metavar="REF_OR_TAR",
            what="an image",
        ),
    )
    shorthand = "refs"
    config_aliases = ("images",)

    @classmethod
    @contextlib.contextmanager
    def demo_estate(cls, demo: DemoContext) -> Iterator[DemoEstate | None]:
        """`auditor demo`: the sample image (`sample.py`, a docker-archive with known problems)
        and the OSV records of its OS packages' advisories."""
        from auditor.providers.image.sample import build_sample_image, sample_osv_records

        demo.workdir.mkdir(parents=True, exist_ok=True)
        image = build_sample_image(demo.workdir / "payments-api.tar")
        yield DemoEstate(settings={"refs": (str(image),)}, osv_records=sample_osv_records())

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._prepared: list[_Prepared] = []

    def checks(self) -> list[CheckInfo]:
        return list(ALL_CHECKS)

    def refs(self, config: AuditConfig) -> tuple[str, ...]:
        return tuple(self.settings_of(config)["refs"])

    def targets(self, config: AuditConfig) -> list[str]:
        return [image_target(ref) for ref in self.refs(config)]

    def prepare(self, ctx: ScanContext) -> None:
        """Open every image (manifest and config read and validated): unusable input is exit 2."""
        self.close()
        try:
            for ref in self.refs(ctx.config):
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
                yield from self.scan_target(prepared, ctx)
        finally:
            self.close()

    def scan_target(self, prepared: _Prepared, ctx: ScanContext) -> Iterator[Finding]:
        """One image's findings, all with its target; its coverage recorded whatever happens."""
        target = image_target(prepared.ref)
        findings: list[Finding] = []
        try:
            for f in self.scan_image(prepared.source, ctx):
                findings.append(replace(f, target=target))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
            log.error("image %s failed: %s", prepared.ref, error, exc_info=log.isEnabledFor(logging.DEBUG))
            resource = Resource(id=prepared.source.image_id, type=RESOURCE_TYPE)
            findings = [
                self.finding(
                    c,
                    Status.ERROR,
                    resource,
                    f"{prepared.source.reference}: could not be evaluated: {error}",
                    evidence={"error": error},
                    target=target,
                    affects=self.check_globs(),
                )
                for c in self.checks()
            ]
            ctx.record_coverage(
                Coverage(
                    provider=self.name,
                    target=target,
                    skipped=(SkippedItem(prepared.ref, f"the image could not be scanned: {error}"),),
                    complete=False,
                    details={"image_id": prepared.source.image_id, "reference": prepared.source.reference},
                )
            )
        yield from findings

    def scan_image(self, source: ImageSource, ctx: ScanContext) -> Iterator[Finding]:
        ctx.progress(self.name, source.reference)
        scanned = read_image(source, self.limits, progress=lambda msg: ctx.progress(self.name, msg))
        facts = ImageFacts(scanned=scanned, inventory=build_inventory(scanned.view))
        from auditor.providers.image.vulns import check_vulnerable

        ctx.record_coverage(image_coverage(self.name, image_target(source.reference), facts))
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


PACKAGE_TYPES = ("deb", "apk", "rpm", "pypi", "npm", "gem", "maven", "golang", "cargo")


def image_coverage(provider: str, target: str, facts: ImageFacts) -> Coverage:
    """What one image scan examined and what it left out."""
    scanned: ScannedImage = facts.scanned
    layers = scanned.layers
    packages = Counter(p.type for p in facts.inventory.packages)
    skipped = [
        SkippedItem(f"layer {r.index + 1} ({(r.digest or '')[:19]})", f"{r.state}: {r.error}")
        for r in layers
        if not r.verified
    ]
    dropped = scanned.dropped_entries
    skipped += [SkippedItem(d.split(": ", 1)[0] + " entry", d.split(": ", 1)[-1]) for d in dropped[:MAX_SKIPPED_ITEMS]]
    if len(dropped) > MAX_SKIPPED_ITEMS:
        skipped.append(SkippedItem(f"{len(dropped) - MAX_SKIPPED_ITEMS} more entries", "over the path caps"))
    if scanned.view.uncaptured:
        skipped.append(
            SkippedItem(
                f"{scanned.view.uncaptured} file content(s)",
                "capture budget exhausted: " + "; ".join(scanned.view.notes[:3]),
            )
        )
    skipped += [SkippedItem(p, "package data not read completely") for p in facts.inventory.problems]
    source = scanned.source
    return Coverage(
        provider=provider,
        target=target,
        examined={
            "layers": len(source.layers),
            "layers_read": sum(1 for r in layers if r.state in ("verified", "unverified", "mismatch")),
            "layers_verified": scanned.verified_layers,
            "files": len(scanned.view.entries),
            **{f"packages_{kind}": packages.get(kind, 0) for kind in PACKAGE_TYPES},
        },
        skipped=tuple(skipped),
        complete=not skipped,
        details={
            "image_id": source.config_digest,
            "manifest_digest": source.manifest_digest,
            "reference": source.reference,
            "source_kind": source.kind,
            "os": facts.inventory.os.pretty_name if facts.inventory.os else None,
            "layers": [{"layer": r.index + 1, "digest": r.digest, "state": r.state} for r in layers],
            "unsafe_entries": len(scanned.unsafe_entries),
            "java_archives_without_maven_metadata": {
                "count": len(facts.inventory.unidentified_archives),
                "first": facts.inventory.unidentified_archives[:20],
            },
        },
    )


def scan_single_image(ref: str, limits: Limits = DEFAULT_LIMITS) -> ImageFacts:
    """Open and read one image (for `auditor sbom`): InputError if it cannot be read completely."""
    source = open_image(ref, limits)
    try:
        scanned = read_image(source, limits)
    finally:
        source.close()
    if not scanned.complete:
        raise InputError(f"{ref}: the image could not be read completely: {scanned.gaps[0]}")
    return ImageFacts(scanned=scanned, inventory=build_inventory(scanned.view))


__all__ = ["ImageProvider", "Status", "scan_single_image"]
