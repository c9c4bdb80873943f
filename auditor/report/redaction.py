"""Redaction of identities (resource ids, paths, targets) for reports."""

from __future__ import annotations

import re

from auditor.redact import redact_text

_ID_TOKEN = re.compile(r"[^:/\\\s]+")


def redact_identity(text: str) -> str:
    """Redaction for resource ids and paths: token by token, so that `secret:db-password` (a name
    followed by a colon) is not mistaken for `secret: <value>` while an access key id in a name still is."""
    return _ID_TOKEN.sub(lambda m: redact_text(m.group()), text) if text else text
