"""JUnit XML read back with xml.etree: counts equal the JSON summary, statuses map exactly."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from auditor.engine import ScanResult
from auditor.models import Status
from auditor.outputs import junit
from tests.conftest import CliResult

WAIVERS = """\
waivers:
  - check: secrets.certificate.*
    resource: secret:cert-soon
    reason: renewal is booked with the CA
    approver: carol
    created: 2026-11-01
    expires: 2027-01-15
"""


def parse(result: ScanResult) -> ET.Element:
    stream = io.StringIO()
    junit.write(result, stream)
    return ET.fromstring(stream.getvalue())


def counts(el: ET.Element) -> dict[str, int]:
    return {k: int(el.attrib[k]) for k in ("tests", "failures", "errors", "skipped")}


def test_cli_junit_counts_equal_the_json_summary(
    golden_inventory: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVERS)
    xml_path = tmp_path / "report.xml"
    common = ["scan", "--secrets-inventory", str(golden_inventory), "--waivers", str(waivers), "--allow-errors"]
    assert cli(*common, "--format", "junit", "--output", str(xml_path)).code == 0
    res = cli(*common, "--format", "json")
    assert res.code == 0
    summary = json.loads(res.out)["summary"]
    by = summary["by_status"]
    root = ET.parse(xml_path).getroot()
    assert root.tag == "testsuites"
    assert counts(root) == {
        "tests": summary["total"],
        "failures": by["FAIL"],
        "errors": by["ERROR"],
        "skipped": by["SKIPPED"] + by["WAIVED"],
    }
    assert counts(root) == {"tests": 13, "failures": 6, "errors": 2, "skipped": 1}
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == summary["total"]
    # Counted from the test cases themselves, as GitLab and Jenkins do.
    assert sum(1 for c in cases if c.find("failure") is not None) == by["FAIL"]
    assert sum(1 for c in cases if c.find("error") is not None) == by["ERROR"]
    assert sum(1 for c in cases if c.find("skipped") is not None) == by["SKIPPED"] + by["WAIVED"]
    waived = [c for c in cases if c.find("skipped") is not None]
    assert [c.attrib["name"] for c in waived] == ["secret:cert-soon"]
    skipped = waived[0].find("skipped")
    assert skipped is not None
    assert skipped.attrib["message"] == "waived: renewal is booked with the CA (approved by carol, expires 2027-01-15)"


def test_one_suite_per_provider_with_its_own_counts(mixed_result: ScanResult) -> None:
    root = parse(mixed_result)
    suites = {s.attrib["name"]: s for s in root.findall("testsuite")}
    assert set(suites) == {"auditor.aws", "auditor.code", "auditor.iac", "auditor.secrets"}
    assert counts(suites["auditor.aws"]) == {"tests": 5, "failures": 2, "errors": 1, "skipped": 2}
    assert counts(suites["auditor.code"]) == {"tests": 2, "failures": 1, "errors": 0, "skipped": 0}
    assert counts(suites["auditor.iac"]) == {"tests": 1, "failures": 1, "errors": 0, "skipped": 0}
    total = {k: sum(counts(s)[k] for s in suites.values()) for k in ("tests", "failures", "errors", "skipped")}
    assert total == counts(root)
    by = mixed_result.summary["by_status"]
    assert isinstance(by, dict)
    assert counts(root)["skipped"] == by["SKIPPED"] + by["WAIVED"]


def test_testcases_name_check_and_resource(mixed_result: ScanResult) -> None:
    root = parse(mixed_result)
    iac = root.find("./testsuite[@name='auditor.iac']/testcase")
    assert iac is not None
    assert iac.attrib["classname"] == "iac.CKV_AWS_18"
    assert iac.attrib["name"] == "aws_s3_bucket.exports"
    assert iac.attrib["file"].endswith("main.tf") and iac.attrib["line"] == "12"
    failure = iac.find("failure")
    assert failure is not None and failure.attrib["type"] == "high"
    assert failure.attrib["message"] == "[high] S3 bucket has no access logging"
    statuses = {
        (c.attrib["classname"], c.attrib["name"]): next((ch.tag for ch in c if ch.tag != "system-out"), "pass")
        for c in root.iter("testcase")
    }
    expected = {
        (f.check_id, f.resource.id): {
            Status.FAIL: "failure",
            Status.ERROR: "error",
            Status.SKIPPED: "skipped",
            Status.WAIVED: "skipped",
            Status.PASS: "pass",
        }[f.status]
        for f in mixed_result.findings
    }
    assert statuses == expected


def test_control_characters_do_not_break_the_xml(mixed_result: ScanResult) -> None:
    from dataclasses import replace

    bad = replace(mixed_result.findings[0], message="bell \x07 and null \x00 <&>")
    root = parse(replace(mixed_result, findings=[bad]))
    case = root.find("./testsuite/testcase")
    assert case is not None
    assert any("<&>" in (child.attrib.get("message", "") + (child.text or "")) for child in case)
