"""Source code through semgrep (as a process, offline, our rules in policies/semgrep/ only).

`--code PATH` (repeatable). Check ids are `code.<rule id>` (`code.python.tls-verify-disabled`);
severity, title and controls come from each rule's metadata.

Scope is ours, not semgrep's: `auditor.scope.walk_target` decides the files (ignore files
inside the target only, no size surprises), and semgrep gets exactly the ones of the rules'
languages as explicit targets (docs/providers/code.md). Then:

- FAIL per match, with file, line range and the matched source read from the file
  (never for rules whose match is itself a credential);
- a match under a `nosemgrep` comment is WAIVED when the comment carries
  `approved-by=<who> expires=YYYY-MM-DD` (not expired, at most 365 days ahead), else a
  FAIL "suppressed without approval" (`auditor.providers.file_scans`);
- PASS per rule and target when the rule ran over files of its languages and matched
  nothing (evidence: how many files), SKIPPED when the scope has no such files;
- `code.semgrep.scan`: PASS when every file given was scanned without an error; ERROR
  (with `affects` naming the rules it stops, so their controls turn ERROR) when semgrep
  is missing, crashed, timed out or printed nothing usable (`code.*`), for each file it
  did not report as scanned or reported an error for (a timeout, a parse error: the
  rules named, or every rule of the file's language), and for each file in scope it
  could not be given (over the size limit, unreadable);
- one coverage record per target: files in scope, given, scanned, per language, what
  was skipped and why.

Fingerprints: a match's identity is its rule, file and a hash of the normalised matched
code (plus an occurrence number among identical matches in the file), so two matches in
one file differ and a match that moves to another line keeps its fingerprint.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from auditor.config import AuditConfig, Setting
from auditor.errors import InputError
from auditor.models import CheckInfo, Coverage, Finding, Resource, Severity, SkippedItem, Status
from auditor.providers.base import FileClaim, Provider, ScanContext, StagedFile
from auditor.providers.code.nosem import find_nosem
from auditor.providers.code.semgrep import (
    DEFAULT_RULE_TIMEOUT_S,
    LANGUAGE_SUFFIXES,
    SemgrepMatch,
    SemgrepReport,
    SemgrepRule,
    language_of,
    load_rules,
    normalise_rule_id,
    run_semgrep,
)
from auditor.providers.file_scans import judge_inline_suppression
from auditor.resources import resource_dir
from auditor.safeio import read_bounded
from auditor.scope import DEFAULT_MAX_FILE_BYTES, IGNORE_FILES, Scope, ScopeFile, walk_target
from auditor.tools import DEFAULT_TIMEOUT_S, ToolError

PREFIX = "code."
RULES_DIR = "semgrep"
MAX_CODE_CHARS = 300
ALL_CODE_CHECKS = ("code.*",)
SCAN_CHECK = CheckInfo(
    id="code.semgrep.scan",
    title="Source code could be scanned completely",
    severity=Severity.HIGH,
    provider="code",
    description="semgrep ran our rules over every source file in scope without an error.",
    risk="Code that was not scanned can hide any of the problems the rules look for; it must not pass a gate.",
    remediation="Fix the reported cause: install semgrep, or fix the file or rule semgrep reported.",
    resource_type="code.path",
)


@lru_cache(maxsize=1)
def shipped_rules() -> tuple[Path, dict[str, SemgrepRule]]:
    rules_dir = resource_dir("policies") / RULES_DIR
    return rules_dir, load_rules(rules_dir)


def normalised_code(text: str) -> str:
    """Whitespace-insensitive form of matched code, for fingerprints."""
    return " ".join(text.split())


def error_type(err: dict[str, Any]) -> str:
    """semgrep's error type (`Timeout`; `PartialParsing` comes as a list with its spans)."""
    t = err.get("type")
    if isinstance(t, list) and t:
        t = t[0]
    return str(t or "error")


@dataclass
class CodeScan:
    """The findings and the coverage of one target."""

    findings: list[Finding] = field(default_factory=list)
    coverage: Coverage | None = None


class CodeProvider(Provider):
    name = "code"
    title = "source code through semgrep and auditor's own rules"
    settings = (
        Setting(
            "paths", "paths", help="source code (semgrep); repeatable", flag="--code", metavar="PATH", repository=True
        ),
    )
    shorthand = "paths"
    timeout_s: float = DEFAULT_TIMEOUT_S  # per semgrep process
    rule_timeout_s: float = DEFAULT_RULE_TIMEOUT_S  # per rule and file, inside semgrep
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # the scope's size limit

    @classmethod
    def accepts_file(cls, file: StagedFile) -> FileClaim | None:
        """Source files of the languages our rules cover (by suffix)."""
        return FileClaim(file.rel) if language_of(file.name) is not None else None

    def __init__(self) -> None:
        self._rules_dir, self._rules = shipped_rules()

    def rule_check(self, rule: SemgrepRule) -> CheckInfo:
        return CheckInfo(
            id=PREFIX + rule.id,
            title=rule.title,
            severity=rule.severity,
            provider=self.name,
            description=rule.message,
            risk=rule.risk or rule.message,
            remediation=rule.remediation,
            resource_type="source_file",
        )

    def checks(self) -> list[CheckInfo]:
        return [SCAN_CHECK, *(self.rule_check(r) for _, r in sorted(self._rules.items()))]

    def paths(self, config: AuditConfig) -> tuple[Path, ...]:
        return self.settings_of(config).paths("paths")

    def targets(self, config: AuditConfig) -> list[str]:
        return [self.target_of(p) for p in self.paths(config)]

    @staticmethod
    def target_of(path: Path) -> str:
        return f"code:{path.resolve()}"

    def prepare(self, ctx: ScanContext) -> None:
        for path in self.paths(ctx.config):
            if not path.exists():
                raise InputError(f"--code {path}: no such file or directory")
            if not os.access(path, os.R_OK):
                raise InputError(f"--code {path}: not readable")

    def rules_for(self, language: str | None) -> tuple[str, ...]:
        """Check ids of the rules that read files of `language` (every rule for None)."""
        return tuple(
            PREFIX + rid for rid, r in sorted(self._rules.items()) if language is None or language in r.languages
        )

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        if ctx.config.max_file_bytes != DEFAULT_MAX_FILE_BYTES:
            self.max_file_bytes = ctx.config.max_file_bytes  # --max-file-bytes / audit.yaml max_file_bytes
        for target in self.paths(ctx.config):
            ctx.progress(self.name, f"semgrep {target}")
            scope = walk_target(target, self.max_file_bytes, ctx.source_root)
            files = code_files(scope)
            report: SemgrepReport | None = None
            tool_error = ""
            if files:
                try:
                    report = run_semgrep(
                        self._rules_dir,
                        scope.root,
                        [f.rel for f in files],
                        timeout=self.timeout_s,
                        max_target_bytes=self.max_file_bytes + 1,
                        rule_timeout_s=self.rule_timeout_s,
                        cancel=ctx.cancelled,
                    )
                except ToolError as exc:
                    tool_error = str(exc)
            scan = self.findings_for(target, scope, report, ctx.now.date(), tool_error=tool_error)
            if scan.coverage is not None:
                ctx.record_coverage(scan.coverage)
            yield from scan.findings

    def findings_for(
        self, target: Path, scope: Scope, report: SemgrepReport | None, today: date, tool_error: str = ""
    ) -> CodeScan:
        """Findings and coverage for one target (pure apart from reading matched files)."""
        scan = CodeScan()
        tname = self.target_of(target)
        files = code_files(scope)
        given = {f.rel: f for f in files}
        base = scope.root
        path_resource = Resource(id=str(target.absolute()), type="code.path", path=str(target.absolute()))
        skipped: list[SkippedItem] = []
        errored_rules: dict[str, set[str]] = {}  # rel -> check ids that could not run on it

        def add(f: Finding) -> None:
            scan.findings.append(replace(f, target=tname))

        for item in scope.skipped:
            stops = self._stops(item, base)
            if stops is None:
                continue  # a file of another kind: no rule reads it
            skipped.append(item)
            add(
                self.finding(
                    SCAN_CHECK,
                    Status.ERROR,
                    Resource(id=f"{target}:{item.item}", type="source_file", path=item.item),
                    f"{item.item} is in scope but was not scanned: {item.reason}",
                    evidence={"tool": "semgrep", "target": str(target), "file": item.item, "reason": item.reason},
                    affects=stops,
                )
            )
        if tool_error:
            skipped.append(SkippedItem(".", f"semgrep did not run: {tool_error}"))
            add(
                self.finding(
                    SCAN_CHECK,
                    Status.ERROR,
                    path_resource,
                    f"code scan of {target} could not run: {tool_error}",
                    evidence={"tool": "semgrep", "target": str(target), "error": tool_error, "files": len(files)},
                    affects=ALL_CODE_CHECKS,
                )
            )
        scanned: set[str] = set()
        warnings: list[str] = []
        if report is not None:
            scanned = {s for s in report.scanned if s in given}
            for rel in sorted(set(given) - scanned):
                lang = language_of(rel)
                reason = "semgrep did not report it as scanned"
                skipped.append(SkippedItem(rel, reason))
                errored_rules.setdefault(rel, set()).update(self.rules_for(lang))
                add(
                    self.finding(
                        SCAN_CHECK,
                        Status.ERROR,
                        Resource(id=f"{target}:{rel}", type="source_file", path=rel),
                        f"semgrep skipped {scope.shown(rel)}: it was given the file but did not scan it",
                        evidence={"tool": "semgrep", "target": str(target), "file": scope.shown(rel), "language": lang},
                        affects=self.rules_for(lang),
                    )
                )
            by_file: dict[str, list[dict[str, Any]]] = {}
            for err in report.errors:
                where = str(err.get("path") or "").removeprefix("./")
                if where:
                    if where in given:
                        by_file.setdefault(where, []).append(err)
                    continue
                if str(err.get("level", "")).lower() == "error":
                    message = str(err.get("message") or error_type(err))[:300]
                    skipped.append(SkippedItem(".", f"semgrep error: {message}"))
                    add(
                        self.finding(
                            SCAN_CHECK,
                            Status.ERROR,
                            path_resource,
                            f"semgrep reported an error on {target}: {message}",
                            evidence={"tool": "semgrep", "target": str(target), "error_type": error_type(err)},
                            affects=ALL_CODE_CHECKS,
                        )
                    )
                else:
                    warnings.append(error_type(err))
            for rel, errs in sorted(by_file.items()):
                add(self._file_error(target, rel, errs, errored_rules, skipped, scope.shown(rel)))
            sources = SourceFiles(self.max_file_bytes)
            matched: set[str] = set()
            seen: dict[tuple[str, str, str], int] = {}
            for m in sorted(report.matches, key=lambda m: (m.path, m.line, m.start_offset)):
                if m.path not in given:
                    continue  # never invent scope
                rid = normalise_rule_id(m.rule_id, self._rules)
                rule = self._rules.get(rid)
                if rule is None:
                    continue  # not one of ours (cannot happen with --config ours; never invent a check)
                matched.add(rid)
                add(self.match_finding(rule, m, base, seen, sources, today, scope))
            for rid, rule in sorted(self._rules.items()):
                if rid in matched:
                    continue
                check_id = PREFIX + rid
                of_lang = [rel for rel in given if language_of(rel) in rule.languages]
                clean = [rel for rel in of_lang if rel in scanned and check_id not in errored_rules.get(rel, ())]
                evidence: dict[str, object] = {
                    "tool": "semgrep",
                    "rule": rid,
                    "languages": list(rule.languages),
                    "files_scanned": len(clean),
                    "files_not_scanned": len(of_lang) - len(clean),
                }
                if clean:
                    add(
                        self.finding(
                            self.rule_check(rule),
                            Status.PASS,
                            path_resource,
                            f"no match of {rid} in {len(clean)} {'/'.join(rule.languages)} file(s) under {target}",
                            evidence=evidence,
                        )
                    )
        if not tool_error:
            for rid, rule in sorted(self._rules.items()):
                if any(language_of(rel) in rule.languages for rel in given):
                    continue
                add(
                    self.finding(
                        self.rule_check(rule),
                        Status.SKIPPED,
                        path_resource,
                        f"no {'/'.join(rule.languages)} files in scope under {target}",
                        evidence={"tool": "semgrep", "rule": rid, "languages": list(rule.languages), "files": 0},
                    )
                )
        per_language = {lang: 0 for lang in LANGUAGE_SUFFIXES}
        for rel in given:
            per_language[str(language_of(rel))] += 1
        complete = not skipped
        summary = {
            "tool": "semgrep",
            "semgrep_version": report.version if report else None,
            "target": str(target),
            "files_in_scope": len(scope.files),
            "files_given": len(files),
            "files_scanned": len(scanned),
            "per_language": per_language,
            "rules": len(self._rules),
            "excluded": dict(sorted(scope.excluded.items())),
            "other_files": len(scope.files) - len(files),
            "warnings": warnings[:50],
        }
        if complete and files:
            add(
                self.finding(
                    SCAN_CHECK,
                    Status.PASS,
                    path_resource,
                    f"semgrep scanned all {len(scanned)} source file(s) in scope under {target} "
                    f"with {len(self._rules)} rules",
                    evidence=summary,
                )
            )
        elif complete:
            add(
                self.finding(
                    SCAN_CHECK,
                    Status.SKIPPED,
                    path_resource,
                    f"no python/javascript/typescript files in scope under {target} ({len(scope.files)} other file(s))",
                    evidence=summary,
                )
            )
        scan.coverage = Coverage(
            provider=self.name,
            target=tname,
            examined={
                "files_in_scope": len(scope.files),
                "files": len(files),
                "files_scanned": len(scanned),
                **per_language,
            },
            skipped=tuple(skipped),
            complete=complete,
            details={
                "tool": "semgrep",
                "version": report.version if report else None,
                "rules": len(self._rules),
                "chunks": report.chunks if report else 0,
                "excluded": dict(sorted(scope.excluded.items())),
                "other_files": len(scope.files) - len(files),
                "max_file_bytes": self.max_file_bytes,
                "warnings": warnings[:50],
            },
        )
        return scan

    def _stops(self, item: SkippedItem, root: Path) -> tuple[str, ...] | None:
        """What a scope item that could not be given to semgrep stops (None: nothing of ours)."""
        lang = language_of(item.item)
        if lang is not None:
            return self.rules_for(lang)
        path = root / item.item
        if item.item in (".", "") or path.is_dir() or path.name in IGNORE_FILES or item.reason.startswith("more than"):
            return ALL_CODE_CHECKS  # a folder or an ignore file: it may hide any source file
        return None

    def _file_error(
        self,
        target: Path,
        rel: str,
        errs: list[dict[str, Any]],
        errored_rules: dict[str, set[str]],
        skipped: list[SkippedItem],
        shown: str | None = None,
    ) -> Finding:
        """One ERROR for a file semgrep reported errors for, naming the rules it stops (`shown`: the
        file as outputs name it, relative to the source root)."""
        shown = shown or rel
        lang = language_of(rel)
        rules: set[str] = set()
        whole_file = False
        for err in errs:
            rid = err.get("rule_id")
            if rid:
                rules.add(PREFIX + normalise_rule_id(str(rid), self._rules))
            else:
                whole_file = True
        affects = self.rules_for(lang) if whole_file or not rules else tuple(sorted(rules))
        errored_rules.setdefault(rel, set()).update(affects)
        types = sorted({error_type(e) for e in errs})
        first = " ".join(str(errs[0].get("message") or "").split())[:200]
        named = ", ".join(a.removeprefix(PREFIX) for a in affects)
        reason = f"semgrep {'/'.join(types)}: {named}"
        skipped.append(SkippedItem(rel, reason))
        return self.finding(
            SCAN_CHECK,
            Status.ERROR,
            Resource(id=f"{target}:{rel}", type="source_file", path=rel),
            f"semgrep could not scan {shown} completely ({'/'.join(types)}); not evaluated there: {named}",
            evidence={
                "tool": "semgrep",
                "target": str(target),
                "file": shown,
                "error_types": types,
                "rules": [a.removeprefix(PREFIX) for a in affects],
                "message": first,
            },
            affects=affects,
        )

    def match_finding(
        self,
        rule: SemgrepRule,
        m: SemgrepMatch,
        base: Path,
        seen: dict[tuple[str, str, str], int],
        files: SourceFiles | None = None,
        today: date | None = None,
        scope: Scope | None = None,
    ) -> Finding:
        """FAIL for one match; WAIVED under an approved `nosemgrep` (FAIL, marked, under an unapproved one)."""
        files = files or SourceFiles(self.max_file_bytes)
        rel = Path(m.path).as_posix().removeprefix("./")
        shown = scope.shown(rel) if scope is not None else rel
        data = files.read(base / rel)
        code = data[m.start_offset : m.end_offset].decode("utf-8", errors="replace")
        digest = hashlib.sha256(normalised_code(code).encode("utf-8")).hexdigest()[:16]
        key = (rule.id, rel, digest)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        evidence: dict[str, object] = {"tool": "semgrep", "rule": rule.id, "file": shown, "lines": [m.line, m.end_line]}
        lines = files.lines(base / rel)
        if not rule.shows_secret:
            evidence["code"] = "\n".join(lines[max(m.line - 1, 0) : max(m.end_line, m.line)])[:MAX_CODE_CHARS]
        check = self.rule_check(rule)
        where = f"{shown}:{m.line}"
        status, message, waiver = Status.FAIL, f"{rule.title}: {where}", None
        nosem = find_nosem(m.rule_id, lines, m.line)
        if nosem is not None:
            verdict = judge_inline_suppression(nosem.comment, nosem.reason, today or date.today())
            waiver = verdict.waiver
            evidence["suppression"] = {"comment": nosem.comment, "line": nosem.line}
            if verdict.approved:
                status = Status.WAIVED
                message = (
                    f"waived inline by {waiver['approver']} until {waiver['expires']} "
                    f"({waiver['reason'] or 'no reason given'}): {rule.title}: {where}"
                )
            else:
                message = f"suppressed without approval ({verdict.problem}): {rule.title}: {where}"
        return self.finding(
            check,
            status,
            Resource(id=rel, type="source_file", path=rel, line=m.line, end_line=m.end_line),
            message,
            evidence=evidence,
            waiver=waiver,
            discriminator=f"{digest}#{occurrence}",
        )


def code_files(scope: Scope) -> list[ScopeFile]:
    """The files in scope that our rules read (by name, as semgrep assigns languages)."""
    return [f for f in scope.files if language_of(f.rel) is not None]


class SourceFiles:
    """Matched files read once per report (semgrep does not give us the matched text)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._data: dict[Path, bytes] = {}
        self._lines: dict[Path, list[str]] = {}

    def read(self, path: Path) -> bytes:
        data = self._data.get(path)
        if data is None:
            try:
                data = read_bounded(path, self.max_bytes, "source file")
            except (InputError, OSError):
                data = b""
            self._data[path] = data
        return data

    def lines(self, path: Path) -> list[str]:
        lines = self._lines.get(path)
        if lines is None:
            # Split on "\n" only, as semgrep counts lines (str.splitlines also splits on form feeds).
            text = self.read(path).decode("utf-8", errors="replace")
            lines = self._lines[path] = [line.removesuffix("\r") for line in text.split("\n")]
        return lines
