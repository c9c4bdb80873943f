"""Baselines: fingerprints survive moved lines; only new FAILs breach the gate; exit-code matrix."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from auditor.baseline import SCHEMA, load_baseline
from auditor.demo import make_certificate
from auditor.errors import InputError
from tests.conftest import NOW, CliResult, run_auditor

DAY = timedelta(days=1)

# v0: before; api-token already fails (high), on line 4.
INVENTORY_V0 = """\
secrets:
  - name: fresh
    last_rotated: 2026-11-01
  - name: api-token
    owner: platform
"""
# v1: api-token moved to line 6; db-password (medium) and edge-tls (critical) are new failures.
INVENTORY_V1 = """\
secrets:
  - name: fresh
    last_rotated: 2026-11-01
  - name: db-password
    last_rotated: 2026-07-01
  - name: api-token
    owner: platform
  - name: edge-tls
    certificate: certs/edge.pem
"""
WITH_ERROR = "  - name: cert-missing\n    certificate: certs/missing.pem\n"


def scan_json(cli: Callable[..., CliResult], *args: str) -> tuple[int, dict[str, object]]:
    res = cli("scan", *args, "--format", "json")
    return res.code, json.loads(res.out)


def test_moved_finding_stays_baselined_and_a_new_one_fails_the_gate(
    tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    db = str(tmp_path / "a.db")
    inv = tmp_path / "inventory.yaml"
    make_certificate(tmp_path / "certs" / "edge.pem", "edge.example", NOW - 400 * DAY, NOW - 2 * DAY)
    inv.write_text(INVENTORY_V0)
    code, first = scan_json(cli, "--secrets-inventory", str(inv), "--db", db, "--fail-on", "high")
    assert code == 1
    baseline = tmp_path / "baseline.json"
    made = cli("baseline", "create", "--output", str(baseline), "--db", db)
    assert made.code == 0, made.err
    doc = json.loads(baseline.read_text())
    assert doc["schema"] == SCHEMA == "auditor.baseline/1"
    assert [(f["check_id"], f["resource_id"], f["severity"]) for f in doc["findings"]] == [
        ("secrets.inventory.rotation_age", "secret:api-token", "high")
    ]
    first_run = first["run"]
    assert isinstance(first_run, dict) and doc["run"]["id"] == first_run["id"]

    # Same failure, moved from line 4 to line 6: still baselined -> exit 0 at --fail-on high.
    inv.write_text(INVENTORY_V0.replace("  - name: fresh\n", "  - name: fresh\n    owner: web\n    system: x\n"))
    code, moved = scan_json(
        cli, "--secrets-inventory", str(inv), "--db", db, "--fail-on", "high", "--baseline", str(baseline)
    )
    findings = moved["findings"]
    assert isinstance(findings, list)
    token = next(f for f in findings if f["resource"]["id"] == "secret:api-token")
    assert token["resource"]["line"] == 6 and token["status"] == "FAIL"  # still reported
    assert code == 0
    assert moved["baseline"] == {
        "file": str(baseline),
        "run_id": first_run["id"],
        "fingerprints": 1,
        "failed_new": 0,
        "failed_unchanged": 1,
    }

    # New failures: the critical certificate breaches the gate; the baselined token still does not count.
    inv.write_text(INVENTORY_V1)
    code, new = scan_json(
        cli, "--secrets-inventory", str(inv), "--db", db, "--fail-on", "high", "--baseline", str(baseline)
    )
    assert code == 1
    assert new["baseline"] == {
        "file": str(baseline),
        "run_id": first_run["id"],
        "fingerprints": 1,
        "failed_new": 2,
        "failed_unchanged": 1,
    }
    # Only the medium one is new below "critical": --fail-on critical still fails on edge-tls...
    assert (
        cli(
            "scan", "--secrets-inventory", str(inv), "--db", db, "--fail-on", "critical", "--baseline", str(baseline)
        ).code
        == 1
    )
    # ... and a baseline of v1 accepts everything.
    assert cli("baseline", "create", "--output", str(tmp_path / "b2.json"), "--db", db, "--run", "latest").code == 0
    assert (
        cli(
            "scan",
            "--secrets-inventory",
            str(inv),
            "--db",
            db,
            "--fail-on",
            "low",
            "--baseline",
            str(tmp_path / "b2.json"),
        ).code
        == 0
    )
    sarif = cli("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "sarif", "--baseline", str(baseline))
    states = {
        r["properties"]["resource"]["id"]: r["baselineState"] for r in json.loads(sarif.out)["runs"][0]["results"]
    }
    assert states == {"secret:api-token": "unchanged", "secret:db-password": "new", "secret:edge-tls": "new"}


def test_baseline_create_from_an_explicit_run(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    db = str(tmp_path / "a.db")
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY_V0)
    _, first = scan_json(cli, "--secrets-inventory", str(inv), "--db", db)
    inv.write_text(INVENTORY_V0.replace("  - name: api-token\n    owner: platform\n", ""))
    scan_json(cli, "--secrets-inventory", str(inv), "--db", db)
    run = first["run"]
    assert isinstance(run, dict)
    out = tmp_path / "b.json"
    assert cli("baseline", "create", "--output", str(out), "--db", db, "--run", run["id"]).code == 0
    assert len(load_baseline(out).fingerprints) == 1
    assert cli("baseline", "create", "--output", str(out), "--db", db).code == 0
    assert load_baseline(out).fingerprints == frozenset()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "baseline is not valid JSON"),
        ('{"schema": "auditor.scan/1", "findings": []}', "not an auditor baseline"),
        ('{"schema": "auditor.baseline/1"}', "has no 'findings' list"),
        ('{"schema": "auditor.baseline/1", "findings": [{"check_id": "x"}]}', "finding #1 has no fingerprint"),
    ],
)
def test_bad_baseline_file_is_an_input_error(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(InputError, match=says):
        load_baseline(path)


def test_cli_bad_baseline_exits_2_and_writes_nothing(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY_V0)
    db = str(tmp_path / "a.db")
    res = cli("scan", "--secrets-inventory", str(inv), "--db", db, "--baseline", str(tmp_path / "missing.json"))
    assert res.code == 2 and "missing.json: baseline file not found" in res.err
    assert not Path(db).exists()  # bad input: not even an empty database file
    empty = cli("baseline", "create", "--output", str(tmp_path / "b.json"), "--db", db)
    assert empty.code == 2 and "no auditor database" in empty.err


# Exit codes for every combination of --fail-on, waivers, baseline and --allow-errors ----------

WAIVER_FILES = {
    "none": None,
    # The critical certificate is accepted; the rotation failures are not.
    "critical": """\
waivers:
  - check: secrets.certificate.*
    resource: secret:edge-tls
    reason: certificate replaced at the load balancer; inventory update pending
    approver: alice
    created: 2026-11-20
    expires: 2026-12-20
""",
    # Everything that fails is accepted (but an ERROR is never hidden by a waiver).
    "all": """\
waivers:
  - check: "secrets.*"
    resource: "*"
    reason: accepted for the audit window
    approver: alice
    created: 2026-11-01
    expires: 2027-02-01
""",
}
FAILS = {"critical": "secret:edge-tls", "high": "secret:api-token", "medium": "secret:db-password"}
RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


def expected_exit(fail_on: str, waiver: str, baseline: str, errors: bool, allow_errors: bool) -> int:
    """design.md: 1 if an unwaived FAIL not in the baseline is at or above --fail-on; else 3 on ERROR
    without --allow-errors; else 0."""
    gating = set(FAILS)
    if waiver == "critical":
        gating -= {"critical"}
    if waiver == "all":
        gating = set()
    if baseline == "high":
        gating -= {"high"}
    if baseline == "all":
        gating = set()
    if fail_on != "none" and any(RANK[s] >= RANK[fail_on] for s in gating):
        return 1
    if errors and not allow_errors:
        return 3
    return 0


@pytest.fixture
def matrix_estate(tmp_path: Path, cli: Callable[..., CliResult]) -> dict[str, Path]:
    make_certificate(tmp_path / "certs" / "edge.pem", "edge.example", NOW - 400 * DAY, NOW - 2 * DAY)
    inv = tmp_path / "inventory.yaml"
    db = str(tmp_path / "baselines.db")
    files: dict[str, Path] = {"inventory": inv}
    inv.write_text(INVENTORY_V0)
    cli("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json")
    files["baseline_high"] = tmp_path / "baseline-high.json"
    assert cli("baseline", "create", "--output", str(files["baseline_high"]), "--db", db).code == 0
    inv.write_text(INVENTORY_V1)
    cli("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json")
    files["baseline_all"] = tmp_path / "baseline-all.json"
    assert cli("baseline", "create", "--output", str(files["baseline_all"]), "--db", db).code == 0
    for name, text in WAIVER_FILES.items():
        if text:
            files[f"waivers_{name}"] = tmp_path / f"waivers-{name}.yaml"
            files[f"waivers_{name}"].write_text(text)
    return files


def test_the_estate_fails_as_the_matrix_assumes(matrix_estate: dict[str, Path], cli: Callable[..., CliResult]) -> None:
    matrix_estate["inventory"].write_text(INVENTORY_V1 + WITH_ERROR)
    code, doc = scan_json(cli, "--secrets-inventory", str(matrix_estate["inventory"]))
    findings = doc["findings"]
    assert isinstance(findings, list)
    got = {(f["resource"]["id"], f["status"], f["severity"]) for f in findings}
    assert got == {
        ("secret:fresh", "PASS", "high"),
        ("secret:db-password", "FAIL", "medium"),
        ("secret:api-token", "FAIL", "high"),
        ("secret:edge-tls", "FAIL", "critical"),
        ("secret:cert-missing", "ERROR", "critical"),
    }
    assert code == 3
    assert len(load_baseline(matrix_estate["baseline_high"]).fingerprints) == 1
    assert len(load_baseline(matrix_estate["baseline_all"]).fingerprints) == 3


@pytest.mark.parametrize(("waiver", "baseline"), list(itertools.product(WAIVER_FILES, ("none", "high", "all"))))
def test_exit_code_matrix(
    matrix_estate: dict[str, Path], cli: Callable[..., CliResult], tmp_path: Path, waiver: str, baseline: str
) -> None:
    db = str(tmp_path / "matrix.db")
    got: dict[tuple[str, bool, bool], int] = {}
    want: dict[tuple[str, bool, bool], int] = {}
    for fail_on, (errors, allow) in itertools.product(
        ("none", "critical", "high", "medium", "low"), ((False, False), (True, False), (True, True))
    ):
        # Same file (fingerprints include the path), with or without an entry that cannot be evaluated.
        inv = matrix_estate["inventory"]
        inv.write_text(INVENTORY_V1 + WITH_ERROR if errors else INVENTORY_V1)
        args = ["scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json", "--fail-on", fail_on]
        if waiver != "none":
            args += ["--waivers", str(matrix_estate[f"waivers_{waiver}"])]
        if baseline != "none":
            args += ["--baseline", str(matrix_estate[f"baseline_{baseline}"])]
        if allow:
            args.append("--allow-errors")
        res = cli(*args)
        got[(fail_on, errors, allow)] = res.code
        want[(fail_on, errors, allow)] = expected_exit(fail_on, waiver, baseline, errors, allow)
        # Reporting is separate from gating: every finding is still reported.
        assert len(json.loads(res.out)["findings"]) == (5 if errors else 4)
    assert got == want


def test_exit_codes_spot_checks() -> None:
    """The oracle above, pinned on hand-worked cases."""
    assert expected_exit("high", "none", "none", errors=False, allow_errors=False) == 1
    assert expected_exit("critical", "critical", "none", errors=False, allow_errors=False) == 0
    assert expected_exit("high", "critical", "high", errors=False, allow_errors=False) == 0
    assert expected_exit("medium", "critical", "high", errors=False, allow_errors=False) == 1
    assert expected_exit("low", "all", "none", errors=True, allow_errors=False) == 3
    assert expected_exit("low", "all", "none", errors=True, allow_errors=True) == 0
    assert expected_exit("none", "none", "none", errors=True, allow_errors=False) == 3
    assert expected_exit("low", "none", "all", errors=True, allow_errors=True) == 0


def test_real_process_exit_code_and_stale_warning_on_stderr(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY_V0)
    waivers = tmp_path / "w.yaml"
    waivers.write_text(WAIVER_FILES["critical"] or "")
    res = run_auditor(
        "scan",
        "--secrets-inventory",
        str(inv),
        "--db",
        str(tmp_path / "p.db"),
        "--waivers",
        str(waivers),
        "--fail-on",
        "high",
        "--format",
        "sarif",
    )
    assert res.code == 1
    assert json.loads(res.out)["version"] == "2.1.0"
    assert "waiver waivers-critical" not in res.err
    assert (
        f"waiver {waivers.name}:2 (check secrets.certificate.*, resource secret:edge-tls) matched no failing" in res.err
    )
