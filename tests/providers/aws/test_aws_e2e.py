"""End to end: moto_server on loopback, the demo estate seeded, `auditor scan --aws` as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.providers.aws import AwsProvider
from auditor.providers.aws.demo_estate import EXPECTED_FAILURES, scan_env, seed_estate, start_moto_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scanned(aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, Any], str]]:
    db = tmp_path_factory.mktemp("e2e") / "aws.db"
    with start_moto_server() as url:
        seed_estate(url)
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "auditor"),
                "scan",
                "--aws",
                "--aws-region",
                "eu-west-1",
                "--aws-region",
                "us-east-1",
                "--allowed-region",
                "eu-west-1",
                "--format",
                "json",
                "--db",
                str(db),
            ],
            env=scan_env(url),
            capture_output=True,
            text=True,
            timeout=300,
        )
    yield proc.returncode, json.loads(proc.stdout or "{}"), proc.stderr


def test_exit_code_and_complete_run(scanned: tuple[int, dict[str, Any], str]) -> None:
    code, out, stderr = scanned
    assert code == 0, stderr  # findings do not gate by default, and nothing ended in ERROR
    assert out["schema"] == "auditor.scan/1"
    assert out["run"]["status"] == "complete"
    assert out["summary"]["by_status"]["ERROR"] == 0
    assert "Traceback" not in stderr


def test_every_check_ran_against_the_server(scanned: tuple[int, dict[str, Any], str]) -> None:
    _, out, _ = scanned
    assert {f["check_id"] for f in out["findings"]} == {c.id for c in AwsProvider().checks()}


def test_named_misconfigurations_fail(scanned: tuple[int, dict[str, Any], str]) -> None:
    _, out, _ = scanned
    failing: dict[str, set[str]] = {}
    for f in out["findings"]:
        if f["status"] == "FAIL":
            failing.setdefault(f["check_id"], set()).add(f["resource"]["id"])
    for check_id, fragments in EXPECTED_FAILURES.items():
        got = failing.get(check_id, set())
        assert len(got) == len(fragments), (check_id, got)
        for frag in fragments:
            assert any(rid.endswith(frag) or f"/{frag}" in rid or f":{frag}" in rid for rid in got), (check_id, frag)


def test_findings_carry_controls_accounts_and_regions(scanned: tuple[int, dict[str, Any], str]) -> None:
    _, out, _ = scanned
    for f in out["findings"]:
        assert f["controls"], f["check_id"]
        assert f["resource"]["account"] == "123456789012"
    bucket = next(
        f
        for f in out["findings"]
        if f["check_id"] == "aws.s3.bucket_region_allowed" and f["resource"]["id"] == "arn:aws:s3:::acme-public-site-us"
    )
    assert bucket["resource"]["region"] == "us-east-1"
    assert bucket["controls"] == ["gdpr:Art.44"]
    assert bucket["evidence"] == {"region": "us-east-1", "allowed_regions": ["eu-west-1"]}


def test_control_roll_up(scanned: tuple[int, dict[str, Any], str]) -> None:
    _, out, _ = scanned
    status = {f"{c['framework']}:{c['id']}": c["status"] for c in out["controls"]}
    assert status["soc2:CC6.6"] == "FAIL"  # public bucket, open security groups
    assert status["gdpr:Art.44"] == "FAIL"  # data stores in us-east-1
    assert status["gdpr:Art.32(1)(c)"] == "FAIL"  # no PITR, no backup plan in us-east-1
    assert status["soc2:CC6.2"] == "PASS"  # keys and passwords are fresh at seed time
    counts = next(c["counts"] for c in out["controls"] if c["framework"] == "soc2" and c["id"] == "CC6.2")
    assert counts["FAIL"] == 0 and counts["ERROR"] == 0 and counts["PASS"] > 0


def test_coverage_and_targets_in_the_json(scanned: tuple[int, dict[str, Any], str]) -> None:
    _, out, _ = scanned
    account = "123456789012"
    cov = {c["target"]: c for c in out["run"]["coverage"]}
    assert set(cov) == {f"aws:{account}", f"aws:{account}/eu-west-1", f"aws:{account}/us-east-1"}
    assert all(c["complete"] and c["skipped"] == [] and c["errored_checks"] == [] for c in cov.values())
    assert cov[f"aws:{account}"]["details"]["regions_scanned"] == ["eu-west-1", "us-east-1"]
    assert cov[f"aws:{account}"]["examined"]["s3.buckets"] == 5
    assert {f["target"] for f in out["findings"]} == set(cov)
