"""The report's view-model: everything a template shows, built from the store in one pass.

The model holds per-control counts and a few samples, never the full finding list:
the full list streams to the CSV and JSON exports (`exports.py`) during the same pass,
so a 50,000-finding run costs memory in proportion to the number of controls.

Control status in a report
--------------------------
Automated controls keep the status stored with the run. Controls with no automated
check are judged at the report's "as of" time (when it was generated) by the roll-up's
rule: PASS when every evidence item the control expects is covered by a stored file that
has not expired, otherwise a GAP that names the missing items. A GAP is never shown as
passing. Manual evidence on an automated control is shown as supporting material and
does not change its status; neither do a control's supporting checks (detective signals
shown beside it, never its pass condition). Each test carries the catalog's rationale:
why that check is evidence for that control.

The controls are those of the catalog in force when the run was scanned (`catalog_view`),
the scope is what the providers recorded as examined (`scope_view`), evidence samples are
a seeded random draw (`sampling`), and every WAIVED finding is in the exceptions register
(`exceptions`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup

from auditor import __version__
from auditor.catalog import Control, Framework, manual_states
from auditor.clock import parse_instant
from auditor.errors import InputError
from auditor.frameworks import frameworks_for, installed_ids
from auditor.models import Finding, Run, Severity, Status, iso_z
from auditor.redact import redact, redact_text
from auditor.report.catalog_view import CatalogHistory, CatalogInForce, catalog_history, catalog_in_force
from auditor.report.chart import TrendPoint, trend_svg
from auditor.report.exceptions import ExceptionRegister
from auditor.report.period import Period, PeriodAnalysis, analyse_period, manual_evidence_entries
from auditor.report.redaction import redact_identity
from auditor.report.sampling import SampleDraw, sample_seed
from auditor.report.scope_view import Scope, build_scope, not_tested_reason
from auditor.store import Store

__all__ = ["ReportModel", "build_report_model", "redact_identity", "resolve_run"]

SAMPLES_PER_STATUS = 3
SAMPLED_STATUSES = ("FAIL", "PASS", "ERROR", "SKIPPED")
MAX_CHECK_ROWS = 12
MAX_APPENDIX_CHECKS = 200
MAX_EVIDENCE_CHARS = 700
MAX_TREND_RUNS = 90
SEVERITIES = [s.value for s in Severity]
_SEVERITY_RANK = {s.value: s.rank for s in Severity}
STATUS_KEYS = ("PASS", "FAIL", "ERROR", "WAIVED", "SKIPPED")

# Report-level control status: the stored ControlStatus, except MANUAL -> GAP.
STATUS_LABELS = {
    "PASS": "Pass",
    "FAIL": "Fail",
    "ERROR": "Error",
    "NOT_TESTED": "Not tested",
    "GAP": "Gap",
}


@dataclass(frozen=True)
class Sample:
    status: str
    severity: str
    check_id: str
    resource: str
    location: str
    message: str
    evidence: str  # redacted, pretty JSON, truncated
    fingerprint: str = ""
    first_seen: str | None = None
    last_seen: str | None = None


@dataclass(frozen=True)
class SampleSet:
    """`k of N (random sample, seed ...)` for one status of one control (see `sampling`)."""

    status: str
    population: int
    seed: str
    samples: list[Sample]

    @property
    def caption(self) -> str:
        if len(self.samples) == self.population:
            return f"all {self.population}"
        return f"{len(self.samples)} of {self.population}, random sample, seed {self.seed}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "seed": self.seed,
            "method": "sha256(seed|fingerprint), smallest first",
            "fingerprints": [s.fingerprint for s in self.samples],
        }


@dataclass(frozen=True)
class CheckRow:
    check_id: str
    title: str
    severity: str
    counts: dict[str, int]
    provider: str = ""
    why: str = ""  # the catalog's rationale: why this check is evidence for the control

    @property
    def total(self) -> int:
        return sum(self.counts.get(k, 0) for k in STATUS_KEYS)

    @property
    def has_results(self) -> bool:
        return any(self.counts.values())


@dataclass(frozen=True)
class WaiverRow:
    check_id: str
    reason: str
    approver: str
    expires: str
    findings: int
    example: str


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    filename: str
    sha256: str
    size: int
    owner: str
    note: str
    added_at: str
    expires_at: str | None
    valid: bool
    pack_path: str
    item: str | None = None  # the expected evidence item (catalog id) the file covers
    approver: str | None = None


@dataclass(frozen=True)
class ExpectedItem:
    """One evidence item a control expects, and the stored files that cover it."""

    id: str
    title: str
    files: tuple[EvidenceItem, ...]  # newest first

    @property
    def covered(self) -> bool:
        return any(e.valid for e in self.files)

    @property
    def state(self) -> str:
        """covered | lapsed (files on record, all expired) | missing (no file at all)."""
        if self.covered:
            return "covered"
        return "lapsed" if self.files else "missing"

    @property
    def current(self) -> EvidenceItem | None:
        """The valid file that lasts longest, else the newest lapsed one."""
        valid = [e for e in self.files if e.valid]
        if valid:
            return max(valid, key=lambda e: (e.expires_at or "9999", e.id))
        return self.files[0] if self.files else None


@dataclass
class ControlSection:
    control: Control
    anchor: str
    status: str  # PASS FAIL ERROR NOT_TESTED GAP
    counts: dict[str, int]
    checks: list[CheckRow] = field(default_factory=list)  # shown (the first MAX_CHECK_ROWS)
    checks_hidden: int = 0
    all_checks: list[CheckRow] = field(default_factory=list)  # every check with results (controls.json)
    samples: list[SampleSet] = field(default_factory=list)
    waivers: list[WaiverRow] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)
    not_tested_reason: str = ""
    not_tested_kind: str = ""
    supporting: list[CheckRow] = field(default_factory=list)  # every supporting ref, with this run's counts
    expected: list[ExpectedItem] = field(default_factory=list)

    @property
    def missing_items(self) -> list[ExpectedItem]:
        return [i for i in self.expected if not i.covered]

    @property
    def id(self) -> str:
        return self.control.id

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_gap(self) -> bool:
        return self.status == "GAP"

    def samples_of(self, status: str) -> SampleSet | None:
        for s in self.samples:
            if s.status == status:
                return s
        return None

    def to_dict(self, period: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "id": self.control.id,
            "title": self.control.title,
            "category": self.control.category,
            "status": self.status,
            "automated": self.control.automated,
            "counts": dict(self.counts),
            "checks": {c.check_id: dict(c.counts) for c in (self.all_checks or self.checks)},
            "not_tested": (
                {"kind": self.not_tested_kind, "reason": self.not_tested_reason} if self.not_tested_kind else None
            ),
            "samples": {s.status: s.to_dict() for s in self.samples},
            "waivers": [vars(w) for w in self.waivers],
            "manual_evidence": [
                {k: v for k, v in vars(e).items() if k != "pack_path"} | {"pack_path": e.pack_path}
                for e in self.evidence
            ],
            "expected_manual_evidence": [
                {"id": i.id, "title": i.title, "state": i.state, "evidence_ids": [e.id for e in i.files]}
                for i in self.expected
            ],
            "missing_manual_evidence": [i.id for i in self.missing_items],
            "rationale": {c.check_id: c.why for c in (self.all_checks or self.checks) if c.why},
            "supporting": {c.check_id: {"why": c.why, "counts": dict(c.counts)} for c in self.supporting},
            "period": period,
        }


@dataclass
class Summary:
    controls_total: int
    control_status: dict[str, int]
    pass_rate: float
    automated_total: int
    automated_pass: int
    findings_total: int
    by_status: dict[str, int]
    failed_by_severity: dict[str, int]
    waived_by_severity: dict[str, int]
    suppressed_without_approval: int
    chart: Markup
    chart_runs: int
    trend: list[TrendPoint] = field(default_factory=list)


@dataclass
class ReportModel:
    organisation: str
    framework: Framework
    catalog: CatalogInForce
    run: Run
    run_ids: list[str]
    generated_at: datetime
    scanner_version: str
    period: Period | None
    period_analysis: PeriodAnalysis | None
    catalog_history: CatalogHistory | None
    scope: Scope
    summary: Summary
    controls: list[ControlSection]
    exceptions: ExceptionRegister
    checks_catalog: list[CheckRow]
    checks_all: list[CheckRow]
    evidence_items: list[EvidenceItem]
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def samples_per_status(self) -> int:
        return SAMPLES_PER_STATUS

    @property
    def checks_catalog_hidden(self) -> int:
        return len(self.checks_all) - len(self.checks_catalog)

    @property
    def period_label(self) -> str:
        if self.period:
            return self.period.label
        return f"point in time: {iso_z(self.run.started_at)}"

    @property
    def short_name(self) -> str:
        """`SOC 2` or `GDPR`: the catalog name up to its first ` - `."""
        return self.framework.name.split(" - ")[0].split(" (")[0].strip() or self.framework.id

    @property
    def kind(self) -> str:
        """`Evidence report`, `Period report, 15 days` or (SOC 2) `Type II period report, 120 days`."""
        return self.period.kind if self.period else "Evidence report"

    @property
    def title(self) -> str:
        return f"{self.framework.name} — {self.kind}"

    def controls_document(self) -> dict[str, Any]:
        per = self.period_analysis.controls if self.period_analysis else {}
        doc = {
            "schema": "auditor.report.controls/1",
            "framework": self.framework.id,
            "organisation": self.organisation,
            "run": self.run.to_dict(),
            "as_of": iso_z(self.generated_at),
            "period": (
                {
                    "start": self.period.start.isoformat(),
                    "end": self.period.end.isoformat(),
                    "days": self.period.days,
                    "kind": self.period.kind,
                }
                if self.period
                else None
            ),
            "catalog": self.catalog.to_dict(),
            "catalog_changes": self.catalog_history.to_dict() if self.catalog_history else None,
            "summary": {
                "controls": self.summary.control_status,
                "pass_rate": round(self.summary.pass_rate, 4),
                "findings": self.summary.by_status,
                "failed_by_severity": self.summary.failed_by_severity,
                "waived_by_severity": self.summary.waived_by_severity,
                "suppressed_without_approval": self.summary.suppressed_without_approval,
            },
            "scope": {
                "coverage_recorded": self.scope.coverage_recorded,
                "targets": [
                    {
                        "provider": t.provider,
                        "target": t.target,
                        "state": t.state,
                        "examined": t.examined,
                        "skipped": t.skipped_total,
                        "errored_checks": t.errored_checks,
                        "regions_scanned": t.regions_scanned,
                        "regions_enabled": t.regions_enabled,
                    }
                    for t in self.scope.targets
                ],
            },
            "exceptions": self.exceptions.to_dict(),
            "trend": [
                {
                    "run": p.run_id,
                    "at": iso_z(p.at),
                    "controls": p.controls,
                    "failing": p.failing,
                    "failing_share": round(p.failing_rate, 4),
                    "passing_share": round(p.pass_rate, 4),
                    "automated_passing_share": round(p.automated_rate, 4),
                }
                for p in self.summary.trend
            ],
            "checks": [
                {"check_id": r.check_id, "title": r.title, "severity": r.severity, "counts": dict(r.counts)}
                for r in self.checks_all
            ],
            "controls": [c.to_dict(per[c.id].to_dict() if c.id in per else None) for c in self.controls],
        }
        return doc


def anchor_for(control_id: str) -> str:
    return "ctl-" + re.sub(r"[^A-Za-z0-9]+", "-", control_id).strip("-")


def safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return cleaned[:100]


def evidence_pack_path(row: dict[str, Any]) -> str:
    return (
        f"evidence/{row['framework']}-{safe_filename(row['control_id'])}/{row['id']}-{safe_filename(row['filename'])}"
    )


def _where(f: Finding) -> str:
    r = f.resource
    if r.path and r.line:
        return f"{r.path}:{r.line}"
    bits = [b for b in (r.account, r.region) if b]
    return " / ".join(bits) if bits else (r.path or "")


def _sample(f: Finding, seen: tuple[str, str] | None) -> Sample:
    ev = json.dumps(redact(f.evidence), indent=1, sort_keys=True, default=str, ensure_ascii=False)
    if len(ev) > MAX_EVIDENCE_CHARS:
        ev = ev[:MAX_EVIDENCE_CHARS].rstrip() + "\n… (truncated; full evidence in findings.json)"
    return Sample(
        status=f.status.value,
        severity=f.severity.value,
        check_id=f.check_id,
        resource=redact_identity(f.resource.id),
        location=redact_identity(_where(f)),
        message=redact_text(f.message),
        evidence=ev,
        fingerprint=f.fingerprint,
        first_seen=seen[0] if seen else None,
        last_seen=seen[1] if seen else None,
    )


@dataclass
class _ControlAcc:
    counts: Counter[str] = field(default_factory=Counter)
    checks: dict[str, Counter[str]] = field(default_factory=dict)
    draws: dict[str, SampleDraw[Finding]] = field(default_factory=dict)
    waivers: dict[tuple[str, str, str, str], list[Any]] = field(default_factory=dict)
    support: dict[str, Counter[str]] = field(default_factory=dict)  # supporting check -> status counts


@dataclass
class _CheckAcc:
    title: str = ""
    provider: str = ""
    severities: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)


FindingSink = Callable[[Finding], None]


def resolve_run(store: Store, run_ref: str | None, period: Period | None, framework: str) -> Run:
    if run_ref:
        return store.get_run(run_ref)
    if period:
        runs = [
            r
            for r in store.stored_runs_between(period.start_at, period.end_before)
            if store.control_statuses(framework, [r.id])[r.id]
        ]
        if not runs:
            raise InputError(f"no stored run of framework {framework} in the period {period.label}")
        return runs[-1]
    return store.get_run("latest")


def _check_severity(meta: dict[str, Any] | None, acc: _CheckAcc) -> str:
    if meta and meta.get("severity"):
        return str(meta["severity"])
    if not acc.severities:
        return ""
    # A tool check without catalog metadata: the severity its findings carry (the most common).
    return max(acc.severities.items(), key=lambda kv: (kv[1], _SEVERITY_RANK.get(kv[0], -1)))[0]


def _period_term(framework_id: str) -> str:
    """The installed catalog's name for a long period report (`period_term`, "Type II" for SOC 2)."""
    if framework_id not in installed_ids():
        return ""
    return frameworks_for([framework_id])[0].period_term


def build_report_model(
    store: Store,
    framework_id: str,
    *,
    run_ref: str | None = None,
    period: Period | None = None,
    now: datetime,
    sinks: Iterable[FindingSink] = (),
) -> ReportModel:
    """Read the run (and period) from the store; feed every framework finding to `sinks`."""
    run = resolve_run(store, run_ref, period, framework_id)
    stored = {r["control_id"]: r for r in store.control_results(run.id, framework_id)}
    if not stored:
        installed = installed_ids()
        if framework_id not in installed:
            raise InputError(f"unknown framework {framework_id!r} (installed: {', '.join(installed)})")
        raise InputError(
            f"run {run.id} did not evaluate framework {framework_id} (it has no {framework_id} control results)"
        )
    in_force = catalog_in_force(store, run.id, framework_id)
    framework = in_force.framework
    if period is not None:
        period = dataclass_replace(period, term=_period_term(framework_id))
    context = store.run_context(run.id)
    checks_meta = {r["id"]: r for r in store.stored_checks()}
    sink_list = list(sinks)

    acc: dict[str, _ControlAcc] = {c.id: _ControlAcc() for c in framework.controls}
    prefix = framework_id + ":"
    by_status: Counter[str] = Counter()
    failed_sev: Counter[str] = Counter()
    waived_sev: Counter[str] = Counter()
    check_acc: dict[str, _CheckAcc] = {}
    register = ExceptionRegister()
    total = 0
    support_of: dict[str, list[str]] = {}  # check id -> controls it supports (shown, never their pass condition)
    for f in store.iter_findings_for_run(run.id):
        supported = support_of.get(f.check_id)
        if supported is None:
            supported = support_of[f.check_id] = [c.id for c in framework.controls if c.supported_by(f.check_id)]
        for cid in supported:
            acc[cid].support.setdefault(f.check_id, Counter())[f.status.value] += 1
        mine = [ref[len(prefix) :] for ref in f.controls if ref.startswith(prefix) and ref[len(prefix) :] in acc]
        if not mine:
            continue
        total += 1
        status = f.status.value
        by_status[status] += 1
        ca = check_acc.setdefault(f.check_id, _CheckAcc())
        ca.counts[status] += 1
        ca.severities[f.severity.value] += 1
        ca.title = ca.title or f.title
        ca.provider = ca.provider or f.provider
        if f.status is Status.FAIL:
            failed_sev[f.severity.value] += 1
        elif f.status is Status.WAIVED:
            waived_sev[f.severity.value] += 1
        register.add(f, mine)
        for sink in sink_list:
            sink(f)
        for cid in mine:
            a = acc[cid]
            a.counts[status] += 1
            a.checks.setdefault(f.check_id, Counter())[status] += 1
            if status in SAMPLED_STATUSES:
                draw = a.draws.get(status)
                if draw is None:
                    seed = sample_seed(run.id, framework_id, cid, status)
                    draw = a.draws[status] = SampleDraw(seed, SAMPLES_PER_STATUS)
                draw.offer(f.fingerprint, f)
            elif f.status is Status.WAIVED:
                w = f.waiver or {}
                wkey = (
                    f.check_id,
                    str(w.get("reason", "")),
                    str(w.get("approver", "")),
                    str(w.get("expires") or w.get("expires_at") or ""),
                )
                slot = a.waivers.setdefault(wkey, [0, f.resource.id])
                slot[0] += 1

    sampled = {fp for a in acc.values() for d in a.draws.values() for fp in d.fingerprints}
    seen = store.seen_times(sampled) if sampled else {}

    evidence_by_control: dict[str, list[EvidenceItem]] = {}
    all_items: list[EvidenceItem] = []
    for row in store.list_manual_evidence(framework_id):
        if parse_instant(row["added_at"]) > now:
            continue  # not on file yet when the report was generated
        expires = parse_instant(row["expires_at"]) if row["expires_at"] else None
        item = EvidenceItem(
            id=row["id"],
            filename=row["filename"],
            sha256=row["sha256"],
            size=row["size"],
            owner=row["owner"],
            note=redact_text(row["note"]),
            added_at=row["added_at"],
            expires_at=row["expires_at"],
            valid=expires is None or expires > now,
            pack_path=evidence_pack_path(row),
            item=row.get("item"),
            approver=redact_text(row["approver"]) if row.get("approver") else None,
        )
        evidence_by_control.setdefault(row["control_id"], []).append(item)
        all_items.append(item)

    scope = build_scope(context, run, framework, ())
    # Manual controls are judged at the report's time by the roll-up's rule: every expected
    # evidence item covered by a file that has not expired (`ManualEvidenceState.covers`).
    manual = manual_states(
        [
            (ref, e.item, e.expires_at)
            for ref, entries in manual_evidence_entries(store, framework_id, now).items()
            for e in entries
        ],
        now,
    )

    def manual_status(control: Control) -> str:
        state = manual.get(control.ref)
        return "PASS" if state is not None and state.covers(control) else "GAP"

    sections: list[ControlSection] = []
    for control in framework.controls:
        a = acc[control.id]
        srow = stored.get(control.id)
        items = evidence_by_control.get(control.id, [])
        if not control.automated:
            status = manual_status(control)
        else:
            status = srow["status"] if srow else "NOT_TESTED"
            if status == "MANUAL":  # the catalog changed since the run: judge it as manual now
                status = manual_status(control)
        # Counted from the findings this report holds (and exports), so counts and lists agree.
        counts = {k: a.counts.get(k, 0) for k in STATUS_KEYS}
        rows = sorted(
            (
                CheckRow(
                    check_id=cid,
                    title=str(checks_meta.get(cid, {}).get("title", "")) or check_acc[cid].title,
                    severity=_check_severity(checks_meta.get(cid), check_acc[cid]),
                    counts={k: c.get(k, 0) for k in STATUS_KEYS},
                    why=control.why_for(cid),
                )
                for cid, c in a.checks.items()
            ),
            key=lambda r: (-r.counts["FAIL"], -r.counts["ERROR"], r.check_id),
        )
        kind, reason = ("", "")
        if status == "NOT_TESTED":
            kind, reason = not_tested_reason(control, counts, scope)
        sample_sets = [
            SampleSet(s, d.population, d.seed, [_sample(f, seen.get(f.fingerprint)) for f in d.chosen])
            for s in SAMPLED_STATUSES
            if (d := a.draws.get(s)) is not None
        ]
        sections.append(
            ControlSection(
                control=control,
                anchor=anchor_for(control.id),
                status=status,
                counts=counts,
                checks=rows[:MAX_CHECK_ROWS],
                checks_hidden=max(0, len(rows) - MAX_CHECK_ROWS),
                all_checks=rows,
                samples=sample_sets,
                waivers=[
                    WaiverRow(
                        check_id=k[0],
                        reason=redact_text(k[1]) or "(no reason recorded)",
                        approver=redact_text(k[2]) or "(no approver recorded)",
                        expires=k[3] or "(no expiry recorded)",
                        findings=int(v[0]),
                        example=redact_identity(str(v[1])),
                    )
                    for k, v in sorted(a.waivers.items())
                ],
                evidence=items,
                not_tested_reason=reason,
                not_tested_kind=kind,
                supporting=_supporting_rows(control, a, checks_meta),
                expected=expected_items(control, items),
            )
        )
    scope.not_tested_controls = [s.control.id for s in sections if s.status == "NOT_TESTED"]

    period_analysis = analyse_period(store, framework, period, now) if period else None
    history = catalog_history(store, period_analysis.runs, framework_id) if period_analysis else None
    run_ids = [run.id]
    if period_analysis:
        run_ids = sorted({run.id, *(r.id for r in period_analysis.runs)})

    status_counts = Counter(s.status for s in sections)
    automated = [s for s in sections if s.control.automated]
    points = _trend_points(store, framework, period, now)
    summary = Summary(
        controls_total=len(sections),
        control_status={k: status_counts.get(k, 0) for k in STATUS_LABELS},
        pass_rate=status_counts.get("PASS", 0) / len(sections) if sections else 0.0,
        automated_total=len(automated),
        automated_pass=sum(1 for s in automated if s.status == "PASS"),
        findings_total=total,
        by_status={k: by_status.get(k, 0) for k in STATUS_KEYS},
        failed_by_severity={k: failed_sev.get(k, 0) for k in SEVERITIES},
        waived_by_severity={k: waived_sev.get(k, 0) for k in SEVERITIES},
        suppressed_without_approval=register.suppressed_total,
        chart=trend_svg(points, f"Share of {framework.id} controls passing and failing per run"),
        chart_runs=len(points),
        trend=points,
    )

    all_checks = sorted(
        (
            CheckRow(
                check_id=cid,
                title=str(checks_meta.get(cid, {}).get("title", "")) or ca.title or "(no title recorded)",
                severity=_check_severity(checks_meta.get(cid), ca),
                counts={k: ca.counts.get(k, 0) for k in STATUS_KEYS},
                provider=str(checks_meta.get(cid, {}).get("provider", "")) or ca.provider,
            )
            for cid, ca in check_acc.items()
        ),
        key=lambda r: (-r.counts["FAIL"], -r.counts["ERROR"], -_SEVERITY_RANK.get(r.severity, -1), r.check_id),
    )
    return ReportModel(
        organisation=context["organisation"] or "(organisation not recorded)",
        framework=framework,
        catalog=in_force,
        run=run,
        run_ids=run_ids,
        generated_at=now,
        scanner_version=run.scanner_version,
        period=period,
        period_analysis=period_analysis,
        catalog_history=history,
        scope=scope,
        summary=summary,
        controls=sections,
        exceptions=register,
        checks_catalog=all_checks[:MAX_APPENDIX_CHECKS],
        checks_all=all_checks,
        evidence_items=all_items,
    )


def expected_items(control: Control, files: Iterable[EvidenceItem]) -> list[ExpectedItem]:
    files = list(files)
    return [
        ExpectedItem(
            id=item.id,
            title=item.title,
            files=tuple(sorted((e for e in files if e.item == item.id), key=lambda e: e.id, reverse=True)),
        )
        for item in control.manual_evidence
    ]


def _supporting_rows(control: Control, a: _ControlAcc, checks_meta: dict[str, dict[str, Any]]) -> list[CheckRow]:
    """Every supporting reference of the control, then any other check it matched (a glob), with counts."""
    rows: list[CheckRow] = []
    seen: set[str] = set()
    for ref in control.supporting:
        if any(ch in ref for ch in "*?["):
            continue  # a pattern: the concrete checks it matched follow below
        counts = a.support.get(ref, Counter())
        seen.add(ref)
        rows.append(
            CheckRow(
                check_id=ref,
                title=str(checks_meta.get(ref, {}).get("title", "")),
                severity=str(checks_meta.get(ref, {}).get("severity", "")),
                counts={k: counts.get(k, 0) for k in STATUS_KEYS},
                why=control.why(ref),
            )
        )
    for cid in sorted(set(a.support) - seen):
        counts = a.support[cid]
        rows.append(
            CheckRow(
                check_id=cid,
                title=str(checks_meta.get(cid, {}).get("title", "")),
                severity=str(checks_meta.get(cid, {}).get("severity", "")),
                counts={k: counts.get(k, 0) for k in STATUS_KEYS},
                why=control.why_for(cid),
            )
        )
    return rows


def _trend_points(store: Store, framework: Framework, period: Period | None, now: datetime) -> list[TrendPoint]:
    """Runs up to the report's time (a pack rebuilt later from the database shows the same trend)."""
    until = now + timedelta(seconds=1)
    if period:
        runs = store.stored_runs_between(period.start_at, min(period.end_before, until))
    else:
        runs = store.stored_runs_between(None, until)[-MAX_TREND_RUNS:]
    statuses = store.control_statuses(framework.id, [r.id for r in runs])
    automated = {c.id for c in framework.controls if c.automated}
    points = []
    for r in runs:
        st = statuses.get(r.id)
        if not st:
            continue
        auto = [c for c in st if c in automated]
        points.append(
            TrendPoint(
                run_id=r.id,
                at=r.started_at,
                pass_rate=sum(1 for s in st.values() if s == "PASS") / len(st),
                automated_rate=sum(1 for c in auto if st[c] == "PASS") / (len(auto) or 1),
                failing=sum(1 for s in st.values() if s == "FAIL"),
                controls=len(st),
            )
        )
    return points[-MAX_TREND_RUNS:]


def generated_stamp(now: datetime) -> str:
    return iso_z(now)


def scanner_version() -> str:
    return __version__
