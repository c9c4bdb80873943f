"""The one secret detector: used to find secrets (the image scan,
`auditor.providers.image.secret_rules`) and to mask them everywhere else (`auditor.redact`,
before anything is stored or printed). Both users call the rules here and nothing else,
so they cannot drift apart (tests/test_secret_detector.py holds them to one truth table):

- `VALUE_DETECTORS`: credential formats recognisable by their shape (a name and a
  pattern each; `URL_PASSWORD` is the password of a URL);
- `credential_key`: key names that hold a credential when given a literal value
  (`DB_PASSWORD=...`, `dbPassword: ...`);
- `is_placeholder`: values that only point at a secret or hold none (`${X}`, `<password>`,
  `***`, a file path): never a finding, never masked;
- `auditor.redact.detect_secrets(text)`: the one pass that applies these rules (and the
  context rules: `key: value` in every syntax, command-line flags, Authorization headers)
  to a text. Redaction masks what it finds; the image scan reports it.

A weak default such as `changeme` is a credential (a default password shipped in an image
is a finding); a documentation example key (`AKIA...EXAMPLE`) has the shape of a key and
is treated as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

# The password in any URL: `scheme://user:PW` followed by `@host` (user and host are not part of it).
# The password runs to the last `@` before the host, so one with an `@` in it is whole.
URL_PASSWORD = re.compile(
    r"(?i)(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@\"']*:)"
    r"(?P<value>[^/\s\"']+)(?=@[^@/\s\"']+)"
)

# Credential formats recognisable by their shape alone.
VALUE_DETECTORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
            re.DOTALL,
        ),
    ),
    # A PEM private key, base64-wrapped (kubeconfig `client-key-data`, Helm values): "-----BEGIN"
    # then "PRIVATE KEY" at any of the three base64 alignments.
    (
        "private_key_base64",
        re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{0,40}?(?:UFJJVkFURSBLRV|BSSVZBVEUgS0VZ|QUklWQVRFIEtFW)[A-Za-z0-9+/=]*"),
    ),
    ("aws_access_key_id", re.compile(r"(?<![A-Za-z0-9/+])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("slack_token", re.compile(r"\bxox[abprse]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{20,}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/-]{20,}")),
    ("discord_webhook", re.compile(r"https://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{20,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("stripe_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}|\bwhsec_[A-Za-z0-9]{24,}")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("google_oauth_secret", re.compile(r"\bGOCSPX-[A-Za-z0-9_-]{24,}")),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi_token", re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{40,}")),
    ("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")),
    ("twilio_key", re.compile(r"\bSK[0-9a-f]{32}\b")),
    ("openai_key", re.compile(r"\bsk-(?:proj-|ant-[a-z0-9]+-|svcacct-)?[A-Za-z0-9_-]{32,}")),
    ("mailgun_key", re.compile(r"\bkey-[0-9a-f]{32}\b")),
    ("digitalocean_token", re.compile(r"\bdo[por]_v1_[a-f0-9]{64}\b")),
    ("shopify_token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    ("databricks_token", re.compile(r"\bdapi[a-f0-9]{32}(?:-\d)?\b")),
    ("vault_token", re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}")),
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{34,}\b")),
    ("azure_ad_client_secret", re.compile(r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}")),
    ("age_secret_key", re.compile(r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b")),
    ("url_with_password", URL_PASSWORD),
)

# Literal text every match of a detector contains (case-sensitive): a text without any of
# them is not searched with that detector's pattern. Searching a few substrings is ~100x
# cheaper than a pattern that starts with `\b` (tests check every detector has anchors
# and that every match holds one).
DETECTOR_ANCHORS: dict[str, tuple[str, ...]] = {
    "private_key": ("PRIVATE KEY",),
    "private_key_base64": ("LS0tLS1CRUdJTi",),
    "aws_access_key_id": ("AKIA", "ASIA"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab_token": ("glpat-",),
    "slack_token": ("xox", "xapp-"),
    "slack_webhook": ("hooks.slack.com",),
    "discord_webhook": ("/api/webhooks/",),
    "jwt": ("eyJ",),
    "stripe_key": ("_live_", "_test_", "whsec_"),
    "google_api_key": ("AIza",),
    "google_oauth_secret": ("GOCSPX-",),
    "npm_token": ("npm_",),
    "pypi_token": ("pypi-AgE",),
    "sendgrid_key": ("SG.",),
    "twilio_key": ("SK",),
    "openai_key": ("sk-",),
    "mailgun_key": ("key-",),
    "digitalocean_token": ("_v1_",),
    "shopify_token": ("shpat_", "shpca_", "shppa_", "shpss_"),
    "databricks_token": ("dapi",),
    "vault_token": ("hvs.", "hvb.", "hvr."),
    "huggingface_token": ("hf_",),
    "azure_ad_client_secret": ("Q~",),
    "age_secret_key": ("AGE-SECRET-KEY-1",),
    "url_with_password": ("://",),
}

# Detectors whose find is usable as it is (a key, a cloud credential): critical, not high.
HIGH_VALUE_DETECTORS = frozenset(
    {"private_key", "private_key_base64", "aws_access_key_id", "github_token", "stripe_key", "gitlab_token"}
)

# Key names -----------------------------------------------------------------------------
#
# A key is split into lower-case words (`_ . - space` and camelCase: `dbPassword` ->
# db, password). It names a credential when a word is, or ends with, one of CREDENTIAL
# (`PGPASSWORD`, `csrftoken`), or two adjacent words form a pair (`api key`, `client
# secret` is covered by `secret`), or it is `x_pass` (`pass` alone is too common a word:
# `Pass: 12`), unless its last word only describes one (`password_last_used`,
# `token_count`, `DB_PASSWORD_FILE`): those hold a date, a number, a place.
_CREDENTIAL_SUFFIX = re.compile(
    r"(?:password|passwd|passphrase|pwd|secret|token|apikey|accesskey|privatekey|secretkey|accountkey|"
    r"sharedaccesskey|sharedaccesssignature|credentials?|connectionstring)$"
)
_CREDENTIAL_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("account", "key"),
        ("shared", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("connection", "string"),
        ("key", "data"),
    }
)
_DESCRIPTIVE_LAST = frozenset(
    {
        "used", "changed", "length", "len", "policy", "policies", "count", "age", "enabled", "required",
        "reset", "file", "path", "dir", "name", "names", "id", "ids", "arn", "url", "uri", "endpoint", "region",
        "type", "kind", "version", "hint", "prevention", "reuse", "history", "strength", "complexity",
        "min", "max", "minimum", "maximum", "days", "date", "time", "timestamp", "at", "status", "state",
        "set", "present", "exists", "format", "algorithm", "alg", "env", "ref", "source", "rotation",
        "expiry", "expires", "expiration", "expired", "rotated", "rotate", "last", "created", "updated",
        "owner", "field", "fields", "header", "prefix", "label", "description", "size", "limit",
        "mode", "provider", "manager", "store", "vault", "backend", "option", "options", "check", "rule",
        "secrets", "tokens", "passwords", "keys",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")


def key_words(name: str) -> list[str]:
    """`dbPassword_last-used` -> ["db", "password", "last", "used"]."""
    return [w.lower() for w in _SPLIT.split(_CAMEL.sub("_", name)) if w]


@lru_cache(maxsize=4096)  # the same few hundred keys come by again and again
def is_secret_key(name: str) -> bool:
    """A key whose literal value is a credential (`DB_PASSWORD`, `apiKey`, `aws_secret_access_key`)."""
    words = key_words(name)
    if not words or words[-1] in _DESCRIPTIVE_LAST:
        return False
    if any(_CREDENTIAL_SUFFIX.search(w) for w in words):
        return True
    if any(pair in _CREDENTIAL_PAIRS for pair in pairwise(words)):
        return True
    return len(words) > 1 and "pass" in words[1:]


def credential_key(key: str, quoted_value: bool = False) -> bool:
    """Whether `key` in a `key=value` text names a credential. `auth` alone does only for a
    quoted value (Docker's `"auth": "..."`) or as `.npmrc`'s `_auth`; `sig` is a SAS signature."""
    words = key_words(key)
    if words == ["auth"]:
        return quoted_value or key.startswith("_")
    if words == ["sig"]:
        return True
    return is_secret_key(key)


# Values that hold no secret: references, placeholders, booleans, code, secret file paths.
_PLACEHOLDER = re.compile(
    r"(?i)^(?:|none|null|nil|undefined|true|false|yes|no|\*+|x+|\.\.\.|\?|%s|"
    r"\$\{?[A-Za-z_][A-Za-z0-9_.]*\}?|\$\{.*|\$\(.*|\$?\{\{.*|%\([A-Za-z_]+\)s|<[^>]*>|"
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\(.*|"
    r"(?:os\.)?environ\b.*|process\.env\b.*|getenv\b.*|"
    r"/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+)$"
)


def unquote(value: str) -> str:
    """A value without its surrounding whitespace and matching quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] in ("'", '"') and value[-1] == value[0]:
        return value[1:-1]
    return value


def is_placeholder(value: str) -> bool:
    """A value that only points at a secret or holds none (empty, `${X}`, `<password>`,
    `***`, `{{ .Values.pw }}`, `os.getenv(...)`, `/run/secrets/db`)."""
    return bool(_PLACEHOLDER.match(unquote(value)))


def value_detectors(value: str) -> list[str]:
    """Names of the detectors whose credential format appears in `value`."""
    return [
        name
        for name, pattern in VALUE_DETECTORS
        if any(a in value for a in DETECTOR_ANCHORS[name]) and pattern.search(value)
    ]


@dataclass(frozen=True)
class Detection:
    """One secret found in a text (`auditor.redact.detect_secrets`). `value` is the secret
    itself: for tests only, never to be stored or printed."""

    detector: str  # a VALUE_DETECTORS name, or the context rule that found it (`secret_key_name`, ...)
    key: str | None  # the key or variable that holds it, when there is one
    value: str
