"""`nosemgrep` comments, recognised the way semgrep 1.185.0 recognises them.

semgrep is run with `--disable-nosem`, so a match under a `nosemgrep` comment is reported
like any other (measured on 1.185.0: `extra.is_ignored` is not set either way, and without
`--disable-nosem` such matches are dropped without a trace). This module decides which
reported matches the comment would have suppressed, with semgrep's own rules
(src/reporting/Nosemgrep.ml):

- on the match's first line: ` nosem` or ` nosemgrep` (case-insensitive, after a space),
  optionally followed by `:` or `=` and a comma-separated list of rule ids;
- or on the line before: the same, alone on its line (no letter or digit before it);
- without ids the comment suppresses every rule; with ids, only a rule whose id ends
  with one of them (the first word of each comma-separated item).

A test runs real semgrep with and without `--disable-nosem` over the same files and
checks that this module suppresses exactly what semgrep drops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDS = r"(?:[:=][\s]?(?P<ids>(?:[^,\s](?:[,\s]+)?)+))?"
NOSEM_INLINE = re.compile(r" nosem(?:grep)?" + _IDS, re.IGNORECASE)
NOSEM_PREVIOUS_LINE = re.compile(r"^[^a-zA-Z0-9]* *nosem(?:grep)?" + _IDS, re.IGNORECASE)
_MARKER = re.compile(r"nosem(?:grep)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Nosem:
    """A `nosemgrep` comment that suppresses a match."""

    comment: str  # from `nosemgrep` to the end of its line
    reason: str  # the free text after the marker and the rule ids
    line: int  # 1-based line of the comment


def _ids(match: re.Match[str]) -> list[tuple[str, str]] | None:
    """(id, free text after it) per comma-separated item; None when the comment names no id."""
    raw = match.group("ids")
    if raw is None:
        return None
    out = []
    for item in raw.split(","):
        item = item.strip(" ")
        first, _, rest = item.partition(" ")
        out.append((first.strip('"'), rest))
    return out


def _rule_matches(rule_id: str, given: str) -> bool:
    """semgrep's Rule_ID.ends_with: the id itself or a dotted suffix of it."""
    return bool(given) and (rule_id == given or rule_id.endswith("." + given))


def find_nosem(rule_id: str, lines: list[str], line: int) -> Nosem | None:
    """The `nosemgrep` comment that suppresses a match of `rule_id` starting at `line` (1-based).

    `lines` are the file's lines without line endings.
    """
    candidates: list[tuple[int, re.Match[str]]] = []
    if 1 <= line <= len(lines):
        candidates += [(line, m) for m in NOSEM_INLINE.finditer(lines[line - 1])]
    if 2 <= line <= len(lines) + 1:
        m = NOSEM_PREVIOUS_LINE.search(lines[line - 2])
        if m is not None:
            candidates.append((line - 1, m))
    if not candidates:
        return None
    named = [(n, m, _ids(m)) for n, m in candidates]
    if all(ids is None for _, _, ids in named):
        n, m, _ = named[0]
        return _nosem(lines[n - 1], m, n, None)
    for n, m, ids in named:
        if ids and any(_rule_matches(rule_id, i) for i, _ in ids):
            return _nosem(lines[n - 1], m, n, ids)
    return None


def _nosem(text: str, m: re.Match[str], line: int, ids: list[tuple[str, str]] | None) -> Nosem:
    marker = _MARKER.search(text, m.start())
    start = marker.start() if marker else m.start()
    comment = text[start:].strip()
    after = marker.end() if marker else m.end()
    reason = text[after:] if ids is None else " ".join(rest for _, rest in ids)
    return Nosem(comment=comment, reason=reason.strip(" \t-\u2013\u2014:;,."), line=line)
