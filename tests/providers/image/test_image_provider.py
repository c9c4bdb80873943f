"""Golden images (docker-archive and OCI layout, built in pure Python): exact findings."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from imagetest_fixtures import all_osv_records, by_check, clean_alpine_spec, outcome, scan, write_osv_db

from auditor.frameworks import load_catalog
from auditor.models import Severity
from auditor.providers.image import ImageProvider
from auditor.providers.image.build import write_docker_archive, write_oci_layout
from auditor.providers.image.sample import FAKE_AWS_SECRET, FAKE_PRIVATE_KEY, build_sample_image

SAMPLE_ID = None  # computed per test from the archive

SAMPLE_OUTCOME = {
    ("image.layers.integrity", "PASS", ""),
    ("image.layers.unsafe_entries", "PASS", ""),
    ("image.config.runs_as_root", "FAIL", ""),
    ("image.config.healthcheck", "FAIL", ""),
    ("image.config.secrets", "FAIL", "env:AWS_SECRET_ACCESS_KEY:secret_key_name"),
    ("image.config.secrets", "FAIL", "history:API_TOKEN:secret_key_name"),
    ("image.config.secrets", "FAIL", "history:AWS_SECRET_ACCESS_KEY:secret_key_name"),
    ("image.reference.mutable_tag", "FAIL", ""),
    ("image.build.age", "FAIL", ""),
    ("image.files.secrets", "FAIL", "/root/.ssh/id_rsa"),
    ("image.files.secrets", "FAIL", "/app/.env"),
    ("image.files.secrets", "FAIL", "removed:/home/app/.aws/credentials"),
    ("image.files.setuid_binaries", "FAIL", ""),
    ("image.os.end_of_life", "FAIL", ""),
    ("image.packages.vulnerable", "FAIL", "Debian:11/libssl1.1/DSA-5417-1"),
    ("image.packages.vulnerable", "FAIL", "PyPI/requests/GHSA-j8r2-6x86-q33q"),
}


@pytest.fixture(autouse=True)
def vulndb(tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_osv_db(tmp_path / "vdb", all_osv_records(), now)
    monkeypatch.setenv("AUDITOR_VULNDB", str(path))
    return path


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-tar", "oci"])
def test_sample_image_exact_findings_in_every_format(tmp_path: Path, now: datetime, fmt: str) -> None:
    target = build_sample_image(tmp_path / ("img" if fmt == "oci" else "img.tar"), fmt=fmt)
    findings = scan([str(target)], now)
    assert outcome(findings) == SAMPLE_OUTCOME
    # One resource for every finding: the image id (config digest), the same in every format.
    assert {f.resource.id for f in findings} == {
        "sha256:aa370ab8d7ffe01b61dc2ef914c69364143dd5961a49d17bef2eff3766527790"
    }
    assert {f.resource.type for f in findings} == {"container_image"}
    assert all(f.evidence["image"]["reference"] == str(target) for f in findings)


def test_sample_details_and_no_secret_values(tmp_path: Path, now: datetime) -> None:
    target = build_sample_image(tmp_path / "img.tar")
    findings = scan([str(target)], now)
    dump = json.dumps([f.to_dict() for f in findings])
    for secret in (FAKE_AWS_SECRET, "tok-0123456789abcdef", "hunter2-sample", FAKE_PRIVATE_KEY.splitlines()[1]):
        assert secret not in dump
    vuln = [
        f for f in by_check(findings, "image.packages.vulnerable") if "openssl" in f.message or "libssl" in f.message
    ]
    assert len(vuln) == 1
    ev = vuln[0].evidence
    assert (ev["package"], ev["installed_version"], ev["source_package"], ev["fixed_versions"]) == (
        "libssl1.1",
        "1.1.1n-0+deb11u3",
        "openssl",
        ["1.1.1n-0+deb11u5"],
    )
    assert ev["image_id"].startswith("sha256:") and vuln[0].severity is Severity.HIGH
    assert "fixed in 1.1.1n-0+deb11u5" in vuln[0].message and "sha256:aa370ab8d7ff" in vuln[0].message
    setuid = by_check(findings, "image.files.setuid_binaries")[0]
    assert [u["path"] for u in setuid.evidence["unexpected"]] == ["/usr/local/bin/helper"]
    assert setuid.evidence["allowed_present"] == ["/usr/bin/passwd"]
    eol = by_check(findings, "image.os.end_of_life")[0]
    assert (eol.evidence["release"], eol.evidence["eol"]) == ("11", "2026-08-31")
    age = by_check(findings, "image.build.age")[0]
    assert age.evidence["age_days"] == 682
    severities = {f.discriminator: f.severity for f in by_check(findings, "image.files.secrets")}
    assert severities == {
        "/root/.ssh/id_rsa": Severity.CRITICAL,
        "/app/.env": Severity.HIGH,
        "removed:/home/app/.aws/credentials": Severity.CRITICAL,
    }


def test_clean_image_passes_every_check(tmp_path: Path, now: datetime) -> None:
    target = write_docker_archive(clean_alpine_spec(), tmp_path / "clean.tar", tags=["shop/api:2.0.1"])
    findings = scan([str(target)], now)
    assert {(f.check_id, str(f.status)) for f in findings} == {(c.id, "PASS") for c in ImageProvider().checks()}
    vuln = by_check(findings, "image.packages.vulnerable")[0]
    assert vuln.evidence["checked_by_ecosystem"] == {"Alpine:v3.22": 3, "PyPI": 2}


def test_oci_layout_and_docker_archive_agree_on_inventory(tmp_path: Path, now: datetime) -> None:
    spec = clean_alpine_spec()
    a = scan([str(write_docker_archive(spec, tmp_path / "a.tar", tags=["x:1"]))], now)
    b = scan([str(write_oci_layout(spec, tmp_path / "oci", ref_name="1"))], now)
    assert outcome(a) == outcome(b)
    assert {f.resource.id for f in a} == {f.resource.id for f in b}


def test_unknown_ecosystem_coverage_is_error_not_pass(
    tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_pypi = [r for r in all_osv_records() if r["affected"][0]["package"]["ecosystem"] == "PyPI"]
    monkeypatch.setenv("AUDITOR_VULNDB", str(write_osv_db(tmp_path / "pypi-only", only_pypi, now)))
    target = write_docker_archive(clean_alpine_spec(), tmp_path / "clean.tar", tags=["shop/api:2.0.1"])
    vuln = by_check(scan([str(target)], now), "image.packages.vulnerable")
    assert [(str(f.status), f.discriminator) for f in vuln] == [("ERROR", "coverage")]
    assert "no advisories for Alpine:v3.22" in vuln[0].message


def test_missing_vulndb_is_error(tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "none.sqlite"))
    target = build_sample_image(tmp_path / "img.tar")
    vuln = by_check(scan([str(target)], now), "image.packages.vulnerable")
    assert [str(f.status) for f in vuln] == ["ERROR"]


def test_every_check_is_mapped_to_a_control() -> None:
    catalog = load_catalog()
    for check in ImageProvider().checks():
        refs = [c.ref for fw in catalog.values() for c in fw.controls if c.matches(check.id)]
        assert refs, check.id
