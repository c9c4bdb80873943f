"""Every AWS check, in one explicit list (no registration at import time)."""

from __future__ import annotations

from auditor.providers.aws.checks import compute, data, ec2, edge, iam, keys, monitoring, network, s3
from auditor.providers.aws.model import AwsCheck

ALL_CHECKS: list[AwsCheck] = [
    *iam.CHECKS,
    *s3.CHECKS,
    *monitoring.CHECKS,
    *ec2.CHECKS,
    *data.CHECKS,
    *keys.CHECKS,
    # network, compute and edge services (issue 15)
    *network.CHECKS,
    *compute.CHECKS,
    *edge.CHECKS,
]
