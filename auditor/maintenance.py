"""Database upkeep: retention (prune), consistent backups, integrity checks, shard merges.

All of it works on the store's own tables and keeps its invariants:
- pruning deletes old runs but keeps every check text still referenced and the
  lifecycle (first seen, status) of findings that are still open;
- a backup uses SQLite's online backup API, so it is consistent while a scan writes;
- merging shard databases builds ONE run from the newest run of each shard, through the
  same save path as a scan, so unchanged findings extend their intervals and the result
  equals an unsharded scan of the same targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.catalog import Framework, frameworks_from_document
from auditor.config import DEFAULT_FRAMEWORKS
from auditor.engine import ScanOutcome, new_run_id, roll_up_all, summarise
from auditor.errors import UsageError
from auditor.frameworks import frameworks_for
from auditor.frameworks import registry as framework_registry
from auditor.models import Coverage, Finding, Run, RunStatus, Status, iso_z
from auditor.runs import record_run
from auditor.store import Store


@dataclass(frozen=True)
class PruneResult:
    runs: int
    observations: int
    findings: int
    texts: int


def prune(store: Store, keep_days: int, now: datetime) -> PruneResult:
    """Delete runs that started more than `keep_days` ago, and what only they referenced."""
    if keep_days < 1:
        raise UsageError("--keep-days must be at least 1")
    cutoff = iso_z(now - timedelta(days=keep_days))
    counts = store.prune_runs(cutoff)
    return PruneResult(counts.runs, counts.observations, counts.findings, counts.texts)


def backup(store: Store, target: Path, *, force: bool = False) -> int:
    """A consistent copy of the database (SQLite online backup API); returns its size."""
    if target.exists() and not force:
        raise UsageError(f"{target} exists: pass --force to replace it")
    if store.path is not None and target.resolve() == Path(store.path).resolve():
        raise UsageError("the backup target is the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    tmp.unlink(missing_ok=True)
    store.backup_to(tmp)
    tmp.replace(target)
    return target.stat().st_size


@dataclass(frozen=True)
class CheckReport:
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_database(store: Store) -> CheckReport:
    """SQLite's integrity and foreign-key checks plus auditor's own invariants."""
    return CheckReport(store.integrity_problems())


@dataclass(frozen=True)
class MergeResult:
    run: Run
    sources: list[tuple[Path, str]]
    findings: int


def merge(store: Store, sources: list[Path], now: datetime) -> MergeResult:
    """One run in `store` from the newest stored run of each shard database.

    Controls are rolled up with the installed frameworks (plus `--catalog-dir`); a framework
    that is not installed here is taken from the catalog a shard stored with its run, so a
    central merge needs no plugin the shards used. The run's lifecycle (begin, save, mark
    failed) is `auditor.runs.record_run`, the same as a scan's."""
    if not sources:
        raise UsageError("merge needs at least one shard database")
    picked: list[tuple[Path, Run, dict[str, Any], list[Finding]]] = []
    stored_catalogs: dict[str, Framework] = {}
    for path in sources:
        if store.path is not None and path.resolve() == Path(store.path).resolve():
            raise UsageError(f"{path} is the target database itself")
        shard = Store.open(path, create=False, readonly=True)
        try:
            run = shard.get_run("latest")
            ctx = shard.run_context(run.id)
            picked.append((path, run, {"providers": ctx["providers"], "organisation": ctx["organisation"]}, []))
            picked[-1][3].extend(shard.findings_for_run(run.id))
            document = shard.catalog_for_run(run.id)
            if document is not None:
                for fid, fw in frameworks_from_document(document).items():
                    stored_catalogs.setdefault(fid, fw)
        finally:
            shard.close()
    frameworks_ids = sorted({fw for _, run, _, _ in picked for fw in run.frameworks}) or list(DEFAULT_FRAMEWORKS)
    installed = set(framework_registry().ids())
    missing = [fid for fid in frameworks_ids if fid not in installed and fid not in stored_catalogs]
    if missing:
        raise UsageError(
            f"the shards were scanned with framework(s) {', '.join(missing)}, which are neither installed here "
            "nor stored with the shard runs (install them, or give --catalog-dir)"
        )
    here = {fw.id: fw for fw in frameworks_for([fid for fid in frameworks_ids if fid in installed])}
    frameworks = [here.get(fid) or stored_catalogs[fid] for fid in frameworks_ids]
    by_fp: dict[str, Finding] = {}
    for _, _, _, findings in picked:
        for f in findings:
            by_fp.setdefault(f.fingerprint, f)
    findings = sorted(by_fp.values(), key=lambda f: (f.provider, f.check_id, f.resource.id, f.fingerprint))
    started = min(run.started_at for _, run, _, _ in picked)
    finished = max((run.finished_at or run.started_at) for _, run, _, _ in picked)
    targets = sorted({t for _, run, _, _ in picked for t in run.targets})
    providers = sorted({p for _, _, ctx, _ in picked for p in ctx["providers"]})
    organisation = next((ctx["organisation"] for _, _, ctx, _ in picked if ctx["organisation"]), "")
    merged = Run(
        id=new_run_id(started),
        started_at=started,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version=__version__,
        targets=tuple(targets),
        frameworks=tuple(frameworks_ids),
    )
    with record_run(store, merged, providers, organisation, frameworks, failure="merge failed: ") as recording:
        controls = roll_up_all(frameworks, findings, now, store.manual_evidence_expiries())
        summary = summarise(findings)
        summary["merged_from"] = [{"database": str(path), "run": run.id} for path, run, _, _ in picked]
        incomplete = any(run.status is not RunStatus.COMPLETE for _, run, _, _ in picked)
        status = (
            RunStatus.PARTIAL if incomplete or any(f.status is Status.ERROR for f in findings) else RunStatus.COMPLETE
        )
        coverage: dict[str, Coverage] = {}
        for _, run, _, _ in picked:
            for c in run.coverage:
                coverage.setdefault(c.target, c)  # shards scan disjoint accounts; shard 1 the rest
        outcome = ScanOutcome(findings, controls, summary, status, list(coverage.values()), finished)
        stored = recording.save(outcome)
    return MergeResult(stored, [(path, run.id) for path, run, _, _ in picked], len(findings))
