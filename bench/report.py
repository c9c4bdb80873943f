"""Report benchmark: PDF and evidence-pack time and peak memory for 1k / 10k / 50k findings.

Each size runs in a fresh subprocess (peak RSS via resource.getrusage). The run is
written straight to a temporary database with Store.begin_run + save_run, then one
`write_report` call renders the HTML, the PDF (findings attached) and the pack.
Targets: 10,000 findings <= 15 s and <= 500 MB; 50,000 findings <= 45 s.

    .venv/bin/python bench/report.py [--sizes 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path


def child(n: int) -> None:
    from auditor.catalog import ControlMapper, frameworks_for
    from auditor.engine import roll_up_all, summarise
    from auditor.models import Finding, Resource, Run, RunStatus, Severity, Status
    from auditor.report import write_report
    from auditor.store import Store

    when = datetime(2026, 3, 1, 9, tzinfo=UTC)
    checks = ["secrets.inventory.rotation_age", "secrets.certificate.expiry"]
    findings = []
    for i in range(n):
        status = Status.WAIVED if i % 97 == 1 else Status.FAIL if i % 7 == 0 else Status.PASS
        findings.append(
            Finding(
                check_id=checks[i % 2],
                status=status,
                severity=Severity.HIGH if status is not Status.PASS else Severity.INFO,
                resource=Resource(id=f"secret:svc-{i:06d}", type="secret", path="inventory.yaml", line=i + 1),
                message=f"secret svc-{i:06d} was rotated {i % 300} days ago (maximum 90)",
                provider="secrets",
                evidence={"name": f"svc-{i:06d}", "age_days": i % 300, "max_age_days": 90, "owner": f"team-{i % 13}"},
                waiver={"reason": "decommission", "approver": "ciso", "expires": "2026-12-31"}
                if status is Status.WAIVED
                else None,
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        fws = frameworks_for(("soc2", "gdpr"))
        mapper = ControlMapper(fws)
        findings = [replace(f, controls=mapper(f.check_id)) for f in findings]
        run = Run(f"bench-{n}", when, None, RunStatus.RUNNING, "0.1.0", ("inventory.yaml",), ("soc2", "gdpr"))
        store.begin_run(run, ["secrets"], "Bench Org")
        controls = roll_up_all(fws, findings, when, store.manual_evidence_expiries())
        store.save_run(run.id, findings, controls, RunStatus.COMPLETE, when, summarise(findings))
        del findings
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        out = write_report(store, "soc2", pdf_path=Path(tmp) / "r.pdf", now=when)
        t_pdf = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_report(store, "soc2", pack_path=Path(tmp) / "r.zip", now=when)
        t_pack = time.perf_counter() - t0
        print(
            json.dumps(
                {
                    "findings": n,
                    "pdf_s": round(t_pdf, 2),
                    "pack_s": round(t_pack, 2),
                    "pdf_bytes": (Path(tmp) / "r.pdf").stat().st_size,
                    "pack_bytes": (Path(tmp) / "r.zip").stat().st_size,
                    "rss_before_report_mb": round(rss_before),
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                    "soc2_findings": out.model.summary.findings_total,
                }
            )
        )
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"{'findings':>9} {'pdf s':>7} {'pack s':>7} {'peak RSS MB':>12} {'pdf KB':>8} {'pack KB':>8}")
    for n in (int(s) for s in args.sizes.split(",")):
        proc = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{n:>9} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{r['findings']:>9} {r['pdf_s']:>7} {r['pack_s']:>7} {r['peak_rss_mb']:>12} "
            f"{r['pdf_bytes'] // 1024:>8} {r['pack_bytes'] // 1024:>8}"
        )


if __name__ == "__main__":
    main()
