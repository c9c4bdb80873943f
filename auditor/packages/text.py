"""Line numbers of keys in a text document (display only: a finding's line, never its identity)."""

from __future__ import annotations

import re


def line_index(text: str, pattern: re.Pattern[str]) -> dict[str, int]:
    """The line of the first occurrence of each key the pattern captures (its first group
    that matched), in one linear pass over the text."""
    lines: dict[str, int] = {}
    newlines = 0
    last = 0
    for m in pattern.finditer(text):
        newlines += text.count("\n", last, m.start())
        last = m.start()
        key = next((g for g in m.groups() if g is not None), "")
        lines.setdefault(key, newlines + 1)
    return lines
