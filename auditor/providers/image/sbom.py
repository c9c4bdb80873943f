"""The image inventory as a CycloneDX 1.5 JSON SBOM (cyclonedx-python-lib)."""

from __future__ import annotations

from datetime import datetime

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot5
from packageurl import PackageURL

from auditor import __version__
from auditor.providers.image.checks import ImageFacts


def build_sbom(facts: ImageFacts, now: datetime) -> Bom:
    scanned = facts.scanned
    source = scanned.source
    bom = Bom()
    bom.metadata.timestamp = now
    root = Component(
        type=ComponentType.CONTAINER,
        name=source.tags[0] if source.tags else source.reference,
        version=scanned.image_id,
        bom_ref=scanned.image_id,
        properties=[
            Property(name="auditor:image:reference", value=source.reference),
            Property(name="auditor:image:source", value=source.kind),
            *(
                [Property(name="auditor:image:manifest_digest", value=source.manifest_digest)]
                if source.manifest_digest
                else []
            ),
            Property(name="auditor:scanner_version", value=__version__),
        ],
    )
    bom.metadata.component = root
    components: list[Component] = []
    os_ = facts.inventory.os
    if os_ is not None:
        components.append(
            Component(
                type=ComponentType.OPERATING_SYSTEM,
                name=os_.id,
                version=os_.version_id or None,
                description=os_.pretty_name,
                bom_ref=f"os:{os_.id}@{os_.version_id}",
            )
        )
    seen: set[str] = set()
    for pkg in facts.inventory.packages:
        purl = pkg.purl(os_)
        ref = purl if pkg.type != "pypi" else f"{purl}#{pkg.location}"
        if ref in seen:
            continue
        seen.add(ref)
        props = [Property(name="auditor:package:location", value=pkg.location)]
        if pkg.source_name and pkg.source_name != pkg.name:
            props.append(Property(name="auditor:package:source_name", value=pkg.source_name))
        components.append(
            Component(
                type=ComponentType.LIBRARY,
                name=pkg.name,
                version=pkg.version,
                purl=PackageURL.from_string(purl),
                bom_ref=ref,
                properties=props,
            )
        )
    for c in components:
        bom.components.add(c)
    bom.register_dependency(root, components)
    return bom


def sbom_json(facts: ImageFacts, now: datetime) -> str:
    return str(JsonV1Dot5(build_sbom(facts, now)).output_as_string(indent=2))
