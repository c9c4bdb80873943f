"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF readers.

- one rule per check (help text, `security-severity`, controls as tags);
- FAIL findings are results at level error (critical, high), warning (medium) or note
  (low, info); WAIVED findings are results with an accepted external suppression that
  carries the waiver's reason, approver and expiry; PASS and SKIPPED findings are not
  results (code scanning shows only problems); ERROR findings are tool execution
  notifications of the invocation (the check could not look: not a result either way);
- file findings have a physical location relative to the repository root (`%SRCROOT%`,
  forward slashes) with the line; cloud findings have a logical location (the ARN) and,
  because GitHub rejects results without an artifact URI, a physical location under
  the pseudo-directory `cloud/` whose name is the percent-encoded resource id;
- `partialFingerprints["auditor/v1"]` is our fingerprint (check + resource identity, no
  line number), so alerts survive edits that move code;
- with `--baseline`, `baselineState` is `new` or `unchanged`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from auditor import __version__
from auditor.models import CheckInfo, Finding, Severity, Status, iso_z

if TYPE_CHECKING:
    from auditor.engine import ScanResult

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "auditor/v1"
SRCROOT = "%SRCROOT%"
CLOUD_DIR = "cloud"

# GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9), low (0.1-3.9).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
REPORTED = (Status.FAIL, Status.WAIVED)


def repository_root(start: Path | None = None) -> Path:
    """The nearest ancestor of `start` (default: cwd) holding `.git`, else `start` itself."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def artifact_location(finding: Finding, root: Path) -> dict[str, Any]:
    """Where a finding is: a path relative to the source root, or a pseudo path for cloud resources."""
    path = finding.resource.path
    if not path:
        return {"uri": f"{CLOUD_DIR}/{quote(finding.resource.id, safe='')}"}
    absolute = Path(path) if Path(path).is_absolute() else Path.cwd() / path
    try:
        rel = os.path.relpath(absolute.resolve(), root)
    except ValueError:  # another drive on Windows
        rel = ".."
    if rel.startswith(".."):
        return {"uri": absolute.resolve().as_uri()}
    return {"uri": quote(PurePosixPath(*Path(rel).parts).as_posix(), safe="/"), "uriBaseId": SRCROOT}


def _text(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def build_rule(check_id: str, info: CheckInfo | None, sample: Finding | None, controls: list[str]) -> dict[str, Any]:
    title = (info.title if info else "") or (sample.title if sample else "") or check_id
    severity = info.severity if info else (sample.severity if sample else Severity.MEDIUM)
    description = (info.description if info else "") or title
    remediation = (info.remediation if info else "") or (sample.remediation if sample else "")
    risk = info.risk if info else ""
    help_text = _text(
        description, f"Risk: {risk}" if risk else "", f"Remediation: {remediation}" if remediation else ""
    )
    help_md = _text(
        description,
        f"**Risk:** {risk}" if risk else "",
        f"**Remediation:** {remediation}" if remediation else "",
        f"**Controls:** {', '.join(controls)}" if controls else "",
    )
    provider = (info.provider if info else "") or (sample.provider if sample else "") or check_id.split(".", 1)[0]
    return {
        "id": check_id,
        "name": "".join(part[:1].upper() + part[1:] for part in check_id.replace("-", "_").split("_") if part),
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "help": {"text": help_text or title, "markdown": help_md or title},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "problem.severity": "error" if LEVEL[severity] == "error" else "warning",
            "precision": "high",
            "tags": ["security", "compliance", provider, *controls],
        },
    }


def build_result(finding: Finding, rule_index: int, root: Path, baseline_state: str | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(finding, root)}
    if finding.resource.path and finding.resource.line:
        region: dict[str, Any] = {"startLine": finding.resource.line}
        if finding.resource.end_line and finding.resource.end_line >= finding.resource.line:
            region["endLine"] = finding.resource.end_line
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    if not finding.resource.path:
        location["logicalLocations"] = [
            {
                "name": finding.resource.id.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or finding.resource.id,
                "fullyQualifiedName": finding.resource.id,
                "kind": "resource",
            }
        ]
    message = finding.message or finding.title or finding.check_id
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": finding.severity.value,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "status": finding.status.value,
            "resource": {k: v for k, v in finding.resource.to_dict().items() if v is not None},
            "controls": list(finding.controls),
        },
    }
    if finding.status is Status.WAIVED:
        w = finding.waiver or {}
        justification = (
            f"{w.get('reason', '')} (approved by {w.get('approver', '?')}, expires {w.get('expires', '?')}, "
            f"waiver {w.get('id', '?')})"
        )
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": justification,
                "properties": {"waiver": w},
            }
        ]
    if baseline_state is not None:
        result["baselineState"] = baseline_state
    return result


def to_document(result: ScanResult, root: Path | None = None) -> dict[str, Any]:
    root = (root or repository_root()).resolve()
    reported = [f for f in result.findings if f.status in REPORTED]
    errors = [f for f in result.findings if f.status is Status.ERROR]
    controls_by_check: dict[str, list[str]] = {}
    samples: dict[str, Finding] = {}
    for f in result.findings:
        samples.setdefault(f.check_id, f)
        refs = controls_by_check.setdefault(f.check_id, [])
        refs.extend(c for c in f.controls if c not in refs)
    rule_ids = sorted(set(result.checks) | set(samples))
    rules = [
        build_rule(cid, result.checks.get(cid), samples.get(cid), controls_by_check.get(cid, [])) for cid in rule_ids
    ]
    index = {cid: i for i, cid in enumerate(rule_ids)}
    baseline = result.baseline
    results = [
        build_result(f, index[f.check_id], root, baseline.state(f) if baseline is not None else None) for f in reported
    ]
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{f.check_id} on {f.resource.id}: {f.message}"},
            "associatedRule": {"id": f.check_id, "index": index[f.check_id]},
        }
        for f in errors
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": result.run.status.value != "failed",
        "startTimeUtc": iso_z(result.run.started_at),
    }
    if result.run.finished_at is not None:
        invocation["endTimeUtc"] = iso_z(result.run.finished_at)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "auditor",
                        "version": __version__,
                        "semanticVersion": __version__.split("+", 1)[0],
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
                "invocations": [invocation],
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "auditor": {
                        "run_id": result.run.id,
                        "run_status": result.run.status.value,
                        "summary": result.summary,
                    }
                },
            }
        ],
    }


def write(result: ScanResult, stream: TextIO) -> None:
    json.dump(to_document(result), stream, indent=2, default=str)
    stream.write("\n")
