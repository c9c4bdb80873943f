"""Command line: parse, call, print, exit code. No scanning logic lives here.

Each command group is a module with `register(subparsers)`; the parser of each
command sets `func(args) -> int`. Add a command by adding its module to COMMANDS.
Errors the user can act on (`AuditorError`) print one line and exit 2; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from auditor import __version__
from auditor.cli import (
    catalog_cmds,
    db_cmds,
    demo_cmd,
    history_cmds,
    init_cmd,
    report_cmds,
    sbom_cmd,
    scan_cmd,
    vulndb_cmd,
    waive_cmds,
)
from auditor.errors import AuditorError
from auditor.redact import one_line, redact_text

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in auditor, never a verdict on what was scanned

COMMANDS: list[ModuleType] = [
    init_cmd,
    scan_cmd,
    history_cmds,
    db_cmds,
    catalog_cmds,
    demo_cmd,
    waive_cmds,
    vulndb_cmd,
    report_cmds,
    sbom_cmd,
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's own usage errors: one line, exit 2 (its default code too).
        self.exit(2, f"auditor: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="auditor", description="Security and compliance scanner: SOC 2, GDPR, ISO/IEC 27001 and framework plugins."
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


class RedactingFormatter(logging.Formatter):
    """Every log line goes through the one redaction and stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        return one_line(super().format(record))

    def formatException(self, ei: Any) -> str:
        return redact_text(super().formatException(ei))


def configure_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("auditor: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_auditor", False):
            root.removeHandler(old)
    handler._auditor = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def _command_of(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse; `scan` gets the flags of the providers its arguments name (see scan_cmd)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if _command_of(argv) != "scan":
        return parser.parse_args(argv)
    scan_cmd.add_provider_options(argv)
    args, extras = parser.parse_known_args(argv)
    if extras:
        # A flag no provider name predicts (an alias such as --allowed-region): all of them.
        scan_cmd.add_provider_options(argv, everything=True)
        args, extras = parser.parse_known_args(argv)
    if extras:
        problem = scan_cmd.unknown_options(args, extras)
        if problem:
            parser.parse_args([*argv])  # argparse's own message for what it does not know
            parser.error(problem)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.verbose)
    try:
        from auditor.frameworks import use_catalog_dir

        # Every command starts from the installed frameworks (plus its own --catalog-dir).
        use_catalog_dir(Path(args.catalog_dir) if getattr(args, "catalog_dir", None) else None)
        code: int = args.func(args)
        return code
    except AuditorError as exc:
        print(f"auditor: error: {one_line(str(exc)) if str(exc) else type(exc).__name__}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `auditor ... | head`: the reader went away; not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line, details with -v
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(
            f"auditor: internal error: {type(exc).__name__}: {one_line(str(exc))} (run with -v for details)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


def run() -> None:
    """The console script: `main`, then exit. After an interrupt the process ends at once,
    even if a provider thread is still blocked somewhere cancellation cannot reach: the run
    is already recorded as failed, and SIGTERM must be honoured within seconds."""
    code = main()
    if code == 130:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        logging.shutdown()
        os._exit(130)
    sys.exit(code)
