"""ISO/IEC 27001:2022 gets its own report and signed pack, like SOC 2 and GDPR (from its catalog's data)."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from report_estate import DAY0, write_inventory

from auditor.config import AuditConfig
from auditor.demo import demo_signing_key
from auditor.providers import targets
from auditor.report import parse_period, write_report
from auditor.report.pack import verify_pack
from auditor.runs import run_scan
from auditor.store import Store

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")


def pdf_flat(path: Path) -> str:
    raw = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(raw.split())


def test_iso27001_period_report_and_signed_pack_verify(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    try:
        for day, rotated in ((0, False), (45, False), (89, True)):
            when = DAY0 + timedelta(days=day)
            inv = write_inventory(tmp_path / f"estate{day}", when, rotated=rotated, hostile=False)
            config = AuditConfig(
                organisation="Acme Test GmbH", targets=targets(secrets=inv), frameworks=("soc2", "gdpr", "iso27001")
            )
            run_scan(config, store, now=when)
        key, public = demo_signing_key(tmp_path)
        period = parse_period(f"{DAY0.date().isoformat()}..{(DAY0 + timedelta(days=89)).date().isoformat()}")
        now = DAY0 + timedelta(days=90)
        out = write_report(
            store, "iso27001", period=period, html_path=tmp_path / "iso.html", pdf_path=tmp_path / "iso.pdf",
            pack_path=tmp_path / "iso.zip", sign_key_path=key, now=now,
        )  # fmt: skip
        soc2 = write_report(store, "soc2", period=period, html_path=tmp_path / "soc2.html", now=now)
    finally:
        store.close()

    assert out.model.title == "ISO/IEC 27001:2022 - Annex A — Period report, 90 days"
    assert soc2.model.title.endswith("Type II period report, 90 days")  # the term is SOC 2's, from its catalog
    text = pdf_flat(tmp_path / "iso.pdf")
    assert "Type II" not in text
    for expected in ("A.8.24 Use of cryptography", "A.5.17 Authentication information", "A.7.1 Physical security"):
        assert expected in text
    assert verify_pack(tmp_path / "iso.zip", public).exit_code == 0

    with zipfile.ZipFile(tmp_path / "iso.zip") as z:
        controls = json.loads(z.read("controls.json"))
    status = {c["id"]: c["status"] for c in controls["controls"]}
    assert len(status) == 93
    # Certificates and secret rotation evidence A.8.24 / A.5.17 (legacy-vpn's certificate is expired).
    assert status["A.8.24"] == "FAIL" and status["A.5.17"] == "PASS"
    assert status["A.7.1"] == "GAP" and status["A.8.8"] == "NOT_TESTED"
