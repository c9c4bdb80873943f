"""The snapshot the collectors fill and the checks read, and the shape of a check.

A check is an `AwsCheck`: its metadata (`CheckInfo`, data), the datasets it reads
(`needs`), its scope (once per account, or once per region), and a pure function from a
`CheckInput` (a read-only view of the snapshot plus the clock and the thresholds) to
`Outcome`s. The provider turns outcomes into findings; when a dataset a check needs
could not be collected, the provider emits ERROR for that check (and that region)
without calling it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from auditor.config import Thresholds, TransferMechanism
from auditor.models import CheckInfo, Severity, Status


@dataclass(frozen=True)
class CollectError:
    """Why a dataset (or one resource's detail) could not be read: the AWS error code."""

    code: str
    message: str = ""


@dataclass
class AccountSnapshot:
    account: str
    regions: tuple[str, ...]
    home_region: str
    global_data: dict[str, Any] = field(default_factory=dict)  # dataset -> data | CollectError
    regional: dict[str, dict[str, Any]] = field(default_factory=dict)  # region -> dataset -> data | CollectError

    def get(self, dataset: str, region: str | None = None) -> Any:
        if region is None:
            return self.global_data.get(dataset, CollectError("NotCollected"))
        return self.regional.get(region, {}).get(dataset, CollectError("NotCollected"))


class Scope(StrEnum):
    ACCOUNT = "account"
    REGION = "region"


@dataclass(frozen=True)
class Outcome:
    status: Status
    resource_id: str
    resource_type: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    region: str | None = None
    severity: Severity | None = None
    discriminator: str = ""


@dataclass(frozen=True)
class CheckInput:
    snapshot: AccountSnapshot
    region: str | None
    now: datetime
    thresholds: Thresholds
    allowed_regions: tuple[str, ...] = ()
    transfers: tuple[TransferMechanism, ...] = ()  # GDPR Art. 44: declared transfer mechanisms per region

    @property
    def account(self) -> str:
        return self.snapshot.account

    def data(self, dataset: str) -> Any:
        """A global dataset (IAM, S3) or, for regional checks, this region's dataset."""
        from auditor.providers.aws.collect import DATASETS

        if DATASETS[dataset].scope is Scope.ACCOUNT:
            return self.snapshot.get(dataset)
        return self.snapshot.get(dataset, self.region or self.snapshot.home_region)

    def by_region(self, dataset: str) -> Mapping[str, Any]:
        return {r: self.snapshot.get(dataset, r) for r in self.snapshot.regions}


CheckFn = Callable[[CheckInput], Iterable[Outcome]]


@dataclass(frozen=True)
class AwsCheck:
    info: CheckInfo
    needs: tuple[str, ...]
    scope: Scope
    evaluate: CheckFn


def info(
    check_id: str,
    title: str,
    severity: Severity,
    resource_type: str,
    risk: str,
    remediation: str,
    description: str = "",
) -> CheckInfo:
    return CheckInfo(
        id=check_id,
        title=title,
        severity=severity,
        provider="aws",
        description=description or title,
        risk=risk,
        remediation=remediation,
        resource_type=resource_type,
    )


def passed(
    rid: str, rtype: str, message: str, evidence: dict[str, Any], region: str | None = None, **kw: Any
) -> Outcome:
    return Outcome(Status.PASS, rid, rtype, message, evidence, region, **kw)


def failed(
    rid: str, rtype: str, message: str, evidence: dict[str, Any], region: str | None = None, **kw: Any
) -> Outcome:
    return Outcome(Status.FAIL, rid, rtype, message, evidence, region, **kw)


def errored(
    rid: str, rtype: str, message: str, evidence: dict[str, Any], region: str | None = None, **kw: Any
) -> Outcome:
    return Outcome(Status.ERROR, rid, rtype, message, evidence, region, **kw)


def skipped(
    rid: str, rtype: str, message: str, evidence: dict[str, Any], region: str | None = None, **kw: Any
) -> Outcome:
    return Outcome(Status.SKIPPED, rid, rtype, message, evidence, region, **kw)


def verdict(
    ok: bool, rid: str, rtype: str, message: str, evidence: dict[str, Any], region: str | None = None, **kw: Any
) -> Outcome:
    return Outcome(Status.PASS if ok else Status.FAIL, rid, rtype, message, evidence, region, **kw)
