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

import contextlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
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


MAX_SNIFF_BYTES = 1_000_000  # a staged file larger than this is judged on its first megabyte


@dataclass(frozen=True)
class StagedFile:
    """A file the pre-commit hook was given (`Provider.accepts_file`): a regular file."""

    rel: str  # relative to the repository root, forward slashes
    root: Path  # the repository root

    @property
    def path(self) -> Path:
        return self.root / self.rel

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def head(self) -> str:
        """The file's text (its first MAX_SNIFF_BYTES, undecodable bytes replaced; "" if unreadable),
        read once however many providers look at it."""
        try:
            with self.path.open("rb") as fh:
                return fh.read(MAX_SNIFF_BYTES).decode("utf-8", errors="replace")
        except OSError:
            return ""


@dataclass(frozen=True)
class FileClaim:
    """A provider's answer about a staged file of a kind it knows (`Provider.accepts_file`).

    - `FileClaim(target)`: scan `target` (repository-relative: the file itself, or a folder
      it belongs to, such as a Helm chart) with the provider's repository path setting;
    - `FileClaim(None, reason)`: a kind this provider looks at, but this file is not for it
      (`"not infrastructure as code"`); the hook lists it as skipped with that reason;
    - `FileClaim(target, reason, opt_in=True)`: scanned only when the hook is given
      `--with-<provider>` (the scan needs more than the files: a vulnerability database,
      the network); otherwise skipped as `"<reason> (scanned with --with-<provider>)"`.
    """

    target: str | None
    reason: str = ""
    opt_in: bool = False


@dataclass(frozen=True)
class DemoContext:
    """What `Provider.demo_estate` gets from `auditor demo`."""

    workdir: Path  # this provider's own folder under the demo's estate (not created yet)
    now: datetime  # the demo's "today" (its scans are on days before it)
    step: Callable[[str], None] = field(default=lambda message: None)  # show a progress line
    note: Callable[[str], None] = field(default=lambda message: None)  # a line for the demo's summary


@dataclass(frozen=True)
class DemoEstate:
    """A provider's sample estate for `auditor demo` (see `Provider.demo_estate`)."""

    # This provider's settings for the demo scans (`auditor.providers.settings_for` checks them).
    settings: Mapping[str, Any]
    # Environment variables set around each demo scan (e.g. an endpoint and fake credentials).
    env: Mapping[str, str] = field(default_factory=dict)
    # OSV records the demo's offline vulnerability database must hold for this estate.
    osv_records: Sequence[Mapping[str, Any]] = ()
    # The fix the estate's owners make before the demo's last scan (so history shows it resolved).
    fix: Callable[[], None] | None = None


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

    # Optional hooks (class methods: no provider object is built for them) --------------

    @classmethod
    def accepts_file(cls, file: StagedFile) -> FileClaim | None:
        """The pre-commit hook's question: is this staged file something my repository path
        setting scans? None when it is not a kind of file this provider looks at (default).
        Asked only of providers that declare a `repository=True` paths setting; the hook
        passes `target` with that setting's flag. Decide by name, and by `file.head` only
        when the name cannot tell. Keep it cheap: it runs on every commit."""
        return None

    @classmethod
    def demo_estate(cls, demo: DemoContext) -> contextlib.AbstractContextManager[DemoEstate | None]:
        """`auditor demo`'s sample estate for this provider: a context (entered before the
        demo's scans, left after them) giving the settings to scan it with, or None when
        this provider has none (default) or cannot build one here (say why with `demo.note`).
        Build files under `demo.workdir`; start servers on loopback ports and stop them on exit."""
        return contextlib.nullcontext(None)

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
