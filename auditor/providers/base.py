"""The provider interface: one small abstract class.

A provider declares its checks as data (`checks()`), says whether a configuration
selects it (`selected()`), validates its inputs up front (`prepare()`, raising
InputError for unusable input so that nothing is written), and yields findings
(`run()`). Checks that could not look yield ERROR findings; the engine turns any
exception that escapes into ERROR findings for every check that produced nothing.

Coverage: for every target it was asked to scan, a provider records what it examined
and what it skipped (`ctx.record_coverage`), and sets `target=` on its findings (the
same target string). A target where a tool examined nothing, or skipped something in
scope, is ERROR, never PASS: the ERROR finding names what it stops in `affects`.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from auditor.config import AuditConfig, ProviderSettings, Setting
from auditor.models import CheckInfo, Coverage, Finding, Resource, Status


@dataclass
class ScanContext:
    config: AuditConfig
    now: datetime
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("auditor.scan"))
    progress: Callable[[str, str], None] = field(default=lambda provider, msg: None)
    cancelled: threading.Event = field(default_factory=threading.Event)
    coverage: list[Coverage] = field(default_factory=list)
    # Every finding path is shown relative to this folder (the engine rebases resource paths;
    # providers name files in messages and evidence the same way, see `auditor.scope.Scope.shown`).
    source_root: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_coverage(self, coverage: Coverage) -> None:
        """What a provider examined in one target (and skipped): every provider records one
        per target it was asked to scan, complete or not. Safe from any thread."""
        with self._lock:
            self.coverage.append(coverage)


class Provider(ABC):
    """Subclass, set `name` (the entry-point name too), declare `settings`, implement `checks` and `run`.

    The class is also the provider's declaration: the CLI (`scan` flags, `--help`) and the
    audit.yaml loader (`targets.<name>`) are built from `name`, `title`, `settings`,
    `shorthand` and `config_aliases`, so keep the module that defines it light: import
    heavy dependencies inside `prepare`/`run`. Discovery imports only the providers a scan
    selects; one that fails to import or to build is one ERROR naming it when selected.
    """

    name: ClassVar[str]
    # One line for `scan --help` and `auditor providers`.
    title: ClassVar[str] = ""
    # The inputs this provider takes (CLI flags and audit.yaml keys). A provider declaring none
    # gets `--<name>` (audit.yaml `targets.<name>: true`) to select it.
    settings: ClassVar[tuple[Setting, ...]] = ()
    # `targets.<name>: VALUE` (not a mapping) sets this setting: `targets.iac: [infra, modules]`.
    shorthand: ClassVar[str | None] = None
    # Other names of `targets.<name>` accepted in audit.yaml (`images` for `image`).
    config_aliases: ClassVar[tuple[str, ...]] = ()
    # Providers whose targets are AWS accounts split them across `--shard I/N` themselves
    # (with `auditor.config.in_shard`); every other provider runs in shard 1 only.
    shardable: ClassVar[bool] = False

    @abstractmethod
    def checks(self) -> list[CheckInfo]:
        """Metadata of every check this provider can produce."""

    def tool_id_patterns(self) -> list[str]:
        """Glob patterns of tool check ids (e.g. `iac.CKV_*`) the catalog may reference."""
        return []

    @classmethod
    def declared_settings(cls) -> tuple[Setting, ...]:
        """`settings`, or the implicit `--<name>` switch of a provider that declares none."""
        if cls.settings:
            return cls.settings
        return (Setting("enabled", "flag", help=f"run the {cls.name} provider", flag=f"--{cls.name}"),)

    def settings_of(self, config: AuditConfig) -> ProviderSettings:
        """This provider's inputs in `config` (empty values when it was not configured)."""
        got = config.targets.of(self.name)
        return got if got.schema else ProviderSettings(dict(got), self.declared_settings())

    def selected(self, config: AuditConfig) -> bool:
        """Whether this configuration asks for this provider: a selecting setting was given
        (and an `enabled` setting, if declared, is not false)."""
        s = self.settings_of(config)
        return s.given() and s.explicit("enabled") is not False

    def targets(self, config: AuditConfig) -> list[str]:
        """Human-readable list of what this provider will scan (for the run record)."""
        return []

    def check_globs(self) -> tuple[str, ...]:
        """Globs covering every check this provider can report (`iac.*`): what an ERROR that
        stops the whole provider for a target `affects`."""
        return (f"{self.name}.*",)

    def prepare(self, ctx: ScanContext) -> None:  # noqa: B027 - optional hook
        """Validate inputs before anything is written; raise InputError when unusable."""

    @abstractmethod
    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        """Yield findings. PASS findings carry evidence too."""

    # Helpers shared by every provider -------------------------------------------------

    def check_map(self) -> dict[str, CheckInfo]:
        return {c.id: c for c in self.checks()}

    def finding(
        self,
        check: CheckInfo,
        status: Status,
        resource: Resource,
        message: str,
        evidence: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Finding:
        """A finding with the check's title, severity and remediation filled in."""
        kwargs.setdefault("severity", check.severity)
        return Finding(
            check_id=check.id,
            status=status,
            resource=resource,
            message=message,
            title=check.title,
            provider=self.name,
            remediation=check.remediation,
            evidence=evidence or {},
            **kwargs,
        )
