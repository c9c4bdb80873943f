"""Small helpers shared by the check modules: dates, ARNs, policy statements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from auditor.providers.aws.collect import decode_policy_document

PUBLIC_CIDRS = ("0.0.0.0/0", "::/0")


def parse_time(value: Any) -> datetime | None:
    """A credential-report or API date; None for N/A, no_information, not_supported."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value or not value[0].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_days(then: datetime, now: datetime) -> int:
    return int((now - then).total_seconds() // 86400)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def statements(document: Any) -> list[dict[str, Any]]:
    doc = decode_policy_document(document)
    if not isinstance(doc, dict):
        return []
    st = doc.get("Statement") or []
    if isinstance(st, dict):
        st = [st]
    return [s for s in st if isinstance(s, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def grants_full_admin(document: Any) -> bool:
    """An Allow of every action on every resource."""
    for s in statements(document):
        if s.get("Effect") != "Allow" or "NotAction" in s:
            continue
        if "*" in as_list(s.get("Action")) and "*" in as_list(s.get("Resource")):
            return True
    return False


def principal_is_public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(v == "*" or (isinstance(v, list) and "*" in v) for v in principal.values())
    return False
