"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from auditor.config import resolve_db_path
from auditor.errors import UsageError

if TYPE_CHECKING:
    from auditor.store import Store


def add_db_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--db", metavar="PATH", help="database file (default: $AUDITOR_DB, else ./auditor.db)")


def open_store(args: argparse.Namespace, *, create: bool = False) -> Store:
    from auditor.store import Store  # sqlite-utils pulls in numpy: load it only when needed

    return Store.open(resolve_db_path(getattr(args, "db", None)), create=create)


@contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file written atomically (a crash never leaves half a report)."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--output {path} is a directory")
    if target.exists() and not target.is_file():
        # A device or pipe (/dev/null, /dev/stdout, a FIFO): write to it, never replace it.
        try:
            with target.open("w", encoding="utf-8", newline="") as fh:
                yield fh
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    tmp.replace(target)
