"""Flags + environment (+ audit.yaml, see issue 8) -> one frozen AuditConfig."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class AwsTargets:
    enabled: bool = False
    profile: str | None = None
    regions: tuple[str, ...] = ()
    role_arns: tuple[str, ...] = ()
    organization_role: str | None = None
    allowed_regions: tuple[str, ...] = ()


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
    aws: AwsTargets = field(default_factory=AwsTargets)
    iac_paths: tuple[Path, ...] = ()
    code_paths: tuple[Path, ...] = ()
    deps_paths: tuple[Path, ...] = ()
    images: tuple[str, ...] = ()
    secrets_inventory: Path | None = None
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
