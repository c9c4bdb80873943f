"""A small sample image with known problems, built at demo time from the data below.

`build_sample_image(path)` writes a `docker save` archive (about 10 KB) of a Debian 11
image that runs as root, has no HEALTHCHECK, leaks a secret through ENV and through a
build argument in its history, ships a private key and a `.env` with a password, keeps
an AWS credentials file in a lower layer that a later layer deletes, has a setuid
binary outside the allow-list, and installs package versions with published advisories
(`sample_osv_records()` gives matching OSV records for an offline database).
All "secrets" are fake values shaped like real ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.providers.image.build import FileSpec, ImageSpec, Layer, write_docker_archive, write_oci_layout

# Fake credentials, shaped like real ones so that detectors fire (AWS's documented example key).
FAKE_AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
FAKE_PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)

OS_RELEASE_DEBIAN_11 = """PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
NAME="Debian GNU/Linux"
VERSION_ID="11"
VERSION="11 (bullseye)"
VERSION_CODENAME=bullseye
ID=debian
"""

DPKG_STATUS = """Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Version: 11.1+deb11u7
Description: Debian base system miscellaneous files

Package: libssl1.1
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 1.1.1n-0+deb11u3
Description: Secure Sockets Layer toolkit - shared libraries

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.31-13+deb11u5
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: removed, config files left

"""

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000::/home/app:/bin/sh
"""

REQUESTS_METADATA = """Metadata-Version: 2.1
Name: requests
Version: 2.25.1
Summary: Python HTTP for Humans.
License: Apache 2.0

Long description follows.
"""


def sample_layers() -> list[list[FileSpec]]:
    base = [
        FileSpec("etc", kind="dir"),
        FileSpec("etc/os-release", kind="symlink", link="../usr/lib/os-release"),
        FileSpec("usr/lib/os-release", OS_RELEASE_DEBIAN_11.encode()),
        FileSpec("etc/passwd", PASSWD.encode()),
        FileSpec("var/lib/dpkg/status", DPKG_STATUS.encode()),
        FileSpec("usr/bin/passwd", b"\x7fELF-passwd", mode=0o4755),
        FileSpec("usr/bin/ls", b"\x7fELF-ls", mode=0o755),
        FileSpec("tmp/cache", kind="dir"),
        FileSpec("tmp/cache/old.bin", b"stale"),
    ]
    app = [
        FileSpec(
            "usr/local/lib/python3.9/site-packages/requests-2.25.1.dist-info/METADATA", REQUESTS_METADATA.encode()
        ),
        FileSpec("root/.ssh/id_rsa", FAKE_PRIVATE_KEY.encode(), mode=0o600),
        FileSpec("app/.env", b"# settings\nDEBUG=1\nDB_PASSWORD=hunter2-sample\n"),
        FileSpec("app/.env.example", b"DB_PASSWORD=\n"),
        FileSpec(
            "home/app/.aws/credentials",
            f"[default]\naws_access_key_id = {FAKE_AWS_KEY_ID}\naws_secret_access_key = {FAKE_AWS_SECRET}\n".encode(),
        ),
        FileSpec("usr/local/bin/helper", b"\x7fELF-helper", mode=0o4755),
        FileSpec("app/server.py", b"print('hello')\n"),
    ]
    cleanup = [
        FileSpec("home/app/.aws/credentials", kind="whiteout"),
        FileSpec("tmp/cache", kind="opaque"),
        FileSpec("tmp/cache/new.bin", b"fresh"),
    ]
    return [base, app, cleanup]


def sample_spec(*, compress: bool = False) -> ImageSpec:
    return ImageSpec(
        layers=[Layer.from_files(files, compress=compress) for files in sample_layers()],
        user=None,
        env=["PATH=/usr/local/bin:/usr/bin:/bin", f"AWS_SECRET_ACCESS_KEY={FAKE_AWS_SECRET}", "APP_ENV=production"],
        labels={"org.opencontainers.image.source": "https://example.com/sample"},
        healthcheck=None,
        created="2025-01-15T10:00:00.123456789Z",
        history=[
            "/bin/sh -c #(nop) ADD file:base in /",
            "|1 API_TOKEN=tok-0123456789abcdef /bin/sh -c pip install requests==2.25.1",
            "/bin/sh -c #(nop) ENV AWS_SECRET_ACCESS_KEY=" + FAKE_AWS_SECRET,
        ],
    )


def build_sample_image(path: Path, *, fmt: str = "docker-archive") -> Path:
    """Write the sample image to `path` (a .tar for docker-archive / oci-tar, a directory for oci)."""
    spec = sample_spec(compress=fmt != "docker-archive")
    if fmt == "docker-archive":
        return write_docker_archive(spec, path, tags=["sample-app:latest"])
    if fmt == "oci-tar":
        return write_oci_layout(spec, path, as_tar=True, ref_name="latest")
    path.mkdir(parents=True, exist_ok=True)
    return write_oci_layout(spec, path, ref_name="latest")


def sample_osv_records() -> list[dict[str, Any]]:
    """OSV advisories that match the sample image's packages (for an offline demo database)."""

    def record(id_: str, eco: str, name: str, fixed: str, alias: str, summary: str, score: str) -> dict[str, Any]:
        return {
            "schema_version": "1.6.0",
            "id": id_,
            "modified": "2025-01-01T00:00:00Z",
            "published": "2024-01-01T00:00:00Z",
            "aliases": [alias],
            "summary": summary,
            "severity": [{"type": "CVSS_V3", "score": score}],
            "affected": [
                {
                    "package": {"ecosystem": eco, "name": name},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                }
            ],
        }

    return [
        record(
            "DSA-5417-1",
            "Debian:11",
            "openssl",
            "1.1.1n-0+deb11u5",
            "CVE-2023-0464",
            "openssl: excessive resource use verifying policy constraints",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        ),
        record(
            "DLA-3000-1",
            "Debian:11",
            "glibc",
            "2.31-13+deb11u3",
            "CVE-2021-0001",
            "glibc: already fixed in the installed version",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        record(
            "GHSA-j8r2-6x86-q33q",
            "PyPI",
            "requests",
            "2.31.0",
            "CVE-2023-32681",
            "Unintended leak of Proxy-Authorization header in requests",
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
        ),
    ]
