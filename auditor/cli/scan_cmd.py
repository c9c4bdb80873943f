"""`auditor scan`: build the configuration, run the engine, write the output, gate."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.cli.common import add_catalog_dir_flag, add_db_flag, check_output_path, output_stream
from auditor.config import (
    DEFAULT_FRAMEWORKS,
    FAIL_ON_CHOICES,
    AuditConfig,
    AwsTargets,
    parse_fail_on,
    parse_shard,
    resolve_db_path,
)
from auditor.engine import gate_exit_code, prepare_scan, run_scan
from auditor.errors import UsageError
from auditor.outputs import FORMATS, sarif
from auditor.safeio import show_path
from auditor.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scan", help="scan targets, store the run, print findings, gate on severity")
    p.add_argument("--config", metavar="FILE", help="audit.yaml with targets and settings (flags override it)")
    g = p.add_argument_group("AWS")
    g.add_argument("--aws", action="store_true", help="scan the AWS account(s) of the default credential chain")
    g.add_argument("--aws-profile", metavar="P")
    g.add_argument("--aws-region", metavar="R", action="append", default=[], help="repeatable; default: all enabled")
    g.add_argument("--aws-role-arn", metavar="ARN", action="append", default=[], help="repeatable: assume this role")
    g.add_argument("--aws-org-role", metavar="NAME", help="AWS Organizations: assume NAME in every member account")
    g.add_argument(
        "--allowed-region", metavar="R", action="append", default=[], help="GDPR Art. 44: regions allowed for data"
    )
    t = p.add_argument_group("targets")
    t.add_argument("--iac", metavar="PATH", action="append", default=[], help="infrastructure as code (checkov)")
    t.add_argument("--code", metavar="PATH", action="append", default=[], help="source code (semgrep)")
    t.add_argument("--deps", metavar="PATH", action="append", default=[], help="Python dependencies (pip-audit)")
    t.add_argument("--image", metavar="REF_OR_TAR", action="append", default=[], help="container image")
    t.add_argument("--secrets-inventory", metavar="FILE", help="YAML inventory of secrets and certificates")
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
    frameworks = tuple(
        f.strip() for f in (args.framework or ",".join(DEFAULT_FRAMEWORKS)).split(",") if f.strip()
    )
    if len(set(frameworks)) != len(frameworks):
        raise UsageError("--framework lists a framework twice")
    if not frameworks:
        raise UsageError("--framework needs at least one framework")
    aws_enabled = bool(args.aws or args.aws_profile or args.aws_role_arn or args.aws_org_role)
    base = AuditConfig()
    return AuditConfig(
        organisation=args.organisation or base.organisation,
        frameworks=frameworks,
        catalog_dir=Path(args.catalog_dir) if args.catalog_dir else None,
        db_path=resolve_db_path(args.db),
        aws=AwsTargets(
            enabled=aws_enabled,
            profile=args.aws_profile,
            regions=tuple(args.aws_region),
            role_arns=tuple(args.aws_role_arn),
            organization_role=args.aws_org_role,
            allowed_regions=tuple(args.allowed_region),
        ),
        iac_paths=tuple(Path(p) for p in args.iac),
        code_paths=tuple(Path(p) for p in args.code),
        deps_paths=tuple(Path(p) for p in args.deps),
        images=tuple(args.image),
        secrets_inventory=Path(args.secrets_inventory) if args.secrets_inventory else None,
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
