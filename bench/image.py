"""Benchmark: scan a generated ~500 MB image (20,000 files, 10 layers) against the floor of reading it.

The floor is the least any scanner must do: stream every layer of the archive through
Python's tarfile (headers and data). The scan is the image provider's full run (read,
verify digests, whiteouts, inventory, every check). Both run in a fresh subprocess so
that peak memory (ru_maxrss) is theirs alone. Targets: scan <= 2x floor, peak < 300 MB.

    .venv/bin/python bench/image.py [--files 20000] [--layers 10] [--mb 500] [--gzip]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

FLOOR = r"""
import sys, tarfile, time
t = time.perf_counter()
n = 0
with tarfile.open(sys.argv[1], "r:") as outer:
    for m in outer.getmembers():
        if not m.name.endswith("layer.tar") and not m.name.startswith("blobs/"):
            continue
        fh = outer.extractfile(m)
        with tarfile.open(fileobj=fh, mode="r|*") as inner:
            for member in inner:
                n += 1
print(n, time.perf_counter() - t)
"""

SCAN = r"""
import sys, time
from datetime import datetime, UTC
from auditor.config import AuditConfig
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.image import ImageProvider
t = time.perf_counter()
ctx = ScanContext(config=AuditConfig(targets=targets(image=sys.argv[1])), now=datetime.now(UTC))
p = ImageProvider()
p.prepare(ctx)
findings = list(p.run(ctx))
print(len(findings), time.perf_counter() - t)
"""


def generate(out: Path, files: int, layers: int, total_mb: int, gzip_layers: bool) -> Path:
    per_layer = files // layers
    size = total_mb * 1024 * 1024 // files
    work = out.parent
    layer_paths: list[tuple[Path, str]] = []
    for i in range(layers):
        path = work / f"layer{i}.tar"
        with tarfile.open(path, "w") as tf:
            if i == 0:
                for name, data in (
                    ("etc/os-release", b"ID=debian\nVERSION_ID=12\nPRETTY_NAME=Debian 12\n"),
                    (
                        "var/lib/dpkg/status",
                        b"".join(
                            f"Package: pkg{k}\nStatus: install ok installed\nVersion: 1.{k}-1\n\n".encode()
                            for k in range(300)
                        ),
                    ),
                ):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tf.addfile(info, io.BytesIO(data))
            for j in range(per_layer):
                info = tarfile.TarInfo(f"data/l{i}/d{j % 50}/f{j}.bin")
                info.size = size
                tf.addfile(info, io.BytesIO(os.urandom(size)))
        diff_id = "sha256:" + _sha256_file(path)
        if gzip_layers:
            import gzip

            gz = work / f"layer{i}.tar.gz"
            with path.open("rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            path.unlink()
            path = gz
        layer_paths.append((path, diff_id))
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": {"User": "1000"},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layer_paths]},
        "history": [],
    }
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    names = [f"blobs/sha256/{_sha256_file(p)}" for p, _ in layer_paths]
    manifest = [{"Config": config_name, "RepoTags": ["bench:1"], "Layers": names}]
    with tarfile.open(out, "w") as tf:
        for (path, _), name in zip(layer_paths, names, strict=True):
            tf.add(path, arcname=name)
            path.unlink()
        for name, data in ((config_name, config_bytes), ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def measure(code: str, archive: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of `code` in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(archive)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all waited children: run the lighter one first.
    return wall, max(peak, before) / 1024, proc.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--gzip", action="store_true", help="gzip-compressed layers (level 1)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        archive = Path(tmp) / "image.tar"
        t = time.perf_counter()
        generate(archive, args.files, args.layers, args.mb, args.gzip)
        print(
            f"generated {archive.stat().st_size / 1e6:.0f} MB archive, {args.files} files in {args.layers} "
            f"{'gzip ' if args.gzip else ''}layers in {time.perf_counter() - t:.1f} s"
        )
        floors, scans = [], []
        floor_peak = scan_peak = 0.0
        for _ in range(args.repeat):
            wall, floor_peak, out = measure(FLOOR, archive)
            floors.append(wall)
        for _ in range(args.repeat):
            wall, scan_peak, out = measure(SCAN, archive)
            scans.append(wall)
        floor, scan = min(floors), min(scans)
        print(f"floor (tarfile streaming, process wall): {floor:.2f} s, peak RSS {floor_peak:.0f} MB")
        print(f"scan  (image provider, process wall):    {scan:.2f} s, peak RSS {scan_peak:.0f} MB  [{out}]")
        print(f"ratio scan/floor: {scan / floor:.2f}x (target <= 2x); peak memory target < 300 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
