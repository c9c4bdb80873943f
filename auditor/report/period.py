"""Period analysis (SOC 2 calls a period report "Type II"): how each control behaved across the runs of a period.

For a period (inclusive dates) and one framework, per control:
- the number of stored runs in the period and the share in which the control passed;
- each failure interval: the first run in which the control failed, the first later
  run in which it passed again (the fixing run) and the days in between. ERROR and
  NOT_TESTED runs do not close an interval: nothing showed the control working again.
  An interval still open at the end of the period runs to the period end (or to the
  report's "as of" time when the period has not ended yet);
- waivers (risk acceptances) that covered findings of the control in the period;
and for the whole period, the days on which no run was stored (gaps in the schedule).

Controls with no automated check are judged by day, not by run: a day counts as evidenced
only when, for the whole day, stored manual evidence covered every item the control expects
(added before the day began, expiring after it ended). Their pass share is evidenced days /
observed days, and each run of days without valid evidence is a lapse interval.

The period is observed up to its end, or up to the report's "as of" day: the report day
itself counts once a run was stored on it, otherwise only whole days before it count.

Wording: a framework's catalog may name its period reports (`period_term: Type II` in
controls/soc2.yaml); a period report carries that term only when the period covers at least
`TYPE_II_MIN_DAYS` days. That is this tool's labelling convention, stated in the report's
methodology, not a judgement of whether a period suffices for an examination. A framework
without a term (GDPR, ISO/IEC 27001) has plain period reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from auditor.catalog import Control, Framework, manual_states
from auditor.clock import parse_instant
from auditor.errors import UsageError
from auditor.models import Run, iso_z
from auditor.store import Store

TYPE_II_MIN_DAYS = 90


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    term: str = ""  # the framework's name for a long period report (`period_term` of its catalog)

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_before(self) -> datetime:
        """The first instant after the period."""
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC) + timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_type_ii(self) -> bool:
        """Long enough to carry the framework's term ("Type II") by this tool's convention (see module doc)."""
        return bool(self.term) and self.days >= TYPE_II_MIN_DAYS

    @property
    def kind(self) -> str:
        """`Period report, 15 days` or `Type II period report, 120 days`."""
        return f"{self.term + ' period report' if self.is_type_ii else 'Period report'}, {self.days} days"


def parse_period(text: str) -> Period:
    """`START..END` (ISO dates, both inclusive)."""
    parts = text.split("..")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise UsageError(f"--period must look like 2026-01-01..2026-03-31, not {text!r}")
    try:
        start, end = date.fromisoformat(parts[0].strip()), date.fromisoformat(parts[1].strip())
    except ValueError:
        raise UsageError(f"--period {text!r}: dates must be ISO dates (YYYY-MM-DD)") from None
    if end < start:
        raise UsageError(f"--period {text!r}: the end is before the start")
    return Period(start, end)


@dataclass(frozen=True)
class FailureInterval:
    first_run: str
    first_at: datetime
    fixed_run: str | None
    fixed_at: datetime | None
    days_open: float
    failing_before_period: bool  # the last run before the period already failed

    @property
    def open(self) -> bool:
        return self.fixed_run is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_failing_run": self.first_run,
            "first_failing_at": iso_z(self.first_at),
            "fixing_run": self.fixed_run,
            "fixed_at": iso_z(self.fixed_at) if self.fixed_at else None,
            "days_open": self.days_open,
            "open_at_period_end": self.open,
            "failing_before_period": self.failing_before_period,
        }


@dataclass(frozen=True)
class PeriodWaiver:
    check_id: str
    reason: str
    approver: str
    expires: str
    resources: int
    first_seen: str  # date of the first run in the period the waiver applied to
    last_seen: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires,
            "resources": self.resources,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


@dataclass(frozen=True)
class ScheduleGap:
    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "days": self.days}


@dataclass
class ControlPeriod:
    runs: int = 0
    passed: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    intervals: list[FailureInterval] = field(default_factory=list)
    waivers: list[PeriodWaiver] = field(default_factory=list)
    # Manual controls (no automated check) are judged by day (module doc).
    basis: str = "runs"  # runs | days
    days_observed: int = 0
    days_evidenced: int = 0
    lapses: list[ScheduleGap] = field(default_factory=list)

    @property
    def pass_share(self) -> float | None:
        if self.basis == "days":
            return self.days_evidenced / self.days_observed if self.days_observed else None
        return self.passed / self.runs if self.runs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "runs": self.runs,
            "passed": self.passed,
            "days_observed": self.days_observed if self.basis == "days" else None,
            "days_evidenced": self.days_evidenced if self.basis == "days" else None,
            "pass_share": round(self.pass_share, 4) if self.pass_share is not None else None,
            "status_counts": dict(self.status_counts),
            "failure_intervals": [i.to_dict() for i in self.intervals],
            "evidence_lapses": [g.to_dict() for g in self.lapses],
            "waivers": [w.to_dict() for w in self.waivers],
        }


@dataclass
class PeriodAnalysis:
    period: Period
    runs: list[Run]
    gaps: list[ScheduleGap]
    observed_until: date  # gaps are counted up to here (period end, or the as-of day)
    controls: dict[str, ControlPeriod]

    @property
    def days_without_run(self) -> int:
        return sum(g.days for g in self.gaps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": {
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "days": self.period.days,
                "kind": self.period.kind,
            },
            "runs": [{"id": r.id, "started_at": iso_z(r.started_at), "status": str(r.status)} for r in self.runs],
            "observed_until": self.observed_until.isoformat(),
            "days_without_run": self.days_without_run,
            "schedule_gaps": [g.to_dict() for g in self.gaps],
            "controls": {cid: c.to_dict() for cid, c in self.controls.items()},
        }


def schedule_gaps(run_days: set[date], start: date, until: date) -> list[ScheduleGap]:
    """Maximal ranges of days in [start, until] on which no run started."""
    gaps: list[ScheduleGap] = []
    day = start
    gap_start: date | None = None
    while day <= until:
        if day in run_days:
            if gap_start is not None:
                gaps.append(ScheduleGap(gap_start, day - timedelta(days=1)))
                gap_start = None
        elif gap_start is None:
            gap_start = day
        day += timedelta(days=1)
    if gap_start is not None:
        gaps.append(ScheduleGap(gap_start, until))
    return gaps


def _days(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 86400, 1)


def failure_intervals(
    statuses: list[tuple[Run, str]], failing_before: bool, closes_at: datetime
) -> list[FailureInterval]:
    """Intervals of FAIL runs, each closed by the first later PASS run (see module doc)."""
    out: list[FailureInterval] = []
    current: tuple[Run, bool] | None = None
    for index, (run, status) in enumerate(statuses):
        if status == "FAIL" and current is None:
            current = (run, failing_before and index == 0)
        elif status == "PASS" and current is not None:
            first, before = current
            out.append(
                FailureInterval(
                    first.id, first.started_at, run.id, run.started_at, _days(first.started_at, run.started_at), before
                )
            )
            current = None
    if current is not None:
        first, before = current
        out.append(FailureInterval(first.id, first.started_at, None, None, _days(first.started_at, closes_at), before))
    return out


def analyse_period(store: Store, framework: Framework, period: Period, as_of: datetime) -> PeriodAnalysis:
    runs = [
        r
        for r in store.stored_runs_between(period.start_at, period.end_before)
        if (framework.id in r.frameworks or not r.frameworks) and r.started_at <= as_of
    ]
    statuses = store.control_statuses(framework.id, [r.id for r in runs])
    runs = [r for r in runs if statuses.get(r.id)]  # runs that evaluated this framework
    before_status: dict[str, str] = {}
    for prior in reversed(store.stored_runs_between(None, period.start_at)):
        st = store.control_statuses(framework.id, [prior.id]).get(prior.id) or {}
        if st:
            before_status = st
            break
    observed_until = observed_until_day(period, as_of, runs)
    closes_at = min(period.end_before, as_of)
    evidence = manual_evidence_entries(store, framework.id, as_of)
    controls: dict[str, ControlPeriod] = {}
    for control in framework.controls:
        seq = [(r, statuses[r.id].get(control.id, "NOT_TESTED")) for r in runs]
        cp = ControlPeriod(runs=len(seq), passed=sum(1 for _, s in seq if s == "PASS"))
        for _, s in seq:
            cp.status_counts[s] = cp.status_counts.get(s, 0) + 1
        if control.automated:
            cp.intervals = failure_intervals(seq, before_status.get(control.id) == "FAIL", closes_at)
        else:
            evidenced = evidenced_days(control, evidence.get(control.ref, []), period.start, observed_until)
            cp.basis = "days"
            cp.days_observed = max(0, (observed_until - period.start).days + 1)
            cp.days_evidenced = len(evidenced)
            cp.lapses = schedule_gaps(evidenced, period.start, observed_until)
        controls[control.id] = cp
    if runs:
        _attach_waivers(store, framework, runs, controls)
    gaps = schedule_gaps({r.started_at.date() for r in runs}, period.start, observed_until)
    return PeriodAnalysis(period=period, runs=runs, gaps=gaps, observed_until=observed_until, controls=controls)


def observed_until_day(period: Period, as_of: datetime, runs: list[Run]) -> date:
    """The last day of the period the report speaks for: the period end, or the last whole day
    before the report, or the report day itself when a run was stored on it."""
    until = as_of.date() - timedelta(days=1)
    last_run_day = max((r.started_at.date() for r in runs), default=None)
    if last_run_day is not None and last_run_day > until:
        until = min(last_run_day, as_of.date())
    return min(period.end, until)


@dataclass(frozen=True)
class EvidenceEntry:
    item: str | None
    added_at: datetime
    expires_at: datetime | None


def manual_evidence_entries(store: Store, framework: str, as_of: datetime) -> dict[str, list[EvidenceEntry]]:
    """Stored manual evidence per control ref, as it stood at `as_of` (later additions left out)."""
    out: dict[str, list[EvidenceEntry]] = {}
    for row in store.list_manual_evidence(framework):
        added = parse_instant(row["added_at"])
        if added > as_of:
            continue
        expires = parse_instant(row["expires_at"]) if row["expires_at"] else None
        out.setdefault(f"{row['framework']}:{row['control_id']}", []).append(
            EvidenceEntry(row.get("item"), added, expires)
        )
    return out


def evidenced_days(control: Control, entries: list[EvidenceEntry], start: date, until: date) -> set[date]:
    """Days in [start, until] on which, for the whole day, unexpired evidence covered every
    item the control expects (the roll-up's rule, `ManualEvidenceState.covers`)."""
    days: set[date] = set()
    day = start
    while day <= until:
        begins = datetime(day.year, day.month, day.day, tzinfo=UTC)
        ends = begins + timedelta(days=1)
        in_force = [
            (control.ref, e.item, e.expires_at)
            for e in entries
            if e.added_at <= begins and (e.expires_at is None or e.expires_at >= ends)
        ]
        state = manual_states(in_force, begins).get(control.ref)
        if state is not None and state.covers(control):
            days.add(day)
        day += timedelta(days=1)
    return days


def _attach_waivers(store: Store, framework: Framework, runs: list[Run], controls: dict[str, ControlPeriod]) -> None:
    obs_of = store.run_sequences()
    run_obs = sorted(obs_of[r.id] for r in runs if r.id in obs_of)
    if not run_obs:
        return
    by_obs = {obs_of[r.id]: r for r in runs if r.id in obs_of}
    grouped: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    prefix = framework.id + ":"
    for row in store.waived_observations(run_obs[0], run_obs[-1]):
        hit = [s for s in run_obs if row["from_seq"] <= s <= row["to_seq"]]
        if not hit:
            continue
        w = row["waiver"] or {}
        for ref in row["controls"]:
            if not ref.startswith(prefix):
                continue
            cid = ref[len(prefix) :]
            key = (
                cid,
                row["check_id"],
                str(w.get("reason", "")),
                str(w.get("approver", "")),
                str(w.get("expires") or w.get("expires_at") or ""),
            )
            g = grouped.setdefault(key, {"resources": set(), "first": hit[0], "last": hit[-1]})
            g["resources"].add(row["resource_id"])
            g["first"] = min(g["first"], hit[0])
            g["last"] = max(g["last"], hit[-1])
    for (cid, check_id, reason, approver, expires), g in sorted(grouped.items()):
        if cid not in controls:
            continue
        controls[cid].waivers.append(
            PeriodWaiver(
                check_id=check_id,
                reason=reason,
                approver=approver,
                expires=expires,
                resources=len(g["resources"]),
                first_seen=by_obs[g["first"]].started_at.date().isoformat(),
                last_seen=by_obs[g["last"]].started_at.date().isoformat(),
            )
        )
