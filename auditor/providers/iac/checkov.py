"""checkov as a process: arguments, and its JSON turned into one flat list of results.

checkov's `-o json` comes in several shapes, all handled by `parse_checkov_output`:

- a list of reports (one per framework) when several frameworks found something;
- a single report dict when one framework did;
- a bare summary dict with no `check_type` and no `results` when nothing was found;
- several of the above concatenated (seen with repeated `-d`/`-f`): decoded one by one
  and de-duplicated.

Output without a real report (no `checkov_version` in any summary: `{}`, garbage, a log
line) is an error, never an empty scan.

checkov is given exactly the files `auditor.scope` decided on, with `-f file1 file2 ...`
(measured on 3.3.30: `-f` keeps Terraform module semantics across the files of one
folder, gives the same results as `-d` on our fixtures, and does not skip hidden folders
such as `.github/`), cut into chunks by folder when the command line would grow past
about 1 MB. checkov 3.3.30 mixes up results between directories when given several `-d`,
so `-d` is not used at all. Its own size limits (5 MB for secrets, 50 MB for IaC files)
are raised above the scope's limit so that it never drops a file the scope kept.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.providers.file_scans import chunk_by_directory
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
# checkov's own size limits (secrets scan, IaC parsers): raised, never lowered, above ours.
CHECKOV_SECRETS_MAX_BYTES = 5_000_000
CHECKOV_IAC_MAX_BYTES = 50_000_000


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
    chunks: int = 0  # checkov processes it took


def checkov_env(max_file_bytes: int) -> dict[str, str]:
    """checkov's environment: offline and quiet, its size limits above the scope's `max_file_bytes`."""
    return {
        **CHECKOV_ENV,
        "CHECKOV_MAX_FILE_SIZE": str(max(CHECKOV_SECRETS_MAX_BYTES, max_file_bytes + 1)),
        "CHECKOV_MAX_IAC_FILE_SIZE": str(max(CHECKOV_IAC_MAX_BYTES, max_file_bytes + 1)),
    }


def checkov_args(
    files: Sequence[str], external_checks_dir: Path | None, frameworks: Sequence[str] = CHECKOV_FRAMEWORKS
) -> list[str]:
    """The command line for a list of files: offline, explicit frameworks, JSON, every file for secrets."""
    args = ["-f", *files]
    args += ["--framework", *frameworks]
    args += ["--skip-download", "--enable-secret-scan-all-files", "--output", "json", "--compact"]
    if external_checks_dir is not None:
        args += ["--external-checks-dir", str(external_checks_dir)]
    return args


def run_checkov(
    files: Sequence[str],
    external_checks_dir: Path | None,
    *,
    timeout: float,
    max_file_bytes: int,
    cancel: threading.Event | None = None,
    frameworks: Sequence[str] = CHECKOV_FRAMEWORKS,
) -> CheckovReport:
    """Run checkov on exactly `files` (absolute paths), one process per chunk, merged.

    Raises ToolError when checkov is missing, crashes, times out or prints no report.
    """
    merged = CheckovReport()
    seen: set[tuple[str, str, str, str, int | None]] = set()
    for chunk in chunk_by_directory(list(files)):
        res = run_tool(
            "checkov",
            checkov_args(chunk, external_checks_dir, frameworks),
            timeout=timeout,
            env=checkov_env(max_file_bytes),
            ok_codes=(0, 1),  # 1: some check failed
            cancel=cancel,
        )
        try:
            report = parse_checkov_output(res.stdout)
        except ValueError as exc:
            tail = " | ".join(res.stderr.strip().splitlines()[-3:]) or "no error output"
            raise ToolError(f"checkov gave no usable report ({exc}); stderr: {tail}") from None
        for r in report.results:
            if r.key() not in seen:
                seen.add(r.key())
                merged.results.append(r)
        for err in report.parsing_errors:
            if err not in merged.parsing_errors:
                merged.parsing_errors.append(err)
        for fw, summary in report.frameworks.items():
            into = merged.frameworks.setdefault(fw, {})
            for k, v in summary.items():
                if isinstance(v, int) and not isinstance(v, bool):
                    into[k] = int(into.get(k, 0)) + v
                else:
                    into.setdefault(k, v)
        merged.version = merged.version or report.version
        merged.chunks += 1
    return merged


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
    """All of checkov's JSON shapes -> one report. Raises ValueError when there is no report at
    all: no JSON, or JSON without a `checkov_version` in any summary (`{}`, `[]`, a stray value)."""
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
    if out.version is None:
        raise ValueError("no checkov_version in any summary: not a checkov report")
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
