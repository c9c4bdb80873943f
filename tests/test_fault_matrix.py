"""The fault matrix: for each provider, its tool missing / crashing / printing garbage, or its data
denied or unreadable. In every case the scan is incomplete (exit 3) and no control that the affected
checks map to is PASS: could not look is never clean.

Each case runs the real engine (`run_scan`) with the real provider; only the tool's executable is
replaced (a missing one, or a script that crashes or prints something that is not the tool's report).
Beside it runs a provider that reports PASS for every check of every *other* provider in the catalogs,
as the other providers of a full scan would: on main that turned the faulted provider's controls green
(CC6.8 and Art. 25 FAIL -> PASS with checkov missing). Here they must stay ERROR (or FAIL).
"""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from auditor import tools
from auditor.catalog import Framework
from auditor.config import AuditConfig
from auditor.engine import ScanResult, gate_exit_code
from auditor.frameworks import frameworks_for
from auditor.models import CheckInfo, ControlStatus, Finding, Resource, Severity, Status
from auditor.providers import targets
from auditor.providers.base import Provider, ScanContext
from auditor.runs import run_scan
from auditor.store import Store
from tests.conftest import NOW, write_inventory

FRAMEWORKS = ("soc2", "gdpr")

FAKE_TOOLS = {
    "crash": "#!/bin/sh\necho 'Traceback (most recent call last): boom' >&2\nexit 2\n",
    "garbage": "#!/bin/sh\necho 'this is not the report you are looking for'\nexit 0\n",
    "empty": "#!/bin/sh\necho '{}'\nexit 0\n",
}


def catalog() -> list[Framework]:
    return frameworks_for(FRAMEWORKS)


def touched_by(pattern: str) -> set[str]:
    """Every control with a check the glob covers (what a provider-wide ERROR must reach)."""
    return {c.ref for fw in catalog() for c in fw.controls if c.touched_by(pattern)}


def assert_never_clean(result: ScanResult, *, provider_wide: str | None = None) -> None:
    findings = result.findings
    errors = [f for f in findings if f.status is Status.ERROR]
    assert errors, "a fault that produced no ERROR finding"
    assert gate_exit_code(findings, None, allow_errors=False) == 3
    assert result.run.status.value == "partial"
    status = {c.ref: c.status for c in result.controls}
    # No control that an errored check maps to is PASS (FAIL may stand: something did fail).
    for f in errors:
        for ref in f.controls:
            assert status[ref] in (ControlStatus.ERROR, ControlStatus.FAIL), (f.check_id, ref, status[ref])
    if provider_wide is not None:
        # The tool did not run: every control any of the provider's checks map to is ERROR or FAIL,
        # and none of its checks reports a PASS.
        stopped = touched_by(provider_wide)
        assert stopped
        assert {ref for ref in stopped if status[ref] is ControlStatus.PASS} == set()
        own = provider_wide.split(".")[0]
        ran = [f for f in findings if f.provider == own and f.status is Status.PASS]
        assert not ran, "a PASS from a tool that did not run"
    incomplete = [c for c in result.run.coverage if not c.complete]
    assert incomplete, "the run's coverage does not say what could not be scanned"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "faults.db")
    yield s
    s.close()


def fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, fault: str) -> None:
    real = tools.find_tool

    def find(tool: str) -> str:
        if tool != name:
            return real(tool)
        if fault == "missing":
            raise tools.ToolError(f"{tool} is not installed (looked beside the interpreter and on PATH)")
        script = tmp_path / f"fake-{tool}"
        script.write_text(FAKE_TOOLS[fault])
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        return str(script)

    monkeypatch.setattr(tools, "find_tool", find)


class OtherProvidersPass(Provider):
    """PASS for every concrete check id the catalogs reference, except those of the faulted provider."""

    name = "others"

    def __init__(self, faulted: str = "") -> None:
        refs = {r for fw in catalog() for c in fw.controls for r in (*c.checks, *c.supporting)}
        self._ids = sorted(r for r in refs if not any(ch in r for ch in "*?[") and not r.startswith(faulted + "."))

    def checks(self) -> list[CheckInfo]:
        return [CheckInfo(i, i, Severity.LOW, "others", "d", "r", "fix", "thing") for i in self._ids]

    def selected(self, config: AuditConfig) -> bool:
        return True

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        for c in self.checks():
            yield self.finding(c, Status.PASS, Resource(f"ok:{c.id}", "thing"), "looked and passed", {"ok": True})


def scan(store: Store, config: AuditConfig, provider: Provider) -> ScanResult:
    result = run_scan(config, store, providers=[provider, OtherProvidersPass(provider.name)], now=NOW)
    passing_alone = {c.ref for c in result.controls if c.status is ControlStatus.PASS}
    assert passing_alone, "the other providers' PASS findings should make controls PASS"
    return result


# IaC: checkov -----------------------------------------------------------------------------------


@pytest.fixture
def iac_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "infra"
    repo.mkdir()
    (repo / "main.tf").write_text(
        'resource "aws_s3_bucket" "logs" {\n  bucket = "acme-logs"\n}\n'
        'resource "aws_ebs_volume" "data" {\n  availability_zone = "eu-west-1a"\n  size = 1\n}\n'
    )
    (repo / "Dockerfile").write_text("FROM python:3.12-slim\nUSER 1000\n")
    return repo


@pytest.mark.parametrize("fault", ["missing", "crash", "garbage", "empty"])
def test_iac_tool_faults(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, iac_repo: Path, fault: str
) -> None:
    from auditor.providers.iac import IacProvider

    fake_tool(tmp_path, monkeypatch, "checkov", fault)
    result = scan(store, AuditConfig(targets=targets(iac=(iac_repo,))), IacProvider())
    assert_never_clean(result, provider_wide="iac.*")


# Code: semgrep ----------------------------------------------------------------------------------


@pytest.fixture
def code_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "src"
    repo.mkdir()
    (repo / "app.py").write_text('import requests\n\nrequests.get("https://api.example.com", timeout=5)\n')
    return repo


@pytest.mark.parametrize("fault", ["missing", "crash", "garbage", "empty"])
def test_code_tool_faults(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code_repo: Path, fault: str
) -> None:
    from auditor.providers.code import CodeProvider

    fake_tool(tmp_path, monkeypatch, "semgrep", fault)
    result = scan(store, AuditConfig(targets=targets(code=(code_repo,))), CodeProvider())
    assert_never_clean(result, provider_wide="code.*")


# Dependencies: pip-audit ------------------------------------------------------------------------


@pytest.fixture
def deps_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from auditor.vulndb import VulnDB, import_path

    db = tmp_path / "vulndb.sqlite"
    with VulnDB.open(db, create=True) as vdb:
        import_path(vdb, Path(__file__).resolve().parents[1] / "auditor" / "demo_data" / "osv", NOW)
    monkeypatch.setenv("AUDITOR_VULNDB", str(db))
    req = tmp_path / "app" / "requirements.txt"
    req.parent.mkdir()
    req.write_text("requests==2.31.0\nidna==3.7\n")
    return req


@pytest.mark.parametrize("fault", ["missing", "crash", "garbage", "empty"])
def test_deps_tool_faults(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deps_file: Path, fault: str
) -> None:
    from auditor.providers.deps import DepsProvider

    fake_tool(tmp_path, monkeypatch, "pip-audit", fault)
    result = scan(store, AuditConfig(targets=targets(deps=(deps_file,)), offline=True), DepsProvider())
    assert_never_clean(result, provider_wide="deps.*")


# Secrets inventory: a certificate that cannot be read ----------------------------------------------


@pytest.mark.parametrize("certificate", ["garbage", "directory", "device", "missing"])
def test_secrets_data_unreadable(store: Store, tmp_path: Path, certificate: str) -> None:
    from auditor.providers.secrets import SecretsInventoryProvider

    folder = tmp_path / "inv"
    folder.mkdir()
    target = {"garbage": folder / "x.pem", "directory": folder, "device": Path("/dev/zero")}.get(
        certificate, folder / "missing.pem"
    )
    if certificate == "garbage":
        target.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    inv = write_inventory(folder, f"secrets:\n  - name: tls\n    certificate: {target}\n")
    result = scan(store, AuditConfig(targets=targets(secrets=inv)), SecretsInventoryProvider())
    assert_never_clean(result)
    (err,) = [f for f in result.findings if f.status is Status.ERROR]
    assert err.check_id == "secrets.certificate.expiry"
    assert {c.ref for c in result.controls if c.status is ControlStatus.ERROR} == set(err.controls)


# Image: a layer whose content does not match its digest ------------------------------------------


def test_image_data_unverified(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.providers.image import ImageProvider
    from auditor.providers.image.build import layer_tar, write_oci_layout
    from tests.providers.image.imagetest_fixtures import all_osv_records, clean_alpine_spec, write_osv_db

    monkeypatch.setenv("AUDITOR_VULNDB", str(write_osv_db(tmp_path / "vdb", all_osv_records(), NOW)))
    spec = clean_alpine_spec()
    oci = write_oci_layout(spec, tmp_path / "tampered")
    honest = spec.layers[0]
    blob = oci / "blobs" / "sha256" / honest.digest.split(":")[1]
    blob.write_bytes(gzip.compress(layer_tar([]), mtime=0))  # same name, other content
    result = scan(store, AuditConfig(targets=targets(image=(str(oci),))), ImageProvider())
    assert_never_clean(result)
    # Nothing read from the filesystem backs a PASS.
    fs_checks = {"image.os.end_of_life", "image.files.secrets", "image.files.setuid_binaries"}
    assert not [f for f in result.findings if f.check_id in fs_checks and f.status is Status.PASS]
    assert {f.check_id for f in result.findings if f.status is Status.ERROR} >= fs_checks


# AWS: a read that is denied ----------------------------------------------------------------------


def refuse(code: str) -> Callable[..., Any]:
    def handler(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {"Error": {"Code": code, "Message": "denied by the test"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://refused.invalid/", 403, {}, None), body

    return handler


@pytest.mark.parametrize(
    "event", ["before-call.s3.ListBuckets", "before-call.iam.GetAccountAuthorizationDetails"], ids=["s3", "iam"]
)
def test_aws_data_denied(store: Store, monkeypatch: pytest.MonkeyPatch, event: str) -> None:
    from moto import mock_aws

    from auditor.providers.aws import AwsProvider
    from auditor.providers.aws import session as aws_session

    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    with mock_aws():
        boto3.client("s3", region_name="eu-west-1").create_bucket(
            Bucket="acme-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        boto3.client("iam").create_user(UserName="alice")

        def hooked(profile: str | None) -> boto3.Session:
            s = boto3.Session()
            s.events.register(event, refuse("AccessDenied"))
            return s

        monkeypatch.setattr(aws_session, "base_session", hooked)
        config = AuditConfig(targets=targets(aws={"enabled": True, "regions": ("eu-west-1",)}))
        result = scan(store, config, AwsProvider())
    assert_never_clean(result)
    service = event.split(".")[1]
    denied = [f for f in result.findings if f.status is Status.ERROR]
    assert {f.check_id.split(".")[1] for f in denied} >= {service}
