"""The one clock. Ages, expiries and run timestamps read it, so tests can set "now".

`AUDITOR_NOW` (an ISO-8601 timestamp) fixes the clock for a whole process: the test
suite and the demo use it to place runs on past days.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from auditor.errors import ConfigError, InputError


def parse_instant(text: str) -> datetime:
    """Parse an ISO date or timestamp; naive values are UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"not an ISO-8601 date or time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utcnow() -> datetime:
    fixed = os.environ.get("AUDITOR_NOW")
    if fixed:
        return parse_instant(fixed)
    return datetime.now(UTC)


def as_utc_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def parse_date_value(value: object, label: str) -> date:
    """A YAML date, datetime or ISO text as a date; InputError naming `label` otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{label} {str(value)[:40]!r} is not a date (use YYYY-MM-DD)")
