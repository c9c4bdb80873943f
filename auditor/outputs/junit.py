"""`--format junit`: JUnit XML that GitLab, Jenkins and most CI systems read.

One test suite per provider, one test case per check x resource (`classname` is the
check id, `name` the resource id): FAIL is a `<failure>`, ERROR an `<error>`, SKIPPED
and WAIVED are `<skipped>` (a waived finding says who accepted it until when); PASS is a
plain passing test case. Counts on `<testsuites>` and each `<testsuite>` are `tests`,
`failures` (FAIL), `errors` (ERROR) and `skipped` (SKIPPED + WAIVED).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TYPE_CHECKING, TextIO

from auditor.models import Finding, Status, iso_z

if TYPE_CHECKING:
    from auditor.engine import ScanResult

# XML 1.0 cannot carry most control characters, not even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))


def _details(f: Finding) -> str:
    lines = [
        f"check: {f.check_id}",
        f"severity: {f.severity.value}",
        f"resource: {f.resource.id} ({f.resource.type})",
    ]
    if f.resource.path:
        lines.append(f"location: {f.resource.path}" + (f":{f.resource.line}" if f.resource.line else ""))
    if f.resource.account or f.resource.region:
        lines.append(f"account/region: {f.resource.account or '-'} / {f.resource.region or '-'}")
    lines.append(f"message: {f.message}")
    if f.controls:
        lines.append(f"controls: {', '.join(f.controls)}")
    if f.remediation:
        lines.append(f"remediation: {f.remediation}")
    lines.append(f"fingerprint: {f.fingerprint}")
    return "\n".join(lines)


def _counts(findings: list[Finding]) -> dict[str, str]:
    return {
        "tests": str(len(findings)),
        "failures": str(sum(1 for f in findings if f.status is Status.FAIL)),
        "errors": str(sum(1 for f in findings if f.status is Status.ERROR)),
        "skipped": str(sum(1 for f in findings if f.status in (Status.SKIPPED, Status.WAIVED))),
    }


def testcase(f: Finding) -> ET.Element:
    attrs = {"classname": clean(f.check_id), "name": clean(f.resource.id), "time": "0"}
    if f.resource.path:
        attrs["file"] = clean(f.resource.path)
        if f.resource.line:
            attrs["line"] = str(f.resource.line)
    case = ET.Element("testcase", attrs)
    message = clean(f"[{f.severity.value}] {f.message}")
    if f.status is Status.FAIL:
        ET.SubElement(case, "failure", {"message": message, "type": f.severity.value}).text = clean(_details(f))
    elif f.status is Status.ERROR:
        ET.SubElement(case, "error", {"message": message, "type": "could-not-evaluate"}).text = clean(_details(f))
    elif f.status is Status.WAIVED:
        w = f.waiver or {}
        why = f"waived: {w.get('reason', '')} (approved by {w.get('approver', '?')}, expires {w.get('expires', '?')})"
        ET.SubElement(case, "skipped", {"message": clean(why)}).text = clean(_details(f))
    elif f.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", {"message": message})
    else:
        ET.SubElement(case, "system-out").text = clean(f.message)
    return case


def to_element(result: ScanResult) -> ET.Element:
    run = result.run
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    root = ET.Element(
        "testsuites", {"name": "auditor", **_counts(result.findings), "time": f"{max(duration, 0.0):.3f}"}
    )
    by_provider: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        by_provider[f.provider or f.check_id.split(".", 1)[0]].append(f)
    for provider in sorted(by_provider):
        findings = sorted(by_provider[provider], key=lambda f: (f.check_id, f.resource.id, f.fingerprint))
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": f"auditor.{provider}",
                **_counts(findings),
                "time": "0",
                "timestamp": iso_z(run.started_at),
            },
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (("run_id", run.id), ("run_status", run.status.value), ("provider", provider)):
            ET.SubElement(props, "property", {"name": name, "value": clean(value)})
        for f in findings:
            suite.append(testcase(f))
    return root


def write(result: ScanResult, stream: TextIO) -> None:
    root = to_element(result)
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")
