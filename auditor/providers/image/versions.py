"""Version ordering for the package ecosystems found in images, plugged into auditor.vulndb.

All of it comes from one maintained library, `univers` (see auditor/vulndb/ecosystems.py):

- Debian and Ubuntu: dpkg ordering (epochs, `~` sorting before everything, letters before
  other characters): univers' `DebianVersion`;
- Alpine: apk-tools ordering (`_alpha < _beta < _pre < _rc < (none) < _p`, `-rN`):
  univers' `AlpineLinuxVersion`;
- RPM distributions (Red Hat, AlmaLinux, Rocky Linux, SUSE, ...): rpmvercmp through
  univers' `RpmVersion`, built into auditor.vulndb;
- PyPI: PEP 440 through `packaging`, built into auditor.vulndb.

`register_image_schemes()` registers Debian, Ubuntu and Alpine with auditor.vulndb; it is
idempotent and called by the image provider before matching (never at import time).
Names are compared as written: Debian and Alpine package names are already lowercase,
so the schemes' name normalisation is the identity (the same as an unregistered import).
"""

from __future__ import annotations

import re
from typing import Any

from auditor.vulndb.ecosystems import UniversScheme, parse_alpine, parse_debian

# dpkg: an upstream version starts with a digit; univers is more lenient than dpkg here.
_DPKG_VALID = re.compile(r"^(?:\d+:)?[0-9][A-Za-z0-9.+~:-]*$")
# apk-tools: numbers, an optional letter, suffixes, an optional `~hash`, `-rN`.
_APK_VALID = re.compile(
    r"^\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(?:~[0-9a-f]+)?(?:-r\d+)?$"
)


def parse_dpkg(version: str) -> Any | None:
    """A totally ordered dpkg version, or None when `version` is not a valid Debian version."""
    v = version.strip()
    if not _DPKG_VALID.match(v):
        return None
    return parse_debian(v)


def parse_apk(version: str) -> Any | None:
    """A totally ordered apk version, or None when `version` is not a valid Alpine version."""
    v = version.strip()
    if not _APK_VALID.match(v):
        return None
    return parse_alpine(v)


def _compare(parse: Any, what: str, a: str, b: str) -> int:
    va, vb = parse(a), parse(b)
    if va is None or vb is None:
        raise ValueError(f"not {what} version: {a if va is None else b!r}")
    return int(va > vb) - int(va < vb)


def compare_dpkg(a: str, b: str) -> int:
    return _compare(parse_dpkg, "a dpkg", a, b)


def compare_apk(a: str, b: str) -> int:
    return _compare(parse_apk, "an apk", a, b)


def register_image_schemes() -> None:
    from auditor.vulndb import register_scheme

    debian = UniversScheme(parse_dpkg)
    register_scheme("Debian", debian)
    register_scheme("Ubuntu", debian)
    register_scheme("Alpine", UniversScheme(parse_apk))
