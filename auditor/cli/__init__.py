"""Command line: parse, call, print, exit code. No scanning logic lives here.

Each command group is a module with `register(subparsers)`; the parser of each
command sets `func(args) -> int`. Add a core command by adding its module to COMMANDS.
Providers (and other plugins) bring their own commands through the `auditor.commands`
entry-point group (name -> a `register(subparsers)` callable, e.g. the image provider's
`sbom`): such a module is imported only when its command is the one being run, or for
`auditor --help`. A plugin command that cannot be loaded never breaks another command;
running it prints one line naming the plugin and exits 3.
Errors the user can act on (`AuditorError`) print one line and exit 2; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from importlib.metadata import EntryPoint, entry_points
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
    scan_cmd,
    serve_cmd,
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
    serve_cmd,
]
COMMAND_ENTRY_POINT_GROUP = "auditor.commands"
log = logging.getLogger(__name__)


class CommandUnavailable(AuditorError):
    """A plugin command (`auditor.commands` entry point) that cannot be loaded."""

    exit_code = 3  # the installation is incomplete: nothing was done, and nothing judged


class _Parser(argparse.ArgumentParser):
    # Plugin commands that could not be loaded: name -> what running one does (see build_parser).
    unavailable_commands: dict[str, Callable[[argparse.Namespace], int]]

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's own usage errors: one line, exit 2 (its default code too).
        self.exit(2, f"auditor: error: {message}\n")


def plugin_commands(core: Iterable[str] = (), eps: Iterable[EntryPoint] | None = None) -> dict[str, list[EntryPoint]]:
    """The `auditor.commands` entry points by command name (from metadata; nothing imported).
    A name that a `core` command already has is ignored with a warning."""
    core = set(core)
    found: dict[str, list[EntryPoint]] = {}
    for ep in eps if eps is not None else entry_points(group=COMMAND_ENTRY_POINT_GROUP):
        if ep.name in core:
            log.warning("plugin command %r (%s) ignored: auditor has a command of that name", ep.name, ep.value)
            continue
        same = found.setdefault(ep.name, [])
        if all(other.value != ep.value for other in same):
            same.append(ep)
    return dict(sorted(found.items()))


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{ep.value} from {dist.metadata['Name']} {dist.version}" if dist is not None else ep.value


def _load_plugin_command(
    sub: argparse._SubParsersAction[Any], name: str, eps: list[EntryPoint]
) -> str | None:
    """Register one plugin command; the reason when it cannot be (and nothing was registered)."""
    if len(eps) > 1:
        return "two installed plugins claim this command: " + " and ".join(_origin(ep) for ep in eps)
    try:
        register = eps[0].load()
        if not callable(register):
            return f"{eps[0].value} is not a register(subparsers) callable"
        register(sub)
        if name not in sub.choices:
            return f"{eps[0].value} registered no command called {name!r}"
        return None
    except Exception as exc:  # a broken plugin must not break the other commands
        log.debug("plugin command %s cannot be loaded", name, exc_info=True)
        # Whatever a failed register() left half-made goes.
        sub.choices.pop(name, None)
        sub._choices_actions[:] = [a for a in sub._choices_actions if a.dest != name]
        return f"{type(exc).__name__}: {exc}".replace("\n", " ")


def _unavailable_command(name: str, ep: EntryPoint, reason: str, args: argparse.Namespace) -> int:
    raise CommandUnavailable(f"command {name!r} is unavailable: plugin {_origin(ep)}: {reason}")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser. Plugin commands are imported only when `argv` runs one of them, or asks for
    the top-level help (no command); otherwise each is a placeholder so that its name is known."""
    parser = _Parser(
        prog="auditor", description="Security and compliance scanner: SOC 2, GDPR, ISO/IEC 27001 and framework plugins."
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    wanted = _command_of(argv) if argv is not None else None
    # `auditor --help` (or `auditor` alone) lists every command with its help: all are loaded.
    everything = argv is not None and wanted is None and (not argv or any(_asks_help(a) for a in argv))
    unavailable: dict[str, Callable[[argparse.Namespace], int]] = {}
    for name, eps in plugin_commands(sub.choices).items():
        if name == wanted or everything:
            reason = _load_plugin_command(sub, name, eps)
            if reason is None:
                continue
            func = partial(_unavailable_command, name, eps[0], reason)
            unavailable[name] = func
            p = sub.add_parser(name, help=f"(unavailable: {reason})", add_help=False)
            p.set_defaults(func=func)
        else:
            sub.add_parser(name, add_help=False)  # not run, so not imported: known by name only
    parser.unavailable_commands = unavailable
    return parser


def _asks_help(arg: str) -> bool:
    return arg == "-h" or (arg.startswith("--h") and "--help".startswith(arg))


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
    parser = build_parser(argv)
    command = _command_of(argv)
    unavailable = getattr(parser, "unavailable_commands", {})
    if command in unavailable:
        # Whatever its arguments (even --help): one line naming the plugin, exit 3 (see main).
        return argparse.Namespace(command=command, verbose=argv.count("-v"), func=unavailable[command])
    if command != "scan":
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
    configure_logging(0)  # warnings while the parser is built (plugin commands) look like every other line
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
