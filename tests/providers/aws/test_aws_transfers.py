"""GDPR Art. 44 in moto: a store outside the allowed regions fails unless a transfer mechanism is declared for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

ACCOUNT = "123456789012"
EU, US, AP = "eu-west-1", "us-east-1", "ap-southeast-2"
EU_BUCKET, US_BUCKET = "arn:aws:s3:::acme-eu-data", "arn:aws:s3:::acme-us-analytics"
AP_BUCKET = "arn:aws:s3:::acme-ap-backups"
US_TABLE = f"arn:aws:dynamodb:{US}:{ACCOUNT}:table/us-events"
RESIDENCY = ("aws.s3.bucket_region_allowed", "aws.dynamodb.table_region_allowed", "aws.rds.instance_region_allowed")


@pytest.fixture(scope="module")
def estate(mocked: Any) -> None:
    for region, name in ((EU, "acme-eu-data"), (US, "acme-us-analytics"), (AP, "acme-ap-backups")):
        s3 = boto3.client("s3", region_name=region)
        if region == US:
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    boto3.client("dynamodb", region_name=US).create_table(
        TableName="us-events",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def scan(cli: Any, tmp_path: Path, gdpr: str, *flags: str) -> dict[str, Any]:
    config = tmp_path / "audit.yaml"
    config.write_text(
        f"frameworks: [gdpr]\ntargets:\n  aws:\n    regions: [{EU}, {US}, {AP}]\n{gdpr}",
        encoding="utf-8",
    )
    res = cli("scan", "--config", str(config), "--format", "json", "--db", str(tmp_path / "a.db"), *flags)
    assert res.code in (0, 3), res.err  # moto lacks a few services: ERRORs elsewhere are not this test's concern
    doc = res.json()
    assert isinstance(doc, dict)
    return doc


def residency(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["resource"]["id"]: f for f in doc["findings"] if f["check_id"] in RESIDENCY}


def art44(doc: dict[str, Any]) -> str:
    return str(next(c["status"] for c in doc["controls"] if c["id"] == "Art.44"))


def test_without_a_declared_mechanism_every_store_outside_the_allowed_regions_fails(
    estate: None, cli: Any, tmp_path: Path
) -> None:
    doc = scan(cli, tmp_path, "", "--allowed-region", EU)
    found = residency(doc)
    assert {rid: f["status"] for rid, f in found.items()} == {
        EU_BUCKET: "PASS",
        US_BUCKET: "FAIL",
        AP_BUCKET: "FAIL",
        US_TABLE: "FAIL",
    }
    assert found[EU_BUCKET]["evidence"] == {"region": EU, "allowed_regions": [EU]}
    assert "no transfer" in found[EU_BUCKET]["message"]
    assert "expected one of eu-west-1, or a transfer mechanism declared for us-east-1" in found[US_BUCKET]["message"]
    assert art44(doc) == "FAIL"


def test_a_declared_mechanism_passes_its_region_only_and_is_the_evidence(
    estate: None, cli: Any, tmp_path: Path
) -> None:
    gdpr = (
        "gdpr:\n  transfers:\n"
        f"    - region: {US}\n      mechanism: dpf\n      reference: 'AWS DPF certification, DPA 2024-03'\n"
    )
    doc = scan(cli, tmp_path, gdpr, "--allowed-region", EU)
    found = residency(doc)
    assert {rid: f["status"] for rid, f in found.items()} == {
        EU_BUCKET: "PASS",
        US_BUCKET: "PASS",
        AP_BUCKET: "FAIL",
        US_TABLE: "PASS",
    }
    assert found[US_TABLE]["evidence"] == {
        "region": US,
        "allowed_regions": [EU],
        "declared_transfer_regions": [US],
        "transfer": {"mechanism": "dpf", "reference": "AWS DPF certification, DPA 2024-03"},
    }
    assert "EU-US Data Privacy Framework" in found[US_BUCKET]["message"]
    assert art44(doc) == "FAIL"  # the Sydney bucket has no basis

    gdpr += f"    - region: {AP}\n      mechanism: scc\n      reference: 'SCC module 2 with Acme AU Pty, 2025-01'\n"
    doc = scan(cli, tmp_path, gdpr, "--allowed-region", EU)
    assert {f["status"] for f in residency(doc).values()} == {"PASS"}
    assert art44(doc) == "PASS"


def test_nothing_configured_is_not_judged(estate: None, cli: Any, tmp_path: Path) -> None:
    doc = scan(cli, tmp_path, "")
    assert {f["status"] for f in residency(doc).values()} == {"SKIPPED"}
    assert art44(doc) == "NOT_TESTED"
