"""One seeded database and one dashboard server per test module (threads, a free port)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_live import LiveServer
from serve_seed import build_database

from auditor.serve.app import Dashboard


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "seeded.db"
    build_database(path)
    return path


@pytest.fixture(scope="module")
def live_server(seeded_db: Path) -> Iterator[LiveServer]:
    server = LiveServer(Dashboard(seeded_db))
    yield server
    server.close()
