"""Every AWS check, in one explicit list (no registration at import time)."""

from __future__ import annotations

from auditor.providers.aws.checks import data, databases, ec2, iam, keys, messaging, monitoring, s3, storage
from auditor.providers.aws.model import AwsCheck

ALL_CHECKS: list[AwsCheck] = [
    *iam.CHECKS,
    *s3.CHECKS,
    *monitoring.CHECKS,
    *ec2.CHECKS,
    *data.CHECKS,
    *keys.CHECKS,
    # data stores, messaging and secrets (issue 15)
    *storage.CHECKS,
    *databases.CHECKS,
    *messaging.CHECKS,
]
