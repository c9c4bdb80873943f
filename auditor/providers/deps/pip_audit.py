"""pip-audit as a process: collection of pinned requirements, and the online OSV path.

What pip-audit 2.10 can do offline (measured): with `--no-deps --disable-pip` it reads
pinned requirements without pip and without an index, but it always queries a
vulnerability service for every package (`--dry-run` prints only a count), and with the
service out of reach it either crashes (OSV: exit 1, traceback, no JSON) or skips every
package and says "No known vulnerabilities found" (PyPI service). Unpinned requirements
need pip, i.e. an index.

So auditor runs it in one of two ways:
- local matching: pip-audit talks to a loopback endpoint of ours that answers every
  `POST /v1/query` with "no vulnerabilities" (`ResolutionEndpoint`); its JSON manifest
  gives the collected packages and versions, and auditor matches them against the local
  vulnerability database itself;
- online: `-s osv --osv-url URL` against an OSV-compatible service; its JSON carries
  the advisories.

Every package pip-audit reports as skipped, every package it does not report at all,
and any run that yields no JSON manifest becomes ERROR, never PASS.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from auditor.tools import ToolError, run_tool

DEFAULT_OSV_URL = "https://api.osv.dev/v1/query"
SERVICE_TIMEOUT_S = 15
RUN_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class AuditedVuln:
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class AuditedPackage:
    name: str  # canonical (pip-audit prints canonical names)
    version: str | None
    skip_reason: str | None = None
    vulns: tuple[AuditedVuln, ...] = ()


@dataclass
class PipAuditReport:
    packages: dict[str, AuditedPackage] = field(default_factory=dict)


class _NoVulnsHandler(BaseHTTPRequestHandler):
    server_version = "auditor-resolution/1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        if self.path.rstrip("/").endswith("/v1/querybatch"):
            body = b'{"results": []}'
        elif self.path.rstrip("/").endswith("/v1/query"):
            body = b"{}"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def resolution_endpoint() -> Iterator[str]:
    """A loopback OSV endpoint with no advisories: pip-audit collects, auditor matches."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoVulnsHandler)
    thread = threading.Thread(target=server.serve_forever, name="deps-resolution-endpoint", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


def run_pip_audit(
    lines: list[str],
    osv_url: str,
    *,
    resolve_with_pip: bool = False,
    cancel: threading.Event | None = None,
    timeout: float = RUN_TIMEOUT_S,
) -> PipAuditReport:
    """Audit requirement lines; raise ToolError when pip-audit produced no usable manifest."""
    with tempfile.TemporaryDirectory(prefix="auditor-deps-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        args = ["-r", str(req), "--format", "json", "--progress-spinner", "off", "--desc", "on", "--aliases", "on",
                "-s", "osv", "--osv-url", osv_url, "--timeout", str(SERVICE_TIMEOUT_S),
                "--cache-dir", str(Path(tmp) / "cache")]
        if not resolve_with_pip:
            args += ["--no-deps", "--disable-pip"]
        # Exit 1 is both "vulnerabilities found" and "crashed": the manifest tells them apart.
        result = run_tool("pip-audit", args, timeout=timeout, ok_codes=(0, 1), cancel=cancel, env=_env())
    try:
        return parse_report(result.stdout)
    except ValueError:
        tail = [ln for ln in result.stderr.strip().splitlines() if ln.strip()][-1:]
        raise ToolError(
            f"pip-audit exited with {result.returncode} without a result"
            + (f": {tail[0].strip()[:300]}" if tail else "")
        ) from None


def _env() -> dict[str, str]:
    """Never send loopback traffic (our endpoint, a local mirror) through a configured proxy."""
    env = {"PIP_NO_INPUT": "1", "PIP_RETRIES": "1"}
    for var in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(var, "")
        env[var] = ",".join(x for x in (current, "127.0.0.1", "localhost") if x)
    return env


def parse_report(stdout: str) -> PipAuditReport:
    """pip-audit's `--format json` manifest; ValueError when it is not one."""
    doc = json.loads(stdout) if stdout.strip() else None
    if not isinstance(doc, dict) or not isinstance(doc.get("dependencies"), list):
        raise ValueError("not a pip-audit JSON manifest")
    report = PipAuditReport()
    for dep in doc["dependencies"]:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            continue
        vulns = tuple(
            AuditedVuln(
                id=str(v.get("id")),
                aliases=tuple(str(a) for a in v.get("aliases") or ()),
                fix_versions=tuple(str(f) for f in v.get("fix_versions") or ()),
                description=" ".join(str(v.get("description") or "").split())[:500],
            )
            for v in dep.get("vulns") or ()
            if isinstance(v, dict) and v.get("id")
        )
        report.packages[dep["name"]] = AuditedPackage(
            name=dep["name"],
            version=dep.get("version") if isinstance(dep.get("version"), str) else None,
            skip_reason=dep.get("skip_reason") if isinstance(dep.get("skip_reason"), str) else None,
            vulns=vulns,
        )
    return report
