"""Accounts and regions: assumed roles, AWS Organizations, enabled regions, input validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import Status
from auditor.providers import targets
from auditor.providers.aws import AwsProvider
from auditor.providers.aws.checks import iam
from auditor.providers.aws.session import ClientFactory, enabled_regions, resolve_targets
from auditor.providers.base import ScanContext

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MOTO_ENV_OVERRIDES = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}  # not needed here; slow per account
ONLY_ROOT_MFA = [c for c in iam.CHECKS if c.info.id == "aws.iam.root_mfa_enabled"]


@pytest.fixture(scope="module")
def organization(mocked: Any) -> list[str]:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    members = []
    for name in ("prod", "staging"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        members.append(status["AccountId"])
    return members


def run(config: AuditConfig) -> list[Any]:
    provider = AwsProvider(checks=ONLY_ROOT_MFA)
    return list(provider.run(ScanContext(config=config, now=NOW)))


def test_role_arns_scan_each_account(organization: list[str]) -> None:
    arns = tuple(f"arn:aws:iam::{a}:role/auditor-read" for a in organization)
    findings = run(AuditConfig(targets=targets(aws={"enabled": True, "regions": ("eu-west-1",), "role_arns": arns})))
    assert {f.resource.account for f in findings} == set(organization)
    assert {f.resource.id for f in findings} == {f"arn:aws:iam::{a}:root" for a in organization}
    assert {f.status for f in findings} == {Status.FAIL}


def test_organization_mode_assumes_the_named_role_in_every_member(organization: list[str]) -> None:
    resolved = resolve_targets(None, ("eu-west-1",), (), "OrganizationAccountAccessRole")
    assert {t.label for t in resolved} == {*organization, "123456789012"}  # the management account too
    assert all(t.clients is not None and t.account_id == t.label for t in resolved)
    findings = run(
        AuditConfig(targets=targets(aws={"enabled": True, "regions": ("eu-west-1",), "organization_role": "Auditor"}))
    )
    assert {f.resource.account for f in findings} == {*organization, "123456789012"}


def test_enabled_regions_come_from_the_account(mocked: Any) -> None:
    regions = enabled_regions(ClientFactory(boto3.Session()), "us-east-1")
    assert {"eu-west-1", "us-east-1", "eu-central-1"} <= set(regions)
    assert list(regions) == sorted(regions)


@pytest.mark.parametrize(
    "aws, message",
    [
        ({"regions": ("eu-west-1", "mars-north-1x")}, "not an AWS region name"),
        ({"allowed_regions": ("EU",)}, "not an AWS region name"),
        ({"role_arns": ("arn:aws:iam::123:role/x",)}, "not an IAM role ARN"),
        ({"organization_role": "bad role name"}, "not an IAM role name"),
        ({"profile": "no-such-profile-for-auditor"}, "is not configured"),
    ],
)
def test_bad_input_is_rejected_before_scanning(aws_env: None, aws: dict[str, Any], message: str) -> None:
    ctx = ScanContext(config=AuditConfig(targets=targets(aws={"enabled": True, **aws})), now=NOW)
    with pytest.raises(InputError, match=message):
        AwsProvider().prepare(ctx)


def test_selected_and_targets() -> None:
    p = AwsProvider()
    assert not p.selected(AuditConfig())
    assert p.selected(AuditConfig(targets=targets(aws={"enabled": True})))
    assert p.targets(AuditConfig(targets=targets(aws={"enabled": True, "regions": ("eu-west-1",)}))) == [
        "aws:default@eu-west-1"
    ]


def test_shards_split_accounts_and_merge_back_to_the_unsharded_scan(organization: list[str], tmp_path: Any) -> None:
    from dataclasses import replace

    from auditor.config import in_shard
    from auditor.maintenance import merge
    from auditor.runs import run_scan
    from auditor.store import Store

    accounts = (*organization, "123456789012")
    base = AuditConfig(
        targets=targets(aws={"enabled": True, "regions": ("eu-west-1",), "organization_role": "Auditor"})
    )
    whole = {f.fingerprint: f.status for f in run(base)}
    per_shard = []
    paths = []
    for i in (1, 2):
        config = replace(base, shard=(i, 2))
        found = run(config)
        assert {f.resource.account for f in found} == {a for a in accounts if in_shard(a, (i, 2))}
        per_shard.append({f.fingerprint for f in found})
        store = Store.open(tmp_path / f"shard{i}.db")
        run_scan(config, store, providers=[AwsProvider(checks=ONLY_ROOT_MFA)], now=NOW)
        store.close()
        paths.append(tmp_path / f"shard{i}.db")
    assert per_shard[0].isdisjoint(per_shard[1]) and per_shard[0] | per_shard[1] == set(whole)
    central = Store.open(tmp_path / "central.db")
    merged = merge(central, paths, NOW)
    assert {f.fingerprint: f.status for f in central.findings_for_run(merged.run.id)} == whole
