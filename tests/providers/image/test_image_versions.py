"""Version ordering: dpkg (epochs, tildes), apk (suffixes, revisions), and their vulndb registration."""

from __future__ import annotations

import pytest

from auditor.providers.image.versions import compare_apk, compare_dpkg, parse_apk, parse_dpkg, register_image_schemes

DPKG_ORDER = [
    ("1.0~rc1", "1.0", -1),  # a tilde sorts before the release
    ("1.0~~", "1.0~", -1),
    ("1.0", "1.0+b1", -1),  # a binNMU is newer
    ("1.0-1", "1.0-1+deb12u1", -1),
    ("1.1.1n-0+deb11u3", "1.1.1n-0+deb11u5", -1),
    ("1:0.9", "2.0", 1),  # the epoch wins
    ("0:2.0", "2.0", 0),  # epoch 0 is the default
    ("2.10", "2.9", 1),  # numbers, not strings
    ("1.0a", "1.0+", -1),  # letters sort before other characters
    ("2.36-9+deb12u4", "2.36-9+deb12u10", -1),
    ("1.0-1", "1.0-1~bpo1", 1),
]
APK_ORDER = [
    ("1.2.3-r0", "1.2.3-r1", -1),
    ("1.2.3_rc1-r0", "1.2.3-r0", -1),  # pre-release before the release
    ("1.2.3_alpha1", "1.2.3_beta1", -1),
    ("1.2.3_p1-r0", "1.2.3-r5", 1),  # patch level after the release
    ("1.2.10", "1.2.9", 1),
    ("1.2", "1.2.1", -1),
    ("1.2.3a", "1.2.3", 1),
    ("3.5.1_rc1-r0", "3.5.1-r0", -1),
    ("1.37.0-r18", "1.37.0-r18", 0),
]


@pytest.mark.parametrize(("a", "b", "expected"), DPKG_ORDER)
def test_dpkg_ordering(a: str, b: str, expected: int) -> None:
    assert compare_dpkg(a, b) == expected
    assert compare_dpkg(b, a) == -expected


@pytest.mark.parametrize(("a", "b", "expected"), APK_ORDER)
def test_apk_ordering(a: str, b: str, expected: int) -> None:
    assert compare_apk(a, b) == expected
    assert compare_apk(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "abc", "1.0 beta", "-1"])
def test_invalid_dpkg_versions(bad: str) -> None:
    assert parse_dpkg(bad) is None


@pytest.mark.parametrize("bad", ["", "abc", "1..2", "1.2-rX", "v1.2"])
def test_invalid_apk_versions(bad: str) -> None:
    assert parse_apk(bad) is None


def test_schemes_register_with_vulndb() -> None:
    from auditor.vulndb import scheme_for

    register_image_schemes()
    for eco in ("Debian:12", "Ubuntu:22.04", "Alpine:v3.20"):
        scheme = scheme_for(eco)
        assert scheme is not None, eco
    debian = scheme_for("Debian:12")
    assert debian is not None and debian.parse("1.0~rc1") < debian.parse("1.0")
    pypi = scheme_for("PyPI")
    assert pypi is not None and pypi.parse("1.0rc1") < pypi.parse("1.0")
