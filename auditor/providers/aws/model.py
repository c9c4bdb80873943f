"""The snapshot the collectors fill and the checks read, and the shape of a check.

A check is an `AwsCheck`: its metadata (`CheckInfo`, data), the datasets it reads
(`needs`), its scope (once per account, or once per region), and a pure function from a
`CheckInput` (a read-only view of the snapshot plus the clock and the thresholds) to
`Outcome`s. The provider turns outcomes into findings; when a dataset a check needs
could not be collected, the provider emits ERROR for that check (and that region)
without calling it.

Parts of a dataset (the IAM credential report, the EC2 flow logs) and details of one
resource (a bucket's policy, a trail's status) can fail on their own: they hold a
`CollectError` in place of their data. A check reads parts through `CheckInput.part`,
which raises `DataUnavailable` for a part that could not be read; the provider turns
that into ERROR for the check (naming the part and the AWS error code), never into a
PASS or FAIL judged on missing data. Per-resource details are the check's business:
ERROR for that resource (see `errored`).
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


@dataclass(frozen=True)
class NotRead(CollectError):
    """A part no selected check declared it reads, so it was not collected (see `DATASET_PARTS`).

    It is a CollectError: a check that reads it anyway gets ERROR, never a PASS or FAIL judged on
    data that was never read. Coverage does not count it as a gap (nothing asked for it)."""

    code: str = "NotRead"
    message: str = "not read: no selected check needs it"


class DataUnavailable(Exception):
    """A check needs data that could not be read: the provider reports ERROR for the check."""

    def __init__(self, what: str, error: CollectError) -> None:
        super().__init__(f"{what}: {error.code}")
        self.what = what
        self.error = error


@dataclass
class AccountSnapshot:
    account: str
    regions: tuple[str, ...]
    home_region: str
    global_data: dict[str, Any] = field(default_factory=dict)  # dataset -> data | CollectError
    regional: dict[str, dict[str, Any]] = field(default_factory=dict)  # region -> dataset -> data | CollectError
    # Every region enabled for the account, when it was asked (None: the regions were given).
    regions_enabled: tuple[str, ...] | None = None

    def get(self, dataset: str, region: str | None = None) -> Any:
        if region is None:
            return self.global_data.get(dataset, CollectError("NotCollected"))
        return self.regional.get(region, {}).get(dataset, CollectError("NotCollected"))


class Scope(StrEnum):
    ACCOUNT = "account"
    REGION = "region"


# Where each dataset is read: once per account or once per region. The collectors
# (`collect.DATASETS`) are built from this table; checks read it to find their data
# without importing the collectors.
DATASET_SCOPES: dict[str, Scope] = {
    "iam": Scope.ACCOUNT,
    "s3": Scope.ACCOUNT,
    "s3_account": Scope.ACCOUNT,
    "ec2": Scope.REGION,
    "cloudtrail": Scope.REGION,
    "logs": Scope.REGION,
    "cloudwatch": Scope.REGION,
    "config": Scope.REGION,
    "guardduty": Scope.REGION,
    "securityhub": Scope.REGION,
    "rds": Scope.REGION,
    "dynamodb": Scope.REGION,
    "backup": Scope.REGION,
    "elbv2": Scope.REGION,
    "lambda": Scope.REGION,
    "kms": Scope.REGION,
    "secretsmanager": Scope.REGION,
    "acm": Scope.REGION,
    # data stores, messaging and secrets (issue 15)
    "efs": Scope.REGION,
    "elasticache": Scope.REGION,
    "redshift": Scope.REGION,
    "opensearch": Scope.REGION,
    "sns": Scope.REGION,
    "sqs": Scope.REGION,
    # --- network, compute and edge datasets (issue 15) ---
    "vpc": Scope.REGION,
    "ecr": Scope.REGION,
    "eks": Scope.REGION,
    "elb": Scope.REGION,
    "cloudfront": Scope.ACCOUNT,
    "apigateway": Scope.REGION,
    "lambda_access": Scope.REGION,
    "ssm": Scope.REGION,
    "route53": Scope.ACCOUNT,
    "wafv2": Scope.REGION,
    "ssm_patch": Scope.REGION,
    "ec2_config": Scope.REGION,
    # governance
    "iam_extra": Scope.ACCOUNT,
    "account_contacts": Scope.ACCOUNT,
    "organizations": Scope.ACCOUNT,
    "accessanalyzer": Scope.REGION,
    "cloudtrail_selectors": Scope.REGION,
    "config_delivery": Scope.REGION,
}


# Datasets whose collector reads only the parts the selected checks need. A part is one API read per
# resource (S3: one call per bucket and setting; `versioning` also yields `mfa_delete`). A check that
# needs such a dataset names the parts it reads in `AwsCheck.parts` ("s3.encryption"); a check that
# names none of them gets every part. Parts nobody asked for hold `NotRead`.
DATASET_PARTS: dict[str, frozenset[str]] = {
    "s3": frozenset(
        {
            "region",  # always read: every bucket finding carries its region
            "encryption",
            "public_access_block",
            "policy",
            "acl",
            "versioning",
            "mfa_delete",
            "logging",
            "tags",
            "ownership",
            "replication",
            "notifications",
            "lifecycle",
            "object_lock",
        }
    ),
}


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
        """A global dataset (IAM, S3) or, for regional checks, this region's dataset.

        Raises DataUnavailable when it could not be read."""
        if DATASET_SCOPES[dataset] is Scope.ACCOUNT:
            got = self.snapshot.get(dataset)
            where = dataset
        else:
            region = self.region or self.snapshot.home_region
            got = self.snapshot.get(dataset, region)
            where = f"{dataset}@{region}"
        if isinstance(got, CollectError):
            raise DataUnavailable(where, got)
        return got

    def part(self, dataset: str, key: str) -> Any:
        """One part of a dataset (`iam.credential_report`); DataUnavailable when it could not be read."""
        got = self.data(dataset)[key]
        if isinstance(got, CollectError):
            raise DataUnavailable(f"{dataset}.{key}", got)
        return got

    def by_region(self, dataset: str) -> Mapping[str, Any]:
        """Each scanned region's dataset as collected (a CollectError where it could not be read)."""
        return {r: self.snapshot.get(dataset, r) for r in self.snapshot.regions}

    @property
    def regions_scanned(self) -> list[str]:
        return list(self.snapshot.regions)

    def region_scope(self) -> dict[str, Any]:
        """Evidence of which regions a verdict rests on (never "every region" without naming them)."""
        out: dict[str, Any] = {"regions_scanned": self.regions_scanned}
        if self.snapshot.regions_enabled is not None:
            out["regions_enabled"] = list(self.snapshot.regions_enabled)
        return out

    def scanned_regions_text(self) -> str:
        """`2 regions scanned: eu-west-1, us-east-1` (`of 17 enabled` when known)."""
        scanned = self.regions_scanned
        text = f"{len(scanned)} region{'s' if len(scanned) != 1 else ''} scanned: {', '.join(scanned)}"
        enabled = self.snapshot.regions_enabled
        if enabled is not None and set(enabled) - set(scanned):
            text += f" (of {len(enabled)} enabled)"
        return text


CheckFn = Callable[[CheckInput], Iterable[Outcome]]


@dataclass(frozen=True)
class AwsCheck:
    info: CheckInfo
    needs: tuple[str, ...]
    scope: Scope
    evaluate: CheckFn
    # The parts of `DATASET_PARTS` datasets this check reads ("s3.policy"); none named: all of them.
    parts: tuple[str, ...] = ()


def parts_needed(checks: Iterable[AwsCheck]) -> dict[str, frozenset[str] | None]:
    """Per dataset the checks need: the parts to read (None: every part, or a dataset without parts)."""
    out: dict[str, frozenset[str] | None] = {}
    for check in checks:
        for name in check.needs:
            if name not in DATASET_PARTS:
                out[name] = None
                continue
            mine = frozenset(p.partition(".")[2] for p in check.parts if p.partition(".")[0] == name)
            if not mine:
                out[name] = None
            elif name not in out:
                out[name] = mine
            else:
                before = out[name]
                out[name] = None if before is None else before | mine
    return out


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
