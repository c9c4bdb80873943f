"""The report shows why each test evidences its control, supporting signals, and which evidence items are missing."""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from report_estate import DAY0, save_synthetic_run

from auditor.frameworks import load_catalog
from auditor.models import Finding, Resource, Severity, Status
from auditor.report import write_report
from auditor.report.generate import ReportPaths
from auditor.store import Store

NOW = DAY0 + timedelta(days=2)
S3_WHY = "Encryption of stored data is one of the two measures Art. 32(1)(a) names."
GUARDDUTY_WHY_33 = "Detecting a breach starts the 72-hour clock"


@dataclass
class Built:
    paths: ReportPaths
    html: str
    controls: dict[str, dict[str, object]]


def _finding(check: str, status: Status, rid: str) -> Finding:
    return Finding(
        check_id=check,
        status=status,
        severity=Severity.MEDIUM,
        resource=Resource(id=rid, type="t", account="123456789012", region="eu-west-1"),
        message=f"{check} {status.value}",
        provider=check.split(".", 1)[0],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("mappings")
    store = Store.open(tmp / "auditor.db")
    year = DAY0 + timedelta(days=365)
    # Art. 30: every expected item on file. Art. 33: one item current, one lapsed, two missing.
    for item in ("ropa-controller", "ropa-processor", "ropa-review"):
        store.add_manual_evidence("gdpr", "Art.30", f"{item}.pdf", item.encode(), "dpo", "", DAY0, year, item=item)
    store.add_manual_evidence(
        "gdpr", "Art.33", "breach-runbook-v2.pdf", b"runbook", "security-team", "runbook", DAY0, year,
        item="incident-runbook", approver="Dana DPO",
    )  # fmt: skip
    store.add_manual_evidence(
        "gdpr", "Art.33", "breach-register-2025.xlsx", b"register", "dpo", "", DAY0 - timedelta(days=400),
        DAY0 - timedelta(days=1), item="breach-register",
    )  # fmt: skip
    findings = [
        _finding("aws.s3.bucket_default_encryption", Status.PASS, "arn:aws:s3:::customer-data"),
        _finding("aws.guardduty.detector_enabled", Status.FAIL, "arn:aws:::123456789012:eu-west-1"),
        _finding("aws.cloudwatch.alarm_root_usage", Status.FAIL, "arn:aws:::123456789012"),
    ]
    run = save_synthetic_run(store, DAY0 + timedelta(days=1), findings)
    paths = write_report(
        store, "gdpr", run_ref=run.id, html_path=tmp / "gdpr.html", pack_path=tmp / "gdpr.zip", now=NOW
    )
    assert paths.html is not None and paths.pack is not None
    with zipfile.ZipFile(paths.pack) as zf:
        controls = {c["id"]: c for c in json.loads(zf.read("controls.json"))["controls"]}
    yield Built(paths, paths.html.read_text(encoding="utf-8"), controls)
    store.close()


def section(html: str, control_id: str) -> str:
    """The HTML of one control's detail section, entities decoded."""
    anchor = "ctl-" + re.sub(r"[^A-Za-z0-9]+", "-", control_id).strip("-")
    start = html.index(f'<div class="control" id="{anchor}">')
    end = html.find('<div class="control" id="', start + 10)
    return htmllib.unescape(html[start : end if end > 0 else len(html)])


def test_each_test_shows_the_catalog_rationale_next_to_it(built: Built) -> None:
    art32a = section(built.html, "Art.32(1)(a)")
    assert "aws.s3.bucket_default_encryption" in art32a and f"Why: {S3_WHY}" in art32a
    assert built.controls["Art.32(1)(a)"]["rationale"] == {"aws.s3.bucket_default_encryption": S3_WHY}


def test_supporting_signals_are_shown_but_do_not_decide_the_control(built: Built) -> None:
    art33 = section(built.html, "Art.33")
    assert "Supporting signals (shown, not the pass condition)" in art33
    row = art33[art33.index("aws.guardduty.detector_enabled") :]
    assert GUARDDUTY_WHY_33 in row.split("</tr>")[0]
    assert "Also supporting, with no result in this run: " in art33  # the quiet ones, listed compactly
    quiet = art33.split("no result in this run: ", 1)[1].split(".</p>", 1)[0]
    assert "aws.securityhub.enabled" in quiet and "aws.guardduty.detector_enabled" not in quiet
    supporting = built.controls["Art.33"]["supporting"]
    assert isinstance(supporting, dict)
    assert supporting["aws.guardduty.detector_enabled"]["counts"]["FAIL"] == 1
    assert supporting["aws.cloudwatch.alarm_root_usage"]["counts"]["FAIL"] == 1
    assert set(supporting["aws.securityhub.enabled"]["counts"].values()) == {0}  # no result in this run: still listed
    # GuardDuty failed, yet Art. 33 is judged on its evidence items only; Art. 32(1)(b) carries the failure.
    assert built.controls["Art.33"]["status"] == "GAP" and built.controls["Art.33"]["counts"]["FAIL"] == 0
    assert built.controls["Art.32(1)(b)"]["status"] == "FAIL"
    assert built.controls["Art.30"]["status"] == "PASS"


def test_expected_items_show_what_covers_them_and_what_is_missing(built: Built) -> None:
    art33 = section(built.html, "Art.33")
    assert "Expected evidence: 1 of 4 items covered" in art33
    assert "2 of its 4" not in art33 and "3 of its 4 expected evidence items are not covered" in art33
    assert "(missing: breach-register, authority-notifications, breach-exercise)" in art33
    rows = {r.split("</span>")[0].rsplit(">", 1)[-1]: r for r in art33.split("<tr>")[1:] if 'class="mono"' in r}
    covered = rows["incident-runbook"]
    for text in ("covered", "breach-runbook-v2.pdf", "security-team", "Dana DPO", DAY0.date().isoformat(), "2027-01"):
        assert text in covered, text
    assert "lapsed" in rows["breach-register"] and "breach-register-2025.xlsx" in rows["breach-register"]
    assert "missing" in rows["authority-notifications"] and "No file on record" in rows["authority-notifications"]
    assert built.controls["Art.33"]["missing_manual_evidence"] == [
        "breach-register",
        "authority-notifications",
        "breach-exercise",
    ]
    states = {i["id"]: i["state"] for i in built.controls["Art.33"]["expected_manual_evidence"]}  # type: ignore[union-attr]
    assert states == {
        "incident-runbook": "covered",
        "breach-register": "lapsed",
        "authority-notifications": "missing",
        "breach-exercise": "missing",
    }
    assert "Expected evidence: 3 of 3 items covered" in section(built.html, "Art.30")


def test_every_rationale_of_a_control_with_results_reaches_the_report(built: Built) -> None:
    gdpr = load_catalog()["gdpr"]
    for cid, c in built.controls.items():
        control = gdpr.control(cid)
        assert control is not None
        for check in c["rationale"]:  # type: ignore[union-attr]
            assert c["rationale"][check] == control.why_for(check)  # type: ignore[index]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_the_pdf_carries_rationale_support_and_missing_items(built: Built, tmp_path: Path) -> None:
    from auditor.report.render import render_pdf

    pdf = tmp_path / "gdpr.pdf"
    pdf.write_bytes(render_pdf(built.html))
    raw = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(raw.split())
    assert f"Why: {S3_WHY}" in text
    assert "Supporting signals (shown, not the pass condition)" in text
    assert "(missing: breach-register, authority-notifications, breach-exercise)" in text
    assert "Dana DPO" in text and "breach-runbook-v2.pdf" in text
