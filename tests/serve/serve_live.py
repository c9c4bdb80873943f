"""The dashboard on a real socket: waitress in a daemon thread on a free port (xdist-safe)."""

from __future__ import annotations

import threading

from auditor.serve.app import Dashboard


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
