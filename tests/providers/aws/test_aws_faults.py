"""Fault semantics: what could not be read ends in ERROR for exactly what it affects, never PASS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from auditor.config import AuditConfig, AwsTargets
from auditor.engine import gate_exit_code, run_scan
from auditor.models import Finding, RunStatus, Status
from auditor.providers.aws import AwsProvider, collect, session
from auditor.providers.aws.demo_estate import FULL_PAB, GOOD_REGION, LEGACY_REGION, free_port, scan_env
from auditor.providers.aws.session import BoundedServerErrorRetries
from auditor.providers.base import ScanContext
from auditor.store import Store

REGIONS = (GOOD_REGION, LEGACY_REGION)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MOTO_ENV_OVERRIDES = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}  # not needed here; slow per account


def refuse(event: str, code: str, status: int) -> Callable[..., Any]:
    """A before-call hook: the operation answers with an AWS error without reaching the service."""

    def handler(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {
            "Error": {"Code": code, "Message": f"refused by the test ({event})"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://refused.invalid/", status, {}, None), body

    return handler


@pytest.fixture(scope="module")
def small_estate(mocked: Any) -> None:
    boto3.client("iam").create_user(UserName="someone")
    for region in REGIONS:
        kms = boto3.client("kms", region_name=region)
        kms.create_key(Description=f"key-{region}", MultiRegion=False)
    s3 = boto3.client("s3", region_name=GOOD_REGION)
    for name in ("fault-bucket-a", "fault-bucket-b"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": GOOD_REGION})
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=FULL_PAB)


def scan_with_hooks(monkeypatch: pytest.MonkeyPatch, hooks: dict[str, Callable[..., Any]]) -> list[Finding]:
    def hooked_session(profile: str | None) -> boto3.Session:
        s = boto3.Session()
        for event, handler in hooks.items():
            s.events.register(event, handler)
        return s

    monkeypatch.setattr(session, "base_session", hooked_session)
    config = AuditConfig(aws=AwsTargets(enabled=True, regions=REGIONS))
    return list(AwsProvider().run(ScanContext(config=config, now=NOW)))


def test_access_denied_for_one_service_errors_only_its_checks(
    small_estate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = scan_with_hooks(monkeypatch, {"before-call.kms": refuse("kms", "AccessDeniedException", 400)})
    errors = [f for f in findings if f.status is Status.ERROR]
    assert {f.check_id for f in errors} == {"aws.kms.key_rotation_enabled"}
    assert sorted(f.resource.region or "" for f in errors) == sorted(REGIONS)  # one per region
    assert all("kms: AccessDeniedException" in f.message for f in errors)
    assert all(f.evidence["error_codes"] == {"kms": "AccessDeniedException"} for f in errors)
    assert not [f for f in findings if f.check_id == "aws.kms.key_rotation_enabled" and f.status is not Status.ERROR]
    # The rest of the scan went on and judged its resources.
    judged = {f.check_id for f in findings if f.status in (Status.PASS, Status.FAIL)}
    assert {"aws.iam.root_mfa_enabled", "aws.s3.bucket_versioning", "aws.ec2.ebs_default_encryption"} <= judged


def test_access_denied_on_one_bucket_detail_errors_only_that_detail(
    small_estate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = {"before-call.s3.GetBucketPolicy": refuse("s3", "AccessDenied", 403)}
    findings = scan_with_hooks(monkeypatch, hooks)
    errors = {(f.check_id, f.resource.id) for f in findings if f.status is Status.ERROR}
    buckets = {"arn:aws:s3:::fault-bucket-a", "arn:aws:s3:::fault-bucket-b"}
    assert errors == {(c, b) for c in ("aws.s3.bucket_tls_only", "aws.s3.bucket_no_public_policy") for b in buckets}
    msgs = {f.message for f in findings if f.status is Status.ERROR}
    assert all("policy: AccessDenied" in m for m in msgs)
    versioning = {f.resource.id: f.status for f in findings if f.check_id == "aws.s3.bucket_versioning"}
    assert versioning == dict.fromkeys(buckets, Status.FAIL)


def test_throttling_beyond_retries_is_an_error_naming_the_code(
    small_estate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = {"before-call.config-service": refuse("config", "ThrottlingException", 400)}
    findings = scan_with_hooks(monkeypatch, hooks)
    errors = [f for f in findings if f.status is Status.ERROR]
    assert {f.check_id for f in errors} == {"aws.config.recorder_enabled"}
    assert all("ThrottlingException" in f.message for f in errors)


def retry_context(attempt: int, status: int | None, code: str | None = None, exc: Exception | None = None) -> Any:
    from botocore.retries.standard import RetryContext

    op = boto3.client("sts", region_name="us-east-1").meta.service_model.operation_model("GetCallerIdentity")
    return RetryContext(
        attempt_number=attempt,
        operation_model=op,
        parsed_response={"Error": {"Code": code, "Message": ""}} if code else None,
        http_response=AWSResponse("https://sts.invalid/", status, {}, None) if status else None,
        caught_exception=exc,
        request_context={},
    )


def test_retry_policy_bounds_server_errors_but_not_throttling() -> None:
    policy = BoundedServerErrorRetries(max_attempts=6, server_error_attempts=2)
    assert policy.is_retryable(retry_context(1, 500))  # one retry for a 5xx
    assert not policy.is_retryable(retry_context(2, 500))  # then give up: moto's unimplemented ops
    assert not policy.is_retryable(retry_context(2, None, exc=EndpointConnectionError(endpoint_url="http://x")))
    assert policy.is_retryable(retry_context(4, 400, code="Throttling"))  # throttling keeps retrying
    assert not policy.is_retryable(retry_context(6, 400, code="Throttling"))  # up to the maximum
    assert not policy.is_retryable(retry_context(1, 403, code="AccessDenied"))


@pytest.fixture
def moto_endpoint(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A moto_server we can kill ourselves (the shared helper always stops its own)."""
    port = free_port()
    exe = str(Path(sys.executable).parent / "moto_server")
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import time
        import urllib.request

        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        yield url, proc
    finally:
        proc.kill()
        proc.wait()


def test_endpoint_that_stops_mid_scan_gives_errors_and_exit_3(
    moto_endpoint: tuple[str, subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, proc = moto_endpoint
    boto3.client("iam", endpoint_url=url).create_user(UserName="before-the-crash")
    boto3.client("s3", endpoint_url=url, region_name=LEGACY_REGION).create_bucket(Bucket="crash-bucket")

    iam_done = threading.Event()
    killed = threading.Lock()
    real = collect.run_collector

    def crash_after_iam(dataset: collect.Dataset, fetch: collect.Fetch) -> Any:
        if dataset.name == "iam":
            result = real(dataset, fetch)
            iam_done.set()
            return result
        iam_done.wait(60)
        with killed:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return real(dataset, fetch)

    monkeypatch.setattr(collect, "run_collector", crash_after_iam)
    config = AuditConfig(aws=AwsTargets(enabled=True, regions=REGIONS))
    store = Store.open(tmp_path / "crash.db", create=True)
    try:
        result = run_scan(config, store, providers=[AwsProvider(workers=64)], now=NOW)  # every dataset has a thread
    finally:
        store.close()
    by_status: dict[Status, set[str]] = {}
    for f in result.findings:
        by_status.setdefault(f.status, set()).add(f.check_id)
    iam_checks = {c.id for c in AwsProvider().checks() if c.id.startswith("aws.iam.")}
    assert by_status[Status.ERROR] == {c.id for c in AwsProvider().checks()} - iam_checks
    assert by_status[Status.PASS] | by_status[Status.FAIL] <= iam_checks  # judged before the crash only
    assert {"aws.iam.root_mfa_enabled", "aws.iam.user_no_direct_policies"} <= by_status[Status.PASS] | by_status[
        Status.FAIL
    ]
    errors = [f for f in result.findings if f.status is Status.ERROR]
    assert all("EndpointConnectionError" in f.message for f in errors), {f.message for f in errors}
    assert result.run.status is RunStatus.PARTIAL
    assert gate_exit_code(result.findings, None, allow_errors=False) == 3
    assert gate_exit_code(result.findings, None, allow_errors=True) == 0


def test_cli_against_a_dead_endpoint_exits_3_with_errors_only(aws_env: None, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    env = scan_env(url)
    auditor = str(Path(sys.executable).parent / "auditor")
    proc = subprocess.run(
        [auditor, "scan", "--aws", "--aws-region", GOOD_REGION, "--format", "json", "--db", str(tmp_path / "d.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    out = json.loads(proc.stdout)
    statuses = {f["status"] for f in out["findings"]}
    assert statuses == {"ERROR"}
    assert {f["check_id"] for f in out["findings"]} == {c.id for c in AwsProvider().checks()}
    assert all("EndpointConnectionError" in f["message"] for f in out["findings"])
    assert out["run"]["status"] == "partial"
    assert "Traceback" not in proc.stderr
