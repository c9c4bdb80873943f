"""What each dashboard page shows, computed from the store (no HTTP here).

The numbers are the ones the CLI prints: the diff counts are `Store.diff` (`auditor diff`),
the control statuses per run are `Store.trend` (`auditor trend`), the run summary is the
stored one (`auditor runs`).
"""

from __future__ import annotations

import fnmatch
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup

from auditor.catalog import Control, Framework, frameworks_from_document
from auditor.clock import utcnow
from auditor.frameworks import load_catalog
from auditor.models import Run, iso_z
from auditor.report.chart import TrendPoint, trend_svg
from auditor.report.period import FailureInterval, ScheduleGap, failure_intervals, schedule_gaps
from auditor.store import FindingFilter, RunDiff, Store

CONTROL_STATUSES = ("PASS", "FAIL", "ERROR", "MANUAL", "NOT_TESTED")
PAGE_SIZE = 100


def frameworks_in_force(store: Store, run: Run | None) -> dict[str, Framework]:
    """The catalog stored with the run (as it stood when scanned), else the installed one."""
    if run is not None:
        text = store.catalog_for_run(run.id)
        if text:
            stored = frameworks_from_document(text)
            if stored:
                return {fid: stored[fid] for fid in run.frameworks if fid in stored} or stored
    installed = load_catalog()
    if run is not None and run.frameworks:
        return {fid: installed[fid] for fid in run.frameworks if fid in installed} or installed
    return installed


def latest_run(store: Store) -> Run | None:
    runs = store.stored_runs(1)
    return runs[-1] if runs else None


@dataclass
class ControlTrend:
    """One framework's control statuses per stored run (oldest first), from `Store.trend`."""

    runs: list[tuple[str, str]] = field(default_factory=list)  # (run id, started_at)
    statuses: dict[str, list[str]] = field(default_factory=dict)  # control id -> status per run ("" absent)


def control_trend(store: Store, framework: str) -> ControlTrend:
    trend = ControlTrend()
    per_run: dict[str, dict[str, str]] = defaultdict(dict)
    for r in store.trend(framework):
        if not trend.runs or trend.runs[-1][0] != r["run_id"]:
            trend.runs.append((r["run_id"], r["started_at"]))
        per_run[r["run_id"]][r["control_id"]] = r["status"]
    controls = sorted({cid for statuses in per_run.values() for cid in statuses})
    trend.statuses = {cid: [per_run[rid].get(cid, "") for rid, _ in trend.runs] for cid in controls}
    return trend


@dataclass
class FrameworkOverview:
    framework: Framework
    status_counts: dict[str, int]
    controls_total: int
    chart: Markup
    regressed: list[str]  # controls that passed in the previous run and fail now
    improved: list[str]  # controls that failed in the previous run and pass now


@dataclass
class Overview:
    run: Run | None
    summary: dict[str, Any]
    previous: Run | None
    diff: RunDiff | None
    frameworks: list[FrameworkOverview]
    gaps: list[ScheduleGap]  # closed gaps: days without a run between two runs
    runs_stored: int
    since_last: ScheduleGap | None = None  # the days from the last run to today without one


def overview(store: Store) -> Overview:
    runs = store.stored_runs(10_000)
    run = runs[-1] if runs else None
    previous = runs[-2] if len(runs) > 1 else None
    summary: dict[str, Any] = {}
    if run is not None:
        summary = next((s for r, s in store.list_runs(None) if r.id == run.id), {})
    diff = store.diff(previous, run) if previous is not None and run is not None else None
    fws: list[FrameworkOverview] = []
    for fid, fw in frameworks_in_force(store, run).items():
        trend = control_trend(store, fid)
        automated = {c.id for c in fw.controls if c.automated}
        points: list[TrendPoint] = []
        for index, (rid, started) in enumerate(trend.runs):
            column = [s[index] for s in trend.statuses.values()]
            total = len([s for s in column if s])
            auto = [st[index] for cid, st in trend.statuses.items() if cid in automated and st[index]]
            points.append(
                TrendPoint(
                    run_id=rid,
                    at=datetime.fromisoformat(started.replace("Z", "+00:00")),
                    pass_rate=column.count("PASS") / total if total else 0.0,
                    automated_rate=auto.count("PASS") / len(auto) if auto else 0.0,
                    failing=column.count("FAIL"),
                    controls=total,
                )
            )
        now = Counter(st[-1] for st in trend.statuses.values() if st and st[-1]) if trend.runs else Counter()
        regressed, improved = [], []
        if len(trend.runs) > 1:
            for cid, st in trend.statuses.items():
                if st[-2] == "PASS" and st[-1] == "FAIL":
                    regressed.append(cid)
                elif st[-2] == "FAIL" and st[-1] == "PASS":
                    improved.append(cid)
        fws.append(
            FrameworkOverview(
                framework=fw,
                status_counts={k: now.get(k, 0) for k in CONTROL_STATUSES},
                controls_total=sum(now.values()),
                chart=trend_svg(points, f"{fw.name}: controls passing per run"),
                regressed=regressed,
                improved=improved,
            )
        )
    gaps: list[ScheduleGap] = []
    since_last: ScheduleGap | None = None
    if runs:
        # Days without a run between the first stored run and today (the last gap may still be open).
        today = max(utcnow().date(), runs[-1].started_at.date())
        gaps = schedule_gaps({r.started_at.date() for r in runs}, runs[0].started_at.date(), today)
        if gaps and gaps[-1].last_day == today:
            since_last = gaps.pop()
    return Overview(run, summary, previous, diff, fws, gaps, len(runs), since_last)


@dataclass
class ControlDetail:
    framework: Framework
    control: Control
    runs: list[tuple[str, str]]
    statuses: list[str]
    intervals: list[FailureInterval]
    waivers: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    failing: list[dict[str, Any]]  # failing findings of the latest run mapped to the control
    failing_total: int
    tests: list[tuple[str, dict[str, int]]]  # (check, findings per status in the latest run); with results first


def control_detail(store: Store, framework: str, control_id: str) -> ControlDetail | None:
    run = latest_run(store)
    fw = frameworks_in_force(store, run).get(framework)
    control = fw.control(control_id) if fw else None
    if fw is None or control is None:
        return None
    trend = control_trend(store, framework)
    statuses = trend.statuses.get(control_id, [""] * len(trend.runs))
    runs = {r.id: r for r in store.stored_runs(10_000)}
    pairs = [(runs[rid], st) for (rid, _), st in zip(trend.runs, statuses, strict=True) if rid in runs and st]
    closes = pairs[-1][0].started_at if pairs else datetime.now()
    intervals = failure_intervals(pairs, False, closes)
    waivers: list[dict[str, Any]] = []
    seqs = store.run_sequences()
    if seqs:
        by_seq = {s: rid for rid, s in seqs.items()}
        for w in store.waived_observations(min(seqs.values()), max(seqs.values())):
            if control.ref in w["controls"]:
                waivers.append({**w, "from_run": by_seq.get(w["from_seq"]), "to_run": by_seq.get(w["to_seq"])})
    evidence = [e for e in store.list_manual_evidence(framework) if e["control_id"] == control_id]
    failing: list[dict[str, Any]] = []
    total = 0
    counts: dict[str, dict[str, int]] = {}
    if run is not None:
        total, failing = store.search_findings(
            seqs[run.id], FindingFilter(status="FAIL", control=control.ref), PAGE_SIZE, 0
        )
        counts = store.check_status_counts(seqs[run.id])
    tests: list[tuple[str, dict[str, int]]] = []
    for ref in control.checks:  # a ref is a check id or a glob (`iac.CKV_AWS_*`)
        matched: Counter[str] = Counter()
        for check_id, per in counts.items():
            if fnmatch.fnmatchcase(check_id, ref):
                matched.update(per)
        tests.append((ref, dict(matched)))
    tests.sort(key=lambda t: not t[1])  # the tests with results in the latest run first, catalog order kept
    return ControlDetail(fw, control, trend.runs, statuses, intervals, waivers, evidence, failing, total, tests)


def evidence_json(value: Any) -> str:
    """Stored evidence, pretty-printed as it is stored (the template escapes it)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def run_label(run: Run) -> str:
    return f"{run.id} ({iso_z(run.started_at)})"
