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
from types import ModuleType

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
    parser = _Parser(prog="auditor", description="Security and compliance scanner for SOC 2 and GDPR.")
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="auditor: %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        code: int = args.func(args)
        return code
    except AuditorError as exc:
        print(f"auditor: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
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
        print(f"auditor: internal error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return INTERNAL_ERROR
