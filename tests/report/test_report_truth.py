"""Reports that claim no more than was scanned and whose numbers agree (issue 12 items 1, 4, 5, 7).

Each test builds its runs directly in a store (the engine's roll-up, the store's save) and reads
the written HTML, PDF (pdftotext) and attachments back.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from report_estate import save_synthetic_run, synthetic_findings

import auditor.report.model as model_mod
from auditor.catalog import Control, Framework
from auditor.config import AuditConfig
from auditor.frameworks import frameworks_for, load_catalog
from auditor.models import Coverage, Finding, Resource, Severity, SkippedItem, Status
from auditor.outputs import FORMATS
from auditor.providers import targets
from auditor.report import parse_period, write_report
from auditor.report.chart import BOTTOM, HEIGHT, TOP
from auditor.report.sampling import draw, sample_seed
from auditor.runs import run_scan
from auditor.store import Store

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def pdf_flat(path: Path) -> str:
    raw = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(raw.split())


def pdf_layout(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def soc2() -> Framework:
    return load_catalog()["soc2"]


def concrete(ref: str) -> str:
    """A check id a catalog reference (possibly a glob) matches."""
    return re.sub(r"[*?]", "X", re.sub(r"\[[^]]*\]", "X", ref))


def single_provider_control(provider: str, exclude: tuple[str, ...] = ()) -> Control:
    for c in soc2().controls:
        if c.checks and c.id not in exclude and all(r.startswith(provider + ".") for r in c.checks):
            return c
    raise AssertionError(f"the soc2 catalog has no control tested only by {provider} checks")


def finding(check_id: str, status: Status, name: str, **kw: Any) -> Finding:
    return Finding(
        check_id=check_id,
        status=status,
        severity=kw.pop("severity", Severity.HIGH if status is Status.FAIL else Severity.INFO),
        resource=kw.pop("resource", Resource(id=f"res:{name}", type="thing", path=kw.pop("path", None))),
        message=f"{check_id} on {name}: {status.value}",
        title=kw.pop("title", f"Title of {check_id}"),
        provider=check_id.split(".", 1)[0],
        evidence={"name": name},
        **kw,
    )


def controls_json(pack: Path) -> dict[str, Any]:
    with zipfile.ZipFile(pack) as zf:
        return json.loads(zf.read("controls.json"))  # type: ignore[no-any-return]


def member(pack: Path, name: str) -> bytes:
    with zipfile.ZipFile(pack) as zf:
        return zf.read(name)


# Item 1: scope as examined, and why a control was not tested ---------------------------------


def test_scope_lists_what_was_examined_and_not_tested_reasons_are_specific(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")

    # The catalog in force for these runs: one control per provider (today's catalog pairs every AWS
    # check with its IaC twin, so it has no single-provider controls left to show each reason with).
    def ctl(cid: str, check: str) -> Control:
        return Control("soc2", cid, f"Tested by {check}", "Test", "A control for this test.", (check,), ())

    code_only = ctl("T.CODE", "code.python.tls-verify-disabled")
    iac_only = ctl("T.IAC", "iac.CKV_AWS_19")
    aws_only = ctl("T.AWS", "aws.cloudtrail.multi_region_trail")
    secrets_ctl = ctl("T.SEC", "secrets.inventory.rotation_age")
    fw = Framework("soc2", "SOC 2 (test catalog)", "t", (code_only, iac_only, aws_only, secrets_ctl))
    coverage = (
        Coverage("secrets", "secrets:/estate/inventory.yaml", examined={"secrets": 3}),
        Coverage("code", "code:/repo", examined={"files": 0}),
        Coverage(
            "iac",
            "iac:/repo",
            examined={"files": 4},
            skipped=(SkippedItem("terraform/huge.tf", "over the 1 MB size limit"),),
            complete=False,
        ),
    )
    findings = [
        finding("secrets.inventory.rotation_age", Status.PASS, "db-password"),
        finding(concrete(code_only.checks[0]), Status.SKIPPED, "no-python-files"),
    ]
    run1 = save_synthetic_run(
        store, T0, findings, providers=("secrets", "code", "iac"), coverage=coverage, suffix="scope1", frameworks=[fw]
    )
    out = write_report(
        store, "soc2", run_ref=run1.id, pdf_path=tmp_path / "a.pdf", pack_path=tmp_path / "a.zip", now=T0
    )
    text = pdf_flat(tmp_path / "a.pdf")
    layout = pdf_layout(tmp_path / "a.pdf")
    scope_text = layout[layout.index("2 Scope as examined", layout.index("2 Scope as examined") + 1) :]
    scope_text = scope_text[: scope_text.index("Control results overview")]
    # Per target: examined counts, skipped items, state; the empty code target is not "scanned".
    assert re.search(r"code\s+code:/repo\s+nothing\s+none\s+examined nothing", scope_text), scope_text
    assert "terraform/huge.tf: over the 1 MB size limit" in " ".join(scope_text.split())
    assert "examined, incomplete" in scope_text and "examined, complete" in scope_text
    assert "code: examined 0 of 1 target(s), 1 with nothing examined" in " ".join(scope_text.split())
    assert "2 of 3 target(s) examined, 1 incomplete, 1 with nothing examined, by provider(s) iac, secrets" in text
    examined_part = " ".join(scope_text[: scope_text.index("Not scanned")].split())
    assert " ran" not in examined_part and "scanned" not in examined_part.replace("not counted as scanned", "")
    # Not tested, three different reasons.
    doc = controls_json(out.pack)  # type: ignore[arg-type]
    by_id = {c["id"]: c for c in doc["controls"]}
    assert by_id[code_only.id]["status"] == "NOT_TESTED"
    assert by_id[code_only.id]["not_tested"]["kind"] == "not_applicable"
    assert by_id[code_only.id]["not_tested"]["reason"].startswith(
        "its checks ran and every result was SKIPPED (not applicable): 1 finding(s)"
    )
    assert by_id[aws_only.id]["not_tested"] == {
        "kind": "provider_not_run",
        "reason": "provider not run: aws (no target of this kind was given for this run)",
    }
    assert by_id[iac_only.id]["not_tested"] == {
        "kind": "no_target",
        "reason": "no target: iac examined 4 files, none of it something these checks apply to",
    }
    assert f"{code_only.id} " in text and "provider not run: code" not in text
    assert "its checks ran and every result was SKIPPED (not applicable)" in text
    assert [t["state"] for t in doc["scope"]["targets"]] == ["examined", "nothing", "incomplete"]

    # A later run: the code target again examined nothing, no SKIPPED result -> "code examined nothing";
    # AWS scanned one of three enabled regions.
    coverage2 = (
        Coverage("code", "code:/repo", examined={"files": 0}),
        Coverage(
            "aws",
            "aws:123456789012",
            examined={"resources": 12},
            details={"regions_scanned": ["eu-west-1"], "regions_enabled": ["eu-central-1", "eu-west-1", "us-east-1"]},
        ),
    )
    run2 = save_synthetic_run(
        store,
        T0 + timedelta(days=1),
        [finding(concrete(aws_only.checks[0]), Status.PASS, "trail")],
        providers=("code", "aws"),
        coverage=coverage2,
        suffix="scope2",
        frameworks=[fw],
    )
    out2 = write_report(
        store,
        "soc2",
        run_ref=run2.id,
        html_path=tmp_path / "b.html",
        pdf_path=tmp_path / "b.pdf",
        pack_path=tmp_path / "b.zip",
        now=T0 + timedelta(days=1),
    )
    by_id = {c["id"]: c for c in controls_json(out2.pack)["controls"]}  # type: ignore[arg-type]
    assert by_id[code_only.id]["not_tested"] == {"kind": "no_target", "reason": "no target: code examined nothing"}
    html = " ".join(re.sub(r"<[^>]+>", " ", (tmp_path / "b.html").read_text()).split())
    assert "regions scanned: eu-west-1; enabled in the account: 3 (not scanned: eu-central-1, us-east-1)" in html
    assert "not scanned: eu" in pdf_flat(tmp_path / "b.pdf")
    store.close()


# Item 4: one exceptions register that adds up -------------------------------------------------


def test_exceptions_register_lists_every_waived_finding_and_counts_agree_everywhere(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "e.db")
    inline_check = next(r for c in soc2().controls for r in c.checks if r.startswith("iac."))
    db_waiver = {
        "id": "db:4",
        "source": "database",
        "check": "secrets.inventory.rotation_age",
        "resource": "res:legacy-*",
        "reason": "legacy tokens retire in Q3",
        "approver": "ciso@example.com",
        "created": "2026-01-10",
        "expires": "2026-06-30",
    }
    file_waiver = dict(
        db_waiver,
        id="w-7",
        source="/repo/risk-acceptances.yaml",
        reason="vendor fix pending",
        approver="cto@example.com",
        check="secrets.certificate.expiry",
        resource="res:vendor",
    )
    findings = [
        finding("secrets.inventory.rotation_age", Status.WAIVED, "legacy-a", waiver=db_waiver),
        finding("secrets.inventory.rotation_age", Status.WAIVED, "legacy-b", waiver=db_waiver),
        finding("secrets.certificate.expiry", Status.WAIVED, "vendor", waiver=file_waiver),
        finding(
            concrete(inline_check),
            Status.WAIVED,
            "scratch-bucket",
            path="terraform/main.tf",
            waiver={
                "source": "inline",
                "approved": True,
                "approver": "lead@example.com",
                "expires": "2026-05-01",
                "reason": "scratch space, no customer data",
                "comment": "checkov:skip=...",
            },
        ),
        finding(
            concrete(inline_check),
            Status.FAIL,
            "logs-bucket",
            path="terraform/logs.tf",
            waiver={"source": "inline", "approved": False, "reason": "silenced by a developer"},
        ),
        finding("secrets.inventory.rotation_age", Status.FAIL, "overdue"),
    ]
    run = save_synthetic_run(store, T0, findings, suffix="exc")
    out = write_report(
        store,
        "soc2",
        run_ref=run.id,
        html_path=tmp_path / "e.html",
        pdf_path=tmp_path / "e.pdf",
        pack_path=tmp_path / "e.zip",
        now=T0,
    )
    assert out.pack is not None
    doc = controls_json(out.pack)
    ex = doc["exceptions"]
    assert ex["waived_findings"] == 4 == doc["summary"]["findings"]["WAIVED"]
    assert sorted((e["kind"], e["check"], e["findings"], e["approver"]) for e in ex["register"]) == [
        ("database", "secrets.inventory.rotation_age", 2, "ciso@example.com"),
        ("file", "secrets.certificate.expiry", 1, "cto@example.com"),
        ("inline", concrete(inline_check), 1, "lead@example.com"),
    ]
    assert ex["suppressed_without_approval"]["count"] == 1 == doc["summary"]["suppressed_without_approval"]
    assert [s["location"] for s in ex["suppressed_without_approval"]["findings"]] == ["terraform/logs.tf"]
    assert doc["summary"]["findings"]["FAIL"] == 2  # the unapproved suppression still fails
    fjson = json.loads(member(out.pack, "findings.json"))
    assert fjson["summary"] == {
        "by_status": {"PASS": 0, "FAIL": 2, "ERROR": 0, "WAIVED": 4, "SKIPPED": 0},
        "waived": 4,
        "suppressed_without_approval": 1,
    }
    manifest = json.loads(member(out.pack, "manifest.json"))
    assert manifest["findings"]["by_status"]["WAIVED"] == 4 and manifest["findings"]["suppressed_without_approval"] == 1
    for text in (
        pdf_flat(tmp_path / "e.pdf"),
        " ".join(re.sub(r"<[^>]+>", " ", (tmp_path / "e.html").read_text()).split()),
    ):
        assert "4 waived finding(s) under 3 exception(s)" in text
        assert "1 failed finding(s) suppressed inline without approval" in text
        assert "Waived findings 4" in text
        assert "silenced by a developer" in text and "terraform/logs.tf" in text
        assert "inline suppression comment with approval" in text
    store.close()


# Item 5: numbers and words that agree ----------------------------------------------------------


def test_trend_bars_are_the_share_of_controls_failing_on_the_same_axis(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    runs = []
    for day, fail_every in ((0, 3), (1, 7), (2, 1000)):
        runs.append(
            save_synthetic_run(
                store, T0 + timedelta(days=day), synthetic_findings(40, fail_every=fail_every), suffix=f"trend{day}"
            )
        )
    out = write_report(
        store,
        "soc2",
        period=parse_period("2026-03-01..2026-03-10"),
        html_path=tmp_path / "t.html",
        pdf_path=tmp_path / "t.pdf",
        now=T0 + timedelta(days=2, hours=1),
    )
    statuses = store.control_statuses("soc2", [r.id for r in runs])
    html = (tmp_path / "t.html").read_text()
    bars = [
        (float(h), float(s)) for h, s in re.findall(r'height="([\d.]+)" fill="#f3c4c4" data-share="([\d.]+)"', html)
    ]
    plot_h = HEIGHT - TOP - BOTTOM
    expected = []
    for r in runs:
        failing = sum(1 for s in statuses[r.id].values() if s == "FAIL")
        expected.append((failing, len(statuses[r.id])))
    assert [round(s, 4) for _, s in bars] == [round(f / n, 4) for f, n in expected if f]
    for h, s in bars:
        assert abs(h - plot_h * s) < 0.11  # bar height on the 0-100 % axis, not scaled to the maximum
    layout = pdf_layout(tmp_path / "t.pdf")
    for r, (failing, n) in zip(runs, expected, strict=True):
        share = f"{100 * failing / n:.0f} %"
        row = next(line for line in layout.splitlines() if r.id in line and "%" in line)
        assert f"{failing} ({share})" in row, row
        assert re.search(rf"\s{n}\s", row)
    assert out.model.summary.chart_runs == 3


def test_appendix_b_has_titles_and_severities_and_says_where_the_rest_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(tmp_path / "b.db")
    tool_check = next(r for c in soc2().controls for r in c.checks if r.startswith("iac."))
    findings = [
        *synthetic_findings(30),
        finding(
            concrete(tool_check), Status.FAIL, "bucket", severity=Severity.CRITICAL, title="Tool title from checkov"
        ),
        finding(concrete(tool_check), Status.PASS, "bucket2", title="Tool title from checkov"),
    ]
    wide = max(soc2().controls, key=lambda c: len(c.checks))  # more checks with results than a section lists
    wide_checks = sorted({concrete(r) for r in wide.checks})[:15]
    findings += [finding(cid, Status.PASS, f"wide-{n}") for n, cid in enumerate(wide_checks)]
    run = save_synthetic_run(store, T0, findings, suffix="appx")
    out = write_report(store, "soc2", run_ref=run.id, pdf_path=tmp_path / "b.pdf", pack_path=tmp_path / "b.zip", now=T0)
    assert out.pack is not None
    section = next(c for c in controls_json(out.pack)["controls"] if c["id"] == wide.id)
    assert set(wide_checks) <= set(section["checks"])  # all of them, not the first 12
    rows = list(csv.DictReader(io.StringIO(member(out.pack, "checks.csv").decode())))
    assert {r["check_id"] for r in rows} == {f.check_id for f in findings}
    assert all(r["title"] and r["severity"] for r in rows)
    tool = next(r for r in rows if r["check_id"] == concrete(tool_check))
    assert (tool["title"], tool["severity"], tool["FAIL"], tool["PASS"]) == (
        "Tool title from checkov",
        "critical",
        "1",
        "1",
    )
    layout = pdf_layout(tmp_path / "b.pdf")
    appendix = layout[layout.index("B. Checks that produced results") :]
    appendix = appendix[: appendix.index("C. Manual evidence register")]
    flat = " ".join(appendix.split())
    assert f"All {len(rows)} checks with results in this report" in flat
    for r in rows:
        assert r["check_id"][:20] in flat and r["severity"].upper() in flat
    assert "Tool title from checkov" in flat
    # Bounded, but honest about it.
    monkeypatch.setattr(model_mod, "MAX_APPENDIX_CHECKS", 1)
    write_report(store, "soc2", run_ref=run.id, pdf_path=tmp_path / "b1.pdf", now=T0)
    flat = pdf_flat(tmp_path / "b1.pdf")
    assert (
        f"The first 1 of {len(rows)} checks (failing first, then by severity); all {len(rows)} are in checks.csv"
        in flat
    )
    store.close()


def test_observed_up_to_includes_the_day_of_the_last_run(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "o.db")
    for day in (0, 1, 2):
        save_synthetic_run(store, T0 + timedelta(days=day), synthetic_findings(10), suffix=f"obs{day}")
    now = T0 + timedelta(days=2, hours=3)  # the report on the day of the last run
    out = write_report(
        store, "soc2", period=parse_period("2026-03-02..2026-03-31"), pdf_path=tmp_path / "o.pdf", now=now
    )
    pa = out.model.period_analysis
    assert pa is not None and pa.observed_until.isoformat() == "2026-03-04" and pa.gaps == []
    assert "observed up to and including 2026-03-04" in pdf_flat(tmp_path / "o.pdf")
    store.close()


def test_manual_evidence_that_lapses_mid_period_counts_only_valid_days(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.db")
    manual = next(c for c in soc2().controls if not c.automated and c.manual_evidence)
    for item in manual.manual_evidence:
        store.add_manual_evidence(
            "soc2",
            manual.id,
            f"{item.id}.txt",
            b"evidence\n",
            "owner",
            item.title,
            T0 - timedelta(days=30),
            datetime(2026, 3, 6, tzinfo=UTC),
            item=item.id,
        )
    for day in (0, 4, 8):
        save_synthetic_run(store, T0 + timedelta(days=day), synthetic_findings(10), suffix=f"man{day}")
    out = write_report(
        store,
        "soc2",
        period=parse_period("2026-03-02..2026-03-11"),
        pdf_path=tmp_path / "m.pdf",
        pack_path=tmp_path / "m.zip",
        now=datetime(2026, 3, 12, 9, tzinfo=UTC),
    )
    assert out.pack is not None
    period = json.loads(member(out.pack, "period.json"))["controls"][manual.id]
    # Valid for the whole of 2 to 5 March (expires at the start of the 6th): 4 of 10 days.
    assert (period["basis"], period["days_observed"], period["days_evidenced"]) == ("days", 10, 4)
    assert period["pass_share"] == 0.4
    assert period["evidence_lapses"] == [{"from": "2026-03-06", "to": "2026-03-11", "days": 6}]
    text = pdf_flat(tmp_path / "m.pdf")
    assert f"{manual.id} 3 4 of 10 days 40 % no valid evidence 2026-03-06 → 2026-03-11, 6 d (still lapsed)" in text
    store.close()


def test_period_wording_depends_on_the_length(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "w.db")
    save_synthetic_run(store, T0, synthetic_findings(10), suffix="word")
    short = write_report(
        store, "soc2", period=parse_period("2026-03-01..2026-03-15"), pdf_path=tmp_path / "s.pdf", now=T0
    )
    text = pdf_flat(tmp_path / "s.pdf")
    assert short.model.title.endswith("Period report, 15 days")
    assert "Period report, 15 days" in text and "Type II period report" not in text
    assert (
        'By this tool\'s convention a period report is labelled "Type II" only when the period covers at least 90 days'
        in text
    )
    long = write_report(
        store, "soc2", period=parse_period("2026-01-01..2026-03-31"), pdf_path=tmp_path / "l.pdf", now=T0
    )
    assert long.model.title.endswith("Type II period report, 90 days")
    assert "Type II period report, 90 days" in pdf_flat(tmp_path / "l.pdf")
    store.close()


def test_findings_txt_lists_gaps_among_controls_not_passing(
    tmp_path: Path, golden_inventory: Path, now: datetime
) -> None:
    store = Store.open(tmp_path / "g.db")
    result = run_scan(AuditConfig(targets=targets(secrets=golden_inventory)), store, now=now)
    out = io.StringIO()
    FORMATS["table"](result, out)
    text = out.getvalue()
    gaps = [c.ref for c in result.controls if c.status.value == "MANUAL"]
    not_passing = [c for c in result.controls if c.status.value != "PASS"]
    assert gaps and f"Controls not passing: {len(not_passing)} of {len(result.controls)}" in text
    line = next(line for line in text.splitlines() if "GAP (manual control without valid evidence)" in line)
    assert f"({len(gaps)}):" in line
    listed = " ".join(text[text.index(line) :].split())
    assert all(ref in listed for ref in gaps)
    store.close()


def test_certificate_expiring_in_exactly_72_hours_is_in_3_days(tmp_path: Path) -> None:
    from auditor.demo import make_certificate
    from auditor.providers.secrets import SecretsInventoryProvider
    from auditor.providers.secrets.inventory import load_inventory

    now = datetime(2026, 11, 28, 12, 0, 0, 654321, tzinfo=UTC)
    make_certificate(tmp_path / "c.pem", "c.example", now - timedelta(days=10), now + timedelta(hours=72))
    (tmp_path / "inv.yaml").write_text("secrets:\n  - name: c\n    certificate: c.pem\n")
    inv = load_inventory(tmp_path / "inv.yaml", 90)
    f = SecretsInventoryProvider().check_certificate(inv.entries[0], inv.path, now, 30)
    assert "in 3 days (warning window 30 days)" in f.message and f.evidence["days_left"] == 3


# Item 7: samples, first/last seen, catalog in force ------------------------------------------


def test_samples_are_a_seeded_random_draw_with_first_and_last_seen(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    first = save_synthetic_run(store, T0, synthetic_findings(120, fail_every=4), suffix="smp0")
    run = save_synthetic_run(store, T0 + timedelta(days=1), synthetic_findings(120, fail_every=4), suffix="smp1")
    out = write_report(
        store,
        "soc2",
        run_ref=run.id,
        pdf_path=tmp_path / "s.pdf",
        pack_path=tmp_path / "s.zip",
        now=T0 + timedelta(days=1),
    )
    assert out.pack is not None
    findings = json.loads(member(out.pack, "findings.json"))["findings"]
    fails_per_control = Counter(
        r for f in findings if f["status"] == "FAIL" for r in f["controls"] if r.startswith("soc2:")
    )
    cid = fails_per_control.most_common(1)[0][0].split(":", 1)[1]
    population = sorted(f["fingerprint"] for f in findings if f["status"] == "FAIL" and f"soc2:{cid}" in f["controls"])
    seed = sample_seed(run.id, "soc2", cid, "FAIL")
    section = next(c for c in controls_json(out.pack)["controls"] if c["id"] == cid)
    chosen = section["samples"]["FAIL"]["fingerprints"]
    assert section["samples"]["FAIL"]["seed"] == seed and section["samples"]["FAIL"]["population"] == len(population)
    assert chosen == draw(seed, 3, population)  # anyone can recompute it from findings.json
    by_fp = {f["fingerprint"]: f for f in findings}
    first_three = sorted(population, key=lambda fp: by_fp[fp]["resource"]["id"])[:3]
    assert chosen != first_three  # not the first three in storage order
    text = pdf_flat(tmp_path / "s.pdf")
    assert f"Evidence samples: failing (3 of {len(population)}, random sample, seed {seed})" in text
    # First and last seen: in the samples and in findings.json / findings.csv, from the lifecycle table.
    seen = store.seen_times(by_fp)
    assert all((f["first_seen"], f["last_seen"]) == seen[f["fingerprint"]] for f in findings)
    assert {f["first_seen"][:10] for f in findings} == {first.started_at.date().isoformat()}
    rows = list(csv.DictReader(io.StringIO(member(out.pack, "findings.csv").decode())))
    assert all((r["first_seen"], r["last_seen"]) == seen[r["fingerprint"]] for r in rows)
    assert "first seen 2026-03-02, last seen 2026-03-03" in text
    store.close()


def _old_catalog() -> Framework:
    fw = soc2()
    controls = []
    for c in fw.controls:
        if c.id == "CC6.2":
            c = replace(c, title="User access as worded at scan time", checks=c.checks[:1])
        controls.append(c)
    extra = Control("soc2", "CC9.9", "A control retired since", "CC9", "Retired.", ("secrets.certificate.expiry",), ())
    return replace(fw, controls=(*controls, extra))


def test_reports_render_the_catalog_in_force_and_disclose_changes_in_the_period(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    gdpr = frameworks_for(("gdpr",))
    unrecorded = save_synthetic_run(store, T0, synthetic_findings(20), store_catalog=False, suffix="cat0")
    old = save_synthetic_run(
        store, T0 + timedelta(days=1), synthetic_findings(20), frameworks=[_old_catalog(), *gdpr], suffix="cat1"
    )
    save_synthetic_run(store, T0 + timedelta(days=2), synthetic_findings(20), suffix="cat2")
    out = write_report(
        store,
        "soc2",
        run_ref=old.id,
        pdf_path=tmp_path / "old.pdf",
        pack_path=tmp_path / "old.zip",
        now=T0 + timedelta(days=3),
    )
    text = pdf_flat(tmp_path / "old.pdf")
    assert "CC6.2 — User access as worded at scan time" in text and "CC9.9 — A control retired since" in text
    assert soc2().control("CC6.2").title not in text  # type: ignore[union-attr]
    assert "as in force when the run was scanned (stored with the run)" in text
    assert controls_json(out.pack)["catalog"]["source"] == "stored"  # type: ignore[arg-type]
    write_report(store, "soc2", run_ref=unrecorded.id, pdf_path=tmp_path / "u.pdf", now=T0 + timedelta(days=3))
    assert "today's catalog: the run stored none" in pdf_flat(tmp_path / "u.pdf")
    period = write_report(
        store,
        "soc2",
        period=parse_period("2026-03-01..2026-03-31"),
        pdf_path=tmp_path / "p.pdf",
        pack_path=tmp_path / "p.zip",
        now=T0 + timedelta(days=3),
    )
    changes = controls_json(period.pack)["catalog_changes"]["changes"]  # type: ignore[arg-type]
    assert [(c["previous_run"], c["run"]) for c in changes] == [
        (unrecorded.id, old.id),
        (old.id, f"{(T0 + timedelta(days=2)).strftime('%Y%m%dT%H%M%SZ')}-cat2"),
    ]
    assert changes[0]["note"] == "the earlier run recorded no catalog"
    assert changes[1]["controls_removed"] == ["CC9.9"] and changes[1]["controls_added"] == []
    cc62 = next(c for c in changes[1]["controls_changed"] if c["control"] == "CC6.2")
    assert cc62["checks_added"] == sorted(soc2().control("CC6.2").checks[1:])  # type: ignore[union-attr]
    assert "title" in cc62["other_changes"]
    text = pdf_flat(tmp_path / "p.pdf")
    assert "controls removed: CC9.9" in text and "CC6.2: checks added:" in text
    store.close()
