"""A dashboard test database built through the store API (seconds, not the demo's minute).

`build_database(path, runs=R, per_run=N)` writes R complete runs, one a day from START
with one day skipped (a schedule gap), each of N findings over real catalog checks (so
controls roll up), some failing, a drifting band that fails in one run and passes in the
next, a few WAIVED, one hostile resource name (HTML, script and CSS payloads) and one
manual evidence file. bench/serve.py uses it at 30 x 10,000.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditor.catalog import ControlMapper, catalog_document
from auditor.engine import roll_up_all, summarise
from auditor.frameworks import load_catalog
from auditor.models import Finding, Resource, Run, RunStatus, Severity, Status
from auditor.store import Store

START = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
FRAMEWORKS = ("soc2", "gdpr")
HOSTILE = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><style>body{display:none}</style>"\'&lt;'
)
SKIPPED_DAY = 3  # no run on START + 3 days


def checks() -> list[str]:
    """Eight concrete checks the SOC 2 catalog tests controls with."""
    fw = load_catalog()["soc2"]
    out: list[str] = []
    for control in fw.controls:
        for ref in control.checks:
            if not any(ch in ref for ch in "*?[") and ref not in out:
                out.append(ref)
    return out[:8]


def findings_for(run_index: int, per_run: int, mapper: ControlMapper, check_ids: list[str]) -> list[Finding]:
    out = []
    for j in range(per_run):
        check = check_ids[j % len(check_ids)]
        # Checks 5-7 pass (their controls can pass) except one finding of check 5 every third run;
        # two drifting bands fail on odd / even runs (new and resolved findings every time).
        drift = (run_index % 2 == 1 and j % 97 == 3) or (run_index % 2 == 0 and j % 89 == 4)
        failing = (j % 8 < 5 and (j % 10 < 3 or drift)) or (j == 13 and run_index % 3 == 0)
        status = Status.FAIL if failing else Status.PASS
        waiver = None
        if j % 211 == 7:
            status = Status.WAIVED
            waiver = {
                "reason": "accepted risk <b>bold</b>",
                "approver": "ciso",
                "expires": "2027-01-01",
                "source": "database",
            }
        resource_id = HOSTILE if j == 1 else f"arn:aws:s3:::bucket-{j:05d}"
        out.append(
            Finding(
                check_id=check,
                status=status,
                severity=Severity.HIGH if j % 3 == 0 else Severity.MEDIUM,
                resource=Resource(id=resource_id, type="bucket", account="123456789012", region="eu-west-1"),
                message=f"bucket {j} {'fails' if failing else 'passes'} {check}",
                title=f"Title of {check}",
                provider=check.split(".")[0],
                remediation="Fix the bucket.",
                evidence={"bucket": resource_id, "index": j, "run_parity": run_index % 2 if j % 97 == 5 else 0},
                controls=mapper(check),
                waiver=waiver,
                target="aws:123456789012",
            )
        )
    return out


def build_database(path: Path, runs: int = 6, per_run: int = 200) -> list[str]:
    """Write the database; returns the run ids, oldest first."""
    catalog = load_catalog()
    frameworks = [catalog[f] for f in FRAMEWORKS]
    mapper = ControlMapper(frameworks)
    check_ids = checks()
    document = catalog_document(frameworks)
    store = Store.open(path)
    ids = []
    day = 0
    try:
        for i in range(runs):
            if day == SKIPPED_DAY:
                day += 1
            when = START + timedelta(days=day)
            day += 1
            run = Run(
                id=f"run-{i:02d}-{when:%Y%m%d}",
                started_at=when,
                finished_at=None,
                status=RunStatus.RUNNING,
                scanner_version="seed",
                targets=("aws:123456789012",),
                frameworks=FRAMEWORKS,
            )
            store.begin_run(run, ["aws"], organisation="Example Org")
            found = findings_for(i, per_run, mapper, check_ids)
            results = roll_up_all(frameworks, found, when)
            store.save_run(
                run.id,
                found,
                results,
                RunStatus.COMPLETE,
                when + timedelta(minutes=5),
                summarise(found),
                catalog=document,
            )
            ids.append(run.id)
        store.add_manual_evidence(
            "soc2",
            "CC1.1",
            "policy <b>v2</b>.pdf",
            b"%PDF-1.4 evidence bytes\n",
            "security team",
            "signed policy",
            START,
            START + timedelta(days=365),
            item=None,
            approver="ceo",
        )
    finally:
        store.close()
    return ids
