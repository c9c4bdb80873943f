"""`auditor verify`: packs that prove their origin (issue 12 item 3).

Exit codes: 0 intact and authenticated (valid signature for the given key, or equal to the
database), 1 tampered or different from the database, 2 unusable, 4 intact but not authenticated.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from report_estate import DAY0, scan_day

from auditor.engine import roll_up_all
from auditor.frameworks import frameworks_for
from auditor.report import write_report
from auditor.report.pdf_attachments import embedded_files
from auditor.store import Store

pytestmark = pytest.mark.skipif(shutil.which("pdfdetach") is None, reason="poppler-utils not installed")

NOW = DAY0 + timedelta(days=3)


@dataclass
class Packs:
    tmp: Path
    db: Path
    run_id: str
    signed: Path
    unsigned: Path
    key: Path
    pub: Path
    fails: dict[str, str]  # fingerprint -> check id of the run's critical FAILs


def _write_key(tmp: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = tmp / f"{name}.pem", tmp / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Packs]:
    tmp = tmp_path_factory.mktemp("verify")
    db = tmp / "auditor.db"
    store = Store.open(db)
    scan_day(store, tmp / "estate", DAY0, rotated=False, hostile=False)
    last = scan_day(store, tmp / "estate", DAY0 + timedelta(days=1), rotated=False, hostile=False)
    store.add_manual_evidence(
        "soc2", "CC1.2", "board-minutes.txt", b"minutes\n", "board", "", DAY0, DAY0 + timedelta(days=300)
    )
    key, pub = _write_key(tmp, "signer")
    signed = write_report(store, "soc2", run_ref=last.run.id, pack_path=tmp / "signed.zip", sign_key_path=key, now=NOW)
    unsigned = write_report(store, "soc2", run_ref=last.run.id, pack_path=tmp / "unsigned.zip", now=NOW)
    fails = {
        f.fingerprint: f.check_id
        for f in last.findings
        if f.status.value == "FAIL"
        and f.severity.value in ("critical", "high")
        and any(r.startswith("soc2:") for r in f.controls)
    }
    store.close()
    assert fails and signed.pack and unsigned.pack
    yield Packs(tmp, db, last.run.id, signed.pack, unsigned.pack, key, pub, fails)


def _members(pack: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(pack) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _zip(path: Path, members: dict[str, bytes], order: list[str] | None = None, dirs: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if dirs:  # what `zip -r` writes: an entry for every folder
            folders = {"/".join(n.split("/")[:i]) + "/" for n in members for i in range(1, n.count("/") + 1)}
            for d in sorted(folders):
                zf.writestr(zipfile.ZipInfo(d), b"")
        for name in order or list(members):
            zf.writestr(name, members[name])
    return path


def _rehash(members: dict[str, bytes], *names: str) -> None:
    """What a forger does: put the new digests into manifest.json."""
    manifest = json.loads(members["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] in names:
            entry["sha256"] = hashlib.sha256(members[entry["path"]]).hexdigest()
            entry["size"] = len(members[entry["path"]])
    members["manifest.json"] = json.dumps(manifest, indent=2).encode()


def _flip_findings_json(members: dict[str, bytes], fingerprints: set[str]) -> None:
    doc = json.loads(members["findings.json"])
    for f in doc["findings"]:
        if f["fingerprint"] in fingerprints:
            f["status"] = "PASS"
    members["findings.json"] = json.dumps(doc).encode()


def test_rehashed_findings_json_is_caught_by_the_other_parts_and_the_database(packs: Packs, cli: Any) -> None:
    """The issue's attack: FAILs flipped to PASS in findings.json, its hash updated in manifest.json, re-zipped."""
    flipped = set(packs.fails)
    for source, sig_kept in ((packs.unsigned, False), (packs.signed, True)):
        members = _members(source)
        _flip_findings_json(members, flipped)
        _rehash(members, "findings.json")
        forged = _zip(packs.tmp / f"naive-{source.name}", members)
        res = cli("verify", str(forged), "--format", "json")
        doc = json.loads(res.out)
        assert res.code == 1 and doc["verdict"] == "TAMPERED", res.out
        assert doc["changed"] == [] and doc["missing"] == []  # the digests alone say nothing
        lines = doc["inconsistencies"]
        for fp in flipped:
            assert any(
                f"findings.csv disagrees with findings.json: finding {fp}" in line
                and "status is FAIL in findings.csv" in line
                for line in lines
            ), fp
        assert "report.pdf embeds a findings.json that differs from the pack's findings.json" in lines
        assert any(line.startswith("manifest.json: findings by_status") for line in lines)
        if sig_kept:
            res = cli("verify", str(forged), "--public-key", str(packs.pub))
            assert res.code == 1 and "signature: INVALID" in res.out
    res = cli("verify", str(packs.tmp / "naive-unsigned.zip"), "--db", str(packs.db), "--format", "json")
    doc = json.loads(res.out)
    assert res.code == 1 and doc["database"] == "differs"
    stored_vs_pack = {
        line.split()[1] for line in doc["database_differences"] if line.endswith("status: stored FAIL vs pack PASS")
    }
    assert stored_vs_pack == flipped


def _doctored_pack(packs: Packs, signer: Path | None) -> Path:
    """A consistent forgery: every part regenerated from a copy of the database whose FAILs were flipped."""
    doctored = packs.tmp / "doctored.db"
    doctored.unlink(missing_ok=True)
    src = sqlite3.connect(packs.db)
    dst = sqlite3.connect(doctored)
    src.backup(dst)
    src.close()
    seq = dst.execute("SELECT obs_seq FROM runs WHERE id = ?", [packs.run_id]).fetchone()[0]
    for fp in packs.fails:
        dst.execute(
            "UPDATE observations SET status = 'PASS' WHERE fingerprint = ? AND first_seq <= ? AND last_seq >= ?",
            [fp, seq, seq],
        )
    dst.commit()
    dst.close()
    store = Store.open(doctored)
    try:
        findings = store.findings_for_run(packs.run_id)
        results = roll_up_all(frameworks_for(("soc2", "gdpr")), findings, NOW, store.manual_evidence_expiries())
        with store.write_transaction():
            store.db.execute("DELETE FROM control_results WHERE run_id = ?", [packs.run_id])
        store._write_control_results(packs.run_id, results)
        out = packs.tmp / f"doctored-{'signed' if signer else 'unsigned'}.zip"
        write_report(store, "soc2", run_ref=packs.run_id, pack_path=out, sign_key_path=signer, now=NOW)
    finally:
        store.close()
    return out


def test_a_consistent_forgery_is_unauthenticated_without_key_or_database_and_caught_with_them(
    packs: Packs, cli: Any
) -> None:
    forged = _doctored_pack(packs, signer=None)
    res = cli("verify", str(forged))
    assert res.code == 4, res.out  # every digest and every part agree: only a key or the database can tell
    assert "INTACT but NOT AUTHENTICATED" in res.out and "the pack is unsigned" in res.out
    res = cli("verify", str(forged), "--db", str(packs.db), "--format", "json")
    doc = json.loads(res.out)
    assert res.code == 1 and doc["verdict"] == "DIFFERS FROM THE DATABASE" and doc["inconsistencies"] == []
    flipped = {
        line.split()[1]
        for line in doc["database_differences"]
        if line.startswith("finding ") and line.endswith("status: stored FAIL vs pack PASS")
    }
    assert flipped == set(packs.fails)
    for fp, check in packs.fails.items():
        assert f"finding {fp} ({check}): status: stored FAIL vs pack PASS" in doc["database_differences"]
    assert any(
        line.startswith("control CC6.7: status: stored FAIL vs pack PASS") for line in doc["database_differences"]
    )
    # Signed: the forger has no access to the real key.
    res = cli("verify", str(forged), "--public-key", str(packs.pub))
    assert res.code == 4  # unsigned, key given: intact but not authenticated
    other_key, _ = _write_key(packs.tmp, "forger")
    own_signed = _doctored_pack(packs, signer=other_key)
    res = cli("verify", str(own_signed), "--public-key", str(packs.pub))
    assert res.code == 1 and "signature: INVALID" in res.out
    members = _members(own_signed)
    members["manifest.sig"] = _members(packs.signed)["manifest.sig"]  # the genuine signature, of another manifest
    res = cli("verify", str(_zip(packs.tmp / "stolen-sig.zip", members)), "--public-key", str(packs.pub))
    assert res.code == 1 and "signature: INVALID" in res.out


def test_rezipped_untouched_pack_with_directories_in_any_order_verifies(packs: Packs, cli: Any) -> None:
    members = _members(packs.signed)
    order = sorted(members)
    random.Random(7).shuffle(order)
    rezipped = _zip(packs.tmp / "rezipped.zip", members, order=order, dirs=True)
    with zipfile.ZipFile(rezipped) as zf:
        assert any(i.filename.endswith("/") for i in zf.infolist())
        assert [i.filename for i in zf.infolist() if not i.filename.endswith("/")] == order
    res = cli("verify", str(rezipped), "--public-key", str(packs.pub), "--format", "json")
    doc = json.loads(res.out)
    assert res.code == 0 and doc["verdict"] == "INTACT and AUTHENTICATED", res.out
    assert doc["directories_ignored"] == ["evidence/", "evidence/soc2-CC1.2/"]
    assert doc["changed"] == doc["missing"] == doc["extra"] == []
    res = cli("verify", str(rezipped), "--public-key", str(packs.pub), "--db", str(packs.db))
    assert res.code == 0 and "database matches" in res.out


def test_findings_csv_that_disagrees_with_findings_json_is_named(packs: Packs, cli: Any) -> None:
    members = _members(packs.unsigned)
    lines = members["findings.csv"].decode().splitlines(keepends=True)
    fp = next(iter(packs.fails))
    index = next(i for i, line in enumerate(lines) if f",{fp}," in line)
    lines[index] = lines[index].replace(",FAIL,", ",PASS,", 1)
    members["findings.csv"] = "".join(lines).encode()
    _rehash(members, "findings.csv")
    res = cli("verify", str(_zip(packs.tmp / "csv.zip", members)))
    assert res.code == 1
    assert (
        f"inconsistent: findings.csv disagrees with findings.json: finding {fp} ({packs.fails[fp]}): status is PASS "
        "in findings.csv, FAIL in findings.json" in res.out
    ), res.out
    assert "inconsistent: report.pdf embeds a findings.csv that differs from the pack's findings.csv" in res.out


def test_packs_stay_verifiable_against_a_database_that_moved_on(packs: Packs, cli: Any, tmp_path: Path) -> None:
    """Later scans and evidence added later are not differences: the report is rebuilt as of its time."""
    db = tmp_path / "later.db"
    src = sqlite3.connect(packs.db)
    dst = sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    store = Store.open(db)
    scan_day(store, packs.tmp / "estate-later", DAY0 + timedelta(days=5), rotated=True, hostile=False)
    store.add_manual_evidence("soc2", "CC1.2", "minutes.txt", b"minutes\n", "board", "", NOW + timedelta(days=3), None)
    store.close()
    res = cli("verify", str(packs.signed), "--public-key", str(packs.pub), "--db", str(db))
    assert res.code == 0 and "database matches" in res.out, res.out


def test_pdf_attachments_read_back_like_pdfdetach(packs: Packs, tmp_path: Path) -> None:
    members = _members(packs.unsigned)
    embedded = embedded_files(members["report.pdf"])
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(members["report.pdf"])
    out = tmp_path / "detached"
    out.mkdir()
    subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(pdf)], check=True, capture_output=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == embedded
    assert set(embedded) == {"findings.csv", "findings.json", "controls.json", "checks.csv"}
    assert all(embedded[name] == members[name] for name in embedded)


def test_verify_unusable_manifest_still_exits_2(packs: Packs, cli: Any) -> None:
    members = _members(packs.unsigned)
    members["manifest.json"] = b'{"schema": "something-else"}'
    res = cli("verify", str(_zip(packs.tmp / "bad-manifest.zip", members)))
    assert res.code == 2 and "not an auditor pack manifest" in res.err and "Traceback" not in res.err


def test_demo_signing_key_is_private_reused_and_verifies_its_packs(packs: Packs, tmp_path: Path, cli: Any) -> None:
    from auditor.demo import demo_signing_key

    private, public = demo_signing_key(tmp_path)
    assert private.stat().st_mode & 0o777 == 0o600
    first = public.read_bytes()
    again_private, again_public = demo_signing_key(tmp_path)
    assert (again_private, again_public) == (private, public) and public.read_bytes() == first
    store = Store.open(packs.db, readonly=True)
    try:
        out = write_report(
            store, "soc2", run_ref=packs.run_id, pack_path=tmp_path / "demo.zip", sign_key_path=private, now=NOW
        )
    finally:
        store.close()
    res = cli("verify", str(out.pack), "--public-key", str(public))
    assert res.code == 0 and "INTACT and AUTHENTICATED" in res.out


def test_report_html_must_name_the_attachments_the_pack_holds(packs: Packs, cli: Any) -> None:
    members = _members(packs.unsigned)
    html = members["report.html"].decode()
    digest = hashlib.sha256(members["findings.json"]).hexdigest()
    assert f'<meta name="auditor-attachment" content="findings.json sha256={digest}">' in html
    members["report.html"] = html.replace(digest, "0" * 64).encode()
    _rehash(members, "report.html")
    res = cli("verify", str(_zip(packs.tmp / "html.zip", members)))
    assert res.code == 1
    assert "report.html names findings.json with a sha256 that differs from the pack's findings.json" in res.out
    members["report.html"] = re.sub(r'<meta name="auditor-attachment"[^>]*>', "", html).encode()
    _rehash(members, "report.html")
    res = cli("verify", str(_zip(packs.tmp / "html2.zip", members)))
    assert res.code == 1 and "report.html does not name the attachment checks.csv the manifest lists" in res.out
