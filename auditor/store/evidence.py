"""Manual evidence: files that cover controls no scan can test (content, SHA-256, who, expiry)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from auditor.clock import parse_instant
from auditor.errors import StoreError
from auditor.models import iso_z
from auditor.redact import redact_text
from auditor.store.core import StoreCore


class EvidenceMixin(StoreCore):
    """Manual evidence files."""

    def manual_evidence_expiries(self) -> list[tuple[str, str | None, datetime | None]]:
        """(control ref, evidence item id, expiry) for every manual evidence file on file."""
        return [
            (f"{fw}:{cid}", item, parse_instant(exp) if exp else None)
            for fw, cid, item, exp in self.db.execute(
                "SELECT framework, control_id, item, expires_at FROM manual_evidence"
            )
        ]

    def add_manual_evidence(
        self,
        framework: str,
        control_id: str,
        filename: str,
        content: bytes,
        owner: str,
        note: str,
        added_at: datetime,
        expires_at: datetime | None,
        item: str | None = None,
        approver: str | None = None,
    ) -> dict[str, Any]:
        """Store one manual evidence file with its SHA-256; returns its row (without content).

        `item` is the id of the expected evidence item (catalog) the file covers.
        """
        digest = hashlib.sha256(content).hexdigest()
        with self.write_transaction():
            cur = self.db.conn.execute(
                """INSERT INTO manual_evidence (framework, control_id, filename, sha256, size, content, owner, note,
                                                added_at, expires_at, item, approver)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    framework,
                    control_id,
                    filename,
                    digest,
                    len(content),
                    content,
                    redact_text(owner),  # free text: a secret typed into a note never reaches the database
                    redact_text(note),
                    iso_z(added_at),
                    iso_z(expires_at) if expires_at else None,
                    item,
                    redact_text(approver) if approver else approver,
                ],
            )
            new_id = cur.lastrowid
        return self.list_manual_evidence(evidence_id=new_id)[0]

    def list_manual_evidence(
        self, framework: str | None = None, evidence_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Manual evidence rows (no file content), by framework and control."""
        sql = """SELECT id, framework, control_id, filename, sha256, size, owner, note, added_at, expires_at,
                        item, approver
                   FROM manual_evidence
                  WHERE (:fw IS NULL OR framework = :fw) AND (:id IS NULL OR id = :id)
                  ORDER BY framework, control_id, id"""
        return list(self.db.query(sql, {"fw": framework, "id": evidence_id}))

    def manual_evidence_content(self, evidence_id: int) -> bytes:
        row = self.db.execute("SELECT content FROM manual_evidence WHERE id = ?", [evidence_id]).fetchone()
        if row is None:
            raise StoreError(f"no manual evidence #{evidence_id}")
        return bytes(row[0])

