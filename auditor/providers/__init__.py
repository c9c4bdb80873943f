"""Provider discovery through the `auditor.providers` entry-point group.

Built-in providers are registered in pyproject.toml through the same group as a
third-party plugin would be; nothing registers itself at import time.

Discovery is lazy: the names come from installed metadata, and a provider's module is
imported only when something needs it (a scan that selects it, `scan --help`, `auditor
providers`). A provider that cannot be imported (a missing dependency, a bug in a plugin)
is remembered as unavailable with the reason; a scan that selects it reports one ERROR
naming it, and every other command goes on without it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from auditor.config import ProviderSettings, Setting, Targets
from auditor.errors import AuditorError, UsageError
from auditor.providers.base import Provider

ENTRY_POINT_GROUP = "auditor.providers"
log = logging.getLogger(__name__)


class ProviderUnavailable(AuditorError):
    """A provider that is installed (registered) but cannot be imported or built."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"provider {name!r} is unavailable: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class ProviderInfo:
    """What `auditor providers` shows about one registered provider."""

    name: str
    value: str  # module:attribute of the entry point
    distribution: str | None
    version: str | None
    cls: type[Provider] | None
    error: str | None  # why it cannot be loaded


def load_provider(ep: EntryPoint) -> type[Provider]:
    obj = ep.load()
    if not (isinstance(obj, type) and issubclass(obj, Provider)):
        raise AuditorError(f"entry point {ep.name!r} ({ep.value}) is not an auditor Provider class")
    if getattr(obj, "name", None) != ep.name:
        raise AuditorError(
            f"entry point {ep.name!r} ({ep.value}) names a provider called {getattr(obj, 'name', None)!r}: "
            "the entry-point name must be the provider's name"
        )
    return obj


class Registry:
    """The installed providers by name; each imported at most once, on first use."""

    def __init__(self, eps: Iterable[EntryPoint] | None = None) -> None:
        found: dict[str, list[EntryPoint]] = {}
        for ep in eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP):
            same = found.setdefault(ep.name, [])
            if all(other.value != ep.value for other in same):
                same.append(ep)
        self._eps = dict(sorted(found.items()))
        self._classes: dict[str, type[Provider]] = {}
        self._loaded: dict[str, type[Provider] | ProviderUnavailable] = {}

    @classmethod
    def of_classes(cls, classes: Mapping[str, type[Provider]]) -> Registry:
        """A registry of given provider classes (tests, embedding applications)."""
        reg = cls([])
        reg._classes = dict(sorted(classes.items()))
        reg._loaded.update(reg._classes)
        return reg

    def names(self) -> list[str]:
        """Registered names, from metadata only (no provider is imported)."""
        return sorted({*self._eps, *self._classes})

    def entry_point(self, name: str) -> EntryPoint:
        return self._eps[name][0]

    def load(self, name: str) -> type[Provider]:
        """The provider class; ProviderUnavailable when it is not registered or cannot be imported."""
        if name not in self._loaded:
            self._loaded[name] = self._import(name)
        got = self._loaded[name]
        if isinstance(got, ProviderUnavailable):
            raise got
        return got

    def _import(self, name: str) -> type[Provider] | ProviderUnavailable:
        eps = self._eps.get(name)
        if not eps:
            return ProviderUnavailable(name, "not installed (no `auditor.providers` entry point has this name)")
        if len(eps) > 1:
            values = " and ".join(ep.value for ep in eps)
            return ProviderUnavailable(name, f"two installed providers claim this name: {values}")
        try:
            return load_provider(eps[0])
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            log.debug("provider %s cannot be loaded: %s", name, reason, exc_info=True)
            return ProviderUnavailable(name, reason)

    def try_load(self, names: Iterable[str]) -> tuple[dict[str, type[Provider]], dict[str, str]]:
        """(loaded classes, name -> reason for those that cannot be loaded)."""
        ok: dict[str, type[Provider]] = {}
        bad: dict[str, str] = {}
        for name in names:
            try:
                ok[name] = self.load(name)
            except ProviderUnavailable as exc:
                bad[name] = exc.reason
        return ok, bad

    def load_all(self) -> tuple[dict[str, type[Provider]], dict[str, str]]:
        return self.try_load(self.names())

    def info(self) -> list[ProviderInfo]:
        out = []
        for name in self.names():
            ep = self._eps[name][0] if name in self._eps else None
            dist = getattr(ep, "dist", None)
            cls: type[Provider] | None
            try:
                cls, error = self.load(name), None
            except ProviderUnavailable as exc:
                cls, error = None, exc.reason
            out.append(
                ProviderInfo(
                    name=name,
                    value=ep.value
                    if ep is not None
                    else f"{self._classes[name].__module__}:{self._classes[name].__qualname__}",
                    distribution=dist.metadata["Name"] if dist is not None else None,
                    version=dist.version if dist is not None else None,
                    cls=cls,
                    error=error,
                )
            )
        return out

    def by_flag(self, option: str) -> str | None:
        """The registered provider whose flags an option belongs to by name (`--aws-profile` ->
        aws), without importing anything: flags start with `--<provider name>`."""
        bare = option.split("=", 1)[0].lstrip("-")
        best = None
        for name in self.names():
            if (bare == name or bare.startswith(name + "-")) and (best is None or len(name) > len(best)):
                best = name
        return best


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The registry of the installed providers (one per process)."""
    return Registry()


def discover_providers(eps: list[EntryPoint] | None = None) -> dict[str, type[Provider]]:
    """Every provider class that can be loaded, by provider name (imports all of them)."""
    reg = Registry(eps) if eps is not None else registry()
    return reg.load_all()[0]


def registered_provider_names() -> list[str]:
    """The names providers are registered under (their entry-point names, which are their
    `Provider.name`), read from installed metadata without importing any provider module:
    for reports and listings that only need to know what is installed."""
    return registry().names()


def settings_for(cls: type[Provider], values: Mapping[str, Any]) -> ProviderSettings:
    """`values` checked against the provider's declared settings (for code that builds a
    configuration: the demo, tests, embedding applications). Paths may be str or Path."""
    schema = cls.declared_settings()
    by_key = {s.key: s for s in schema}
    out: dict[str, Any] = {}
    for key, value in values.items():
        setting = by_key.get(key)
        if setting is None:
            raise UsageError(f"provider {cls.name!r} has no setting {key!r} (it has: {', '.join(by_key)})")
        out[key] = _coerce(setting, value)
    return ProviderSettings(out, schema)


def _coerce(setting: Setting, value: Any) -> Any:
    if setting.kind == "paths":
        items = [value] if isinstance(value, str | Path) else list(value)
        return tuple(Path(v) for v in items)
    if setting.kind == "texts":
        return (value,) if isinstance(value, str) else tuple(str(v) for v in value)
    if setting.kind == "path":
        return None if value is None else Path(value)
    if setting.kind == "flag":
        return bool(value)
    return value


def targets(reg: Registry | None = None, /, **by_provider: Any) -> Targets:
    """`Targets` for code: `targets(iac=["infra"], aws={"enabled": True, "regions": ["eu-west-1"]})`.
    A value that is not a mapping sets the provider's `shorthand` setting."""
    reg = reg or registry()
    out: dict[str, ProviderSettings] = {}
    for name, value in by_provider.items():
        cls = reg.load(name)
        if not isinstance(value, Mapping):
            key = cls.shorthand or cls.declared_settings()[0].key
            value = {key: value}
        out[name] = settings_for(cls, value)
    return Targets(out)
