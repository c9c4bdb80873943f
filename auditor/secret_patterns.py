"""The one set of credential patterns: used to find secrets (image scanning) and to mask
them everywhere else (`auditor.redact`, before anything is stored or printed).

Each detector is a name and a pattern matching the credential itself. Key names that
hold a credential when given a literal value (`DB_PASSWORD=...`) are a second rule,
`is_secret_key`. Keep both here: a pattern added for detection is masked everywhere.
"""

from __future__ import annotations

import re

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
    ("aws_access_key_id", re.compile(r"(?<![A-Za-z0-9/+=])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("slack_token", re.compile(r"\bxox[abprse]-[A-Za-z0-9-]{10,}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/-]{20,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("stripe_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi_token", re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{40,}")),
    ("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")),
    ("twilio_key", re.compile(r"\bSK[0-9a-f]{32}\b")),
    ("openai_key", re.compile(r"\bsk-(?:proj-|ant-[a-z0-9]+-|svcacct-)?[A-Za-z0-9_-]{32,}")),
    ("mailgun_key", re.compile(r"\bkey-[0-9a-f]{32}\b")),
    ("digitalocean_token", re.compile(r"\bdo[por]_v1_[a-f0-9]{64}\b")),
    ("shopify_token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    ("databricks_token", re.compile(r"\bdapi[a-f0-9]{32}(?:-\d)?\b")),
    ("url_with_password", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@[^\s/?#]+", re.I)),
)

# Detectors whose find is usable as it is (a key, a cloud credential): critical, not high.
HIGH_VALUE_DETECTORS = frozenset({"private_key", "aws_access_key_id", "github_token", "stripe_key", "gitlab_token"})

# Key names that hold a credential when they carry a literal value.
SECRET_KEY_NAME = re.compile(
    r"(?i)(^|[_\-.])(password|passwd|pwd|secret|secret[_-]?key|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|client[_-]?secret|credentials?|auth[_-]?token|db[_-]?pass|pass)($|[_\-.])"
)
# Key names that name where a secret is, not the secret (DB_PASSWORD_FILE=/run/secrets/db).
REFERENCE_KEY_SUFFIX = re.compile(r"(?i)[_\-.](file|path|dir|env|name|id|url|uri|endpoint|region)$")
# Values that only point at a secret, or hold none.
NOT_A_VALUE = re.compile(r"^(|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|/\S*|<[^>]*>|none|null|true|false)$", re.I)


def value_detectors(value: str) -> list[str]:
    """Names of the detectors whose credential format appears in `value`."""
    return [name for name, pattern in VALUE_DETECTORS if pattern.search(value)]


def is_secret_key(name: str) -> bool:
    return bool(SECRET_KEY_NAME.search(name)) and not REFERENCE_KEY_SUFFIX.search(name)


def literal(value: str) -> bool:
    """Whether a value is a literal (not empty, not a variable reference, not a path)."""
    return not NOT_A_VALUE.match(value.strip().strip("'\""))
