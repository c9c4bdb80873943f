"""Keep the version orderings that image tests register from leaking into other tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auditor.vulndb import versions as versions_mod


@pytest.fixture(autouse=True)
def _restore_version_schemes() -> Iterator[None]:
    saved = dict(versions_mod._SCHEMES)
    yield
    versions_mod._SCHEMES.clear()
    versions_mod._SCHEMES.update(saved)
