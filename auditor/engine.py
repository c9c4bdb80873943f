"""The scan engine: select providers, run them concurrently, evaluate what they found.

The engine never touches the database: `scan()` returns a `ScanOutcome`, and
`auditor.runs.record_run` stores it (begin, save, or mark failed), for `auditor scan` and
`auditor merge` alike.

Any exception that escapes a provider becomes ERROR findings (with the error text, and
a log line) for every one of its checks that had produced nothing yet: a check that
could not look is never a PASS, and one provider's crash never stops the others.

Before anything is stored the engine also makes sure that:
- every finding has a target, and every target the providers were asked to scan has a
  coverage record (what was examined, what was skipped, which checks ended in ERROR);
- an ERROR that stopped other checks (`Finding.affects`) is mapped to every control those
  checks map to, so a missing tool turns its controls ERROR, never leaves them green;
- every text of every finding is redacted (`auditor.redact`).

`prepare_scan` validates everything the user gave (targets, waiver and baseline files,
frameworks) without touching the database, so unusable input exits 2 before a database
file is even created.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.baseline import Baseline, load_baseline
from auditor.catalog import ControlMapper, Framework, manual_states, roll_up
from auditor.clock import utcnow
from auditor.config import AuditConfig
from auditor.errors import AuditorError, UsageError
from auditor.frameworks import frameworks_for
from auditor.models import (
    CheckInfo,
    ControlResult,
    Coverage,
    Finding,
    Resource,
    Run,
    RunStatus,
    Severity,
    SkippedItem,
    Status,
    compute_fingerprint,
)
from auditor.providers import ProviderUnavailable, Registry
from auditor.providers import registry as default_registry
from auditor.providers.base import Provider, ScanContext
from auditor.redact import redact, redact_formats, redact_text
from auditor.safeio import show_path
from auditor.scope import PathRebaser, default_source_root
from auditor.waivers import Waiver, WaiverOutcome, apply_waivers, load_file_waivers

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
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # fingerprint -> (first seen, last seen)
    # Every finding's `resource.path` is relative to this folder (SARIF's %SRCROOT%).
    source_root: Path = field(default_factory=Path.cwd)

    @property
    def coverage(self) -> tuple[Coverage, ...]:
        return self.run.coverage


@dataclass
class PreparedScan:
    """A scan whose inputs were all validated; nothing has been written yet."""

    config: AuditConfig
    providers: list[Provider]
    ctx: ScanContext
    frameworks: list[Framework]
    file_waivers: list[Waiver]
    baseline: Baseline | None
    checks: dict[str, CheckInfo] = field(default_factory=dict)
    source_root: Path = field(default_factory=Path.cwd)
    # Selected providers that cannot be imported or built: name -> reason (one ERROR each).
    unavailable: dict[str, str] = field(default_factory=dict)


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def select_providers(
    config: AuditConfig, registry: Registry | dict[str, type[Provider]] | None = None
) -> tuple[list[Provider], dict[str, str]]:
    """The providers `config` selects, built; and name -> reason for selected ones that cannot
    be imported or built (each becomes one ERROR). Only the providers named in
    `config.targets` are imported: one whose module or dependency is broken is invisible to
    every scan that does not ask for it."""
    reg = (
        registry
        if isinstance(registry, Registry)
        else Registry.of_classes(registry)
        if registry
        else default_registry()
    )
    chosen: list[Provider] = []
    unavailable: dict[str, str] = {}
    for name in config.targets:
        try:
            cls = reg.load(name)
        except ProviderUnavailable as exc:
            unavailable[name] = exc.reason
            continue
        try:
            provider = cls()
        except Exception as exc:  # noqa: BLE001 - a plugin's constructor may raise anything
            unavailable[name] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            continue
        if provider.selected(config):
            chosen.append(provider)
    if config.shard is not None and config.shard[0] != 1:
        # Only account-based providers split across shards; the rest run in shard 1.
        return [p for p in chosen if p.shardable], {}
    if not chosen and not unavailable:
        raise UsageError(
            "nothing to scan: give at least one target (`auditor scan --help` lists every provider's "
            "flags) or a --config file that names targets"
        )
    return chosen, unavailable


def prepare_scan(
    config: AuditConfig,
    *,
    providers: list[Provider] | None = None,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
    cancel: threading.Event | None = None,
) -> PreparedScan:
    """Validate every input (InputError/ConfigError/UsageError: exit 2, nothing written)."""
    unavailable: dict[str, str] = {}
    if providers is None:
        providers, unavailable = select_providers(config)
    source_root = source_root_of(config)
    ctx = ScanContext(
        config=config,
        now=now or utcnow(),
        progress=progress or (lambda p, m: None),
        cancelled=cancel if cancel is not None else threading.Event(),
        source_root=source_root,
    )
    frameworks = frameworks_for(config.frameworks, config.catalog_dir)
    ready: list[Provider] = []
    for p in providers:
        try:
            p.prepare(ctx)
        except (AuditorError, KeyboardInterrupt):
            raise  # unusable input: exit 2 before anything is written
        except ImportError as exc:
            # A dependency the provider imports when it starts is missing: it cannot be built.
            unavailable[p.name] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            continue
        ready.append(p)
    providers = ready
    file_waivers = load_file_waivers(config)
    baseline = load_baseline(config.baseline_file) if config.baseline_file is not None else None
    checks: dict[str, CheckInfo] = {}
    for p in providers:
        for c in p.checks():
            checks[c.id] = c
    for name in unavailable:
        checks[unavailable_check(name).id] = unavailable_check(name)
    return PreparedScan(
        config,
        providers,
        ctx,
        frameworks,
        file_waivers,
        baseline,
        checks,
        source_root=source_root,
        unavailable=unavailable,
    )


def unavailable_check(name: str) -> CheckInfo:
    """The check an unavailable provider's one ERROR reports under (`<name>.provider`)."""
    return CheckInfo(
        id=f"{name}.provider",
        title=f"The {name} provider can be loaded",
        severity=Severity.HIGH,
        provider=name,
        description=f"The {name} provider, selected by this scan, is installed and can be imported and built.",
        risk="Nothing this provider checks was looked at: its controls cannot be shown to pass.",
        remediation=f"Install the {name} provider's dependencies (run with -v for the import error), "
        "or stop selecting it.",
        resource_type="auditor.provider",
    )


def unavailable_findings(unavailable: dict[str, str]) -> tuple[list[Finding], list[Coverage]]:
    """One ERROR per selected provider that cannot be loaded; it stops every check of that
    provider (`<name>.*`), so each control they map to is ERROR, never green."""
    findings: list[Finding] = []
    coverage: list[Coverage] = []
    for name, reason in sorted(unavailable.items()):
        check = unavailable_check(name)
        target = f"provider:{name}"
        error = redact_text(reason)
        findings.append(
            Finding(
                check_id=check.id,
                status=Status.ERROR,
                resource=Resource(id=target, type="auditor.provider"),
                message=f"provider {name} could not be loaded: {error}",
                title=check.title,
                provider=name,
                severity=check.severity,
                remediation=check.remediation,
                evidence={"error": error},
                target=target,
                affects=(f"{name}.*",),
            )
        )
        coverage.append(Coverage(provider=name, target=target, complete=False, details={"unavailable": error}))
    return findings, coverage


def source_root_of(config: AuditConfig) -> Path:
    """`--source-root` (checked: an existing folder), else the git top level of the path targets."""
    if config.source_root is not None:
        root = config.source_root.expanduser()
        if not root.is_dir():
            raise UsageError(f"--source-root {show_path(root)}: not an existing folder")
        return root.resolve()
    targets = list(config.targets.repository_paths())
    if not targets:
        # An inventory file elsewhere does not move the root of a repository scan.
        targets = list(config.targets.other_paths())
    return default_source_root([t for t in targets if t.exists()])


def error_findings(
    provider: Provider, checks: Iterable[CheckInfo], error: str, affects: tuple[str, ...] = ()
) -> list[Finding]:
    """ERROR findings for checks that could not be evaluated because the provider failed."""
    resource = Resource(id=f"provider:{provider.name}", type="auditor.provider")
    return [
        provider.finding(
            check,
            Status.ERROR,
            resource,
            f"could not be evaluated: {error}",
            evidence={"error": error},
            affects=affects,
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
        # The crash may have hidden results of any of its checks, tool ids included.
        findings.extend(error_findings(provider, missing, redact_text(error), affects=provider.check_globs()))
    return findings


def summarise(findings: Iterable[Finding]) -> dict[str, object]:
    findings = list(findings)
    by_status = Counter(f.status for f in findings)
    failed = Counter(f.severity for f in findings if f.status is Status.FAIL)
    return {
        "total": sum(by_status.values()),
        "by_status": {s.value: by_status.get(s, 0) for s in Status},
        "failed_by_severity": {s.value: failed.get(s, 0) for s in Severity},
        # FAILs an inline comment suppresses without approval (counted in FAIL above).
        "unapproved_suppressions": sum(1 for f in findings if f.suppressed_without_approval),
    }


def redact_finding(f: Finding, resource: Resource | None = None, **changes: Any) -> Finding:
    """Every text of a finding through the one redaction (identities keep their names).
    `resource` replaces the finding's (its path already redacted: `rebased_resource`);
    `changes` are applied in the same copy (one copy per finding on a 100k-finding run)."""
    if resource is None:
        r = f.resource
        rid = redact_formats(r.id)
        path = redact_formats(r.path) if r.path else r.path
        if rid is not r.id or path is not r.path:
            r = Resource(rid, r.type, r.account, r.region, path, r.line, r.end_line)
    else:
        r = resource
        rid = r.id if r.id is r.path else redact_formats(r.id)
        if rid is not r.id:
            r = Resource(rid, r.type, r.account, r.region, r.path, r.line, r.end_line)
    return replace(
        f,
        message=redact_text(f.message),
        evidence=redact(f.evidence),
        resource=r,
        waiver=redact(f.waiver) if f.waiver is not None else None,
        target=redact_formats(f.target),
        **changes,
    )


def finalise_findings(
    findings: Iterable[Finding], mapper: ControlMapper, rebaser: PathRebaser | None = None
) -> list[Finding]:
    """Paths onto the source root, redact, attach controls (an ERROR's `affects` included);
    sorted for stable output."""
    out = []
    paths: dict[tuple[str, str], str] = {}
    for f in findings:
        controls = mapper(f.check_id, f.affects if f.status is Status.ERROR else ())
        rebased = rebased_resource(f, rebaser, paths) if rebaser is not None and f.resource.path else None
        if rebased is None:
            out.append(redact_finding(f, controls=controls))
        else:
            fingerprint = compute_fingerprint(f.check_id, rebased, f.discriminator)
            out.append(redact_finding(f, rebased, controls=controls, fingerprint=fingerprint))
    out.sort(key=lambda f: (f.provider, f.check_id, f.resource.id, f.fingerprint))
    return out


def rebased_resource(
    f: Finding, rebaser: PathRebaser, cache: dict[tuple[str, str], str] | None = None
) -> Resource | None:
    """The finding's resource with its path (redacted) relative to the source root, and its id
    too when the id is the path; None when nothing changes. The caller recomputes the
    fingerprint, so one file scanned from anywhere has one identity."""
    r = f.resource
    assert r.path is not None
    key = (f.target, r.path)
    path = cache.get(key) if cache is not None else None
    if path is None:
        # Redaction first: normalising `a://b` would hide a URL from it.
        path = rebaser.rebase(redact_formats(r.path), f.target)
        if cache is not None:
            cache[key] = path
    if path == r.path:
        return None
    if r.id == r.path:
        rid = path
    elif r.id == f"file:{r.path}":
        rid = f"file:{path}"
    else:
        rid = r.id
    return Resource(rid, r.type, r.account, r.region, path, r.line, r.end_line)


def rebase_finding(f: Finding, rebaser: PathRebaser) -> Finding:
    """`f` as the engine stores it: path on the source root, fingerprint recomputed."""
    r = rebased_resource(f, rebaser) if f.resource.path else None
    if r is None:
        return f
    return replace(f, resource=r, fingerprint=compute_fingerprint(f.check_id, r, f.discriminator))


def assign_targets(
    providers: list[Provider], by_provider: dict[str, list[Finding]], coverage: list[Coverage]
) -> tuple[list[Finding], list[Coverage]]:
    """Every finding gets a target, every target a coverage record with its ERROR checks.

    A provider that records no coverage (a third-party plugin written before coverage
    existed) is one target, `provider:<name>`; a finding without a target belongs to its
    provider's only target, or to that provider-wide one.
    """
    findings: list[Finding] = []
    coverage = list(coverage)
    for p in providers:
        own = [c for c in coverage if c.provider == p.name]
        fallback = own[0].target if len(own) == 1 else f"provider:{p.name}"
        for f in by_provider.get(p.name, []):
            findings.append(f if f.target else replace(f, target=fallback))
        if any(not f.target for f in by_provider.get(p.name, [])) and not any(c.target == fallback for c in own):
            coverage.append(Coverage(provider=p.name, target=fallback, details={"recorded_by": "engine"}))
    errored: dict[str, set[str]] = {}
    for f in findings:
        if f.status is Status.ERROR:
            errored.setdefault(f.target, set()).update((f.check_id, *f.affects))
    out: list[Coverage] = []
    seen: set[str] = set()
    for c in coverage:
        if c.target in seen:
            continue  # one record per target: the first one a provider made
        seen.add(c.target)
        errs = tuple(sorted(errored.get(c.target, set()) | set(c.errored_checks)))
        out.append(
            replace(
                c,
                target=redact_formats(c.target),
                # Coverage names files and errors too: the same redaction as findings.
                skipped=tuple(SkippedItem(redact_formats(s.item), redact_text(s.reason)) for s in c.skipped),
                details=redact(c.details),
                errored_checks=errs,
                complete=c.complete and not errs,
            )
        )
    return findings, out


@dataclass(frozen=True)
class ScanOutcome:
    """One scan, evaluated and not stored: what `record_run` saves and `ScanResult` returns."""

    findings: list[Finding]
    controls: list[ControlResult]
    summary: dict[str, object]
    status: RunStatus
    coverage: list[Coverage]
    finished_at: datetime
    waivers: WaiverOutcome | None = None


def new_run(prepared: PreparedScan) -> Run:
    """The run record of a prepared scan, not yet started (status RUNNING)."""
    config = prepared.config
    targets = [
        *(t for p in prepared.providers for t in p.targets(config)),
        *(f"provider:{n}" for n in prepared.unavailable),
    ]
    return Run(
        id=new_run_id(prepared.ctx.now),
        started_at=prepared.ctx.now,
        finished_at=None,
        status=RunStatus.RUNNING,
        scanner_version=__version__,
        targets=tuple(targets),
        frameworks=tuple(config.frameworks),
    )


def provider_names(prepared: PreparedScan) -> list[str]:
    return [*(p.name for p in prepared.providers), *prepared.unavailable]


def scan(
    prepared: PreparedScan,
    *,
    waivers: Sequence[Waiver] = (),
    manual_evidence: Iterable[tuple[str, str | None, datetime | None]] = (),
    now: datetime | None = None,
) -> ScanOutcome:
    """Run the prepared scan and evaluate it: findings (targets, paths, redaction, controls,
    waivers), control roll-ups, summary and coverage. Touches no database: the caller gives
    the stored waivers and manual evidence (`auditor.runs.run_scan` reads them from the store).
    Setting `prepared.ctx.cancelled` stops the providers and raises KeyboardInterrupt."""
    config, ctx, providers = prepared.config, prepared.ctx, prepared.providers
    started = ctx.now
    all_waivers = [*prepared.file_waivers, *waivers]
    by_provider = _collect_all(providers, ctx, config.max_workers) if providers else {}
    raw, coverage = assign_targets(providers, by_provider, ctx.coverage)
    lost, lost_coverage = unavailable_findings(prepared.unavailable)
    raw, coverage = [*raw, *lost], [*coverage, *lost_coverage]
    findings = finalise_findings(raw, ControlMapper(prepared.frameworks), PathRebaser(prepared.source_root))
    waived = (
        apply_waivers(findings, all_waivers, started.date(), provider_names(prepared), prepared.source_root)
        if all_waivers
        else None
    )
    findings = waived.findings if waived is not None else findings
    controls = roll_up_all(prepared.frameworks, findings, started, manual_evidence)
    status = RunStatus.PARTIAL if any(f.status is Status.ERROR for f in findings) else RunStatus.COMPLETE
    return ScanOutcome(
        findings=findings,
        controls=controls,
        summary=summarise(findings),
        status=status,
        coverage=coverage,
        finished_at=utcnow() if now is None else now,
        waivers=waived,
    )


def roll_up_all(
    frameworks: list[Framework],
    findings: list[Finding],
    now: datetime,
    manual_evidence: Iterable[tuple[str, str | None, datetime | None]] = (),
) -> list[ControlResult]:
    """Every framework's control results; `manual_evidence` is (control ref, item, expiry) per stored file."""
    manual = manual_states(manual_evidence, now)
    results: list[ControlResult] = []
    for fw in frameworks:
        results.extend(roll_up(fw, findings, manual))
    return results


def _collect_all(providers: list[Provider], ctx: ScanContext, max_workers: int) -> dict[str, list[Finding]]:
    """Run the providers concurrently, in daemon threads; KeyboardInterrupt once `ctx.cancelled` is set.

    The threads are daemons on purpose: a provider blocked where cancellation cannot
    reach it (a stuck network read) must not keep a stopped scan, or the process, alive.
    The run is recorded as failed at once; the thread dies with the process.
    """
    jobs: queue.SimpleQueue[Provider] = queue.SimpleQueue()
    for p in providers:
        jobs.put(p)
    results: dict[str, list[Finding]] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()
    done = threading.Semaphore(0)

    def worker() -> None:
        while True:
            try:
                provider = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                found = collect_provider(provider, ctx)
                with lock:
                    results[provider.name] = found
            except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt from a provider: stop the scan
                with lock:
                    failures.append(exc)
                ctx.cancelled.set()
            finally:
                done.release()

    workers = max(1, min(max_workers, len(providers)))
    for i in range(workers):
        threading.Thread(target=worker, name=f"provider-{i}", daemon=True).start()
    finished = 0
    while finished < len(providers):
        if ctx.cancelled.is_set():
            raise KeyboardInterrupt
        if done.acquire(timeout=0.2):
            finished += 1
    if failures or ctx.cancelled.is_set():
        ctx.cancelled.set()
        raise KeyboardInterrupt
    return {p.name: results.get(p.name, []) for p in providers}


def gate_exit_code(
    findings: Iterable[Finding],
    fail_on: Severity | None,
    allow_errors: bool,
    gated: Callable[[Finding], bool] | None = None,
    strict_suppressions: bool = False,
) -> int:
    """0 ok; 1 an unwaived FAIL at or above `fail_on`; 3 incomplete (ERROR) without --allow-errors.

    A breached gate (1) wins over an incomplete scan (3): both fail a build, and 1 names
    the more specific cause. `gated` narrows which findings can breach the gate (baselines).
    An inline suppression without approval does not breach the gate (as checkov and semgrep
    themselves honour it) unless `strict_suppressions`; it still fails every control roll-up.
    """
    findings = list(findings)
    if fail_on is not None:
        for f in findings:
            if f.status is not Status.FAIL or not f.severity.at_least(fail_on):
                continue
            if f.suppressed_without_approval and not strict_suppressions:
                continue
            if gated is None or gated(f):
                return 1
    if not allow_errors and any(f.status is Status.ERROR for f in findings):
        return 3
    return 0
