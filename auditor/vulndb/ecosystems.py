"""Version ordering for every OSV ecosystem auditor matches, through one library: `univers`.

univers (aboutcode.org, the companion of Package URLs) parses and orders versions of
most package ecosystems. Each scheme here parses with univers and turns the parsed
version into a cheap, totally ordered key, cached per version string (`lru_cache`):
matching compares keys thousands of times per second, and univers' own comparison
operators cost several microseconds each (RubyGems ~30 us), while a tuple compares in
well under one.

- npm, crates.io, SwiftURL (and Go through `GolangVersion`): univers `SemverVersion`;
  key = SemVer 2.0 precedence (major, minor, patch, pre-release identifiers), build
  metadata ignored; Go's `v` prefix and `+incompatible` accepted, pseudo-versions
  (`v0.0.0-20200101120000-abcdef123456`) order as the pre-releases they are;
- Maven: univers `MavenVersion` (Maven's ComparableVersion), kept as univers' object:
  alpha < beta < milestone < rc < snapshot < "" = ga = final < sp;
- RubyGems: univers `RubygemsVersion` (Gem::Version); key = its canonical segments
  (a string segment is a pre-release and sorts before any number; 1.0 == 1.0.0);
- Packagist: univers `ComposerVersion` validates; key = (four numbers, stability) with
  dev < alpha < beta < RC < stable < patch as Composer orders them (univers compares
  Composer pre-releases as plain strings: it puts RC1 before alpha1);
- Red Hat, AlmaLinux, Rocky Linux, openSUSE, SUSE, Mageia, openEuler, Photon OS, Azure
  Linux: univers `RpmVersion` splits epoch:version-release; key = rpmvercmp's segments
  (epochs, `~`, `^`, alpha/numeric runs), checked against univers' own comparison;
- Debian, Ubuntu: univers `DebianVersion` (dpkg); Alpine: univers `AlpineLinuxVersion`
  (apk-tools) -- registered by the image provider (auditor/providers/image/versions.py).

OSV has no Amazon Linux ecosystem (ossf/osv-schema ecosystems.json): Amazon Linux
advisories are not published in OSV form, so there is nothing to register for them.

Names are compared as OSV writes them, except Packagist (`vendor/package` is
case-insensitive in Composer: lowercased on both sides).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

_INVALID = (ValueError, TypeError, AttributeError, IndexError)  # univers' InvalidVersion is a ValueError


@lru_cache(maxsize=1)
def _rpm() -> Any:
    from univers import rpm

    return rpm


@lru_cache(maxsize=1)
def _uv() -> Any:
    """univers, imported on first use (0.2 s: not on every auditor start)."""
    from univers import versions

    return versions
_MAX_VERSION_CHARS = 256


class UniversScheme:
    """One OSV ecosystem's ordering: univers parses, `key` makes the comparable form."""

    def __init__(self, parse: Callable[[str], Any], normalise: Callable[[str], str] | None = None) -> None:
        self._parse = parse
        self._normalise = normalise

    def normalise_name(self, name: str) -> str:
        return self._normalise(name) if self._normalise else name

    def parse(self, version: str) -> Any | None:
        return self._parse(version)


def _guard(version: str) -> str | None:
    v = version.strip()
    if not v or len(v) > _MAX_VERSION_CHARS or any(c.isspace() for c in v):
        return None  # no ecosystem has blanks inside a version (univers would drop them)
    return v


def _semver_key(value: Any) -> tuple[Any, ...]:
    # semantic_version's precedence key is (major, minor, patch, prerelease, build, ...):
    # SemVer precedence ignores build metadata.
    key: tuple[Any, ...] = value.precedence_key[:4]
    return key


@lru_cache(maxsize=262144)
def parse_semver(version: str) -> tuple[Any, ...] | None:
    """npm, crates.io: a SemVer 2.0 version (a leading `v` or `=` tolerated, as npm does)."""
    v = _guard(version)
    if v is None:
        return None
    v = v.lstrip("=v")
    if not v[:1].isdigit():
        return None
    try:
        return _semver_key(_uv().SemverVersion(v).value)
    except _INVALID:
        return None


@lru_cache(maxsize=262144)
def parse_go(version: str) -> tuple[Any, ...] | None:
    """Go modules: `v1.2.3`, `v0.0.0-20200101120000-abcdef123456` (a pseudo-version), `+incompatible`."""
    v = _guard(version)
    if v is None or not v.lstrip("vV")[:1].isdigit():
        return None
    try:
        return _semver_key(_uv().GolangVersion(v).value)
    except _INVALID:
        return None


class MavenKey:
    """univers' Maven version (ComparableVersion), compared with one `__cmp__` call per
    comparison (its attrs wrapper and `total_ordering` make two or three)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: MavenKey) -> bool:
        return bool(self.value.__cmp__(other.value) < 0)

    def __gt__(self, other: MavenKey) -> bool:
        return bool(self.value.__cmp__(other.value) > 0)

    def __le__(self, other: MavenKey) -> bool:
        return bool(self.value.__cmp__(other.value) <= 0)

    def __ge__(self, other: MavenKey) -> bool:
        return bool(self.value.__cmp__(other.value) >= 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenKey) and self.value.__cmp__(other.value) == 0

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"MavenKey({str(self.value)!r})"


@lru_cache(maxsize=262144)
def parse_maven(version: str) -> MavenKey | None:
    v = _guard(version)
    if v is None or not v[:1].isalnum():
        return None
    try:
        return MavenKey(_uv().MavenVersion(v).value)
    except _INVALID:
        return None


_NUMERIC = (1,)  # Gem::Version: a number sorts after any string segment
_STRING = (0,)


@lru_cache(maxsize=262144)
def parse_rubygems(version: str) -> tuple[Any, ...] | None:
    """Gem::Version: numeric segments compared as numbers, a string segment marks a pre-release
    and sorts before any number; missing trailing segments count as 0 (1.0 == 1.0.0)."""
    v = _guard(version)
    if v is None:
        return None
    try:
        gem = _uv().RubygemsVersion(v).value
        segments = list(gem.canonical_segments)
    except _INVALID:
        return None
    while segments and segments[-1] == 0:
        segments.pop()
    key = tuple((1, s) if isinstance(s, int) else (0, str(s)) for s in segments)
    # A terminator that sorts between a string segment (pre-release: lower) and a number
    # (a longer release: higher): `1.0` > `1.0.a`, `1.0` < `1.0.1`.
    return (*key, (0.5, 0))


_COMPOSER = re.compile(
    r"^[vV]?(?P<nums>\d+(?:\.\d+){0,3})"
    r"(?:[-_.]?(?P<stab>stable|beta|b|rc|alpha|a|patch|pl|p|dev)[.-]?(?P<n>\d+)?)?(?:\+.*)?$",
    re.IGNORECASE,
)
_STABILITY = {"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "stable": 4, "patch": 5, "pl": 5, "p": 5}


@lru_cache(maxsize=262144)
def parse_packagist(version: str) -> tuple[Any, ...] | None:
    """Composer: up to four numbers, then a stability (dev < alpha < beta < RC < stable < patch)."""
    v = _guard(version)
    if v is None:
        return None
    m = _COMPOSER.match(v)
    if not m:
        return None
    try:
        _uv().ComposerVersion(v)  # univers validates the version
    except _INVALID:
        if m.group("stab") is None:
            return None
    nums = [int(n) for n in m.group("nums").split(".")]
    nums += [0] * (4 - len(nums))
    stab = _STABILITY[(m.group("stab") or "stable").lower()]
    return (*nums, stab, int(m.group("n") or 0))


_RPM_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+|~|\^")
_RPM_END = (0,)


def _rpmvercmp_key(text: str) -> tuple[Any, ...]:
    """rpmvercmp as a sort key: segments are maximal runs of digits (compared as numbers) or
    ASCII letters (compared as strings), anything else separates; a number is newer than
    letters; `~` sorts before everything, the end included; `^` after the end but before any
    segment. A terminator stands for the end, so a longer version compares right."""
    key: list[tuple[Any, ...]] = []
    for seg in _RPM_SEGMENT.findall(text):
        if seg == "~":
            key.append((-1,))
        elif seg == "^":
            key.append((1,))
        elif seg[0].isdigit():
            key.append((3, int(seg)))
        else:
            key.append((2, seg))
    key.append(_RPM_END)
    return tuple(key)


@lru_cache(maxsize=262144)
def parse_rpm(version: str) -> tuple[Any, ...] | None:
    """RPM `[epoch:]version-release` (the OSV form of RPM ecosystems): univers splits the
    epoch, version and release; the key orders them as univers' rpmvercmp does (a test
    checks the two agree on every pair of a corpus of edge cases) at tuple speed."""
    v = _guard(version)
    if v is None or not v[:1].isalnum():
        return None
    try:
        evr = _rpm().RpmVersion.from_string(v)  # univers' own (epoch, version, release), no attrs wrapper
    except _INVALID:
        return None
    return (evr.epoch, _rpmvercmp_key(evr.version), _rpmvercmp_key(evr.release))


@lru_cache(maxsize=262144)
def parse_debian(version: str) -> Any | None:
    v = _guard(version)
    if v is None:
        return None
    try:
        return _uv().DebianVersion(v)
    except _INVALID:
        return None


@lru_cache(maxsize=262144)
def parse_alpine(version: str) -> Any | None:
    v = _guard(version)
    if v is None:
        return None
    try:
        return _uv().AlpineLinuxVersion(v)
    except _INVALID:
        return None


RPM_ECOSYSTEMS = (
    "Red Hat", "AlmaLinux", "Rocky Linux", "openSUSE", "SUSE", "Mageia", "openEuler", "Photon OS", "Azure Linux",
)


def builtin_schemes() -> dict[str, UniversScheme]:
    semver = UniversScheme(parse_semver)
    rpm = UniversScheme(parse_rpm)
    schemes = {
        "npm": semver,
        "crates.io": semver,
        "SwiftURL": semver,
        "Go": UniversScheme(parse_go),
        "Maven": UniversScheme(parse_maven),
        "RubyGems": UniversScheme(parse_rubygems),
        "Packagist": UniversScheme(parse_packagist, str.lower),
    }
    schemes.update({eco: rpm for eco in RPM_ECOSYSTEMS})
    return schemes
