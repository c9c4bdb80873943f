"""Every AWS check, in one explicit list (no registration at import time)."""

from __future__ import annotations

from auditor.providers.aws.checks import data, ec2, governance, iam, keys, monitoring, s3
from auditor.providers.aws.model import AwsCheck

ALL_CHECKS: list[AwsCheck] = [
    *iam.CHECKS,
    *s3.CHECKS,
    *monitoring.CHECKS,
    *ec2.CHECKS,
    *data.CHECKS,
    *keys.CHECKS,
    # governance group (issue 15: CIS IAM, logging, Organizations, Access Analyzer, Config)
    *governance.CHECKS,
]
