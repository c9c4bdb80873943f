"""Read queries for the web dashboard (`auditor serve`): paged finding search, one finding's
stored details, filter choices. Read-only, like `history`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from auditor.store.core import StoreCore


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


class DashboardMixin(StoreCore):
    """Queries the dashboard pages need beyond `history`."""

    def search_findings(
        self, obs_seq: int, flt: FindingFilter, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """(matching count, one page of rows) of the findings of the run with `obs_seq`,
        ordered like `findings_for_run` (check, resource)."""
        where = ["o.first_seq <= :s", "o.last_seq >= :s"]
        params: dict[str, Any] = {"s": obs_seq}
        if flt.provider:
            where.append("f.provider = :provider")
            params["provider"] = flt.provider
        if flt.severity:
            where.append("o.severity = :severity")
            params["severity"] = flt.severity
        if flt.status:
            where.append("o.status = :status")
            params["status"] = flt.status
        if flt.control:
            where.append("EXISTS (SELECT 1 FROM json_each(t.controls) WHERE value = :control)")
            params["control"] = flt.control
        if flt.resource:
            where.append("f.resource_id LIKE :resource ESCAPE '\\'")
            params["resource"] = _like(flt.resource)
        if flt.text:
            where.append(
                "(f.check_id LIKE :text ESCAPE '\\' OR t.title LIKE :text ESCAPE '\\' "
                "OR o.message LIKE :text ESCAPE '\\' OR f.resource_id LIKE :text ESCAPE '\\')"
            )
            params["text"] = _like(flt.text)
        base = f"""FROM observations o
                   JOIN findings f ON f.fingerprint = o.fingerprint
                   JOIN texts t ON t.hash = o.text_hash
                  WHERE {" AND ".join(where)}"""  # only fixed fragments above; values are parameters
        total = int(self.db.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0])
        sql = f"""SELECT o.fingerprint, f.check_id, f.provider, f.resource_id, f.resource_type, o.severity,
                         o.status, o.message, t.title, COALESCE(o.target, f.target) AS target,
                         f.first_seen_at, COALESCE(f.last_seen_at, '') AS last_seen_at, f.resolved_at
                  {base}
                  ORDER BY f.check_id, f.resource_id
                  LIMIT :limit OFFSET :offset"""
        rows = list(self.db.query(sql, {**params, "limit": int(limit), "offset": int(offset)}))
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
        keys = ("fingerprint", "check_id", "provider", "resource_id", "resource_type", "account", "region", "path",
                "status", "severity", "message", "title", "remediation", "controls", "waiver", "line", "end_line",
                "target", "evidence")
        out = dict(zip(keys, row, strict=True))
        out["controls"] = json.loads(out["controls"])
        out["waiver"] = json.loads(out["waiver"]) if out["waiver"] else None
        out["evidence"] = json.loads(out["evidence"])
        return out

    def finding_providers(self) -> list[str]:
        """Every provider that has stored a finding, sorted."""
        return [str(r[0]) for r in self.db.execute("SELECT DISTINCT provider FROM findings ORDER BY provider")]
