"""One seeded database and one dashboard server per test module (threads, a free port)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import build_database

from auditor.serve.app import Dashboard


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "seeded.db"
    build_database(path)
    return path


class LiveServer:
    def __init__(self, app: Dashboard, host: str = "127.0.0.1") -> None:
        from waitress import create_server

        self.server = create_server(app, host=host, port=0, threads=2)
        self.port = int(self.server.effective_port)  # type: ignore[union-attr]
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        # Workers first (no request left half-served), then the listening socket and the loop.
        self.server.task_dispatcher.shutdown()  # type: ignore[union-attr]
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def live_server(seeded_db: Path) -> Iterator[LiveServer]:
    server = LiveServer(Dashboard(seeded_db))
    yield server
    server.close()
