"""One redaction, applied before anything is stored or printed.

Providers must never put a secret value into a finding; this pass is what makes sure
none gets through anyway. The engine runs it over every finding (message, evidence,
resource id and path, waiver), the store over run targets and errors, the CLI over
every error line and log record. It masks:

- every credential format of `auditor.secret_patterns` (cloud keys, tokens, private
  key blocks, webhook URLs, ...);
- the password in any URL (`postgres://app:PW@db`, `https://u:PW@host/pkg.tar.gz`);
- connection-string and `key=value` / `key: value` / `"key": "value"` settings whose key
  names a credential (`Password=PW;`, `api_key = "PW"`, `--password PW`);
- the password of `auth=("user", "PW")`-style calls and `Authorization:` headers;
- values of dictionary keys that name a credential (`{"password": ...}`).

What an auditor needs stays: the file, line, rule, user name and host. The value is
replaced by `[REDACTED:sha256=abcdef]`, the first 24 bits of its SHA-256: stable, so the
same secret can be recognised across findings and runs, and too short to confirm a
guessed password with any confidence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from auditor.secret_patterns import VALUE_DETECTORS

MASK_PREFIX = "[REDACTED:sha256="
# The whole-value mask used where no value should be hashed at all (kept for old callers).
REDACTED = "[REDACTED]"


def mask(value: str) -> str:
    """The stable mask of one secret value."""
    return f"{MASK_PREFIX}{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:6]}]"


def _is_mask(text: str) -> bool:
    return text.startswith((MASK_PREFIX, REDACTED))


_KEY_WORDS = (
    r"password|passwd|passphrase|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?secret|credentials?|auth[_-]?token|accountkey|sharedaccesskey|sharedaccesssignature|sig"
)
_CAMEL_WORDS = r"Password|Passwd|Passphrase|Pwd|Pass|Secret|Token|ApiKey|Apikey|AccessKey|PrivateKey|Credentials?"
# `key = value`, `key: value`, `"key": "value"`, `Key=value;` (a connection string) where the key names a
# credential: one of its `_`/`-`/`.`-separated words, or a camelCase word (`db_password`, `dbPassword`,
# `AWS_SECRET_ACCESS_KEY`), never a longer word that contains one (`passed`, `bypass`, `tokenizer`).
_ASSIGNMENT = re.compile(
    r"(?P<key>(?<![A-Za-z0-9_.:/-])(?:"
    r"(?i:(?:[A-Za-z0-9]+[_.-])*(?:" + _KEY_WORDS + r"))"
    r"|[A-Za-z0-9]*[a-z0-9](?:" + _CAMEL_WORDS + r"))"
    r"(?i:[_.-][A-Za-z0-9]+)*)"
    r"(?P<q1>[\"']?)(?P<sep>\s*=\s*|\s*:(?!//)\s+|(?<=[\"'])\s*:\s*)"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s\"',;&)}\]<>]+)"
)
# Names that only look like credential keys: they describe one (`password_last_used`, `token_count`).
_DESCRIPTIVE_KEY = re.compile(
    r"(?i)(?:^|[_.-])(?:last[_-]?used|last[_-]?changed|length|policy|count|age|expir\w*|rotat\w*|enabled|"
    r"required|reset|file|path|dir|name|id|arn|url|uri|type|kind|version|hint)$"
)
# Values that hold no secret: references, placeholders, booleans, code.
_NOT_SECRET = re.compile(
    r"(?i)^(?:|none|null|nil|true|false|yes|no|\*+|x+|\$\{?[A-Za-z_][A-Za-z0-9_.]*\}?|%\([A-Za-z_]+\)s|"
    r"\{\{.*\}\}|<[^>]*>|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\(.*|"
    r"(?:os\.)?environ\b.*|process\.env\b.*|getenv\b.*)$"
)
# `--password PW`, `--token=PW`, `-u user:PW` (curl), `mysql -pPW`.
_FLAG = re.compile(
    r"(?i)(?P<flag>(?<![\w-])--?(?:password|passwd|pass|token|secret|api-key|apikey|auth-token)[ =]+)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s\"']+)"
    r"|(?P<uflag>(?<![\w-])-u\s+[^\s:\"']+:)(?P<uvalue>[^\s\"']+)"
    r"|(?P<pflag>(?<![\w-])mysql(?:dump)?\b[^\n|;]*?\s-p)(?P<pvalue>[^\s\"']+)"
)
# `auth=("user", "PW")`, `HTTPBasicAuth("user", "PW")`, `BasicAuth('user', 'PW')`.
_AUTH_PAIR = re.compile(
    r"(?i)(?P<head>\b\w*auth\w*\s*(?:=\s*\(|\()\s*(?P<q1>[\"'])(?:[^\"'\\]|\\.)*(?P=q1)\s*,\s*)"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
)
# `Authorization: Bearer X`, `Authorization: Basic X`, a bare `Bearer X`.
_AUTH_HEADER = re.compile(
    r"(?i)(?P<head>\bauthorization\s*[:=]\s*[\"']?(?:bearer|basic|token|digest)?\s*|\bbearer\s+)"
    r"(?P<value>[A-Za-z0-9._~+/=-]{8,})"
)
# The password in any URL: scheme://user:PW@host (the user and host stay).
_URL_PASSWORD = re.compile(r"(?i)(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@\"']*:)(?P<value>[^/\s@\"']+)(?=@)")


def _mask_value(value: str) -> str:
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2 else ""
    inner = value[1:-1] if quote else value
    if _is_mask(inner) or _NOT_SECRET.match(inner.strip()):
        return value
    return f"{quote}{mask(inner)}{quote}"


def _group_masker(group: str) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        value = m.group(group)
        if value is None:
            return m.group(0)
        start, end = m.span(group)
        base = m.start(0)
        text = m.group(0)
        return text[: start - base] + _mask_value(value) + text[end - base :]

    return repl


def _assignment(m: re.Match[str]) -> str:
    key = m.group("key").strip("\"'")
    if _DESCRIPTIVE_KEY.search(key):
        return m.group(0)
    return _group_masker("value")(m)


def _flag(m: re.Match[str]) -> str:
    for group in ("value", "uvalue", "pvalue"):
        if m.group(group) is not None:
            return _group_masker(group)(m)
    return m.group(0)


def _format(m: re.Match[str]) -> str:
    text = m.group(0)
    return text if _is_mask(text) else mask(text)


def redact_formats(text: str) -> str:
    """Mask known credential formats and URL passwords only: safe for identifiers and paths,
    where `secret:db-password` is a name, not `secret: <value>`."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(_group_masker("value"), text)
    for _name, pattern in VALUE_DETECTORS:
        if _name == "url_with_password":
            continue  # the URL's password alone is masked above: user and host stay readable
        text = pattern.sub(_format, text)
    return text


def redact_text(text: str) -> str:
    """Mask every secret value in a free text (a message, an error, a code line)."""
    if not text:
        return text
    text = redact_formats(text)
    if "=" in text or ":" in text:
        text = _ASSIGNMENT.sub(_assignment, text)
    if "-" in text:
        text = _FLAG.sub(_flag, text)
    if "(" in text:
        text = _AUTH_PAIR.sub(_group_masker("value"), text)
    text = _AUTH_HEADER.sub(_group_masker("value"), text)
    return text


_SECRET_KEY = re.compile(
    r"(?i)(^|[_\-.])(password|passwd|passphrase|pwd|secret|secret[_-]?value|token|api[_-]?key|apikey|"
    r"private[_-]?key|access[_-]?key[_-]?secret|secret[_-]?access[_-]?key|client[_-]?secret|credentials?|auth|"
    r"auth[_-]?token|connection[_-]?string)$"
)


def is_secret_field(key: str) -> bool:
    """A dictionary key whose value is a credential (`password`, `db_token`, `api_key`)."""
    return bool(_SECRET_KEY.search(key))


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of a JSON-like value with secret content masked (keys are kept)."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if key is not None and value and is_secret_field(key):
            return value if _is_mask(value) or _NOT_SECRET.match(value.strip()) else mask(value)
        return redact_text(value)
    return value


def one_line(text: str) -> str:
    """A message safe for one terminal line: secrets masked, control characters escaped
    (a newline in a file name must not cut or forge an error line)."""
    text = redact_text(text)
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
