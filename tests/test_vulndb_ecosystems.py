"""Matching per OSV ecosystem through univers orderings, on a tiny OSV database built here:
exact vulnerable sets at the boundaries (introduced, fixed, last_affected), SemVer
pre-releases, Maven qualifiers, Go pseudo-versions, RubyGems pre-releases, Composer
stabilities, RPM epochs; RPM-distribution advisories (`AlmaLinux:9`, `Rocky Linux:9`,
`Red Hat:...`) import through `auditor vulndb import` like the others."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from auditor.providers.image.versions import register_image_schemes
from auditor.vulndb import VulnDB, import_path, scheme_for
from auditor.vulndb.versions import known_ecosystems

RHEL = "Red Hat:enterprise_linux:9::appstream"


def record(osv_id: str, ecosystem: str, name: str, events: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name},
                                "ranges": [{"type": "ECOSYSTEM", "events": events}]}
    affected.update(extra)
    return {"schema_version": "1.6.0", "id": osv_id, "modified": "2026-01-01T00:00:00Z", "summary": name,
            "affected": [affected]}


ADVISORIES = [
    record("NPM-1", "npm", "left-pad", [{"introduced": "1.0.0-beta.2"}, {"fixed": "1.3.0"}]),
    record("NPM-2", "npm", "left-pad", [{"introduced": "2.0.0"}, {"last_affected": "2.1.0"}]),
    record("GO-1", "Go", "golang.org/x/net", [{"introduced": "0"}, {"fixed": "0.0.0-20220906165146-f3363e06e74c"}]),
    record("GO-2", "Go", "golang.org/x/net", [{"introduced": "0.7.0"}, {"fixed": "0.17.0"}]),
    record("MVN-1", "Maven", "org.example:lib", [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]),
    record("MVN-2", "Maven", "org.example:orm", [{"introduced": "0"}, {"last_affected": "5.4.24"}]),
    record("CRATE-1", "crates.io", "smallvec", [{"introduced": "0.6.3"}, {"fixed": "1.6.1"}]),
    record("GEM-1", "RubyGems", "rails", [{"introduced": "7.0.0.alpha"}, {"fixed": "7.0.1"}]),
    record("GEM-2", "RubyGems", "rack", [{"introduced": "0"}, {"fixed": "2.2.3.1"}]),
    record("PHP-1", "Packagist", "monolog/monolog", [{"introduced": "2.0.0-beta1"}, {"fixed": "2.0.0"}]),
    record("PHP-2", "Packagist", "monolog/monolog", [{"introduced": "0"}, {"last_affected": "1.25.0"}]),
    record("ALSA-1", "AlmaLinux:9", "openssl", [{"introduced": "0"}, {"fixed": "1:3.0.7-16.el9_2"}]),
    record("RLSA-1", "Rocky Linux:9", "openssl", [{"introduced": "0"}, {"fixed": "1:3.0.7-16.el9_2"}]),
    record("RHSA-1", RHEL, "curl", [{"introduced": "0"}, {"fixed": "7.76.1-26.el9_3.2"}]),
    record("DEB-1", "Debian:12", "openssl", [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]),
    record("ALP-1", "Alpine:v3.20", "openssl", [{"introduced": "0"}, {"fixed": "3.3.2-r0"}]),
]

# (ecosystem, name, version) -> the advisories it is affected by
CASES: list[tuple[str, str, str, set[str]]] = [
    ("npm", "left-pad", "1.0.0-beta.1", set()),  # a pre-release before `introduced`
    ("npm", "left-pad", "1.0.0-beta.2", {"NPM-1"}),  # introduced is inclusive
    ("npm", "left-pad", "1.0.0-beta.10", {"NPM-1"}),  # numeric identifiers compare as numbers
    ("npm", "left-pad", "1.2.9", {"NPM-1"}),
    ("npm", "left-pad", "1.3.0-rc.1", {"NPM-1"}),  # a pre-release of the fix is still affected
    ("npm", "left-pad", "1.3.0", set()),  # fixed is exclusive
    ("npm", "left-pad", "v1.3.0", set()),
    ("npm", "left-pad", "2.1.0", {"NPM-2"}),  # last_affected is inclusive
    ("npm", "left-pad", "2.1.1", set()),
    ("Go", "golang.org/x/net", "v0.0.0-20220722155237-a158d28d115b", {"GO-1"}),  # pseudo-versions by date
    ("Go", "golang.org/x/net", "v0.0.0-20220906165146-f3363e06e74c", set()),
    ("Go", "golang.org/x/net", "v0.1.0", set()),  # a release sorts after every v0.0.0- pseudo-version
    ("Go", "golang.org/x/net", "v0.7.0", {"GO-2"}),
    ("Go", "golang.org/x/net", "v0.16.1-0.20231010000000-abcdefabcdef", {"GO-2"}),
    ("Go", "golang.org/x/net", "v0.17.0", set()),
    ("Maven", "org.example:lib", "2.0-beta8", set()),
    ("Maven", "org.example:lib", "2.0-beta9", {"MVN-1"}),
    ("Maven", "org.example:lib", "2.0-rc1", {"MVN-1"}),  # beta < rc < release
    ("Maven", "org.example:lib", "2.14.1", {"MVN-1"}),
    ("Maven", "org.example:lib", "2.15.0-SNAPSHOT", {"MVN-1"}),  # a snapshot precedes its release
    ("Maven", "org.example:lib", "2.15.0", set()),
    ("Maven", "org.example:lib", "2.15", set()),  # 2.15 == 2.15.0
    ("Maven", "org.example:orm", "5.4.24.Final", {"MVN-2"}),  # .Final == the release
    ("Maven", "org.example:orm", "5.4.24.SP1", set()),  # a service pack follows the release
    ("crates.io", "smallvec", "0.6.2", set()),
    ("crates.io", "smallvec", "0.6.3", {"CRATE-1"}),
    ("crates.io", "smallvec", "1.6.0", {"CRATE-1"}),
    ("crates.io", "smallvec", "1.6.1", set()),
    ("RubyGems", "rails", "6.1.7", set()),
    ("RubyGems", "rails", "7.0.0.alpha", {"GEM-1"}),
    ("RubyGems", "rails", "7.0.0.rc1", {"GEM-1"}),  # alpha < rc1 < release
    ("RubyGems", "rails", "7.0.0", {"GEM-1"}),
    ("RubyGems", "rails", "7.0.1", set()),
    ("RubyGems", "rack", "2.2.3", {"GEM-2"}),
    ("RubyGems", "rack", "2.2.3.1", set()),
    ("RubyGems", "rack", "2.2.4", set()),
    ("Packagist", "Monolog/Monolog", "2.0.0-alpha1", set()),  # names case-insensitive; alpha < beta
    ("Packagist", "monolog/monolog", "2.0.0-beta1", {"PHP-1"}),
    ("Packagist", "monolog/monolog", "2.0.0-RC1", {"PHP-1"}),  # beta < RC (univers alone gets this wrong)
    ("Packagist", "monolog/monolog", "v2.0.0", set()),
    ("Packagist", "monolog/monolog", "1.25.0", {"PHP-2"}),
    ("Packagist", "monolog/monolog", "1.25.1", set()),
    ("AlmaLinux:9", "openssl", "1:3.0.7-6.el9_2", {"ALSA-1"}),
    ("AlmaLinux:9", "openssl", "1:3.0.7-16.el9_2", set()),
    ("AlmaLinux:9", "openssl", "3.0.9-1.el9", {"ALSA-1"}),  # no epoch: epoch 0 < 1, whatever the version
    ("AlmaLinux:9", "openssl", "1:3.0.7-16.el9_2.1", set()),
    ("Rocky Linux:9", "openssl", "1:3.0.7-16.el9_1", {"RLSA-1"}),  # el9_1 < el9_2
    ("AlmaLinux:8", "openssl", "1:1.0-1.el8", set()),  # another release's ecosystem: no advisory
    (RHEL, "curl", "7.76.1-26.el9_3", {"RHSA-1"}),
    (RHEL, "curl", "7.76.1-26.el9_3.2", set()),
    (RHEL, "curl", "7.76.1~rc1-30.el9", {"RHSA-1"}),  # a tilde sorts before the release
    ("Debian:12", "openssl", "3.0.11-1~deb12u1", {"DEB-1"}),
    ("Debian:12", "openssl", "3.0.11-1~deb12u2", set()),
    ("Alpine:v3.20", "openssl", "3.3.2_rc1-r0", {"ALP-1"}),
    ("Alpine:v3.20", "openssl", "3.3.2-r0", set()),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VulnDB]:
    folder = tmp_path_factory.mktemp("osv-ecosystems")
    for rec in ADVISORIES:
        (folder / f"{rec['id']}.json").write_text(json.dumps(rec))
    with VulnDB.open(folder / "vulndb.sqlite", create=True) as database:
        stats = import_path(database, folder / f"{ADVISORIES[0]['id']}.json", datetime(2026, 1, 1))
        assert stats.advisories == 1
        stats = import_path(database, folder, datetime(2026, 1, 1))  # the folder, as `auditor vulndb import` does
        assert (stats.advisories, stats.skipped) == (len(ADVISORIES), 0)
        yield database


@pytest.fixture
def image_schemes() -> None:
    register_image_schemes()  # Debian and Alpine (the conftest restores the registry after the test)


@pytest.mark.parametrize(("ecosystem", "name", "version", "expected"), CASES,
                         ids=[f"{e}-{n}-{v}" for e, n, v, _ in CASES])
def test_exact_vulnerable_set_per_ecosystem(
    db: VulnDB, image_schemes: None, ecosystem: str, name: str, version: str, expected: set[str]
) -> None:
    assert {a.id for a in db.match(ecosystem, name, version)} == expected


def test_rpm_distribution_advisories_import_and_report_status(db: VulnDB) -> None:
    ecosystems = {e.ecosystem: e.advisories for e in db.status().ecosystems}
    assert ecosystems["AlmaLinux:9"] == ecosystems["Rocky Linux:9"] == ecosystems[RHEL] == 1
    for eco in ("npm", "Go", "Maven", "crates.io", "RubyGems", "Packagist", "Red Hat", "AlmaLinux", "Rocky Linux",
                "openSUSE", "SUSE", "Mageia", "openEuler", "Photon OS", "Azure Linux", "PyPI"):
        assert eco in known_ecosystems()
        assert scheme_for(f"{eco}:9") is not None


@pytest.mark.parametrize(
    ("ecosystem", "bad"),
    [("npm", "latest"), ("npm", "1.0.0 beta"), ("Go", "master"), ("RubyGems", "1.0 beta"), ("Packagist", "dev-main"),
     ("crates.io", ""), ("Maven", "x" * 300), ("Red Hat", "-1")],
)
def test_invalid_versions_are_unorderable(ecosystem: str, bad: str) -> None:
    scheme = scheme_for(ecosystem)
    assert scheme is not None and scheme.parse(bad) is None


def test_orderings_are_total_and_consistent() -> None:
    """Sorting by the cached keys agrees with univers' own comparison (the keys are a cache of
    the library's ordering, not another ordering)."""
    from univers import versions as uv

    samples: dict[str, tuple[Callable[[str], Any], list[str]]] = {
        "npm": (uv.SemverVersion, ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2",
                                   "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "2.0.0"]),
        "RubyGems": (uv.RubygemsVersion, ["0.9.99", "1.0.0.a", "1.0.0.b1", "1.0.0.pre.2", "1.0.0.rc1", "1.0.0",
                                          "1.0.0.1", "1.0.1", "1.10"]),
        "Go": (uv.GolangVersion, ["v0.0.0-20200101120000-abcdef123456", "v0.0.0-20210101120000-abcdef123456",
                                  "v0.1.0", "v1.0.0-rc.1", "v1.0.0", "v1.0.1"]),
    }
    for eco, (library, versions) in samples.items():
        scheme = scheme_for(eco)
        assert scheme is not None
        assert sorted(versions, key=scheme.parse) == sorted(versions, key=library) == versions, eco


RPM_CORPUS = [
    "1.0", "1.0-1", "1.0-2", "1.0.0-1", "1.0a-1", "1.0~rc1-1", "1.0~rc2-1", "1.0~~-1", "1.0^-1", "1.0^post1-1",
    "1.0^post1~x-1", "1:0.1-1", "2:0-0", "0:1.0-1", "1.0-1.el9", "1.0-1.el9_1", "1.0-1.el9_1.2", "1.0-1.el10",
    "1.0-01", "1.0-1a", "1.0-1.a", "1.a-1", "1.1-1", "1.01-1", "1.0.-1", "1.0-", "1.00010-1", "1.0+git-1", "1.0_1-1",
    "a-1", "b-1", "1.0-1.1", "1.0-1~", "1.0-1^", "1.0-1^a", "10.2-3.fc39", "7.76.1-26.el9_3.2", "7.76.1~rc1-30.el9",
]


def test_rpm_keys_agree_with_univers_rpmvercmp_on_every_pair() -> None:
    from univers.rpm import compare_rpm_versions

    scheme = scheme_for("Red Hat")
    assert scheme is not None
    keys = {v: scheme.parse(v) for v in RPM_CORPUS}
    mismatches = [
        (a, b) for a in RPM_CORPUS for b in RPM_CORPUS
        if (keys[a] > keys[b]) - (keys[a] < keys[b]) != compare_rpm_versions(a, b)
    ]
    assert mismatches == []


def test_an_ecosystem_family_is_itself_and_its_streams_never_another_release(tmp_path: Any) -> None:
    recs = [
        record(f"F-{i}", eco, "pkg", [{"introduced": "0"}])
        for i, eco in enumerate(
            [
                "Red Hat:enterprise_linux:9::appstream",
                "Red Hat:enterprise_linux:9::baseos",
                "Red Hat:enterprise_linux:9.2::baseos",
                "Red Hat:enterprise_linux:8::baseos",
                "Ubuntu:22.04:LTS",
                "Ubuntu:Pro:22.04:LTS",
                "Debian:12",
            ]
        )
    ]
    for rec in recs:
        (tmp_path / f"{rec['id']}.json").write_text(json.dumps(rec))
    with VulnDB.open(tmp_path / "vulndb.sqlite", create=True) as database:
        import_path(database, tmp_path, datetime(2026, 1, 1))
        assert database.ecosystem_family("Red Hat:enterprise_linux:9") == (
            "Red Hat:enterprise_linux:9",
            "Red Hat:enterprise_linux:9::appstream",
            "Red Hat:enterprise_linux:9::baseos",
        )
        assert database.ecosystem_family("Ubuntu:22.04") == ("Ubuntu:22.04", "Ubuntu:22.04:LTS")
        assert database.ecosystem_family("Debian:12") == ("Debian:12",)
        assert database.ecosystem_family("Debian:1") == ("Debian:1",)
