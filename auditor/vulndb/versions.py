"""Version ordering per OSV ecosystem: a small pluggable interface.

OSV ranges are evaluated with the ecosystem's own ordering, never by comparing
strings. Built in: `PyPI` (PEP 440 through `packaging.version`, the reference
implementation) and, through the `univers` library (auditor/vulndb/ecosystems.py), npm,
crates.io, Go, Maven, RubyGems, Packagist and the RPM distributions (Red Hat, AlmaLinux,
Rocky Linux, SUSE, ...). The container-image provider registers Debian (dpkg) and Alpine
(apk) orderings, also from univers, with `register_scheme`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from auditor.vulndb.ecosystems import builtin_schemes


class VersionScheme(Protocol):
    """How one ecosystem names packages and orders versions."""

    def normalise_name(self, name: str) -> str:
        """The form names are stored and compared in (both sides of a match)."""
        ...

    def parse(self, version: str) -> Any | None:
        """A totally ordered key for `version`, or None when it is not a valid version."""
        ...


class PyPIScheme:
    """PEP 440 ordering; names normalised per PEP 503 (OSV itself compares case-sensitively)."""

    def normalise_name(self, name: str) -> str:
        return str(canonicalize_name(name))

    def parse(self, version: str) -> Version | None:
        return _parse_pep440(version)


@lru_cache(maxsize=131072)
def _parse_pep440(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


_SCHEMES: dict[str, VersionScheme] = {"PyPI": PyPIScheme(), **builtin_schemes()}


def register_scheme(ecosystem: str, scheme: VersionScheme) -> None:
    """Add (or replace) the ordering for an ecosystem name such as `Debian` or `Alpine`."""
    _SCHEMES[ecosystem] = scheme


def ecosystem_base(ecosystem: str) -> str:
    """`Debian:12` -> `Debian`; `PyPI` -> `PyPI` (OSV suffixes a release after a colon)."""
    return ecosystem.split(":", 1)[0]


def scheme_for(ecosystem: str) -> VersionScheme | None:
    return _SCHEMES.get(ecosystem) or _SCHEMES.get(ecosystem_base(ecosystem))


def known_ecosystems() -> list[str]:
    return sorted(_SCHEMES)


def name_normaliser(ecosystem: str) -> Callable[[str], str]:
    scheme = scheme_for(ecosystem)
    return scheme.normalise_name if scheme else (lambda name: name)
