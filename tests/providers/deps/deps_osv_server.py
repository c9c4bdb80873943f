"""An OSV-compatible HTTP service on 127.0.0.1 for the online path's tests.

Implements what pip-audit and auditor use: `POST /v1/query` (one package and version),
`POST /v1/querybatch` (ids only, as the real service answers) and `GET /v1/vulns/<id>`.
Matching is done with auditor's own VulnDB over the same records it serves.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from auditor.vulndb import VulnDB, import_path


class FakeOsv:
    def __init__(self, records_dir: Path, db_path: Path) -> None:
        self.records = {json.loads(p.read_text())["id"]: json.loads(p.read_text()) for p in records_dir.glob("*.json")}
        self.db = VulnDB.open(db_path, create=True)
        import_path(self.db, records_dir, datetime(2026, 1, 1, tzinfo=UTC))
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def query(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        pkg = body.get("package") or {}
        with self.lock:
            found = self.db.match(pkg.get("ecosystem", ""), pkg.get("name", ""), body.get("version", ""))
        return [self.records[a.id] for a in found]


def _handler(osv: FakeOsv) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, doc: Any) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            osv.requests.append(("POST", self.path))
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path == "/v1/query":
                vulns = osv.query(body)
                self._send(200, {"vulns": vulns} if vulns else {})
            elif self.path == "/v1/querybatch":
                results = [{"vulns": [{"id": v["id"], "modified": v["modified"]} for v in osv.query(q)]}
                           for q in body.get("queries", [])]
                self._send(200, {"results": results})
            else:
                self._send(404, {"message": "not found"})

        def do_GET(self) -> None:
            osv.requests.append(("GET", self.path))
            vid = self.path.removeprefix("/v1/vulns/")
            if self.path.startswith("/v1/vulns/") and vid in osv.records:
                self._send(200, osv.records[vid])
            else:
                self._send(404, {"message": "Bug not found."})

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def serve_osv(records_dir: Path, db_path: Path) -> Iterator[tuple[str, FakeOsv]]:
    """Yields (query URL, service)."""
    osv = FakeOsv(records_dir, db_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(osv))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query", osv
    finally:
        server.shutdown()
        server.server_close()
        osv.db.close()
