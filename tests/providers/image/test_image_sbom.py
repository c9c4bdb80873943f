"""`auditor sbom IMAGE`: CycloneDX JSON with the exact components of the sample image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.providers.image.build import ImageSpec, Layer, write_oci_layout
from auditor.providers.image.sample import build_sample_image


def test_sbom_of_sample_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = build_sample_image(tmp_path / "img.tar")
    out = tmp_path / "sbom.json"
    assert main(["sbom", str(image), "--output", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert (doc["bomFormat"], doc["specVersion"]) == ("CycloneDX", "1.5")
    root = doc["metadata"]["component"]
    assert (root["type"], root["name"], root["version"]) == (
        "container",
        "sample-app:latest",
        "sha256:aa370ab8d7ffe01b61dc2ef914c69364143dd5961a49d17bef2eff3766527790",
    )
    assert {c.get("purl") or c["bom-ref"] for c in doc["components"]} == {
        "os:debian@11",
        "pkg:deb/debian/base-files@11.1%2Bdeb11u7?arch=amd64&distro=debian-11",
        "pkg:deb/debian/libssl1.1@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11",
        "pkg:deb/debian/libc6@2.31-13%2Bdeb11u5?arch=amd64&distro=debian-11",
        "pkg:pypi/requests@2.25.1",
    }
    assert doc["metadata"]["timestamp"].startswith("2026-11-28T12:00:00")


def test_sbom_refuses_partly_readable_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = Layer.from_files([])
    cut = Layer(good.blob[:100], good.diff_id, good.media_type)
    image = write_oci_layout(ImageSpec(layers=[cut]), tmp_path / "oci")
    assert main(["sbom", str(image)]) == 2
    captured = capsys.readouterr()
    assert "could not be read completely" in captured.err
    assert captured.out == ""  # no partial SBOM


def test_sbom_missing_image_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sbom", str(tmp_path / "missing.tar")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
