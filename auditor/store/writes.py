"""Writing runs: begin, save (observation intervals, lifecycle, control results), fail."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from auditor.errors import StoreError
from auditor.models import CheckInfo, ControlResult, Coverage, Finding, Run, RunStatus, Status, iso_z
from auditor.redact import redact_text
from auditor.store.content import OPEN_SEQ, content_hash, dumps, dumps_data, text_hash
from auditor.store.core import StoreCore


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WritesMixin(StoreCore):
    """Run lifecycle: `begin_run`, `save_run` (one transaction), `fail_run`."""

    # Writing runs ---------------------------------------------------------------------

    def begin_run(self, run: Run, providers: Sequence[str], organisation: str = "") -> None:
        with self.write_transaction():
            self._fail_abandoned_runs()
            self.db.execute(
                """INSERT INTO runs (id, started_at, status, scanner_version, organisation, targets,
                                     frameworks, providers, pid, host)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    run.id,
                    iso_z(run.started_at),
                    RunStatus.RUNNING.value,
                    run.scanner_version,
                    redact_text(organisation),
                    dumps([redact_text(t) for t in run.targets]),
                    dumps(list(run.frameworks)),
                    dumps(list(providers)),
                    os.getpid(),
                    socket.gethostname(),
                ],
            )

    def _fail_abandoned_runs(self) -> None:
        host = socket.gethostname()
        rows = self.db.execute("SELECT id, pid, host FROM runs WHERE status = 'running'").fetchall()
        for run_id, pid, run_host in rows:
            if run_host == host and pid and not _pid_alive(pid):
                self.db.execute(
                    "UPDATE runs SET status='failed', error='the scanning process ended before the run was saved' "
                    "WHERE id = ?",
                    [run_id],
                )

    def fail_run(self, run_id: str, error: str, finished_at: datetime) -> None:
        with self.write_transaction():
            self.db.execute(
                "UPDATE runs SET status='failed', error=?, finished_at=? WHERE id=? AND status='running'",
                [redact_text(error)[:2000], iso_z(finished_at), run_id],
            )

    def save_run(
        self,
        run_id: str,
        findings: Iterable[Finding],
        control_results: Iterable[ControlResult],
        status: RunStatus,
        finished_at: datetime,
        summary: dict[str, Any],
        checks: Iterable[CheckInfo] = (),
        coverage: Iterable[Coverage] = (),
        catalog: str | None = None,
    ) -> Run:
        """Write a finished run's findings, control results, coverage and status atomically.

        `catalog` is the catalog in force (JSON text, see `catalog.catalog_document`): it is
        stored once per content hash and the run points at it.
        """
        findings = list(findings)
        control_results = list(control_results)
        checks = list(checks)
        cov = list(coverage)
        # This write inserts content rows before the rows that refer to them, so the
        # per-row foreign-key lookups only cost time (about a third of the ingest);
        # `auditor db check` verifies the references with PRAGMA foreign_key_check.
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            return self._save_run(
                run_id, findings, control_results, status, finished_at, summary, checks, cov, catalog
            )
        finally:
            self.db.execute("PRAGMA foreign_keys=ON")

    def _save_run(
        self,
        run_id: str,
        findings: list[Finding],
        control_results: list[ControlResult],
        status: RunStatus,
        finished_at: datetime,
        summary: dict[str, Any],
        checks: list[CheckInfo],
        coverage: list[Coverage],
        catalog: str | None,
    ) -> Run:
        with self.write_transaction():
            row = self.db.execute("SELECT seq, started_at, status FROM runs WHERE id=?", [run_id]).fetchone()
            if row is None:
                raise StoreError(f"run {run_id} was not started in this database")
            if row[2] != RunStatus.RUNNING.value:
                raise StoreError(f"run {run_id} is already {row[2]}")
            prev = self.db.execute("SELECT MAX(obs_seq) FROM runs").fetchone()[0] or 0
            seq = prev + 1
            self._write_observations(run_id, seq, prev, findings, iso_z(finished_at), coverage)
            self._write_control_results(run_id, control_results)
            if checks:
                self._write_checks(checks)
            catalog_hash = None
            if catalog is not None:
                catalog_hash = content_hash(catalog)
                self.db.execute("INSERT OR IGNORE INTO catalogs (hash, body) VALUES (?, ?)", [catalog_hash, catalog])
            self.db.execute(
                "UPDATE runs SET status=?, finished_at=?, summary=?, obs_seq=?, coverage=?, catalog_hash=? WHERE id=?",
                [
                    status.value,
                    iso_z(finished_at),
                    dumps(summary),
                    seq,
                    dumps([c.to_dict() for c in coverage]),
                    catalog_hash,
                    run_id,
                ],
            )
        return self.get_run(run_id)

    def _write_observations(
        self, run_id: str, seq: int, prev: int, findings: list[Finding], when: str, coverage: Sequence[Coverage] = ()
    ) -> None:
        conn = self.db.conn
        # One finding per fingerprint: a duplicate keeps the worse status.
        by_fp: dict[str, Finding] = {}
        for f in findings:
            old = by_fp.get(f.fingerprint)
            if old is None or _status_weight(f.status) > _status_weight(old.status):
                by_fp[f.fingerprint] = f
        # Intervals still open: the findings seen in the newest stored run (`prev`).
        open_rows: dict[str, tuple[int, str, str, str]] = {
            fp: (oid, st, sev, dh)
            for oid, fp, st, sev, dh in conn.execute(
                "SELECT id, fingerprint, status, severity, details_hash FROM observations WHERE last_seq = ?",
                [OPEN_SEQ],
            )
        }
        texts: dict[tuple[str, str, tuple[str, ...]], tuple[str, str]] = {}
        close: list[tuple[int, int]] = []  # (last_seq, observation id)
        new_obs: list[tuple[Any, ...]] = []
        lifecycle: list[tuple[Any, ...]] = []
        # Every finding's content is serialised and hashed (about 2 µs): that is cheaper than
        # any Python-value fingerprint (repr + hash) that would let an unchanged finding skip it.
        encode = dumps_data
        sha256 = hashlib.sha256
        add_obs = new_obs.append
        add_life = lifecycle.append
        for fp, f in by_fp.items():
            res = f.resource
            status, severity, message = f.status, f.severity, f.message
            line, end_line, target = res.line, res.end_line, f.target or None
            key = (f.title, f.remediation, f.controls)
            text = texts.get(key)
            if text is None:
                controls = dumps(list(f.controls))
                text = texts[key] = (text_hash(f.title, f.remediation, controls), controls)
            th = text[0]
            waiver = encode(f.waiver) if f.waiver is not None else None
            ev = encode(f.evidence)
            # details_hash(), inlined: one call fewer per finding.
            dh = sha256(
                f"{th}\x1f{message}\x1f{waiver}\x1f{line}\x1f{end_line}\x1f{target}\x1f{ev}".encode()
            ).hexdigest()[:32]
            hit = open_rows.get(fp)
            if hit is not None:
                if hit[1] == status and hit[2] == severity and hit[3] == dh:
                    continue  # still seen, nothing changed: its open interval covers this run
                close.append((prev, hit[0]))
            # StrEnum members are str
            add_obs((fp, seq, OPEN_SEQ, status, severity, dh, th, message, waiver, line, end_line, target, ev))
            add_life(
                (fp, f.check_id, f.provider, res.id, res.type, res.account, res.region, res.path, run_id, when,
                 status, severity, target)
            )
        vanished = [fp for fp in open_rows if fp not in by_fp]
        close.extend((prev, open_rows[fp][0]) for fp in vanished)
        conn.executemany(
            "INSERT OR IGNORE INTO texts (hash, title, remediation, controls) VALUES (?, ?, ?, ?)",
            [(th, title, remediation, controls) for (title, remediation, _), (th, controls) in texts.items()],
        )
        # Lifecycle. Findings no longer seen get the run they were last seen in; a finding
        # still seen keeps last_seen NULL (= the newest stored run), so an unchanged finding's
        # row is never rewritten.
        if vanished:
            last = conn.execute("SELECT id, finished_at FROM runs WHERE obs_seq = ?", [prev]).fetchone()
            conn.executemany(
                "UPDATE findings SET last_seen_run = ?, last_seen_at = ? WHERE fingerprint = ?",
                [(last[0], last[1], fp) for fp in vanished],
            )
        # New fingerprints are inserted; changed ones move status, reopen or resolve.
        conn.executemany(
            """INSERT INTO findings (fingerprint, check_id, provider, resource_id, resource_type, account, region,
                                     path, first_seen_run, first_seen_at, last_seen_run, last_seen_at, status,
                                     severity, resolved_run, resolved_at, target)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL, NULL, ?)
               ON CONFLICT(fingerprint) DO UPDATE SET
                 last_seen_run = NULL,
                 last_seen_at = NULL,
                 severity = excluded.severity,
                 target = excluded.target,
                 resolved_run = CASE
                   WHEN excluded.status IN ('FAIL', 'WAIVED') THEN NULL
                   WHEN findings.status IN ('FAIL', 'WAIVED') AND findings.resolved_run IS NULL
                        AND excluded.status = 'PASS' THEN excluded.first_seen_run
                   ELSE findings.resolved_run END,
                 resolved_at = CASE
                   WHEN excluded.status IN ('FAIL', 'WAIVED') THEN NULL
                   WHEN findings.status IN ('FAIL', 'WAIVED') AND findings.resolved_run IS NULL
                        AND excluded.status = 'PASS' THEN excluded.first_seen_at
                   ELSE findings.resolved_at END,
                 status = excluded.status""",
            sorted(lifecycle, key=itemgetter(0)),  # in key order (fingerprint): B-tree appends, no page splits
        )
        # Failing findings that this run no longer reports (last_seen set) are resolved, but
        # only where this run looked again: it covered the finding's target and the check did
        # not end in ERROR there. Anything else stays open ("not re-checked").
        by_target = {c.target: c for c in coverage}
        providers_json, targets = self.db.execute("SELECT providers, targets FROM runs WHERE id=?", [run_id]).fetchone()
        providers = json.loads(providers_json or "[]")
        if providers:
            # Findings stored without a target (older runs, providers that name none): the
            # same provider scanning exactly the same targets again.
            conn.execute(
                """UPDATE findings SET resolved_run = ?, resolved_at = ?
                    WHERE status IN ('FAIL', 'WAIVED') AND resolved_run IS NULL
                      AND target IS NULL AND provider IN (SELECT value FROM json_each(?))
                      AND last_seen_run IN (SELECT id FROM runs WHERE targets = ?)""",
                [run_id, when, providers_json, targets],
            )
        if by_target:
            candidates = conn.execute(
                """SELECT fingerprint, check_id, target FROM findings
                    WHERE status IN ('FAIL', 'WAIVED') AND resolved_run IS NULL AND last_seen_run IS NOT NULL
                      AND target IS NOT NULL"""
            ).fetchall()
            resolved = [
                (run_id, when, fp)
                for fp, check_id, target in candidates
                if (cov := by_target.get(target)) is not None and cov.covers(check_id)
            ]
            conn.executemany(
                "UPDATE findings SET resolved_run = ?, resolved_at = ? WHERE fingerprint = ?", resolved
            )
        # Observation intervals: close the changed and the vanished, open new ones.
        conn.executemany("UPDATE observations SET last_seq = ? WHERE id = ?", close)
        conn.executemany(
            "INSERT INTO observations (fingerprint, first_seq, last_seq, status, severity, details_hash, text_hash, "
            "message, waiver, line, end_line, target, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            new_obs,
        )

    def _write_control_results(self, run_id: str, results: list[ControlResult]) -> None:
        self.db.conn.executemany(
            "INSERT INTO control_results (run_id, framework, control_id, status, pass, fail, error, skipped, waived) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    r.framework,
                    r.control_id,
                    r.status.value,
                    r.counts.get("PASS", 0),
                    r.counts.get("FAIL", 0),
                    r.counts.get("ERROR", 0),
                    r.counts.get("SKIPPED", 0),
                    r.counts.get("WAIVED", 0),
                )
                for r in results
            ],
        )

    def _write_checks(self, checks: list[CheckInfo]) -> None:
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO checks (id, title, severity, provider, description, risk, remediation, "
            "resource_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (c.id, c.title, c.severity.value, c.provider, c.description, c.risk, c.remediation, c.resource_type)
                for c in checks
            ],
        )


def _status_weight(status: Status) -> int:
    return {Status.FAIL: 4, Status.ERROR: 3, Status.WAIVED: 2, Status.PASS: 1, Status.SKIPPED: 0}[status]


