"""Source code through semgrep (as a process, offline, our rules in policies/semgrep/ only).

`--code PATH` (repeatable). Check ids are `code.<rule id>` (`code.python.tls-verify-disabled`);
severity, title and controls come from each rule's metadata.

- FAIL per match, with file, line range and the matched source read from the file
  (never for rules whose match is itself a credential);
- PASS per rule and path when the rule ran over files of its languages and matched
  nothing (evidence: how many files), SKIPPED when the path has no such files;
- `code.semgrep.scan` PASS with what was scanned, ERROR when semgrep is missing,
  crashed or timed out, or reported a blocking error.

Fingerprints: a match's identity is its rule, file and a hash of the normalised matched
code (plus an occurrence number among identical matches in the file), so two matches in
one file differ and a match that moves to another line keeps its fingerprint.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import CheckInfo, Finding, Resource, Severity, Status
from auditor.providers.base import Provider, ScanContext
from auditor.providers.code.semgrep import (
    LANGUAGE_SUFFIXES,
    SemgrepMatch,
    SemgrepReport,
    SemgrepRule,
    load_rules,
    normalise_rule_id,
    run_semgrep,
)
from auditor.resources import resource_dir
from auditor.tools import DEFAULT_TIMEOUT_S, ToolError

PREFIX = "code."
RULES_DIR = "semgrep"
MAX_CODE_CHARS = 300
SCAN_CHECK = CheckInfo(
    id="code.semgrep.scan",
    title="Source code could be scanned completely",
    severity=Severity.HIGH,
    provider="code",
    description="semgrep ran our rules over the path without a blocking error.",
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


class CodeProvider(Provider):
    name = "code"
    timeout_s: float = DEFAULT_TIMEOUT_S

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

    def selected(self, config: AuditConfig) -> bool:
        return bool(config.code_paths)

    def targets(self, config: AuditConfig) -> list[str]:
        return [f"code:{p}" for p in config.code_paths]

    def prepare(self, ctx: ScanContext) -> None:
        for path in ctx.config.code_paths:
            if not path.exists():
                raise InputError(f"--code {path}: no such file or directory")
            if not os.access(path, os.R_OK):
                raise InputError(f"--code {path}: not readable")

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        for target in ctx.config.code_paths:
            ctx.progress(self.name, f"semgrep {target}")
            try:
                report = run_semgrep(self._rules_dir, target.resolve(), timeout=self.timeout_s, cancel=ctx.cancelled)
            except ToolError as exc:
                yield self.finding(
                    SCAN_CHECK,
                    Status.ERROR,
                    Resource(id=str(target), type="code.path", path=str(target)),
                    f"code scan of {target} could not run: {exc}",
                    evidence={"tool": "semgrep", "target": str(target), "error": str(exc)},
                )
                continue
            yield from self.findings_for(target, report)

    def findings_for(self, target: Path, report: SemgrepReport) -> Iterator[Finding]:
        """Findings for one semgrep report of one target (pure apart from reading matched files)."""
        root = target.resolve()
        base = root if root.is_dir() else root.parent
        matched: set[str] = set()
        seen: dict[tuple[str, str, str], int] = {}
        sources = SourceFiles()
        for m in sorted(report.matches, key=lambda m: (m.path, m.line, m.start_offset)):
            rid = normalise_rule_id(m.rule_id, self._rules)
            rule = self._rules.get(rid)
            if rule is None:
                continue  # not one of ours (cannot happen with --config ours; never invent a check)
            matched.add(rid)
            yield self.match_finding(rule, m, base, seen, sources)
        blocking = [e for e in report.errors if str(e.get("level", "")).lower() == "error"]
        for err in blocking:
            where = str(err.get("path") or target)
            yield self.finding(
                SCAN_CHECK,
                Status.ERROR,
                Resource(id=f"{target}:{where}", type="code.path", path=where),
                f"semgrep reported an error on {where}: {str(err.get('message') or err.get('type'))[:300]}",
                evidence={"tool": "semgrep", "target": str(target), "error_type": str(err.get("type"))},
            )
        scanned = [s.removeprefix("./") for s in report.scanned]
        for rid, rule in sorted(self._rules.items()):
            if rid in matched:
                continue
            suffixes = tuple(s for lang in rule.languages for s in LANGUAGE_SUFFIXES.get(lang, ()))
            files = [s for s in scanned if s.endswith(suffixes)]
            resource = Resource(id=str(target), type="code.path", path=str(target))
            evidence: dict[str, object] = {
                "tool": "semgrep",
                "rule": rid,
                "languages": list(rule.languages),
                "files_scanned": len(files),
            }
            if files:
                yield self.finding(
                    self.rule_check(rule),
                    Status.PASS,
                    resource,
                    f"no match of {rid} in {len(files)} {'/'.join(rule.languages)} file(s) under {target}",
                    evidence=evidence,
                )
            else:
                yield self.finding(
                    self.rule_check(rule),
                    Status.SKIPPED,
                    resource,
                    f"no {'/'.join(rule.languages)} files under {target}",
                    evidence=evidence,
                )
        if not blocking:
            warnings = [str(e.get("type")) for e in report.errors]
            yield self.finding(
                SCAN_CHECK,
                Status.PASS,
                Resource(id=str(target), type="code.path", path=str(target)),
                f"semgrep scanned {len(scanned)} file(s) under {target} with {len(self._rules)} rules",
                evidence={
                    "tool": "semgrep",
                    "semgrep_version": report.version,
                    "target": str(target),
                    "files_scanned": len(scanned),
                    "rules": len(self._rules),
                    "warnings": warnings[:50],
                },
            )

    def match_finding(
        self,
        rule: SemgrepRule,
        m: SemgrepMatch,
        base: Path,
        seen: dict[tuple[str, str, str], int],
        files: SourceFiles | None = None,
    ) -> Finding:
        files = files or SourceFiles()
        rel = Path(m.path).as_posix().removeprefix("./")
        data = files.read(base / rel)
        code = data[m.start_offset : m.end_offset].decode("utf-8", errors="replace")
        digest = hashlib.sha256(normalised_code(code).encode("utf-8")).hexdigest()[:16]
        key = (rule.id, rel, digest)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        evidence: dict[str, object] = {"tool": "semgrep", "rule": rule.id, "file": rel, "lines": [m.line, m.end_line]}
        if not rule.shows_secret:
            lines = data.decode("utf-8", errors="replace").splitlines()
            evidence["code"] = "\n".join(lines[max(m.line - 1, 0) : max(m.end_line, m.line)])[:MAX_CODE_CHARS]
        return self.finding(
            self.rule_check(rule),
            Status.FAIL,
            Resource(id=rel, type="source_file", path=rel, line=m.line, end_line=m.end_line),
            f"{rule.title}: {rel}:{m.line}",
            evidence=evidence,
            discriminator=f"{digest}#{occurrence}",
        )


class SourceFiles:
    """Matched files read once per report (semgrep does not give us the matched text)."""

    def __init__(self) -> None:
        self._data: dict[Path, bytes] = {}

    def read(self, path: Path) -> bytes:
        data = self._data.get(path)
        if data is None:
            try:
                data = path.read_bytes()
            except OSError:
                data = b""
            self._data[path] = data
        return data
