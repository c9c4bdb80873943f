"""SARIF 2.1.0: schema-valid, GitHub code scanning's rules, stable fingerprints."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema

from auditor.baseline import Baseline
from auditor.engine import ScanResult
from auditor.models import Status
from auditor.outputs import FORMATS, sarif
from tests.outputs.conftest import BUCKET_ARN, KEY_ARN, LOGS_ARN

SCHEMA = json.loads((Path(__file__).parent.parent / "fixtures" / "sarif-schema-2.1.0.json").read_text())


def render(result: ScanResult, root: Path) -> dict[str, Any]:
    doc = sarif.to_document(result, root=root)
    # What `--format sarif` writes is exactly this document.
    return json.loads(json.dumps(doc))


def validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(doc)


def test_mixed_scan_validates_against_the_sarif_schema(mixed_result: ScanResult, tmp_path: Path) -> None:
    doc = render(mixed_result, tmp_path)
    validate(doc)
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    stream = io.StringIO()
    FORMATS["sarif"](mixed_result, stream)
    validate(json.loads(stream.getvalue()))


def test_results_are_fails_and_waivers_with_github_locations(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, tmp_path)["runs"][0]
    got = set()
    for r in run["results"]:
        loc = r["locations"][0]["physicalLocation"]
        got.add((r["ruleId"], r["level"], loc["artifactLocation"]["uri"], loc.get("region", {}).get("startLine")))
    inv_uri = "estate/inventory.yaml"  # the golden inventory lives at tmp_path/estate
    assert got == {
        ("iac.CKV_AWS_18", "error", "infra/main.tf", 12),
        ("code.python.sql-injection", "error", "app/db%20views.py", 40),
        ("aws.s3.bucket_encryption", "warning", "cloud/arn%3Aaws%3As3%3A%3A%3Acustomer-exports", None),
        ("aws.s3.bucket_logging", "note", "cloud/arn%3Aaws%3As3%3A%3A%3Aaccess-logs", None),
        ("aws.iam.root_mfa", "note", "cloud/arn%3Aaws%3Aiam%3A%3A123456789012%3Aroot", None),
        ("secrets.inventory.rotation_age", "warning", inv_uri, 8),  # overdue-password (medium)
        ("secrets.inventory.rotation_age", "error", inv_uri, 12),  # very-overdue-token (high)
        ("secrets.inventory.rotation_age", "error", inv_uri, 19),  # never-recorded (high)
        ("secrets.certificate.expiry", "warning", inv_uri, 23),  # cert-soon (medium)
        ("secrets.certificate.expiry", "error", inv_uri, 25),  # cert-urgent (high)
        ("secrets.certificate.expiry", "error", inv_uri, 27),  # cert-expired (critical)
        ("secrets.certificate.expiry", "error", inv_uri, 29),  # cert-future (high)
    }
    # GitHub rejects a result without physicalLocation.artifactLocation.uri; file URIs are relative.
    for r in run["results"]:
        art = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art["uri"] and "\\" not in art["uri"] and not art["uri"].startswith("/")
        if not art["uri"].startswith("cloud/"):
            assert art["uriBaseId"] == "%SRCROOT%"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    ends = {r["ruleId"]: r["locations"][0]["physicalLocation"].get("region") for r in run["results"]}
    assert ends["iac.CKV_AWS_18"] == {"startLine": 12, "endLine": 20}


def test_cloud_results_have_logical_locations(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, tmp_path)["runs"][0]
    logical = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        for r in run["results"]
        if "logicalLocations" in r["locations"][0]
    }
    assert logical == {BUCKET_ARN, LOGS_ARN, "arn:aws:iam::123456789012:root"}


def test_pass_skipped_and_error_are_not_results(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, tmp_path)["runs"][0]
    fps = {r["partialFingerprints"]["auditor/v1"] for r in run["results"]}
    expected = {f.fingerprint for f in mixed_result.findings if f.status in (Status.FAIL, Status.WAIVED)}
    assert fps == expected
    notes = run["invocations"][0]["toolExecutionNotifications"]
    errors = {f.check_id for f in mixed_result.findings if f.status is Status.ERROR}
    assert (
        {n["associatedRule"]["id"] for n in notes} == errors == {"aws.kms.key_rotation", "secrets.certificate.expiry"}
    )
    assert any(KEY_ARN in n["message"]["text"] for n in notes)
    assert run["invocations"][0]["executionSuccessful"] is True


def test_waived_result_is_suppressed_with_justification(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, tmp_path)["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["aws.s3.bucket_logging"]
    s = suppressed[0]["suppressions"][0]
    assert s["kind"] == "external" and s["status"] == "accepted"
    assert s["justification"] == (
        "access logs bucket cannot log into itself (approved by alice@example.com, expires 2027-03-31, "
        "waiver logs-bucket)"
    )


def test_one_rule_per_check_with_help_and_security_severity(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, tmp_path)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert set(ids) == {f.check_id for f in mixed_result.findings}
    by_id = {r["id"]: r for r in rules}
    assert by_id["secrets.certificate.expiry"]["properties"]["security-severity"] == "9.5"
    assert by_id["secrets.inventory.rotation_age"]["properties"]["security-severity"] == "8.0"
    assert by_id["aws.s3.bucket_encryption"]["properties"]["security-severity"] == "5.5"
    assert by_id["aws.s3.bucket_logging"]["properties"]["security-severity"] == "3.0"
    assert by_id["aws.iam.root_mfa"]["properties"]["security-severity"] == "0.0"
    rot = by_id["secrets.inventory.rotation_age"]
    assert "Rotate the secret" in rot["help"]["text"] and rot["help"]["markdown"].count("**Remediation:**") == 1
    assert rot["shortDescription"]["text"] == "Secrets are rotated within their maximum age"
    assert "soc2:CC6.1" in rot["properties"]["tags"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_fingerprints_ignore_line_numbers(mixed_result: ScanResult, tmp_path: Path) -> None:
    moved = [replace(f, resource=replace(f.resource, line=(f.resource.line or 0) + 7)) for f in mixed_result.findings]
    a = render(mixed_result, tmp_path)["runs"][0]["results"]
    b = render(replace(mixed_result, findings=moved), tmp_path)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in a] == [r["partialFingerprints"] for r in b]
    assert [r["locations"] for r in a] != [r["locations"] for r in b]


def test_baseline_state_new_and_unchanged(mixed_result: ScanResult, tmp_path: Path) -> None:
    known = next(f for f in mixed_result.findings if f.check_id == "iac.CKV_AWS_18")
    doc = render(replace(mixed_result, baseline=Baseline(frozenset({known.fingerprint}))), tmp_path)
    validate(doc)
    states = {r["ruleId"]: r["baselineState"] for r in doc["runs"][0]["results"]}
    assert states["iac.CKV_AWS_18"] == "unchanged"
    assert {s for k, s in states.items() if k != "iac.CKV_AWS_18"} == {"new"}
    assert "baselineState" not in render(mixed_result, tmp_path)["runs"][0]["results"][0]


def test_paths_outside_the_root_become_file_uris(mixed_result: ScanResult, tmp_path: Path) -> None:
    other_root = tmp_path / "elsewhere"
    other_root.mkdir()
    doc = render(mixed_result, other_root)
    validate(doc)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert (tmp_path / "infra" / "main.tf").resolve().as_uri() in uris
