"""Pull an image's manifest, config and layers over the Registry v2 HTTP API (urllib only).

References:
    registry://HOST[:PORT]/REPO[:TAG]        HTTPS (the default tag is `latest`)
    registry://HOST[:PORT]/REPO@sha256:...   pinned by manifest digest
    registry+http://HOST[:PORT]/REPO:TAG     plain HTTP, for a local or test registry

Authentication: anonymous first; on `401` the client answers the registry's challenge —
`Basic` with the credentials from AUDITOR_REGISTRY_USERNAME / AUDITOR_REGISTRY_PASSWORD,
or `Bearer` by fetching a token from the realm it names (with those credentials when
set, anonymously otherwise). Credentials never appear in findings, logs or errors.
Layers are streamed from the HTTP response straight into the layer reader: nothing is
written to disk. Manifests and configs are size-capped and verified against digests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from auditor.errors import InputError
from auditor.providers.image.archive import (
    DIGEST_RE,
    INDEX_TYPES,
    ImageSource,
    LayerRef,
    check_digest,
    parse_json,
    select_manifest,
    sha256_digest,
    source_from_manifest,
)
from auditor.providers.image.layers import LayerError, Limits

ACCEPT_MANIFEST = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)
USER_ENV = "AUDITOR_REGISTRY_USERNAME"
PASSWORD_ENV = "AUDITOR_REGISTRY_PASSWORD"
TIMEOUT_S = 60.0
_REF = re.compile(
    r"^(?P<scheme>registry|registry\+http|registry\+https)://(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d{1,5}))?"
    r"/(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@dataclass(frozen=True)
class RegistryRef:
    scheme: str  # http or https
    host: str
    port: int | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def base_url(self) -> str:
        netloc = self.host + (f":{self.port}" if self.port else "")
        return f"{self.scheme}://{netloc}"

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"


def parse_reference(ref: str) -> RegistryRef:
    m = _REF.match(ref.strip())
    if not m:
        raise InputError(
            f"{ref}: not a registry reference (expected registry://HOST[:PORT]/REPO[:TAG] or .../REPO@sha256:...)"
        )
    port = int(m.group("port")) if m.group("port") else None
    if port is not None and not 0 < port < 65536:
        raise InputError(f"{ref}: invalid port")
    return RegistryRef(
        scheme="http" if m.group("scheme") == "registry+http" else "https",
        host=m.group("host"),
        port=port,
        repository=m.group("repo"),
        tag=m.group("tag"),
        digest=m.group("digest"),
    )


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    @classmethod
    def from_env(cls) -> Credentials | None:
        user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
        return cls(user, password or "") if user else None

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects (blob storage), but never carry credentials to another host."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.headers.pop("Authorization", None)
            new.unredirected_hdrs.pop("Authorization", None)
        return new


class RegistryClient:
    def __init__(self, ref: RegistryRef, credentials: Credentials | None, timeout: float = TIMEOUT_S) -> None:
        self.ref = ref
        self.credentials = credentials
        self.timeout = timeout
        self._auth: str | None = None
        self._opener = urllib.request.build_opener(_SameHostRedirects())

    def _open(self, url: str, accept: str | None) -> Any:
        headers = {"User-Agent": "auditor-image-provider"}
        if accept:
            headers["Accept"] = accept
        if self._auth:
            headers["Authorization"] = self._auth
        return self._opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout)

    def get(self, path: str, accept: str | None = None) -> Any:
        """An open HTTP response for `path` under /v2/<repo>/, answering one auth challenge."""
        url = f"{self.ref.base_url}/v2/{self.ref.repository}/{path}"
        try:
            return self._open(url, accept)
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "")
            retry_bearer = challenge.startswith("Bearer")
            if exc.code != 401 or (self._auth is not None and not retry_bearer):
                raise
            exc.close()
            self._auth = self._answer(challenge)
            return self._open(url, accept)

    def _answer(self, challenge: str) -> str:
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self.credentials is None:
                raise InputError(
                    f"{self.ref.base_url}: the registry requires a login: set {USER_ENV} and {PASSWORD_ENV}"
                )
            return self.credentials.basic_header()
        if scheme.lower() == "bearer":
            fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
            realm = fields.get("realm")
            if not realm or not realm.startswith(("http://", "https://")):
                raise InputError(f"{self.ref.base_url}: the registry's token challenge names no usable realm")
            query = {"scope": fields.get("scope") or f"repository:{self.ref.repository}:pull"}
            if fields.get("service"):
                query["service"] = fields["service"]
            url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
            headers = {"User-Agent": "auditor-image-provider"}
            if self.credentials is not None:
                headers["Authorization"] = self.credentials.basic_header()
            try:
                with self._opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout) as resp:
                    body = resp.read(1024 * 1024)
            except urllib.error.HTTPError as exc:
                raise InputError(
                    f"{self.ref.base_url}: the token service refused the login (HTTP {exc.code})"
                ) from None
            except (urllib.error.URLError, OSError) as exc:
                raise InputError(f"{self.ref.base_url}: cannot reach the token service: {_reason(exc)}") from None
            try:
                doc = json.loads(body)
                token = doc.get("token") or doc.get("access_token")
            except (ValueError, AttributeError):
                token = None
            if not isinstance(token, str) or not token:
                raise InputError(f"{self.ref.base_url}: the token service returned no token")
            return "Bearer " + token
        raise InputError(f"{self.ref.base_url}: unsupported registry authentication scheme {scheme[:20]!r}")

    def read_small(self, path: str, accept: str | None, limit: int, what: str) -> tuple[bytes, str]:
        try:
            with self.get(path, accept) as resp:
                data = resp.read(limit + 1)
                media = resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise InputError(self._http_error(exc.code, what)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise InputError(f"{self.ref.base_url}: cannot reach the registry: {_reason(exc)}") from None
        if len(data) > limit:
            raise InputError(f"{self.ref.base_url}: {what} is larger than {limit} bytes")
        return data, media.split(";")[0].strip()

    def _http_error(self, code: int, what: str) -> str:
        where = f"{self.ref.base_url}/{self.ref.repository}:{self.ref.reference}"
        if code == 401:
            hint = "wrong credentials" if self.credentials else f"set {USER_ENV} and {PASSWORD_ENV}"
            return f"{where}: the registry refused access to {what} (HTTP 401: {hint})"
        if code == 403:
            return f"{where}: access to {what} is forbidden (HTTP 403)"
        if code == 404:
            return f"{where}: {what} not found (HTTP 404)"
        return f"{where}: the registry answered HTTP {code} for {what}"


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).replace("\n", " ")[:200]


@dataclass
class RegistryImage(ImageSource):
    client: RegistryClient | None = None
    pinned_digest: str | None = None
    requested_tag: str | None = None

    @contextmanager
    def open_layer(self, layer: LayerRef) -> Iterator[_NetGuard]:
        assert self.client is not None
        try:
            resp = self.client.get(f"blobs/{layer.locator}")
        except urllib.error.HTTPError as exc:
            raise LayerError(f"the registry answered HTTP {exc.code} for the layer blob") from None
        except (urllib.error.URLError, OSError) as exc:
            raise LayerError(f"cannot download the layer: {_reason(exc)}") from None
        try:
            yield _NetGuard(resp)
        finally:
            resp.close()


class _NetGuard:
    def __init__(self, resp: Any) -> None:
        self.resp = resp

    def read(self, n: int = -1) -> bytes:
        try:
            data: bytes = self.resp.read(n)
            return data
        except (OSError, ValueError) as exc:  # timeouts, resets, IncompleteRead
            raise LayerError(f"layer download failed: {_reason(exc)}") from None


def open_registry_image(ref: str, limits: Limits, auth: Credentials | None = None) -> RegistryImage:
    parsed = parse_reference(ref)
    client = RegistryClient(parsed, auth if auth is not None else Credentials.from_env())
    where = ref

    def fetch_manifest(reference: str, what: str) -> tuple[bytes, str]:
        data, media = client.read_small(f"manifests/{reference}", ACCEPT_MANIFEST, limits.max_manifest_bytes, what)
        return data, media

    data, media = fetch_manifest(parsed.reference, "the image manifest")
    manifest_digest = sha256_digest(data)
    if parsed.digest and manifest_digest != parsed.digest:
        raise InputError(f"{where}: the manifest's content does not match the pinned digest {parsed.digest}")
    doc = parse_json(data, "the image manifest", where)
    if not isinstance(doc, dict):
        raise InputError(f"{where}: the image manifest is not a JSON object")

    def fetch_verified(digest: str, what: str) -> bytes:
        check_digest(digest, what, where)
        if what == "the image manifest":
            blob, _ = fetch_manifest(digest, what)
        else:
            blob, _ = client.read_small(f"blobs/{digest}", None, limits.max_manifest_bytes, what)
        if sha256_digest(blob) != digest:
            raise InputError(f"{where}: {what} does not match its digest {digest}")
        return blob

    if (doc.get("mediaType") or media) in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
        doc, _raw, manifest_digest, _tags = select_manifest(doc, fetch_verified, where)
    if doc.get("schemaVersion") == 1:
        raise InputError(f"{where}: schema 1 manifests are not supported (push the image with a current client)")
    config, config_digest, layers = source_from_manifest(doc, fetch_verified, where, limits)
    assert DIGEST_RE.match(config_digest)
    tag = parsed.tag if parsed.tag else (None if parsed.digest else "latest")
    return RegistryImage(
        reference=ref,
        kind="registry",
        config=config,
        config_digest=config_digest,
        layers=layers,
        manifest_digest=manifest_digest,
        tags=[f"{parsed.repository}:{tag}"] if tag else [],
        client=client,
        pinned_digest=parsed.digest,
        requested_tag=tag,
    )
