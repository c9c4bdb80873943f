"""Every dashboard route through werkzeug's test client (no browser, no socket), the safety
rules, and the command's refusals."""

from __future__ import annotations

import io
import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from serve_seed import HOSTILE
from werkzeug.test import Client

from auditor.cli import main
from auditor.serve.app import CSP, Dashboard
from auditor.store import FindingFilter, Store

# Made per run: a literal would be a hard-coded credential to the self-scan (and to any reader).
TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def client(seeded_db: Path) -> Client:
    return Client(Dashboard(seeded_db))


def cli_json(*argv: str) -> object:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(argv)) == 0
    return json.loads(out.getvalue())


def latest_fail_fingerprint(db: Path) -> str:
    store = Store.open(db, readonly=True)
    try:
        return next(
            f.fingerprint for f in store.findings_for_run(store.get_run("latest").id) if f.status.value == "FAIL"
        )
    finally:
        store.close()


ROUTES = [
    "/",
    "/controls",
    "/controls?framework=gdpr",
    "/controls/soc2/CC6.1",
    "/controls/soc2/CC1.1",
    "/controls/gdpr/Art.32%281%29%28b%29",
    "/findings",
    "/findings?status=FAIL&severity=high&provider=aws&q=bucket&page=1",
    "/findings?control=soc2:CC6.1",
    "/runs",
    "/diff",
    "/reports",
    "/static/style.css",
    "/static/favicon.svg",
]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_answers_with_the_security_headers(client: Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert r.headers["Content-Security-Policy"] == CSP
    assert "default-src 'none'" in CSP and "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    if r.mimetype == "text/html":
        html = r.get_data(as_text=True)
        assert "<script" not in html and " style=" not in html  # nothing inline for the CSP to block


def test_finding_page_and_permalink(client: Client, seeded_db: Path) -> None:
    fp = latest_fail_fingerprint(seeded_db)
    html = client.get(f"/findings/{fp}").get_data(as_text=True)
    history = cli_json("history", fp, "--db", str(seeded_db), "--format", "json")
    assert isinstance(history, dict)
    assert history["finding"]["first_seen_at"] in html and fp in html
    assert client.get("/findings/0000notafingerprint").status_code == 404


def test_only_get_and_head(client: Client) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        r = client.open("/", method=method)
        assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    assert client.head("/runs").status_code == 200


def test_a_head_never_generates_a_report(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.report

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("HEAD rendered a report")

    monkeypatch.setattr(auditor.report, "write_report", refuse)
    for kind in ("html", "pdf", "pack"):
        r = client.head(f"/reports/download?framework=soc2&kind={kind}")
        assert r.status_code == 405 and r.headers["Allow"] == "GET"


def test_the_numbers_equal_the_cli(client: Client, seeded_db: Path) -> None:
    db = str(seeded_db)
    diff = cli_json("diff", "--db", db, "--format", "json")
    assert isinstance(diff, dict)
    html = client.get("/").get_data(as_text=True)
    for key, anchor in (("new", "diff-new"), ("resolved", "diff-resolved"), ("not_rechecked", "diff-not-rechecked")):
        assert f'id="{anchor}">{len(diff[key])}<' in html
    # the Findings page counts exactly the stored findings of the run with the filter
    store = Store.open(seeded_db, readonly=True)
    try:
        latest = store.get_run("latest")
        expected = [
            f for f in store.findings_for_run(latest.id) if f.status.value == "FAIL" and "soc2:CC2.1" in f.controls
        ]
        total, _ = store.search_findings(
            store.run_sequences()[latest.id], FindingFilter(status="FAIL", control="soc2:CC2.1"), 10, 0
        )
    finally:
        store.close()
    assert total == len(expected) > 0
    html = client.get("/findings?status=FAIL&control=soc2:CC2.1").get_data(as_text=True)
    assert f'<span id="findings-total">{len(expected)}</span>' in html
    # pages of 100 cover the run exactly once
    all_html = [client.get(f"/findings?page={p}").get_data(as_text=True) for p in (1, 2)]
    assert sum(h.count('class="finding-link"') for h in all_html) == 200


def test_hostile_names_are_escaped(client: Client) -> None:
    html = client.get("/findings?resource=onerror").get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;&lt;script&gt;" in html
    assert "<style>body" not in html


def test_evidence_download_by_id_only(client: Client) -> None:
    r = client.get("/evidence/1")
    assert r.status_code == 200 and r.data == b"%PDF-1.4 evidence bytes\n"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="policy__b_v2__b_.pdf"')
    assert r.mimetype == "application/octet-stream"
    for path in (
        "/evidence/2",
        "/evidence/..%2F..%2Fetc%2Fpasswd",
        "/evidence/-1",
        "/static/..%2Fapp.py",
        "/static/../../etc/passwd",
        "/static/app.py",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert b"root:" not in r.data


def test_report_download_is_the_report_command_output(client: Client, seeded_db: Path, tmp_path: Path) -> None:
    r = client.get("/reports/download?framework=soc2&kind=html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="soc2-report.html"')
    html = r.get_data(as_text=True)
    out = tmp_path / "cli.html"
    with redirect_stdout(io.StringIO()):
        assert main(["report", "--db", str(seeded_db), "--framework", "soc2", "--html", str(out)]) == 0
    assert len(html) > 1000
    assert html == out.read_text(encoding="utf-8")  # same code, same clock (AUDITOR_NOW)
    assert sorted(p.name for p in seeded_db.parent.iterdir() if not p.name.startswith("seeded.db")) == []
    assert client.get("/reports/download?framework=nope&kind=html").status_code in (400, 404)
    assert client.get("/reports/download?framework=soc2&kind=exe").status_code == 404


def test_loopback_dashboard_refuses_other_host_names(client: Client) -> None:
    assert client.get("/", headers={"Host": "evil.example:8080"}).status_code == 403
    assert client.get("/", headers={"Host": "127.0.0.1:8080"}).status_code == 200


def test_token_on_every_request(seeded_db: Path) -> None:
    c = Client(Dashboard(seeded_db, token=TOKEN))
    assert c.get("/").status_code == 401
    assert c.get("/static/style.css").status_code == 401
    assert c.get("/", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert c.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert c.get("/findings?token=wrong").status_code == 401
    r = c.get(f"/findings?status=FAIL&token={TOKEN}")
    assert r.status_code == 303 and r.headers["Location"] == "/findings?status=FAIL"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert c.get("/findings?status=FAIL").status_code == 200  # the client keeps the cookie


def test_serve_refuses_a_non_loopback_bind_without_a_token(
    capsys: pytest.CaptureFixture[str], seeded_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDITOR_SERVE_TOKEN", raising=False)
    assert main(["serve", "--db", str(seeded_db), "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a loopback address, without a token" in err
    assert main(["serve", "--db", str(seeded_db), "--host", "0.0.0.0", "--token", "short"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err


def test_serve_with_a_missing_database_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--db", str(tmp_path / "none.db"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no auditor database" in err
    assert not (tmp_path / "none.db").exists()


def test_a_non_loopback_server_refuses_requests_without_the_token(seeded_db: Path) -> None:
    from serve_live import LiveServer

    server = LiveServer(Dashboard(seeded_db, token=TOKEN), host="0.0.0.0")
    try:
        # reach it through a non-loopback address of this machine when there is one
        addr = "127.0.0.1"
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))  # no packet is sent (UDP connect only picks a route)
                addr = s.getsockname()[0]
        except OSError:
            pass
        url = f"http://{addr}:{server.port}/"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(url, timeout=10)
        assert denied.value.code == 401
        ok = urllib.request.urlopen(
            urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"}), timeout=10
        )
        assert ok.status == 200
    finally:
        server.close()


def test_the_wheel_ships_every_template_and_static_file() -> None:
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[2]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["auditor.serve"]
    package = root / "auditor" / "serve"
    files = [p.relative_to(package).as_posix() for d in ("templates", "static") for p in (package / d).iterdir()]
    assert files and all(any(fnmatch.fnmatch(f, g) for g in globs) for f in files), files


@pytest.mark.slow
def test_the_signed_pack_download_verifies(seeded_db: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from auditor.report import verify_pack

    key = Ed25519PrivateKey.generate()
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "pub.pem").write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    c = Client(Dashboard(seeded_db, sign_key=tmp_path / "key.pem"))
    assert "Evidence pack (signed)" in c.get("/reports").get_data(as_text=True)
    r = c.get("/reports/download?framework=gdpr&kind=pack")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="gdpr-evidence-pack.zip"')
    pack = tmp_path / "pack.zip"
    pack.write_bytes(r.data)
    result = verify_pack(pack, tmp_path / "pub.pem")
    assert (result.signature, result.exit_code) == ("valid", 0)
    assert {"report.pdf", "report.html", "findings.csv"} <= set(result.verified)
    # a period that has no run is the report command's own one-line error, as a 404 page
    r = c.get("/reports/download?framework=gdpr&kind=html&period=2020-01-01..2020-03-31")
    assert r.status_code == 400 and "no stored run of framework gdpr in the period" in r.get_data(as_text=True)


def test_unknown_run_and_bad_page_numbers(client: Client) -> None:
    r = client.get("/findings?run=no-such-run")
    assert r.status_code == 404 and "no run &#39;no-such-run&#39;" in r.get_data(as_text=True)
    assert client.get("/findings?page=0").status_code == 200
    assert client.get("/findings?page=abc").status_code == 200
    assert client.get("/diff?a=no-such-run&b=x").status_code == 404
    assert client.get("/controls/soc2/NOPE").status_code == 404
    assert client.get("/controls?framework=nope").status_code == 404


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_the_serve_command_serves_until_interrupted(seeded_db: Path, stop_signal: str) -> None:
    """Ctrl-C or a service manager's SIGTERM stops it cleanly, even in the middle of answering:
    waitress swallows a KeyboardInterrupt that lands in its response callbacks (the signal only
    sets a flag the loop checks), and a worker still answering when the sockets close fails with
    a traceback (the loop runs on until the requests in flight are done)."""
    import signal
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "auditor"
    proc = subprocess.Popen(
        [str(exe), "serve", "--db", str(seeded_db), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stopped = threading.Event()

    def hammer(url: str) -> None:  # requests keep arriving while the signal lands
        while not stopped.is_set():
            try:
                with urllib.request.urlopen(url + "runs", timeout=5) as r:
                    r.read()
            except Exception:  # noqa: BLE001 - the server going away mid-request ends the loop
                return

    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("auditor serve: http://127.0.0.1:") and "read-only" in line, line
        url = line.split()[2]
        with urllib.request.urlopen(url + "runs", timeout=20) as r:
            assert r.status == 200 and b"run-05-" in r.read()
        for _ in range(3):
            threading.Thread(target=hammer, args=(url,), daemon=True).start()
        time.sleep(0.3)
    finally:
        proc.send_signal(getattr(signal, stop_signal))
        try:
            out, err = proc.communicate(timeout=20)
        finally:
            stopped.set()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err  # a stop signal is how a server is stopped: not an error
    assert out.strip().endswith("auditor serve: stopped") and "Traceback" not in err


def test_schedule_gaps_between_runs_and_since_the_last_run(client: Client) -> None:
    html = client.get("/").get_data(as_text=True)
    # the seed skips 2026-10-04; the clock (AUDITOR_NOW) is 2026-11-28, the last run 2026-10-07
    assert "2026-10-04 – 2026-10-04 (1 day without a run)" in html
    assert "No run for 52 days: none since 2026-10-08 (today 2026-11-28)." in html


def test_a_busy_port_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], seeded_db: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--db", str(seeded_db), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err
    assert main(["serve", "--db", str(seeded_db), "--port", "70000"]) == 2


def test_regressed_and_recovered_controls_equal_the_trend(tmp_path: Path) -> None:
    from serve_seed import build_database

    db = tmp_path / "four.db"
    build_database(db, runs=4, per_run=60)  # the 4th run fails one more finding: some controls regress
    trend = cli_json("trend", "--db", str(db), "--framework", "soc2", "--format", "json")
    assert isinstance(trend, dict)
    regressed = sorted(c["control"] for c in trend["controls"] if c["statuses"][-2:] == ["PASS", "FAIL"])
    assert regressed
    html = Client(Dashboard(db)).get("/").get_data(as_text=True)
    section = html.split('id="fw-soc2"')[1].split("</section>")[0]
    shown = sorted(part.split(">")[1] for part in section.split("Regressed:")[1].split("</p>")[0].split("</a>")[:-1])
    assert shown == regressed


def test_a_bug_is_a_plain_500_without_details(seeded_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.serve import views

    def broken(store: Store) -> None:
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr(views, "overview", broken)
    r = Client(Dashboard(seeded_db)).get("/")
    assert r.status_code == 500 and r.headers["Content-Security-Policy"] == CSP
    assert b"shadow" not in r.data and b"Traceback" not in r.data


def test_other_sites_may_link_to_pages_but_not_embed_fetch_or_download(client: Client) -> None:
    def get(path: str, site: str, mode: str) -> int:
        return client.get(path, headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode}).status_code

    assert get("/findings", "cross-site", "navigate") == 200  # a link in a ticket or a chat
    assert get("/findings", "cross-site", "no-cors") == 403  # <img>, <script> on another site
    assert get("/findings", "cross-site", "cors") == 403  # fetch() from another site
    assert get("/evidence/1", "cross-site", "navigate") == 403
    assert get("/reports/download?framework=soc2&kind=html", "cross-site", "navigate") == 403
    assert get("/findings", "same-site", "no-cors") == 403  # another web app on this host, another port
    assert get("/evidence/1", "same-origin", "navigate") == 200
    assert get("/evidence/1", "none", "navigate") == 200  # typed into the address bar
