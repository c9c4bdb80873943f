"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from auditor.config import resolve_db_path
from auditor.errors import UsageError
from auditor.safeio import show_path

if TYPE_CHECKING:
    from auditor.store import Store


def add_db_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--db", metavar="PATH", help="database file (default: $AUDITOR_DB, else ./auditor.db)")


def add_framework_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, required: bool = False, help: str | None = None
) -> None:
    """`--framework ID` (validated when the command runs: plugins and --catalog-dir add frameworks) and
    `--catalog-dir DIR`."""
    parser.add_argument(
        "--framework",
        metavar="ID",
        required=required,
        help=help or "framework id (see `auditor controls`; unknown ids are listed with the installed ones)",
    )
    add_catalog_dir_flag(parser)


def add_catalog_dir_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--catalog-dir",
        metavar="DIR",
        help="also use the framework catalogs in DIR (one <framework id>.yaml each; see docs/plugins.md)",
    )


def check_framework(framework: str | None) -> None:
    """Exit 2 for a framework that is not installed (the message lists the installed ones)."""
    if framework is not None:
        from auditor.frameworks import registry

        registry().check_ids([framework])


def open_store(args: argparse.Namespace, *, create: bool = False, readonly: bool = False) -> Store:
    """The database of `--db`/`$AUDITOR_DB`. Commands that only read pass `readonly=True`: a
    database the user may only read (or on read-only media) still answers."""
    from auditor.store import Store  # sqlite-utils pulls in numpy: load it only when needed

    return Store.open(resolve_db_path(getattr(args, "db", None)), create=create, readonly=readonly)


def check_output_path(path: str | None, flag: str = "--output") -> None:
    """Fail early (exit 2) when an output file cannot be written, before any work is done."""
    if not path or path == "-":
        return
    target = Path(path)
    where = show_path(path)
    if target.is_dir():
        raise UsageError(f"{flag} {where} is a directory")
    if target.exists() and not target.is_file():
        return  # a device or pipe: written into, never replaced
    parent = target.parent if str(target.parent) else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{flag} {where}: {show_path(probe)} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"{flag} {where}: not writable")


@contextmanager
def output_stream(path: str | None, flag: str = "--output") -> Iterator[TextIO]:
    """stdout, or a file written atomically (a crash or a full disk never leaves half a file)."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    where = show_path(path)
    if target.is_dir():
        raise UsageError(f"{flag} {where} is a directory")
    if target.exists() and not target.is_file():
        # A device or pipe (/dev/null, /dev/stdout, a FIFO): write to it, never replace it.
        try:
            with target.open("w", encoding="utf-8", newline="") as fh:
                yield fh
        except OSError as exc:
            raise UsageError(f"cannot write {where}: {exc.strerror or exc}") from None
        return
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {where}: {exc.strerror or exc}; nothing was written") from None
