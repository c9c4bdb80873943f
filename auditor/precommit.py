"""The pre-commit hook: `python -m auditor.precommit [SCAN OPTIONS] [HOOK OPTIONS] FILE...`.

pre-commit runs the hook's `entry`, then the hook's `args`, then the file names, from the
repository root, with no `--` in between. So the command line is read left to right with
the arity of every `auditor scan` option (taken from the scan command's own parser): an
option's value is never a file to scan (`--waivers w.yaml` stays a waiver file), and the
first word that is not an option or an option's value starts the file names. An unknown
option is one line on stderr and exit 2.

Each file is classified by the providers that scan folders and files of the repository
(those declaring a `repository=True` path setting), through the registry: each is asked
`accepts_file` (`auditor.providers.base`), and the file (or the folder the provider names,
such as a Helm chart's) is passed to the scan with that setting's flag. The built-ins:

- IaC (`--iac FILE`, checkov): Terraform/HCL (`.tf`, `.tfvars`, `.hcl`), Dockerfiles,
  and YAML/JSON/`.template` files that are IaC-shaped (`auditor.providers.iac.shapes`:
  Kubernetes manifests, CloudFormation templates, GitHub Actions workflows); a file inside
  a Helm chart sends the chart's folder. `package.json`, `tsconfig.json`,
  `.pre-commit-config.yaml`, waiver files and other data files are not IaC;
- secrets in `.env` / `.env.*` / `*.env` files: `--iac FILE` too, where checkov's secrets
  scan reads every file given to it (an AWS key in a committed `.env` is CKV_SECRET_2);
- code (`--code FILE`, semgrep): the suffixes our rules have languages for;
- dependency files (`requirements*.txt`, `pyproject.toml`): only with `--with-deps`
  (`--deps FILE`, pip-audit), since a vulnerability look-up needs the network or a local
  database (`auditor vulndb import`, then pass `--offline` too). A provider may mark any
  file kind opt-in this way: `--with-<provider>` turns it on;
- anything else is not scanned.

The scan runs in this process with `--source-root` = the repository root (paths keep
their folders), `--fail-on high` unless the args say otherwise, and a throwaway database
unless `--db` is given. Output: one line per FAIL and per ERROR,
`path:line: severity check_id message`; the exit code is the scan's (0 clean, 1 gate
breached, 2 usage or input, 3 incomplete scan). With `--format` in the args the scan's own
output is printed instead.

A `.auditor-waivers.yaml` at the repository root applies as it would to a scan of the
repository: only with `--allow-repo-waivers`, never with a wildcard (exit 2 with
FILE:LINE). `--waivers FILE` is explicit and always applies.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError, UsageError
from auditor.providers import Registry, registry
from auditor.providers.base import FileClaim, Provider, StagedFile
from auditor.redact import one_line

log = logging.getLogger(__name__)

WAIVER_FILENAME = ".auditor-waivers.yaml"
# Options of the hook itself (not of `auditor scan`); `--with-<provider>` too (see OPT_IN).
HOOK_FLAGS = {"--list-files", "-v", "--verbose"}
OPT_IN = "--with-"


@dataclass(frozen=True)
class Scanner:
    """A provider that scans repository files, and the flag its path setting has."""

    name: str
    cls: type[Provider]
    flag: str


def repository_scanners(reg: Registry | None = None) -> list[Scanner]:
    """The installed providers with a `repository=True` path setting (by name). One that
    cannot be loaded is left out (a scan that names it reports that)."""
    loaded, unavailable = (reg or registry()).load_all()
    for name, reason in unavailable.items():
        log.debug("provider %s cannot classify staged files: %s", name, reason)
    out = []
    for name, cls in loaded.items():
        setting = next(
            (s for s in cls.declared_settings() if s.repository and s.kind in ("path", "paths") and s.flag), None
        )
        if setting is not None and setting.flag is not None:
            out.append(Scanner(name, cls, setting.flag))
    return out


@dataclass
class Plan:
    """What the hook scans: repository-relative paths (forward slashes) by provider name."""

    files: dict[str, list[str]] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)  # provider name -> its path setting's flag
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    def targets(self) -> list[str]:
        args: list[str] = []
        for name, paths in self.files.items():
            for p in paths:
                args += [self.flags[name], p]
        return args


def scan_parser() -> argparse.ArgumentParser:
    """The `auditor scan` parser itself, so the hook knows every option and its arity."""
    from auditor.cli import build_parser, scan_cmd

    top = build_parser()
    scan_cmd.add_provider_options([], everything=True)  # every provider's flags, as `scan --help` shows
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            parser: argparse.ArgumentParser = action.choices["scan"]
            return parser
    raise AssertionError("auditor has no scan command")


@dataclass
class HookArgs:
    options: list[str] = field(default_factory=list)  # `auditor scan` options, as given
    given: set[str] = field(default_factory=set)  # their argparse dests ("waivers", "fail_on", ...)
    hook: set[str] = field(default_factory=set)  # the hook's own flags
    files: list[str] = field(default_factory=list)


def split_argv(argv: Sequence[str], parser: argparse.ArgumentParser) -> HookArgs:
    """Options, hook flags and files of the hook's command line (see the module doc)."""
    out = HookArgs()
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if not word.startswith("-") or word == "-":
            break
        name, has_value, _ = word.partition("=")
        if not has_value and (name in HOOK_FLAGS or _is_opt_in(name)):
            out.hook.add(name)
            i += 1
            continue
        action = _action(word, parser)
        if action is None:
            if os.path.lexists(word):
                break  # a file whose name starts with "-"
            raise UsageError(
                f"unknown option {word!r} (the hook takes the options of `auditor scan`, --with-<provider> "
                "such as --with-deps, and --list-files)"
            )
        out.given.add(action.dest)
        if action.nargs != 0 and not has_value:
            if i + 1 >= len(argv):
                raise UsageError(f"option {name} needs a value")
            out.options += [word, argv[i + 1]]
            i += 2
        else:
            out.options.append(word)
            i += 1
    out.files = list(argv[i:])
    return out


def _is_opt_in(name: str) -> bool:
    return name.startswith(OPT_IN) and name[len(OPT_IN) :] in registry().names()


def _action(word: str, parser: argparse.ArgumentParser) -> argparse.Action | None:
    name = word.partition("=")[0]
    known = parser._option_string_actions
    return known.get(name) or _by_prefix(name, known)


def _by_prefix(name: str, known: dict[str, argparse.Action]) -> argparse.Action | None:
    if not name.startswith("--"):
        return None
    matches = {a for opt, a in known.items() if opt.startswith(name)}
    return matches.pop() if len(matches) == 1 else None


def classify(
    files: Sequence[str], root: Path, *, opted_in: Collection[str] = (), scanners: Sequence[Scanner] | None = None
) -> Plan:
    """Sort the files pre-commit passed into scan targets by asking each provider that scans
    repository files (see the module doc). `opted_in`: providers given `--with-<name>`."""
    scanners = repository_scanners() if scanners is None else scanners
    plan = Plan(files={s.name: [] for s in scanners}, flags={s.name: s.flag for s in scanners})
    for given in files:
        rel = _rel(given, root)
        if not (root / rel).is_file():
            plan.skipped.append((rel, "not a regular file"))
            continue
        staged = StagedFile(rel, root)
        taken = False
        reasons: list[str] = []
        for scanner in scanners:
            claim = _claim(scanner, staged)
            if claim is None:
                continue
            if claim.target is None:
                reasons.append(claim.reason or f"not for the {scanner.name} provider")
            elif claim.opt_in and scanner.name not in opted_in:
                reasons.append(f"{claim.reason or 'file'} (scanned with {OPT_IN}{scanner.name})")
            else:
                taken = True
                if claim.target not in plan.files[scanner.name]:
                    plan.files[scanner.name].append(claim.target)
        if not taken:
            plan.skipped.append((rel, "; ".join(reasons) or "no scanner for this kind of file"))
    return plan


def _claim(scanner: Scanner, staged: StagedFile) -> FileClaim | None:
    try:
        return scanner.cls.accepts_file(staged)
    except Exception as exc:  # noqa: BLE001 - a provider bug: it takes no file, the others still may
        log.warning("provider %s could not classify %s: %s: %s", scanner.name, staged.rel, type(exc).__name__, exc)
        return None


def _rel(given: str, root: Path) -> str:
    p = Path(given)
    if p.is_absolute():
        try:
            p = p.relative_to(root)
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except AuditorError as exc:
        print(f"auditor: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code


def _main(argv: list[str]) -> int:
    from auditor.cli import main as cli_main

    def run_scan(scan_args: list[str]) -> int:
        verbose = ["-v"] if hook & {"-v", "--verbose"} else []
        return cli_main([*verbose, "scan", *scan_args])

    root = Path.cwd()
    parser = scan_parser()
    args = split_argv(argv, parser)
    options, hook, given = args.options, args.hook, args.given
    probe = parser.parse_args(options)  # the values, checked by the scan's own parser
    plan = classify(args.files, root, opted_in={h[len(OPT_IN) :] for h in hook if h.startswith(OPT_IN)})
    if "--list-files" in hook:
        for kind, paths in plan.files.items():
            for p in paths:
                print(f"auditor: {kind:5} {p}", file=sys.stderr)
        for p, why in plan.skipped:
            print(f"auditor: skip  {p} ({why})", file=sys.stderr)
    given_targets = any(v for k, v in vars(probe).items() if k.startswith("provider__"))
    if not plan.targets() and not given_targets:
        return 0  # nothing this hook scans was changed

    scan = [*options, *plan.targets()]
    if "source_root" not in given:
        scan += ["--source-root", str(root)]
    if not given & {"fail_on", "config"}:
        scan += ["--fail-on", "high"]
    scan += repository_waivers(root, probe)
    with tempfile.TemporaryDirectory(prefix="auditor-pre-commit-") as tmp:
        if "db" not in given:
            scan += ["--db", str(Path(tmp) / "runs.db")]
        if "format" in given or "output" in given:
            return run_scan(scan)
        report = Path(tmp) / "scan.json"
        code = run_scan([*scan, "--format", "json", "--output", str(report)])
        if report.is_file():
            for line in finding_lines(json.loads(report.read_text(encoding="utf-8"))):
                print(line)
        return code


def repository_waivers(root: Path, probe: argparse.Namespace) -> list[str]:
    """`--waivers .auditor-waivers.yaml` when the repository's own file may apply (see the module doc)."""
    from auditor.safeio import show_path
    from auditor.waivers import load_waiver_file

    repo_file = root / WAIVER_FILENAME
    if not repo_file.is_file():
        return []
    if not probe.allow_repo_waivers:
        log.warning(
            "%s: waiver file inside the repository ignored (add --allow-repo-waivers to the hook's args to apply it)",
            WAIVER_FILENAME,
        )
        return []
    if probe.waivers is not None:
        raise UsageError(
            f"--waivers and --allow-repo-waivers with {show_path(repo_file)} cannot be combined (give one waiver file)"
        )
    load_waiver_file(repo_file, repository=True)  # the repository rules: no wildcards (exit 2, FILE:LINE)
    return ["--waivers", WAIVER_FILENAME]


def finding_lines(report: dict[str, Any]) -> list[str]:
    """`path:line: severity check_id message` for every FAIL and ERROR, in path order."""
    rows: list[tuple[str, int, str]] = []
    for f in report.get("findings", []):
        status = f.get("status")
        if status not in ("FAIL", "ERROR"):
            continue
        resource = f.get("resource") or {}
        path = resource.get("path") or resource.get("id") or f.get("target") or "-"
        line = resource.get("line") or 0
        where = f"{path}:{line}" if line else str(path)
        severity = "error" if status == "ERROR" else str(f.get("severity"))
        message = " ".join(str(f.get("message", "")).split())
        rows.append((str(path), int(line), f"{where}: {severity} {f.get('check_id')} {message}"))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [r[2] for r in rows]


if __name__ == "__main__":
    from auditor.cli import configure_logging

    configure_logging(0)
    sys.exit(main())
