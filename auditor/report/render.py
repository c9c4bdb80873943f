"""HTML through jinja2 (autoescape, StrictUndefined) and PDF through weasyprint.

The PDF renderer fetches nothing but `data:` URLs: no network, no local files, whatever
the HTML says. Every text that reaches a template is escaped by jinja2; the chart is
built with escaped text (`chart.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from weasyprint import HTML, Attachment
from weasyprint.urls import URLFetcher

from auditor.models import iso_z
from auditor.report.model import STATUS_LABELS, ReportModel
from auditor.resources import resource_dir

log = logging.getLogger("auditor.report")

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


class DataOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """Allows `data:` URLs only; every other URL (http, https, file, ftp, ...) is refused."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data"}, timeout=1, allow_redirects=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not url.lower().startswith("data:"):
            self.refused.append(url[:200])
            raise ValueError("auditor reports load no external resources (only data: URLs)")
        return super().fetch(url, headers)


@lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("reports"))),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.0f} %"
    env.filters["iso"] = lambda v: iso_z(v) if v else "–"
    env.filters["size"] = _human_size
    return env


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def render_html(model: ReportModel) -> str:
    env = template_env()
    css = (resource_dir("reports") / STYLESHEET).read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError(f"{STYLESHEET} must not contain '</'")
    # The stylesheet is our own shipped file, not data: it is inserted verbatim.
    return env.get_template(TEMPLATE).render(m=model, css=Markup(css), labels=STATUS_LABELS)


@dataclass(frozen=True)
class PdfAttachment:
    path: Path
    name: str
    description: str


@contextmanager
def _quiet_weasyprint() -> Iterator[None]:
    """weasyprint logs every unsupported CSS property and refused URL as a warning."""
    logger = logging.getLogger("weasyprint")
    old = logger.level
    logger.setLevel(logging.ERROR if log.isEnabledFor(logging.DEBUG) else logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(old)


def render_pdf(html: str, attachments: Sequence[PdfAttachment] = (), *, when: Any = None) -> bytes:
    """PDF bytes from report HTML; `attachments` are embedded as PDF file attachments."""
    fetcher = DataOnlyFetcher()
    with _quiet_weasyprint():
        doc = HTML(string=html, url_fetcher=fetcher, base_url=None)
        pdf_attachments = [
            Attachment(
                string=a.path.read_bytes(),
                name=a.name,
                description=a.description,
                url_fetcher=fetcher,
                created=when,
                modified=when,
            )
            for a in attachments
        ]
        pdf: bytes = doc.write_pdf(attachments=pdf_attachments or None)
    if fetcher.refused:
        log.warning("the report referenced %d external resource(s); none was loaded", len(fetcher.refused))
    return pdf
