"""Write reports: HTML, PDF (with the finding list attached) and the evidence pack."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.clock import utcnow
from auditor.errors import InputError
from auditor.models import iso_z
from auditor.outputs.csv_output import neutralise
from auditor.report.exports import STATUS_KEYS, FindingExports
from auditor.report.model import ReportModel, build_report_model, resolve_run
from auditor.report.pack import PackEntry, load_private_key, write_pack
from auditor.report.period import Period
from auditor.report.render import PdfAttachment, render_html, render_pdf
from auditor.store import Store

CHECKS_CSV_COLUMNS = ("check_id", "title", "severity", "provider", *STATUS_KEYS, "findings")


@dataclass(frozen=True)
class ReportPaths:
    html: Path | None
    pdf: Path | None
    pack: Path | None
    model: ReportModel
    manifest: dict[str, Any] | None


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            h.update(block)
    return h.hexdigest()


def _write_atomic(target: Path, data: bytes) -> None:
    if target.is_dir():
        raise InputError(f"{target} is a directory")
    if target.exists() and not target.is_file():
        # A device or pipe (/dev/null, /dev/stdout): written into, never replaced.
        try:
            with target.open("wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
        return
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None


def write_report(
    store: Store,
    framework: str,
    *,
    run_ref: str | None = None,
    period: Period | None = None,
    html_path: Path | None = None,
    pdf_path: Path | None = None,
    pack_path: Path | None = None,
    sign_key_path: Path | None = None,
    now: datetime | None = None,
) -> ReportPaths:
    """Build the model once and write whichever of HTML, PDF and pack were asked for."""
    if not (html_path or pdf_path or pack_path):
        raise InputError("nothing to write: give --html, --pdf and/or --pack")
    sign_key = load_private_key(sign_key_path) if sign_key_path else None
    if sign_key_path and not pack_path:
        raise InputError("--sign-key signs an evidence pack: give --pack as well")
    now = now or utcnow()
    run = resolve_run(store, run_ref, period, framework)
    with tempfile.TemporaryDirectory(prefix="auditor-report-") as tmpdir:
        work = Path(tmpdir)
        with FindingExports(work, run, framework, seen=store.seen_times) as exports:
            model = build_report_model(store, framework, run_ref=run.id, period=period, now=now, sinks=[exports])
        controls_path = work / "controls.json"
        controls_path.write_text(json.dumps(model.controls_document(), indent=1, default=str), encoding="utf-8")
        checks_path = work / "checks.csv"
        write_checks_csv(checks_path, model)
        n = exports.count
        attach = [
            PdfAttachment(exports.csv_path, "findings.csv", f"All {n} {framework} findings of the run (CSV)"),
            PdfAttachment(exports.json_path, "findings.json", f"All {n} {framework} findings (JSON)"),
            PdfAttachment(
                controls_path,
                "controls.json",
                "Per-control results, samples, waivers, exceptions register, scope and evidence (JSON)",
            ),
            PdfAttachment(
                checks_path, "checks.csv", f"All {len(model.checks_all)} checks with results, counts per status (CSV)"
            ),
        ]
        if model.period_analysis:
            period_path = work / "period.json"
            period_path.write_text(json.dumps(model.period_analysis.to_dict(), indent=1), encoding="utf-8")
            attach.append(PdfAttachment(period_path, "period.json", "Period analysis per control (JSON)"))
        model.attachments = [
            {"name": a.name, "description": a.description, "sha256": _sha_file(a.path), "size": a.path.stat().st_size}
            for a in attach
        ]
        html = render_html(model)
        html_bytes = html.encode("utf-8")
        pdf_bytes = render_pdf(html, attach, when=now.replace(tzinfo=None)) if (pdf_path or pack_path) else None
        if html_path:
            _write_atomic(html_path, html_bytes)
        if pdf_path and pdf_bytes is not None:
            _write_atomic(pdf_path, pdf_bytes)
        manifest = None
        if pack_path:
            assert pdf_bytes is not None
            entries = [
                PackEntry("report.pdf", data=pdf_bytes),
                PackEntry("report.html", data=html_bytes),
                *(PackEntry(a.name, path=a.path) for a in attach),
            ]
            for item in model.evidence_items:
                entries.append(PackEntry(item.pack_path, data=store.manual_evidence_content(item.id)))
            header = {
                "framework": framework,
                "organisation": model.organisation,
                "generated_at": iso_z(now),
                "scanner_version": model.scanner_version,
                "report_run": model.run.id,
                "period": ({"start": period.start.isoformat(), "end": period.end.isoformat()} if period else None),
                "run_ids": model.run_ids,
                "catalog": model.catalog.to_dict(),
                "attachments": [a.name for a in attach],
                "findings": {"count": exports.count, **exports.summary},
            }
            manifest = write_pack(pack_path, entries, header, now, sign_key)
    return ReportPaths(html=html_path, pdf=pdf_path, pack=pack_path, model=model, manifest=manifest)


def write_checks_csv(path: Path, model: ReportModel) -> None:
    """Every check with results in the report (Appendix B shows the first rows of this list)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CHECKS_CSV_COLUMNS)
        for r in model.checks_all:
            values = (r.check_id, r.title, r.severity, r.provider, *(r.counts[k] for k in STATUS_KEYS), r.total)
            writer.writerow([neutralise(v) for v in values])


def write_framework_pack(store: Store, framework: str, out_dir: Path) -> dict[str, Path]:
    """For the demo: HTML, PDF and evidence pack of the latest run, named after the framework."""
    out_dir = Path(out_dir)
    paths = {
        "html": out_dir / f"{framework}-report.html",
        "pdf": out_dir / f"{framework}-report.pdf",
        "pack": out_dir / f"{framework}-evidence-pack.zip",
    }
    write_report(store, framework, html_path=paths["html"], pdf_path=paths["pdf"], pack_path=paths["pack"])
    return paths
