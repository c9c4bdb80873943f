"""One secret detector (`auditor.redact.detect_secrets` over the rules of
`auditor.secret_patterns`): a truth table of credential kinds and look-alikes, and both of
its users — redaction (`redact_text`, `redact`) and the image secret scan
(`auditor.providers.image.secret_rules`) — give the same verdict on every row."""

from __future__ import annotations

import pytest

from auditor.providers.image.secret_rules import SecretHit, scan_command, scan_key_value
from auditor.redact import detect_secrets, redact, redact_text
from auditor.secret_patterns import is_placeholder

# Values assembled at run time so this file holds no credential-shaped literal of its own.
AWS_ID = "AKIA" + "Q3EGRIUXXC4MTB7Z"
AWS_SK = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYz9KEYq2xq1"
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GH_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF0123"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
STRIPE = "sk_live_" + "51HqLyjWDarjtT1zdp7dcXYZabc"
GOOGLE = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
JWT = "eyJ" + "hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA " + "PRIVATE KEY-----"

# (name, a command line or text, whether it holds a secret, the detector that finds it)
TEXTS: list[tuple[str, str, bool, str | None]] = [
    ("aws access key id", f"aws configure set aws_access_key_id {AWS_ID}", True, "aws_access_key_id"),
    ("aws secret key in context", f"AWS_SK_ACCESS_KEY={AWS_SK} aws s3 ls", True, "secret_key_name"),
    ("github classic token", f"git clone https://x:{GHP}@github.com/o/r", True, "github_token"),
    ("github fine-grained token", f"echo {GH_PAT} | gh auth login --with-token", True, "github_token"),
    ("slack bot token", f"curl -H 'Authorization: Bearer {SLACK}' https://slack.com/api", True, "slack_token"),
    ("stripe live key", f"export STRIPE={STRIPE}", True, "stripe_key"),
    ("google api key", f"wget https://maps.googleapis.com/api?key={GOOGLE}", True, "google_api_key"),
    ("private key pem block", f"echo '{PEM}' > /root/.ssh/id_rsa", True, "private_key"),
    ("jwt", f"curl -b session={JWT} https://api", True, "jwt"),
    ("url with password", "pip install --index-url https://deploy:s3cr3t-Pw@pypi.example.com/simple app", True,
     "url_with_password"),
    ("password= assignment", "DB_PASSWORD=hunter2-prod ./run.sh", True, "secret_key_name"),
    ("token= assignment", "API_TOKEN=0f1e2d3c4b5a69788796a5b4c3d2e1f0 ./sync", True, "secret_key_name"),
    ("a weak default is still a credential", "ADMIN_PASSWORD=changeme ./start", True, "secret_key_name"),
    ("command-line password", "mysql -u root -pS3cretPw! app < dump.sql", True, "command_line_credential"),
    ("authorization header", "curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x", True, "authorization_header"),
    ("connection string key", "CONNECTION_STRING=Server=db;Password=Pw1 ./run", True, "secret_key_name"),
    # Look-alikes: nothing to find.
    ("uuid", "REQUEST_ID=123e4567-e89b-12d3-a456-426614174000 ./run", False, None),
    ("sha256 hash", "sha256sum=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", False, None),
    ("git commit", "git checkout 3f786850e387550fdab836ed7e6dc881de23001b", False, None),
    # `KEY= next` is not read as empty: in a config file `password= hunter2` is a password.
    ("empty password", "DB_PASSWORD=", False, None),
    ("empty quoted password", 'DB_PASSWORD="" ./run.sh', False, None),
    ("variable reference", "DB_PASSWORD=${PASSWORD} ./run.sh", False, None),
    ("bare variable", "DB_PASSWORD=$PASSWORD ./run.sh", False, None),
    ("angle placeholder", "DB_PASSWORD=<password> ./run.sh", False, None),
    ("masked placeholder", "DB_PASSWORD=*** ./run.sh", False, None),
    ("x placeholder", "DB_PASSWORD=xxxxxx ./run.sh", False, None),
    ("template reference", "DB_PASSWORD={{.Values.db.password}} ./run.sh", False, None),
    ("secret file path", "DB_PASSWORD=/run/secrets/db_password ./run.sh", False, None),
    ("descriptive key", "PASSWORD_MIN_LENGTH=12 ./run.sh", False, None),
    ("key file name", "DB_PASSWORD_FILE=/run/secrets/db ./run.sh", False, None),
    ("boolean", "REQUIRE_TOKEN=true ./run.sh", False, None),
    ("url without password", "curl https://user@example.com/x", False, None),
    ("plain text", "apt-get install -y openssl ca-certificates", False, None),
]

# (name, key, value, whether the pair holds a secret): an ENV entry, a label, a JSON field.
PAIRS: list[tuple[str, str, str, bool]] = [
    ("password", "DB_PASSWORD", "hunter2-prod", True),
    ("camelCase api key", "stripeApiKey", "abc123def456", True),
    ("aws secret key", "aws_secret_access_key", AWS_SK, True),
    ("token in any key's value", "GREETING", GHP, True),
    ("private key in any key's value", "CERT", PEM, True),
    ("empty", "DB_PASSWORD", "", False),
    ("reference", "DB_PASSWORD", "${DB_PASSWORD}", False),
    ("angle placeholder", "API_TOKEN", "<token>", False),
    ("masked placeholder", "API_TOKEN", "***", False),
    ("null", "API_TOKEN", "null", False),
    ("path", "DB_PASSWORD", "/run/secrets/db", False),
    ("descriptive key", "password_last_used", "2024-01-02", False),
    ("not a credential key", "LANG", "C.UTF-8", False),
]


def _image_text(text: str) -> bool:
    return bool(scan_command(text))


def _redaction_text(text: str) -> bool:
    return redact_text(text) != text


@pytest.mark.parametrize(("name", "text", "secret", "detector"), TEXTS, ids=[t[0] for t in TEXTS])
def test_texts(name: str, text: str, secret: bool, detector: str | None) -> None:
    assert _image_text(text) is secret, name
    assert _redaction_text(text) is secret, name
    found = {h.detector for h in detect_secrets(text)}
    assert (detector in found) if secret else (found == set()), (name, found)


@pytest.mark.parametrize(("name", "key", "value", "secret"), PAIRS, ids=[p[0] for p in PAIRS])
def test_pairs(name: str, key: str, value: str, secret: bool) -> None:
    assert bool(scan_key_value(key, value)) is secret, name
    assert (redact({key: value}) != {key: value}) is secret, name
    assert bool(detect_secrets(value, key=key)) is secret, name


def test_image_scan_keeps_its_detector_names_and_keys() -> None:
    def names(hits: list[SecretHit]) -> list[tuple[str, str | None]]:
        return [(h.detector, h.key) for h in hits]

    assert names(scan_key_value("DB_PASSWORD", AWS_ID)) == [("aws_access_key_id", "DB_PASSWORD")]
    assert names(scan_key_value("DB_PASSWORD", "hunter2")) == [("secret_key_name", "DB_PASSWORD")]
    history = f"|2 API_TOKEN=abc123def STRIPE={STRIPE} /bin/sh -c ./build"
    assert names(scan_command(history)) == [("stripe_key", None), ("secret_key_name", "API_TOKEN")]
    # A token used as a URL password is found once, as the token it is (critical).
    assert names(scan_command(f"git clone https://x:{GHP}@github.com/o/r")) == [("github_token", None)]


def test_detection_does_not_change_what_redaction_caches() -> None:
    text = "DB_PASSWORD=hunter2-prod ./run.sh"
    masked = redact_text(text)  # cached now
    assert [h.detector for h in detect_secrets(text)] == ["secret_key_name"]
    assert redact_text(text) == masked != text


def test_redaction_leaves_no_part_of_a_found_secret() -> None:
    for name, text, secret, _ in TEXTS:
        if not secret:
            continue
        out = redact_text(text)
        for hit in detect_secrets(text):
            assert hit.value not in out, name


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("", True),
        ("${X}", True),
        ("$X", True),
        ("<password>", True),
        ("***", True),
        ("xxxx", True),
        ("{{ .Values.pw }}", True),
        ("/run/secrets/db", True),
        ("none", True),
        ("changeme", False),
        ("hunter2", False),
        ("p@ss/word", False),
    ],
)
def test_placeholders(value: str, placeholder: bool) -> None:
    assert is_placeholder(value) is placeholder
