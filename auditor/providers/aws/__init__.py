"""The AWS provider: collect each service's data once per account and region, check many."""

from __future__ import annotations

from auditor.providers.aws.provider import AwsProvider

__all__ = ["AwsProvider"]
