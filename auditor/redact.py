"""One redaction, applied before anything is stored or printed.

Providers must never put a secret value into a finding; this pass is what makes sure
none gets through anyway. The engine runs it over every finding (message, evidence,
resource id and path, waiver), the store over run targets and errors, the CLI over
every error line and log record. It masks:

- every credential format of `auditor.secret_patterns` (cloud keys, tokens, private
  key blocks, webhook URLs, ...);
- the password in any URL (`postgres://app:PW@db`, `https://u:PW@host/pkg.tar.gz`), also
  one that holds an `@`;
- settings whose key names a credential, in every common syntax: `key=value`,
  `key: value`, `"key": "value"`, `key := "value"`, `key == "value"`, connection strings
  (`Password=PW;`, `AccountKey=...;`, `sig=...&`), Dockerfile `ENV KEY value`, `.npmrc`
  `_authToken=`/`_auth=`, Docker's `"auth": "..."`, `.netrc` `password PW`;
- command-line credentials: `--password PW`, `--client-secret=PW`, `curl -u user:PW`,
  `mysql -pPW`, `sshpass -p PW`, `docker login -p PW`, `redis-cli -a PW`, Oracle's
  `user/PW@db`;
- the password of `auth=("user", "PW")`-style calls and `Authorization:` headers;
- values of dictionary keys that name a credential (`{"password": ...}`, `Authorization`,
  `Cookie`).

What an auditor needs stays: the file, line, rule, key, user name and host. The value is
replaced by `[REDACTED:sha256=abcdef]`, the first 24 bits of its SHA-256: stable, so the
same secret can be recognised across findings and runs, and far too short to recover a
random credential (a weak password can still be checked against a guess list: see
docs/security.md). Masking is idempotent.

The same pass is the one secret detector: `detect_secrets(text)` runs it and returns what
it masked (detector, key, value); the image secret scan reports exactly that.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from auditor.secret_patterns import (
    DETECTOR_ANCHORS,
    URL_PASSWORD,
    VALUE_DETECTORS,
    Detection,
    credential_key,
    is_placeholder,
    is_secret_key,
    key_words,
)

MASK_PREFIX = "[REDACTED:sha256="
# The whole-value mask used where no value should be hashed at all (kept for old callers).
REDACTED = "[REDACTED]"


def mask(value: str) -> str:
    """The stable mask of one secret value."""
    return f"{MASK_PREFIX}{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:6]}]"


def _is_mask(text: str) -> bool:
    return text.startswith((MASK_PREFIX, REDACTED))


# (anchors, pattern) of every detector but the URL one (its password alone is masked above).
_DETECTORS = tuple(
    (name, DETECTOR_ANCHORS[name], pattern) for name, pattern in VALUE_DETECTORS if name != "url_with_password"
)
# Any anchor at all: one scan that most texts fail, before any detector runs.
_ANY_ANCHOR = re.compile("|".join(sorted({re.escape(a) for _, anchors, _ in _DETECTORS for a in anchors})))
# No detector matches fewer characters than this (the shortest: `a://:p@h`, a URL password).
_MIN_SECRET_TEXT = 8

# Words without which a text holds no credential-named key: the key pass is skipped.
_KEY_HINTS = ("pass", "pwd", "secret", "token", "key", "credential", "auth", "sig", "connection")
_FLAG_HINTS = ("pass", "token", "secret", "key", "curl", "mysql", "login", "redis-cli")
_SPECIAL_HINTS = ("login", "oracle", "sqlplus")
# `key=value`, `key: value`, `"key": "value"`, `key := "value"`, `key == "value"`. The key is a
# whole identifier (never the tail of a longer one or of a path); whether it names a
# credential is decided by `secret_patterns.is_secret_key` (words, camelCase, descriptive
# names such as `password_last_used` excluded). `==` counts only before a quoted literal:
# `python-secret==1.0` is a requirement, `password == "x"` a hard-coded password.
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_./@-])(?P<key>[A-Za-z_][A-Za-z0-9_.-]{0,100})(?P<q1>[\"']?)"
    r"(?P<sep>\s*(?::=|=>|=(?!=))\s*|\s*==(?=\s*[\"'])\s*|[ \t]*:(?!//)[ \t]+|(?<=[\"'])\s*:\s*)"
    r"(?P<value>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|[^\s\"',;&(){}\[\]<>][^\s\"',;&()\[\]<>]*)"
)
# Command lines.
_FLAG = re.compile(
    r"(?i)(?P<flag>(?<![\w-])--?(?:[a-z0-9]+-)*"
    r"(?:password|passwd|pass|token|secret|api-?key|access-key|secret-key|passphrase)[ =]+)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|(?!-)[^\s\"']+)"
    r"|(?P<uflag>\bcurl\b[^\n|;]*?\s(?:-u|--user)[ =]?[^\s:\"'/]+:)(?P<uvalue>[^\s\"']+)"
    r"|(?P<pflag>\bmysql(?:dump|admin)?\b[^\n|;]*?\s-p)(?P<pvalue>[^\s\"']+)"
    r"|(?P<sflag>\b(?:sshpass|(?:docker|podman|buildah|helm(?:\s+registry)?)\s+login)\b[^\n|;]*?\s-p\s+)"
    r"(?P<svalue>[^\s\"']+)"
    r"|(?P<aflag>\bredis-cli\b[^\n|;]*?\s-a\s+)(?P<avalue>[^\s\"']+)"
)
_FLAG_VALUES = ("value", "uvalue", "pvalue", "svalue", "avalue")
# `auth=("user", "PW")`, `HTTPBasicAuth("user", "PW")`, `BasicAuth('user', 'PW')`.
_AUTH_PAIR = re.compile(
    r"(?i)(?P<head>\b\w*auth\w*\s*(?:=\s*\(|\()\s*(?P<q1>[\"'])(?:[^\"'\\]|\\.)*(?P=q1)\s*,\s*)"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
)
# `Authorization: Bearer X`, `"Authorization": "Basic X"`, a bare `Bearer X` (a token has a
# digit or is long: `Bearer authentication is required` stays).
_SCHEMES = r"(?:bearer|basic|token|digest|negotiate)"
_AUTH_HEADER = re.compile(
    r"(?i)(?P<head>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:" + _SCHEMES + r"\s+)?)"
    r"(?P<value>(?!" + _SCHEMES + r"\b)[A-Za-z0-9._~+/=-]{8,})"
    r"|(?P<bhead>\bbearer\s+)(?P<bvalue>(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}|[A-Za-z0-9._~+/=-]{20,})"
)
# Formats with a fixed shape: Dockerfile `ENV KEY value` (an instruction: at a line start or
# after `#(nop)` in build history, not "ENV X holds a secret" in a sentence), `.netrc`,
# Oracle `user/PW@db`.
_SPECIAL = re.compile(
    r"(?P<ehead>(?:^|(?<=\n)|#\(nop\))[ \t]*ENV[ \t]+(?P<ekey>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]+)"
    r"(?P<evalue>[^\s=\"'][^\n]*)"
    r"|(?P<nhead>\blogin\s+\S+\s+password\s+)(?P<nvalue>\S+)"
    r"|(?P<ohead>(?:\bjdbc:oracle:\w+:|\bsqlplus\s+)[^\s/@:\"']+/)(?P<ovalue>[^\s@\"']+)(?=@)"
)


# Where `detect_secrets` collects what the masking pass finds (None: masking only).
_FOUND: ContextVar[list[Detection] | None] = ContextVar("auditor_redact_found", default=None)


def _found(detector: str, key: str | None, value: str) -> None:
    found = _FOUND.get()
    if found is not None:
        found.append(Detection(detector, key, value))


def _mask_value(value: str, detector: str, key: str | None = None) -> str:
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2 else ""
    inner = value[1:-1] if quote else value
    if _is_mask(inner) or is_placeholder(inner):
        return value
    _found(detector, key, inner)
    return f"{quote}{mask(inner)}{quote}"


def _mask_group(m: re.Match[str], group: str, detector: str, key: str | None = None) -> str:
    value = m.group(group)
    if value is None:
        return m.group(0)
    start, end = m.span(group)
    base = m.start(0)
    text = m.group(0)
    return text[: start - base] + _mask_value(value, detector, key) + text[end - base :]


def _group_masker(group: str, detector: str) -> Callable[[re.Match[str]], str]:
    return lambda m: _mask_group(m, group, detector)


def _assignment(m: re.Match[str]) -> str:
    value = m.group("value")
    quoted = value[:1] in ("'", '"')
    if not credential_key(m.group("key"), quoted):
        return m.group(0)
    if not quoted and m.string[m.end() : m.end() + 1] == "(":
        return m.group(0)  # `password = os.getenv(...)`: a call, not a value
    return _mask_group(m, "value", "secret_key_name", m.group("key"))


def _flag(m: re.Match[str]) -> str:
    for group in _FLAG_VALUES:
        if m.group(group) is not None:
            return _mask_group(m, group, "command_line_credential")
    return m.group(0)


def _auth_header(m: re.Match[str]) -> str:
    return _mask_group(m, "value" if m.group("value") is not None else "bvalue", "authorization_header")


def _special(m: re.Match[str]) -> str:
    if m.group("evalue") is not None:
        key = m.group("ekey")
        return _mask_group(m, "evalue", "secret_key_name", key) if is_secret_key(key) else m.group(0)
    if m.group("nvalue") is not None:
        return _mask_group(m, "nvalue", "netrc_password")
    return _mask_group(m, "ovalue", "connection_password")


def _format_masker(detector: str) -> Callable[[re.Match[str]], str]:
    def format_mask(m: re.Match[str]) -> str:
        text = m.group(0)
        if _is_mask(text):
            return text
        _found(detector, None, text)
        return mask(text)

    return format_mask


def redact_formats(text: str) -> str:
    """Mask known credential formats and URL passwords only: safe for identifiers and paths,
    where `secret:db-password` is a name, not `secret: <value>`."""
    if not text:
        return text
    if len(text) < _MIN_SECRET_TEXT:
        return text
    # Formats first: a token used as a URL password is found as the token it is.
    if _ANY_ANCHOR.search(text):
        for name, anchors, pattern in _DETECTORS:
            if any(a in text for a in anchors):
                text = pattern.sub(_format_masker(name), text)
    if "://" in text and "@" in text:
        text = URL_PASSWORD.sub(_group_masker("value", "url_with_password"), text)
    return text


def redact_text(text: str) -> str:
    """Mask every secret value in a free text (a message, an error, a code line)."""
    if not text:
        return text
    if len(text) <= _CACHED_TEXT:
        return _redact_short(text)
    return _redact_text(text)


# Evidence repeats the same short texts (owners, states, file names) across thousands of
# findings: those are redacted once. The function is pure; the cache is bounded.
_CACHED_TEXT = 256


@lru_cache(maxsize=16384)
def _redact_short(text: str) -> str:
    return _redact_text(text)


def _redact_text(text: str) -> str:
    text = redact_formats(text)
    # Each pass runs only where its words occur (substring tests: most texts skip them all).
    # The specific shapes go first: the generic `key: value` pass must not take their key
    # and leave the value (`credential: auth=("u", "PW")`).
    low = text.lower()
    if "(" in text and "auth" in low:
        text = _AUTH_PAIR.sub(_group_masker("value", "auth_pair"), text)
    if "authorization" in low or "bearer" in low:
        text = _AUTH_HEADER.sub(_auth_header, text)
    if "-" in text and any(h in low for h in _FLAG_HINTS):
        text = _FLAG.sub(_flag, text)
    if "ENV" in text or any(h in low for h in _SPECIAL_HINTS):
        text = _SPECIAL.sub(_special, text)
    if ("=" in text or ":" in text) and any(h in low for h in _KEY_HINTS):
        text = _ASSIGNMENT.sub(_assignment, text)
    return text


# Dictionary keys whose value is a credential beyond `is_secret_key`: headers and `auth`.
_SECRET_FIELDS = frozenset(
    {("auth",), ("authorization",), ("proxy", "authorization"), ("cookie",), ("set", "cookie"), ("sig",)}
)


@lru_cache(maxsize=4096)  # evidence keys repeat across every finding of a check
def is_secret_field(key: str) -> bool:
    """A dictionary key whose value is a credential (`password`, `dbToken`, `Authorization`)."""
    return is_secret_key(key) or tuple(key_words(key)) in _SECRET_FIELDS


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of a JSON-like value with secret content masked (keys are kept)."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if key is not None and value and is_secret_field(key):
            if _is_mask(value) or is_placeholder(value):
                return value
            _found("secret_key_name", key, value)
            return mask(value)
        return redact_text(value) if _FOUND.get() is None else _redact_text(value)
    return value


def detect_secrets(text: str, key: str | None = None) -> list[Detection]:
    """The one secret detector: every secret the masking pass finds in `text` (a text, or with
    `key` the value of that key: an ENV variable, a label, a JSON field), in the order found.
    Redaction masks exactly these; the image secret scan reports them."""
    token = _FOUND.set([])
    try:
        if key is None:
            _redact_text(text)  # not the cached path: a cached answer would find nothing
        else:
            redact(text, key)
        return list(_FOUND.get() or [])
    finally:
        _FOUND.reset(token)


def one_line(text: str) -> str:
    """A message safe for one terminal line: secrets masked, control characters escaped
    (a newline in a file name must not cut or forge an error line)."""
    text = redact_text(text)
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
