"""Evidence reports: view-model, HTML (jinja2), PDF (weasyprint), evidence pack, verify, period analysis.

The names below load on first use: importing `auditor.report.manual_evidence` (the CLI
does, for `auditor evidence`) must not pull in weasyprint.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ReportPaths": "auditor.report.generate",
    "write_framework_pack": "auditor.report.generate",
    "write_report": "auditor.report.generate",
    "VerifyResult": "auditor.report.pack",
    "verify_pack": "auditor.report.pack",
    "Period": "auditor.report.period",
    "parse_period": "auditor.report.period",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'auditor.report' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
