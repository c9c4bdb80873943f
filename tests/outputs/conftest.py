"""A mixed scan result for the output formats: real Finding objects plus a real secrets scan.

The IaC, code and AWS findings are built with the real model (the providers that make
them are tested on their own); the secrets findings come from a real scan of the
golden inventory (tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from auditor.catalog import ControlMapper
from auditor.config import AuditConfig
from auditor.engine import ScanResult, finalise_findings, summarise
from auditor.frameworks import frameworks_for
from auditor.models import Finding, Resource, Severity, Status
from auditor.providers import targets
from auditor.runs import run_scan
from auditor.scope import PathRebaser
from auditor.store import Store

ACCOUNT = "123456789012"
BUCKET_ARN = "arn:aws:s3:::customer-exports"
LOGS_ARN = "arn:aws:s3:::access-logs"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WAIVER = {
    "id": "logs-bucket",
    "source": "database",
    "check": "aws.s3.*",
    "resource": "arn:aws:s3:::access-logs",
    "reason": "access logs bucket cannot log into itself",
    "approver": "alice@example.com",
    "created": "2026-10-01",
    "expires": "2027-03-31",
}


def synthetic_findings(root: Path) -> list[Finding]:
    """File findings (IaC, code) with paths under `root`, cloud findings with ARNs."""
    return [
        Finding(
            check_id="iac.CKV_AWS_18",
            status=Status.FAIL,
            severity=Severity.HIGH,
            resource=Resource(
                id="aws_s3_bucket.exports",
                type="aws_s3_bucket",
                path=str(root / "infra" / "main.tf"),
                line=12,
                end_line=20,
            ),
            message="S3 bucket has no access logging",
            title="Ensure the S3 bucket has access logging enabled",
            provider="iac",
            remediation="Add a logging block.",
        ),
        Finding(
            check_id="code.python.sql-injection",
            status=Status.FAIL,
            severity=Severity.CRITICAL,
            resource=Resource(id="app/db views.py", type="file", path=str(root / "app" / "db views.py"), line=40),
            message="SQL built from request data",
            title="SQL injection",
            provider="code",
            discriminator="query-1",
        ),
        Finding(
            check_id="code.python.weak-hash",
            status=Status.PASS,
            severity=Severity.MEDIUM,
            resource=Resource(id="app/crypto.py", type="file", path=str(root / "app" / "crypto.py")),
            message="no weak hash",
            provider="code",
        ),
        Finding(
            check_id="aws.s3.bucket_encryption",
            status=Status.FAIL,
            severity=Severity.MEDIUM,
            resource=Resource(id=BUCKET_ARN, type="AWS::S3::Bucket", account=ACCOUNT, region="eu-west-1"),
            message="bucket customer-exports has no default encryption",
            title="S3 buckets are encrypted at rest",
            provider="aws",
        ),
        Finding(
            check_id="aws.s3.bucket_logging",
            status=Status.WAIVED,
            severity=Severity.LOW,
            resource=Resource(id=LOGS_ARN, type="AWS::S3::Bucket", account=ACCOUNT, region="eu-west-1"),
            message="bucket access-logs has no access logging",
            title="S3 buckets log access",
            provider="aws",
            waiver=WAIVER,
            evidence={"waiver": WAIVER},
        ),
        Finding(
            check_id="aws.kms.key_rotation",
            status=Status.ERROR,
            severity=Severity.MEDIUM,
            resource=Resource(id=KEY_ARN, type="AWS::KMS::Key", account=ACCOUNT, region="eu-west-1"),
            message="could not be evaluated: AccessDenied",
            provider="aws",
        ),
        Finding(
            check_id="aws.rds.public_access",
            status=Status.SKIPPED,
            severity=Severity.HIGH,
            resource=Resource(id=f"aws:{ACCOUNT}:eu-west-1:rds", type="AWS::RDS::DBInstance", account=ACCOUNT),
            message="no RDS instances",
            provider="aws",
        ),
        Finding(
            check_id="aws.iam.root_mfa",
            status=Status.FAIL,
            severity=Severity.INFO,
            resource=Resource(id=f"arn:aws:iam::{ACCOUNT}:root", type="AWS::IAM::User", account=ACCOUNT),
            message="informational",
            provider="aws",
        ),
    ]


@pytest.fixture
def secrets_result(golden_inventory: Path, now: datetime, tmp_path: Path) -> ScanResult:
    store = Store.memory()
    try:
        config = AuditConfig(targets=targets(secrets=golden_inventory), db_path=Path(":memory:"), source_root=tmp_path)
        return run_scan(config, store, now=now)
    finally:
        store.close()


@pytest.fixture
def mixed_result(secrets_result: ScanResult, tmp_path: Path) -> ScanResult:
    # As the engine does: paths onto the source root (tmp_path, as the secrets scan above used).
    mapper = ControlMapper(frameworks_for(["soc2", "gdpr"]))
    extra = finalise_findings(synthetic_findings(tmp_path), mapper, PathRebaser(tmp_path))
    findings = [*secrets_result.findings, *extra]
    return replace(secrets_result, findings=findings, summary=summarise(findings))
