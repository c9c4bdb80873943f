"""Recording runs: the one place a run's lifecycle meets the store.

`record_run` begins a run (status running), saves what the body produced, or marks the run
failed when the body raises (an interrupt included), for `auditor scan` (`run_scan`) and
`auditor merge` alike. The engine itself never touches the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from auditor.catalog import Framework, catalog_document
from auditor.clock import utcnow
from auditor.config import AuditConfig
from auditor.engine import (
    PreparedScan,
    ProgressFn,
    ScanOutcome,
    ScanResult,
    new_run,
    prepare_scan,
    provider_names,
    scan,
)
from auditor.models import CheckInfo, Run
from auditor.providers.base import Provider
from auditor.store import Store
from auditor.waivers import waiver_from_row

log = logging.getLogger("auditor.runs")


@dataclass
class Recording:
    """A begun run: `save` it once with what the run produced."""

    store: Store
    run: Run
    frameworks: list[Framework]
    checks: list[CheckInfo] = field(default_factory=list)
    saved: Run | None = None

    def save(self, outcome: ScanOutcome, summary: dict[str, object] | None = None) -> Run:
        self.saved = self.store.save_run(
            self.run.id,
            outcome.findings,
            outcome.controls,
            outcome.status,
            outcome.finished_at,
            summary if summary is not None else outcome.summary,
            self.checks,
            coverage=outcome.coverage,
            catalog=catalog_document(self.frameworks),
        )
        return self.saved


@contextmanager
def record_run(
    store: Store,
    run: Run,
    providers: list[str],
    organisation: str,
    frameworks: list[Framework],
    checks: list[CheckInfo] | None = None,
    failure: str = "",
) -> Iterator[Recording]:
    """Begin `run`; the body saves it (`Recording.save`). If the body raises, or returns without
    saving, the run is marked failed (reason: `failure` + the error) and the error propagates."""
    store.begin_run(run, providers, organisation)
    recording = Recording(store, run, frameworks, list(checks or []))
    try:
        yield recording
        if recording.saved is None:
            raise RuntimeError(f"run {run.id} was not saved")
    except BaseException as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{failure}{type(exc).__name__}: {exc}"
        try:
            store.fail_run(run.id, reason, utcnow())
        except Exception:
            log.exception("could not mark run %s failed", run.id)
        raise


def run_scan(
    config: AuditConfig,
    store: Store,
    *,
    providers: list[Provider] | None = None,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
    cancel: threading.Event | None = None,
    prepared: PreparedScan | None = None,
) -> ScanResult:
    """Scan, store and return one run. Setting `cancel` (the CLI's Ctrl-C/SIGTERM handler
    does) stops the providers and records the run as failed, then raises KeyboardInterrupt."""
    if prepared is None:
        prepared = prepare_scan(config, providers=providers, progress=progress, now=now, cancel=cancel)
    waivers = [waiver_from_row(r) for r in store.list_waivers()]
    run = new_run(prepared)
    with record_run(
        store,
        run,
        provider_names(prepared),
        config.organisation,
        prepared.frameworks,
        list(prepared.checks.values()),
    ) as recording:
        try:
            outcome = scan(
                prepared, waivers=waivers, manual_evidence=store.manual_evidence_expiries(), now=now
            )
        except BaseException:
            prepared.ctx.cancelled.set()  # stop provider threads still running
            raise
        stored = recording.save(outcome)
    return ScanResult(
        run=stored,
        findings=outcome.findings,
        controls=outcome.controls,
        summary=outcome.summary,
        checks=prepared.checks,
        waivers=outcome.waivers,
        baseline=prepared.baseline,
        seen=store.seen_times(f.fingerprint for f in outcome.findings),
        source_root=prepared.source_root,
    )
