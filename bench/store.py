"""Benchmark the SQLite store.

Prints:
- ingest: findings written per second for one run of 100,000 synthetic findings
  (the engine's save path: details serialised and hashed, lifecycle upsert,
  observation intervals carrying their details, in one transaction), plus the control
  roll-up time;
- growth: database size after 1 and after 30 identical runs of 5,000 findings;
- trend: time of the trend query (and of the CLI's per-control aggregation) over those 30 runs.

Targets (issues 2 and 14): >= 50,000 findings/s fresh, >= 100,000/s for a re-scan where nothing
changed; 30 identical runs < +25 % over one; trend < 200 ms. Each save also prints its CPU time:
on a shared machine the wall clock mostly measures the neighbours.

    .venv/bin/python bench/store.py [--ingest N] [--runs R] [--per-run M]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditor.catalog import ControlMapper, roll_up
from auditor.frameworks import load_catalog
from auditor.models import Finding, Resource, Run, RunStatus, Severity, Status
from auditor.store import Store

CHECKS = [
    ("secrets.inventory.rotation_age", "secret"),
    ("secrets.certificate.expiry", "certificate"),
]
START = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_findings(n: int, seed: int = 7) -> list[Finding]:
    rnd = random.Random(seed)
    mapper = ControlMapper(load_catalog().values())
    out = []
    for i in range(n):
        check, rtype = CHECKS[i % len(CHECKS)]
        status = Status.FAIL if rnd.random() < 0.3 else Status.PASS
        out.append(
            Finding(
                check_id=check,
                status=status,
                severity=Severity.HIGH if status is Status.FAIL else Severity.MEDIUM,
                resource=Resource(
                    id=f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-{i}",
                    type=rtype,
                    account="123456789012",
                    region="eu-west-1",
                ),
                message=f"secret s-{i} was last rotated {100 + i % 300} days ago",
                title="Secrets are rotated within their maximum age",
                provider="secrets",
                remediation="Rotate the secret and record the new date.",
                evidence={"name": f"s-{i}", "age_days": 100 + i % 300, "max_age_days": 90, "owner": "team"},
                controls=mapper(check),
            )
        )
    return out


def save_run(store: Store, findings: list[Finding], when: datetime) -> tuple[float, float, float]:
    run = Run(
        id=f"bench-{when:%Y%m%d%H%M%S}-{os.urandom(3).hex()}",
        started_at=when,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version="bench",
        targets=("bench",),
    )
    store.begin_run(run, ["secrets"])
    t0 = time.perf_counter()
    controls = [r for fw in load_catalog().values() for r in roll_up(fw, findings)]
    t1 = time.perf_counter()
    c1 = time.process_time()
    store.save_run(run.id, findings, controls, RunStatus.COMPLETE, when, {"total": len(findings)})
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, time.process_time() - c1


def db_size(path: Path) -> int:
    store = Store.open(path)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingest", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--per-run", type=int, default=5_000)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ingest.db"
        findings = synthetic_findings(args.ingest)
        store = Store.open(path)
        rollup_s, save_s, save_cpu = save_run(store, findings, START)
        _, again_s, again_cpu = save_run(store, findings, START + timedelta(days=1))
        store.close()
        rate = args.ingest / save_s
        # CPU time too: on a shared machine the wall clock mostly measures the neighbours.
        print(
            f"ingest: {args.ingest:,} findings in {save_s:.2f} s = {rate:,.0f} findings/s (target >= 50,000); "
            f"CPU {save_cpu:.2f} s = {args.ingest / save_cpu:,.0f}/s"
        )
        print(
            f"        the same estate again (a daily scan, nothing changed): {again_s:.2f} s = "
            f"{args.ingest / again_s:,.0f} findings/s (target >= 100,000); "
            f"CPU {again_cpu:.2f} s = {args.ingest / again_cpu:,.0f}/s"
        )
        print(f"        control roll-up over the catalog: {rollup_s * 1000:.0f} ms")

        path = Path(tmp) / "growth.db"
        batch = synthetic_findings(args.per_run)
        store = Store.open(path)
        save_run(store, batch, START)
        store.close()
        one = db_size(path)
        store = Store.open(path)
        for day in range(1, args.runs):
            save_run(store, batch, START + timedelta(days=day))
        store.close()
        many = db_size(path)
        growth = 100 * (many - one) / one
        print(
            f"growth: 1 run of {args.per_run:,} findings = {one / 1e6:.2f} MB; {args.runs} identical runs = "
            f"{many / 1e6:.2f} MB (+{growth:.1f} %, target < 25 %)"
        )

        store = Store.open(path)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            rows = store.trend("soc2")
            times.append(time.perf_counter() - t0)
        store.close()
        print(
            f"trend:  query over {args.runs} runs ({len(rows):,} rows) best {min(times) * 1000:.1f} ms, "
            f"worst {max(times) * 1000:.1f} ms (target < 200 ms)"
        )


if __name__ == "__main__":
    main()
