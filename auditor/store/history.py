"""History queries: runs, a run's findings, diff, one finding's history, trend, periods, and the
web dashboard's reads (paged finding search, one finding's stored record)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.errors import StoreError
from auditor.models import Finding, Resource, Run, Severity, Status, iso_z
from auditor.store.content import dumps
from auditor.store.core import StoreCore, like_prefix


@dataclass(frozen=True)
class StoredFinding:
    """A finding as stored for one run, with its lifecycle."""

    finding: Finding
    first_seen_at: str
    last_seen_at: str
    resolved_at: str | None


@dataclass(frozen=True)
class FindingChange:
    fingerprint: str
    check_id: str
    resource_id: str
    severity: str
    before: str | None  # status in run A (None: absent)
    after: str | None  # status in run B (None: absent)
    target: str | None = None


@dataclass(frozen=True)
class RunDiff:
    run_a: Run
    run_b: Run
    new: list[FindingChange]
    resolved: list[FindingChange]
    changed: list[FindingChange]
    # Failing in A, and B did not look again: its target was not scanned, or the check
    # ended in ERROR there (a tool missing, data denied). Never counted as resolved.
    not_rechecked: list[FindingChange] = field(default_factory=list)


@dataclass(frozen=True)
class FindingFilter:
    """What the Findings page filters on; empty strings mean "any"."""

    provider: str = ""
    severity: str = ""
    status: str = ""
    control: str = ""  # a control ref as mapped, e.g. "soc2:CC6.1"
    resource: str = ""  # substring of the resource id
    text: str = ""  # substring of check id, title, message or resource id


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class HistoryMixin(StoreCore):
    """Read-only questions about stored runs and findings."""

    # Reading runs ---------------------------------------------------------------------

    def seen_times(self, fingerprints: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """fingerprint -> (first seen, last seen), from the lifecycle table (all when None).

        A finding still seen in the newest stored run has no last_seen of its own: it is
        that run's time.
        """
        newest = self._newest_stored_run()
        now = newest[2] if newest is not None else None
        if fingerprints is None:
            rows = self.db.execute("SELECT fingerprint, first_seen_at, last_seen_at FROM findings")
            return {fp: (first, last or now or first) for fp, first, last in rows}
        # The wanted set is one JSON parameter: no SQL text is built, and no variable limit applies.
        rows = self.db.execute(
            """SELECT fingerprint, first_seen_at, last_seen_at FROM findings
                WHERE fingerprint IN (SELECT value FROM json_each(?))""",
            [dumps(list(fingerprints))],
        )
        return {fp: (first, last or now or first) for fp, first, last in rows}

    def catalog_for_run(self, run_id: str) -> str | None:
        """The catalog in force when the run was scanned (JSON text), None for older runs."""
        row = self.db.execute(
            "SELECT c.body FROM runs r JOIN catalogs c ON c.hash = r.catalog_hash WHERE r.id = ?", [run_id]
        ).fetchone()
        return str(row[0]) if row else None

    def list_runs(self, limit: int | None = None) -> list[tuple[Run, dict[str, Any]]]:
        rows = self.db.query("SELECT * FROM runs ORDER BY seq DESC LIMIT ?", [int(limit) if limit else -1])
        return [(self._run_from_row(r), json.loads(r["summary"]) if r["summary"] else {}) for r in rows]

    def stored_runs(self, count: int) -> list[Run]:
        """The newest `count` runs that hold findings, oldest first."""
        rows = list(
            self.db.query("SELECT * FROM runs WHERE obs_seq IS NOT NULL ORDER BY obs_seq DESC LIMIT ?", [count])
        )
        return [self._run_from_row(r) for r in reversed(rows)]

    def findings_for_run(self, run_id: str) -> list[Finding]:
        """Every finding of one stored run, ordered by check and resource."""
        return list(self.iter_findings_for_run(run_id))

    def control_results(self, run_id: str, framework: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM control_results WHERE run_id = ?"
        params: list[Any] = [run_id]
        if framework:
            sql += " AND framework = ?"
            params.append(framework)
        return list(self.db.query(sql, params))

    # History queries ------------------------------------------------------------------

    def diff(self, a: Run, b: Run) -> RunDiff:
        """New, resolved, changed and not re-checked findings between two stored runs.

        A finding that failed in A is *resolved* in B only when B covered its target and its
        check ran there (no ERROR); when B did not look again it is *not re-checked*.
        """
        sql = """
            WITH ra AS (SELECT fingerprint, status, severity, target FROM observations
                        WHERE first_seq <= :sa AND last_seq >= :sa),
                 rb AS (SELECT fingerprint, status, severity FROM observations
                        WHERE first_seq <= :sb AND last_seq >= :sb),
                 pairs AS (
                    SELECT rb.fingerprint AS fp, ra.status AS sa, rb.status AS sb, rb.severity AS sev,
                           ra.target AS ta
                      FROM rb LEFT JOIN ra ON ra.fingerprint = rb.fingerprint
                    UNION ALL
                    SELECT ra.fingerprint, ra.status, NULL, ra.severity, ra.target
                      FROM ra WHERE ra.fingerprint NOT IN (SELECT fingerprint FROM rb))
            SELECT p.fp, f.check_id, f.resource_id, p.sev, p.sa, p.sb, COALESCE(p.ta, f.target), f.provider
              FROM pairs p JOIN findings f ON f.fingerprint = p.fp
             WHERE p.sa IS NOT p.sb
             ORDER BY f.check_id, f.resource_id
        """
        sa = self._obs_seq(a)
        sb = self._obs_seq(b)
        new, resolved, changed, unchecked = [], [], [], []
        legacy = not b.coverage
        rows = self.db.execute(sql, {"sa": sa, "sb": sb}).fetchall()
        for fp, check_id, resource_id, sev, before, after, target, _provider in rows:
            change = FindingChange(fp, check_id, resource_id, sev, before, after, target)
            if after == "FAIL":
                new.append(change)
            elif before in ("FAIL", "WAIVED") and after in (None, "ERROR"):
                # Gone, or could not be evaluated: resolved only where B looked again.
                if after is None and self._rechecked(b, target, check_id, a, legacy):
                    if before == "FAIL":
                        resolved.append(change)
                else:
                    unchecked.append(change)
            elif before == "FAIL" and after == "PASS":
                resolved.append(change)
            elif before is not None and after is not None:
                changed.append(change)
            # A non-failing finding that appears or disappears is not a change worth showing.
        return RunDiff(a, b, new, resolved, changed, unchecked)

    @staticmethod
    def _rechecked(b: Run, target: str | None, check_id: str, a: Run, legacy: bool) -> bool:
        if legacy or target is None:
            # Runs written before coverage was recorded: the same targets scanned again.
            return bool(b.targets) and b.targets == a.targets
        cov = b.coverage_for(target)
        return cov is not None and cov.covers(check_id)

    def _obs_seq(self, run: Run) -> int:
        row = self.db.execute("SELECT obs_seq FROM runs WHERE id=?", [run.id]).fetchone()
        if not row or row[0] is None:
            raise StoreError(f"run {run.id} holds no findings (status {run.status})")
        return int(row[0])

    def history(self, fingerprint: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A finding's lifecycle row and its status per stored run (one row per status change)."""
        rows = list(self.db.query("SELECT * FROM findings WHERE fingerprint = ?", [fingerprint]))
        if not rows:
            rows = list(
                self.db.query(
                    "SELECT * FROM findings WHERE fingerprint LIKE ? ESCAPE '\\' LIMIT 2", [like_prefix(fingerprint)]
                )
            )
        if not rows:
            raise StoreError(f"no finding with fingerprint {fingerprint!r}")
        if len(rows) > 1:
            raise StoreError(f"fingerprint prefix {fingerprint!r} is ambiguous")
        life = dict(rows[0])
        newest = self._newest_stored_run()
        if life["last_seen_run"] is None and newest is not None:  # still seen in the newest stored run
            life["last_seen_run"], life["last_seen_at"] = newest[1], newest[2]
        top = newest[0] if newest is not None else 0
        sql = """
            SELECT o.first_seq, MIN(o.last_seq, :top) AS last_seq, o.status, o.severity, o.message,
                   (SELECT id FROM runs WHERE obs_seq = o.first_seq) AS first_run,
                   (SELECT started_at FROM runs WHERE obs_seq = o.first_seq) AS first_at,
                   (SELECT id FROM runs WHERE obs_seq = MIN(o.last_seq, :top)) AS last_run,
                   (SELECT started_at FROM runs WHERE obs_seq = MIN(o.last_seq, :top)) AS last_at,
                   (SELECT COUNT(*) FROM runs WHERE obs_seq BETWEEN o.first_seq AND o.last_seq) AS runs
              FROM observations o
             WHERE o.fingerprint = :fp ORDER BY o.first_seq
        """
        return life, list(self.db.query(sql, {"fp": life["fingerprint"], "top": top}))

    def trend(self, framework: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """Per run and control: status and counts, oldest run first."""
        sql = """
            SELECT r.id AS run_id, r.started_at, c.framework, c.control_id, c.status, c.pass, c.fail, c.error
              FROM control_results c JOIN runs r ON r.id = c.run_id
             WHERE (:fw IS NULL OR c.framework = :fw) AND (:since IS NULL OR r.started_at >= :since)
             ORDER BY r.obs_seq, c.framework, c.control_id
        """
        return list(self.db.query(sql, {"fw": framework, "since": iso_z(since) if since else None}))

    # Reports and manual evidence (issue 6) ------------------------------------------------

    def run_context(self, run_id: str) -> dict[str, Any]:
        """Organisation, providers, targets and frameworks recorded for a run."""
        row = self.db.execute(
            "SELECT organisation, providers, targets, frameworks, obs_seq FROM runs WHERE id=?", [run_id]
        ).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in the database (see `auditor runs`)")
        return {
            "organisation": row[0] or "",
            "providers": json.loads(row[1] or "[]"),
            "targets": json.loads(row[2] or "[]"),
            "frameworks": json.loads(row[3] or "[]"),
            "obs_seq": row[4],
        }

    def iter_findings_for_run(self, run_id: str) -> Iterator[Finding]:
        """The findings of one run, streamed (same rows and order as `findings_for_run`)."""
        seq_row = self.db.execute("SELECT obs_seq FROM runs WHERE id=?", [run_id]).fetchone()
        if not seq_row or seq_row[0] is None:
            return
        sql = """
            SELECT o.fingerprint, o.status, o.severity, f.check_id, f.provider, f.resource_id, f.resource_type,
                   f.account, f.region, f.path, t.title, o.message, t.remediation, t.controls, o.waiver, o.line,
                   o.end_line, o.evidence, COALESCE(o.target, f.target)
            FROM observations o
            JOIN findings f ON f.fingerprint = o.fingerprint
            JOIN texts t ON t.hash = o.text_hash
            WHERE o.first_seq <= :s AND o.last_seq >= :s
            ORDER BY f.check_id, f.resource_id
        """
        cursor = self.db.conn.execute(sql, {"s": seq_row[0]})
        while True:
            rows = cursor.fetchmany(2000)
            if not rows:
                return
            for r in rows:
                yield Finding(
                    fingerprint=r[0],
                    status=Status(r[1]),
                    severity=Severity(r[2]),
                    check_id=r[3],
                    provider=r[4],
                    resource=Resource(
                        id=r[5], type=r[6], account=r[7], region=r[8], path=r[9], line=r[15], end_line=r[16]
                    ),
                    title=r[10],
                    message=r[11],
                    remediation=r[12],
                    controls=tuple(json.loads(r[13])),
                    waiver=json.loads(r[14]) if r[14] else None,
                    evidence=json.loads(r[17]),
                    target=r[18] or "",
                )

    def run_sequences(self) -> dict[str, int]:
        """run id -> observation sequence number, for every run that holds findings."""
        return {str(r): int(s) for r, s in self.db.execute("SELECT id, obs_seq FROM runs WHERE obs_seq IS NOT NULL")}

    def stored_checks(self) -> list[dict[str, Any]]:
        """The checks catalog recorded by scans (id, title, severity, provider), by id."""
        return list(self.db.query("SELECT id, title, severity, provider FROM checks ORDER BY id"))

    def stored_runs_between(self, start: datetime | None, end: datetime | None) -> list[Run]:
        """Runs that hold findings and started in [start, end), oldest first (None: open)."""
        rows = self.db.query(
            """SELECT * FROM runs WHERE obs_seq IS NOT NULL
                 AND (:a IS NULL OR started_at >= :a) AND (:b IS NULL OR started_at < :b)
               ORDER BY obs_seq""",
            {"a": iso_z(start) if start else None, "b": iso_z(end) if end else None},
        )
        return [self._run_from_row(r) for r in rows]

    def control_statuses(self, framework: str, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """run id -> control id -> stored control status, for the given runs of one framework."""
        out: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        for rid, cid, status in self.db.execute(
            """SELECT run_id, control_id, status FROM control_results
                WHERE framework = ? AND run_id IN (SELECT value FROM json_each(?))""",
            [framework, dumps(list(run_ids))],
        ):
            out[rid][cid] = status
        return out

    def waived_observations(self, first_seq: int, last_seq: int) -> list[dict[str, Any]]:
        """WAIVED findings observed in any stored run with obs_seq in [first_seq, last_seq]."""
        sql = """
            SELECT f.check_id, f.resource_id, t.controls, o.waiver,
                   MAX(o.first_seq, :a) AS from_seq, MIN(o.last_seq, :b) AS to_seq
              FROM observations o
              JOIN findings f ON f.fingerprint = o.fingerprint
              JOIN texts t ON t.hash = o.text_hash
             WHERE o.status = 'WAIVED' AND o.first_seq <= :b AND o.last_seq >= :a
             ORDER BY f.check_id, f.resource_id, o.first_seq
        """
        return [
            {
                "check_id": r[0],
                "resource_id": r[1],
                "controls": json.loads(r[2]),
                "waiver": json.loads(r[3]) if r[3] else {},
                "from_seq": r[4],
                "to_seq": r[5],
            }
            for r in self.db.execute(sql, {"a": first_seq, "b": last_seq})
        ]

    # Notifications (issue 8) ---------------------------------------------------------------

    def previous_comparable_run(self, run: Run) -> Run | None:
        """The newest stored run before `run` that scanned the same targets (None: first of its kind)."""
        row = self.db.execute("SELECT obs_seq, targets FROM runs WHERE id = ?", [run.id]).fetchone()
        if row is None or row[0] is None:
            return None
        rows = list(
            self.db.query(
                "SELECT * FROM runs WHERE obs_seq IS NOT NULL AND obs_seq < ? AND targets = ? "
                "ORDER BY obs_seq DESC LIMIT 1",
                [row[0], row[1]],
            )
        )
        return self._run_from_row(rows[0]) if rows else None

    # The web dashboard (issue 17: auditor serve) ----------------------------------------------

    def search_findings(
        self, obs_seq: int, flt: FindingFilter, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """(matching count, one page of rows) of the findings of the run with `obs_seq`,
        ordered like `findings_for_run` (check, resource)."""
        # One fixed statement (count and page): an empty filter value matches everything; values are
        # parameters.
        params: dict[str, Any] = {
            "s": obs_seq,
            "provider": flt.provider,
            "severity": flt.severity,
            "status": flt.status,
            "control": flt.control,
            "resource": _like(flt.resource) if flt.resource else "",
            "text": _like(flt.text) if flt.text else "",
        }
        rows = list(
            self.db.query(
                """WITH m AS (
                     SELECT o.fingerprint, f.check_id, f.provider, f.resource_id, f.resource_type, o.severity,
                            o.status, o.message, t.title, COALESCE(o.target, f.target) AS target,
                            f.first_seen_at, COALESCE(f.last_seen_at, '') AS last_seen_at, f.resolved_at
                       FROM observations o
                       JOIN findings f ON f.fingerprint = o.fingerprint
                       JOIN texts t ON t.hash = o.text_hash
                      WHERE o.first_seq <= :s AND o.last_seq >= :s
                        AND (:provider = '' OR f.provider = :provider)
                        AND (:severity = '' OR o.severity = :severity)
                        AND (:status = '' OR o.status = :status)
                        AND (:control = '' OR EXISTS (SELECT 1 FROM json_each(t.controls) WHERE value = :control))
                        AND (:resource = '' OR f.resource_id LIKE :resource ESCAPE '\\')
                        AND (:text = '' OR f.check_id LIKE :text ESCAPE '\\' OR t.title LIKE :text ESCAPE '\\'
                             OR o.message LIKE :text ESCAPE '\\' OR f.resource_id LIKE :text ESCAPE '\\'))
                   SELECT c.total, p.*
                     FROM (SELECT COUNT(*) AS total FROM m) c
                     LEFT JOIN (SELECT * FROM m ORDER BY check_id, resource_id LIMIT :limit OFFSET :offset) p
                   ORDER BY p.check_id, p.resource_id""",
                {**params, "limit": int(limit), "offset": int(offset)},
            )
        )
        total = int(rows[0]["total"]) if rows else 0
        rows = [{k: v for k, v in r.items() if k != "total"} for r in rows if r["fingerprint"] is not None]
        return total, rows

    def finding_record(self, fingerprint: str) -> dict[str, Any] | None:
        """One finding's newest stored observation with everything stored about it: check, resource,
        title, remediation, mapped controls, message, waiver, lines, target and evidence."""
        row = self.db.execute(
            """SELECT f.fingerprint, f.check_id, f.provider, f.resource_id, f.resource_type, f.account, f.region,
                      f.path, o.status, o.severity, o.message, t.title, t.remediation, t.controls, o.waiver,
                      o.line, o.end_line, COALESCE(o.target, f.target), o.evidence
                 FROM findings f
                 JOIN observations o ON o.fingerprint = f.fingerprint
                 JOIN texts t ON t.hash = o.text_hash
                WHERE f.fingerprint = ?
                ORDER BY o.last_seq DESC LIMIT 1""",
            [fingerprint],
        ).fetchone()
        if row is None:
            return None
        keys = (
            "fingerprint",
            "check_id",
            "provider",
            "resource_id",
            "resource_type",
            "account",
            "region",
            "path",
            "status",
            "severity",
            "message",
            "title",
            "remediation",
            "controls",
            "waiver",
            "line",
            "end_line",
            "target",
            "evidence",
        )
        out = dict(zip(keys, row, strict=True))
        out["controls"] = json.loads(out["controls"])
        out["waiver"] = json.loads(out["waiver"]) if out["waiver"] else None
        out["evidence"] = json.loads(out["evidence"])
        return out

    def finding_providers(self) -> list[str]:
        """Every provider that has stored a finding, sorted."""
        return [str(r[0]) for r in self.db.execute("SELECT DISTINCT provider FROM findings ORDER BY provider")]

    def check_status_counts(self, obs_seq: int) -> dict[str, dict[str, int]]:
        """check id -> status -> number of findings, in the run with `obs_seq`."""
        out: dict[str, dict[str, int]] = {}
        for check_id, status, n in self.db.execute(
            """SELECT f.check_id, o.status, COUNT(*) FROM observations o
                 JOIN findings f ON f.fingerprint = o.fingerprint
                WHERE o.first_seq <= :s AND o.last_seq >= :s
                GROUP BY f.check_id, o.status""",
            {"s": obs_seq},
        ):
            out.setdefault(str(check_id), {})[str(status)] = int(n)
        return out
