"""OSV matching throughput: 50,000 synthetic advisories, 20,000 package look-ups, across ecosystems.

    .venv/bin/python bench/vulndb.py [--advisories 50000] [--packages 20000] [--ecosystems PyPI,npm,...]

Builds a zip export of synthetic advisories spread evenly over the ecosystems (default:
PyPI, npm, Go, Maven, crates.io, RubyGems, Packagist, Red Hat; 10 advisories per package
name, ranges with introduced/fixed/last_affected events in each ecosystem's own version
syntax (pre-releases, Maven qualifiers, Go `v` prefixes, RPM epochs and releases), some
explicit versions lists, CVSS vectors), imports it with `auditor vulndb`'s importer,
then matches packages with random versions through `VulnDB.match` on a fresh connection
(cold: SQL look-up, version parsing and range compilation included) and again (warm:
compiled ranges cached). Target: >= 10,000 packages/s cold, across all ecosystems.
`--ecosystems PyPI` is the PyPI-only bench of before issue 16.
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
ECOSYSTEMS = ("PyPI", "npm", "Go", "Maven", "crates.io", "RubyGems", "Packagist", "Red Hat")
# A pre-release/qualifier and the release spelling, per ecosystem (None: plain M.m.p).
_PRE = {"PyPI": "rc1", "npm": "-beta.1", "Go": "-rc.1", "Maven": "-RC1", "crates.io": "-alpha.2",
        "RubyGems": ".rc1", "Packagist": "-RC1", "Red Hat": None}


def package_name(ecosystem: str, n: int) -> str:
    return {
        "Go": f"example.com/mod{n:05d}",
        "Maven": f"org.example:artifact-{n:05d}",
        "Packagist": f"vendor/pkg-{n:05d}",
    }.get(ecosystem, f"pkg-{n:05d}")


def spell(ecosystem: str, major: int, minor: int, patch: int, rng: random.Random, query: bool = False) -> str:
    """A version as the ecosystem writes it (queries: as lock files and package databases do)."""
    if ecosystem == "Red Hat":
        epoch = "1:" if major == 5 else ""
        return f"{epoch}{major}.{minor}.{patch}-{rng.randint(1, 3)}.el9"
    base = f"{major}.{minor}.{patch}"
    if ecosystem == "Go" and query:
        base = "v" + base
    pre = _PRE[ecosystem]
    if pre and rng.random() < 0.15:
        base += pre
    return base


def synthetic_advisory(i: int, rng: random.Random, ecosystems: tuple[str, ...] = ("PyPI",)) -> dict[str, object]:
    n = i // PER_PACKAGE
    ecosystem = ecosystems[n % len(ecosystems)]
    name = package_name(ecosystem, n)
    major = rng.randint(0, 5)
    intro = spell(ecosystem, major, rng.randint(0, 9), 0, rng)
    fixed = spell(ecosystem, major, rng.randint(10, 20), rng.randint(0, 5), rng)
    events: list[dict[str, str]] = [{"introduced": intro}]
    events.append({"last_affected": fixed} if i % 7 == 0 else {"fixed": fixed})
    affected: dict[str, object] = {
        "package": {"ecosystem": ecosystem, "name": name.upper() if i % 3 == 0 and ecosystem == "PyPI" else name},
        "ranges": [{"type": "SEMVER" if ecosystem in ("npm", "Go", "crates.io") else "ECOSYSTEM", "events": events}],
    }
    if i % 5 == 0:
        affected["versions"] = [spell(ecosystem, major, m, 0, rng) for m in range(3)]
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


def random_version(rng: random.Random, ecosystem: str = "PyPI") -> str:
    return spell(ecosystem, rng.randint(0, 5), rng.randint(0, 25), rng.randint(0, 5), rng, query=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--advisories", type=int, default=50_000)
    ap.add_argument("--packages", type=int, default=20_000)
    ap.add_argument("--ecosystems", default=",".join(ECOSYSTEMS), help="comma-separated OSV ecosystems")
    args = ap.parse_args(argv)
    ecosystems = tuple(e.strip() for e in args.ecosystems.split(",") if e.strip())
    rng = random.Random(42)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="auditor-bench-vulndb-") as tmp:
        export = Path(tmp) / "all.zip"
        t0 = time.perf_counter()
        with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as zf:
            for i in range(args.advisories):
                zf.writestr(f"GHSA-bench-{i:06d}.json", json.dumps(synthetic_advisory(i, rng, ecosystems)))
        t_gen = time.perf_counter() - t0

        db_path = Path(tmp) / "vulndb.sqlite"
        t0 = time.perf_counter()
        with VulnDB.open(db_path, create=True) as db:
            stats = import_path(db, export, now)
        t_import = time.perf_counter() - t0

        names = args.advisories // PER_PACKAGE
        by_eco: dict[str, list[tuple[str, str]]] = {e: [] for e in ecosystems}
        for _ in range(args.packages):
            n = rng.randrange(int(names * 1.2))
            eco = ecosystems[n % len(ecosystems)]
            name = f"Pkg_{n:05d}" if eco == "PyPI" else package_name(eco, n)
            by_eco[eco].append((name, random_version(rng, eco)))
        cold: dict[str, tuple[float, float, int]] = {}
        warm: dict[str, tuple[float, float, int]] = {}
        with VulnDB.open(db_path) as db:
            for eco, queries in by_eco.items():
                t0, c0 = time.perf_counter(), time.process_time()
                db.prefetch(eco, (n for n, _ in queries))  # what the deps provider does: one batched load
                hits = sum(len(db.match(eco, n, v)) for n, v in queries)
                cold[eco] = (time.perf_counter() - t0, time.process_time() - c0, hits)
            for eco, queries in by_eco.items():
                t0, c0 = time.perf_counter(), time.process_time()
                hits = sum(len(db.match(eco, n, v)) for n, v in queries)
                warm[eco] = (time.perf_counter() - t0, time.process_time() - c0, hits)
        assert all(cold[e][2] == warm[e][2] for e in ecosystems)
        size_mb = db_path.stat().st_size / 1e6

    t_cold, c_cold = sum(c[0] for c in cold.values()), sum(c[1] for c in cold.values())
    t_warm, c_warm = sum(w[0] for w in warm.values()), sum(w[1] for w in warm.values())
    cold_hits = sum(c[2] for c in cold.values())
    print(f"generated {args.advisories} synthetic OSV advisories ({', '.join(ecosystems)}) into a zip export "
          f"in {t_gen:.1f} s")
    print(f"import:   {stats.advisories} advisories in {t_import:.1f} s "
          f"({stats.advisories / t_import:,.0f} advisories/s), database {size_mb:.1f} MB")
    print(f"matching: {args.packages} packages against {stats.advisories} advisories, {cold_hits} advisories matched")
    for eco in ecosystems:
        count = len(by_eco[eco])
        t, c, hits = cold[eco]
        print(f"  {eco:<10} {count:>6} packages, {hits:>6} matched: cold {count / t:>9,.0f} packages/s wall, "
              f"{count / max(c, 1e-9):>9,.0f} packages/s CPU")
    cold_rate, cold_cpu_rate = args.packages / t_cold, args.packages / max(c_cold, 1e-9)
    print(f"  cold (prefetch + match):         {t_cold:.2f} s wall = {cold_rate:,.0f} packages/s "
          f"(CPU {c_cold:.2f} s = {cold_cpu_rate:,.0f} packages/s)")
    print(f"  warm (match, ranges cached):     {t_warm:.2f} s wall = {args.packages / t_warm:,.0f} packages/s "
          f"(CPU {c_warm:.2f} s = {args.packages / max(c_warm, 1e-9):,.0f} packages/s)")
    target = 10_000
    # Judged on CPU time: on a shared machine, wall time measures the other processes too.
    print(f"target >= {target:,} packages/s (cold, CPU time): {'met' if cold_cpu_rate >= target else 'NOT met'}")
    return 0 if cold_cpu_rate >= target else 1


if __name__ == "__main__":
    sys.exit(main())
