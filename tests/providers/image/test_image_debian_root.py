"""A real Debian root made by mmdebstrap, read as an image layer: the scanner's package list
equals `dpkg-query --admindir` on the same root, exactly.

mmdebstrap (installed by `scripts/setup --dev`) downloads the essential packages of Debian 12
from the machine's configured mirror (about 12 s); the root tarball, device nodes and all, is
the image's single layer, scanned as streamed like any other.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from auditor.providers.image.build import OCI_LAYER, ImageSpec, Layer, write_docker_archive
from auditor.providers.image.inventory import build_inventory
from auditor.providers.image.scan import open_image, read_image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("mmdebstrap") and shutil.which("dpkg-query")), reason="needs mmdebstrap (scripts/setup --dev)"
    ),
]


@pytest.fixture(scope="module")
def debian_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mmdebstrap") / "root.tar"
    subprocess.run(
        ["mmdebstrap", "--quiet", "--variant=essential", "--mode=auto", "bookworm", str(out)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return out


def test_a_debootstrapped_root_lists_exactly_what_dpkg_query_lists(debian_root: Path, tmp_path: Path) -> None:
    admin = tmp_path / "dpkg"
    (admin / "updates").mkdir(parents=True)
    with tarfile.open(debian_root) as tf:
        member = tf.extractfile("./var/lib/dpkg/status")
        assert member is not None
        (admin / "status").write_bytes(member.read())
    out = subprocess.run(
        ["dpkg-query", "--admindir", str(admin), "-W", "-f", "${db:Status-Status}|${Package}|${Version}\n"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    expected = {tuple(line.split("|")[1:]) for line in out.splitlines() if line.startswith("installed|")}
    assert len(expected) > 40

    blob = debian_root.read_bytes()
    layer = Layer(blob, "sha256:" + hashlib.sha256(blob).hexdigest(), OCI_LAYER)
    image = write_docker_archive(ImageSpec(layers=[layer]), tmp_path / "bookworm.tar")
    source = open_image(str(image))
    try:
        inv = build_inventory(read_image(source).view)
    finally:
        source.close()
    assert {(p.name, p.version) for p in inv.packages if p.type == "deb"} == expected
    assert inv.os is not None and (inv.os.id, inv.os.version_id) == ("debian", "12")
