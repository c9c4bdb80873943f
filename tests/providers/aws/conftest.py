"""Fixtures for the AWS provider tests: fake credentials, moto settings, one seeded estate."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.providers.aws.demo_estate import FAKE_CREDENTIALS, SERVER_ENV

MOTO_ENV = {**FAKE_CREDENTIALS, **SERVER_ENV, "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def aws_env(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fake credentials and moto settings for the module; AWS_* variables of the host removed.

    A test module may set `MOTO_ENV_OVERRIDES` (for example to skip loading AWS managed
    policies, which costs seconds per account in moto).
    """
    saved = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "MOTO_"))}
    for k in saved:
        del os.environ[k]
    os.environ.update(MOTO_ENV)
    os.environ.update(getattr(request.module, "MOTO_ENV_OVERRIDES", {}))
    try:
        yield
    finally:
        for k in list(os.environ):
            if k.startswith(("AWS_", "MOTO_")):
                del os.environ[k]
        os.environ.update(saved)


@pytest.fixture(scope="module")
def mocked(aws_env: None) -> Iterator[Any]:
    from moto import mock_aws

    with mock_aws() as m:
        yield m


@pytest.fixture(scope="module")
def seeded_at() -> datetime:
    return datetime.now(UTC)
