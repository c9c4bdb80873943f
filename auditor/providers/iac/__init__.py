"""Infrastructure as code through checkov (run as a process, offline, JSON output).

`--iac PATH` (repeatable): Terraform (including plan JSON), CloudFormation, Kubernetes,
Helm, Dockerfiles, GitHub Actions workflows and secrets in every file. Check ids are
`iac.<checkov id>` (`iac.CKV_AWS_24`), severities come from policies/checkov_ids.yaml
(checkov gives none offline) or our own policies in policies/checkov/; unmapped ids get
the documented default (medium).

Scope is ours, not checkov's: `auditor.scope.walk_target` decides the files (ignore files
inside the target only, hidden folders included, a size limit), and checkov gets exactly
that list (docs/providers/iac.md). Then:

- PASS / FAIL per check and resource, with file (relative to the scanned path), line
  range and resource address; results for files outside the list are dropped;
- inline `#checkov:skip=ID:reason`: WAIVED when the reason carries
  `approved-by=<who> expires=YYYY-MM-DD` (not expired, at most 365 days ahead), else a
  FAIL "suppressed without approval" (`auditor.providers.file_scans`);
- `iac.checkov.scan`: PASS when checkov reported on every IaC-shaped file
  (`auditor.providers.iac.shapes`) and everything in scope could be given to it; ERROR,
  with `affects` naming the checks it stops (so their controls turn ERROR, never PASS),
  when checkov is missing, crashed, timed out or printed no report (`iac.*`), for each
  file it could not parse or silently skipped, for each file in scope that could not be
  given to it (over the size limit, unreadable: `iac.*`, as the secrets scan reads every
  file), and for each Helm chart when the helm binary is missing;
- one coverage record per target: files in scope, given, reported on, per framework,
  what was skipped and why;
- secrets: the value never reaches a message or evidence (no code blocks are kept).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from auditor.config import AuditConfig, Setting
from auditor.errors import InputError
from auditor.models import CheckInfo, Coverage, Finding, Resource, Severity, SkippedItem, Status
from auditor.providers.base import FileClaim, Provider, ScanContext, StagedFile
from auditor.providers.file_scans import judge_inline_suppression
from auditor.providers.iac.checkov import CheckovReport, CheckovResult, run_checkov
from auditor.providers.iac.policies import (
    CATEGORY_TEXT,
    DEFAULT_CATEGORY_TEXT,
    ToolIdInfo,
    shipped_checkov_data,
)
from auditor.providers.iac.shapes import (
    DOCKERFILE,
    GITHUB_ACTIONS,
    KUBERNETES,
    claim_staged_file,
    iac_shape,
    is_candidate,
)
from auditor.safeio import read_bounded
from auditor.scope import DEFAULT_MAX_FILE_BYTES, Scope, ScopeFile, walk_target
from auditor.tools import DEFAULT_TIMEOUT_S, ToolError, find_tool

PREFIX = "iac."
ALL_IAC_CHECKS = ("iac.*",)
# The checks a file of one framework can stop; Terraform and CloudFormation share the
# cloud ids (CKV_AWS_*), and our own policies, so they stop every IaC check.
FRAMEWORK_CHECKS: dict[str, tuple[str, ...]] = {
    DOCKERFILE: ("iac.CKV_DOCKER_*", "iac.CKV2_DOCKER_*"),
    GITHUB_ACTIONS: ("iac.CKV_GHA_*", "iac.CKV2_GHA_*"),
    KUBERNETES: ("iac.CKV_K8S_*", "iac.CKV2_K8S_*"),
}
SCAN_CHECK = CheckInfo(
    id="iac.checkov.scan",
    title="Infrastructure as code could be scanned completely",
    severity=Severity.HIGH,
    provider="iac",
    description="checkov ran on every file in scope and reported on every IaC file; none was left out.",
    risk="Files that were not scanned can hide any misconfiguration; an incomplete scan must not pass a gate.",
    remediation="Fix the reported cause: install checkov (or helm for charts), fix the file that does not parse.",
    resource_type="iac.path",
)
# Frameworks whose resources are named `<type>.<name>...`; the rest use the framework as type.
ADDRESSED = {"terraform", "terraform_plan", "cloudformation", "kubernetes", "helm"}
NO_COMMENT = "No comment provided"  # checkov's suppress_comment when the skip gave no reason


@dataclass
class IacScan:
    """The findings and the coverage of one target."""

    findings: list[Finding] = field(default_factory=list)
    coverage: Coverage | None = None


class IacProvider(Provider):
    name = "iac"
    title = "infrastructure as code (Terraform, CloudFormation, Kubernetes, Dockerfiles, ...) through checkov"
    settings = (
        Setting(
            "paths",
            "paths",
            help="infrastructure as code (checkov); repeatable",
            flag="--iac",
            metavar="PATH",
            repository=True,
        ),
    )
    shorthand = "paths"
    timeout_s: float = DEFAULT_TIMEOUT_S  # per checkov process
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # the scope's size limit

    @classmethod
    def accepts_file(cls, file: StagedFile) -> FileClaim | None:
        return claim_staged_file(file)

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

    def paths(self, config: AuditConfig) -> tuple[Path, ...]:
        return self.settings_of(config).paths("paths")

    def targets(self, config: AuditConfig) -> list[str]:
        return [self.target_of(p) for p in self.paths(config)]

    @staticmethod
    def target_of(path: Path) -> str:
        return f"iac:{path.resolve()}"

    def prepare(self, ctx: ScanContext) -> None:
        for path in self.paths(ctx.config):
            if not path.exists():
                raise InputError(f"--iac {path}: no such file or directory")
            if not os.access(path, os.R_OK):
                raise InputError(f"--iac {path}: not readable")

    # Scanning -----------------------------------------------------------------------------

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        if ctx.config.max_file_bytes != DEFAULT_MAX_FILE_BYTES:
            self.max_file_bytes = ctx.config.max_file_bytes  # --max-file-bytes / audit.yaml max_file_bytes
        external = self._custom_dir if self._custom else None
        for target in self.paths(ctx.config):
            ctx.progress(self.name, f"checkov {target}")
            scope = walk_target(target, self.max_file_bytes, ctx.source_root)
            report: CheckovReport | None = None
            tool_error = ""
            if scope.files:
                try:
                    report = run_checkov(
                        [str(f.path) for f in scope.files],
                        external,
                        timeout=self.timeout_s,
                        max_file_bytes=self.max_file_bytes,
                        cancel=ctx.cancelled,
                    )
                except ToolError as exc:
                    tool_error = str(exc)
            scan = self.findings_for(target, scope, report, ctx.now.date(), tool_error=tool_error)
            if scan.coverage is not None:
                ctx.record_coverage(scan.coverage)
            yield from scan.findings

    def findings_for(
        self, target: Path, scope: Scope, report: CheckovReport | None, today: date, tool_error: str = ""
    ) -> IacScan:
        """Findings and coverage for one checkov report of one target (pure apart from
        reading the IaC-shaped files of the scope)."""
        scan = IacScan()
        tname = self.target_of(target)
        path_resource = Resource(id=str(target.absolute()), type="iac.path", path=str(target.absolute()))
        skipped: list[SkippedItem] = []

        def add(f: Finding) -> None:
            scan.findings.append(replace(f, target=tname))

        def error(resource: Resource, message: str, affects: tuple[str, ...], **evidence: object) -> None:
            add(
                self.finding(
                    SCAN_CHECK,
                    Status.ERROR,
                    resource,
                    message,
                    evidence={"tool": "checkov", "target": str(target), **evidence},
                    affects=affects,
                )
            )

        for item in scope.skipped:
            skipped.append(item)
            error(
                Resource(id=f"{target}:{item.item}", type="iac.file", path=item.item),
                f"{scope.shown(item.item)} is in scope but was not scanned: {item.reason}",
                ALL_IAC_CHECKS,
                file=scope.shown(item.item),
                reason=item.reason,
            )
        if tool_error:
            skipped.append(SkippedItem(".", f"checkov did not run: {tool_error}"))
            error(
                path_resource,
                f"IaC scan of {target} could not run: {tool_error}",
                ALL_IAC_CHECKS,
                error=tool_error,
                files=len(scope.files),
            )
        lookup = _file_lookup(scope)
        reported: set[str] = set()  # rel paths checkov reported a result or a parsing error for
        per_framework: dict[str, set[str]] = {}
        dropped = 0
        shapes = iac_shapes(scope)
        if report is not None:
            for r in report.results:
                sf = _find(lookup, scope.root, r.file_abs_path)
                if sf is None:
                    dropped += 1  # outside the list it was given: never invent scope
                    continue
                reported.add(sf.rel)
                per_framework.setdefault(r.check_type, set()).add(sf.rel)
                add(self.result_finding(r, sf, scope.root, today, shown=scope.shown(sf.rel)))
            for err in report.parsing_errors:
                sf = _find(lookup, scope.root, err)
                if sf is None:
                    dropped += 1
                    continue
                reported.add(sf.rel)
                shape = shapes.get(sf.rel)
                reason = "checkov could not parse it"
                skipped.append(SkippedItem(sf.rel, reason))
                error(
                    Resource(id=f"{target}:{sf.rel}", type="iac.file", path=sf.rel),
                    f"checkov could not parse {scope.shown(sf.rel)}: its resources were not checked",
                    FRAMEWORK_CHECKS.get(shape or "", ALL_IAC_CHECKS),
                    file=scope.shown(sf.rel),
                    framework=shape,
                )
            for rel, shape in sorted(shapes.items()):
                if rel in reported:
                    continue
                reason = f"checkov skipped it: a {shape} file with no result and no parsing error"
                skipped.append(SkippedItem(rel, reason))
                error(
                    Resource(id=f"{target}:{rel}", type="iac.file", path=rel),
                    f"checkov skipped {scope.shown(rel)}: it looks like {shape} but checkov reported neither a "
                    "result nor a parsing error for it",
                    FRAMEWORK_CHECKS.get(shape, ALL_IAC_CHECKS),
                    file=scope.shown(rel),
                    framework=shape,
                )
        charts = sorted({f.rel.rpartition("/")[0] or "." for f in scope.files if f.path.name == "Chart.yaml"})
        if charts and not tool_error:
            try:
                find_tool("helm")
            except ToolError:
                for chart in charts:
                    skipped.append(SkippedItem(chart, "Helm chart not rendered: the helm binary is not installed"))
                    error(
                        Resource(id=f"{target}:{chart}", type="iac.helm_chart", path=chart),
                        f"Helm chart {chart} was not scanned: the helm binary is not installed",
                        FRAMEWORK_CHECKS[KUBERNETES],
                        chart=chart,
                        missing="helm",
                    )
        frameworks = {
            fw: {k: v for k, v in s.items() if k in ("passed", "failed", "skipped", "parsing_errors")}
            for fw, s in sorted((report.frameworks if report else {}).items())
        }
        complete = not skipped
        examined = {
            "files_in_scope": len(scope.files),
            "files": len(scope.files) if report is not None else 0,
            "files_reported": len(reported),
            "iac_files": len(shapes),
            **{fw: len(files) for fw, files in sorted(per_framework.items())},
        }
        if complete and scope.files:
            add(
                self.finding(
                    SCAN_CHECK,
                    Status.PASS,
                    path_resource,
                    f"checkov scanned all {len(scope.files)} file(s) in scope under {target} and reported on "
                    f"every IaC file ({len(shapes)}): {len(report.results) if report else 0} results in "
                    f"{len(frameworks)} framework(s), no parsing errors",
                    evidence={
                        "tool": "checkov",
                        "checkov_version": report.version if report else None,
                        "target": str(target),
                        "frameworks": frameworks,
                        **examined,
                    },
                )
            )
        elif complete:
            add(
                self.finding(
                    SCAN_CHECK,
                    Status.SKIPPED,
                    path_resource,
                    f"no files in scope under {target}",
                    evidence={"tool": "checkov", "target": str(target), "excluded": dict(scope.excluded)},
                )
            )
        scan.coverage = Coverage(
            provider=self.name,
            target=tname,
            examined=examined,
            skipped=tuple(skipped),
            complete=complete,
            details={
                "tool": "checkov",
                "version": report.version if report else None,
                "chunks": report.chunks if report else 0,
                "frameworks": frameworks,
                "excluded": dict(sorted(scope.excluded.items())),
                "results_outside_scope": dropped,
                "helm_charts": charts,
                "max_file_bytes": self.max_file_bytes,
            },
        )
        return scan

    def result_finding(
        self, r: CheckovResult, sf: ScopeFile, root: Path, today: date | None = None, shown: str | None = None
    ) -> Finding:
        """One checkov result. `shown` is the file as outputs name it (relative to the source root)."""
        check = self.check_for(r.check_id, r.check_name)
        info = self.tool_info(r.check_id)
        rel = sf.rel
        shown = shown or rel
        is_secret = r.check_type == "secrets"
        if is_secret:
            # checkov's resource for a secret is a hash of the value: identity only, never shown.
            resource = Resource(id=rel, type="secret", path=rel, line=r.line, end_line=r.end_line)
            discriminator = r.resource
            where = f"{shown} line {r.line}"
        else:
            address = resource_address(r.resource, sf, root)
            rtype = address.split(".", 1)[0] if r.check_type in ADDRESSED else r.check_type
            resource = Resource(id=address, type=rtype or r.check_type, path=rel, line=r.line, end_line=r.end_line)
            discriminator = ""
            where = f"{address} ({shown}:{r.line})"
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
            "file": shown,
            "lines": [r.line, r.end_line],
            "result": r.result,
        }
        if not is_secret:
            evidence["resource"] = resource.id
            evidence["evaluated_keys"] = list(r.evaluated_keys)
        waiver = None
        if r.result == "PASSED":
            status, message = Status.PASS, f"passed: {check.title}: {where}"
        elif r.result == "SKIPPED":
            comment = r.suppress_comment or ""
            reason = "" if comment == NO_COMMENT else comment
            verdict = judge_inline_suppression(comment, reason, today or date.today())
            waiver = verdict.waiver
            evidence["suppression"] = {"comment": comment}
            if verdict.approved:
                status = Status.WAIVED
                message = (
                    f"waived inline by {waiver['approver']} until {waiver['expires']} "
                    f"({waiver['reason'] or 'no reason given'}): {check.title}: {where}"
                )
            else:
                status = Status.FAIL
                message = f"suppressed without approval ({verdict.problem}): {check.title}: {where}"
        else:
            status, message = Status.FAIL, f"{check.title}: {where}"
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


def resource_address(resource: str, sf: ScopeFile, root: Path) -> str:
    """checkov's resource address with the file's absolute path made relative to the target.

    Given `-f /abs/repo/Dockerfile`, checkov names a Dockerfile resource
    `/abs/repo/Dockerfile.FROM`; given `-d /abs/repo` it said `/Dockerfile.FROM`. The
    latter keeps fingerprints independent of where the repository is checked out.
    """
    for prefix in {str(sf.path), _realpath(str(sf.path))}:
        if resource.startswith(prefix):
            return "/" + sf.rel + resource[len(prefix) :]
    return resource


@lru_cache(maxsize=65536)
def _realpath(path: str) -> str:
    """os.path.realpath, once per path (checkov reports thousands of results per file set)."""
    return os.path.realpath(path)


def _file_lookup(scope: Scope) -> dict[str, ScopeFile]:
    out: dict[str, ScopeFile] = {}
    for f in scope.files:
        out[str(f.path)] = f
        out.setdefault(os.path.realpath(f.path), f)
    return out


def _find(lookup: dict[str, ScopeFile], root: Path, path: str) -> ScopeFile | None:
    """The scope file checkov means by `path` (absolute, or relative to the root)."""
    if not path:
        return None
    p = path if os.path.isabs(path) else os.path.join(root, path)
    return lookup.get(os.path.normpath(p)) or lookup.get(_realpath(p))


def iac_shapes(scope: Scope) -> dict[str, str]:
    """rel path -> framework for every IaC-shaped file in scope (see `shapes`)."""
    out: dict[str, str] = {}
    for f in scope.files:
        if not is_candidate(f.path):
            continue
        try:
            text = read_bounded(f.path, max(f.size, 1) + 1024 * 1024, "IaC file").decode("utf-8", errors="replace")
        except (InputError, OSError):
            continue  # it changed under us; checkov read it or reported it
        shape = iac_shape(f.path, text)
        if shape is not None:
            out[f.rel] = shape
    return out
