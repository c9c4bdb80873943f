"""Notifications after a run, against a webhook and an SMTP server (STARTTLS + AUTH) on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
import socket
import sqlite3
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.demo import make_certificate
from tests.conftest import NOW, CliResult, write_inventory

Cli = Callable[..., CliResult]
SMTP_USER = "auditor"
SMTP_PASSWORD = "s3cret-smtp-Pa55"
WEBHOOK_TOKEN = "T0KEN-IN-THE-PATH-4f9a"

# Webhook ---------------------------------------------------------------------------------


@dataclass
class Webhook:
    server: ThreadingHTTPServer
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{WEBHOOK_TOKEN}"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook: Webhook

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hook.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook = Webhook(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()
    thread.join(5)


# SMTP with STARTTLS and AUTH ---------------------------------------------------------------------


def make_tls_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client trusts it through `ca_file`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    real_now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(real_now - timedelta(days=1))
        .not_valid_after(real_now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    port: int
    ca_file: Path
    messages: list[dict[str, Any]] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, accepted)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    cert, key = make_tls_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(cert), str(key))
    box = Mailbox(free_port(), cert)

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            box.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "content": (envelope.content or b"").decode("utf-8")
                    if isinstance(envelope.content, bytes)
                    else str(envelope.content),
                    "tls": session.ssl is not None,
                    "authenticated": session.authenticated,
                }
            )
            return "250 OK"

    def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == SMTP_USER.encode()
            and data.password == SMTP_PASSWORD.encode()
        )
        box.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=box.port,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
        # PLAIN only: smtplib would retry a refused login with LOGIN, and the test counts attempts.
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    yield box
    controller.stop()


# Scans through the CLI ---------------------------------------------------------------------------


def estate(folder: Path, *, expired_cert: bool, old_secret: bool = False) -> Path:
    """An inventory at NOW: an expired certificate is a critical FAIL, a secret 160 days old a medium FAIL."""
    day = timedelta(days=1)
    if expired_cert:
        make_certificate(folder / "certs" / "edge.pem", "edge.example", NOW - 400 * day, NOW - 3 * day)
    else:
        make_certificate(folder / "certs" / "edge.pem", "edge.example", NOW - 10 * day, NOW + 300 * day)
    rotated = "2026-06-21" if old_secret else "2026-11-01"
    body = (
        f"secrets:\n  - name: db-password\n    last_rotated: {rotated}\n"
        "  - name: edge-cert\n    certificate: certs/edge.pem\n"
    )
    return write_inventory(folder, body)


def write_config(
    folder: Path,
    inventory: Path,
    *,
    webhook_url: str | None = None,
    webhook_format: str = "json",
    mailbox: Mailbox | None = None,
    smtp_port: int | None = None,
    min_severity: str = "high",
    fail_on: str = "none",
) -> Path:
    lines = [
        "organisation: Acme Ltd",
        "database: audit.db",
        "targets:",
        f"  secrets_inventory: {inventory}",
        f"fail_on: {fail_on}",
        "notifications:",
        f"  min_severity: {min_severity}",
    ]
    if webhook_url is not None:
        lines += [
            "  webhook:",
            "    url: ${TEST_WEBHOOK_URL}",
            f"    format: {webhook_format}",
            "    timeout_seconds: 5",
        ]
    if mailbox is not None or smtp_port is not None:
        lines += [
            "  email:",
            "    host: 127.0.0.1",
            f"    port: {smtp_port if smtp_port is not None else mailbox.port if mailbox else 0}",
            "    starttls: true",
            "    username: ${TEST_SMTP_USER}",
            "    password: ${TEST_SMTP_PASSWORD}",
            "    from: auditor@acme.example",
            "    to: [security@acme.example, cto@acme.example]",
            "    timeout_seconds: 5",
        ]
        if mailbox is not None:
            lines.append(f"    ca_file: {mailbox.ca_file}")
    path = folder / "audit.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.delenv("AUDITOR_DB", raising=False)


def notification_rows(db: Path) -> list[tuple[str, str, str, str, int]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute("SELECT run_id, channel, status, detail, findings FROM notifications")]
    finally:
        conn.close()


def run_ids(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute("SELECT id, status FROM runs ORDER BY seq")]
    finally:
        conn.close()


def scan(cli: Cli, config: Path) -> tuple[CliResult, str]:
    res = cli("scan", "--config", str(config), "--format", "json")
    doc = res.json()
    assert isinstance(doc, dict)
    return res, str(doc["run"]["id"])


def test_new_critical_is_sent_once_by_webhook_and_email(
    cli: Cli, tmp_path: Path, webhook: Webhook, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_URL", webhook.url)
    inventory = estate(tmp_path / "estate", expired_cert=True)
    config = write_config(tmp_path, inventory, webhook_url=webhook.url, mailbox=mailbox)
    res, run_id = scan(cli, config)
    assert res.code == 0

    # Webhook: exactly one POST with the generic document; only ids, counts and severities.
    assert len(webhook.requests) == 1
    req = webhook.requests[0]
    assert req["path"] == f"/hooks/{WEBHOOK_TOKEN}"
    assert req["headers"]["Content-Type"] == "application/json"
    body = req["body"]
    assert set(body) == {
        "schema",
        "organisation",
        "run",
        "previous_run_id",
        "min_severity",
        "incomplete",
        "counts",
        "findings",
        "truncated",
        "scanner_version",
    }
    assert body["incomplete"] is None  # every check looked
    assert body["schema"] == "auditor.notification/1"
    assert body["organisation"] == "Acme Ltd"
    assert body["run"]["id"] == run_id
    assert body["previous_run_id"] is None
    assert body["counts"] == {"total": 1, "new": 1, "regressed": 0, "by_severity": {"critical": 1, "high": 0}}
    assert [(f["check_id"], f["resource_id"], f["severity"], f["change"]) for f in body["findings"]] == [
        ("secrets.certificate.expiry", "secret:edge-cert", "critical", "new")
    ]
    assert set(body["findings"][0]) == {
        "fingerprint",
        "check_id",
        "resource_id",
        "severity",
        "change",
        "previous_status",
    }
    assert body["truncated"] is False

    # E-mail: one message, over STARTTLS, after AUTH, to both recipients, without secrets.
    assert mailbox.logins == [(SMTP_USER, True)]
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["tls"] is True and mail["authenticated"] is True
    assert mail["from"] == "auditor@acme.example"
    assert mail["to"] == ["security@acme.example", "cto@acme.example"]
    assert "Subject: [auditor] Acme Ltd: 1 new or regressed findings (1 critical)" in mail["content"]
    assert "secrets.certificate.expiry  secret:edge-cert" in mail["content"]
    for secret in (SMTP_PASSWORD, WEBHOOK_TOKEN, "not_after", "expired"):
        assert secret not in mail["content"]
        assert secret not in json.dumps(body)

    db = tmp_path / "audit.db"
    assert notification_rows(db) == [(run_id, "webhook", "sent", "", 1), (run_id, "email", "sent", "", 1)]

    # Nothing new in the next run: nothing is sent, nothing is recorded.
    res2, run2 = scan(cli, config)
    assert res2.code == 0 and run2 != run_id
    assert len(webhook.requests) == 1
    assert len(mailbox.messages) == 1
    assert len(notification_rows(db)) == 2


def test_not_sent_for_findings_below_the_threshold(
    cli: Cli, tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_URL", webhook.url)
    # Only a medium FAIL (a secret 160 days old; overdue but not twice its maximum age).
    inventory = estate(tmp_path / "estate", expired_cert=False, old_secret=True)
    config = write_config(tmp_path, inventory, webhook_url=webhook.url, min_severity="high")
    res, _ = scan(cli, config)
    assert res.code == 0
    summary = res.json()["summary"]  # type: ignore[index]
    assert summary["failed_by_severity"]["medium"] == 1
    assert webhook.requests == []
    assert notification_rows(tmp_path / "audit.db") == []

    # The same finding at a lower threshold is reported (and only it).
    config = write_config(tmp_path, inventory, webhook_url=webhook.url, min_severity="medium")
    (tmp_path / "audit.db").unlink()
    scan(cli, config)
    assert len(webhook.requests) == 1
    assert [(f["resource_id"], f["severity"]) for f in webhook.requests[0]["body"]["findings"]] == [
        ("secret:db-password", "medium")
    ]


def test_regressed_finding_is_sent_with_its_previous_status(
    cli: Cli, tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_URL", webhook.url)
    folder = tmp_path / "estate"
    inventory = estate(folder, expired_cert=False)
    config = write_config(tmp_path, inventory, webhook_url=webhook.url, webhook_format="slack")
    _, first = scan(cli, config)
    assert webhook.requests == []  # nothing at or above high
    estate(folder, expired_cert=True)  # the same certificate, now expired: PASS -> FAIL critical
    _, second = scan(cli, config)
    assert len(webhook.requests) == 1
    body = webhook.requests[0]["body"]
    assert set(body) == {"text", "blocks"}
    assert body["text"] == (
        "auditor: Acme Ltd: 1 new or regressed FAIL finding at or above high (1 critical) in run " + second
    )
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "context"]
    assert body["blocks"][2]["text"]["text"] == (
        "• *critical* `secrets.certificate.expiry` on `secret:edge-cert` (was PASS)"
    )
    assert f"compared with `{first}`" in body["blocks"][3]["elements"][0]["text"]


def test_undeliverable_notifications_are_recorded_and_keep_the_run_and_exit_code(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()  # nothing listens there
    monkeypatch.setenv("TEST_WEBHOOK_URL", f"http://127.0.0.1:{closed}/hooks/{WEBHOOK_TOKEN}")
    inventory = estate(tmp_path / "estate", expired_cert=True)
    config = write_config(tmp_path, inventory, webhook_url="set", smtp_port=closed, fail_on="critical")
    res, run_id = scan(cli, config)
    assert res.code == 1  # the gate decides, as without notifications
    db = tmp_path / "audit.db"
    assert run_ids(db) == [(run_id, "complete")]
    rows = notification_rows(db)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        (run_id, "webhook", "failed", 1),
        (run_id, "email", "failed", 1),
    ]
    assert (
        rows[0][3]
        == f"webhook http://127.0.0.1:{closed} unreachable: ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert rows[1][3].startswith(f"SMTP 127.0.0.1:{closed}: ConnectionRefusedError")
    warnings = [r.getMessage() for r in caplog.records if r.name == "auditor.notify" and r.levelname == "WARNING"]
    assert warnings == [
        f"webhook notification for run {run_id} not delivered: {rows[0][3]}",
        f"email notification for run {run_id} not delivered: {rows[1][3]}",
    ]
    assert "Traceback" not in res.err
    for text in (*warnings, json.dumps(rows)):
        assert WEBHOOK_TOKEN not in text and SMTP_PASSWORD not in text

    # Same scan without any notification settings: the same exit code.
    plain = tmp_path / "plain.yaml"
    plain.write_text(f"database: plain.db\ntargets:\n  secrets_inventory: {inventory}\nfail_on: critical\n")
    assert cli("scan", "--config", str(plain), "--format", "json").code == 1


def test_rejections_are_recorded(
    cli: Cli, tmp_path: Path, webhook: Webhook, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-password")
    webhook.status = 500
    inventory = estate(tmp_path / "estate", expired_cert=True)
    config = write_config(tmp_path, inventory, webhook_url=webhook.url, mailbox=mailbox)
    res, run_id = scan(cli, config)
    assert res.code == 0
    assert len(webhook.requests) == 1
    assert mailbox.logins == [(SMTP_USER, False)] and mailbox.messages == []
    assert notification_rows(tmp_path / "audit.db") == [
        (
            run_id,
            "webhook",
            "failed",
            f"webhook http://127.0.0.1:{webhook.server.server_address[1]} answered HTTP 500",
            1,
        ),
        (run_id, "email", "failed", f"SMTP 127.0.0.1:{mailbox.port}: authentication refused (535)", 1),
    ]


def test_untrusted_smtp_certificate_is_refused_unless_verification_is_off(
    cli: Cli, tmp_path: Path, mailbox: Mailbox
) -> None:
    inventory = estate(tmp_path / "estate", expired_cert=True)
    config = write_config(tmp_path, inventory, mailbox=mailbox)
    text = config.read_text().replace(f"    ca_file: {mailbox.ca_file}\n", "")
    config.write_text(text)
    res, _ = scan(cli, config)
    assert res.code == 0
    rows = notification_rows(tmp_path / "audit.db")
    assert [(r[1], r[2]) for r in rows] == [("email", "failed")]
    assert "CERTIFICATE_VERIFY_FAILED" in rows[0][3]
    assert mailbox.messages == []

    config.write_text(text + "    tls_verify: false\n")
    (tmp_path / "audit.db").unlink()
    scan(cli, config)
    assert len(mailbox.messages) == 1 and mailbox.messages[0]["tls"] is True


def test_incomplete_scan_is_notified_and_its_failures_are_not_resolved(
    cli: Cli, tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Could not look is never clean: a certificate that became unreadable is not "resolved" (diff),
    its control is ERROR, and the scheduled audit says so even though nothing new failed."""
    monkeypatch.setenv("TEST_WEBHOOK_URL", webhook.url)
    folder = tmp_path / "estate"
    inventory = estate(folder, expired_cert=True)
    config = write_config(tmp_path, inventory, webhook_url=webhook.url)
    _, first = scan(cli, config)
    assert len(webhook.requests) == 1  # the expired certificate: new critical FAIL
    (folder / "certs" / "edge.pem").write_text("not a certificate any more\n")
    res, second = scan(cli, config)
    assert res.code == 3  # incomplete
    assert len(webhook.requests) == 2
    body = webhook.requests[1]["body"]
    assert body["counts"]["total"] == 0  # nothing new failed ...
    incomplete = body["incomplete"]  # ... but the scan could not look
    assert incomplete["error_findings"] == 1
    assert incomplete["checks"] == ["secrets.certificate.expiry"]
    from auditor.catalog import ControlMapper
    from auditor.frameworks import frameworks_for

    # Every control the unreadable certificate's check maps to is ERROR: none is judged without it.
    mapped = set(ControlMapper(frameworks_for(["soc2", "gdpr"]))("secrets.certificate.expiry"))
    assert mapped and set(incomplete["controls_in_error"]) == mapped
    diff = cli("diff", first, second, "--db", str(tmp_path / "audit.db"), "--format", "json").json()
    assert isinstance(diff, dict)
    assert diff["resolved"] == []
    assert [c["check_id"] for c in diff["not_rechecked"]] == ["secrets.certificate.expiry"]
