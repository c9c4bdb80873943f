"""semgrep as a process, and our rule files (policies/semgrep/*.yaml) read as check metadata.

semgrep 1.185.0 facts this module works around (design.md):
- without `--disable-version-check` every run waits about 100 s on a version check;
- `extra.lines` reads "requires login": the matched source is read from the file here;
- the `check_id` carries a prefix made from the rules path relative to the working
  directory (`policies.semgrep.python.tls-verify-disabled`): `normalise_rule_id` maps
  it back to the rule id we wrote;
- given a folder, semgrep decides its own scope (the `.gitignore` of an enclosing git
  repository, tests/ and node_modules, files over 1 MB): it is given explicit files
  instead, the ones `auditor.scope` decided on (see `semgrep_args`);
- a target that does not exist makes semgrep scan nothing at all (one error, no path);
- `--disable-nosem` reports matches under `nosemgrep` comments without marking them
  (`extra.is_ignored` stays unset): `auditor.providers.code.nosem` recognises them.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import ConfigError
from auditor.models import Severity
from auditor.providers.file_scans import chunk_by_directory
from auditor.tools import ToolError, run_tool

# The file names semgrep 1.185.0 takes as each language when given as explicit targets
# (measured: it leaves `.mts` and `.cts` out of `paths.scanned`, so they are not given).
LANGUAGE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "python": (".py", ".pyi"),
    "javascript": (".js", ".jsx", ".mjs", ".cjs"),
    "typescript": (".ts", ".tsx"),
}
# Seconds one rule may spend on one file (semgrep's default of 5 s is too tight on a
# shared machine); a rule that times out is an ERROR for that file, never a silent gap.
DEFAULT_RULE_TIMEOUT_S = 30.0


def language_of(path: str) -> str | None:
    """The rule language a file name belongs to, or None."""
    for lang, suffixes in LANGUAGE_SUFFIXES.items():
        if path.endswith(suffixes):
            return lang
    return None


def load_yaml(path: Path) -> Any:
    """Parse a YAML file with libyaml's safe loader when available (several times faster than pure Python)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


@dataclass(frozen=True, slots=True)
class SemgrepRule:
    id: str
    title: str
    message: str
    severity: Severity
    languages: tuple[str, ...]
    controls: tuple[str, ...]
    remediation: str
    risk: str
    shows_secret: bool  # the match itself holds a credential: never copy its code
    file: str


@dataclass(frozen=True, slots=True)
class SemgrepMatch:
    rule_id: str
    path: str  # as semgrep printed it (relative to the working directory)
    line: int
    end_line: int
    start_offset: int
    end_offset: int
    message: str


@dataclass
class SemgrepReport:
    matches: list[SemgrepMatch] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    version: str | None = None
    chunks: int = 0  # semgrep processes the target took


def load_rules(directory: Path) -> dict[str, SemgrepRule]:
    """Our rules with their metadata; a rule without severity, title or controls is a packaging bug."""
    rules: dict[str, SemgrepRule] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = load_yaml(path)
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read semgrep rules: {exc}".replace("\n", " ")) from None
        for raw in (data or {}).get("rules") or ():
            rid = str(raw.get("id") or "")
            meta = raw.get("metadata") or {}
            if not rid or rid in rules:
                raise ConfigError(f"{path}: semgrep rule id {rid!r} is missing or defined twice")
            try:
                severity = Severity(str(meta.get("severity", "")).lower())
            except ValueError:
                raise ConfigError(f"{path}: rule {rid} needs metadata.severity (critical..info)") from None
            controls = tuple(str(c) for c in meta.get("controls") or ())
            if not meta.get("title") or not controls:
                raise ConfigError(f"{path}: rule {rid} needs metadata.title and metadata.controls")
            rules[rid] = SemgrepRule(
                id=rid,
                title=str(meta["title"]),
                message=" ".join(str(raw.get("message") or "").split()),
                severity=severity,
                languages=tuple(str(lang) for lang in raw.get("languages") or ()),
                controls=controls,
                remediation=" ".join(str(meta.get("remediation") or "").split()),
                risk=" ".join(str(meta.get("risk") or "").split()),
                shows_secret=bool(meta.get("shows_secret", False)),
                file=path.name,
            )
    return rules


def normalise_rule_id(check_id: str, known: dict[str, SemgrepRule] | set[str]) -> str:
    """`policies.semgrep.python.x` -> `python.x`: the longest known rule id that ends the check id."""
    best = ""
    for rid in known:
        if (check_id == rid or check_id.endswith("." + rid)) and len(rid) > len(best):
            best = rid
    return best or check_id


def semgrep_args(rules_dir: Path, targets: Sequence[str], max_target_bytes: int, rule_timeout_s: float) -> list[str]:
    """The command line for explicit file targets: our rules only, offline, nothing left out.

    Explicit targets bypass semgrep's default ignores (tests/, node_modules, ...) and
    `.semgrepignore`; `--no-git-ignore` stops it from reading the `.gitignore` of a git
    repository that encloses the target; `--max-target-bytes` is set above our scope's
    limit; `--disable-nosem` reports matches under `nosemgrep` comments (we judge them);
    `--timeout-threshold 0` makes semgrep try every rule on a slow file and report each
    timeout instead of dropping the rest of the rules for that file.
    """
    args = [
        "scan",
        "--disable-version-check",
        "--metrics=off",
        "--config",
        str(rules_dir),
        "--json",
        "--quiet",
        "--no-rewrite-rule-ids",
        "--no-git-ignore",
        "--disable-nosem",
        "--max-target-bytes",
        str(max_target_bytes),
        "--timeout",
        f"{rule_timeout_s:g}",
        "--timeout-threshold",
        "0",
        "--",
    ]
    # A relative path that starts with '-' would read as an option.
    return args + [t if not t.startswith("-") else "./" + t for t in targets]


def run_semgrep(
    rules_dir: Path,
    root: Path,
    targets: Sequence[str],
    *,
    timeout: float,
    max_target_bytes: int,
    rule_timeout_s: float = DEFAULT_RULE_TIMEOUT_S,
    cancel: threading.Event | None = None,
) -> SemgrepReport:
    """Scan exactly `targets` (paths relative to `root`) with our rules; one process per
    chunk of the list (see `chunk_by_directory`), merged into one report whose paths are
    relative to `root`. Raises ToolError when semgrep is missing, fails or says nothing readable."""
    merged = SemgrepReport()
    with tempfile.TemporaryDirectory(prefix="auditor-semgrep-") as tmp:
        env = {
            "SEMGREP_SETTINGS_FILE": str(Path(tmp) / "settings.yml"),
            "SEMGREP_LOG_FILE": str(Path(tmp) / "semgrep.log"),
            "SEMGREP_VERSION_CACHE_PATH": str(Path(tmp) / "version"),
        }
        for chunk in chunk_by_directory(list(targets)):
            res = run_tool(
                "semgrep",
                semgrep_args(rules_dir, chunk, max_target_bytes, rule_timeout_s),
                timeout=timeout,
                env=env,
                cwd=root,
                ok_codes=(0, 1),
                cancel=cancel,
            )
            try:
                report = parse_semgrep_output(res.stdout)
            except ValueError as exc:
                tail = " | ".join(res.stderr.strip().splitlines()[-3:]) or "no error output"
                raise ToolError(f"semgrep gave no readable JSON ({exc}); stderr: {tail}") from None
            merged.matches.extend(report.matches)
            merged.scanned.extend(report.scanned)
            merged.errors.extend(report.errors)
            merged.version = merged.version or report.version
            merged.chunks += 1
    return merged


def parse_semgrep_output(text: str) -> SemgrepReport:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict) or "results" not in data:
        raise ValueError("no 'results' in the output")
    out = SemgrepReport(version=data.get("version"))
    out.scanned = [str(p).removeprefix("./") for p in (data.get("paths") or {}).get("scanned") or ()]
    out.errors = [e for e in data.get("errors") or () if isinstance(e, dict)]
    for r in data["results"]:
        start, end = r.get("start") or {}, r.get("end") or {}
        out.matches.append(
            SemgrepMatch(
                rule_id=str(r.get("check_id") or ""),
                path=str(r.get("path") or "").removeprefix("./"),
                line=int(start.get("line") or 0),
                end_line=int(end.get("line") or start.get("line") or 0),
                start_offset=int(start.get("offset") or 0),
                end_offset=int(end.get("offset") or 0),
                message=" ".join(str((r.get("extra") or {}).get("message") or "").split()),
            )
        )
    return out
