"""Fixture images for the image provider tests: built in pure Python from the data below."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.config import AuditConfig
from auditor.models import Finding
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.image import ImageProvider
from auditor.providers.image.build import FileSpec, ImageSpec, Layer
from auditor.providers.image.layers import Limits
from auditor.providers.image.sample import sample_osv_records

ALPINE_OS_RELEASE = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.22.1\nPRETTY_NAME="Alpine Linux v3.22"\n'
APK_INSTALLED = b"""C:Q1abc=
P:musl
V:1.2.5-r10
A:x86_64
L:MIT
o:musl

C:Q1def=
P:libcrypto3
V:3.5.1-r0
A:x86_64
L:Apache-2.0
o:openssl

P:busybox
V:1.37.0-r18
A:x86_64
o:busybox
"""
DISTROLESS_STATUS_D = b"""Package: libc6
Version: 2.36-9+deb12u10
Architecture: amd64
Source: glibc
"""


def clean_alpine_spec() -> ImageSpec:
    """An image that passes every check at NOW (2026-11-28)."""
    files = [
        FileSpec("etc/os-release", ALPINE_OS_RELEASE),
        FileSpec("etc/passwd", b"root:x:0:0:root:/root:/bin/ash\napp:x:1000:1000::/home/app:/bin/sh\n"),
        FileSpec("lib/apk/db/installed", APK_INSTALLED),
        FileSpec("bin/bbsuid", b"\x7fELF", mode=0o4755),
        FileSpec("app/.env.example", b"DB_PASSWORD=\nAPI_TOKEN=${API_TOKEN}\n"),
        FileSpec(
            "usr/lib/python3.12/site-packages/flask-3.1.1.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: Flask\nVersion: 3.1.1\n\nbody\n",
        ),
        FileSpec(
            "usr/lib/python3.12/site-packages/six-1.16.0.egg-info",
            b"Metadata-Version: 1.0\nName: six\nVersion: 1.16.0\n",
        ),
    ]
    return ImageSpec(
        layers=[Layer.from_files(files, compress=True)],
        user="app",
        env=[
            "PATH=/usr/bin:/bin",
            "DB_PASSWORD_FILE=/run/secrets/db",
            "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        ],
        labels={"org.opencontainers.image.version": "2.0.1"},
        healthcheck=["CMD", "wget", "-q", "http://localhost/health"],
        created="2026-11-01T00:00:00Z",
        history=["/bin/sh -c #(nop) ADD file:alpine in /", "/bin/sh -c apk add --no-cache python3"],
    )


def alpine_osv_records() -> list[dict[str, Any]]:
    """Advisories for Alpine 3.22: one for a version below the installed one (must not match)."""
    return [
        {
            "id": "ALPINE-CVE-2025-0001",
            "modified": "2025-06-01T00:00:00Z",
            "summary": "openssl: fixed before the installed 3.5.1-r0",
            "affected": [
                {
                    "package": {"ecosystem": "Alpine:v3.22", "name": "openssl"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.5.1_rc1-r0"}]}],
                }
            ],
        },
        {
            "id": "GHSA-flask-old",
            "modified": "2025-06-01T00:00:00Z",
            "summary": "Flask: fixed in 2.3.2",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "flask"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.3.2"}]}],
                }
            ],
        },
    ]


def write_osv_db(tmp: Path, records: list[dict[str, Any]], now: datetime) -> Path:
    """An offline vulnerability database with these OSV records (through auditor.vulndb's importer)."""
    from auditor.providers.image.versions import register_image_schemes
    from auditor.vulndb import VulnDB, import_path

    register_image_schemes()
    src = tmp / "osv"
    src.mkdir(parents=True, exist_ok=True)
    for rec in records:
        (src / f"{rec['id']}.json").write_text(json.dumps(rec), encoding="utf-8")
    path = tmp / "vulndb.sqlite"
    with VulnDB.open(path, create=True) as db:
        import_path(db, src, now)
    return path


def all_osv_records() -> list[dict[str, Any]]:
    return sample_osv_records() + alpine_osv_records()


def scan(refs: list[str], now: datetime, limits: Limits | None = None) -> list[Finding]:
    config = AuditConfig(targets=targets(image=tuple(refs)))
    ctx = ScanContext(config=config, now=now)
    provider = ImageProvider(limits) if limits else ImageProvider()
    provider.prepare(ctx)
    return list(provider.run(ctx))


def outcome(findings: list[Finding]) -> set[tuple[str, str, str]]:
    """(check id, status, discriminator) of every finding: the exact set tests compare."""
    return {(f.check_id, str(f.status), f.discriminator) for f in findings}


def by_check(findings: list[Finding], check_id: str) -> list[Finding]:
    return [f for f in findings if f.check_id == check_id]
