"""Benchmark: scan a generated ~500 MB image (20,000 files, 10 layers) against the floor of reading it.

The floor is the least any scanner must do: stream every layer of the archive through
Python's tarfile (headers and data). The scan is the image provider's full run (read,
verify digests, whiteouts, inventory, every check). Both run in a fresh subprocess so
that peak memory (ru_maxrss) is theirs alone. Targets: scan <= 2x floor, peak < 300 MB.

`--kind` picks the image's content (built here from local fixtures, nothing downloaded):
- `generic`: Debian os-release + a 300-package dpkg status, random data files;
- `rpm`: Amazon Linux 2023 with a 600-package rpmdb.sqlite (synthetic RPM headers of
  ~16 KB each, like real ones with their file lists) and one file in ten an executable
  ELF under usr/bin (the Go/Rust analysers read those through);
- `node`: a 64 MB `node` ELF executable and a node_modules tree (one package.json per
  four files).

    .venv/bin/python bench/image.py [--files 20000] [--layers 10] [--mb 500] [--gzip] [--kind generic|rpm|node]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import sqlite3
import struct
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
packages = {k: v for k, v in ctx.coverage[0].examined.items() if k.startswith("packages_") and v}
print(len(findings), time.perf_counter() - t, packages)
"""
AL2023 = b'ID="amzn"\nVERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023"\n'
DEBIAN = b"ID=debian\nVERSION_ID=12\nPRETTY_NAME=Debian 12\n"


def rpm_header(tags: list[tuple[int, int, bytes]]) -> bytes:
    """An RPM header blob (as rpmdb stores it) from (tag, type, data) entries."""
    index, data = b"", b""
    for tag, typ, value in sorted(tags):
        if typ == 4:  # INT32: aligned
            data += b"\0" * (-len(data) % 4)
        index += struct.pack(">IIiI", tag, typ, len(data), 1)
        data += value
    return struct.pack(">II", len(tags), len(data)) + index + data


def rpmdb_sqlite(path: Path, packages: int) -> bytes:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    for k in range(packages):
        blob = rpm_header(
            [
                (1000, 6, f"pkg{k}\0".encode()),
                (1001, 6, f"1.{k}\0".encode()),
                (1002, 6, b"1.amzn2023.0.1\0"),
                (1003, 4, struct.pack(">I", k % 3)),
                (1014, 6, b"MIT\0"),
                (1022, 6, b"x86_64\0"),
                (1044, 6, f"src{k // 4}-1.{k}-1.amzn2023.0.1.src.rpm\0".encode()),
                (1117, 7, os.urandom(16 * 1024)),  # the file list's share of a real header
            ]
        )
        con.execute("INSERT INTO Packages (blob) VALUES (?)", (blob,))
    con.commit()
    con.close()
    data = path.read_bytes()
    path.unlink()
    return data



def first_layer(kind: str, work: Path) -> list[tuple[str, bytes, int]]:
    if kind == "rpm":
        rpmdb = rpmdb_sqlite(work / "r.db", 600)
        return [("etc/os-release", AL2023, 0o644), ("var/lib/rpm/rpmdb.sqlite", rpmdb, 0o644)]
    if kind == "node":
        node = b"\x7fELF\x02\x01\x01" + os.urandom(64 * 1024**2 - 7)
        return [("etc/os-release", DEBIAN, 0o644), ("usr/local/bin/node", node, 0o755)]
    status = b"".join(
        f"Package: pkg{k}\nStatus: install ok installed\nVersion: 1.{k}-1\n\n".encode() for k in range(300)
    )
    return [("etc/os-release", DEBIAN, 0o644), ("var/lib/dpkg/status", status, 0o644)]


def member(kind: str, i: int, j: int, size: int) -> tuple[str, bytes, int]:
    if kind == "rpm" and j % 10 == 0:
        return f"usr/bin/tool{i}_{j}", b"\x7fELF\x02\x01\x01" + os.urandom(size - 7), 0o755
    if kind == "node":
        pkg = f"app/node_modules/pkg{i}_{j - j % 4}"
        if j % 4 == 0:
            return f"{pkg}/package.json", json.dumps({"name": f"pkg{i}_{j}", "version": f"1.0.{j}"}).encode(), 0o644
        return f"{pkg}/lib/f{j}.js", os.urandom(size), 0o644
    return f"data/l{i}/d{j % 50}/f{j}.bin", os.urandom(size), 0o644


def generate(out: Path, files: int, layers: int, total_mb: int, gzip_layers: bool, kind: str = "generic") -> Path:
    per_layer = files // layers
    work = out.parent
    first = first_layer(kind, work)
    size = max(64, (total_mb * 1024 * 1024 - sum(len(d) for _, d, _ in first)) // files)
    layer_paths: list[tuple[Path, str]] = []
    for i in range(layers):
        path = work / f"layer{i}.tar"
        with tarfile.open(path, "w") as tf:
            for name, data, mode in first if i == 0 else []:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = mode
                tf.addfile(info, io.BytesIO(data))
            for j in range(per_layer):
                name, data, mode = member(kind, i, j, size)
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = mode
                tf.addfile(info, io.BytesIO(data))
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


def measure(code: str, archive: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MB, stdout) of `code` in a fresh interpreter.

    CPU time (user + system of the child) is reported beside wall time: on a shared machine
    it is far less noisy than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(archive)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the max over all waited children: run the lighter one first.
    return wall, cpu, max(after.ru_maxrss, before.ru_maxrss) / 1024, proc.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--gzip", action="store_true", help="gzip-compressed layers (level 1)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--kind", choices=("generic", "rpm", "node"), default="generic")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        archive = Path(tmp) / "image.tar"
        t = time.perf_counter()
        generate(archive, args.files, args.layers, args.mb, args.gzip, args.kind)
        print(
            f"generated {args.kind} {archive.stat().st_size / 1e6:.0f} MB archive, {args.files} files in {args.layers} "
            f"{'gzip ' if args.gzip else ''}layers in {time.perf_counter() - t:.1f} s"
        )
        floors, scans, floor_cpus, scan_cpus = [], [], [], []
        floor_peak = scan_peak = 0.0
        for _ in range(args.repeat):
            wall, cpu, floor_peak, out = measure(FLOOR, archive)
            floors.append(wall)
            floor_cpus.append(cpu)
        for _ in range(args.repeat):
            wall, cpu, scan_peak, out = measure(SCAN, archive)
            scans.append(wall)
            scan_cpus.append(cpu)
        floor, scan, floor_cpu, scan_cpu = min(floors), min(scans), min(floor_cpus), min(scan_cpus)
        print(f"floor (tarfile streaming): wall {floor:.2f} s, CPU {floor_cpu:.2f} s, peak RSS {floor_peak:.0f} MB")
        print(f"scan  (image provider):    wall {scan:.2f} s, CPU {scan_cpu:.2f} s, peak RSS {scan_peak:.0f} MB")
        print(f"  scan output: {out}")
        print(
            f"ratio scan/floor: wall {scan / floor:.2f}x, CPU {scan_cpu / floor_cpu:.2f}x (target <= 2x); "
            "peak memory target < 300 MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
