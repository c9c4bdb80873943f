"""Database waivers (`auditor waive add`): risk acceptances with approver and expiry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from auditor.models import iso_z
from auditor.redact import redact_text
from auditor.store.core import StoreCore


class WaiversMixin(StoreCore):
    """Waiver rows."""

    # Waivers (issue 7) ----------------------------------------------------------------------

    def add_waiver(
        self,
        check_pattern: str,
        resource_pattern: str,
        reason: str,
        approver: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> dict[str, Any]:
        """Store one risk-acceptance waiver; returns its row."""
        with self.write_transaction():
            cur = self.db.conn.execute(
                "INSERT INTO waivers (check_pattern, resource_pattern, reason, approver, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [check_pattern, resource_pattern, redact_text(reason), redact_text(approver), iso_z(created_at),
                 iso_z(expires_at)],
            )
            new_id = cur.lastrowid
        return self.list_waivers(waiver_id=new_id)[0]

    def list_waivers(self, waiver_id: int | None = None) -> list[dict[str, Any]]:
        """Waiver rows, oldest first."""
        sql = """SELECT id, check_pattern, resource_pattern, reason, approver, created_at, expires_at
                   FROM waivers WHERE (:id IS NULL OR id = :id) ORDER BY id"""
        return list(self.db.query(sql, {"id": waiver_id}))

    def remove_waiver(self, waiver_id: int) -> bool:
        """Delete one waiver; False when there was none with that id."""
        with self.write_transaction():
            cur = self.db.conn.execute("DELETE FROM waivers WHERE id = ?", [waiver_id])
            removed = cur.rowcount > 0
        return removed

