"""Redaction as a truth table: each secret shape is masked, each look-alike stays readable.

Rows are `(payload, secret, keep)`: after `redact_text(payload)` the `secret` must be gone
(and a mask in its place) while `keep` (what an auditor needs: the key, user, host, rule)
is still there. False-positive rows must come out unchanged.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.engine import assign_targets, redact_finding
from auditor.models import CheckInfo, Coverage, Finding, Resource, Run, RunStatus, Severity, SkippedItem, Status
from auditor.providers.base import Provider, ScanContext
from auditor.redact import MASK_PREFIX, mask, one_line, redact, redact_formats, redact_text
from auditor.secret_patterns import DETECTOR_ANCHORS, VALUE_DETECTORS, is_secret_key, value_detectors
from auditor.store import Store

# Secret values, built so that no real credential sits in this file.
AKIA = "AKIA" + "Z7Q3XKJ5N2MEXW4R"
ASIA = "ASIA" + "Q2W3E4R5T6Y7U8I9"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "Zq8sT4uV1w"
GHP = "ghp_" + "A1b2C3d4" * 4 + "E5f6"
GH_PAT = "github_pat_" + "11ABCDEFG0" + "x" * 12 + "_" + "Yz9" * 20
GLPAT = "glpat-" + "Xy7-Zq8_Wp9Rt6Uv5AbCd"
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-" + "1234567890123-" + "ab12" * 16
SLACK_HOOK = "https://hooks.slack.com/services/" + "T00000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"
DISCORD_HOOK = "https://discord.com/api/webhooks/" + "123456789012345678/" + "AbCd-EfGh_" * 6
STRIPE = "sk_live_" + "51H8s9dKj3LmNpQrStUvWxYz"
STRIPE_HOOK = "whsec_" + "Mn8Pq2Rs4Tu6Vw8Xy0Za2Bc4De6Fg8Hi"
GOOGLE = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
GOOGLE_OAUTH = "GOCSPX-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9"
NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0" + "k1L2m3N4o5P6q7R8"
PYPI = "pypi-AgEIcHlwaS5vcmc" + "CJDk2ZDc4NzQ1LWI1YjAtNDQ3Mi1hZTQ0LWE1OTg4"
SENDGRID = "SG." + "ngeVfQFYQlKU0ufo8x5d1A" + "." + "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"
TWILIO_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
TWILIO_KEY = "SK" + "0123456789abcdef" * 2
MAILGUN = "key-" + "fedcba9876543210" * 2
OPENAI = "sk-proj-" + "Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6"
ANTHROPIC = "sk-ant-api03-" + "Zx9Cv8Bn7Mm6Ll5Kk4Jj3Hh2Gg1Ff0Dd" + "-aAbBcC"
DIGITALOCEAN = "dop_v1_" + "0123456789abcdef" * 4
SHOPIFY = "shpat_" + "0123456789abcdef" * 2
DATABRICKS = "dapi" + "fedcba9876543210" * 2
VAULT = "hvs." + "CAESIJ2kR8xYz3Wq7Vt5Us1Ro9Qn"
HUGGINGFACE = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"
AZURE_AD = "abc8Q~" + "Zx9Cv8Bn7Mm6Ll5Kk4Jj3Hh2Gg1Ff0Dd"
AGE_KEY = "AGE-SECRET-KEY-1" + "QYZ3HJ5K7M9P2R4T6V8X0Z2B4D6F8H0K2M4P6R8T0V2X4Z6B8D0FQ"[:58].ljust(58, "Q")
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6InRlc3QifQ."
       + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
RSA_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
EC_KEY = f"-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}\n-----END EC PRIVATE KEY-----"
SSH_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----"
PGP_KEY = f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{PEM_BODY}\n-----END PGP PRIVATE KEY BLOCK-----"
PEM_B64 = base64.b64encode(RSA_KEY.encode()).decode()
PW = "Corr3ct-Horse-Battery"  # a password in URLs, settings and command lines
BASIC = base64.b64encode(f"deploy:{PW}".encode()).decode()

SECRET_ROWS: list[tuple[str, str, str]] = [
    # Cloud keys.
    (f"access key {AKIA} is 400 days old", AKIA, "access key"),
    (f"AWS_ACCESS_KEY_ID={ASIA}", ASIA, "AWS_ACCESS_KEY_ID="),
    (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws_secret_access_key = "),
    (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", AWS_SECRET, "AWS_SECRET_ACCESS_KEY="),
    (f'{{"SecretAccessKey": "{AWS_SECRET}"}}', AWS_SECRET, '"SecretAccessKey": '),
    (f"aws_session_token={JWT}", JWT, "aws_session_token="),
    # Tokens recognisable by their shape.
    (f"git push https://github.com with {GHP}", GHP, "git push"),
    (f"GITHUB_TOKEN: {GH_PAT}", GH_PAT, "GITHUB_TOKEN"),
    (f"gitlab {GLPAT}", GLPAT, "gitlab"),
    (f"slack bot {SLACK_BOT}", SLACK_BOT, "slack bot"),
    (f"slack app {SLACK_APP}", SLACK_APP, "slack app"),
    (f"notify: {SLACK_HOOK}", "XXXXXXXXXXXXXXXXXXXXXXXX", "notify: "),
    (f"webhook {DISCORD_HOOK}", "AbCd-EfGh_AbCd", "webhook"),
    (f"stripe.api_key = '{STRIPE}'", STRIPE, "stripe.api_key"),
    (f"signing {STRIPE_HOOK}", STRIPE_HOOK, "signing"),
    (f"maps key {GOOGLE}", GOOGLE, "maps key"),
    (f"oauth client {GOOGLE_OAUTH}", GOOGLE_OAUTH, "oauth client"),
    (f"publish with {NPM}", NPM, "publish with"),
    (f"twine upload -p {PYPI}", PYPI, "twine upload"),
    (f"mail {SENDGRID}", SENDGRID, "mail"),
    (f"TWILIO_AUTH_TOKEN={TWILIO_TOKEN}", TWILIO_TOKEN, "TWILIO_AUTH_TOKEN="),
    (f"twilio api {TWILIO_KEY}", TWILIO_KEY, "twilio api"),
    (f"mailgun {MAILGUN}", MAILGUN, "mailgun"),
    (f"client = OpenAI({OPENAI!r})", OPENAI, "client = OpenAI("),
    (f"claude {ANTHROPIC}", ANTHROPIC, "claude"),
    (f"doctl {DIGITALOCEAN}", DIGITALOCEAN, "doctl"),
    (f"shop {SHOPIFY}", SHOPIFY, "shop"),
    (f"databricks {DATABRICKS}", DATABRICKS, "databricks"),
    (f"vault login {VAULT}", VAULT, "vault login"),
    (f"hub {HUGGINGFACE}", HUGGINGFACE, "hub"),
    (f"azure app secret {AZURE_AD}", AZURE_AD, "azure app secret"),
    (f"sops {AGE_KEY}", AGE_KEY, "sops"),
    (f"session {JWT}", JWT, "session"),
    # Private keys, raw and escaped in JSON, and base64-wrapped (kubeconfig).
    (f"key file: {RSA_KEY}", PEM_BODY, "key file: "),
    (EC_KEY, PEM_BODY, ""),
    (SSH_KEY, PEM_BODY, ""),
    (PGP_KEY, PEM_BODY, ""),
    (json.dumps({"private_key": RSA_KEY}), PEM_BODY, '"private_key"'),
    (f"client-key-data: {PEM_B64}", PEM_B64[:40], "client-key-data: "),
    (f"payload {PEM_B64}", PEM_B64[:40], "payload"),
    # Passwords in URLs: user and host stay.
    (f"pip install pkg @ https://deploy:{PW}@pkgs.example.com/pkg.tar.gz", PW, "https://deploy:"),
    (f"DATABASE_URL=postgres://app:{PW}@db.internal:5432/app", PW, "postgres://app:"),
    (f"mysql://root:{PW}@127.0.0.1/mysql", PW, "@127.0.0.1/mysql"),
    (f"mongodb+srv://svc:{PW}@cluster0.example.net/?retryWrites=true", PW, "mongodb+srv://svc:"),
    (f"redis://:{PW}@cache:6379/0", PW, "@cache:6379/0"),
    (f"amqp://guest:{PW}@rabbit:5672/", PW, "amqp://guest:"),
    (f"ftp://upload:{PW}@ftp.example.com/in", PW, "ftp://upload:"),
    (f"postgres://app:p@ss{PW}@db/app", PW, "@db/app"),  # an @ in the password
    (f"git clone https://x-access-token:{PW}@github.com/org/repo.git", PW, "github.com/org/repo.git"),
    # Connection strings.
    (f"Server=tcp:sql.example.net,1433;Database=app;User ID=admin;Password={PW};Encrypt=True", PW, "User ID=admin"),
    (f"Driver={{ODBC}};Server=db;Uid=sa;Pwd={PW};", PW, "Uid=sa"),
    (f"jdbc:postgresql://db:5432/app?user=app&password={PW}&ssl=true", PW, "user=app"),
    (f"jdbc:sqlserver://db:1433;user=sa;password={PW};", PW, "user=sa"),
    (f"jdbc:oracle:thin:scott/{PW}@db.example.com:1521:orcl", PW, "jdbc:oracle:thin:scott/"),
    (f"sqlplus scott/{PW}@orcl", PW, "sqlplus scott/"),
    ("DefaultEndpointsProtocol=https;AccountName=store;AccountKey=" + "Zm9vYmFy" * 8 + "==;EndpointSuffix=core",
     "Zm9vYmFy" * 8, "AccountName=store"),
    ("Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + "QmFy" * 8 + "=",
     "QmFy" * 8, "SharedAccessKeyName=Root"),
    ("https://store.blob.core.windows.net/c?sv=2021-06-08&se=2027-01-01&sig=" + "AbC%2Bd%3D" * 4,
     "AbC%2Bd%3D" * 4, "sv=2021-06-08"),
    # Settings: key=value, key: value, JSON, YAML, code.
    (f"api_key={PW}", PW, "api_key="),
    (f"DB_PASSWORD={PW}", PW, "DB_PASSWORD="),
    (f"export SMTP_PASS='{PW}'", PW, "export SMTP_PASS="),
    (f"password: {PW}", PW, "password: "),
    (f"  client_secret: \"{PW}\"", PW, "client_secret"),
    (f'{{"password": "{PW}", "user": "app"}}', PW, '"user": "app"'),
    (f"spring.datasource.password={PW}", PW, "spring.datasource.password="),
    (f'const dbPassword = "{PW}";', PW, "const dbPassword = "),
    (f'secretKey: "{PW}"', PW, "secretKey"),
    (f'master_password = "{PW}"', PW, "master_password"),
    (f'conn.login(user, password := "{PW}")', PW, "conn.login(user, password"),
    (f'if password == "{PW}":', PW, "if password =="),
    (f"ENV DB_PASSWORD {PW}", PW, "ENV DB_PASSWORD "),
    (f"ENV API_TOKEN={PW}", PW, "ENV API_TOKEN="),
    (f"FROM python:3.12\nENV DB_PASSWORD {PW}\nRUN pip install flask", PW, "\nRUN pip install flask"),
    (f"/bin/sh -c #(nop)  ENV SMTP_PASSWORD {PW}", PW, "#(nop)  ENV SMTP_PASSWORD "),
    (f"passphrase={PW}", PW, "passphrase="),
    (f"PGPASSWORD={PW} psql -h db", PW, "psql -h db"),
    # Calls and headers.
    (f'requests.get(url, auth=("admin", "{PW}"))', PW, 'auth=("admin", '),
    (f"session.auth = HTTPBasicAuth('admin', '{PW}')", PW, "HTTPBasicAuth('admin', "),
    (f'aiohttp.BasicAuth(login="admin", password="{PW}")', PW, 'login="admin"'),
    (f"axios.get(url, {{auth: {{username: 'admin', password: '{PW}'}}}})", PW, "username: 'admin'"),
    (f"Authorization: Bearer {OPENAI[8:]}", OPENAI[8:], "Authorization: Bearer "),
    (f"Authorization: Basic {BASIC}", BASIC, "Authorization: Basic "),
    (f'headers = {{"Authorization": "Basic {BASIC}"}}', BASIC, '"Authorization": "Basic '),
    (f"Proxy-Authorization: Basic {BASIC}", BASIC, "Proxy-Authorization: Basic "),
    (f"X-Api-Key: {PW}", PW, "X-Api-Key: "),
    # Command lines.
    (f"deploy --password {PW} --verbose", PW, "--verbose"),
    (f"vault write --client-secret={PW}", PW, "--client-secret="),
    (f"curl -u deploy:{PW} https://api.example.com", PW, "curl -u deploy:"),
    (f"curl --user deploy:{PW} https://api.example.com", PW, "curl --user deploy:"),
    (f"mysql -h db -u root -p{PW} app", PW, "mysql -h db -u root -p"),
    (f"sshpass -p {PW} ssh deploy@host", PW, "ssh deploy@host"),
    (f"docker login -u deploy -p {PW} registry.example.com", PW, "registry.example.com"),
    (f"redis-cli -h cache -a {PW} ping", PW, "ping"),
    # Tool configuration files.
    (f'{{"auths": {{"registry.example.com": {{"auth": "{BASIC}"}}}}}}', BASIC, '"registry.example.com"'),
    (f"//registry.npmjs.org/:_authToken={NPM}", NPM, "//registry.npmjs.org/:_authToken="),
    (f"//npm.example.com/:_authToken={PW}", PW, "//npm.example.com/:_authToken="),
    (f"//npm.example.com/:_auth={BASIC}", BASIC, "//npm.example.com/:_auth="),
    (f"machine api.example.com login deploy password {PW}", PW, "machine api.example.com login deploy"),
]

# Texts that look like secrets but are not: they must come out unchanged.
READABLE_ROWS: list[str] = [
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-password-AbCdEf is not rotated",
    "secret 'db-password' was rotated 12 days ago (maximum 90)",
    "password_last_used: 2026-11-01T10:00:00Z",
    '"PasswordLastUsed": "2026-11-01T10:00:00Z"',
    "MinimumPasswordLength: 8",
    "MaxPasswordAge: 90",
    "PasswordReusePrevention: 24",
    "token_count: 5",
    "tokenCount: 5",
    "passed: Ensure IAM password policy requires minimum length of 14 or greater",
    "Pass: 12, Fail: 3",
    "Ensure no hard coded AWS access key and secret key exists in provider",
    "src/auth/password_reset.py:12",
    "/run/secrets/db_password",
    "DB_PASSWORD_FILE=/run/secrets/db_password",
    "password = os.environ['DB_PASSWORD']",
    'password = os.getenv("DB_PASSWORD")',
    "token: ${GITHUB_TOKEN}",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "password: null",
    'password: ""',
    "password: '********'",
    "api_key: <your-api-key>",
    "auth=auth",
    "requests.get(url, auth=(user, password))",
    "Bearer authentication is required for every endpoint",
    "Authorization header missing",
    "image@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "request_id=1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "aws.iam.password_policy: FAIL",
    "secrets.inventory.rotation_age",
    "deps.vulnerable_package: python-secret==1.0.3 is affected",
    "auth-token==2.0",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
    "https://github.com/pallets/jinja/security/advisories/GHSA-h5c8-rqwp-cp95",
    "postgres://db.internal:5432/app",
    "https://deploy@pkgs.example.com/simple",
    "curl -u deploy https://api.example.com",
    "mysql -h db -u root app",
    "docker run -p 8080:80 app",
    "--password-file /run/secrets/db",
    "access_key_1_last_rotated: 2026-01-01",
    "RotationEnabled: false",
    "SharedAccessKeyName=RootManageSharedAccessKey",
    "token_type: bearer",
    "KMS key arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "-----BEGIN CERTIFICATE-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@host",
    "app.tar: ENV AWS_SECRET_ACCESS_KEY holds a secret (secret key name); the value is not shown",
    "label org.example.deploy-token holds a secret (secret key name); the value is not shown",
]


@pytest.mark.parametrize(("payload", "secret", "keep"), SECRET_ROWS, ids=[r[0][:40] for r in SECRET_ROWS])
def test_secret_shapes_are_masked(payload: str, secret: str, keep: str) -> None:
    out = redact_text(payload)
    assert secret not in out, out
    assert MASK_PREFIX in out
    assert keep in out, out
    assert redact_text(out) == out  # idempotent: masking twice == once


@pytest.mark.parametrize("payload", READABLE_ROWS)
def test_look_alikes_stay_readable(payload: str) -> None:
    assert redact_text(payload) == payload


def test_enough_shapes() -> None:
    assert len(SECRET_ROWS) >= 30 and len(READABLE_ROWS) >= 15


def test_mask_is_stable_and_short() -> None:
    assert mask(PW) == mask(PW) == f"[REDACTED:sha256={__import__('hashlib').sha256(PW.encode()).hexdigest()[:6]}]"
    assert mask(PW) != mask(PW + "x")
    # The same secret in two places gets the same mask: recognisable across findings and runs.
    out = redact_text(f"a password={PW} b postgres://u:{PW}@h/db")
    assert out.count(mask(PW)) == 2


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("secret:db-password", "secret:db-password"),
        ("secret:prod/api-token", "secret:prod/api-token"),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf",
         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf"),
        ("/srv/app/config/password.txt", "/srv/app/config/password.txt"),
        (f"image:registry://deploy:{PW}@127.0.0.1:1/x", f"image:registry://deploy:{mask(PW)}@127.0.0.1:1/x"),
        (f"env:{GHP}", f"env:{mask(GHP)}"),
    ],
)
def test_identifiers_keep_their_names(identifier: str, expected: str) -> None:
    assert redact_formats(identifier) == expected


def test_structures_mask_secret_keys_whatever_the_value() -> None:
    data = {
        "password": PW,
        "dbPassword": PW,
        "SecretString": PW,
        "headers": {"Authorization": f"Basic {BASIC}", "Cookie": f"session={PW}", "Accept": "json"},
        "env": [f"DB_PASSWORD={PW}", "LANG=C"],
        "labels": {"org.example.token": PW, "org.example.owner": "team-a"},
        "password_last_used": "2026-11-01",
        "token_count": 5,
        "password_required": True,
        "note": f"rotated; old value was {GHP}",
    }
    out = redact(data)
    assert PW not in json.dumps(out) and BASIC not in json.dumps(out) and GHP not in json.dumps(out)
    assert out["password"] == out["dbPassword"] == out["SecretString"] == mask(PW)
    assert out["headers"]["Accept"] == "json"
    assert out["env"] == [f"DB_PASSWORD={mask(PW)}", "LANG=C"]
    assert out["labels"]["org.example.owner"] == "team-a"
    assert (out["password_last_used"], out["token_count"], out["password_required"]) == ("2026-11-01", 5, True)
    assert redact(out) == out


def test_one_line_masks_and_escapes() -> None:
    assert one_line(f"bad\nline password={PW}") == f"bad\\nline password={mask(PW)}"


def test_detectors_are_shared_with_detection() -> None:
    # What the image scanner finds by shape is what redaction masks (one list).
    for token in (AKIA, GHP, GLPAT, STRIPE, GOOGLE, NPM, SENDGRID, OPENAI, ANTHROPIC, DIGITALOCEAN, SHOPIFY,
                  DATABRICKS, VAULT, HUGGINGFACE, JWT, SLACK_BOT, SLACK_HOOK, AGE_KEY, PEM_B64):
        assert value_detectors(token), token
        assert token not in redact_formats(f"x {token} y")
    assert is_secret_key("DB_PASSWORD") and is_secret_key("dbPassword") and is_secret_key("API_TOKEN")
    assert not is_secret_key("DB_PASSWORD_FILE") and not is_secret_key("PASSWORD_LENGTH")
    assert not is_secret_key("TOKEN_URL")


def test_every_detector_has_anchors_that_every_match_holds() -> None:
    """Detectors run only where one of their anchors occurs: an anchor a match can lack
    would let that secret through."""
    assert set(DETECTOR_ANCHORS) == {name for name, _ in VALUE_DETECTORS}
    texts = [p for p, _, _ in SECRET_ROWS] + READABLE_ROWS
    matched = set()
    for name, pattern in VALUE_DETECTORS:
        for text in texts:
            for m in pattern.finditer(text):
                assert any(a in m.group(0) for a in DETECTOR_ANCHORS[name]), (name, m.group(0))
                matched.add(name)
    assert matched == set(DETECTOR_ANCHORS)  # every detector has a row


def test_redact_finding_masks_every_text_and_is_idempotent() -> None:
    finding = Finding(
        check_id="code.hardcoded-password", status=Status.FAIL, severity=Severity.HIGH,
        resource=Resource(id=f"file:https://deploy:{PW}@host/x", type="file", path="/repo/app.py", line=12),
        message=f"hard-coded credential: auth=(\"admin\", \"{PW}\")",
        evidence={"line": f'requests.get(url, auth=("admin", "{PW}"))', "env": {"API_TOKEN": PW},
                  "keys": [AKIA], "rule": "hardcoded-password", "lines": [12, 12]},
        waiver={"reason": f"legacy; password={PW}", "approver": "sec@example.com"},
        target=f"image:registry://deploy:{PW}@127.0.0.1:1/x",
    )
    out = redact_finding(finding)
    text = json.dumps(out.to_dict())
    assert PW not in text and AKIA not in text
    assert out.resource.path == "/repo/app.py" and out.evidence["rule"] == "hardcoded-password"
    assert out.evidence["lines"] == [12, 12]
    assert out.fingerprint == finding.fingerprint  # identity is computed before redaction, never changed
    assert redact_finding(out) == out
    assert replace(out) == out


def test_every_free_text_is_masked_where_it_enters_the_database(tmp_path: Path) -> None:
    """Organisation, waiver reason and approver, manual evidence owner, note and approver:
    typed by people, stored as given, except for the secrets in them."""
    when = datetime(2026, 11, 28, tzinfo=UTC)
    store = Store.open(tmp_path / "a.db", create=True)
    try:
        run = Run(id="r1", started_at=when, finished_at=None, status=RunStatus.RUNNING, scanner_version="t")
        store.begin_run(run, ["deps"], organisation=f"Acme {STRIPE}")
        waiver = store.add_waiver("iac.*", "*", f"legacy; token={PW}", f"bob {VAULT}", when, when)
        evidence = store.add_manual_evidence("soc2", "CC1.1", "f.txt", b"content", f"ops password={PW}",
                                             f"portal key {GOOGLE}", when, None, approver=f"carol {GHP}")
    finally:
        store.close()
    assert (waiver["reason"], waiver["approver"]) == (f"legacy; token={mask(PW)}", f"bob {mask(VAULT)}")
    assert (evidence["owner"], evidence["note"], evidence["approver"]) == (
        f"ops password={mask(PW)}", f"portal key {mask(GOOGLE)}", f"carol {mask(GHP)}"
    )
    dump = "\n".join(sqlite3.connect(tmp_path / "a.db").iterdump())
    assert f"Acme {mask(STRIPE)}" in dump
    assert not any(s in dump for s in (PW, STRIPE, VAULT, GOOGLE, GHP))


def test_coverage_records_are_masked_like_findings() -> None:
    class Deps(Provider):
        name = "deps"

        def checks(self) -> list[CheckInfo]:
            return []

        def selected(self, config: AuditConfig) -> bool:
            return True

        def run(self, ctx: ScanContext) -> Iterator[Finding]:
            return iter(())

    coverage = Coverage(
        provider="deps", target=f"deps:/src/{GHP}",
        skipped=(SkippedItem(f"{GHP}/requirements.txt", f"cannot read https://u:{PW}@h/r.txt"),),
        details={"files": [f"{GHP}/requirements.txt"], "source": f"osv:https://mirror:{PW}@osv.example.com"},
    )
    _, (out,) = assign_targets([Deps()], {}, [coverage])
    text = json.dumps(out.to_dict())
    assert PW not in text and GHP not in text
    assert out.target == f"deps:/src/{mask(GHP)}"
    assert out.details["source"] == f"osv:https://mirror:{mask(PW)}@osv.example.com"
