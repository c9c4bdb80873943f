"""Version ordering for the package ecosystems found in images, plugged into auditor.vulndb.

- Debian and Ubuntu: dpkg ordering (epochs, `~` sorting before everything, letters before
  other characters) through python-debian's `Version`, the Debian project's own library.
- Alpine: apk-tools ordering, implemented here (no maintained Python library exists):
  dot-separated numbers, an optional letter, suffixes `_alpha < _beta < _pre < _rc <
  (none) < _cvs < _svn < _git < _hg < _p` each with an optional number, then `-rN`.
- PyPI: PEP 440 through `packaging`, already built into auditor.vulndb.

`register_image_schemes()` registers Debian, Ubuntu and Alpine with auditor.vulndb; it is
idempotent and called by the image provider before matching (never at import time).
Names are compared as written: Debian and Alpine package names are already lowercase,
so the schemes' name normalisation is the identity (the same as an unregistered import).
"""

from __future__ import annotations

import re
from functools import lru_cache, total_ordering
from typing import Any

from debian.debian_support import Version as DebianVersion

_DPKG_VALID = re.compile(r"^(?:\d+:)?[0-9][A-Za-z0-9.+~:-]*$|^(?:\d+:)?[0-9]$")


@lru_cache(maxsize=131072)
def parse_dpkg(version: str) -> DebianVersion | None:
    """A totally ordered dpkg version, or None when `version` is not a valid Debian version."""
    v = version.strip()
    if not v or not _DPKG_VALID.match(v):
        return None
    try:
        return DebianVersion(v)
    except ValueError:
        return None


def compare_dpkg(a: str, b: str) -> int:
    va, vb = parse_dpkg(a), parse_dpkg(b)
    if va is None or vb is None:
        raise ValueError(f"not a dpkg version: {a if va is None else b!r}")
    return (va > vb) - (va < vb)


_APK = re.compile(
    r"^(?P<nums>\d+(?:\.\d+)*)(?P<letter>[a-z])?(?P<suffixes>(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)"
    r"(?:~[0-9a-f]+)?(?:-r(?P<rev>\d+))?$"
)
_APK_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")
_SUFFIX_RANK = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_NO_SUFFIX = (4, 0)


@total_ordering
class ApkVersion:
    """An apk-tools version as a sortable key."""

    __slots__ = ("key", "text")

    def __init__(self, text: str, key: tuple[Any, ...]) -> None:
        self.text = text
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApkVersion) and self.key == other.key

    def __lt__(self, other: ApkVersion) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"ApkVersion({self.text!r})"


@lru_cache(maxsize=131072)
def parse_apk(version: str) -> ApkVersion | None:
    m = _APK.match(version.strip())
    if not m:
        return None
    nums = tuple(int(n) for n in m.group("nums").split("."))
    letter = ord(m.group("letter")) if m.group("letter") else 0
    suffixes = tuple(
        (_SUFFIX_RANK[name], int(num) if num else 0) for name, num in _APK_SUFFIX.findall(m.group("suffixes") or "")
    )
    # A version without (more) suffixes sorts as the "release" rank: after _rc, before _p.
    key = (nums, letter, (*suffixes, _NO_SUFFIX), int(m.group("rev") or 0))
    return ApkVersion(version, key)


def compare_apk(a: str, b: str) -> int:
    va, vb = parse_apk(a), parse_apk(b)
    if va is None or vb is None:
        raise ValueError(f"not an apk version: {a if va is None else b!r}")
    return (va > vb) - (va < vb)


class DebianScheme:
    """dpkg ordering for the OSV `Debian` and `Ubuntu` ecosystems."""

    def normalise_name(self, name: str) -> str:
        return name

    def parse(self, version: str) -> DebianVersion | None:
        return parse_dpkg(version)


class AlpineScheme:
    """apk-tools ordering for the OSV `Alpine` ecosystem."""

    def normalise_name(self, name: str) -> str:
        return name

    def parse(self, version: str) -> ApkVersion | None:
        return parse_apk(version)


def register_image_schemes() -> None:
    from auditor.vulndb import register_scheme

    register_scheme("Debian", DebianScheme())
    register_scheme("Ubuntu", DebianScheme())
    register_scheme("Alpine", AlpineScheme())
