"""A real Debian package database: this machine's dpkg status, read from an image, equals dpkg-query.

The host's own dpkg database (Debian 12) is a real one of several hundred packages, and
`dpkg-query --admindir` on the same bytes is the reference; test_image_debian_root.py does
the same with a whole root made by mmdebstrap.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from auditor.providers.image.build import FileSpec, ImageSpec, Layer, write_docker_archive
from auditor.providers.image.inventory import build_inventory
from auditor.providers.image.scan import open_image, read_image

STATUS = Path("/var/lib/dpkg/status")

pytestmark = pytest.mark.skipif(
    not (shutil.which("dpkg-query") and STATUS.is_file()), reason="needs a Debian host (dpkg-query)"
)


def test_dpkg_status_equals_dpkg_query(tmp_path: Path) -> None:
    admin = tmp_path / "dpkg"
    (admin / "updates").mkdir(parents=True)
    data = STATUS.read_bytes()
    (admin / "status").write_bytes(data)
    out = subprocess.run(
        ["dpkg-query", "--admindir", str(admin), "-W", "-f", "${db:Status-Status}|${Package}|${Version}\n"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    expected = {tuple(line.split("|")[1:]) for line in out.splitlines() if line.startswith("installed|")}
    assert len(expected) > 50
    files = [
        FileSpec("etc/os-release", Path("/etc/os-release").read_bytes()),
        FileSpec("var/lib/dpkg/status", data),
    ]
    image = write_docker_archive(ImageSpec(layers=[Layer.from_files(files, compress=True)]), tmp_path / "deb.tar")
    source = open_image(str(image))
    try:
        inv = build_inventory(read_image(source).view)
    finally:
        source.close()
    assert {(p.name, p.version) for p in inv.packages if p.type == "deb"} == expected
    assert inv.os is not None and inv.os.id == "debian"
