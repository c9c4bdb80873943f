"""Inventory from the final view: os-release, dpkg status(.d), apk, Python metadata; whiteouts."""

from __future__ import annotations

from pathlib import Path

from imagetest_fixtures import DISTROLESS_STATUS_D, clean_alpine_spec

from auditor.providers.image.build import FileSpec, ImageSpec, Layer, write_docker_archive
from auditor.providers.image.inventory import build_inventory, parse_os_release
from auditor.providers.image.scan import open_image, read_image


def read(path: Path):  # type: ignore[no-untyped-def]
    source = open_image(str(path))
    try:
        return read_image(source)
    finally:
        source.close()


def test_alpine_and_python_inventory(tmp_path: Path) -> None:
    scanned = read(write_docker_archive(clean_alpine_spec(), tmp_path / "a.tar"))
    inv = build_inventory(scanned.view)
    assert inv.os is not None and (inv.os.id, inv.os.version_id) == ("alpine", "3.22.1")
    assert {(p.type, p.name, p.version, p.source_name) for p in inv.packages} == {
        ("apk", "musl", "1.2.5-r10", "musl"),
        ("apk", "libcrypto3", "3.5.1-r0", "openssl"),
        ("apk", "busybox", "1.37.0-r18", "busybox"),
        ("pypi", "Flask", "3.1.1", None),
        ("pypi", "six", "1.16.0", None),
    }
    assert {inv.osv_ecosystem(p) for p in inv.packages} == {"Alpine:v3.22", "PyPI"}


def test_distroless_status_d(tmp_path: Path) -> None:
    layer = Layer.from_files(
        [
            FileSpec("etc/os-release", b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Distroless"\n'),
            FileSpec("var/lib/dpkg/status.d/libc6", DISTROLESS_STATUS_D),
            FileSpec("var/lib/dpkg/status.d/libc6.md5sums", b"abc  lib/x\n"),
        ]
    )
    scanned = read(write_docker_archive(ImageSpec(layers=[layer]), tmp_path / "d.tar"))
    inv = build_inventory(scanned.view)
    assert [(p.name, p.version, p.source_name, p.location) for p in inv.packages] == [
        ("libc6", "2.36-9+deb12u10", "glibc", "/var/lib/dpkg/status.d/libc6")
    ]
    assert inv.osv_ecosystem(inv.packages[0]) == "Debian:12"


def test_whiteouts_opaque_dirs_and_replacement(tmp_path: Path) -> None:
    lower = Layer.from_files(
        [
            FileSpec("a/keep.txt", b"1"),
            FileSpec("a/gone.txt", b"2"),
            FileSpec("b/x/deep.txt", b"3"),
            FileSpec("c/old.txt", b"4"),
            FileSpec("d/child.txt", b"5"),
        ]
    )
    upper = Layer.from_files(
        [
            FileSpec("a/gone.txt", kind="whiteout"),
            FileSpec("b", kind="whiteout"),  # a whole directory
            FileSpec("c", kind="opaque"),
            FileSpec("c/new.txt", b"6"),
            FileSpec("d", b"now a file"),  # a file replaces the directory and its children
        ]
    )
    scanned = read(write_docker_archive(ImageSpec(layers=[lower, upper]), tmp_path / "w.tar"))
    assert sorted(p for p, e in scanned.view.entries.items() if e.is_regular) == [
        "a/keep.txt",
        "c/new.txt",
        "d",
    ]


def test_os_release_parsing() -> None:
    os_ = parse_os_release(
        '# comment\nID="ubuntu"\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\nID_LIKE=debian\n'
    )
    assert os_ is not None and (os_.id, os_.version_id, os_.family) == ("ubuntu", "22.04", "ubuntu")
    assert parse_os_release("NAME=nothing\n") is None
