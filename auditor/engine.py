"""The scan engine: select providers, run them concurrently, store the run atomically.

Any exception that escapes a provider becomes ERROR findings (with the error text, and
a log line) for every one of its checks that had produced nothing yet: a check that
could not look is never a PASS, and one provider's crash never stops the others.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import datetime

from auditor import __version__
from auditor.baseline import Baseline, load_baseline
from auditor.catalog import ControlMapper, Framework, frameworks_for, manual_states, roll_up
from auditor.clock import utcnow
from auditor.config import AuditConfig
from auditor.errors import UsageError
from auditor.models import (
    CheckInfo,
    ControlResult,
    Finding,
    Resource,
    Run,
    RunStatus,
    Severity,
    Status,
)
from auditor.providers import discover_providers
from auditor.providers.base import Provider, ScanContext
from auditor.redact import redact, redact_text
from auditor.store import Store
from auditor.waivers import WaiverOutcome, apply_waivers, collect_waivers

log = logging.getLogger("auditor.engine")

ProgressFn = Callable[[str, str], None]


@dataclass(frozen=True)
class ScanResult:
    run: Run
    findings: list[Finding]
    controls: list[ControlResult]
    summary: dict[str, object]
    checks: dict[str, CheckInfo]
    waivers: WaiverOutcome | None = None  # None: no waiver was loaded
    baseline: Baseline | None = None  # --baseline: only findings not in it can breach the gate


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def select_providers(config: AuditConfig, registry: dict[str, type[Provider]] | None = None) -> list[Provider]:
    registry = discover_providers() if registry is None else registry
    chosen = [p for p in (cls() for cls in registry.values()) if p.selected(config)]
    if config.shard is not None and config.shard[0] != 1:
        # Only account-based providers split across shards; the rest run in shard 1.
        return [p for p in chosen if p.shardable]
    if not chosen:
        raise UsageError(
            "nothing to scan: give at least one target (--aws, --iac, --code, --deps, --image, "
            "--secrets-inventory) or a --config file that names targets"
        )
    return chosen


def error_findings(provider: Provider, checks: Iterable[CheckInfo], error: str) -> list[Finding]:
    """ERROR findings for checks that could not be evaluated because the provider failed."""
    resource = Resource(id=f"provider:{provider.name}", type="auditor.provider")
    return [
        provider.finding(
            check,
            Status.ERROR,
            resource,
            f"could not be evaluated: {error}",
            evidence={"error": error},
        )
        for check in checks
    ]


def collect_provider(provider: Provider, ctx: ScanContext) -> list[Finding]:
    """Run one provider to completion; never raises (except on interpreter shutdown)."""
    findings: list[Finding] = []
    try:
        for f in provider.run(ctx):
            findings.append(f)
            if ctx.cancelled.is_set():
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        log.error("provider %s failed: %s", provider.name, error, exc_info=log.isEnabledFor(logging.DEBUG))
        seen = {f.check_id for f in findings}
        missing = [c for c in provider.checks() if c.id not in seen]
        if not missing:
            # Every check produced something but the provider still failed midway: the
            # results may be incomplete, so say so on each check it reported.
            missing = provider.checks()
        findings.extend(error_findings(provider, missing, redact_text(error)))
    return findings


def summarise(findings: Iterable[Finding]) -> dict[str, object]:
    by_status = Counter(f.status for f in findings)
    failed = Counter(f.severity for f in findings if f.status is Status.FAIL)
    return {
        "total": sum(by_status.values()),
        "by_status": {s.value: by_status.get(s, 0) for s in Status},
        "failed_by_severity": {s.value: failed.get(s, 0) for s in Severity},
    }


def finalise_findings(findings: Iterable[Finding], mapper: ControlMapper) -> list[Finding]:
    """Redact, attach controls; sorted for stable output."""
    out = []
    for f in findings:
        out.append(
            replace(
                f,
                message=redact_text(f.message),
                evidence=redact(f.evidence),
                controls=mapper(f.check_id),
            )
        )
    out.sort(key=lambda f: (f.provider, f.check_id, f.resource.id, f.fingerprint))
    return out


def run_scan(
    config: AuditConfig,
    store: Store,
    *,
    providers: list[Provider] | None = None,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
    cancel: threading.Event | None = None,
) -> ScanResult:
    """Scan, store and return one run. Setting `cancel` (the CLI's Ctrl-C/SIGTERM handler
    does) stops the providers and records the run as failed, then raises KeyboardInterrupt."""
    providers = providers if providers is not None else select_providers(config)
    started = now or utcnow()
    ctx = ScanContext(
        config=config,
        now=started,
        progress=progress or (lambda p, m: None),
        cancelled=cancel if cancel is not None else threading.Event(),
    )
    frameworks = frameworks_for(config.frameworks)
    for p in providers:
        p.prepare(ctx)  # InputError here: exit 2, nothing written
    waivers = collect_waivers(config, store)  # malformed waiver or baseline file: exit 2, nothing written
    baseline = load_baseline(config.baseline_file) if config.baseline_file is not None else None

    checks: dict[str, CheckInfo] = {}
    for p in providers:
        for c in p.checks():
            checks[c.id] = c
    targets = [t for p in providers for t in p.targets(config)]
    run = Run(
        id=new_run_id(started),
        started_at=started,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version=__version__,
        targets=tuple(targets),
        frameworks=tuple(config.frameworks),
    )
    store.begin_run(run, [p.name for p in providers], config.organisation)
    try:
        raw = _collect_all(providers, ctx, config.max_workers)
        findings = finalise_findings(raw, ControlMapper(frameworks))
        waived = apply_waivers(findings, waivers, started.date(), [p.name for p in providers]) if waivers else None
        findings = waived.findings if waived is not None else findings
        controls = roll_up_all(store, frameworks, findings, started)
        summary = summarise(findings)
        status = RunStatus.PARTIAL if any(f.status is Status.ERROR for f in findings) else RunStatus.COMPLETE
        finished = utcnow() if now is None else now
        stored = store.save_run(run.id, findings, controls, status, finished, summary, checks.values())
    except BaseException as exc:
        ctx.cancelled.set()
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        try:
            store.fail_run(run.id, reason, utcnow())
        except Exception:
            log.exception("could not mark run %s failed", run.id)
        raise
    return ScanResult(
        run=stored,
        findings=findings,
        controls=controls,
        summary=summary,
        checks=checks,
        waivers=waived,
        baseline=baseline,
    )


def roll_up_all(
    store: Store, frameworks: list[Framework], findings: list[Finding], now: datetime
) -> list[ControlResult]:
    manual = manual_states(store.manual_evidence_expiries(), now)
    results: list[ControlResult] = []
    for fw in frameworks:
        results.extend(roll_up(fw, findings, manual))
    return results


def _collect_all(providers: list[Provider], ctx: ScanContext, max_workers: int) -> list[Finding]:
    """Run the providers concurrently; KeyboardInterrupt once `ctx.cancelled` is set."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(providers))), thread_name_prefix="provider")
    try:
        futures = [pool.submit(collect_provider, p, ctx) for p in providers]
        out: list[Finding] = []
        for fut in futures:
            while True:
                if ctx.cancelled.is_set():
                    raise KeyboardInterrupt
                try:
                    out.extend(fut.result(timeout=0.2))
                    break
                except FutureTimeout:
                    continue
        if ctx.cancelled.is_set():
            raise KeyboardInterrupt
        return out
    except BaseException:
        ctx.cancelled.set()
        raise
    finally:
        # Providers watch ctx.cancelled (and tools.run_tool kills its process): wait for them.
        pool.shutdown(wait=True, cancel_futures=True)


def gate_exit_code(
    findings: Iterable[Finding],
    fail_on: Severity | None,
    allow_errors: bool,
    gated: Callable[[Finding], bool] | None = None,
) -> int:
    """0 ok; 1 an unwaived FAIL at or above `fail_on`; 3 incomplete (ERROR) without --allow-errors.

    A breached gate (1) wins over an incomplete scan (3): both fail a build, and 1 names
    the more specific cause. `gated` narrows which findings can breach the gate (baselines).
    """
    findings = list(findings)
    if fail_on is not None:
        for f in findings:
            if f.status is Status.FAIL and f.severity.at_least(fail_on) and (gated is None or gated(f)):
                return 1
    if not allow_errors and any(f.status is Status.ERROR for f in findings):
        return 3
    return 0
