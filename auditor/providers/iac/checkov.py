"""checkov as a process: arguments, and its JSON turned into one flat list of results.

checkov's `-o json` comes in several shapes, all handled by `parse_checkov_output`:

- a list of reports (one per framework) when several frameworks found something;
- a single report dict when one framework did;
- a bare summary dict with no `check_type` and no `results` when nothing was found;
- several of the above concatenated (seen with repeated `-d`/`-f`): decoded one by one
  and de-duplicated.

One checkov process scans one target (a directory with `-d` or a file with `-f`):
checkov 3.3.30 mixes up results between directories when given several `-d`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.tools import ToolError, run_tool

CHECKOV_FRAMEWORKS = (
    "terraform",
    "terraform_plan",
    "cloudformation",
    "kubernetes",
    "helm",
    "dockerfile",
    "github_actions",
    "secrets",
)
RESULT_KINDS = {"passed_checks": "PASSED", "failed_checks": "FAILED", "skipped_checks": "SKIPPED"}
# Helm charts that pull remote dependencies would need the network: block every remote repo.
CHECKOV_ENV = {"CHECKOV_HELM_ALLOWED_REMOTE_REPOS": "none", "LOG_LEVEL": "WARNING"}


@dataclass(frozen=True, slots=True)
class CheckovResult:
    """One check on one resource, as checkov reported it (secrets already stripped)."""

    check_id: str
    check_name: str
    check_type: str
    result: str  # PASSED | FAILED | SKIPPED
    file_abs_path: str
    resource: str
    line: int | None
    end_line: int | None
    evaluated_keys: tuple[str, ...] = ()
    suppress_comment: str | None = None
    severity: str | None = None

    def key(self) -> tuple[str, str, str, str, int | None]:
        return (self.check_id, self.check_type, self.file_abs_path, self.resource, self.line)


@dataclass
class CheckovReport:
    results: list[CheckovResult] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    frameworks: dict[str, dict[str, Any]] = field(default_factory=dict)  # check_type -> summary
    version: str | None = None


# Folders that hold no infrastructure of the project: never descend (a virtualenv alone
# makes checkov take minutes).
SKIP_DIRS = frozenset({".git", "node_modules", ".terraform", ".venv", "__pycache__", ".tox", ".mypy_cache"})


def checkov_args(
    target: Path, external_checks_dir: Path | None, frameworks: Sequence[str] = CHECKOV_FRAMEWORKS
) -> list[str]:
    """The command line for one target: offline, explicit frameworks, JSON, every file for secrets."""
    args = ["-f" if target.is_file() else "-d", str(target)]
    args += ["--framework", *frameworks]
    args += ["--skip-download", "--enable-secret-scan-all-files", "--output", "json", "--compact"]
    for name in sorted(SKIP_DIRS):
        args += ["--skip-path", re.escape(name) + "/"]
    if external_checks_dir is not None:
        args += ["--external-checks-dir", str(external_checks_dir)]
    return args


def run_checkov(
    target: Path,
    external_checks_dir: Path | None,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
    frameworks: Sequence[str] = CHECKOV_FRAMEWORKS,
) -> CheckovReport:
    """Run checkov on one target. Raises ToolError when it is missing, crashes or says nothing readable."""
    res = run_tool(
        "checkov",
        checkov_args(target, external_checks_dir, frameworks),
        timeout=timeout,
        env=CHECKOV_ENV,
        ok_codes=(0, 1),  # 1: some check failed
        cancel=cancel,
    )
    try:
        return parse_checkov_output(res.stdout)
    except ValueError as exc:
        tail = " | ".join(res.stderr.strip().splitlines()[-3:]) or "no error output"
        raise ToolError(f"checkov gave no readable JSON ({exc}); stderr: {tail}") from None


def iter_json_documents(text: str) -> Iterator[Any]:
    """Every JSON value in `text`, which may hold several one after another."""
    decoder = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return
        if text[i] not in "[{":
            # A stray log line before the JSON: skip to the next line.
            nl = text.find("\n", i)
            if nl < 0:
                return
            i = nl + 1
            continue
        value, i = decoder.raw_decode(text, i)
        yield value


def parse_checkov_output(text: str) -> CheckovReport:
    """All of checkov's JSON shapes -> one report. Raises ValueError when there is no report at all."""
    reports: list[dict[str, Any]] = []
    found_any = False
    try:
        for doc in iter_json_documents(text):
            found_any = True
            for item in doc if isinstance(doc, list) else [doc]:
                if isinstance(item, dict):
                    reports.append(item)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if not found_any:
        raise ValueError("empty output")
    out = CheckovReport()
    seen: set[tuple[str, str, str, str, int | None]] = set()
    for rep in reports:
        summary = rep.get("summary") if isinstance(rep.get("summary"), dict) else rep
        if isinstance(summary, dict) and summary.get("checkov_version"):
            out.version = str(summary["checkov_version"])
        check_type = rep.get("check_type")
        if not check_type:
            continue  # the bare summary: nothing found by any framework
        out.frameworks[str(check_type)] = dict(summary or {})
        results = rep.get("results") or {}
        for err in results.get("parsing_errors") or ():
            if str(err) not in out.parsing_errors:
                out.parsing_errors.append(str(err))
        for kind, result in RESULT_KINDS.items():
            for raw in results.get(kind) or ():
                r = to_result(raw, str(check_type), result)
                if r.key() not in seen:
                    seen.add(r.key())
                    out.results.append(r)
    return out


def to_result(raw: dict[str, Any], check_type: str, result: str) -> CheckovResult:
    """One raw checkov check record -> CheckovResult. Code blocks are never kept (they may hold secrets)."""
    line_range = raw.get("file_line_range") or []
    line = int(line_range[0]) if len(line_range) >= 1 and line_range[0] is not None else None
    end = int(line_range[1]) if len(line_range) >= 2 and line_range[1] is not None else line
    check_result = raw.get("check_result") or {}
    keys = check_result.get("evaluated_keys") or ()
    abs_path = raw.get("file_abs_path") or raw.get("file_path") or ""
    return CheckovResult(
        check_id=str(raw.get("check_id") or ""),
        check_name=str(raw.get("check_name") or ""),
        check_type=check_type,
        result=result,
        file_abs_path=str(abs_path),
        resource=str(raw.get("resource") or ""),
        line=line,
        end_line=end,
        evaluated_keys=tuple(str(k) for k in _flat(keys)),
        suppress_comment=check_result.get("suppress_comment"),
        severity=str(raw["severity"]).lower() if raw.get("severity") else None,
    )


def _flat(values: Iterable[Any]) -> Iterator[Any]:
    for v in values:
        if isinstance(v, list | tuple):
            yield from _flat(v)
        else:
            yield v
