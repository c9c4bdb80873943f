"""RPM databases in images: a real RPM root built with Debian's rpm, read in all three formats.

The module fixture builds two source packages (three binary RPMs) with `rpmbuild` and
installs them with `rpm --root ... -i` (rpm writes `rpmdb.sqlite`). The BerkeleyDB
`Packages` file is made from the same header blobs with `db5.3_load` (Debian's rpm can
only *read* BDB, through its `bdb_ro` backend, which the test uses to check the file);
no tool here writes NDB, so the test writes `Packages.db` in rpm's NDB layout itself.
Every scanner list is compared with `rpm --root ... -qa` exactly.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import struct
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from imagetest_fixtures import all_osv_records, by_check, scan, write_osv_db

from auditor.providers.image.build import FileSpec, ImageSpec, Layer, write_docker_archive
from auditor.providers.image.inventory import build_inventory, parse_system_release
from auditor.providers.image.rpmdb import BadHeader, RpmDBError, parse_header, read_rpmdb
from auditor.providers.image.scan import open_image, read_image

pytestmark = pytest.mark.skipif(
    not (shutil.which("rpmbuild") and shutil.which("rpm") and shutil.which("db5.3_load")),
    reason="needs rpm, rpmbuild and db5.3_load (scripts/setup --dev installs them)",
)

SPEC_TOOLS = """Name: aud-tools
Version: 3.0.7
Release: 27.el9
Epoch: 2
Summary: t
License: Apache-2.0
BuildArch: noarch
%description
t
%package libs
Summary: t
%description libs
t
%install
mkdir -p %{buildroot}/usr/share/aud
echo a > %{buildroot}/usr/share/aud/a
echo b > %{buildroot}/usr/share/aud/b
%files
/usr/share/aud/a
%files libs
/usr/share/aud/b
"""
SPEC_ZLIB = """Name: aud-zlib
Version: 1.2.13
Release: 3.amzn2023.0.1
Summary: t
License: zlib
%global debug_package %{nil}
%description
t
%install
mkdir -p %{buildroot}/usr/share/aud-zlib
echo z > %{buildroot}/usr/share/aud-zlib/z
%files
/usr/share/aud-zlib/z
"""
QF = "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n"
EXPECTED = {
    ("aud-tools", "2:3.0.7-27.el9", "noarch", "aud-tools"),
    ("aud-tools-libs", "2:3.0.7-27.el9", "noarch", "aud-tools"),
    ("aud-zlib", "1.2.13-3.amzn2023.0.1", "x86_64", "aud-zlib"),
}
AL2023 = (
    b'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
    b'PRETTY_NAME="Amazon Linux 2023.6.20241212"\n'
)
UBI8 = (
    b'NAME="Red Hat Enterprise Linux"\nVERSION="8.9 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.9"\n'
    b'PRETTY_NAME="Red Hat Enterprise Linux 8.9 (Ootpa)"\n'
)
ROCKY9 = (
    b'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n'
    b'PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n'
)


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


def _qa(root: Path, backend: str | None = None) -> set[tuple[str, str, str, str]]:
    extra = ["--define", f"_db_backend {backend}"] if backend else []
    out = _run("rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", *extra, "-qa", "--qf", QF)
    rows = set()
    for line in out.splitlines():
        name, evr, arch, srpm = line.split("\t")
        rows.add((name, evr, arch, srpm.rsplit("-", 2)[0]))
    return rows


@pytest.fixture(scope="module")
def rpm_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("rpm")
    rpms: list[str] = []
    for name, spec, target in (("tools", SPEC_TOOLS, "noarch"), ("zlib", SPEC_ZLIB, "x86_64")):
        (work / f"{name}.spec").write_text(spec)
        _run(
            "rpmbuild", "-bb", "--quiet", "--target", target,
            "--define", f"_topdir {work / 'top'}", "--define", "_binary_payload w1.gzdio",
            str(work / f"{name}.spec"),
        )  # fmt: skip
    rpms = sorted(str(p) for p in (work / "top" / "RPMS").rglob("*.rpm"))
    root = work / "root"
    root.mkdir()
    subprocess.run(
        ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", "--nodeps", "--ignoreos", "--ignorearch",
         "--noscripts", "-i", *rpms],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    # BerkeleyDB Packages from the same header blobs (key: the header number; record 0: rpm's counter)
    con = sqlite3.connect(root / "var/lib/rpm/rpmdb.sqlite")
    blobs = [(int(h), bytes(b)) for h, b in con.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")]
    con.close()
    lines = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=4096", "HEADER=END", " 00000000", " 04000000"]
    for hnum, blob in blobs:
        lines += [" " + hnum.to_bytes(4, "little").hex(), " " + blob.hex()]
    lines.append("DATA=END")
    (work / "dump.txt").write_text("\n".join(lines) + "\n")
    bdb = work / "bdbroot"
    (bdb / "var/lib/rpm").mkdir(parents=True)
    _run("db5.3_load", "-f", str(work / "dump.txt"), str(bdb / "var/lib/rpm/Packages"))
    (work / "ndb.bin").write_bytes(write_ndb([b for _, b in blobs]))
    return root


def write_ndb(blobs: list[bytes]) -> bytes:
    """rpm's NDB layout: a header + slot page, then 16-byte-aligned blob records (tail included)."""
    page = bytearray(4096)
    struct.pack_into("<IIII", page, 0, int.from_bytes(b"RpmP", "little"), 0, 1, 1)
    body = bytearray()
    block = 4096 // 16
    for i, blob in enumerate(blobs):
        pkg = i + 1
        rec = struct.pack("<IIII", int.from_bytes(b"BlbS", "little"), pkg, 0, len(blob)) + blob
        rec += struct.pack("<III", 0, len(blob), int.from_bytes(b"BlbE", "little"))
        rec += b"\0" * (-len(rec) % 16)
        struct.pack_into("<IIII", page, 32 + i * 16, int.from_bytes(b"Slot", "little"), pkg, block, len(rec) // 16)
        block += len(rec) // 16
        body += rec
    return bytes(page + body)


def _image(tmp: Path, name: str, files: list[FileSpec]) -> Path:
    return write_docker_archive(ImageSpec(layers=[Layer.from_files(files, compress=True)]), tmp / f"{name}.tar")


def _inventory(path: Path):  # type: ignore[no-untyped-def]
    source = open_image(str(path))
    try:
        return build_inventory(read_image(source).view)
    finally:
        source.close()


def _rows(inv) -> set[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    return {(p.name, p.version, p.arch, p.source_name) for p in inv.packages if p.type == "rpm"}


def test_sqlite_rpmdb_equals_rpm_qa(rpm_root: Path, tmp_path: Path) -> None:
    assert _qa(rpm_root) == EXPECTED
    db = (rpm_root / "var/lib/rpm/rpmdb.sqlite").read_bytes()
    image = _image(tmp_path, "al2023", [FileSpec("etc/os-release", AL2023), FileSpec("var/lib/rpm/rpmdb.sqlite", db)])
    inv = _inventory(image)
    assert _rows(inv) == EXPECTED
    assert inv.problems == []
    assert {p.purl(inv.os) for p in inv.packages} == {
        "pkg:rpm/amzn/aud-tools@3.0.7-27.el9?arch=noarch&distro=amzn-2023&epoch=2",
        "pkg:rpm/amzn/aud-tools-libs@3.0.7-27.el9?arch=noarch&distro=amzn-2023&epoch=2",
        "pkg:rpm/amzn/aud-zlib@1.2.13-3.amzn2023.0.1?arch=x86_64&distro=amzn-2023",
    }
    # OSV has no Amazon Linux ecosystem: inventoried, never matched
    assert {inv.osv_ecosystem(p) for p in inv.packages} == {None}


def test_bdb_packages_equals_rpm_qa(rpm_root: Path, tmp_path: Path) -> None:
    bdb_root = rpm_root.parent / "bdbroot"
    assert _qa(bdb_root, "bdb_ro") == EXPECTED  # rpm's own BDB reader agrees the fixture is a real Packages
    data = (bdb_root / "var/lib/rpm/Packages").read_bytes()
    image = _image(tmp_path, "ubi8", [FileSpec("etc/os-release", UBI8), FileSpec("var/lib/rpm/Packages", data)])
    inv = _inventory(image)
    assert _rows(inv) == EXPECTED
    assert inv.problems == []
    assert {inv.osv_ecosystem(p) for p in inv.packages} == {"Red Hat:enterprise_linux:8"}
    tools = next(p for p in inv.packages if p.name == "aud-tools-libs")
    assert inv.match_key(tools, "Red Hat:enterprise_linux:8") == ("aud-tools-libs", "2:3.0.7-27.el9")


def test_ndb_packages_db(rpm_root: Path, tmp_path: Path) -> None:
    data = (rpm_root.parent / "ndb.bin").read_bytes()
    files = [
        FileSpec("etc/os-release", ROCKY9),
        FileSpec("usr/lib/sysimage/rpm/Packages.db", data),
        FileSpec("var/lib/rpm", kind="symlink", link="../../usr/lib/sysimage/rpm"),
    ]
    inv = _inventory(_image(tmp_path, "rocky", files))
    assert _rows(inv) == EXPECTED  # read once, though two paths lead to it
    assert len(inv.packages) == 3
    libs = next(p for p in inv.packages if p.name == "aud-tools-libs")
    assert inv.osv_ecosystem(libs) == "Rocky Linux:9"
    assert inv.match_key(libs, "Rocky Linux:9") == ("aud-tools", "2:3.0.7-27.el9")  # Rocky names source RPMs


def test_amazon_linux_vulnerabilities_are_error_never_clean(
    rpm_root: Path, tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(write_osv_db(tmp_path / "vdb", all_osv_records(), now)))
    db = (rpm_root / "var/lib/rpm/rpmdb.sqlite").read_bytes()
    image = _image(tmp_path, "al2", [FileSpec("etc/system-release", b"Amazon Linux release 2 (Karoo)\n"),
                                     FileSpec("var/lib/rpm/rpmdb.sqlite", db)])  # fmt: skip
    findings = scan([str(image)], now)
    vuln = by_check(findings, "image.packages.vulnerable")
    assert [(str(f.status), f.discriminator) for f in vuln] == [("ERROR", "unsupported-distribution")]
    assert "3 OS package(s)" in vuln[0].message
    eol = by_check(findings, "image.os.end_of_life")
    assert [str(f.status) for f in eol] == ["FAIL"]  # Amazon Linux 2: end of support 2026-06-30
    assert "2026-06-30" in eol[0].message


def _rhsa(osv_id: str, ecosystem: str, name: str, fixed: str) -> dict[str, object]:
    return {
        "id": osv_id,
        "modified": "2026-01-01T00:00:00Z",
        "summary": f"{name} issue",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }


def test_red_hat_packages_match_every_stream_of_their_release_and_no_other(
    rpm_root: Path, tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red Hat's OSV ecosystems are CPE streams (`Red Hat:enterprise_linux:8::baseos`); a UBI 8
    package is matched against every stream of release 8, never against release 9's."""
    records = [
        _rhsa("RHSA-T-1", "Red Hat:enterprise_linux:8::baseos", "aud-tools-libs", "2:3.0.7-28.el9"),
        _rhsa("RHSA-T-2", "Red Hat:enterprise_linux:8::appstream", "aud-zlib", "1.2.14-1.el8"),
        _rhsa("RHSA-T-3", "Red Hat:enterprise_linux:8::appstream", "aud-tools", "2:3.0.7-27.el9"),  # fixed there
        _rhsa("RHSA-T-4", "Red Hat:enterprise_linux:9::baseos", "aud-tools", "3:0-1.el9"),  # another release
    ]
    monkeypatch.setenv("AUDITOR_VULNDB", str(write_osv_db(tmp_path / "vdb", records, now)))
    data = (rpm_root.parent / "bdbroot" / "var/lib/rpm/Packages").read_bytes()
    image = _image(tmp_path, "ubi8", [FileSpec("etc/os-release", UBI8), FileSpec("var/lib/rpm/Packages", data)])
    vuln = by_check(scan([str(image)], now), "image.packages.vulnerable")
    assert {(str(f.status), f.discriminator) for f in vuln} == {
        ("FAIL", "Red Hat:enterprise_linux:8/aud-tools-libs.noarch/RHSA-T-1"),
        ("FAIL", "Red Hat:enterprise_linux:8/aud-zlib.x86_64/RHSA-T-2"),
    }


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Amazon Linux release 2 (Karoo)", ("amzn", "2")),
        ("Amazon Linux release 2023.6.20241212 (Amazon Linux)", ("amzn", "2023.6.20241212")),
        ("Red Hat Enterprise Linux release 8.9 (Ootpa)", ("rhel", "8.9")),
        ("Rocky Linux release 9.3 (Blue Onyx)", ("rocky", "9.3")),
        ("AlmaLinux release 9.4 (Seafoam Ocelot)", ("almalinux", "9.4")),
        ("Fedora release 39 (Thirty Nine)", ("fedora", "39")),
        ("CentOS Linux release 7.9.2009 (Core)", ("centos", "7.9.2009")),
        ("Something else 1", None),
    ],
)
def test_system_release(line: str, expected: tuple[str, str] | None) -> None:
    os_ = parse_system_release(line + "\n")
    assert (None if os_ is None else (os_.id, os_.version_id)) == expected


def test_hostile_header_blobs_are_skipped(rpm_root: Path) -> None:
    con = sqlite3.connect(rpm_root / "var/lib/rpm/rpmdb.sqlite")
    blob = bytes(con.execute("SELECT blob FROM Packages LIMIT 1").fetchone()[0])
    con.close()
    for bad in (
        b"",
        b"\0\0\0\1",
        struct.pack(">II", 0xFFFFFFFF, 0),  # absurd index count
        struct.pack(">II", 1, 0x7FFFFFFF) + b"\0" * 16,  # data size past the blob
        struct.pack(">II", 1, 4) + struct.pack(">IIiI", 1000, 6, 100, 1) + b"abcd",  # offset outside
        struct.pack(">II", 1, 4) + struct.pack(">IIiI", 1000, 6, 0, 1) + b"abcd",  # unterminated
        blob[:-10],
    ):
        with pytest.raises(BadHeader):
            parse_header(bad)
    rng = random.Random(16)
    for _ in range(3000):  # mutated real blobs: parsed or refused, never another exception
        mutated = bytearray(blob)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        try:
            parse_header(bytes(mutated))
        except BadHeader:
            pass


def test_hostile_databases(rpm_root: Path) -> None:
    sqlite_db = (rpm_root / "var/lib/rpm/rpmdb.sqlite").read_bytes()
    bdb = (rpm_root.parent / "bdbroot/var/lib/rpm/Packages").read_bytes()
    ndb = (rpm_root.parent / "ndb.bin").read_bytes()
    for kind, data in (("sqlite", b"not sqlite"), ("sqlite", sqlite_db[:4096]), ("bdb", b"\0" * 4096),
                       ("ndb", b"RpmP" + b"\0" * 40), ("ndb", ndb[:16])):  # fmt: skip
        with pytest.raises(RpmDBError):
            read_rpmdb(kind, data)
    # BDB: an overflow chain that loops and pages that point out of the file: records skipped
    looped = bytearray(bdb)
    for pgno in range(1, len(bdb) // 4096):
        base = pgno * 4096
        if looped[base + 25] == 7:  # an overflow page pointing at itself
            struct.pack_into("<I", looped, base + 16, pgno)
            struct.pack_into("<H", looped, base + 22, 0)
    result = read_rpmdb("bdb", bytes(looped))
    assert result.skipped == 3 and result.headers == []
    # NDB: a slot whose blob lies past the end of the file
    bad = bytearray(ndb)
    struct.pack_into("<I", bad, 32 + 8, 10**6)
    result = read_rpmdb("ndb", bytes(bad))
    assert (len(result.headers), result.skipped) == (2, 1)
    rng = random.Random(61)
    for kind, good in (("bdb", bdb), ("ndb", ndb), ("sqlite", sqlite_db)):
        for _ in range(60):
            mutated = bytearray(good)
            for _ in range(rng.randint(1, 40)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            try:
                read_rpmdb(kind, bytes(mutated))
            except RpmDBError:
                pass


def test_unreadable_rpmdb_is_a_problem(tmp_path: Path) -> None:
    files = [FileSpec("etc/os-release", UBI8), FileSpec("var/lib/rpm/rpmdb.sqlite", b"x" * 200)]
    image = _image(tmp_path, "bad", files)
    inv = _inventory(image)
    assert inv.packages == []
    assert inv.problems == ["/var/lib/rpm/rpmdb.sqlite: not an SQLite database"]


def test_rocky_eol_passes_and_ubi_is_red_hat(rpm_root: Path, tmp_path: Path, now: datetime) -> None:
    ndb = (rpm_root.parent / "ndb.bin").read_bytes()
    rocky = _image(tmp_path, "rocky", [FileSpec("etc/os-release", ROCKY9), FileSpec("var/lib/rpm/Packages.db", ndb)])
    eol = by_check(scan([str(rocky)], now), "image.os.end_of_life")
    assert [(str(f.status), f.evidence["release"], f.evidence["eol"]) for f in eol] == [("PASS", "9", "2032-05-31")]


def test_rpmdb_over_its_cap_is_not_read_and_says_so(
    rpm_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.providers.image import scan as scan_mod

    monkeypatch.setitem(scan_mod.EXACT_WANTED, "var/lib/rpm/rpmdb.sqlite", 4096)
    db = (rpm_root / "var/lib/rpm/rpmdb.sqlite").read_bytes()
    inv = _inventory(
        _image(tmp_path, "big", [FileSpec("etc/os-release", UBI8), FileSpec("var/lib/rpm/rpmdb.sqlite", db)])
    )
    assert inv.packages == []
    assert inv.problems == [
        f"/var/lib/rpm/rpmdb.sqlite not read: {len(db)} bytes (over the rpm database cap or capture budget)"
    ]
