"""The offline vulnerability database: import, hostile input, status, matching per PEP 440."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.errors import InputError
from auditor.models import Severity
from auditor.vulndb import (
    ImportLimits,
    UnorderableVersion,
    UnsupportedEcosystem,
    VulnDB,
    default_db_path,
    import_path,
)
from auditor.vulndb import versions as versions_mod

ROOT = Path(__file__).resolve().parent.parent
DEMO_OSV = ROOT / "auditor" / "demo_data" / "osv"
EDGE_OSV = ROOT / "tests" / "fixtures" / "osv" / "edge"


@pytest.fixture
def db(tmp_path: Path, now: datetime) -> Iterator[VulnDB]:
    with VulnDB.open(tmp_path / "vulndb.sqlite", create=True) as vdb:
        import_path(vdb, DEMO_OSV, now)
        import_path(vdb, EDGE_OSV, now)
        yield vdb


def ids(db: VulnDB, name: str, version: str, ecosystem: str = "PyPI") -> list[str]:
    return [a.id for a in db.match(ecosystem, name, version)]


# Import ------------------------------------------------------------------------------------


def test_import_counts_and_skips_with_warnings(tmp_path: Path, now: datetime) -> None:
    with VulnDB.open(tmp_path / "v.sqlite", create=True) as vdb:
        stats = import_path(vdb, EDGE_OSV, now)
        assert (stats.advisories, stats.withdrawn, stats.skipped) == (7, 1, 2)
        assert any("malformed.json: not valid JSON" in w for w in stats.warnings)
        assert any("no-id.json: missing or invalid 'id'" in w for w in stats.warnings)
        st = vdb.status()
    assert st.advisories == 7
    assert {(e.ecosystem, e.advisories) for e in st.ecosystems} == {("PyPI", 6), ("Debian:12", 1)}
    assert st.last_import_at == now
    assert st.imports == 1


def test_demo_set_status(db: VulnDB) -> None:
    st = db.status()
    pypi = next(e for e in st.ecosystems if e.ecosystem == "PyPI")
    assert pypi.advisories == 10  # 4 real + 6 edge
    assert db.advisory_count("PyPI") == 10
    assert pypi.newest_modified == "2024-03-01T00:00:00Z"


def test_reimport_replaces_and_withdrawal_removes(tmp_path: Path, db: VulnDB, now: datetime) -> None:
    assert ids(db, "limitpkg", "1.9") == ["TEST-0003"]
    changed = json.loads((EDGE_OSV / "TEST-0003.json").read_text())
    changed["affected"][0]["ranges"][0]["events"] = [{"introduced": "0"}, {"fixed": "1.5"}]
    withdrawn = json.loads((DEMO_OSV / "GHSA-h5c8-rqwp-cp95.json").read_text())
    withdrawn["withdrawn"] = "2024-06-01T00:00:00Z"
    update = tmp_path / "update.json"
    update.write_text(json.dumps([changed, withdrawn]))
    stats = import_path(db, update, now)
    assert (stats.advisories, stats.withdrawn) == (1, 1)
    assert ids(db, "limitpkg", "1.9") == []
    assert ids(db, "limitpkg", "1.4") == ["TEST-0003"]
    assert ids(db, "jinja2", "3.1.2") == []
    assert db.status().imports == 3


def test_single_file_and_api_response_shapes(tmp_path: Path, now: datetime) -> None:
    record = json.loads((DEMO_OSV / "GHSA-j8r2-6x86-q33q.json").read_text())
    single = tmp_path / "one.json"
    single.write_text(json.dumps(record))
    response = tmp_path / "response.json"
    response.write_text(json.dumps({"vulns": [json.loads((DEMO_OSV / "GHSA-h5c8-rqwp-cp95.json").read_text())]}))
    with VulnDB.open(tmp_path / "v.sqlite", create=True) as vdb:
        assert import_path(vdb, single, now).advisories == 1
        assert import_path(vdb, response, now).advisories == 1
        assert ids(vdb, "requests", "2.30.0") == ["GHSA-j8r2-6x86-q33q"]
        assert ids(vdb, "Jinja2", "3.1.2") == ["GHSA-h5c8-rqwp-cp95"]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_export_is_read_in_memory_and_hostile_members_are_contained(tmp_path: Path, now: datetime) -> None:
    demo = {p.name: p.read_bytes() for p in sorted(DEMO_OSV.glob("*.json"))}
    members = {
        **demo,
        "README.txt": b"ignored: not JSON",
        "nested.zip": b"PK ignored",
        "../../escape.json": (EDGE_OSV / "TEST-0001.json").read_bytes(),  # parsed, never extracted
        "big.json": b" " * 5000 + b"{}",
        "broken.json": b"{not json",
    }
    zpath = _zip(tmp_path / "all.zip", members)
    limits = ImportLimits(max_file_bytes=4096)
    with VulnDB.open(tmp_path / "v.sqlite", create=True) as vdb:
        stats = import_path(vdb, zpath, now, limits)
        assert stats.advisories == 5  # 4 demo + TEST-0001
        assert stats.skipped == 2  # big.json (cap), broken.json
        assert any("big.json: larger than the limit" in w for w in stats.warnings)
        assert ids(vdb, "lastpkg", "1.2") == ["TEST-0001"]
    assert not (tmp_path.parent.parent / "escape.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip", "v.sqlite"]


def test_zip_over_member_count_is_refused_and_database_unchanged(tmp_path: Path, now: datetime) -> None:
    zpath = _zip(tmp_path / "many.zip", {f"m{i}.json": b"{}" for i in range(11)})
    with VulnDB.open(tmp_path / "v.sqlite", create=True) as vdb:
        with pytest.raises(InputError, match="11 zip members, more than the limit of 10"):
            import_path(vdb, zpath, now, ImportLimits(max_members=10))
        assert vdb.status().imports == 0


def test_zip_over_total_size_rolls_back(tmp_path: Path, now: datetime) -> None:
    demo = {p.name: p.read_bytes() for p in sorted(DEMO_OSV.glob("*.json"))}
    zpath = _zip(tmp_path / "all.zip", demo)
    with VulnDB.open(tmp_path / "v.sqlite", create=True) as vdb:
        with pytest.raises(InputError, match="uncompressed"):
            import_path(vdb, zpath, now, ImportLimits(max_total_bytes=3000))
        st = vdb.status()
        assert (st.advisories, st.imports) == (0, 0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such file or directory"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no .json or .zip files"),
        (lambda p: (p / "x.txt").write_text("x") and p / "x.txt", "expected a directory, a .json file or a .zip"),
        (lambda p: (p / "bad.zip").write_bytes(b"PK\x03\x04 truncated") and p / "bad.zip", "not a usable zip"),
        (lambda p: (p / "e.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18) and p / "e.zip", "no .json members"),
    ],
)
def test_unusable_path_is_input_error(
    tmp_path: Path, now: datetime, make: Callable[[Path], Path], message: str
) -> None:
    target = make(tmp_path)
    with VulnDB.open(tmp_path / "v.sqlite", create=True) as vdb, pytest.raises(InputError, match=message):
        import_path(vdb, target, now)


def test_open_refuses_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="run `auditor vulndb import"):
        VulnDB.open(tmp_path / "nope.sqlite")
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_text("this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a vulnerability database"):
        VulnDB.open(foreign)


def test_default_path_env_and_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AUDITOR_VULNDB", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "auditor" / "vulndb.sqlite"
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "explicit.sqlite"))
    assert default_db_path() == tmp_path / "explicit.sqlite"


# Matching ----------------------------------------------------------------------------------

V845, G4MX = "GHSA-v845-jxx5-vc9f", "GHSA-g4mx-q9vg-27p4"


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        # Real advisories' facts.
        ("jinja2", "3.1.2", ["GHSA-h5c8-rqwp-cp95"]),
        ("Jinja2", "2.11.3", ["GHSA-h5c8-rqwp-cp95"]),
        ("jinja2", "3.1.3", []),
        ("requests", "2.2.1", []),  # before introduced 2.3.0
        ("requests", "2.3.0", ["GHSA-j8r2-6x86-q33q"]),
        ("requests", "2.4.0", ["GHSA-j8r2-6x86-q33q"]),  # "2.4.0" > "2.31.0" as strings, < in PEP 440
        ("requests", "2.30.0", ["GHSA-j8r2-6x86-q33q"]),
        ("requests", "2.31.0", []),
        ("requests", "2.31.0rc1", ["GHSA-j8r2-6x86-q33q"]),  # a pre-release of the fix is before it
        ("urllib3", "1.26.5", [G4MX, V845]),
        ("urllib3", "1.26.17", [G4MX]),
        ("urllib3", "1.26.18", []),
        ("urllib3", "2.0.0", [G4MX, V845]),
        ("urllib3", "2.0.6", [G4MX]),
        ("urllib3", "2.0.7", []),
        ("URLLIB3", "2.0.5", [G4MX, V845]),
        # Event semantics.
        ("lastpkg", "0.9", []),
        ("lastpkg", "1.0", ["TEST-0001"]),
        ("lastpkg", "1.4", ["TEST-0001"]),  # == 1.4.0 under PEP 440
        ("lastpkg", "1.4.0", ["TEST-0001"]),  # last_affected is inclusive
        ("lastpkg", "1.4.0.post1", []),
        ("limitpkg", "1.9", ["TEST-0003"]),
        ("limitpkg", "2.0", []),
        ("limitpkg", "7", []),
        ("withdrawnpkg", "1.0", []),
        ("badfixpkg", "0.5", []),
        ("badfixpkg", "99.0", ["TEST-0005"]),  # unparseable fixed: the range stays open
        ("allpkg", "0.0.1", ["TEST-0006"]),  # no ranges, no versions: every version
        ("prepkg", "1.9", []),
        ("prepkg", "2.0.0a1", ["TEST-0008"]),
        ("prepkg", "2.0.0rc2", ["TEST-0008"]),
        ("prepkg", "2.0.0", []),
        ("prepkg", "3.0.dev1", []),
        ("prepkg", "3.1", ["TEST-0008"]),
        ("prepkg", "3.1.post1", []),
        # Explicit versions lists, PEP 503 names on both sides.
        ("example-pkg", "0.9", ["TEST-0002"]),
        ("Example.Pkg", "0.9.1", ["TEST-0002"]),
        ("EXAMPLE__PKG", "0.9.0", ["TEST-0002"]),
        ("example-pkg", "0.9.2", []),
        ("unknown-package", "1.0", []),
    ],
)
def test_match_truth_table(db: VulnDB, name: str, version: str, expected: list[str]) -> None:
    assert ids(db, name, version) == expected


def test_match_details_severity_and_fixed_versions(db: VulnDB) -> None:
    by_id = {a.id: a for a in db.match("PyPI", "urllib3", "2.0.5")}
    assert by_id[V845].fixed_versions == ("2.0.6",)
    assert by_id[G4MX].fixed_versions == ("2.0.7",)
    assert (by_id[V845].severity, by_id[V845].severity_source, by_id[V845].severity_label) == (
        Severity.HIGH, "database_specific", "HIGH"
    )
    assert by_id[V845].aliases == ("CVE-2023-43804", "PYSEC-2023-192")
    (jinja,) = db.match("PyPI", "jinja2", "3.1.2")
    assert (jinja.severity, jinja.severity_score, jinja.severity_source) == (Severity.MEDIUM, 5.4, "cvss_v3")
    assert jinja.severity_vector == "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N"
    assert jinja.aliases == ("CVE-2024-22195",)
    assert jinja.fixed_versions == ("3.1.3",)
    assert jinja.url == "https://github.com/pallets/jinja/security/advisories/GHSA-h5c8-rqwp-cp95"
    (crit,) = db.match("PyPI", "lastpkg", "1.1")
    assert (crit.severity, crit.severity_score) == (Severity.CRITICAL, 9.8)
    (low,) = db.match("PyPI", "example-pkg", "0.9")
    assert (low.severity, low.severity_source) == (Severity.LOW, "database_specific")
    (default,) = db.match("PyPI", "limitpkg", "1.0")
    assert (default.severity, default.severity_source) == (Severity.HIGH, "default")


def test_invalid_package_version_cannot_be_ordered(db: VulnDB) -> None:
    with pytest.raises(UnorderableVersion, match="not a valid PyPI version"):
        db.match("PyPI", "jinja2", "3.1.2-ubuntu~weird")


def test_other_ecosystems_need_a_registered_ordering(db: VulnDB, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnsupportedEcosystem):
        db.match("Debian:12", "openssl", "3.0.9-1")

    class NaiveDpkg:  # test double: enough ordering for this one range
        def normalise_name(self, name: str) -> str:
            return name

        def parse(self, version: str) -> Any:
            return tuple(int(x) if x.isdigit() else x for x in version.replace("~", ".!").replace("-", ".").split("."))

    monkeypatch.setitem(versions_mod._SCHEMES, "Debian", NaiveDpkg())
    assert ids(db, "openssl", "3.0.9-1", "Debian:12") == ["TEST-0007"]
    assert ids(db, "openssl", "3.0.12-1", "Debian:12") == []
    assert ids(db, "openssl", "3.0.9-1", "Debian:11") == []


# CLI ---------------------------------------------------------------------------------------


def test_cli_import_and_status(cli: Callable[..., Any], tmp_path: Path) -> None:
    target = tmp_path / "v.sqlite"
    res = cli("vulndb", "import", str(EDGE_OSV), "--vulndb", str(target))
    assert res.code == 0
    assert res.out.strip() == f"imported 7 advisories from {EDGE_OSV} into {target} (1 withdrawn, 2 skipped)"
    assert "2 input(s) skipped" in res.err
    res = cli("vulndb", "status", "--vulndb", str(target), "--format", "json")
    doc = res.json()
    assert res.code == 0
    assert doc["advisories"] == 7 and doc["age_days"] == 0.0
    assert [(e["ecosystem"], e["advisories"], e["packages"]) for e in doc["ecosystems"]] == [
        ("Debian:12", 1, 1), ("PyPI", 6, 6),
    ]
    table = cli("vulndb", "status", "--vulndb", str(target))
    assert "last import: 2026-11-28T12:00:00Z (0.0 days ago)" in table.out
    assert "PyPI" in table.out and "Debian:12" in table.out


def test_cli_env_default_path(cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "env.sqlite"))
    assert cli("vulndb", "import", str(DEMO_OSV)).code == 0
    assert (tmp_path / "env.sqlite").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vulndb", "import", "/nonexistent/osv"], "auditor: error: /nonexistent/osv: no such file or directory"),
        (["vulndb", "status"], "auditor: error: no vulnerability database at"),
    ],
)
def test_cli_unusable_input_exits_2_with_one_line(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "absent.sqlite"))
    res = cli(*args)
    assert res.code == 2
    assert res.err.startswith(message)
    assert res.err.count("\n") == 1


def test_aliased_records_merge_into_one_advisory(tmp_path: Path, now: datetime) -> None:
    pysec = {
        "id": "PYSEC-2023-74", "modified": "2023-06-01T00:00:00Z", "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
        "details": "Requests leaks Proxy-Authorization headers on redirects.",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]}]}],
    }
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "PYSEC-2023-74.json").write_text(json.dumps(pysec))
    (tmp_path / "osv" / "GHSA-j8r2-6x86-q33q.json").write_bytes((DEMO_OSV / "GHSA-j8r2-6x86-q33q.json").read_bytes())
    with VulnDB.open(tmp_path / "v.sqlite", create=True) as vdb:
        import_path(vdb, tmp_path / "osv", now)
        (adv,) = vdb.match("PyPI", "requests", "2.30.0")
    assert adv.id == "GHSA-j8r2-6x86-q33q"
    assert adv.aliases == ("CVE-2023-32681", "PYSEC-2023-74")
    assert (adv.severity, adv.severity_score, adv.fixed_versions) == (Severity.MEDIUM, 6.1, ("2.31.0",))


@pytest.mark.parametrize(
    ("given", "chosen"),
    [
        (["CVE-2023-32681", "PYSEC-2023-74", "GHSA-j8r2-6x86-q33q"], "GHSA-j8r2-6x86-q33q"),
        (["CVE-2023-32681", "PYSEC-2023-74"], "PYSEC-2023-74"),
        (["CVE-2024-1", "OSV-2024-9"], "OSV-2024-9"),
        (["CVE-2024-2", "CVE-2024-1"], "CVE-2024-1"),
    ],
)
def test_preferred_advisory_id(given: list[str], chosen: str) -> None:
    from auditor.vulndb.osv import preferred_advisory_id

    assert preferred_advisory_id(given) == chosen
