"""Targets and coverage of an AWS scan: what each account and region scan read, and what it could not.

Targets: `aws:<account>` for account-level data (IAM, S3, S3 account settings, and the
checks that look at the whole account, such as the multi-region trail and the alarm
chains) and `aws:<account>/<region>` for each scanned region. A bucket's findings belong
to the account target even though the bucket has a region: buckets are listed and read
account-wide, so that is where a later scan looks at them again.

Coverage: one record per account and one per account and region. `examined` counts the
resources read per dataset part (`iam.users`, `ec2.security_groups`); `skipped` names
every dataset, part and per-resource detail that could not be read, with its AWS error
code; `details` says which regions were scanned (and, when the account was asked, which
are enabled) and how each dataset fared.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditor.models import Coverage, SkippedItem
from auditor.providers.aws.collect import DATASETS
from auditor.providers.aws.model import AccountSnapshot, CollectError, NotRead, Scope

PROVIDER = "aws"
MAX_SKIPPED = 200
NAME_KEYS = (
    "name",
    "Name",
    "DBInstanceIdentifier",
    "LoadBalancerName",
    "SnapshotId",
    "DomainName",
    "CertificateArn",
    "id",
    "arn",
    "TrailARN",
    # data stores, messaging and secrets (issue 15)
    "BackupVaultName",
    "FileSystemId",
    "DBSnapshotIdentifier",
    "ReplicationGroupId",
    "ClusterIdentifier",
    # network, compute and edge services (issue 15)
    "repositoryName",
    "Id",
)


def account_target(account: str) -> str:
    return f"aws:{account}"


def region_target(account: str, region: str) -> str:
    return f"aws:{account}/{region}"


def resource_name(item: dict[str, Any]) -> str:
    for key in NAME_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
    return "?"


def reason(error: CollectError) -> str:
    return f"{error.code}: {error.message}" if error.message else error.code


def dataset_gaps(name: str, data: Any) -> tuple[dict[str, int], list[SkippedItem], str]:
    """(resources read per part, what could not be read, "read" | "partial" | error code)."""
    if isinstance(data, CollectError):
        return {}, [SkippedItem(name, reason(data))], data.code
    examined: dict[str, int] = {}
    skipped: list[SkippedItem] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, NotRead):
                continue  # no selected check reads it: not a gap
            if isinstance(value, CollectError):
                skipped.append(SkippedItem(f"{name}.{key}", reason(value)))
            elif isinstance(value, list):
                examined[f"{name}.{key}"] = len(value)
                for item in value:
                    if not isinstance(item, dict):
                        continue
                    for field, detail in item.items():
                        if isinstance(detail, CollectError) and not isinstance(detail, NotRead):
                            skipped.append(SkippedItem(f"{name}.{key} {resource_name(item)}: {field}", reason(detail)))
    return examined, skipped, "partial" if skipped else "read"


def _coverage(target: str, datasets: Iterable[tuple[str, Any]], details: dict[str, Any]) -> Coverage:
    examined: dict[str, int] = {}
    skipped: list[SkippedItem] = []
    states: dict[str, str] = {}
    for name, data in datasets:
        counts, gaps, state = dataset_gaps(name, data)
        examined.update(counts)
        skipped.extend(gaps)
        states[name] = state
    if len(skipped) > MAX_SKIPPED:
        rest = len(skipped) - MAX_SKIPPED
        skipped = [*skipped[:MAX_SKIPPED], SkippedItem(f"{rest} more", "not listed")]
    return Coverage(
        provider=PROVIDER,
        target=target,
        examined=examined,
        skipped=tuple(skipped),
        complete=not skipped,
        details={**details, "datasets": states},
    )


def snapshot_coverage(snap: AccountSnapshot, datasets: Iterable[str]) -> list[Coverage]:
    """One Coverage for the account (account-level datasets) and one per scanned region."""
    wanted = sorted(set(datasets))
    scope: dict[str, Any] = {"regions_scanned": list(snap.regions)}
    if snap.regions_enabled is not None:
        scope["regions_enabled"] = list(snap.regions_enabled)
        scope["regions_not_scanned"] = sorted(set(snap.regions_enabled) - set(snap.regions))
    out = [
        _coverage(
            account_target(snap.account),
            [(n, snap.get(n)) for n in wanted if DATASETS[n].scope is Scope.ACCOUNT],
            {"account": snap.account, "home_region": snap.home_region, **scope},
        )
    ]
    for region in snap.regions:
        out.append(
            _coverage(
                region_target(snap.account, region),
                [(n, snap.get(n, region)) for n in wanted if DATASETS[n].scope is Scope.REGION],
                {"account": snap.account, "region": region, **scope},
            )
        )
    return out


def unreachable_coverage(target: str, what: str, code: str, message: str) -> Coverage:
    """An account (or its region list) that could not be read at all."""
    return Coverage(
        provider=PROVIDER,
        target=target,
        skipped=(SkippedItem(what, f"{code}: {message}" if message else code),),
        complete=False,
        details={"error_code": code},
    )
