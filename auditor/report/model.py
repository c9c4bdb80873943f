"""The report's view-model: everything a template shows, built from the store in one pass.

The model holds per-control counts and a few samples, never the full finding list:
the full list streams to the CSV and JSON exports (`exports.py`) during the same pass,
so a 50,000-finding run costs memory in proportion to the number of controls.

Control status in a report
--------------------------
Automated controls keep the status stored with the run. Controls with no automated
check are judged at the report's "as of" time (when it was generated): PASS only when
every expected evidence item the catalog lists is covered by a stored file that has not
expired, otherwise a GAP that names the missing items. A GAP is never shown as passing.
Manual evidence on an automated control is shown as supporting material and does not
change its status; neither do a control's supporting checks (detective signals shown
beside it, never its pass condition).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup

from auditor import __version__
from auditor.catalog import Control, Framework, ManualEvidenceState, load_catalog
from auditor.clock import parse_instant
from auditor.errors import InputError
from auditor.models import Finding, Run, Severity, Status, iso_z
from auditor.redact import redact, redact_text
from auditor.report.chart import TrendPoint, trend_svg
from auditor.report.period import Period, PeriodAnalysis, analyse_period
from auditor.store import Store

SAMPLES_PER_STATUS = 3
MAX_CHECK_ROWS = 12
MAX_EVIDENCE_CHARS = 700
MAX_TREND_RUNS = 90
SEVERITIES = [s.value for s in Severity]
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


@dataclass(frozen=True)
class CheckRow:
    check_id: str
    title: str
    severity: str
    counts: dict[str, int]
    why: str = ""  # the catalog's rationale: why this check is evidence for the control

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
    checks: list[CheckRow] = field(default_factory=list)
    checks_hidden: int = 0
    samples_fail: list[Sample] = field(default_factory=list)
    samples_pass: list[Sample] = field(default_factory=list)
    samples_other: list[Sample] = field(default_factory=list)
    waivers: list[WaiverRow] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)
    not_tested_reason: str = ""
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

    def to_dict(self, period: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "id": self.control.id,
            "title": self.control.title,
            "category": self.control.category,
            "status": self.status,
            "automated": self.control.automated,
            "counts": dict(self.counts),
            "checks": {c.check_id: dict(c.counts) for c in self.checks},
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
            "rationale": {c.check_id: c.why for c in self.checks if c.why},
            "supporting": {c.check_id: {"why": c.why, "counts": dict(c.counts)} for c in self.supporting},
            "period": period,
        }


@dataclass(frozen=True)
class ScopeItem:
    name: str
    reason: str


@dataclass
class Scope:
    targets: list[str]
    providers: list[str]
    not_scanned: list[ScopeItem]
    not_tested_controls: list[str]
    run_status: str
    run_error: str | None


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
    chart: Markup
    chart_runs: int


@dataclass
class ReportModel:
    organisation: str
    framework: Framework
    run: Run
    run_ids: list[str]
    generated_at: datetime
    scanner_version: str
    period: Period | None
    period_analysis: PeriodAnalysis | None
    scope: Scope
    summary: Summary
    controls: list[ControlSection]
    checks_catalog: list[CheckRow]
    checks_catalog_hidden: int
    evidence_items: list[EvidenceItem]
    attachments: list[dict[str, Any]] = field(default_factory=list)

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
    def title(self) -> str:
        kind = "Type II period report" if self.period else "Evidence report"
        return f"{self.framework.name} — {kind}"

    def controls_document(self) -> dict[str, Any]:
        per = self.period_analysis.controls if self.period_analysis else {}
        return {
            "schema": "auditor.report.controls/1",
            "framework": self.framework.id,
            "organisation": self.organisation,
            "run": self.run.to_dict(),
            "as_of": iso_z(self.generated_at),
            "period": (
                {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()} if self.period else None
            ),
            "summary": {
                "controls": self.summary.control_status,
                "pass_rate": round(self.summary.pass_rate, 4),
                "findings": self.summary.by_status,
                "failed_by_severity": self.summary.failed_by_severity,
            },
            "controls": [c.to_dict(per[c.id].to_dict() if c.id in per else None) for c in self.controls],
        }


def anchor_for(control_id: str) -> str:
    return "ctl-" + re.sub(r"[^A-Za-z0-9]+", "-", control_id).strip("-")


def safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return cleaned[:100]


def evidence_pack_path(row: dict[str, Any]) -> str:
    return (
        f"evidence/{row['framework']}-{safe_filename(row['control_id'])}/{row['id']}-{safe_filename(row['filename'])}"
    )


_ID_TOKEN = re.compile(r"[^:/\\\s]+")


def redact_identity(text: str) -> str:
    """Redaction for resource ids and paths: token by token, so that `secret:db-password` (a name
    followed by a colon) is not mistaken for `secret: <value>` while an access key id in a name still is."""
    return _ID_TOKEN.sub(lambda m: redact_text(m.group()), text) if text else text


def _where(f: Finding) -> str:
    r = f.resource
    if r.path and r.line:
        return f"{r.path}:{r.line}"
    bits = [b for b in (r.account, r.region) if b]
    return " / ".join(bits) if bits else (r.path or "")


def _sample(f: Finding) -> Sample:
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
    )


class _Bounded:
    """Keeps the N smallest items by key while streaming (for evidence samples)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.items: list[tuple[tuple[Any, ...], Finding]] = []

    def add(self, key: tuple[Any, ...], f: Finding) -> None:
        if len(self.items) >= self.n and key >= self.items[-1][0]:
            return
        self.items.append((key, f))
        self.items.sort(key=lambda kv: kv[0])
        del self.items[self.n :]

    def findings(self) -> list[Finding]:
        return [f for _, f in self.items]


@dataclass
class _ControlAcc:
    counts: Counter[str] = field(default_factory=Counter)
    checks: dict[str, Counter[str]] = field(default_factory=dict)
    fail: _Bounded = field(default_factory=lambda: _Bounded(SAMPLES_PER_STATUS))
    passed: _Bounded = field(default_factory=lambda: _Bounded(SAMPLES_PER_STATUS))
    other: _Bounded = field(default_factory=lambda: _Bounded(SAMPLES_PER_STATUS))
    waivers: dict[tuple[str, str, str, str], list[Any]] = field(default_factory=dict)
    support: dict[str, Counter[str]] = field(default_factory=dict)  # supporting check -> status counts


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
    catalog = load_catalog()
    if framework_id not in catalog:
        raise InputError(f"unknown framework {framework_id!r} (known: {', '.join(sorted(catalog))})")
    framework = catalog[framework_id]
    run = resolve_run(store, run_ref, period, framework_id)
    stored = {r["control_id"]: r for r in store.control_results(run.id, framework_id)}
    if not stored:
        raise InputError(
            f"run {run.id} did not evaluate framework {framework_id} (it has no {framework_id} control results)"
        )
    context = store.run_context(run.id)
    checks_meta = {r["id"]: r for r in store.db.query("SELECT id, title, severity, provider FROM checks ORDER BY id")}
    sink_list = list(sinks)

    acc: dict[str, _ControlAcc] = {c.id: _ControlAcc() for c in framework.controls}
    prefix = framework_id + ":"
    by_status: Counter[str] = Counter()
    failed_sev: Counter[str] = Counter()
    waived_sev: Counter[str] = Counter()
    seen_checks: Counter[str] = Counter()
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
        by_status[f.status.value] += 1
        seen_checks[f.check_id] += 1
        if f.status is Status.FAIL:
            failed_sev[f.severity.value] += 1
        elif f.status is Status.WAIVED:
            waived_sev[f.severity.value] += 1
        for sink in sink_list:
            sink(f)
        for cid in mine:
            a = acc[cid]
            a.counts[f.status.value] += 1
            a.checks.setdefault(f.check_id, Counter())[f.status.value] += 1
            key = (-f.severity.rank, f.check_id, f.resource.id)
            if f.status is Status.FAIL:
                a.fail.add(key, f)
            elif f.status is Status.PASS:
                a.passed.add((f.check_id, f.resource.id), f)
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
            else:
                a.other.add((0 if f.status is Status.ERROR else 1, *key), f)

    evidence_rows = store.list_manual_evidence(framework_id)
    evidence_by_control: dict[str, list[EvidenceItem]] = {}
    all_items: list[EvidenceItem] = []
    for row in evidence_rows:
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

    providers_run = set(context["providers"])
    sections: list[ControlSection] = []
    for control in framework.controls:
        a = acc[control.id]
        srow = stored.get(control.id)
        items = evidence_by_control.get(control.id, [])
        if not control.automated:
            status = "PASS" if manual_evidence_covers(control, items) else "GAP"
        else:
            status = srow["status"] if srow else "NOT_TESTED"
            if status == "MANUAL":  # the catalog changed since the run: judge it as manual now
                status = "PASS" if manual_evidence_covers(control, items) else "GAP"
        counts = {k: int(srow[k.lower()]) if srow else a.counts.get(k, 0) for k in STATUS_KEYS}
        rows = sorted(
            (
                CheckRow(
                    check_id=cid,
                    title=str(checks_meta.get(cid, {}).get("title", "")),
                    severity=str(checks_meta.get(cid, {}).get("severity", "")),
                    counts={k: c.get(k, 0) for k in STATUS_KEYS},
                    why=control.why_for(cid),
                )
                for cid, c in a.checks.items()
            ),
            key=lambda r: (-r.counts["FAIL"], -r.counts["ERROR"], r.check_id),
        )
        reason = ""
        if status == "NOT_TESTED":
            wanted = sorted({ref.split(".", 1)[0] for ref in control.checks} - providers_run)
            reason = (
                f"its checks come from providers not run in this scan: {', '.join(wanted)}"
                if wanted
                else "its checks produced no applicable result in this run"
            )
        sections.append(
            ControlSection(
                control=control,
                anchor=anchor_for(control.id),
                status=status,
                counts=counts,
                checks=rows[:MAX_CHECK_ROWS],
                checks_hidden=max(0, len(rows) - MAX_CHECK_ROWS),
                samples_fail=[_sample(f) for f in a.fail.findings()],
                samples_pass=[_sample(f) for f in a.passed.findings()],
                samples_other=[_sample(f) for f in a.other.findings()],
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
                supporting=_supporting_rows(control, a, checks_meta),
                expected=expected_items(control, items),
            )
        )

    period_analysis = analyse_period(store, framework, period, now) if period else None
    run_ids = [run.id]
    if period_analysis:
        run_ids = sorted({run.id, *(r.id for r in period_analysis.runs)})

    status_counts = Counter(s.status for s in sections)
    automated = [s for s in sections if s.control.automated]
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
        chart=Markup(""),
        chart_runs=0,
    )
    points = _trend_points(store, framework, period)
    summary.chart = trend_svg(points, f"Share of {framework.id} controls passing per run")
    summary.chart_runs = len(points)

    scope = _scope(context, run, framework, sections)
    catalog_rows = [
        CheckRow(
            check_id=cid,
            title=str(checks_meta.get(cid, {}).get("title", "")),
            severity=str(checks_meta.get(cid, {}).get("severity", "")),
            counts={"findings": n},
        )
        for cid, n in sorted(seen_checks.items())
    ]
    return ReportModel(
        organisation=context["organisation"] or "(organisation not recorded)",
        framework=framework,
        run=run,
        run_ids=run_ids,
        generated_at=now,
        scanner_version=run.scanner_version,
        period=period,
        period_analysis=period_analysis,
        scope=scope,
        summary=summary,
        controls=sections,
        checks_catalog=catalog_rows[:200],
        checks_catalog_hidden=max(0, len(catalog_rows) - 200),
        evidence_items=all_items,
    )


def manual_evidence_covers(control: Control, files: Iterable[EvidenceItem]) -> bool:
    """The catalog's rule: every expected item covered by a file valid now (any valid file if none listed)."""
    files = list(files)
    state = ManualEvidenceState(
        valid_items=frozenset(e.item for e in files if e.valid and e.item),
        files=len(files),
        any_valid=any(e.valid for e in files),
    )
    return state.covers(control)


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


def _trend_points(store: Store, framework: Framework, period: Period | None) -> list[TrendPoint]:
    if period:
        runs = store.stored_runs_between(period.start_at, period.end_before)
    else:
        runs = store.stored_runs(MAX_TREND_RUNS)
    statuses = store.control_statuses(framework.id, [r.id for r in runs])
    total = len(framework.controls) or 1
    automated = {c.id for c in framework.controls if c.automated}
    points = [
        TrendPoint(
            run_id=r.id,
            at=r.started_at,
            pass_rate=sum(1 for s in statuses[r.id].values() if s == "PASS") / total,
            automated_rate=sum(1 for c, s in statuses[r.id].items() if s == "PASS" and c in automated)
            / (len(automated) or 1),
            failing=sum(1 for s in statuses[r.id].values() if s == "FAIL"),
        )
        for r in runs
        if statuses.get(r.id)
    ]
    return points[-MAX_TREND_RUNS:]


def _scope(context: dict[str, Any], run: Run, framework: Framework, sections: list[ControlSection]) -> Scope:
    from auditor.providers import discover_providers

    ran = set(context["providers"])
    installed = set(discover_providers())
    wanted = {ref.split(".", 1)[0] for c in framework.controls for ref in c.checks}
    not_scanned: list[ScopeItem] = []
    for name in sorted((installed | wanted) - ran):
        if name in installed:
            why = "installed, but not selected for this run (no target of this kind was given)"
        else:
            why = "the catalog maps controls to this provider, but it is not installed in this auditor"
        not_scanned.append(ScopeItem(name, why))
    return Scope(
        targets=[redact_identity(t) for t in context["targets"]],
        providers=sorted(ran),
        not_scanned=not_scanned,
        not_tested_controls=[s.control.id for s in sections if s.status == "NOT_TESTED"],
        run_status=run.status.value,
        run_error=redact_text(run.error) if run.error else None,
    )


def generated_stamp(now: datetime) -> str:
    return iso_z(now)


def scanner_version() -> str:
    return __version__
