"""A real registry (Debian's `docker-registry`, the distribution registry) on 127.0.0.1, and a minimal push.

`RegistryServer` writes a config (filesystem storage in a temp dir, optional htpasswd),
starts the binary on a free loopback port and waits for `/v2/`. `push_image` uploads
blobs (POST + PUT monolithic upload) and PUTs the manifest: the project's own code, no
docker or skopeo needed.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from auditor.providers.image.build import OCI_MANIFEST, ImageSpec, oci_blobs

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
HTPASSWD_BIN = shutil.which("htpasswd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RegistryServer:
    def __init__(self, root: Path, *, user: str | None = None, password: str | None = None) -> None:
        self.root = root
        self.user = user
        self.password = password
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RegistryServer:
        storage = self.root / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        auth = ""
        if self.user is not None:
            assert HTPASSWD_BIN, "htpasswd is needed for the basic-auth registry"
            htpasswd = self.root / "htpasswd"
            subprocess.run(
                [HTPASSWD_BIN, "-Bbc", str(htpasswd), self.user, self.password or ""], check=True, capture_output=True
            )
            auth = f"auth:\n  htpasswd:\n    realm: auditor-test\n    path: {htpasswd}\n"
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n" + auth,
            encoding="utf-8",
        )
        log = (self.root / "registry.log").open("wb")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"registry exited: {(self.root / 'registry.log').read_text()[-500:]}")
            try:
                urllib.request.urlopen(f"http://{self.address}/v2/", timeout=1).close()
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and asking for a login
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("registry did not start within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def _headers(self) -> dict[str, str]:
        if self.user is None:
            return {}
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _request(self, method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        req = urllib.request.Request(url, data=data, method=method, headers={**self._headers(), **(headers or {})})
        return urllib.request.urlopen(req, timeout=30)

    def push_blob(self, repo: str, digest: str, data: bytes) -> None:
        base = f"http://{self.address}"
        with self._request("POST", f"{base}/v2/{repo}/blobs/uploads/") as resp:
            location = resp.headers["Location"]
        if location.startswith("/"):
            location = base + location
        sep = "&" if "?" in location else "?"
        with self._request(
            "PUT", f"{location}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"}
        ) as resp:
            assert resp.status == 201, resp.status

    def push_image(self, repo: str, tag: str, spec: ImageSpec) -> str:
        """Push blobs and the manifest; return the manifest digest."""
        blobs, _index, manifest = oci_blobs(spec, ref_name=None)
        manifest_digest = "sha256:" + __import__("hashlib").sha256(manifest).hexdigest()
        for digest, data in blobs.items():
            if digest != manifest_digest:
                self.push_blob(repo, digest, data)
        with self._request(
            "PUT", f"http://{self.address}/v2/{repo}/manifests/{tag}", manifest, {"Content-Type": OCI_MANIFEST}
        ) as resp:
            assert resp.status == 201, resp.status
        json.loads(manifest)
        return manifest_digest
