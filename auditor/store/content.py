"""What the store writes, as content: the stored JSON encoding and content addresses.

`texts` rows are stored once per content hash; each observation interval carries the content
hash of its details (`details_hash`). `auditor db check` recomputes both from the stored
columns, so the functions here define the stored format.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# An open observation interval (the finding is still seen in the newest stored run) ends here.
OPEN_SEQ = 1 << 62


def content_hash(text: str) -> str:
    """Content address: 128 bits of SHA-256 are plenty to tell evidence apart."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def text_hash(title: str, remediation: str, controls: str) -> str:
    """Content address of what a check's findings share: title, remediation, controls (`texts`)."""
    return content_hash(f"{title}\x1f{remediation}\x1f{controls}")


def details_hash(
    text: str,
    message: str,
    waiver: str | None,
    line: int | None,
    end_line: int | None,
    target: str | None,
    evidence: str,
) -> str:
    """Content hash of an observation's details (its columns as stored; `db check` recomputes it)."""
    # An f-string gives the same text as "\x1f".join(map(str, ...)), in a third of the time.
    return content_hash(f"{text}\x1f{message}\x1f{waiver}\x1f{line}\x1f{end_line}\x1f{target}\x1f{evidence}")


# One encoder for every stored JSON text (json.dumps with options builds a new one per call).
# Same output as `Finding.evidence_json`.
dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode
# The same output for a dict or list, without building an encoder per call (JSONEncoder.encode
# does): half the time per finding's evidence. No circular-reference check (evidence is data).
_iterencode = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, str, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
) if json.encoder.c_make_encoder is not None else None  # type: ignore[attr-defined]


def dumps_data(value: Any) -> str:
    if _iterencode is None or not isinstance(value, dict | list):
        return dumps(value)
    return "".join(_iterencode(value, 0))

