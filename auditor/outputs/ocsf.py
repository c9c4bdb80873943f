"""`--format ocsf`: OCSF 1.1 Compliance Finding events (class 2003), one JSON object per line.

For data lakes and SIEMs (Amazon Security Lake, Splunk, ...). Every finding is an
event, passes included (they are the evidence that a control worked):

- `compliance`: `standards` (SOC 2, GDPR), `requirements` (our control refs such as
  `soc2:CC6.1`), `control` (the check id), and the check's outcome as `status_id`
  (1 Pass, 3 Fail - also for waived fails, 0 Unknown for ERROR, 99 Other for SKIPPED);
- finding `status_id`: 1 New, or 3 Suppressed for a WAIVED finding; `status_code` is
  our status;
- `severity_id`: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical;
- `finding_info.uid` is our fingerprint; `resources` the resource (ARN, path);
- our evidence and waiver go under `unmapped`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from auditor import __version__
from auditor.models import Finding, Severity, Status

if TYPE_CHECKING:
    from auditor.engine import ScanResult

OCSF_VERSION = "1.1.0"
CLASS_UID = 2003
CATEGORY_UID = 2
ACTIVITY_CREATE = 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE

SEVERITY_ID = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
COMPLIANCE_STATUS = {
    Status.PASS: (1, "Pass"),
    Status.FAIL: (3, "Fail"),
    Status.WAIVED: (3, "Fail"),
    Status.ERROR: (0, "Unknown"),
    Status.SKIPPED: (99, "Other"),
}
STANDARDS = {"soc2": "SOC 2", "gdpr": "GDPR"}


def _ms(finding_time: Any) -> int:
    return int(finding_time.timestamp() * 1000)


def event(f: Finding, result: ScanResult) -> dict[str, Any]:
    run = result.run
    when = _ms(run.finished_at or run.started_at)
    sev_id, sev_name = SEVERITY_ID[f.severity]
    comp_id, comp_name = COMPLIANCE_STATUS[f.status]
    frameworks = sorted({ref.split(":", 1)[0] for ref in f.controls})
    suppressed = f.status is Status.WAIVED
    resource: dict[str, Any] = {"uid": f.resource.id, "type": f.resource.type, "name": f.resource.id}
    if f.resource.region:
        resource["region"] = f.resource.region
    data = {k: v for k, v in (("path", f.resource.path), ("line", f.resource.line)) if v is not None}
    if data:
        resource["data"] = data
    out: dict[str, Any] = {
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "time": when,
        "severity_id": sev_id,
        "severity": sev_name,
        "status_id": 3 if suppressed else 1,
        "status": "Suppressed" if suppressed else "New",
        "status_code": f.status.value,
        "status_detail": f.message,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": f"{run.id}:{f.fingerprint}",
            "correlation_uid": run.id,
            "product": {"name": "auditor", "vendor_name": "auditor", "version": __version__},
        },
        "finding_info": {
            "uid": f.fingerprint,
            "title": f.title or f.check_id,
            "desc": f.message,
            "types": [f.provider or f.check_id.split(".", 1)[0]],
            "created_time": when,
        },
        "compliance": {
            "control": f.check_id,
            "standards": [STANDARDS.get(fw, fw.upper()) for fw in frameworks],
            "requirements": list(f.controls),
            "status_id": comp_id,
            "status": comp_name,
            "status_code": f.status.value,
        },
        "resources": [resource],
        "unmapped": {"evidence": f.evidence, "waiver": f.waiver, "severity": f.severity.value},
    }
    if f.remediation:
        out["remediation"] = {"desc": f.remediation}
    if f.resource.account or f.resource.id.startswith("arn:"):
        cloud: dict[str, Any] = {"provider": "AWS"}
        if f.resource.account:
            cloud["account"] = {"uid": f.resource.account}
        if f.resource.region:
            cloud["region"] = f.resource.region
        out["cloud"] = cloud
    return out


def write(result: ScanResult, stream: TextIO) -> None:
    for f in result.findings:
        stream.write(json.dumps(event(f, result), sort_keys=False, separators=(",", ":"), default=str))
        stream.write("\n")
