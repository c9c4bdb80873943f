"""Provider discovery through the `auditor.providers` entry-point group.

Built-in providers are registered in pyproject.toml through the same group as a
third-party plugin would be; nothing registers itself at import time.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

from auditor.errors import AuditorError
from auditor.providers.base import Provider

ENTRY_POINT_GROUP = "auditor.providers"
log = logging.getLogger(__name__)


def load_provider(ep: EntryPoint) -> type[Provider]:
    obj = ep.load()
    if not (isinstance(obj, type) and issubclass(obj, Provider)):
        raise AuditorError(f"entry point {ep.name!r} ({ep.value}) is not an auditor Provider class")
    return obj


def discover_providers(eps: list[EntryPoint] | None = None) -> dict[str, type[Provider]]:
    """Every provider class registered in the entry-point group, by provider name."""
    found: dict[str, type[Provider]] = {}
    for ep in eps if eps is not None else list(entry_points(group=ENTRY_POINT_GROUP)):
        cls = load_provider(ep)
        if cls.name in found and found[cls.name] is not cls:
            other = found[cls.name].__module__
            raise AuditorError(f"two providers claim the name {cls.name!r}: {ep.value} and {other}")
        found[cls.name] = cls
    return dict(sorted(found.items()))


def registered_provider_names() -> list[str]:
    """The names providers are registered under (their entry-point names, which are their
    `Provider.name`), read from installed metadata without importing any provider module:
    for reports and listings that only need to know what is installed."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})
