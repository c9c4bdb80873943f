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


def render(result: ScanResult, inventory: sarif.ResourceInventory | None = None) -> dict[str, Any]:
    if inventory is not None:
        inventory.path.write_text(inventory.render(result.findings), encoding="utf-8")
    doc = sarif.to_document(result, inventory=inventory)
    # What `--format sarif` writes is exactly this document.
    return json.loads(json.dumps(doc))


def with_inventory(tmp_path: Path) -> sarif.ResourceInventory:
    return sarif.ResourceInventory(path=tmp_path / "cloud-resources.txt", rel="cloud-resources.txt")


def validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(doc)


def test_mixed_scan_validates_against_the_sarif_schema(mixed_result: ScanResult, tmp_path: Path) -> None:
    for inventory in (None, with_inventory(tmp_path)):
        doc = render(mixed_result, inventory)
        validate(doc)
        assert doc["version"] == "2.1.0"
        assert len(doc["runs"]) == 1
    stream = io.StringIO()
    FORMATS["sarif"](mixed_result, stream)
    validate(json.loads(stream.getvalue()))


INV = "estate/inventory.yaml"  # the golden inventory lives at tmp_path/estate, the source root is tmp_path
FILE_RESULTS = {
    ("iac.CKV_AWS_18", "error", "infra/main.tf", 12),
    ("code.python.sql-injection", "error", "app/db%20views.py", 40),
    ("secrets.inventory.rotation_age/medium", "warning", INV, 8),  # overdue-password
    ("secrets.inventory.rotation_age", "error", INV, 12),  # very-overdue-token (high: the check's own)
    ("secrets.inventory.rotation_age", "error", INV, 19),  # never-recorded (high)
    ("secrets.certificate.expiry/medium", "warning", INV, 23),  # cert-soon
    ("secrets.certificate.expiry/high", "error", INV, 25),  # cert-urgent
    ("secrets.certificate.expiry", "error", INV, 27),  # cert-expired (critical: the check's own)
    ("secrets.certificate.expiry/high", "error", INV, 29),  # cert-future
}


def located(run: dict[str, Any]) -> set[tuple[str, str, str, int]]:
    got = set()
    for r in run["results"]:
        loc = r["locations"][0]["physicalLocation"]
        got.add((r["ruleId"], r["level"], loc["artifactLocation"]["uri"], loc["region"]["startLine"]))
    return got


def test_file_findings_are_results_on_their_file_and_line(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result)["runs"][0]
    assert located(run) == FILE_RESULTS
    for r in run["results"]:
        art = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art["uriBaseId"] == "%SRCROOT%" and "\\" not in art["uri"] and not art["uri"].startswith("/")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    ends = {r["ruleId"]: r["locations"][0]["physicalLocation"].get("region") for r in run["results"]}
    assert ends["iac.CKV_AWS_18"] == {"startLine": 12, "endLine": 20}


def test_cloud_findings_are_left_out_and_counted_by_default(mixed_result: ScanResult) -> None:
    run = render(mixed_result)["runs"][0]
    assert not any("logicalLocations" in r["locations"][0] for r in run["results"])
    # bucket_encryption (FAIL), bucket_logging (WAIVED), root_mfa (FAIL): no file to show them on
    assert run["properties"]["auditor"]["not_in_sarif"] == {"aws": 3}
    notes = run["invocations"][0]["toolExecutionNotifications"]
    left = [n for n in notes if n.get("descriptor", {}).get("id") == "auditor/not-in-sarif"]
    assert len(left) == 1 and "3 finding(s)" in left[0]["message"]["text"] and "--sarif-resources" in left[0][
        "message"
    ]["text"]


def test_resource_inventory_places_cloud_findings_on_their_lines(mixed_result: ScanResult, tmp_path: Path) -> None:
    inventory = with_inventory(tmp_path)
    run = render(mixed_result, inventory)["runs"][0]
    lines = inventory.path.read_text().splitlines()
    cloud = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
        for r in run["results"]
        if "logicalLocations" in r["locations"][0]
    }
    assert cloud == {
        ("aws.s3.bucket_encryption", BUCKET_ARN),
        ("aws.s3.bucket_logging", LOGS_ARN),
        ("aws.iam.root_mfa", "arn:aws:iam::123456789012:root"),
    }
    for r in run["results"]:
        loc = r["locations"][0]
        if "logicalLocations" not in loc:
            continue
        phys = loc["physicalLocation"]
        assert phys["artifactLocation"] == {"uri": "cloud-resources.txt", "uriBaseId": "%SRCROOT%"}
        # the line of the inventory names the resource
        assert lines[phys["region"]["startLine"] - 1].split()[0] == loc["logicalLocations"][0]["fullyQualifiedName"]
    assert located(run) >= FILE_RESULTS
    assert run["properties"]["auditor"]["not_in_sarif"] == {}
    # every resource without a file is listed (PASS, ERROR and SKIPPED ones too: lines stay put)
    listed = {line.split()[0] for line in lines if not line.startswith("#")}
    assert listed == {f.resource.id for f in mixed_result.findings if not f.resource.path}


def test_pass_skipped_and_error_are_not_results(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, with_inventory(tmp_path))["runs"][0]
    fps = {r["partialFingerprints"]["auditor/v1"] for r in run["results"]}
    expected = {f.fingerprint for f in mixed_result.findings if f.status in (Status.FAIL, Status.WAIVED)}
    assert fps == expected
    notes = [n for n in run["invocations"][0]["toolExecutionNotifications"] if n["level"] == "error"]
    errors = [f for f in mixed_result.findings if f.status is Status.ERROR]
    assert len(notes) == len(errors) >= 2  # one notification for every ERROR finding
    assert {n["descriptor"]["id"] for n in notes} == {"aws.kms.key_rotation", "secrets.certificate.expiry"}
    assert any(KEY_ARN in n["message"]["text"] for n in notes)
    # a run with checks that could not look did not execute successfully
    assert run["invocations"][0]["executionSuccessful"] is False
    clean = [f for f in mixed_result.findings if f.status is not Status.ERROR]
    clean_run = render(replace(mixed_result, findings=clean))["runs"][0]
    assert clean_run["invocations"][0]["executionSuccessful"] is (mixed_result.run.status.value == "complete")


def test_waived_result_is_suppressed_with_justification(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, with_inventory(tmp_path))["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["aws.s3.bucket_logging"]
    s = suppressed[0]["suppressions"][0]
    assert s["kind"] == "external" and s["status"] == "accepted"
    assert s["justification"] == (
        "access logs bucket cannot log into itself (approved by alice@example.com, expires 2027-03-31, "
        "waiver logs-bucket)"
    )


def test_an_approved_inline_suppression_is_in_source(mixed_result: ScanResult) -> None:
    inline = {"id": "app.py:3", "source": "inline", "approved": True, "reason": "test fixture",
              "approver": "alice@example.com", "expires": "2027-01-31"}  # fmt: skip
    fail = next(f for f in mixed_result.findings if f.check_id == "iac.CKV_AWS_18")
    waived = replace(fail, status=Status.WAIVED, waiver=inline)
    run = render(replace(mixed_result, findings=[waived]))["runs"][0]
    (s,) = run["results"][0]["suppressions"]
    assert (s["kind"], s["status"]) == ("inSource", "accepted")
    validate({"version": "2.1.0", "runs": [run]})


def test_every_result_has_its_rules_severity(mixed_result: ScanResult, tmp_path: Path) -> None:
    run = render(mixed_result, with_inventory(tmp_path))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    by_id = {r["id"]: r for r in rules}
    # GitHub reads security-severity from the rule only: a result never differs from its rule
    severity_of = {f.fingerprint: f.severity for f in mixed_result.findings}
    for r in run["results"]:
        rule = rules[r["ruleIndex"]]
        assert rule["id"] == r["ruleId"]
        severity = severity_of[r["partialFingerprints"]["auditor/v1"]]
        assert rule["properties"]["security-severity"] == sarif.SECURITY_SEVERITY[severity]
        assert rule["defaultConfiguration"]["level"] == r["level"] == sarif.LEVEL[severity]
        assert "security-severity" not in r["properties"]
        assert r["properties"]["check_id"] == r["ruleId"].split("/")[0]
    assert by_id["secrets.certificate.expiry"]["properties"]["security-severity"] == "9.5"  # the check's own
    assert by_id["secrets.certificate.expiry/high"]["properties"]["security-severity"] == "8.0"
    assert by_id["secrets.certificate.expiry/medium"]["properties"]["security-severity"] == "5.5"
    assert by_id["aws.s3.bucket_logging"]["properties"]["security-severity"] == "3.0"
    assert by_id["aws.iam.root_mfa"]["properties"]["security-severity"] == "0.0"
    rot = by_id["secrets.inventory.rotation_age"]
    assert "Rotate the secret" in rot["help"]["text"] and rot["help"]["markdown"].count("**Remediation:**") == 1
    assert rot["shortDescription"]["text"] == "Secrets are rotated within their maximum age"
    assert by_id["secrets.inventory.rotation_age/medium"]["shortDescription"]["text"].endswith("(medium)")
    assert "soc2:CC6.1" in rot["properties"]["tags"]
    assert all(len(r["properties"]["tags"]) <= sarif.MAX_TAGS for r in rules)
    # every check of the scan has its rule, even when nothing failed
    assert set(mixed_result.checks) <= set(ids)


def test_fingerprints_ignore_line_numbers(mixed_result: ScanResult, tmp_path: Path) -> None:
    moved = [replace(f, resource=replace(f.resource, line=(f.resource.line or 0) + 7)) for f in mixed_result.findings]
    a = render(mixed_result)["runs"][0]["results"]
    b = render(replace(mixed_result, findings=moved))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in a] == [r["partialFingerprints"] for r in b]
    assert [r["locations"] for r in a] != [r["locations"] for r in b]


def test_baseline_state_new_and_unchanged(mixed_result: ScanResult, tmp_path: Path) -> None:
    known = next(f for f in mixed_result.findings if f.check_id == "iac.CKV_AWS_18")
    doc = render(replace(mixed_result, baseline=Baseline(frozenset({known.fingerprint}))))
    validate(doc)
    states = {r["ruleId"]: r["baselineState"] for r in doc["runs"][0]["results"]}
    assert states["iac.CKV_AWS_18"] == "unchanged"
    assert {s for k, s in states.items() if k != "iac.CKV_AWS_18"} == {"new"}
    assert "baselineState" not in render(mixed_result)["runs"][0]["results"][0]


def test_files_outside_the_source_root_are_not_given_to_code_scanning(
    mixed_result: ScanResult, tmp_path: Path
) -> None:
    other_root = tmp_path / "elsewhere"
    other_root.mkdir()
    moved = replace(mixed_result, source_root=other_root, findings=[
        replace(f, resource=replace(f.resource, path=str(tmp_path / f.resource.path)))
        if f.resource.path else f for f in mixed_result.findings
    ])
    doc = render(moved)
    validate(doc)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["properties"]["auditor"]["not_in_sarif"] == {"aws": 3, "code": 1, "iac": 1, "secrets": 7}


def test_more_results_than_github_accepts_keeps_the_most_severe(mixed_result: ScanResult, monkeypatch: Any) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    run = render(mixed_result)["runs"][0]
    assert len(run["results"]) == 3
    assert {r["level"] for r in run["results"]} == {"error"}
    assert "secrets.certificate.expiry" in {r["ruleId"] for r in run["results"]}  # the expired certificate
    assert run["properties"]["auditor"]["over_limit"] == len(FILE_RESULTS) - 3
