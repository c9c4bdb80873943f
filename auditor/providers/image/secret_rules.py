"""Secrets in image metadata (ENV, labels, build history) and secret files.

Metadata goes through the one secret detector, the one redaction uses
(`auditor.redact.detect_secrets` over the rules of `auditor.secret_patterns`): whatever is
found here is masked everywhere else, and a value redaction leaves alone (a file path, a
variable reference, an empty value, a placeholder) is not reported here. A hit names the
detector — a credential format (`aws_access_key_id`, ...) or the context rule that found
it (`secret_key_name`, `command_line_credential`, `authorization_header`, `auth_pair`,
`netrc_password`, `connection_password`) — and the key, never the value.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from auditor.redact import detect_secrets
from auditor.secret_patterns import VALUE_DETECTORS, Detection, value_detectors

_DETECTORS = dict(VALUE_DETECTORS)
_PRIVATE_KEY = _DETECTORS["private_key"]
_URL_WITH_PASSWORD = _DETECTORS["url_with_password"]


@dataclass(frozen=True)
class SecretHit:
    detector: str  # which rule matched
    key: str | None  # the variable/label name, when there is one


def scan_key_value(key: str, value: str) -> list[SecretHit]:
    """A KEY=value pair (an ENV entry or a label): a credential format in the value first
    (the most specific detector), else what redaction of `{key: value}` would mask."""
    hits = [SecretHit(d, key) for d in value_detectors(value)]
    if not hits:
        hits = _unique(detect_secrets(value, key=key), key)
    return hits


def scan_command(text: str) -> list[SecretHit]:
    """A build-history command line: every secret redaction would mask in it, one hit per detector."""
    return _unique(detect_secrets(text), None)


def _unique(found: list[Detection], key: str | None) -> list[SecretHit]:
    """One hit per detector (the first), naming the key that holds the secret."""
    hits: list[SecretHit] = []
    seen: set[str] = set()
    for item in found:
        if item.detector not in seen:
            seen.add(item.detector)
            hits.append(SecretHit(item.detector, item.key or key))
    return hits


# Secret files --------------------------------------------------------------------------

PRIVATE_KEY_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
KEY_SUFFIXES = (".pem", ".key", ".p8", ".ppk")
CREDENTIAL_FILES = {
    ".aws/credentials": "aws_credentials",
    ".git-credentials": "git_credentials",
    ".netrc": "netrc",
    ".pgpass": "pgpass",
    ".npmrc": "npmrc",
    ".pypirc": "pypirc",
    ".docker/config.json": "docker_config",
}
ENV_FILE = re.compile(r"(^|/)(\.env(\.[A-Za-z0-9_-]+)?|[A-Za-z0-9_-]+\.env)$")
# Paths where keys are expected test fixtures or public material, never flagged.
IGNORED_PREFIXES = ("usr/share/doc/", "usr/share/man/", "usr/share/ca-certificates/", "etc/ssl/certs/")


def secret_file_candidate(path: str) -> bool:
    """Whether a file's name makes it worth reading to look for a secret (cheap: runs on every file)."""
    base = posixpath.basename(path)
    if base in PRIVATE_KEY_NAMES or base.endswith(KEY_SUFFIXES):
        return not path.startswith(IGNORED_PREFIXES)
    if base in (".git-credentials", ".netrc", ".pgpass", ".npmrc", ".pypirc", "credentials", "config.json"):
        return any(path.endswith(suffix) for suffix in CREDENTIAL_FILES)
    return bool(ENV_FILE.search(path))


def classify_secret_file(path: str, content: bytes) -> str | None:
    """The kind of secret the file holds, or None. Reads content; never returns any of it."""
    text = content.decode("utf-8", "replace")
    base = posixpath.basename(path)
    if base in PRIVATE_KEY_NAMES or base.endswith(KEY_SUFFIXES):
        if path.startswith(IGNORED_PREFIXES):
            return None
        return "private_key" if _PRIVATE_KEY.search(text) else None
    for suffix, kind in CREDENTIAL_FILES.items():
        if path == suffix or path.endswith("/" + suffix):
            return kind if _credential_file_has_secret(kind, text) else None
    if ENV_FILE.search(path):
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.removeprefix("export ").partition("=")
            if scan_key_value(key.strip(), value.strip()):
                return "env_file"
    return None


def _credential_file_has_secret(kind: str, text: str) -> bool:
    if kind == "aws_credentials":
        return bool(re.search(r"(?im)^\s*aws_secret_access_key\s*=\s*\S+", text))
    if kind == "git_credentials":
        return bool(_URL_WITH_PASSWORD.search(text))
    if kind == "netrc":
        return bool(re.search(r"(?m)\bpassword\s+\S+", text))
    if kind == "pgpass":
        return any(line.count(":") >= 4 and not line.startswith("#") for line in text.splitlines())
    if kind == "npmrc":
        return bool(re.search(r"(?m)(_authToken|_auth|_password)\s*=\s*\S+", text))
    if kind == "pypirc":
        return bool(re.search(r"(?m)^\s*password\s*[=:]\s*\S+", text))
    if kind == "docker_config":
        return bool(re.search(r'"(auth|identitytoken)"\s*:\s*"[^"]+"', text))
    return False
