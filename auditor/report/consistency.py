"""Do the parts of an evidence pack agree with each other?

A forger who edits findings.json and re-hashes the manifest leaves the other parts telling
the old story. `check_parts` compares, without any database:
- findings.json with itself (count, summary) and with the manifest's counts and run ids;
- findings.csv with findings.json, finding by finding;
- checks.csv with findings.json, check by check;
- controls.json with findings.json: per-control counts, each control's status against its
  counts, the summary, the exceptions register;
- period.json with controls.json;
- the files embedded in report.pdf, and the attachment digests named in report.html, with
  the pack's copies of those files.
Each problem is one line naming both parts that disagree.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from auditor.outputs.csv_output import neutralise
from auditor.report.pdf_attachments import PdfReadError, embedded_files

STATUS_KEYS = ("PASS", "FAIL", "ERROR", "WAIVED", "SKIPPED")
CROSS_CHECKED = (
    "report.pdf",
    "report.html",
    "findings.json",
    "findings.csv",
    "controls.json",
    "checks.csv",
    "period.json",
)
MAX_LISTED = 20
_META = re.compile(r'<meta name="auditor-attachment" content="([^"\s]+) sha256=([0-9a-f]{64})">')


class Problems:
    """Problem lines, at most MAX_LISTED per topic (then one line with the remainder)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._per_topic: Counter[str] = Counter()

    def add(self, topic: str, line: str) -> None:
        self._per_topic[topic] += 1
        if self._per_topic[topic] <= MAX_LISTED:
            self.lines.append(line)

    def finish(self) -> list[str]:
        for topic, n in self._per_topic.items():
            if n > MAX_LISTED:
                self.lines.append(f"{topic}: {n - MAX_LISTED} more difference(s) not listed")
        return self.lines


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _json(parts: dict[str, bytes], name: str, out: Problems) -> Any:
    try:
        return json.loads(parts[name])
    except (ValueError, UnicodeDecodeError):
        out.add(name, f"{name} is not valid JSON")
        return None


def _findings(doc: Any, out: Problems) -> dict[str, dict[str, Any]] | None:
    items = doc.get("findings") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not all(
        isinstance(f, dict) and isinstance(f.get("fingerprint"), str) for f in items
    ):
        out.add("findings.json", "findings.json is not an auditor findings document")
        return None
    by_fp: dict[str, dict[str, Any]] = {}
    for f in items:
        if f["fingerprint"] in by_fp:
            out.add("findings.json", f"findings.json holds finding {f['fingerprint']} twice")
        by_fp[f["fingerprint"]] = f
    return by_fp


def _suppressed(f: dict[str, Any]) -> bool:
    w = f.get("waiver")
    return f.get("status") == "FAIL" and isinstance(w, dict) and w.get("source") == "inline" and not w.get("approved")


def findings_counts(findings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    by_status = Counter(str(f.get("status")) for f in findings.values())
    return {
        "by_status": {k: by_status.get(k, 0) for k in STATUS_KEYS},
        "waived": by_status.get("WAIVED", 0),
        "suppressed_without_approval": sum(1 for f in findings.values() if _suppressed(f)),
    }


def _check_findings_json(
    doc: dict[str, Any], findings: dict[str, dict[str, Any]], manifest: dict[str, Any], out: Problems
) -> None:
    counts = findings_counts(findings)
    if doc.get("count") != len(findings):
        out.add("findings.json", f"findings.json says it holds {doc.get('count')} findings but lists {len(findings)}")
    if "summary" in doc and doc["summary"] != counts:
        out.add(
            "findings.json",
            f"findings.json: its summary {_short(doc['summary'])} disagrees with its findings {_short(counts)}",
        )
    declared = manifest.get("findings")
    if isinstance(declared, dict):
        if declared.get("count") != len(findings):
            out.add(
                "manifest",
                f"manifest.json counts {declared.get('count')} findings, findings.json holds {len(findings)}",
            )
        for key in ("by_status", "suppressed_without_approval"):
            if key in declared and declared[key] != counts[key]:
                out.add(
                    "manifest",
                    f"manifest.json: findings {key} {_short(declared[key])} disagrees with findings.json "
                    f"{_short(counts[key])}",
                )
    run = _dict(doc.get("run"))
    run_id = run.get("id")
    if "report_run" in manifest and run_id != manifest["report_run"]:
        out.add("manifest", f"manifest.json names report run {manifest['report_run']}, findings.json run {run_id}")
    if isinstance(manifest.get("run_ids"), list) and run_id not in manifest["run_ids"]:
        out.add("manifest", f"findings.json run {run_id} is not among the manifest's run_ids")
    if "framework" in manifest and doc.get("framework") != manifest["framework"]:
        out.add("manifest", f"manifest.json framework {manifest['framework']}, findings.json {doc.get('framework')}")


# findings.csv column -> how the same value reads in a findings.json entry
_CSV_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "check_id": lambda f: f.get("check_id"),
    "title": lambda f: f.get("title"),
    "status": lambda f: f.get("status"),
    "severity": lambda f: f.get("severity"),
    "resource_id": lambda f: (f.get("resource") or {}).get("id"),
    "resource_type": lambda f: (f.get("resource") or {}).get("type"),
    "path": lambda f: (f.get("resource") or {}).get("path"),
    "line": lambda f: (f.get("resource") or {}).get("line"),
    "controls": lambda f: ";".join(f.get("controls") or ()),
    "waiver_approver": lambda f: (f.get("waiver") or {}).get("approver"),
    "waiver_expires": lambda f: (f.get("waiver") or {}).get("expires"),
    "first_seen": lambda f: f.get("first_seen"),
    "last_seen": lambda f: f.get("last_seen"),
}


def _check_findings_csv(data: bytes, findings: dict[str, dict[str, Any]], out: Problems) -> None:
    topic = "findings.csv"
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        out.add(topic, "findings.csv is not a readable CSV file")
        return
    seen: set[str] = set()
    for row in rows:
        fp = row.get("fingerprint") or ""
        if fp in seen:
            out.add(topic, f"findings.csv holds finding {fp} twice")
        seen.add(fp)
        f = findings.get(fp)
        if f is None:
            out.add(topic, f"finding {fp} ({row.get('check_id')}) is in findings.csv but not in findings.json")
            continue
        for column, read in _CSV_FIELDS.items():
            if column not in row:
                continue
            expected = neutralise(read(f))
            if row[column] != expected:
                out.add(
                    topic,
                    f"findings.csv disagrees with findings.json: finding {fp} ({f.get('check_id')}): {column} is "
                    f"{_short(row[column])} in findings.csv, {_short(expected)} in findings.json",
                )
    for fp, f in findings.items():
        if fp not in seen:
            out.add(topic, f"finding {fp} ({f.get('check_id')}) is in findings.json but not in findings.csv")


def _check_checks_csv(data: bytes, findings: dict[str, dict[str, Any]], out: Problems) -> None:
    topic = "checks.csv"
    expected: dict[str, Counter[str]] = {}
    for f in findings.values():
        expected.setdefault(str(f.get("check_id")), Counter())[str(f.get("status"))] += 1
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        out.add(topic, "checks.csv is not a readable CSV file")
        return
    listed = set()
    for row in rows:
        cid = row.get("check_id", "")
        listed.add(cid)
        want = expected.get(cid, Counter())
        for k in STATUS_KEYS:
            if row.get(k) != str(want.get(k, 0)):
                out.add(
                    topic,
                    f"checks.csv disagrees with findings.json: check {cid}: {k} {row.get(k)} in checks.csv, "
                    f"{want.get(k, 0)} in findings.json",
                )
    for cid in sorted(set(expected) - listed):
        out.add(topic, f"check {cid} has findings in findings.json but is not in checks.csv")


def expected_status(automated: bool, counts: dict[str, int]) -> set[str]:
    """The control statuses consistent with a control's finding counts."""
    if not automated:
        return {"PASS", "GAP"}
    if counts.get("FAIL", 0):
        return {"FAIL"}
    if counts.get("ERROR", 0):
        return {"ERROR"}
    if counts.get("PASS", 0) or counts.get("WAIVED", 0):
        return {"PASS"}
    # No result at all. A control that was manual in the catalog the run used, and is
    # automated in the catalog the report fell back to, is judged as manual (PASS or GAP).
    return {"NOT_TESTED", "PASS", "GAP"}


def _check_controls_json(
    doc: Any, findings: dict[str, dict[str, Any]], findings_doc: dict[str, Any], out: Problems
) -> None:
    topic = "controls.json"
    if not isinstance(doc, dict) or not isinstance(doc.get("controls"), list):
        out.add(topic, "controls.json is not an auditor controls document")
        return
    framework = doc.get("framework")
    run = _dict(doc.get("run"))
    fd_run = _dict(findings_doc.get("run"))
    if run.get("id") != fd_run.get("id"):
        out.add(topic, f"controls.json is about run {run.get('id')}, findings.json about run {fd_run.get('id')}")
    prefix = f"{framework}:"
    per_control: dict[str, Counter[str]] = {}
    for f in findings.values():
        for ref in f.get("controls") or ():
            if isinstance(ref, str) and ref.startswith(prefix):
                per_control.setdefault(ref[len(prefix) :], Counter())[str(f.get("status"))] += 1
    statuses: Counter[str] = Counter()
    for c in doc["controls"]:
        if not isinstance(c, dict):
            out.add(topic, "controls.json holds a malformed control")
            continue
        cid = str(c.get("id"))
        statuses[str(c.get("status"))] += 1
        counts = _dict(c.get("counts"))
        want = per_control.get(cid, Counter())
        for k in STATUS_KEYS:
            if counts.get(k, 0) != want.get(k, 0):
                out.add(
                    topic,
                    f"controls.json disagrees with findings.json: {cid}: {k} {counts.get(k, 0)} in controls.json, "
                    f"{want.get(k, 0)} findings in findings.json",
                )
        allowed = expected_status(bool(c.get("automated")), {k: want.get(k, 0) for k in STATUS_KEYS})
        if c.get("status") not in allowed:
            out.add(
                topic,
                f"controls.json: {cid} is {c.get('status')}, but its findings in findings.json "
                f"({_short(dict(want))}) make it {' or '.join(sorted(allowed))}",
            )
    counts_all = findings_counts(findings)
    summary = _dict(doc.get("summary"))
    if "findings" in summary and summary["findings"] != counts_all["by_status"]:
        out.add(
            topic,
            f"controls.json summary findings {_short(summary['findings'])} disagree with findings.json "
            f"{_short(counts_all['by_status'])}",
        )
    if "controls" in summary and isinstance(summary["controls"], dict):
        listed = {k: v for k, v in summary["controls"].items() if v}
        if listed != {k: v for k, v in statuses.items() if v}:
            out.add(
                topic,
                f"controls.json summary of control results {_short(listed)} disagrees with its controls "
                f"{_short(dict(statuses))}",
            )
    suppressed = summary.get("suppressed_without_approval")
    if suppressed is not None and suppressed != counts_all["suppressed_without_approval"]:
        out.add(
            topic,
            f"controls.json counts {suppressed} unapproved suppressions, findings.json "
            f"{counts_all['suppressed_without_approval']}",
        )
    ex = doc.get("exceptions")
    if isinstance(ex, dict):
        register = _list(ex.get("register"))
        in_register = sum(int(_dict(e).get("findings", 0)) for e in register)
        waived = counts_all["waived"]
        if ex.get("waived_findings") != waived or in_register != waived:
            out.add(
                topic,
                f"controls.json exceptions register covers {in_register} waived finding(s) "
                f"(says {ex.get('waived_findings')}), findings.json holds {waived} WAIVED",
            )
        sup = ex.get("suppressed_without_approval")
        if isinstance(sup, dict) and sup.get("count") != counts_all["suppressed_without_approval"]:
            out.add(
                topic,
                f"controls.json lists {sup.get('count')} suppression(s) without approval, findings.json "
                f"{counts_all['suppressed_without_approval']}",
            )


def _check_period(period_doc: Any, controls_doc: Any, out: Problems) -> None:
    if not isinstance(period_doc, dict) or not isinstance(controls_doc, dict):
        return
    per = _dict(period_doc.get("controls"))
    for c in _list(controls_doc.get("controls")):
        if isinstance(c, dict) and c.get("period") is not None and per.get(str(c.get("id"))) != c.get("period"):
            out.add("period.json", f"period.json disagrees with controls.json about control {c.get('id')}")


def _check_embedded(parts: dict[str, bytes], manifest: dict[str, Any], out: Problems) -> None:
    names = manifest.get("attachments")
    if not isinstance(names, list):
        names = [n for n in ("findings.csv", "findings.json", "controls.json", "period.json") if n in parts]
    try:
        embedded = embedded_files(parts["report.pdf"])
    except PdfReadError as exc:
        out.add("report.pdf", f"report.pdf: its embedded attachments cannot be read ({exc})")
        return
    for name in names:
        if name not in embedded:
            out.add("report.pdf", f"report.pdf does not embed {name}")
        elif name in parts and embedded[name] != parts[name]:
            out.add("report.pdf", f"report.pdf embeds a {name} that differs from the pack's {name}")
    for name in sorted(set(embedded) - set(names)):
        out.add("report.pdf", f"report.pdf embeds {name}, which the manifest does not list as an attachment")


def _check_html(parts: dict[str, bytes], manifest: dict[str, Any], out: Problems) -> None:
    html = parts["report.html"].decode("utf-8", errors="replace")
    named = dict(_META.findall(html))
    for name, digest in named.items():
        if name in parts and hashlib.sha256(parts[name]).hexdigest() != digest:
            out.add("report.html", f"report.html names {name} with a sha256 that differs from the pack's {name}")
    for name in _list(manifest.get("attachments")):
        if name not in named:
            out.add("report.html", f"report.html does not name the attachment {name} the manifest lists")


def check_parts(manifest: dict[str, Any], parts: dict[str, bytes]) -> list[str]:
    """Problems found between the pack's parts (empty: they agree)."""
    out = Problems()
    findings_doc = _json(parts, "findings.json", out) if "findings.json" in parts else None
    findings = _findings(findings_doc, out) if findings_doc is not None else None
    controls_doc = _json(parts, "controls.json", out) if "controls.json" in parts else None
    if findings is not None and isinstance(findings_doc, dict):
        _check_findings_json(findings_doc, findings, manifest, out)
        if "findings.csv" in parts:
            _check_findings_csv(parts["findings.csv"], findings, out)
        if "checks.csv" in parts:
            _check_checks_csv(parts["checks.csv"], findings, out)
        if controls_doc is not None:
            _check_controls_json(controls_doc, findings, findings_doc, out)
    if "period.json" in parts and controls_doc is not None:
        _check_period(_json(parts, "period.json", out), controls_doc, out)
    if "report.pdf" in parts:
        _check_embedded(parts, manifest, out)
    if "report.html" in parts:
        _check_html(parts, manifest, out)
    return out.finish()
