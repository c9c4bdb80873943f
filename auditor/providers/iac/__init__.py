"""Infrastructure as code through checkov (run as a process, offline, JSON output).

`--iac PATH` (repeatable): Terraform (including plan JSON), CloudFormation, Kubernetes,
Helm, Dockerfiles, GitHub Actions workflows and secrets in every file. One checkov
process per path. Check ids are `iac.<checkov id>` (`iac.CKV_AWS_24`), severities come
from policies/checkov_ids.yaml (checkov gives none offline) or our own policies in
policies/checkov/; unmapped ids get the documented default (medium).

- PASS / FAIL per check and resource, with file (relative to the scanned path), line
  range and resource address;
- inline `#checkov:skip=ID:reason` -> WAIVED with `waiver = {"source": "inline", "reason": ...}`;
- `iac.checkov.scan` records whether the scan itself worked: PASS with what was scanned,
  ERROR when checkov is missing, crashed or timed out, when a file could not be parsed,
  or when Helm charts are present but the helm binary is not;
- secrets: the value never reaches a message or evidence (no code blocks are kept).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import CheckInfo, Finding, Resource, Severity, Status
from auditor.providers.base import Provider, ScanContext
from auditor.providers.iac.checkov import SKIP_DIRS, CheckovReport, CheckovResult, run_checkov
from auditor.providers.iac.policies import (
    CATEGORY_TEXT,
    DEFAULT_CATEGORY_TEXT,
    ToolIdInfo,
    shipped_checkov_data,
)
from auditor.tools import DEFAULT_TIMEOUT_S, ToolError, find_tool

PREFIX = "iac."
SCAN_CHECK = CheckInfo(
    id="iac.checkov.scan",
    title="Infrastructure as code could be scanned completely",
    severity=Severity.HIGH,
    provider="iac",
    description="checkov ran on the path and parsed every file it found; no framework was left out.",
    risk="Files that were not scanned can hide any misconfiguration; an incomplete scan must not pass a gate.",
    remediation="Fix the reported cause: install checkov (or helm for charts), fix the file that does not parse.",
    resource_type="iac.path",
)
# Frameworks whose resources are named `<type>.<name>...`; the rest use the framework as type.
ADDRESSED = {"terraform", "terraform_plan", "cloudformation", "kubernetes", "helm"}


class IacProvider(Provider):
    name = "iac"
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __init__(self) -> None:
        self._ids, self._custom, self._custom_dir = shipped_checkov_data()
        self._check_cache: dict[tuple[str, str], CheckInfo] = {}

    # Metadata ---------------------------------------------------------------------------

    def tool_info(self, checkov_id: str) -> ToolIdInfo | None:
        return self._custom.get(checkov_id) or self._ids.ids.get(checkov_id)

    def check_for(self, checkov_id: str, check_name: str = "") -> CheckInfo:
        """CheckInfo for a checkov id; ids we do not map get checkov's name and the default severity."""
        key = (checkov_id, check_name)
        cached = self._check_cache.get(key)
        if cached is None:
            cached = self._check_cache[key] = self._make_check(checkov_id, check_name)
        return cached

    def _make_check(self, checkov_id: str, check_name: str) -> CheckInfo:
        info = self.tool_info(checkov_id)
        title = info.title if info else (check_name or checkov_id)
        category = info.category if info else ""
        risk, remediation = CATEGORY_TEXT.get(category, DEFAULT_CATEGORY_TEXT)
        return CheckInfo(
            id=PREFIX + checkov_id,
            title=title,
            severity=info.severity if info else self._ids.default_severity,
            provider=self.name,
            description=f"checkov {checkov_id}: {title}",
            risk=risk,
            remediation=remediation,
            resource_type="iac.resource",
        )

    def checks(self) -> list[CheckInfo]:
        ids = sorted({*self._ids.ids, *self._custom})
        return [SCAN_CHECK, *(self.check_for(cid) for cid in ids)]

    def tool_id_patterns(self) -> list[str]:
        return ["iac.CKV_*", "iac.CKV2_*"]

    # Selection and inputs -----------------------------------------------------------------

    def selected(self, config: AuditConfig) -> bool:
        return bool(config.iac_paths)

    def targets(self, config: AuditConfig) -> list[str]:
        return [f"iac:{p}" for p in config.iac_paths]

    def prepare(self, ctx: ScanContext) -> None:
        for path in ctx.config.iac_paths:
            if not path.exists():
                raise InputError(f"--iac {path}: no such file or directory")
            if not os.access(path, os.R_OK):
                raise InputError(f"--iac {path}: not readable")

    # Scanning -----------------------------------------------------------------------------

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        external = self._custom_dir if self._custom else None
        for target in ctx.config.iac_paths:
            ctx.progress(self.name, f"checkov {target}")
            root = target.resolve()
            try:
                report = run_checkov(root, external, timeout=self.timeout_s, cancel=ctx.cancelled)
            except ToolError as exc:
                yield self.finding(
                    SCAN_CHECK,
                    Status.ERROR,
                    Resource(id=str(target), type="iac.path", path=str(target)),
                    f"IaC scan of {target} could not run: {exc}",
                    evidence={"tool": "checkov", "target": str(target), "error": str(exc)},
                )
                continue
            yield from self.findings_for(target, report)

    def findings_for(self, target: Path, report: CheckovReport) -> Iterator[Finding]:
        """Findings for one checkov report of one target (pure: no process, no clock)."""
        root = target.resolve()
        base = root if root.is_dir() else root.parent
        for r in report.results:
            yield self.result_finding(r, base)
        for err in report.parsing_errors:
            rel = relative(err, base)
            yield self.finding(
                SCAN_CHECK,
                Status.ERROR,
                Resource(id=f"{target}:{rel}", type="iac.file", path=rel),
                f"checkov could not parse {rel}: its resources were not checked",
                evidence={"tool": "checkov", "target": str(target), "file": rel},
            )
        charts = helm_charts(root) if root.is_dir() else []
        helm_missing = False
        if charts:
            try:
                find_tool("helm")
            except ToolError:
                helm_missing = True
        if helm_missing:
            for chart in charts:
                rel = relative(str(chart), base)
                yield self.finding(
                    SCAN_CHECK,
                    Status.ERROR,
                    Resource(id=f"{target}:{rel}", type="iac.helm_chart", path=rel),
                    f"Helm chart {rel} was not scanned: the helm binary is not installed",
                    evidence={"tool": "checkov", "target": str(target), "chart": rel, "missing": "helm"},
                )
        if not report.parsing_errors and not helm_missing:
            counts = {fw: {k: s.get(k) for k in ("passed", "failed", "skipped")} for fw, s in report.frameworks.items()}
            yield self.finding(
                SCAN_CHECK,
                Status.PASS,
                Resource(id=str(target), type="iac.path", path=str(target)),
                f"checkov scanned {target}: {len(report.results)} results in "
                f"{len(report.frameworks)} framework(s), no parsing errors",
                evidence={
                    "tool": "checkov",
                    "checkov_version": report.version,
                    "target": str(target),
                    "frameworks": counts,
                },
            )

    def result_finding(self, r: CheckovResult, base: Path) -> Finding:
        check = self.check_for(r.check_id, r.check_name)
        info = self.tool_info(r.check_id)
        rel = relative(r.file_abs_path, base)
        is_secret = r.check_type == "secrets"
        if is_secret:
            # checkov's resource for a secret is a hash of the value: identity only, never shown.
            resource = Resource(id=rel, type="secret", path=rel, line=r.line, end_line=r.end_line)
            discriminator = r.resource
            where = f"{rel} line {r.line}"
        else:
            rtype = r.resource.split(".", 1)[0] if r.check_type in ADDRESSED else r.check_type
            resource = Resource(id=r.resource, type=rtype or r.check_type, path=rel, line=r.line, end_line=r.end_line)
            discriminator = ""
            where = f"{r.resource} ({rel}:{r.line})"
        severity = check.severity
        if info is None and r.severity:
            try:
                severity = Severity(r.severity)
            except ValueError:
                pass
        evidence: dict[str, object] = {
            "tool": "checkov",
            "framework": r.check_type,
            "checkov_id": r.check_id,
            "check_name": r.check_name,
            "file": rel,
            "lines": [r.line, r.end_line],
            "result": r.result,
        }
        if not is_secret:
            evidence["resource"] = r.resource
            evidence["evaluated_keys"] = list(r.evaluated_keys)
        if r.result == "PASSED":
            status, message, waiver = Status.PASS, f"passed: {check.title}: {where}", None
        elif r.result == "SKIPPED":
            reason = r.suppress_comment or ""
            status, waiver = Status.WAIVED, {"source": "inline", "reason": reason}
            message = f"waived inline ({reason or 'no reason given'}): {check.title}: {where}"
        else:
            status, message, waiver = Status.FAIL, f"{check.title}: {where}", None
        return self.finding(
            check,
            status,
            resource,
            message,
            evidence=evidence,
            severity=severity,
            waiver=waiver,
            discriminator=discriminator,
        )


@lru_cache(maxsize=65536)
def relative(path: str, base: Path) -> str:
    """`path` relative to the scanned folder, with `/` separators; unchanged when outside it."""
    p = Path(path)
    if not p.is_absolute():
        return path.lstrip("/")
    try:
        return p.resolve().relative_to(base).as_posix()
    except ValueError:
        return p.as_posix()


def helm_charts(root: Path) -> list[Path]:
    """Folders holding a Chart.yaml under `root`, not descending into vendored or hidden folders."""
    charts = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        if "Chart.yaml" in filenames:
            charts.append(Path(dirpath))
    return sorted(charts)
