"""`auditor scan`: build the configuration, run the engine, write the output, gate."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from auditor.cli.common import add_catalog_dir_flag, add_db_flag, check_output_path, output_stream
from auditor.config import (
    DEFAULT_FRAMEWORKS,
    FAIL_ON_CHOICES,
    AuditConfig,
    ProviderSettings,
    Setting,
    Targets,
    parse_fail_on,
    parse_shard,
    resolve_db_path,
)
from auditor.engine import gate_exit_code, prepare_scan
from auditor.errors import UsageError
from auditor.outputs import FORMATS, sarif
from auditor.providers import registry
from auditor.providers.base import Provider
from auditor.runs import run_scan
from auditor.safeio import show_path
from auditor.store import Store

_SCAN_PARSER: list[argparse.ArgumentParser] = []  # the `scan` parser of the parser being built


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scan",
        help="scan targets, store the run, print findings, gate on severity",
        description="Scan the targets the flags (or --config) name. Each provider declares its own flags "
        "(groups below; `auditor providers` lists the installed ones).",
    )
    _SCAN_PARSER[:] = [p]
    p.set_defaults(provider_classes={}, unavailable_flags={})
    p.add_argument("--config", metavar="FILE", help="audit.yaml with targets and settings (flags override it)")
    o = p.add_argument_group("output and gate")
    o.add_argument(
        "--framework",
        metavar="IDS",
        help=f"comma-separated framework ids (default: {','.join(DEFAULT_FRAMEWORKS)}; installed: `auditor controls`)",
    )
    add_catalog_dir_flag(o)
    add_db_flag(o)
    o.add_argument("--format", choices=sorted(FORMATS), default="table")
    o.add_argument("--output", metavar="FILE", help="write the output here instead of stdout")
    o.add_argument(
        "--sarif-resources",
        metavar="FILE",
        help="with --format sarif: write one line per cloud/image resource into FILE (inside the source root) "
        "and place their findings there (default: SARIF carries file findings only)",
    )
    o.add_argument("--fail-on", choices=FAIL_ON_CHOICES, help="exit 1 on an unwaived FAIL at or above (default: none)")
    o.add_argument("--allow-errors", action="store_true", help="do not exit 3 when some checks could not run")
    o.add_argument("--waivers", metavar="FILE", help="waiver YAML file")
    o.add_argument(
        "--allow-repo-waivers",
        action="store_true",
        help="also apply .auditor-waivers.yaml found inside scanned targets (no wildcards allowed there)",
    )
    o.add_argument(
        "--strict-suppressions",
        action="store_true",
        help="inline suppressions without approved-by/expires (checkov:skip, nosemgrep) also breach --fail-on",
    )
    o.add_argument("--baseline", metavar="FILE", help="gate only on FAIL findings not in this baseline")
    o.add_argument(
        "--source-root",
        metavar="DIR",
        help="report file paths relative to this folder (SARIF %%SRCROOT%%, JUnit, OCSF, CSV, reports; "
        "default: the git top level of the scanned paths)",
    )
    o.add_argument(
        "--max-file-bytes",
        metavar="N",
        type=_positive_int,
        help="files larger than this in --iac/--code targets are not scanned and make the scan incomplete "
        "(default: 10485760)",
    )
    o.add_argument("--offline", action="store_true", help="forbid any network look-up (vulnerability data)")
    o.add_argument(
        "--shard", metavar="I/N", help="scan only shard I of N of the AWS accounts (merge with `auditor merge`)"
    )
    o.add_argument("--organisation", metavar="NAME", help="organisation name for the run and its reports")
    p.set_defaults(func=cmd_scan)


def _dest(name: str, key: str) -> str:
    return f"provider__{name}__{key}"


def add_provider_options(argv: Sequence[str], everything: bool = False) -> None:
    """Give the `scan` parser the flags of the providers `argv` names (`--iac`, `--aws-profile`:
    a provider's flags start with `--<its name>`), or of every installed provider for
    `--help` or when `argv` has a flag no name matches. Only those providers are imported."""
    if not _SCAN_PARSER:
        return
    p = _SCAN_PARSER[0]
    reg = registry()
    if everything or any(a in ("-h", "--help") for a in argv):
        wanted = reg.names()
    else:
        wanted = sorted({n for a in argv if a.startswith("--") and (n := reg.by_flag(a)) is not None})
    have: dict[str, type[Provider]] = p.get_default("provider_classes")
    missing: dict[str, str] = dict(p.get_default("unavailable_flags"))
    loaded, failed = reg.try_load(n for n in wanted if n not in have and n not in missing)
    for name, cls in list(loaded.items()):
        flags_of = [f for s in cls.declared_settings() for f in (s.flag, *s.aliases) if f]
        taken = [f for f in flags_of if f in p._option_string_actions]
        if taken:
            # Two plugins (or a plugin and the core) claim one flag: this provider cannot be offered.
            failed[name] = f"its flag {taken[0]} is already taken by another provider or by auditor itself"
            del loaded[name]
            continue
        group = p.add_argument_group(f"{name} provider", cls.title or None)
        for s in cls.declared_settings():
            if s.flag is None:
                continue
            flags = (s.flag, *s.aliases)
            dest = _dest(name, s.key)
            if s.kind == "flag":
                group.add_argument(*flags, dest=dest, action="store_true", default=None, help=s.help)
            elif s.kind in ("texts", "paths"):
                group.add_argument(*flags, dest=dest, action="append", metavar=s.metavar, help=s.help)
            else:
                group.add_argument(*flags, dest=dest, metavar=s.metavar, help=s.help)
    missing.update(failed)
    if missing:
        p.epilog = "installed providers that cannot be loaded (a scan selecting one reports it as ERROR): " + "; ".join(
            f"{n} ({why})" for n, why in sorted(missing.items())
        )
    p.set_defaults(provider_classes={**have, **loaded}, unavailable_flags=missing)


def unknown_options(args: argparse.Namespace, extras: Sequence[str]) -> str | None:
    """Flags argparse did not know: those of a provider that cannot be loaded select it (one
    ERROR, exit 3, like a broken provider named in audit.yaml); anything else is an error."""
    reg = registry()
    unavailable: dict[str, str] = args.unavailable_flags
    selected: set[str] = set()
    owner: str | None = None
    for token in extras:
        if token.startswith("-"):
            owner = reg.by_flag(token) if token.startswith("--") else None
            if owner is None or owner not in unavailable:
                return f"unrecognized arguments: {' '.join(extras)}"
            selected.add(owner)
        elif owner is None:
            return f"unrecognized arguments: {' '.join(extras)}"
    args.unavailable_selected = sorted(selected)
    return None


def _provider_targets(args: argparse.Namespace) -> Targets:
    """The providers' flags as `Targets` (only settings that were given)."""
    out: dict[str, ProviderSettings] = {}
    classes: dict[str, type[Provider]] = args.provider_classes
    for name, cls in classes.items():
        values: dict[str, Any] = {}
        for s in cls.declared_settings():
            raw = getattr(args, _dest(name, s.key), None)
            if raw is None:
                continue
            values[s.key] = _flag_value(s, raw)
        if values:
            out[name] = ProviderSettings(values, cls.declared_settings())
    for name in getattr(args, "unavailable_selected", ()):
        out[name] = ProviderSettings()
    return Targets(out)


def _flag_value(s: Setting, raw: Any) -> Any:
    pattern = re.compile(s.pattern) if s.pattern else None
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if isinstance(item, str) and pattern is not None and not pattern.match(item):
            raise UsageError(f"{s.flag} {item!r}: expected {s.what or 'a valid value'}")
    if s.kind == "paths":
        return tuple(Path(v) for v in items)
    if s.kind == "path":
        return Path(raw)
    if s.kind == "texts":
        return tuple(items)
    return raw


def resource_inventory(path: str | None, root: Path) -> sarif.ResourceInventory | None:
    """`--sarif-resources FILE`: code scanning resolves it against the source root, so it must be inside."""
    if path is None:
        return None
    target = Path(path).absolute()
    try:
        rel = target.resolve().relative_to(root)
    except ValueError:
        raise UsageError(
            f"--sarif-resources {show_path(path)} is outside the source root {show_path(root)}: "
            "code scanning could not find it (give a path inside the repository, or --source-root)"
        ) from None
    return sarif.ResourceInventory(path=target, rel=rel.as_posix())


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def config_from_args(args: argparse.Namespace) -> AuditConfig:
    # Framework ids are checked against the installed ones in cmd_scan, once audit.yaml's
    # catalog_dir is known.
    frameworks = tuple(f.strip() for f in (args.framework or ",".join(DEFAULT_FRAMEWORKS)).split(",") if f.strip())
    if len(set(frameworks)) != len(frameworks):
        raise UsageError("--framework lists a framework twice")
    if not frameworks:
        raise UsageError("--framework needs at least one framework")
    base = AuditConfig()
    return AuditConfig(
        organisation=args.organisation or base.organisation,
        frameworks=frameworks,
        catalog_dir=Path(args.catalog_dir) if args.catalog_dir else None,
        db_path=resolve_db_path(args.db),
        targets=_provider_targets(args),
        fail_on=parse_fail_on(args.fail_on or "none"),
        allow_errors=args.allow_errors,
        offline=args.offline,
        max_file_bytes=args.max_file_bytes or base.max_file_bytes,
        shard=parse_shard(args.shard) if args.shard else None,
        waivers_file=Path(args.waivers) if args.waivers else None,
        allow_repository_waivers=args.allow_repo_waivers,
        strict_suppressions=args.strict_suppressions,
        baseline_file=Path(args.baseline) if args.baseline else None,
        source_root=Path(args.source_root) if args.source_root else None,
    )


def cmd_scan(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.config:
        from auditor.config_file import load_config, overlay_flags

        config = overlay_flags(load_config(args.config), config, args)
    from auditor.frameworks import use_catalog_dir

    use_catalog_dir(config.catalog_dir).check_ids(config.frameworks)
    check_output_path(args.output)  # before scanning: a bad --output must not cost a stored run
    if args.sarif_resources is not None:
        if args.format != "sarif":
            raise UsageError("--sarif-resources needs --format sarif")
        check_output_path(args.sarif_resources, "--sarif-resources")
    with progress_reporter() as progress, cancel_on_signals() as cancel:
        # Every input is validated before the database is opened: bad input exits 2 and
        # leaves no database file behind.
        prepared = prepare_scan(config, progress=progress, cancel=cancel)
        inventory = resource_inventory(args.sarif_resources, prepared.source_root)
        store = Store.open(config.db_path, create=True)
        try:
            result = run_scan(config, store, prepared=prepared)
            if config.notifications.enabled:
                from auditor.notify import notify_after_run

                # never raises: outcomes are recorded
                notify_after_run(config, store, result.run, result.findings, controls=result.controls)
        finally:
            store.close()
    if inventory is not None:
        text = inventory.render(result.findings)
        with output_stream(str(inventory.path), "--sarif-resources") as fh:
            fh.write(text)
        with output_stream(args.output) as stream:
            sarif.write(result, stream, inventory)
    else:
        with output_stream(args.output) as stream:
            FORMATS[args.format](result, stream)
    gated = result.baseline.is_new if result.baseline is not None else None
    return gate_exit_code(
        result.findings,
        config.fail_on,
        config.allow_errors,
        gated=gated,
        strict_suppressions=config.strict_suppressions,
    )


@contextmanager
def cancel_on_signals() -> Iterator[threading.Event]:
    """Ctrl-C or SIGTERM (a stopped CI job or pod) asks the scan to stop cleanly: providers
    and tools stop, the run is recorded as failed. A second Ctrl-C interrupts at once."""
    cancel = threading.Event()

    def handle(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancel
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def progress_reporter() -> Iterator[Callable[[str, str], None]]:
    """A live status line on a terminal; nothing at all when stderr is piped."""
    if not sys.stderr.isatty():
        yield lambda provider, message: None
        return
    from rich.console import Console

    console = Console(file=sys.stderr)
    with console.status("scanning ...") as status:

        def report(provider: str, message: str) -> None:
            status.update(f"[bold]{provider}[/]: {message}")

        yield report
