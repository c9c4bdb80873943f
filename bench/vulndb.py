"""OSV matching throughput: 50,000 synthetic advisories, 20,000 package look-ups.

    .venv/bin/python bench/vulndb.py [--advisories 50000] [--packages 20000]

Builds a zip export of synthetic PyPI advisories (10 per package name, ranges with
introduced/fixed/last_affected events, some explicit versions lists, CVSS vectors),
imports it with `auditor vulndb`'s importer, then matches packages with random
versions through `VulnDB.match` on a fresh connection (cold: SQL look-up and range
compilation included) and again (warm: compiled ranges cached). Target: >= 10,000
packages/s cold.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from auditor.vulndb import VulnDB, import_path

VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
]
PER_PACKAGE = 10


def synthetic_advisory(i: int, rng: random.Random) -> dict[str, object]:
    name = f"pkg-{i // PER_PACKAGE:05d}"
    major = rng.randint(0, 5)
    intro = f"{major}.{rng.randint(0, 9)}.0"
    fixed = f"{major}.{rng.randint(10, 20)}.{rng.randint(0, 5)}"
    events: list[dict[str, str]] = [{"introduced": intro}]
    events.append({"last_affected": fixed} if i % 7 == 0 else {"fixed": fixed})
    affected: dict[str, object] = {
        "package": {"ecosystem": "PyPI", "name": name.upper() if i % 3 == 0 else name},
        "ranges": [{"type": "ECOSYSTEM", "events": events}],
    }
    if i % 5 == 0:
        affected["versions"] = [f"{major}.{m}.0" for m in range(3)]
    record: dict[str, object] = {
        "schema_version": "1.6.0",
        "id": f"GHSA-bench-{i:06d}",
        "modified": "2024-01-01T00:00:00Z",
        "aliases": [f"CVE-2024-{i:06d}"],
        "summary": f"synthetic advisory {i}",
        "affected": [affected],
    }
    if i % 2 == 0:
        record["severity"] = [{"type": "CVSS_V3", "score": VECTORS[i % len(VECTORS)]}]
    else:
        record["database_specific"] = {"severity": "MODERATE"}
    return record


def random_version(rng: random.Random) -> str:
    return f"{rng.randint(0, 5)}.{rng.randint(0, 25)}.{rng.randint(0, 5)}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--advisories", type=int, default=50_000)
    ap.add_argument("--packages", type=int, default=20_000)
    args = ap.parse_args(argv)
    rng = random.Random(42)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="auditor-bench-vulndb-") as tmp:
        export = Path(tmp) / "all.zip"
        t0 = time.perf_counter()
        with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as zf:
            for i in range(args.advisories):
                zf.writestr(f"GHSA-bench-{i:06d}.json", json.dumps(synthetic_advisory(i, rng)))
        t_gen = time.perf_counter() - t0

        db_path = Path(tmp) / "vulndb.sqlite"
        t0 = time.perf_counter()
        with VulnDB.open(db_path, create=True) as db:
            stats = import_path(db, export, now)
        t_import = time.perf_counter() - t0

        names = args.advisories // PER_PACKAGE
        queries = [(f"Pkg_{rng.randrange(int(names * 1.2)):05d}", random_version(rng)) for _ in range(args.packages)]
        with VulnDB.open(db_path) as db:
            t0, c0 = time.perf_counter(), time.process_time()
            db.prefetch("PyPI", (n for n, _ in queries))  # what the deps provider does: one batched load
            cold_hits = sum(len(db.match("PyPI", n, v)) for n, v in queries)
            t_cold, c_cold = time.perf_counter() - t0, time.process_time() - c0
            t0, c0 = time.perf_counter(), time.process_time()
            warm_hits = sum(len(db.match("PyPI", n, v)) for n, v in queries)
            t_warm, c_warm = time.perf_counter() - t0, time.process_time() - c0
        assert cold_hits == warm_hits
        size_mb = db_path.stat().st_size / 1e6

    cold_rate = args.packages / t_cold
    print(f"generated {args.advisories} synthetic OSV advisories into a zip export in {t_gen:.1f} s")
    print(f"import:   {stats.advisories} advisories in {t_import:.1f} s "
          f"({stats.advisories / t_import:,.0f} advisories/s), database {size_mb:.1f} MB")
    print(f"matching: {args.packages} packages against {stats.advisories} advisories, {cold_hits} advisories matched")
    print(f"  cold (prefetch + match):         {t_cold:.2f} s wall = {cold_rate:,.0f} packages/s "
          f"(CPU {c_cold:.2f} s = {args.packages / c_cold:,.0f} packages/s)")
    print(f"  warm (match, ranges cached):     {t_warm:.2f} s wall = {args.packages / t_warm:,.0f} packages/s "
          f"(CPU {c_warm:.2f} s = {args.packages / c_warm:,.0f} packages/s)")
    target = 10_000
    print(f"target >= {target:,} packages/s (cold): {'met' if cold_rate >= target else 'NOT met'}")
    return 0 if cold_rate >= target else 1


if __name__ == "__main__":
    sys.exit(main())
