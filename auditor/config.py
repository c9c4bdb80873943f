"""Flags + environment (+ audit.yaml, see issue 8) -> one frozen AuditConfig."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from auditor.models import Severity

FRAMEWORKS = ("soc2", "gdpr")
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


@dataclass(frozen=True)
class AuditConfig:
    organisation: str = "Example Organisation"
    frameworks: tuple[str, ...] = FRAMEWORKS
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
    baseline_file: Path | None = None
    max_workers: int = 4


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
