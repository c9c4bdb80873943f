"""`auditor sbom IMAGE [--output FILE]`: the image's inventory as a CycloneDX JSON SBOM.

The image provider's own command, registered through the `auditor.commands` entry point
(`sbom = "auditor.providers.image.command:register"`); the CLI imports this module only
when `sbom` is the command being run or for `auditor --help`.
"""

from __future__ import annotations

import argparse

from auditor.safeio import output_stream


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sbom", help="write a container image's inventory as a CycloneDX JSON SBOM")
    p.add_argument(
        "image", metavar="IMAGE", help="docker-archive tar, OCI layout (dir or tar), or registry://HOST/REPO:TAG"
    )
    p.add_argument("--output", metavar="FILE", help="write the SBOM here instead of stdout")
    p.set_defaults(func=cmd_sbom)


def cmd_sbom(args: argparse.Namespace) -> int:
    from auditor.clock import utcnow
    from auditor.providers.image import scan_single_image
    from auditor.providers.image.sbom import sbom_json

    facts = scan_single_image(args.image)
    text = sbom_json(facts, utcnow())
    with output_stream(args.output) as stream:
        stream.write(text)
        stream.write("\n")
    return 0
