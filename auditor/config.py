"""Flags + environment (+ audit.yaml, see issue 8) -> one frozen AuditConfig."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import UsageError
from auditor.models import Severity

# What a scan evaluates unless the user selects frameworks (--framework, audit.yaml `frameworks:`);
# the installed frameworks come from auditor.frameworks (entry points and --catalog-dir). Installing a
# framework plugin must not silently change what existing scans measure and gate on.
DEFAULT_FRAMEWORKS = ("soc2", "gdpr")
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "none")


@dataclass(frozen=True)
class Thresholds:
    access_key_max_age_days: int = 90
    access_key_unused_days: int = 45
    secret_max_age_days: int = 90
    certificate_warning_days: int = 30
    image_max_age_days: int = 90


SETTING_KINDS = ("flag", "text", "texts", "path", "paths")


@dataclass(frozen=True)
class Setting:
    """One input a provider declares: a `scan` flag and a key of its audit.yaml `targets.<name>`.

    The CLI and the configuration loader are built from these declarations, the same way for
    built-in and third-party providers. Kinds:
    - `flag`: true/false (`--aws`; `enabled: true`);
    - `text` / `texts`: one value / a repeatable flag and a list; `pattern` (a regular
      expression) checks each value, `what` names the expected form in errors;
    - `path` / `paths`: the same for paths; audit.yaml resolves them against its folder and
      checks they exist (`path_kind`: any, file or dir); the provider's `prepare` checks the CLI's.
    """

    key: str
    kind: str
    help: str = ""
    flag: str | None = None  # e.g. "--iac"; None: audit.yaml only
    aliases: tuple[str, ...] = ()  # more spellings of the flag
    metavar: str | None = None
    pattern: str | None = None
    what: str = ""
    path_kind: str = "any"
    # Giving this setting selects the provider (a target); False for modifiers (--aws-region).
    selects: bool = True
    # Whether the path(s) are folders or files of the repository under audit: they anchor the
    # default source root and may carry `.auditor-waivers.yaml`. False for e.g. an inventory file.
    repository: bool = False
    # The value when the provider's section is present in audit.yaml without this key.
    file_default: Any = None

    @property
    def empty(self) -> Any:
        return {"flag": False, "text": None, "texts": (), "path": None, "paths": ()}[self.kind]


class ProviderSettings(Mapping[str, Any]):
    """One provider's inputs (its declared `Setting`s by key), immutable and hashable.

    Keys the user did not give read as the setting's empty value. `schema` is the
    declaration the values were read with (empty for a provider that could not be loaded:
    the user named it, the engine reports it as ERROR)."""

    __slots__ = ("_values", "schema")

    def __init__(self, values: Mapping[str, Any] | None = None, schema: tuple[Setting, ...] = ()) -> None:
        self._values: dict[str, Any] = {k: _frozen(v) for k, v in (values or {}).items()}
        self.schema = schema

    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        for s in self.schema:
            if s.key == key:
                return s.empty
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def explicit(self, key: str) -> Any:
        """The value the user gave for `key`, or None when it was not given."""
        return self._values.get(key)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items(), key=lambda kv: kv[0])))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProviderSettings) and self._values == other._values

    def __repr__(self) -> str:
        return f"ProviderSettings({self._values!r})"

    def given(self) -> bool:
        """Whether any selecting setting has a value (the provider was asked to scan something)."""
        selecting = {s.key for s in self.schema if s.selects} if self.schema else set(self._values)
        return any(v not in (None, False, ()) for k, v in self._values.items() if k in selecting)

    def paths(self, key: str) -> tuple[Path, ...]:
        value = self[key]
        if value is None:
            return ()
        return tuple(value) if isinstance(value, tuple) else (value,)

    def repository_paths(self) -> tuple[Path, ...]:
        return tuple(p for s in self.schema if s.repository for p in self.paths(s.key))

    def other_paths(self) -> tuple[Path, ...]:
        return tuple(
            p for s in self.schema if s.kind in ("path", "paths") and not s.repository for p in self.paths(s.key)
        )

    def replace(self, **values: Any) -> ProviderSettings:
        return ProviderSettings({**self._values, **values}, self.schema)


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


class Targets(Mapping[str, ProviderSettings]):
    """audit.yaml `targets:` and the scan flags: provider name -> its settings (immutable)."""

    __slots__ = ("_by_name",)

    def __init__(self, by_name: Mapping[str, ProviderSettings] | None = None) -> None:
        self._by_name = dict(sorted((by_name or {}).items()))

    def __getitem__(self, name: str) -> ProviderSettings:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __hash__(self) -> int:
        return hash(tuple(self._by_name.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Targets) and self._by_name == other._by_name

    def __repr__(self) -> str:
        return f"Targets({self._by_name!r})"

    def of(self, name: str) -> ProviderSettings:
        """The settings of provider `name` (empty when it was not configured)."""
        return self._by_name.get(name, ProviderSettings())

    def with_(self, name: str, settings: ProviderSettings) -> Targets:
        return Targets({**self._by_name, name: settings})

    def repository_paths(self) -> tuple[Path, ...]:
        """Every path target that is part of the repository under audit (any provider)."""
        return tuple(p for s in self._by_name.values() for p in s.repository_paths())

    def other_paths(self) -> tuple[Path, ...]:
        return tuple(p for s in self._by_name.values() for p in s.other_paths())


# GDPR Chapter V transfer mechanisms (Art. 45-49) an organisation may declare per region.
TRANSFER_MECHANISMS = {
    "adequacy": "an adequacy decision (Art. 45)",
    "dpf": "the EU-US Data Privacy Framework (adequacy decision 2023/1795)",
    "scc": "standard contractual clauses (Art. 46(2)(c))",
    "bcr": "binding corporate rules (Art. 47)",
    "derogation": "a derogation for a specific situation (Art. 49)",
}


@dataclass(frozen=True)
class TransferMechanism:
    """A declared legal basis for holding personal data in a region outside the allowed ones."""

    region: str
    mechanism: str  # a key of TRANSFER_MECHANISMS
    reference: str  # the instrument relied on: contract, decision or register entry

    @property
    def label(self) -> str:
        return TRANSFER_MECHANISMS.get(self.mechanism, self.mechanism)


@dataclass(frozen=True)
class GdprSettings:
    """audit.yaml `gdpr:`. `transfers` lets Art. 44 pass a data store outside the allowed regions."""

    transfers: tuple[TransferMechanism, ...] = ()

    def transfer_for(self, region: str) -> TransferMechanism | None:
        return next((t for t in self.transfers if t.region == region), None)


WEBHOOK_FORMATS = ("json", "slack")


@dataclass(frozen=True)
class WebhookTarget:
    """POST a JSON summary here. The URL often is a secret itself (Slack): never shown."""

    url: str = field(repr=False)
    format: str = "json"  # json | slack
    timeout_seconds: float = 10.0
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class EmailTarget:
    """Send the summary over SMTP (STARTTLS + AUTH unless switched off)."""

    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    ca_file: Path | None = None  # trust this CA bundle (a private relay's certificate)
    tls_verify: bool = True
    subject_prefix: str = "[auditor]"


@dataclass(frozen=True)
class Notifications:
    """Who hears about new or regressed FAIL findings at or above `min_severity`."""

    min_severity: Severity = Severity.HIGH
    webhook: WebhookTarget | None = None
    email: EmailTarget | None = None

    @property
    def enabled(self) -> bool:
        return self.webhook is not None or self.email is not None


@dataclass(frozen=True)
class AuditConfig:
    organisation: str = "Example Organisation"
    frameworks: tuple[str, ...] = DEFAULT_FRAMEWORKS
    # --catalog-dir / audit.yaml `catalog_dir`: a folder of <framework id>.yaml catalogs added to the installed ones
    catalog_dir: Path | None = None
    db_path: Path = Path("auditor.db")
    # What to scan: provider name -> the settings it declared (`Provider.settings`), from the
    # scan flags and audit.yaml `targets.<name>`; build one in code with `auditor.providers.targets`.
    targets: Targets = field(default_factory=Targets)
    thresholds: Thresholds = field(default_factory=Thresholds)
    fail_on: Severity | None = None  # None: never gate on findings
    allow_errors: bool = False
    offline: bool = False
    waivers_file: Path | None = None
    # `.auditor-waivers.yaml` inside scanned targets applies only when allowed (a pull
    # request writes that file): --allow-repo-waivers / allow_repository_waivers: true.
    allow_repository_waivers: bool = False
    # An inline suppression (`checkov:skip`, `nosemgrep`) with no approver and expiry fails
    # every roll-up and report; the CI gate honours it unless this is set.
    strict_suppressions: bool = False
    baseline_file: Path | None = None
    # Finding paths are relative to this folder (SARIF %SRCROOT%, JUnit, OCSF, CSV, reports);
    # None: the git top level of the scanned path targets (auditor.scope.default_source_root).
    source_root: Path | None = None
    max_workers: int = 4
    # Files larger than this in an --iac/--code target are not given to the tools: their
    # target's scan is incomplete (ERROR naming them). auditor.scope.DEFAULT_MAX_FILE_BYTES.
    max_file_bytes: int = 10 * 1024 * 1024
    notifications: Notifications = field(default_factory=Notifications)
    retention_days: int | None = None  # retention.keep_days: `auditor prune` default
    config_file: Path | None = None  # the audit.yaml this came from, if any
    gdpr: GdprSettings = field(default_factory=GdprSettings)
    # --shard I/N: this process scans only the AWS accounts in shard I of N (1-based);
    # every other target is scanned by shard 1 alone, so merged shards cover everything once.
    shard: tuple[int, int] | None = None


def resolve_db_path(flag: str | None) -> Path:
    """`--db`, else `$AUDITOR_DB`, else `./auditor.db`."""
    if flag:
        return Path(flag)
    env = os.environ.get("AUDITOR_DB")
    if env:
        return Path(env)
    return Path("auditor.db")


def parse_fail_on(value: str) -> Severity | None:
    return None if value == "none" else Severity(value)


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` with 1 <= I <= N (one-based, like a CI matrix; a Kubernetes index + 1)."""
    try:
        i_text, n_text = text.split("/", 1)
        index, count = int(i_text), int(n_text)
    except ValueError:
        raise UsageError(f"--shard {text!r}: expected I/N, for example 2/8") from None
    if count < 1 or not 1 <= index <= count:
        raise UsageError(f"--shard {text!r}: I must be between 1 and N")
    return index, count


def in_shard(key: str, shard: tuple[int, int] | None) -> bool:
    """Whether `key` (an AWS account id) belongs to this shard: the same answer on every machine."""
    if shard is None:
        return True
    index, count = shard
    bucket = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % count
    return bucket == index - 1
