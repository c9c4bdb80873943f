"""Last line of defence against secret values in evidence, messages and outputs.

Providers must never put a secret value into a finding. This pass runs over every
finding before it is stored or printed and masks what still looks like one: values of
keys named like credentials, and well-known credential formats inside any string.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***REDACTED***"

_SECRET_KEY = re.compile(
    r"(?i)(^|[_\-.])(password|passwd|pwd|secret|secret[_-]?value|token|api[_-]?key|private[_-]?key|"
    r"access[_-]?key[_-]?secret|secret[_-]?access[_-]?key|client[_-]?secret|credential|auth)$"
)
_SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?<![A-Za-z0-9/+=])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"
    r"|gh[pousr]_[A-Za-z0-9]{36,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|(?i:(?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)['\"]?[^\s'\",;]{4,}",
    re.DOTALL,
)


def redact_text(text: str) -> str:
    if not text:
        return text
    return _SECRET_VALUE.sub(REDACTED, text)


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of a JSON-like value with secret-looking content masked."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if key is not None and _SECRET_KEY.search(key) and value:
            return REDACTED
        return redact_text(value)
    return value
