"""Trust in what was read: unverified layers never back a PASS, deep paths stay linear, only
regular files are read, and every image is one target with one coverage record (issue 11)."""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from imagetest_fixtures import (
    ALPINE_OS_RELEASE,
    all_osv_records,
    by_check,
    clean_alpine_spec,
    outcome,
    scan,
    write_osv_db,
)

from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.image import ImageProvider, image_target
from auditor.providers.image.build import (
    OCI_LAYER,
    FileSpec,
    ImageSpec,
    Layer,
    layer_tar,
    sha256,
    write_docker_archive,
    write_oci_layout,
)
from auditor.providers.image.filesystem import DirIndex, FileSystemView, PrefixSet
from auditor.providers.image.layers import Limits, path_over_caps
from auditor.providers.image.sample import FAKE_PRIVATE_KEY
from auditor.providers.image.scan import open_image, read_image
from auditor.runs import run_scan
from auditor.store import Store

AUDITOR = str(Path(sys.executable).parent / "auditor")
CONFIG_CHECKS_PASS = {
    ("image.config.healthcheck", "PASS", ""),
    ("image.config.secrets", "PASS", ""),
    ("image.reference.mutable_tag", "PASS", ""),
    ("image.build.age", "PASS", ""),
}
VIEW_CHECKS_ERROR = {
    ("image.config.runs_as_root", "ERROR", ""),
    ("image.os.end_of_life", "ERROR", ""),
    ("image.files.secrets", "ERROR", ""),
    ("image.files.setuid_binaries", "ERROR", ""),
    ("image.packages.vulnerable", "ERROR", ""),
    ("image.layers.unsafe_entries", "ERROR", ""),
}


@pytest.fixture(autouse=True)
def vulndb(tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_osv_db(tmp_path / "vdb", all_osv_records(), now)
    monkeypatch.setenv("AUDITOR_VULNDB", str(path))
    return path


def tampered_layout(tmp_path: Path, extra: list[FileSpec]) -> Path:
    """The clean image as an OCI layout whose only layer blob was replaced (same name)."""
    spec = clean_alpine_spec()
    oci = write_oci_layout(spec, tmp_path / "tampered")
    honest = spec.layers[0]
    files = [
        FileSpec("etc/os-release", ALPINE_OS_RELEASE),
        FileSpec("etc/passwd", b"root:x:0:0:root:/root:/bin/ash\napp:x:1000:1000::/home/app:/bin/sh\n"),
        *extra,
    ]
    blob = oci / "blobs" / "sha256" / honest.digest.split(":")[1]
    blob.write_bytes(gzip.compress(layer_tar(files), mtime=0))
    return oci


# 2. Facts from an unverified layer never back a PASS ------------------------------------


def test_clean_facts_from_a_tampered_layer_are_errors_not_passes(tmp_path: Path, now: datetime) -> None:
    findings = scan([str(tampered_layout(tmp_path, []))], now)
    # Before: end_of_life, runs_as_root, secret files and setuid PASSed on the forged layer.
    assert outcome(findings) == {("image.layers.integrity", "FAIL", ""), *CONFIG_CHECKS_PASS, *VIEW_CHECKS_ERROR}
    eol = by_check(findings, "image.os.end_of_life")[0]
    assert "does not match the manifest's" in eol.message
    assert eol.evidence["os"]["id"] == "alpine"  # what was read is shown, not trusted


def test_failures_read_from_a_tampered_layer_stay_failures(tmp_path: Path, now: datetime) -> None:
    extra = [
        FileSpec("root/.ssh/id_rsa", FAKE_PRIVATE_KEY.encode(), mode=0o600),
        FileSpec("usr/local/bin/helper", b"\x7fELF", mode=0o4755),
    ]
    findings = scan([str(tampered_layout(tmp_path, extra))], now)
    assert outcome(findings) == {
        ("image.layers.integrity", "FAIL", ""),
        *CONFIG_CHECKS_PASS,
        *(VIEW_CHECKS_ERROR - {("image.files.secrets", "ERROR", ""), ("image.files.setuid_binaries", "ERROR", "")}),
        ("image.files.secrets", "FAIL", "/root/.ssh/id_rsa"),
        ("image.files.setuid_binaries", "FAIL", ""),
    }


def test_end_of_life_read_from_a_tampered_layer_stays_fail(tmp_path: Path, now: datetime) -> None:
    old = FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.14.2\nPRETTY_NAME=Alpine 3.14\n")
    oci = tampered_layout(tmp_path, [])
    spec = clean_alpine_spec()
    blob = oci / "blobs" / "sha256" / spec.layers[0].digest.split(":")[1]
    blob.write_bytes(gzip.compress(layer_tar([old]), mtime=0))
    eol = by_check(scan([str(oci)], now), "image.os.end_of_life")
    assert [str(f.status) for f in eol] == ["FAIL"]


def unverifiable_archive(path: Path, files: list[FileSpec]) -> Path:
    """A docker-archive whose layer has no digest anywhere: not digest-named, no rootfs.diff_ids."""
    tar = layer_tar(files)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-11-01T00:00:00Z",
        "config": {"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}},
    }
    config_bytes = json.dumps(config).encode()
    manifest = [{"Config": "config.json", "RepoTags": ["legacy:1.0"], "Layers": ["layer0/layer.tar"]}]
    with tarfile.open(path, "w") as tf:
        for name, data in (
            ("layer0/layer.tar", tar),
            ("config.json", config_bytes),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_a_layer_with_no_digest_to_check_is_unverified(tmp_path: Path, now: datetime) -> None:
    target = unverifiable_archive(tmp_path / "legacy.tar", [FileSpec("etc/os-release", ALPINE_OS_RELEASE)])
    findings = scan([str(target)], now)
    integrity = by_check(findings, "image.layers.integrity")[0]
    assert str(integrity.status) == "ERROR"
    assert "cannot be verified" in integrity.message
    assert integrity.evidence["layers"][0]["state"] == "unverified"
    assert [str(f.status) for f in by_check(findings, "image.os.end_of_life")] == ["ERROR"]


def test_unreadable_package_database_is_an_error_even_with_other_packages(tmp_path: Path, now: datetime) -> None:
    spec = clean_alpine_spec()
    extra = Layer.from_files([FileSpec("var/lib/dpkg/status", kind="hardlink", link="var/lib/dpkg/gone")])
    spec.layers.append(extra)
    findings = scan([str(write_docker_archive(spec, tmp_path / "x.tar", tags=["x:1"]))], now)
    vuln = by_check(findings, "image.packages.vulnerable")
    # Before: PASS on the apk and Python packages, the dpkg database silently left out.
    assert [(str(f.status), f.discriminator) for f in vuln] == [("ERROR", "database")]
    assert "/var/lib/dpkg/status could not be read" in vuln[0].message


def test_a_secret_file_larger_than_what_is_read_is_not_a_pass(tmp_path: Path, now: datetime) -> None:
    spec = clean_alpine_spec()
    big_env = b"# padding\n" * 120_000 + b"DB_PASSWORD=hunter2-far-down\n"  # past the first 1 MiB
    spec.layers.append(Layer.from_files([FileSpec("app/.env", big_env)]))
    findings = scan([str(write_docker_archive(spec, tmp_path / "x.tar", tags=["x:1"]))], now)
    files = by_check(findings, "image.files.secrets")
    assert [str(f.status) for f in files] == ["ERROR"]
    assert files[0].evidence["partly_read"] == [f"/app/.env (first {1024 * 1024} of {len(big_env)} bytes)"]


# 3. Deep paths: linear, capped ------------------------------------------------------------


def deep_path_image(path: Path, depth: int) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("/".join(["a"] * depth) + "/f")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
        os_release = tarfile.TarInfo("etc/os-release")
        os_release.size = len(ALPINE_OS_RELEASE)
        tf.addfile(os_release, io.BytesIO(ALPINE_OS_RELEASE))
    tar = buf.getvalue()
    layer = Layer(tar, sha256(tar), OCI_LAYER)
    spec = ImageSpec(layers=[layer], user="1000", healthcheck=["CMD", "true"], created="2026-11-01T00:00:00Z")
    return write_docker_archive(spec, path, tags=["deep:1"])


DEEP_SCAN = textwrap.dedent(
    """
    import json, resource, sys, tracemalloc
    from datetime import datetime, timezone
    resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))
    from auditor.config import AuditConfig
    from auditor.providers.base import ScanContext
    from auditor.providers import targets
    from auditor.providers.image import ImageProvider
    config = AuditConfig(targets=targets(image=sys.argv[1]))
    ctx = ScanContext(config=config, now=datetime(2026, 11, 28, tzinfo=timezone.utc))
    provider = ImageProvider()
    tracemalloc.start()
    provider.prepare(ctx)
    found = [(f.check_id, str(f.status), f.message) for f in provider.run(ctx)]
    print(json.dumps({"findings": found, "coverage": [c.to_dict() for c in ctx.coverage],
                      "peak_bytes": tracemalloc.get_traced_memory()[1]}))
    """
)


def test_a_path_60000_directories_deep_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    target = deep_path_image(tmp_path / "deep.tar", 60_000)
    assert target.stat().st_size < 200_000  # the 143 KB image of the issue
    # Before: the directory set held every ancestor path (depth x length): out of memory.
    proc = subprocess.run([sys.executable, "-c", DEEP_SCAN, str(target)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    status = {check: st for check, st, _msg in out["findings"]}
    assert status["image.layers.unsafe_entries"] == "FAIL"
    unsafe = next(m for c, _s, m in out["findings"] if c == "image.layers.unsafe_entries")
    assert "longer than 4096 bytes" in unsafe
    # The entry was not kept: the view has a gap, so nothing that reads it can PASS.
    for check in ("image.os.end_of_life", "image.files.secrets", "image.files.setuid_binaries"):
        assert status[check] == "ERROR", check
    assert status["image.layers.integrity"] == "PASS"  # the layer itself is intact
    (cov,) = out["coverage"]
    assert not cov["complete"]
    assert [s["item"] for s in cov["skipped"]] == ["layer 1 entry"]
    assert out["peak_bytes"] < 20 * 1024**2  # Python allocations during the scan


def test_depth_and_length_caps() -> None:
    limits = Limits(max_path_depth=5, max_path_bytes=20)
    assert path_over_caps("a/b/c/d/e", limits) is None
    assert path_over_caps("a/b/c/d/e/f", limits) == "deeper than 5 directories"
    assert path_over_caps("x" * 21, limits) == "longer than 20 bytes"
    assert path_over_caps("é" * 11, limits) == "longer than 20 bytes"  # bytes, not characters


def test_paths_deeper_than_the_cap_are_unsafe_and_a_gap(tmp_path: Path, now: datetime) -> None:
    deep = FileSpec("/".join(["d"] * 40) + "/id_rsa", FAKE_PRIVATE_KEY.encode())
    spec = clean_alpine_spec()
    spec.layers.append(Layer.from_files([deep]))
    target = write_docker_archive(spec, tmp_path / "x.tar", tags=["x:1"])
    findings = scan([str(target)], now, Limits(max_path_depth=32))
    unsafe = by_check(findings, "image.layers.unsafe_entries")[0]
    assert str(unsafe.status) == "FAIL"
    assert unsafe.evidence["entries"] == [f"layer 2: path deeper than 32 directories: {deep.path}"]
    # The private key below the cap was never read: the secret-file check cannot PASS.
    assert [str(f.status) for f in by_check(findings, "image.files.secrets")] == ["ERROR"]


def test_symlink_target_longer_than_path_max_is_not_kept(tmp_path: Path, now: datetime) -> None:
    spec = clean_alpine_spec()
    spec.layers.append(Layer.from_files([FileSpec("etc/long-link", kind="symlink", link="x/" * 2100)]))
    source = open_image(str(write_docker_archive(spec, tmp_path / "x.tar", tags=["x:1"])))
    try:
        scanned = read_image(source)
    finally:
        source.close()
    assert "etc/long-link" not in scanned.view.entries
    assert scanned.dropped_entries == ["layer 2: link target longer than 4096 bytes: etc/long-link"]
    assert not scanned.complete


def test_the_entry_cap_stops_a_layer_as_it_is_read(tmp_path: Path, now: datetime) -> None:
    layer = Layer.from_files([FileSpec(f"many/f{i}", b"") for i in range(1000)])
    spec = ImageSpec(layers=[layer], user="1000", healthcheck=["CMD", "true"])
    source = open_image(str(write_docker_archive(spec, tmp_path / "x.tar")))
    try:
        scanned = read_image(source, Limits(max_entries=100))
    finally:
        source.close()
    assert scanned.problems == [f"layer 1 ({layer.digest[:19]}): more than 100 files in the image: refused"]
    # Before: all 1000 members were held in memory and the cap checked after the layer.
    assert scanned.layers[0].entries <= 101
    assert scanned.layers[0].state == "unreadable"


def test_the_path_text_cap_stops_a_layer(tmp_path: Path) -> None:
    layer = Layer.from_files([FileSpec(f"dir-{i:04d}/" + "n" * 200, b"") for i in range(100)])
    spec = ImageSpec(layers=[layer, Layer.from_files([FileSpec("later", b"")])], user="1000")
    source = open_image(str(write_docker_archive(spec, tmp_path / "x.tar")))
    try:
        scanned = read_image(source, Limits(max_view_path_bytes=5000))
    finally:
        source.close()
    assert "bytes of path names in the image: refused" in scanned.problems[0]
    assert scanned.problems[1].endswith(
        f"not read: an earlier layer reached an image-wide limit ({scanned.layers[0].error})"
    )
    assert [r.state for r in scanned.layers] == ["unreadable", "not read"]


def test_dir_index_and_prefix_set() -> None:
    dirs = DirIndex()
    dirs.add_parents("a/b/c/file")
    dirs.add_parents("a/x/file")
    assert {p for p in ("a", "a/b", "a/b/c", "a/x", "a/b/c/file", "b", "a/c", "") if p in dirs} == {
        "a",
        "a/b",
        "a/b/c",
        "a/x",
    }
    assert len(dirs) == 4 and dirs.name_bytes == 4
    hidden = PrefixSet({"etc/ssh", "opt"})
    assert hidden.covers("etc/ssh", include_self=True)
    assert not hidden.covers("etc/ssh", include_self=False)
    assert hidden.covers("etc/ssh/key", include_self=False)
    assert not hidden.covers("etc/sshd", include_self=True)
    assert not hidden.covers("etc", include_self=True)
    assert PrefixSet({""}).covers("anything/below", include_self=False)


def test_resolve_is_bounded_for_long_symlink_chains() -> None:
    view = FileSystemView()
    from auditor.providers.image.filesystem import SYMLINK, Entry

    # 39 links, each pointing at the next through 100 `x/..` pairs: within the hop limit,
    # but over the walking budget.
    for i in range(39):
        view.entries[f"l{i}"] = Entry(SYMLINK, 0o777, 0, 0, 0, "x/.." * 100 + f"/l{i + 1}", 0)
    assert view.resolve("l0") is None


# 4. Only regular files are read ----------------------------------------------------------


@pytest.fixture
def special_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "image.fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "image.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    link = tmp_path / "link-to-fifo.tar"
    link.symlink_to(fifo)
    return {"/dev/zero": Path("/dev/zero"), "fifo": fifo, "socket": sock_path, "symlink to a fifo": link}


@pytest.mark.parametrize(
    "kind, said",
    [
        ("/dev/zero", "is a device, not a regular file"),
        ("fifo", "is a FIFO (named pipe), not a regular file"),
        ("socket", "is a socket, not a regular file"),
        ("symlink to a fifo", "is a FIFO (named pipe), not a regular file"),
    ],
)
def test_non_regular_image_input_exits_2_without_hanging(
    special_files: dict[str, Path], tmp_path: Path, kind: str, said: str
) -> None:
    path = special_files[kind]
    for command in (["scan", "--image", str(path), "--db", str(tmp_path / "a.db")], ["sbom", str(path)]):
        proc = subprocess.run([AUDITOR, *command], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "a.db").exists()


def test_oci_layout_with_a_fifo_index_is_refused(tmp_path: Path) -> None:
    oci = write_oci_layout(clean_alpine_spec(), tmp_path / "oci")
    (oci / "index.json").unlink()
    os.mkfifo(oci / "index.json")
    with pytest.raises(InputError, match=r"index\.json is a FIFO \(named pipe\), not a regular file"):
        open_image(str(oci))


def test_oci_layout_with_a_fifo_layer_blob_is_a_layer_error(tmp_path: Path, now: datetime) -> None:
    spec = clean_alpine_spec()
    oci = write_oci_layout(spec, tmp_path / "oci")
    blob = oci / "blobs" / "sha256" / spec.layers[0].digest.split(":")[1]
    blob.unlink()
    os.mkfifo(blob)
    integrity = by_check(scan([str(oci)], now), "image.layers.integrity")[0]
    assert str(integrity.status) == "ERROR" and "not a regular file" in integrity.message


def test_an_archive_over_the_image_size_cap_is_refused(tmp_path: Path) -> None:
    target = write_docker_archive(clean_alpine_spec(), tmp_path / "x.tar")
    with pytest.raises(InputError, match=r"the image archive is \d+ bytes; the limit is 1000"):
        open_image(str(target), Limits(max_image_bytes=1000))


# Targets and coverage ------------------------------------------------------------------


def test_every_image_is_one_target_with_one_coverage(tmp_path: Path, now: datetime) -> None:
    clean = write_docker_archive(clean_alpine_spec(), tmp_path / "clean.tar", tags=["shop/api:2.0.1"])
    tampered = tampered_layout(tmp_path, [])
    refs = (str(clean), str(tampered))
    ctx = ScanContext(config=AuditConfig(targets=targets(image=refs)), now=now)
    provider = ImageProvider()
    provider.prepare(ctx)
    findings = list(provider.run(ctx))
    assert {f.target for f in findings} == {f"image:{clean}", f"image:{tampered}"}
    assert provider.targets(ctx.config) == [f"image:{clean}", f"image:{tampered}"]
    cov = {c.target: c for c in ctx.coverage}
    assert set(cov) == {f"image:{clean}", f"image:{tampered}"}
    good, bad = cov[f"image:{clean}"], cov[f"image:{tampered}"]
    assert (good.complete, good.skipped) == (True, ())
    assert good.examined == {
        "layers": 1,
        "layers_read": 1,
        "layers_verified": 1,
        "files": 7,
        "packages_deb": 0,
        "packages_apk": 3,
        "packages_rpm": 0,
        "packages_pypi": 2,
        "packages_npm": 0,
        "packages_gem": 0,
        "packages_maven": 0,
        "packages_golang": 0,
        "packages_cargo": 0,
    }
    assert good.details["os"] == "Alpine Linux v3.22"
    assert not bad.complete
    assert bad.examined["layers_read"] == 1 and bad.examined["layers_verified"] == 0
    assert [s.item for s in bad.skipped] == [f"layer 1 ({clean_alpine_spec().layers[0].digest[:19]})"]
    assert bad.skipped[0].reason.startswith("mismatch: content digest sha256:")


def test_image_target_redacts_credential_formats() -> None:
    token = "ghp_" + "a" * 36
    target = image_target(f" /images/{token}.tar ")
    assert target.startswith("image:/images/[REDACTED") and target.endswith(".tar")
    assert token not in target


def test_run_scan_records_the_image_coverage_and_its_errors(tmp_path: Path, now: datetime) -> None:
    tampered = tampered_layout(tmp_path, [])
    store = Store.open(tmp_path / "s.db", create=True)
    try:
        result = run_scan(
            AuditConfig(targets=targets(image=(str(tampered),))), store, providers=[ImageProvider()], now=now
        )
    finally:
        store.close()
    (cov,) = result.run.coverage
    assert cov.target == f"image:{tampered}" and not cov.complete
    assert set(cov.errored_checks) == {c for c, s, _ in VIEW_CHECKS_ERROR if s == "ERROR"}
    controls = {c.ref: c.status for c in result.controls}
    assert any(str(s) == "ERROR" for s in controls.values())
    assert all(f.status is not Status.PASS for f in result.findings if f.check_id == "image.os.end_of_life")
