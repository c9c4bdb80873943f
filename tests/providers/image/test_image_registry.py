"""Registry pulls: a real distribution registry on 127.0.0.1 (anonymous and basic auth), bearer tokens."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from imagetest_fixtures import by_check, outcome, scan
from imagetest_registry import HTPASSWD_BIN, REGISTRY_BIN, RegistryServer

from auditor.errors import InputError
from auditor.providers.image import scan_single_image
from auditor.providers.image.build import OCI_MANIFEST, oci_blobs, sha256
from auditor.providers.image.registry import parse_reference
from auditor.providers.image.sample import sample_spec

needs_registry = pytest.mark.skipif(
    not Path(REGISTRY_BIN).exists(),
    reason="Debian's docker-registry is not installed (apt-get install docker-registry)",
)
IMAGE_ID = "sha256:aa370ab8d7ffe01b61dc2ef914c69364143dd5961a49d17bef2eff3766527790"


@pytest.fixture(autouse=True)
def no_vulndb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "none.sqlite"))
    monkeypatch.delenv("AUDITOR_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("AUDITOR_REGISTRY_PASSWORD", raising=False)


def test_reference_parsing() -> None:
    r = parse_reference("registry://reg.example.com:5000/team/app:1.2")
    assert (r.scheme, r.host, r.port, r.repository, r.tag, r.digest) == (
        "https",
        "reg.example.com",
        5000,
        "team/app",
        "1.2",
        None,
    )
    d = "sha256:" + "a" * 64
    r = parse_reference(f"registry+http://127.0.0.1/app@{d}")
    assert (r.scheme, r.reference) == ("http", d)
    assert parse_reference("registry://h/app").reference == "latest"
    for bad in ("registry://h", "registry://h/App:1", "registry://h/app:bad tag", "http://h/app"):
        with pytest.raises(InputError):
            parse_reference(bad)


@needs_registry
def test_anonymous_pull_by_tag_and_digest(tmp_path: Path, now: datetime) -> None:
    server = RegistryServer(tmp_path / "reg").start()
    try:
        digest = server.push_image("team/app", "latest", sample_spec(compress=True))
        by_tag = scan([f"registry+http://{server.address}/team/app:latest"], now)
        by_digest = scan([f"registry+http://{server.address}/team/app@{digest}"], now)
    finally:
        server.stop()
    assert {f.resource.id for f in by_tag + by_digest} == {IMAGE_ID}
    assert [str(f.status) for f in by_check(by_tag, "image.reference.mutable_tag")] == ["FAIL"]
    assert [str(f.status) for f in by_check(by_digest, "image.reference.mutable_tag")] == ["PASS"]
    assert by_tag[0].evidence["image"]["manifest_digest"] == digest
    same = {o for o in outcome(by_tag) if o[0] != "image.reference.mutable_tag"}
    assert same == {o for o in outcome(by_digest) if o[0] != "image.reference.mutable_tag"}
    assert ("image.files.secrets", "FAIL", "/root/.ssh/id_rsa") in same


@needs_registry
@pytest.mark.skipif(not HTPASSWD_BIN, reason="htpasswd (apache2-utils) is not installed")
def test_basic_auth_pull(tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    server = RegistryServer(tmp_path / "reg", user="alice", password="s3cret-pw").start()
    try:
        server.push_image("team/app", "1.0", sample_spec(compress=True))
        ref = f"registry+http://{server.address}/team/app:1.0"
        with pytest.raises(InputError, match="AUDITOR_REGISTRY_USERNAME"):
            scan_single_image(ref)
        monkeypatch.setenv("AUDITOR_REGISTRY_USERNAME", "alice")
        monkeypatch.setenv("AUDITOR_REGISTRY_PASSWORD", "wrong")
        with pytest.raises(InputError, match="HTTP 401: wrong credentials"):
            scan_single_image(ref)
        monkeypatch.setenv("AUDITOR_REGISTRY_PASSWORD", "s3cret-pw")
        findings = scan([ref], now)
    finally:
        server.stop()
    assert {f.resource.id for f in findings} == {IMAGE_ID}
    assert [str(f.status) for f in by_check(findings, "image.reference.mutable_tag")] == ["PASS"]
    assert "s3cret-pw" not in json.dumps([f.to_dict() for f in findings])


class _TokenRegistry(BaseHTTPRequestHandler):
    """A registry that demands a bearer token from its own token endpoint (basic auth there)."""

    blobs: ClassVar[dict[str, bytes]] = {}
    manifest: bytes = b""
    token_requests: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        host = f"127.0.0.1:{self.server.server_address[1]}"
        if self.path.startswith("/token"):
            expected = "Basic " + base64.b64encode(b"bob:tok-pw").decode()
            if self.headers.get("Authorization") != expected:
                return self._send(401, b"{}")
            self.token_requests.append(self.path)
            return self._send(200, json.dumps({"token": "good-token"}).encode(), "application/json")
        if self.headers.get("Authorization") != "Bearer good-token":
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Bearer realm="http://{host}/token",service="test-registry",scope="repository:team/app:pull"',
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.path == "/v2/team/app/manifests/2.0":
            return self._send(200, self.manifest, OCI_MANIFEST)
        if self.path.startswith("/v2/team/app/blobs/"):
            blob = self.blobs.get(self.path.rsplit("/", 1)[1])
            if blob is not None:
                return self._send(200, blob)
        return self._send(404, b"{}")

    def _send(self, code: int, body: bytes, ctype: str = "application/octet-stream") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def token_registry() -> Iterator[str]:
    blobs, _index, manifest = oci_blobs(sample_spec(compress=True), ref_name=None)
    _TokenRegistry.blobs = blobs
    _TokenRegistry.manifest = manifest
    _TokenRegistry.token_requests = []
    assert sha256(manifest) in blobs
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_bearer_token_pull(token_registry: str, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = f"registry+http://{token_registry}/team/app:2.0"
    with pytest.raises(InputError, match="token service refused"):
        scan_single_image(ref)
    monkeypatch.setenv("AUDITOR_REGISTRY_USERNAME", "bob")
    monkeypatch.setenv("AUDITOR_REGISTRY_PASSWORD", "tok-pw")
    findings = scan([ref], now)
    assert {f.resource.id for f in findings} == {IMAGE_ID}
    assert _TokenRegistry.token_requests == ["/token?scope=repository%3Ateam%2Fapp%3Apull&service=test-registry"]
    assert [str(f.status) for f in by_check(findings, "image.layers.integrity")] == ["PASS"]


def test_unreachable_registry_is_input_error() -> None:
    with pytest.raises(InputError, match="cannot reach the registry"):
        scan_single_image("registry+http://127.0.0.1:9/team/app:1")
