"""`auditor verify --db`: does the pack say what the database says?

The report is rebuilt from the stored run(s) exactly as `auditor report` built it — same
framework, report run, period and "as of" time (the manifest's `generated_at`) — and the
pack's findings.json and controls.json are compared with it finding by finding and control
by control. Each difference names the finding (fingerprint and check), the field, and the
stored value against the pack's.

What legitimately changes after a pack was written is not a difference: manual evidence
added later is left out (the report is rebuilt as of its time), and a finding's `last_seen`
may only have moved forward (a later scan saw it again).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from auditor.clock import parse_instant
from auditor.errors import StoreError
from auditor.models import Finding
from auditor.report.consistency import Problems
from auditor.report.exports import finding_document
from auditor.report.model import build_report_model
from auditor.report.period import Period
from auditor.store import Store

FINDING_FIELDS = (
    "check_id",
    "status",
    "severity",
    "title",
    "provider",
    "message",
    "remediation",
    "resource",
    "controls",
    "evidence",
    "waiver",
    "target",
    "first_seen",
)
CONTROL_FIELDS = (
    "status",
    "automated",
    "counts",
    "checks",
    "not_tested",
    "samples",
    "waivers",
    "manual_evidence",
    "expected_manual_evidence",
    "period",
)
DOCUMENT_FIELDS = ("framework", "organisation", "run", "as_of", "period", "catalog", "summary", "exceptions", "trend")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _normal(value: Any) -> Any:
    """JSON round trip: what a value looks like once written to and read from the pack."""
    return json.loads(json.dumps(value, default=str))


def _period(manifest: dict[str, Any]) -> Period | None:
    p = manifest.get("period")
    if not isinstance(p, dict):
        return None
    return Period(date.fromisoformat(str(p["start"])), date.fromisoformat(str(p["end"])))


def compare_with_database(store: Store, manifest: dict[str, Any], parts: dict[str, bytes]) -> list[str]:
    """Differences between the pack and what the database says it must contain ([]: none)."""
    out = Problems()
    try:
        framework = str(manifest["framework"])
        report_run = str(manifest["report_run"])
        generated_at = parse_instant(str(manifest["generated_at"]))
        period = _period(manifest)
    except (KeyError, ValueError, TypeError):
        return ["the manifest does not name the framework, report run, period and time the pack was generated for"]
    try:
        store.get_run(report_run)
    except StoreError:
        return [f"the database holds no run {report_run} (the pack's report run)"]
    findings: list[Finding] = []
    try:
        model = build_report_model(
            store, framework, run_ref=report_run, period=period, now=generated_at, sinks=[findings.append]
        )
    except Exception as exc:  # noqa: BLE001 - any failure to rebuild is a difference, reported in words
        return [f"the report cannot be rebuilt from this database: {exc}"]
    seen = store.seen_times(f.fingerprint for f in findings)
    expected = {f.fingerprint: _normal(finding_document(f, seen.get(f.fingerprint))) for f in findings}

    for key, want in (("run_ids", model.run_ids), ("organisation", model.organisation)):
        if manifest.get(key) != want:
            out.add("manifest", f"manifest {key}: stored {_short(want)} vs pack {_short(manifest.get(key))}")
    evidence = {e.pack_path: e.sha256 for e in model.evidence_items}
    listed = {
        f["path"]: f.get("sha256")
        for f in manifest.get("files") or ()
        if isinstance(f, dict) and str(f.get("path", "")).startswith("evidence/")
    }
    for path in sorted(set(evidence) | set(listed)):
        if evidence.get(path) != listed.get(path):
            out.add(
                "evidence",
                f"manual evidence {path}: stored sha256 {evidence.get(path)} vs pack {listed.get(path)}",
            )

    _compare_findings(expected, parts, out)
    _compare_controls(_normal(model.controls_document()), parts, out)
    return out.finish()


def _compare_findings(expected: dict[str, dict[str, Any]], parts: dict[str, bytes], out: Problems) -> None:
    topic = "findings"
    try:
        doc = json.loads(parts["findings.json"])
        pack = {f["fingerprint"]: f for f in doc["findings"]}
    except (KeyError, ValueError, TypeError):
        out.add(topic, "the pack has no readable findings.json to compare")
        return
    for fp in sorted(set(expected) | set(pack)):
        want, have = expected.get(fp), pack.get(fp)
        if have is None:
            assert want is not None
            out.add(topic, f"finding {fp} ({want['check_id']}): in the database, missing from the pack")
            continue
        if want is None:
            out.add(topic, f"finding {fp} ({have.get('check_id')}): in the pack, not in the database's run")
            continue
        for name in FINDING_FIELDS:
            if want.get(name) != have.get(name):
                out.add(
                    topic,
                    f"finding {fp} ({want['check_id']}): {name}: stored {_short(want.get(name))} vs pack "
                    f"{_short(have.get(name))}",
                )
        stored_last, pack_last = want.get("last_seen"), have.get("last_seen")
        if pack_last is not None and (stored_last is None or str(pack_last) > str(stored_last)):
            out.add(
                topic,
                f"finding {fp} ({want['check_id']}): last_seen: stored {stored_last} vs pack {pack_last} "
                "(the pack claims a later observation than the database holds)",
            )


def _compare_controls(expected: dict[str, Any], parts: dict[str, bytes], out: Problems) -> None:
    topic = "controls"
    try:
        pack = json.loads(parts["controls.json"])
        pack_controls = {c["id"]: c for c in pack["controls"]}
    except (KeyError, ValueError, TypeError):
        out.add(topic, "the pack has no readable controls.json to compare")
        return
    for name in DOCUMENT_FIELDS:
        if expected.get(name) != pack.get(name):
            out.add(
                topic,
                f"controls.json {name}: stored {_short(expected.get(name))} vs pack {_short(pack.get(name))}",
            )
    want_checks = {c["check_id"]: c["counts"] for c in expected.get("checks") or ()}
    have_checks = {c.get("check_id"): c.get("counts") for c in pack.get("checks") or () if isinstance(c, dict)}
    if want_checks != have_checks:
        out.add(topic, "controls.json checks: the counts per check differ from the database's")
    want_controls = {c["id"]: c for c in expected["controls"]}
    for cid in sorted(set(want_controls) | set(pack_controls)):
        want, have = want_controls.get(cid), pack_controls.get(cid)
        if want is None or have is None:
            where = "the pack" if want is None else "the database's report"
            out.add(topic, f"control {cid}: only in {where}")
            continue
        for name in CONTROL_FIELDS:
            if want.get(name) != have.get(name):
                out.add(
                    topic,
                    f"control {cid}: {name}: stored {_short(want.get(name))} vs pack {_short(have.get(name))}",
                )
