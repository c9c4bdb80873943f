"""Every AWS check, in one explicit list (no registration at import time)."""

from __future__ import annotations

from auditor.providers.aws.checks import (
    compute,
    data,
    databases,
    ec2,
    edge,
    governance,
    iam,
    keys,
    messaging,
    monitoring,
    network,
    s3,
    storage,
)
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
    # network, compute and edge services (issue 15)
    *network.CHECKS,
    *compute.CHECKS,
    *edge.CHECKS,
    # governance group (issue 15: CIS IAM, logging, Organizations, Access Analyzer, Config)
    *governance.CHECKS,
]
