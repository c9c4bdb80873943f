"""Evidence reports end to end: real engine runs, real PDFs read back with pdftotext."""

from __future__ import annotations

import http.server
import io
import json
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from report_estate import (
    DAY0,
    PLANTED_KEY,
    PLANTED_SECRET,
    save_synthetic_run,
    scan_day,
    synthetic_findings,
)

from auditor.engine import ScanResult
from auditor.frameworks import load_catalog
from auditor.models import Finding, Resource, Severity, Status
from auditor.outputs.json_output import to_document
from auditor.report import parse_period, write_report
from auditor.report.generate import ReportPaths
from auditor.report.render import render_pdf
from auditor.store import Store

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")

SCAN_DAYS = [0, 1, 2, 5, 6, 7, 8, 9]  # 2026-01-05 .. 2026-01-14, nothing on the 8th and 9th
ROTATED_FROM = 6
REPORT_NOW = DAY0 + timedelta(days=11)  # 2026-01-16 09:00


class _Listener(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Listener.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Built:
    store: Store
    db: Path
    last_scan: ScanResult
    point: ReportPaths
    period: ReportPaths
    point_text: str
    period_text: str
    key: Ed25519PrivateKey
    key_pub: Path
    hits: list[str]


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_flat(path: Path) -> str:
    """Reading-order text with whitespace collapsed (phrases that wrap inside table cells stay whole)."""
    raw = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(raw.split())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("reports")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Listener)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Listener.hits = []
    db = tmp / "auditor.db"
    store = Store.open(db)
    last: ScanResult | None = None
    for d in SCAN_DAYS:
        last = scan_day(store, tmp / "estate", DAY0 + timedelta(days=d), rotated=d >= ROTATED_FROM)
    assert last is not None
    # CC1.1 passes only with every expected evidence item on file (the roll-up's rule).
    cc11 = load_catalog()["soc2"].control("CC1.1")
    assert cc11 is not None and cc11.manual_evidence
    for n, item in enumerate(cc11.manual_evidence):
        store.add_manual_evidence(
            "soc2",
            "CC1.1",
            "code-of-conduct.txt" if n == 0 else f"cc11-{item.id}.txt",
            b"Code of conduct v3, acknowledged by all staff\n" if n == 0 else f"{item.title}\n".encode(),
            "hr-team",
            "Code of conduct <b>v3</b>" if n == 0 else item.title,
            DAY0,
            DAY0 + timedelta(days=365),
            item=item.id,
        )
    store.add_manual_evidence(
        "soc2",
        "CC1.2",
        "board-minutes-2024.txt",
        b"minutes\n",
        "board-office",
        "2024 minutes",
        DAY0 - timedelta(days=400),
        DAY0 - timedelta(days=30),
    )
    # A later run with waivers and hostile resource names (the listener must see no request).
    hostile = [
        f'<img src="http://127.0.0.1:{port}/img.png">',
        f"x</style><style>body{{background:url(http://127.0.0.1:{port}/css.png)}}</style>",
        f'" style="background:url(http://127.0.0.1:{port}/attr.png)',
    ]
    findings = synthetic_findings(60)
    for i, name in enumerate(hostile):
        findings.append(
            Finding(
                check_id="secrets.inventory.rotation_age",
                status=Status.FAIL,
                severity=Severity.CRITICAL,
                resource=Resource(id=name, type="secret"),
                message=f"hostile name {i}: {name}",
                provider="secrets",
                evidence={"name": name, "css": f"url(http://127.0.0.1:{port}/ev{i}.png)"},
                # suppressed inline without approval: listed by the exceptions register, whatever the sample
                waiver={"source": "inline", "approved": False, "reason": f"skip {name}"},
            )
        )
    save_synthetic_run(store, DAY0 + timedelta(days=10), findings)
    key = Ed25519PrivateKey.generate()
    key_path, pub_path = tmp / "sign.pem", tmp / "sign.pub"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pub_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    point = write_report(
        store,
        "soc2",
        run_ref=last.run.id,
        html_path=tmp / "point.html",
        pdf_path=tmp / "point.pdf",
        pack_path=tmp / "point.zip",
        now=REPORT_NOW,
    )
    period = write_report(
        store,
        "soc2",
        period=parse_period("2026-01-01..2026-01-31"),
        pdf_path=tmp / "period.pdf",
        html_path=tmp / "period.html",
        pack_path=tmp / "period.zip",
        sign_key_path=key_path,
        now=REPORT_NOW,
    )
    server.shutdown()
    yield Built(
        store,
        db,
        last,
        point,
        period,
        pdf_text(tmp / "point.pdf"),
        pdf_text(tmp / "period.pdf"),
        key,
        pub_path,
        list(_Listener.hits),
    )
    store.close()


def _overview_rows(text: str) -> dict[str, list[str]]:
    """Control id -> [result, pass, fail, error, waived, page] from the overview table's text."""
    start = text.index("Control results overview", text.index("Control results overview") + 1)
    end = text.index("Control detail", start)
    rows: dict[str, list[str]] = {}
    ids = {c.id for c in load_catalog()["soc2"].controls}
    for line in text[start:end].splitlines():
        parts = line.split()
        if parts and parts[0] in ids and len(parts) >= 6 and all(p.isdigit() for p in parts[-5:]):
            rows[parts[0]] = parts[-5:]
    return rows


def test_every_control_is_in_the_pdf_with_the_counts_of_the_json_output(built: Built) -> None:
    doc = to_document(built.last_scan)
    expected = {c["id"]: c for c in doc["controls"] if c["framework"] == "soc2"}
    rows = _overview_rows(built.point_text)
    assert set(rows) == set(expected) == {c.id for c in load_catalog()["soc2"].controls}
    for cid, c in expected.items():
        counts = [str(c["counts"].get(k, 0)) for k in ("PASS", "FAIL", "ERROR", "WAIVED")]
        assert rows[cid][:4] == counts, cid
    # The secrets estate on its last day: db-password rotated, the VPN certificate expired.
    assert expected["CC6.2"]["status"] == "PASS" and expected["CC6.7"]["status"] == "FAIL"
    with zipfile.ZipFile(built.point.pack) as zf:
        controls = {c["id"]: c for c in json.loads(zf.read("controls.json"))["controls"]}
        findings = json.loads(zf.read("findings.json"))
    for cid, c in expected.items():
        assert {k: controls[cid]["counts"][k] for k in c["counts"]} == c["counts"], cid
    soc2_findings = [f for f in doc["findings"] if any(r.startswith("soc2:") for r in f["controls"])]
    assert findings["count"] == len(soc2_findings) == len(findings["findings"])
    assert sorted(f["fingerprint"] for f in findings["findings"]) == sorted(f["fingerprint"] for f in soc2_findings)


def test_cover_toc_and_running_headers(built: Built) -> None:
    text = built.point_text
    pages = text.split("\f")
    assert "Acme Test GmbH" in pages[0] and built.last_scan.run.id in pages[0]
    assert "auditor 0.1.0" in pages[0] or "auditor" in pages[0]
    n = len([p for p in pages if p.strip()])
    assert f"Page 2 of {n}" in pages[1] and f"Page {n} of {n}" in pages[n - 1]
    assert "SOC 2 evidence report" in pages[1]
    # table of contents: numbered sections with page numbers from target-counter
    toc = pages[1] + pages[2]
    for title in ("Executive summary", "Scope", "Control results overview", "Control detail", "Methodology"):
        line = next(line for line in toc.splitlines() if title in line)
        assert line.rstrip().split()[-1].isdigit(), line


def test_gaps_are_gaps_and_manual_evidence_counts_only_while_valid(built: Built) -> None:
    with zipfile.ZipFile(built.point.pack) as zf:
        controls = {c["id"]: c for c in json.loads(zf.read("controls.json"))["controls"]}
    fw = load_catalog()["soc2"]
    manual = {c.id for c in fw.controls if not c.automated}
    gaps = {cid for cid, c in controls.items() if c["status"] == "GAP"}
    assert "CC1.1" not in gaps and controls["CC1.1"]["status"] == "PASS"  # valid evidence on file
    assert gaps == manual - {"CC1.1"}  # CC1.2's evidence expired: still a gap
    assert all(controls[cid]["status"] != "PASS" for cid in gaps)
    rows = _overview_rows(built.point_text)
    text = built.point_text
    line = next(line for line in text.splitlines() if line.strip().startswith("CC1.2 ") and "Gap" in line)
    assert "Gap" in line
    assert rows["CC1.1"] and "code-of-conduct.txt" in text and "hr-team" in text and "expired" in text
    assert "Code of conduct <b>v3</b>" in pdf_flat(built.point.pdf)  # type: ignore[arg-type]  # text, not markup


def test_manual_evidence_files_are_in_the_pack(built: Built) -> None:
    with zipfile.ZipFile(built.point.pack) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        member = next(n for n in names if n.endswith("code-of-conduct.txt"))
        assert zf.read(member) == b"Code of conduct v3, acknowledged by all staff\n"
    assert {"report.pdf", "report.html", "findings.json", "findings.csv", "controls.json", "manifest.json"} <= names
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json"}
    assert manifest["run_ids"] == [built.last_scan.run.id]
    assert manifest["attachments"] == ["findings.csv", "findings.json", "controls.json", "checks.csv"]
    by_status = built.last_scan.summary["by_status"]
    assert isinstance(by_status, dict)
    soc2 = [f for f in built.last_scan.findings if any(r.startswith("soc2:") for r in f.controls)]
    assert manifest["findings"]["count"] == len(soc2)
    assert manifest["findings"]["by_status"] == {
        k: sum(1 for f in soc2 if f.status.value == k) for k in ("PASS", "FAIL", "ERROR", "WAIVED", "SKIPPED")
    }


def test_pdf_embeds_the_finding_list_as_attachments(built: Built) -> None:
    out = subprocess.run(["pdfdetach", "-list", str(built.point.pdf)], capture_output=True, text=True, check=True)
    assert {"findings.csv", "findings.json", "controls.json"} <= {
        line.split(": ", 1)[1] for line in out.stdout.splitlines()[1:]
    }


def test_waivers_shown_with_approver_and_expiry(built: Built) -> None:
    text = pdf_flat(built.period.pdf)  # type: ignore[arg-type]
    assert "legacy system scheduled for decommission" in text
    assert "ciso@example.com" in text and "2026-12-31" in text
    with zipfile.ZipFile(built.period.pack) as zf:
        controls = {c["id"]: c for c in json.loads(zf.read("controls.json"))["controls"]}
    waived = [w for w in controls["CC6.2"]["waivers"]]
    assert [(w["approver"], w["expires"], w["findings"]) for w in waived] == [("ciso@example.com", "2026-12-31", 2)]


def test_period_analysis_runs_intervals_and_schedule_gaps(built: Built) -> None:
    pa = built.period.model.period_analysis
    assert pa is not None
    assert len(pa.runs) == len(SCAN_DAYS) + 1
    assert [(g.first_day.isoformat(), g.last_day.isoformat(), g.days) for g in pa.gaps] == [
        ("2026-01-01", "2026-01-04", 4),
        ("2026-01-08", "2026-01-09", 2),
    ]
    cc62 = pa.controls["CC6.2"]  # rotation age: failing until the rotation on day 6, failing again on day 10
    assert cc62.runs == 9 and cc62.passed == 4
    assert [
        (i.first_at.date().isoformat(), i.fixed_at.date().isoformat() if i.fixed_at else None, i.days_open)
        for i in cc62.intervals
    ] == [("2026-01-05", "2026-01-11", 6.0), ("2026-01-15", None, 1.0)]
    cc67 = pa.controls["CC6.7"]  # expired certificate: never fixed
    assert cc67.passed == 0 and len(cc67.intervals) == 1 and cc67.intervals[0].open
    assert [w.approver for w in cc62.waivers] == ["ciso@example.com"]
    text = built.period_text
    assert "Days without any run: 6" in " ".join(text.split())
    assert "2026-01-05 → 2026-01-11, 6.0 d" in text


def test_hostile_resource_names_are_escaped_and_fetch_nothing(built: Built) -> None:
    assert built.hits == []
    html = built.period.html.read_text(encoding="utf-8") if built.period.html else ""
    assert "<script>alert(1)</script>" not in html and "<img src=" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in built.point.html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "&lt;img src=&#34;http://127.0.0.1:" in html
    assert "<script>alert(1)</script>" in built.point_text  # visible as text in the PDF


def test_data_only_fetcher_refuses_network_and_files(tmp_path: Path) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Listener)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Listener.hits = []
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOPSECRETFILECONTENT")
    html = (
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/s.css">'
        f"<style>@import url(http://127.0.0.1:{port}/i.css); body{{background:url(http://127.0.0.1:{port}/b.png)}}"
        f'</style></head><body><img src="http://127.0.0.1:{port}/a.png"><img src="file://{secret_file}">'
        f'<object data="file://{secret_file}"></object><iframe src="file://{secret_file}"></iframe>'
        "<img src=\"data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>\">"
        "<p>ok</p></body></html>"
    )
    pdf = render_pdf(html)
    server.shutdown()
    assert pdf.startswith(b"%PDF") and _Listener.hits == []
    (tmp_path / "x.pdf").write_bytes(pdf)
    assert "TOPSECRETFILECONTENT" not in pdf_text(tmp_path / "x.pdf")


def test_planted_secrets_never_reach_any_report_or_pack_file(built: Built) -> None:
    assert PLANTED_SECRET not in built.point_text and PLANTED_KEY not in built.point_text
    for paths in (built.point, built.period):
        assert paths.html is not None
        html = paths.html.read_text(encoding="utf-8")
        assert PLANTED_SECRET not in html and PLANTED_KEY not in html
        assert paths.pack is not None
        with zipfile.ZipFile(paths.pack) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                assert PLANTED_SECRET.encode() not in data and PLANTED_KEY.encode() not in data, name
                if name == "report.pdf":
                    (paths.pack.parent / "check.pdf").write_bytes(data)
                    assert PLANTED_KEY not in pdf_text(paths.pack.parent / "check.pdf")


def test_report_of_a_run_without_the_framework_is_refused(built: Built, tmp_path: Path) -> None:
    from auditor.errors import InputError

    with pytest.raises(InputError, match="nothing to write"):
        write_report(built.store, "soc2", now=REPORT_NOW)
    with pytest.raises(InputError, match="no stored run"):
        write_report(built.store, "soc2", period=parse_period("2025-01-01..2025-01-31"), html_path=tmp_path / "x.html")


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                new = change[info.filename]
                if new is not None:
                    zout.writestr(info.filename, new)
            else:
                zout.writestr(info.filename, zin.read(info))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def test_verify_names_exactly_what_changed(built: Built, tmp_path: Path, cli: Any) -> None:
    pack = built.period.pack
    assert pack is not None
    ok = cli("verify", str(pack), "--public-key", str(built.key_pub))
    assert ok.code == 0 and "INTACT" in ok.out and "signature valid" in ok.out, ok.out + ok.err
    with zipfile.ZipFile(pack) as zf:
        csv = zf.read("findings.csv")
    changed = _rewrite(pack, tmp_path / "changed.zip", {"findings.csv": csv.replace(b"PASS", b"FAIL", 1)})
    res = cli("verify", str(changed), "--format", "json")
    assert res.code == 1
    doc = json.loads(res.out)
    assert (doc["changed"], doc["missing"], doc["extra"]) == (["findings.csv"], [], [])
    assert doc["verdict"] == "TAMPERED" and doc["exit_code"] == 1
    assert any("findings.csv disagrees with findings.json" in line for line in doc["inconsistencies"])
    missing = _rewrite(pack, tmp_path / "missing.zip", {"report.html": None}, {"notes.txt": b"hi"})
    doc = json.loads(cli("verify", str(missing), "--format", "json").out)
    assert (doc["changed"], doc["missing"], doc["extra"]) == ([], ["report.html"], ["notes.txt"])
    # Re-hashing the manifest does not help when the pack is signed.
    with zipfile.ZipFile(pack) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    forged = dict(manifest, organisation="Someone Else")
    forged_zip = _rewrite(pack, tmp_path / "forged.zip", {"manifest.json": json.dumps(forged).encode()})
    res = cli("verify", str(forged_zip), "--public-key", str(built.key_pub))
    assert res.code == 1 and "signature: INVALID" in res.out
    other = Ed25519PrivateKey.generate().public_key()
    other_pub = tmp_path / "other.pub"
    other_pub.write_bytes(
        other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert cli("verify", str(pack), "--public-key", str(other_pub)).code == 1
    # An unsigned pack is intact but not authenticated (4), unless the database vouches for it (0).
    unsigned = built.point.pack
    res = cli("verify", str(unsigned), "--public-key", str(built.key_pub))
    assert res.code == 4 and "INTACT but NOT AUTHENTICATED" in res.out and "the pack is unsigned" in res.out
    res = cli("verify", str(unsigned))
    assert res.code == 4 and "no --db was given" in res.out
    res = cli("verify", str(unsigned), "--db", str(built.db))
    assert res.code == 0 and "INTACT and AUTHENTICATED" in res.out and "database matches" in res.out, res.out
    # A signed pack without the key to check it: also 4, in words.
    res = cli("verify", str(pack))
    assert res.code == 4 and "no --public-key was given" in res.out
    # Removing the signature of a pack whose manifest declares one is tampering.
    stripped = _rewrite(pack, tmp_path / "stripped.zip", {"manifest.sig": None})
    res = cli("verify", str(stripped))
    assert res.code == 1 and "manifest.sig is missing" in res.out


def test_verify_unusable_input_exits_2(tmp_path: Path, cli: Any, built: Built) -> None:
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes(b"hello")
    res = cli("verify", str(not_zip))
    assert res.code == 2 and "not a zip" in res.err
    no_manifest = tmp_path / "nm.zip"
    with zipfile.ZipFile(no_manifest, "w") as zf:
        zf.writestr("report.pdf", b"%PDF")
    res = cli("verify", str(no_manifest))
    assert res.code == 2 and "no manifest.json" in res.err
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", b"{not json")
    assert cli("verify", str(bad)).code == 2
    assert cli("verify", str(tmp_path / "absent.zip")).code == 2
    assert cli("verify", str(built.point.pack), "--public-key", str(not_zip)).code == 2
    # a decompression bomb is refused, not extracted
    bomb = tmp_path / "bomb.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "manifest.json",
            json.dumps({"schema": "auditor.pack/1", "files": [{"path": "big.bin", "sha256": "0" * 64, "size": 1}]}),
        )
        zf.writestr("big.bin", b"\0" * (1024 * 1024))
    bomb.write_bytes(buf.getvalue())
    import auditor.report.pack as pack_mod

    old = pack_mod.MAX_MEMBER_BYTES
    pack_mod.MAX_MEMBER_BYTES = 1000
    try:
        res = cli("verify", str(bomb))
    finally:
        pack_mod.MAX_MEMBER_BYTES = old
    assert res.code == 2 and "refusing" in res.err


def test_generated_at_uses_the_clock(built: Built) -> None:
    assert built.point.model.generated_at == REPORT_NOW
    assert "2026-01-16T09:00:00Z" in built.point_text
    assert datetime(2026, 1, 16, 9, tzinfo=UTC) == REPORT_NOW
