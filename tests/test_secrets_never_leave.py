"""Secrets never leave: 41 distinct secret values planted in every input kind auditor reads,
then every output it writes is searched for them.

Inputs: Terraform, a Kubernetes manifest and a Dockerfile (checkov, an inline
`checkov:skip` reason too); Python and JavaScript matched by our semgrep rules (the
matched lines hold credentials; a `nosemgrep` reason too); a requirements file (URL
requirements with credentials, an index URL, a VCS token) in a folder whose name is a
token; the secrets inventory (system, owner, description); a container image (ENV, a
label, build history, an SSH key and a .env file); AWS in moto (Lambda environment,
a Secrets Manager value, an S3 classification tag); waiver reasons and approvers (file
and database); manual evidence owner and note; the organisation name; notification
settings from audit.yaml (a webhook URL token, an SMTP password, both from the
environment); an image reference with credentials in it.

Outputs: the real CLI (`auditor.cli.main`, in-process, `-v`): two scans (every output
format of the first one's result, the table of the second), runs, diff, history,
trend, waive list, evidence list, report --html --pdf --pack (PDF text and embedded
attachments, every pack member), a scan that fails on the image reference, stdout and
stderr of every command, every table of the database (`iterdump`, JSON columns
included) and the database file's bytes. Each value is also looked for base64- and
URL-encoded, and with whitespace removed (a PDF may break a long token across lines).
Manual evidence *file content* is the user's own document and holds no planted value.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import sqlite3
import subprocess
import threading
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import pytest

import auditor.cli.scan_cmd as scan_cmd
from auditor.providers.image.build import FileSpec, ImageSpec, Layer, write_docker_archive
from auditor.redact import mask
from auditor.vulndb import VulnDB, import_path
from auditor.vulndb import versions as versions_mod

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _token(prefix: str, n: int, alphabet: str = "AbCdEfGh0123456789") -> str:
    return prefix + (alphabet * (n // len(alphabet) + 1))[:n]


PEM_BODY = "MIIEpQIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9OiJjRazXBZ1BjP5CE" + "LeakedKeyBody0042"
SECRETS: dict[str, str] = {
    # IaC
    "tf_aws_access_key": "AKIA" + "QZ7LEAKTF0000001",
    "tf_aws_secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "TfLeak0001",
    "tf_db_password": "Tf-Db-Pa55word-71936",
    "tf_skip_reason_token": _token("glpat-", 22, "Tf5kipReason"),
    "k8s_env_token": _token("ghp_", 36, "K8sEnvTok3n"),
    "k8s_secret_password": "K8s-Str1ngData-Pw-2026",
    "docker_env_password": "Dckr-Env-Pa55-88410",
    "docker_slack_hook": "DockerHookPath0000XyZ123",
    # Code
    "py_auth_password": "Py-Auth-Pa55-30417",
    "py_url_password": "Py-Url-Pa55-55192",
    "py_stripe_key": _token("sk_live_", 26, "PyStr1peKey"),
    "py_log_password": "Py-Log-Pa55-61028",
    "js_bearer_token": "xoxb-" + "123456789012-1234567890123-" + "JsBearerTok3nJsBearerTok",
    "js_tls_passphrase": "Js-Tls-Pa55-70321",
    "js_nosemgrep_token": _token("npm_", 36, "JsNoSemgrep1"),
    # Requirements
    "req_url_password": "Req-Url-Pa55-40125",
    "req_vcs_token": _token("gho_", 36, "ReqVcsTok3n"),
    "req_index_password": "Req-Idx-Pa55-99012",
    "deps_path_token": _token("ghu_", 36, "DepsPathTok"),
    # Secrets inventory
    "inv_system_password": "Inv-Sys-Pa55-12345",
    "inv_owner_key": _token("sk-proj-", 40, "InvOwnerKey9"),
    "inv_description_password": "Inv-Desc-Pa55-6789",
    # Container image
    "img_env_secret": "ImgEnvSecretAccessKey/" + "K7MDENG0000000000000",
    "img_label_token": "Img-Label-Tok-90210",
    "img_history_password": "Img-Hist-Pa55-31337",
    "img_private_key_body": PEM_BODY,
    "img_dotenv_password": "Img-Dotenv-Pa55-4242",
    # AWS
    "aws_lambda_env": "Aws-Lambda-Env-Pa55-1",
    "aws_secret_string": "Aws-SecretString-Val-2",
    "aws_bucket_tag": "SG." + "AwsBucketTag0000000000" + "." + "AwsBucketTagSendGrid000000000000000000000",
    # Waivers, manual evidence, organisation
    "waiver_file_reason": _token("whsec_", 28, "WaiverFileRsn"),
    "waiver_file_approver": "Wv-File-Appr-Pa55-7",
    "waiver_db_reason": "dapi" + "0123456789abcdef" * 2,
    "waiver_db_approver": _token("hvs.", 26, "WaiverDbAppr"),
    "evidence_note": "AIza" + "SyEvidenceNote-0123456789abcdefghij",
    "evidence_owner": "Ev-Owner-Pa55-5150",
    "organisation": _token("rk_live_", 26, "OrgNameKey"),
    # Targets and settings
    "registry_password": "Reg-Url-Pa55-8080",
    "hook_token": "Hook-Tok-Pa55-4443",
    "smtp_password": "Smtp-Pa55-Word-2525",
    "env_registry_password": "Env-Reg-Pa55-6060",
}
# Values that reach an output in masked form (the others are never shown at all).
SHOWN_MASKED = (
    "req_url_password", "req_vcs_token", "deps_path_token", "py_auth_password", "py_url_password",
    "inv_system_password", "inv_owner_key", "organisation", "waiver_file_reason", "waiver_file_approver",
    "waiver_db_reason", "waiver_db_approver", "evidence_owner", "evidence_note", "registry_password",
)
PRIVATE_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"


# The estate -------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def build_files(root: Path) -> dict[str, Path]:
    s = SECRETS
    write(root / "iac" / "main.tf", f"""\
provider "aws" {{
  region     = "eu-west-1"
  access_key = "{s['tf_aws_access_key']}"
  secret_key = "{s['tf_aws_secret_key']}"
}}

resource "aws_s3_bucket" "logs" {{
  #checkov:skip=CKV_AWS_18:legacy bucket, deploy token {s['tf_skip_reason_token']}
  bucket = "example-logs"
}}

resource "aws_db_instance" "app" {{
  identifier          = "app"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = "{s['tf_db_password']}"
  publicly_accessible = true
}}
""")
    write(root / "iac" / "k8s.yaml", f"""\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:latest
      env:
        - name: API_TOKEN
          value: "{s['k8s_env_token']}"
---
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: "{s['k8s_secret_password']}"
""")
    write(root / "iac" / "Dockerfile", f"""\
FROM python:3.12
ENV DB_PASSWORD={s['docker_env_password']}
ENV SLACK_WEBHOOK https://hooks.slack.com/services/T00000000/B00000000/{s['docker_slack_hook']}
RUN pip install flask
""")
    write(root / "code" / "app.py", f"""\
import logging

import requests

stripe_api_key = "{s['py_stripe_key']}"


def fetch():
    r = requests.get("http://api.example.com/x", auth=("admin", "{s['py_auth_password']}"), verify=False)
    requests.get("http://deploy:{s['py_url_password']}@api.example.com/data")
    logging.info("login with password={s['py_log_password']} for %s", password)
    return r
""")
    write(root / "code" / "web.js", f"""\
const https = require("https");
const agent = new https.Agent({{ rejectUnauthorized: false, passphrase: "{s['js_tls_passphrase']}" }});
fetch("http://api.example.com/x", {{ headers: {{ Authorization: "Bearer {s['js_bearer_token']}" }} }});
// nosemgrep: js.plaintext-http-request -- internal mirror, token {s['js_nosemgrep_token']}
fetch("http://mirror.example.com/y");
""")
    deps = root / "deps" / s["deps_path_token"]
    write(deps / "requirements.txt", f"""\
--index-url https://deploy:{s['req_index_password']}@pkgs.example.com/simple
jinja2==3.1.2
idna==3.7
private-pkg @ https://deploy:{s['req_url_password']}@pkgs.example.com/private-pkg-1.0.tar.gz
-e git+https://oauth2:{s['req_vcs_token']}@github.com/org/tool.git#egg=tool
""")
    write(root / "inventory.yaml", f"""\
secrets:
  - name: db-password
    owner: platform-team
    system: postgres://admin:{s['inv_system_password']}@db.internal/app
    last_rotated: 2026-05-01
  - name: openai-key
    owner: "ml-team (api key {s['inv_owner_key']})"
    description: "password={s['inv_description_password']}"
    last_rotated: 2026-11-01
""")
    write(root / "waivers.yaml", f"""\
waivers:
  - check: "iac.CKV_AWS_16"
    resource: "*"
    reason: "accepted until migration; signing secret {s['waiver_file_reason']}"
    approver: "alice (password={s['waiver_file_approver']})"
    created: 2026-11-01
    expires: 2027-03-31
""")
    write(root / "audit.yaml", """\
organisation: "${ORG_NAME}"
frameworks: [soc2, gdpr]
notifications:
  min_severity: low
  webhook:
    url: "${HOOK_URL}"
    timeout_seconds: 2
  email:
    host: 127.0.0.1
    port: 1
    from: auditor@example.com
    to: [secops@example.com]
    username: auditor
    password: "${SMTP_PASSWORD}"
    timeout_seconds: 2
""")
    write(root / "evidence" / "access-review.txt", "Quarterly access review, signed by the CISO.\n")
    image = ImageSpec(
        layers=[Layer.from_files([
            FileSpec("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
            FileSpec("root/.ssh/id_rsa", PRIVATE_KEY.encode()),
            FileSpec("app/.env", f"DB_PASSWORD={s['img_dotenv_password']}\n".encode()),
        ])],
        user="root",
        env=["PATH=/usr/bin:/bin", f"AWS_SECRET_ACCESS_KEY={s['img_env_secret']}"],
        labels={"org.example.deploy-token": s["img_label_token"]},
        history=[f"/bin/sh -c curl -u deploy:{s['img_history_password']} https://files.example.com/app.tgz"],
    )
    write_docker_archive(image, root / "image.tar", tags=["leaky:1.0"])
    return {
        "iac": root / "iac",
        "code": root / "code",
        "deps": root / "deps",
        "inventory": root / "inventory.yaml",
        "waivers": root / "waivers.yaml",
        "config": root / "audit.yaml",
        "image": root / "image.tar",
        "evidence": root / "evidence" / "access-review.txt",
    }


def seed_aws() -> None:
    import boto3

    s = SECRETS
    region = "eu-west-1"
    iam = boto3.client("iam", region_name=region)
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role = iam.create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    )["Role"]["Arn"]
    boto3.client("lambda", region_name=region).create_function(
        FunctionName="billing", Runtime="python3.8", Role=role, Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18}, Environment={"Variables": {"DB_PASSWORD": s["aws_lambda_env"]}},
    )
    secrets = boto3.client("secretsmanager", region_name=region)
    secrets.create_secret(Name="prod/db", SecretString=s["aws_secret_string"])
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket="leaky-data", CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(Bucket="leaky-data", Tagging={"TagSet": [
        {"Key": "data-classification", "Value": f"confidential {s['aws_bucket_tag']}"},
    ]})


def write_vulndb(path: Path, now: datetime) -> Path:
    with VulnDB.open(path, create=True) as db:
        import_path(db, ROOT / "auditor" / "demo_data" / "osv", now)
    return path


@contextmanager
def webhook_listener() -> Iterator[tuple[str, list[str]]]:
    """A loopback webhook: the notification bodies it receives are outputs too."""
    bodies: list[str] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


# Reading every output back ----------------------------------------------------------------


def pdf_texts(pdf: Path, work: Path) -> dict[str, str]:
    """The PDF's text and every embedded attachment."""
    out = {"text": subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout}
    folder = work / f"{pdf.name}.attachments"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdfdetach", "-saveall", "-o", str(folder), str(pdf)], capture_output=True, check=True)
    for f in sorted(folder.iterdir()):
        out[f"attachment {f.name}"] = f.read_text(encoding="utf-8", errors="replace")
    return out


def pack_texts(pack: Path, work: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with zipfile.ZipFile(pack) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith(".pdf"):
                target = work / f"pack-{Path(name).name}"
                target.write_bytes(data)
                out.update({f"{name} {k}": v for k, v in pdf_texts(target, work).items()})
            else:
                out[name] = data.decode("utf-8", errors="replace")
    return out


def database_texts(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        dump = "\n".join(conn.iterdump())
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        conn.close()
    files = {"iterdump": dump}
    for suffix in ("", "-wal"):
        raw = Path(f"{db}{suffix}")
        if raw.exists():
            files[f"file {raw.name}"] = raw.read_bytes().decode("latin-1")
    assert {"runs", "findings", "observations", "texts", "waivers", "manual_evidence", "notifications"} <= set(tables)
    return files


def encodings(secret: str) -> Iterator[tuple[str, str]]:
    yield "plain", secret
    raw = secret.encode()
    for shift in range(3):  # base64 at each alignment inside a longer encoded text
        enc = base64.b64encode(b"\0" * shift + raw).decode()
        yield f"base64+{shift}", enc[(shift * 4 + 2) // 3 + (1 if shift else 0): -4]
        url = base64.urlsafe_b64encode(b"\0" * shift + raw).decode()
        yield f"base64url+{shift}", url[(shift * 4 + 2) // 3 + (1 if shift else 0): -4]
    for name, quoted in (("url", urllib.parse.quote(secret, safe="")), ("url+", urllib.parse.quote_plus(secret))):
        if quoted != secret:
            yield name, quoted
    if json.dumps(secret)[1:-1] != secret:
        yield "json", json.dumps(secret)[1:-1]


def find_leaks(surfaces: dict[str, str]) -> list[str]:
    leaks = []
    for where, text in surfaces.items():
        squeezed = "".join(text.split())
        for name, secret in SECRETS.items():
            for how, form in encodings(secret):
                if len(form) >= 8 and (form in text or form in squeezed):
                    leaks.append(f"{name} ({how}) in {where}")
    return leaks


# The test ---------------------------------------------------------------------------------


def test_planted_secrets_never_leave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Any], now: datetime
) -> None:
    from moto import mock_aws

    # The image scan registers version orderings for the process: they stay with this test.
    monkeypatch.setattr(versions_mod, "_SCHEMES", dict(versions_mod._SCHEMES))
    for var in [v for v in os.environ if v.startswith(("AWS_", "MOTO_"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("ORG_NAME", f"Acme Test GmbH {SECRETS['organisation']}")
    monkeypatch.setenv("SMTP_PASSWORD", SECRETS["smtp_password"])
    monkeypatch.setenv("AUDITOR_REGISTRY_USERNAME", "deploy")
    monkeypatch.setenv("AUDITOR_REGISTRY_PASSWORD", SECRETS["env_registry_password"])
    monkeypatch.setenv("AUDITOR_VULNDB", str(write_vulndb(tmp_path / "vulndb.sqlite", now)))
    paths = build_files(tmp_path / "estate")
    out = tmp_path / "out"
    out.mkdir()
    db = tmp_path / "audit.db"
    surfaces: dict[str, str] = {}

    def run(name: str, *args: str) -> Any:
        res = cli(*args)
        surfaces[f"{name} stdout"] = res.out
        surfaces[f"{name} stderr"] = res.err
        return res

    # Every output format of one real scan's result (the formats are the CLI's own writers).
    writers = dict(scan_cmd.FORMATS)

    def every_format(result: Any, stream: TextIO) -> None:
        for fmt, writer in writers.items():
            with (out / f"scan.{fmt}").open("w", encoding="utf-8") as f:
                writer(result, f)
        writers["json"](result, stream)

    scan_args = [
        "--config", str(paths["config"]), "--aws", "--aws-region", "eu-west-1", "--iac", str(paths["iac"]),
        "--code", str(paths["code"]), "--deps", str(paths["deps"]), "--image", str(paths["image"]),
        "--secrets-inventory", str(paths["inventory"]), "--waivers", str(paths["waivers"]), "--db", str(db),
        "--offline", "--allow-errors",
    ]
    with mock_aws(), webhook_listener() as (hook_url, hook_bodies):
        monkeypatch.setenv("HOOK_URL", f"{hook_url}?token={SECRETS['hook_token']}")
        seed_aws()
        assert run("waive add", "waive", "add", "--check", "iac.CKV_AWS_*", "--resource", "*main.tf*",
                   "--reason", f"legacy; old reviewer token {SECRETS['waiver_db_reason']}",
                   "--approver", f"bob {SECRETS['waiver_db_approver']}", "--expires", "2027-05-31",
                   "--db", str(db)).code == 0
        assert run("evidence add", "evidence", "add", "soc2:CC1.1", str(paths["evidence"]),
                   "--item", "code-of-conduct", "--owner", f"it-ops password={SECRETS['evidence_owner']}",
                   "--note", f"reviewed; portal key {SECRETS['evidence_note']}", "--expires", "2027-06-30",
                   "--db", str(db)).code == 0
        monkeypatch.setitem(scan_cmd.FORMATS, "json", every_format)
        first = run("scan 1", "-v", "scan", *scan_args, "--format", "json")
        monkeypatch.setitem(scan_cmd.FORMATS, "json", writers["json"])
        assert first.code == 0, first.err
        monkeypatch.setenv("AUDITOR_NOW", "2026-11-29T12:00:00+00:00")
        second = run("scan 2", "-v", "scan", *scan_args, "--format", "table")
        assert second.code == 0, second.err
    bad = run("scan with a credential in the image reference", "-v", "scan", "--image",
              f"registry://deploy:{SECRETS['registry_password']}@127.0.0.1:1/team/app:1.0",
              "--db", str(tmp_path / "other.db"))
    assert bad.code == 2 and bad.err.count("\n") == 1, bad.err
    assert hook_bodies, "the webhook was not called"
    surfaces.update({f"webhook body {i}": body for i, body in enumerate(hook_bodies)})

    doc = json.loads(first.out)
    findings = doc["findings"]
    # The planted inputs were read: each provider reported, the credential-bearing findings exist.
    assert {f["provider"] for f in findings} == {"aws", "iac", "code", "deps", "image", "secrets"}
    messages = "\n".join(f["message"] for f in findings)
    assert f"private-pkg @ https://deploy:{mask(SECRETS['req_url_password'])}@pkgs.example.com" in messages
    evidence = json.dumps([f["evidence"] for f in findings])
    assert mask(SECRETS["py_auth_password"]) in evidence  # the matched code line, masked
    assert mask(SECRETS["inv_system_password"]) in evidence
    assert any(f["status"] == "WAIVED" for f in findings)

    fingerprints = sorted({f["fingerprint"] for f in findings if "REDACTED" in json.dumps(f)})[:6]
    assert fingerprints
    run("runs", "runs", "--db", str(db))
    run("diff", "diff", "--db", str(db))
    for fp in fingerprints:
        run(f"history {fp}", "history", fp, "--db", str(db))
    run("trend", "trend", "--db", str(db))
    run("waive list", "waive", "list", "--db", str(db))
    run("evidence list", "evidence", "list", "--db", str(db))
    html, pdf, pack = out / "report.html", out / "report.pdf", out / "pack.zip"
    res = run("report", "-v", "report", "--framework", "soc2", "--html", str(html), "--pdf", str(pdf),
              "--pack", str(pack), "--db", str(db))
    assert res.code == 0, res.err

    for f in sorted(out.glob("scan.*")):
        surfaces[f.name] = f.read_text(encoding="utf-8")
    surfaces["report.html"] = html.read_text(encoding="utf-8")
    surfaces.update({f"report.pdf {k}": v for k, v in pdf_texts(pdf, tmp_path).items()})
    surfaces.update({f"pack {k}": v for k, v in pack_texts(pack, tmp_path).items()})
    surfaces.update({f"database {k}": v for k, v in database_texts(db).items()})
    assert len(surfaces) > 40

    # These values were read and shown masked (not merely dropped): the paths that carry them ran.
    everything = "\n".join(surfaces.values())
    assert {n for n in SHOWN_MASKED if mask(SECRETS[n]) not in everything} == set()
    leaks = find_leaks(surfaces)
    assert not leaks, "planted secrets reached outputs:\n" + "\n".join(leaks)
