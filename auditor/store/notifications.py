"""The outcome of each notification attempt after a run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from auditor.models import iso_z
from auditor.store.core import StoreCore


class NotificationsMixin(StoreCore):
    """Notification attempts per run."""

    def record_notification(
        self, run_id: str, channel: str, status: str, detail: str, findings: int, at: datetime
    ) -> None:
        """Record one notification attempt (channel: webhook|email; status: sent|failed) on a run."""
        with self.write_transaction():
            self.db.execute(
                "INSERT INTO notifications (run_id, channel, status, detail, findings, at) VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, channel, status, detail[:1000], findings, iso_z(at)],
            )

    def notifications_for_run(self, run_id: str) -> list[dict[str, Any]]:
        """Notification attempts recorded on a run, in order."""
        sql = "SELECT channel, status, detail, findings, at FROM notifications WHERE run_id = ? ORDER BY id"
        return list(self.db.query(sql, [run_id]))


