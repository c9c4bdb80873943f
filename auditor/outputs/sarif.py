"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF readers.

- one rule per check and severity: a check whose findings all have its default severity is
  one rule (`ruleId` = check id); findings at another severity (a critical CVE of the
  dependency check, an expired certificate) go to the rule `<check id>/<severity>`, so the
  rule's `security-severity`, the only one GitHub reads, is always the result's own;
- FAIL findings are results at level error (critical, high), warning (medium) or note
  (low, info); WAIVED findings are results with an accepted external suppression that
  carries the waiver's reason, approver and expiry; PASS and SKIPPED findings are not
  results (code scanning shows only problems); ERROR findings are tool execution
  notifications of the invocation (the check could not look), and a run with any ERROR
  has `executionSuccessful: false`;
- file findings have a physical location relative to the scan's source root (`%SRCROOT%`,
  `--source-root`, default the git top level of the scanned paths) with `startLine` >= 1;
- cloud and image findings name no file. By default they are left out (counted in
  `properties.auditor.not_in_sarif` and in a notification: JSON, OCSF and the reports
  carry them). With a resource inventory file (`--sarif-resources FILE`, inside the
  source root) auditor writes one line per cloud/image resource into that file and places
  each such finding on its resource's line, with the resource as a logical location;
- `partialFingerprints["auditor/v1"]` is our fingerprint (check + resource identity, no
  line number), so alerts survive edits that move code;
- with `--baseline`, `baselineState` is `new` or `unchanged`;
- GitHub's ingestion limits hold: at most 25,000 results (the most severe are kept, the
  rest counted in a notification), one location per result, at most 10 tags per rule.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
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
MAX_RESULTS = 25_000  # GitHub rejects a run with more
MAX_TAGS = 10  # GitHub keeps only the first 10 tags of a rule

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




def is_repository_path(path: str | None) -> bool:
    """A path under the source root (relative, not climbing out): a file code scanning can show."""
    if not path:
        return False
    return not path.startswith("/") and path != ".." and not path.startswith("../")


def rule_id(finding: Finding, default: Severity | None) -> str:
    """The check id, or `<check id>/<severity>` for a finding away from the check's default severity."""
    if default is None or finding.severity is default:
        return finding.check_id
    return f"{finding.check_id}/{finding.severity.value}"


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class ResourceInventory:
    """`--sarif-resources FILE`: one line per cloud or image resource, so code scanning can place
    findings that name no file. `rel` is FILE relative to the source root."""

    path: Path
    rel: str
    lines: dict[str, int] = field(default_factory=dict)

    HEADER = (
        "# auditor resource inventory: one line per cloud or image resource that auditor scanned.",
        "# Written by `auditor scan --format sarif --sarif-resources FILE`; code scanning shows the",
        "# findings about each resource on its line. Commit it with the SARIF upload's revision.",
    )

    def render(self, findings: list[Finding]) -> str:
        """Every resource without a repository path, sorted (PASS ones too: lines stay put when a
        finding flips), numbered after the header."""
        rows: dict[str, str] = {}
        for f in findings:
            if is_repository_path(f.resource.path):
                continue
            r = f.resource
            rid = _CONTROL_CHARS.sub("?", r.id)
            where = " ".join(x for x in (r.type, r.account or "", r.region or "") if x)
            rows.setdefault(rid, f"{rid}    # {_CONTROL_CHARS.sub('?', where)}")
        out = list(self.HEADER)
        self.lines = {}
        for rid in sorted(rows):
            out.append(rows[rid])
            self.lines[rid] = len(out)
        return "\n".join(out) + "\n"

    def line_of(self, finding: Finding) -> int:
        return self.lines.get(_CONTROL_CHARS.sub("?", finding.resource.id), 1)


def _text(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def build_rule(
    rid: str, info: CheckInfo | None, sample: Finding | None, controls: list[str], severity: Severity
) -> dict[str, Any]:
    check_id = sample.check_id if sample is not None else rid
    title = (info.title if info else "") or (sample.title if sample else "") or check_id
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
    short = title if rid == check_id else f"{title} ({severity.value})"
    return {
        "id": rid,
        "name": "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", rid) if part),
        "shortDescription": {"text": short},
        "fullDescription": {"text": description},
        "help": {"text": help_text or title, "markdown": help_md or title},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "problem.severity": "error" if LEVEL[severity] == "error" else "warning",
            "precision": "high",
            "check_id": check_id,
            "severity": severity.value,
            "controls": controls,
            "tags": ["security", "compliance", provider, *controls][:MAX_TAGS],
        },
    }


def build_result(
    finding: Finding,
    rid: str,
    rule_index: int,
    baseline_state: str | None,
    inventory: ResourceInventory | None,
) -> dict[str, Any]:
    r = finding.resource
    location: dict[str, Any]
    if is_repository_path(r.path):
        assert r.path is not None
        start = r.line if r.line and r.line >= 1 else 1
        region: dict[str, Any] = {"startLine": start}
        if r.end_line and r.end_line >= start:
            region["endLine"] = r.end_line
        location = {
            "physicalLocation": {
                "artifactLocation": {"uri": quote(r.path, safe="/"), "uriBaseId": SRCROOT},
                "region": region,
            }
        }
    else:
        assert inventory is not None
        location = {
            "physicalLocation": {
                "artifactLocation": {"uri": quote(inventory.rel, safe="/"), "uriBaseId": SRCROOT},
                "region": {"startLine": inventory.line_of(finding)},
            },
            "logicalLocations": [
                {
                    "name": r.id.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or r.id,
                    "fullyQualifiedName": r.id,
                    "kind": "resource",
                }
            ],
        }
    message = finding.message or finding.title or finding.check_id
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "check_id": finding.check_id,
            "severity": finding.severity.value,
            "status": finding.status.value,
            "resource": {k: v for k, v in r.to_dict().items() if v is not None},
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
                # An approved `checkov:skip` / `nosemgrep` sits in the source; a waiver file or the
                # database is outside it.
                "kind": "inSource" if w.get("source") == "inline" else "external",
                "status": "accepted",
                "justification": justification,
                "properties": {"waiver": w},
            }
        ]
    if baseline_state is not None:
        result["baselineState"] = baseline_state
    return result


def to_document(
    result: ScanResult, root: Path | None = None, inventory: ResourceInventory | None = None
) -> dict[str, Any]:
    root = (root or result.source_root).resolve()
    defaults = {cid: info.severity for cid, info in result.checks.items()}
    for f in result.findings:
        defaults.setdefault(f.check_id, f.severity)  # a check without metadata: its first finding's
    reported = [f for f in result.findings if f.status in REPORTED]
    if inventory is None:
        in_sarif = [f for f in reported if is_repository_path(f.resource.path)]
        left_out = Counter(
            f.provider or f.check_id.split(".", 1)[0] for f in reported if not is_repository_path(f.resource.path)
        )
    else:
        in_sarif, left_out = list(reported), Counter()
    # GitHub rejects more than 25,000 results in a run: keep the most severe.
    in_sarif.sort(key=lambda f: -f.severity.rank)
    over = in_sarif[MAX_RESULTS:]
    in_sarif = in_sarif[:MAX_RESULTS]
    errors = [f for f in result.findings if f.status is Status.ERROR]

    controls_by_rule: dict[str, list[str]] = {}
    samples: dict[str, Finding] = {}
    severity_of: dict[str, Severity] = {}
    rid_of: dict[int, str] = {}
    for f in [*in_sarif, *errors]:
        rid = rule_id(f, defaults.get(f.check_id))
        rid_of[id(f)] = rid
        samples.setdefault(rid, f)
        severity_of.setdefault(rid, f.severity)
        refs = controls_by_rule.setdefault(rid, [])
        refs.extend(c for c in f.controls if c not in refs)
    for cid, info in result.checks.items():
        severity_of.setdefault(cid, info.severity)
    rule_ids = sorted(severity_of)
    rules = [
        build_rule(
            rid,
            result.checks.get(samples[rid].check_id if rid in samples else rid),
            samples.get(rid),
            controls_by_rule.get(rid, []),
            severity_of[rid],
        )
        for rid in rule_ids
    ]
    index = {rid: i for i, rid in enumerate(rule_ids)}
    baseline = result.baseline
    results = [
        build_result(
            f,
            rid_of[id(f)],
            index[rid_of[id(f)]],
            baseline.state(f) if baseline is not None else None,
            inventory,
        )
        for f in sorted(in_sarif, key=lambda f: (f.provider, f.check_id, f.resource.id, f.fingerprint))
    ]
    notifications: list[dict[str, Any]] = [
        {
            "level": "error",
            "message": {"text": f"{f.check_id} on {f.resource.id}: could not be evaluated: {f.message}"},
            "descriptor": {"id": f.check_id},
            "associatedRule": {"id": rid_of[id(f)], "index": index[rid_of[id(f)]]},
        }
        for f in errors
    ]
    if left_out:
        counts = ", ".join(f"{n} {p}" for p, n in sorted(left_out.items()))
        notifications.append(
            {
                "level": "note",
                "message": {
                    "text": f"{sum(left_out.values())} finding(s) name no file in the repository ({counts}) and are "
                    "not results here: see the JSON, OCSF or report output, or give --sarif-resources FILE"
                },
                "descriptor": {"id": "auditor/not-in-sarif"},
            }
        )
    if over:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{len(over)} less severe result(s) left out: GitHub accepts at most {MAX_RESULTS} per run"
                },
                "descriptor": {"id": "auditor/too-many-results"},
            }
        )
    invocation: dict[str, Any] = {
        # A run with checks that could not look did not execute successfully (exit 3).
        "executionSuccessful": result.run.status.value == "complete" and not errors,
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
                        "not_in_sarif": dict(sorted(left_out.items())),
                        "over_limit": len(over),
                    }
                },
            }
        ],
    }


def write(result: ScanResult, stream: TextIO, inventory: ResourceInventory | None = None) -> None:
    json.dump(to_document(result, inventory=inventory), stream, indent=2, default=str)
    stream.write("\n")
