"""`--format ocsf`: OCSF 1.3.0 Compliance Finding events (class 2003), one JSON object per line.

For data lakes and SIEMs (Amazon Security Lake, Splunk, ...). Every finding is an
event, passes included (they are the evidence that a control worked). Each event is
valid against the official OCSF 1.3.0 schema of the class (tests/fixtures/ocsf/):
1.3.0 is the first version whose Compliance Finding has the `resources` array.

- `compliance`: `standards` (each framework's name from its catalog), `requirements` (our control refs such as
  `soc2:CC6.1`), `control` (the check id), the check's outcome as `status_id`/`status`
  (see `COMPLIANCE_STATUS`), our status as `status_code`, the message as `status_detail`;
- finding `status_id`: 1 New, or 3 Suppressed for a WAIVED finding; `status_code` is
  our status;
- `severity_id`: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical;
- `finding_info.uid` is our fingerprint; `first_seen_time`/`last_seen_time` from the
  store's lifecycle when known;
- `resources[0]` is the resource (`uid`, `name`, `type`; with the cloud profile also
  `region` and, for ARNs, `cloud_partition`); a file finding's path (relative to the source root) and lines are in
  `resources[0].data` (`path`, `line`, `end_line`): OCSF 1.3.0 has no file or line
  attribute on a Compliance Finding or a resource;
- AWS findings apply the `cloud` profile (`metadata.profiles: ["cloud"]`, `cloud`
  with `provider` "AWS", `account.uid` and `region`);
- our evidence, waiver and severity go under `unmapped`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from auditor import __version__
from auditor.frameworks import frameworks_for
from auditor.models import Finding, Severity, Status

if TYPE_CHECKING:
    from auditor.engine import ScanResult

OCSF_VERSION = "1.3.0"
CLASS_UID = 2003
CATEGORY_UID = 2
ACTIVITY_CREATE = 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE
MAX_STRING = 65535  # OCSF string_t max_len

SEVERITY_ID = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
# compliance.status_id (OCSF 1.3.0: 0 Unknown, 1 Pass, 2 Warning, 3 Fail, 99 Other) and
# compliance.status: the enum caption, or our own label where the id is 99 Other.
COMPLIANCE_STATUS = {
    Status.PASS: (1, "Pass"),
    Status.FAIL: (3, "Fail"),
    Status.WAIVED: (3, "Fail"),  # the check failed; the finding is Suppressed
    Status.ERROR: (2, "Warning"),  # "did not yield a result due to missing information"
    Status.SKIPPED: (99, "SKIPPED"),  # not applicable: no enum value, so Other + our label
}
# Finding status_id (OCSF 1.3.0: 0 Unknown, 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 99 Other).
FINDING_STATUS = {status: (1, "New") for status in Status} | {Status.WAIVED: (3, "Suppressed")}
_STANDARDS: dict[str, str] = {}


def standard_name(framework_id: str) -> str:
    """The framework's own name from its catalog (`SOC 2`, `ISO/IEC 27001:2022 - Annex A`); the id
    when it is not installed (a run scanned with a catalog that is gone)."""
    if framework_id not in _STANDARDS:
        try:
            (fw,) = frameworks_for([framework_id])
            _STANDARDS[framework_id] = fw.name or framework_id
        except Exception:  # noqa: BLE001 - a name for an event, never a reason to fail the output
            _STANDARDS[framework_id] = framework_id
    return _STANDARDS[framework_id]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _text(value: str) -> str:
    return value if len(value) <= MAX_STRING else value[: MAX_STRING - 1] + "…"


def _iso_ms(value: str) -> int | None:
    try:
        return _ms(datetime.fromisoformat(value))
    except ValueError:
        return None


def is_cloud(f: Finding) -> bool:
    return f.provider == "aws" or f.resource.account is not None or f.resource.id.startswith("arn:")


def _resource(f: Finding, cloud: bool) -> dict[str, Any]:
    """`resources[0]`; `region` and `cloud_partition` exist on it only under the cloud profile."""
    res = f.resource
    out: dict[str, Any] = {"uid": _text(res.id), "name": _text(res.id), "type": _text(res.type)}
    data = {k: v for k, v in (("path", res.path), ("line", res.line), ("end_line", res.end_line)) if v is not None}
    if cloud:
        if res.region:
            out["region"] = res.region
        partition = res.id.split(":", 2)[1] if res.id.startswith("arn:") and res.id.count(":") >= 5 else ""
        if partition:
            out["cloud_partition"] = partition
    elif res.region:
        data["region"] = res.region
    if data:
        out["data"] = data
    return out


def event(f: Finding, result: ScanResult) -> dict[str, Any]:
    run = result.run
    when = _ms(run.finished_at or run.started_at)
    sev_id, sev_name = SEVERITY_ID[f.severity]
    comp_id, comp_name = COMPLIANCE_STATUS[f.status]
    status_id, status_name = FINDING_STATUS[f.status]
    frameworks = sorted({ref.split(":", 1)[0] for ref in f.controls})
    cloud = is_cloud(f)
    message = _text(f.message)
    finding_info: dict[str, Any] = {
        "uid": f.fingerprint,
        "title": _text(f.title or f.check_id),
        "desc": message,
        "types": [f.provider or f.check_id.split(".", 1)[0]],
        "created_time": when,
    }
    seen = result.seen.get(f.fingerprint)
    if seen is not None:
        for key, value in zip(("first_seen_time", "last_seen_time"), seen, strict=True):
            stamp = _iso_ms(value)
            if stamp is not None:
                finding_info[key] = stamp
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "uid": f"{run.id}:{f.fingerprint}",
        "correlation_uid": run.id,
        "product": {"name": "auditor", "vendor_name": "auditor", "version": __version__},
    }
    if cloud:
        metadata["profiles"] = ["cloud"]
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
        "timezone_offset": 0,
        "severity_id": sev_id,
        "severity": sev_name,
        "status_id": status_id,
        "status": status_name,
        "status_code": f.status.value,
        "status_detail": message,
        "message": message,
        "metadata": metadata,
        "finding_info": finding_info,
        "compliance": {
            "control": f.check_id,
            "standards": [standard_name(fw) for fw in frameworks],
            "requirements": list(f.controls),
            "status_id": comp_id,
            "status": comp_name,
            "status_code": f.status.value,
            "status_detail": message,
        },
        "resources": [_resource(f, cloud)],
        "unmapped": {
            k: v
            for k, v in (("evidence", f.evidence), ("waiver", f.waiver), ("severity", f.severity.value))
            if v is not None
        },
    }
    if f.remediation:
        out["remediation"] = {"desc": _text(f.remediation)}
    if cloud:
        cloud_obj: dict[str, Any] = {"provider": "AWS"}
        if f.resource.account:
            cloud_obj["account"] = {"uid": f.resource.account}
        if f.resource.region:
            cloud_obj["region"] = f.resource.region
        out["cloud"] = cloud_obj
    return out


def write(result: ScanResult, stream: TextIO) -> None:
    for f in result.findings:
        stream.write(json.dumps(event(f, result), sort_keys=False, separators=(",", ":"), default=str))
        stream.write("\n")
