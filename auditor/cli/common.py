"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from auditor.config import resolve_db_path
from auditor.safeio import check_output_path, output_stream

# check_output_path and output_stream live in auditor.safeio (provider commands use them too).
__all__ = [
    "add_catalog_dir_flag",
    "add_db_flag",
    "add_framework_flags",
    "check_framework",
    "check_output_path",
    "open_store",
    "output_stream",
]

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
