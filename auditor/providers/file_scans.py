"""What the file-scanning providers (`iac`, `code`) share.

- Explicit file lists for a tool's command line, cut into chunks by directory when one
  command line would grow past about 1 MB (Linux allows about 2 MB for arguments and
  environment together; a folder's files stay in one chunk so that tools that read a
  folder as a unit, such as Terraform modules in checkov, see it whole).
- The approval syntax of inline suppressions (`#checkov:skip=...`, `# nosemgrep`): an
  inline suppression is honoured as a waiver only when its comment carries
  `approved-by=<who> expires=YYYY-MM-DD` (anywhere in the comment), the expiry has not
  passed and is at most 365 days after the scan. Without that it is a FAIL marked
  "suppressed without approval" (`Finding.suppressed_without_approval`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from auditor.waivers import MAX_WAIVER_DAYS

MAX_COMMAND_LINE_BYTES = 1_000_000

APPROVED_BY = re.compile(r"(?<![\w-])approved-by=(\S*)", re.IGNORECASE)
EXPIRES = re.compile(r"(?<![\w-])expires=(\S*)", re.IGNORECASE)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SEPARATORS = " \t-\u2013\u2014:;,."


def chunk_by_directory(paths: Sequence[str], limit: int | None = None) -> list[list[str]]:
    """`paths` in chunks whose arguments (each path's bytes + 1) stay under `limit`
    (default `MAX_COMMAND_LINE_BYTES`).

    A folder's files are never split across chunks unless that folder alone exceeds the
    limit. Order is kept within and across chunks; an empty list gives no chunk.
    """
    limit = MAX_COMMAND_LINE_BYTES if limit is None else limit
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(os.path.dirname(p), []).append(p)
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for files in groups.values():
        group_size = sum(len(f.encode("utf-8", "surrogateescape")) + 1 for f in files)
        if current and size + group_size > limit:
            chunks.append(current)
            current, size = [], 0
        for f in files:
            n = len(f.encode("utf-8", "surrogateescape")) + 1
            if current and size + n > limit:
                chunks.append(current)
                current, size = [], 0
            current.append(f)
            size += n
    if current:
        chunks.append(current)
    return chunks


@dataclass(frozen=True, slots=True)
class InlineVerdict:
    """What an inline suppression comment amounts to at scan time."""

    approved: bool
    waiver: dict[str, Any]
    problem: str  # why it is not approved ('' when approved)


def _value(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    if m is None:
        return None
    return m.group(1).strip(",;.'\"")


def strip_approval(text: str) -> str:
    """The free text of a comment without its `approved-by=`/`expires=` tokens."""
    text = EXPIRES.sub(" ", APPROVED_BY.sub(" ", text))
    return " ".join(text.split()).strip(SEPARATORS)


def judge_inline_suppression(comment: str, reason: str, today: date) -> InlineVerdict:
    """Approved (a WAIVED finding) or not (a FAIL) for one inline suppression.

    `comment` is the suppression as written (kept as evidence), `reason` its free text.
    """
    approver = _value(APPROVED_BY, comment)
    raw_expiry = _value(EXPIRES, comment)
    reason = strip_approval(reason)
    problem = ""
    expires: date | None = None
    if not approver and raw_expiry is None:
        problem = "no approved-by=<who> expires=YYYY-MM-DD in the comment"
    elif not approver:
        problem = "no approved-by=<who> in the comment"
    elif raw_expiry is None:
        problem = "no expires=YYYY-MM-DD in the comment"
    else:
        try:
            if not ISO_DATE.match(raw_expiry):
                raise ValueError(raw_expiry)
            expires = date.fromisoformat(raw_expiry)
        except ValueError:
            problem = f"expires={raw_expiry} is not a date (YYYY-MM-DD)"
        else:
            if expires < today:
                problem = f"its approval expired on {expires.isoformat()}"
            elif expires > today + timedelta(days=MAX_WAIVER_DAYS):
                problem = (
                    f"its expiry {expires.isoformat()} is more than {MAX_WAIVER_DAYS} days after the scan "
                    f"({today.isoformat()})"
                )
    if problem or expires is None or not approver:
        return InlineVerdict(
            approved=False,
            waiver={"source": "inline", "approved": False, "reason": reason, "comment": comment},
            problem=problem,
        )
    return InlineVerdict(
        approved=True,
        waiver={
            "source": "inline",
            "approved": True,
            "approver": approver,
            "expires": expires.isoformat(),
            "reason": reason,
        },
        problem="",
    )
