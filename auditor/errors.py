"""Exceptions that the CLI turns into exit codes with one clear line."""

from __future__ import annotations


class AuditorError(Exception):
    """Base class. The message is shown to the user as-is, on one line."""

    exit_code = 2


class UsageError(AuditorError):
    """Bad flags or arguments."""


class ConfigError(AuditorError):
    """An invalid configuration file or value."""


class InputError(AuditorError):
    """A target that cannot be used at all (missing, malformed, hostile)."""


class StoreError(AuditorError):
    """The database cannot be used (not ours, newer schema, locked)."""
