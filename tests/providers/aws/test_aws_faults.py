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

from auditor.config import AuditConfig, Thresholds
from auditor.engine import gate_exit_code
from auditor.models import Finding, RunStatus, Status
from auditor.providers import targets
from auditor.providers.aws import AwsProvider, collect, session
from auditor.providers.aws.checks import ALL_CHECKS
from auditor.providers.aws.checks.monitoring import ALARM_PATTERNS
from auditor.providers.aws.demo_estate import (
    ACCOUNT,
    FULL_PAB,
    GOOD_REGION,
    LEGACY_REGION,
    Seeder,
    free_port,
    scan_env,
    seed_logging,
)
from auditor.providers.aws.model import AccountSnapshot, Scope
from auditor.providers.aws.session import BoundedServerErrorRetries
from auditor.providers.base import ScanContext
from auditor.runs import run_scan
from auditor.store import Store

REGIONS = (GOOD_REGION, LEGACY_REGION)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MOTO_ENV_OVERRIDES = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}  # not needed here; slow per account
# Checks moto cannot serve end in ERROR on every run (Access Analyzer and patch compliance are not
# implemented; the credential report has no <root_account> row): they are left out here so that each
# case's ERRORs are its fault's.
MOTO_UNSERVED = {"aws.accessanalyzer.enabled", "aws.iam.root_not_used_recently", "aws.ssm.patch_compliance"}
SERVED = [c for c in ALL_CHECKS if c.info.id not in MOTO_UNSERVED]


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
    config = AuditConfig(targets=targets(aws={"enabled": True, "regions": REGIONS}))
    return list(AwsProvider(checks=SERVED).run(ScanContext(config=config, now=NOW)))


def test_access_denied_for_one_service_errors_only_its_checks(
    small_estate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = scan_with_hooks(monkeypatch, {"before-call.kms": refuse("kms", "AccessDeniedException", 400)})
    errors = [f for f in findings if f.status is Status.ERROR]
    # Every check that reads KMS (key rotation; the customer-managed-key checks of issue 15), and only those.
    kms_checks = {c.info.id for c in AwsProvider().aws_checks() if "kms" in c.needs}
    assert "aws.kms.key_rotation_enabled" in kms_checks
    assert {f.check_id for f in errors} == kms_checks
    for check_id in kms_checks:  # one per region
        assert sorted(f.resource.region or "" for f in errors if f.check_id == check_id) == sorted(REGIONS)
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
    assert {f.check_id for f in errors} == {
        "aws.config.recorder_enabled",
        "aws.config.records_global_resources",
        "aws.config.delivery_channel",
    }
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
    config = AuditConfig(targets=targets(aws={"enabled": True, "regions": REGIONS}))
    store = Store.open(tmp_path / "crash.db", create=True)
    try:
        result = run_scan(config, store, providers=[AwsProvider(workers=64, checks=SERVED)], now=NOW)  # a thread each
    finally:
        store.close()
    by_status: dict[Status, set[str]] = {}
    for f in result.findings:
        by_status.setdefault(f.status, set()).add(f.check_id)
    iam_checks = {c.info.id for c in SERVED if c.needs == ("iam",)}  # what only the iam dataset decides
    assert by_status[Status.ERROR] == {c.info.id for c in SERVED} - iam_checks
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


# --- Issue 11: derived data is never read through a failure -------------------------------
#
# The estate below adds a complete alarm chain (multi-region trail -> log group -> metric
# filters -> alarms with actions; three events covered, seven not), a snapshot, a table, a
# load balancer and a certificate. Each case denies one call and names exactly what must
# end in ERROR: nothing it stops may be a PASS or a FAIL judged without it.

ALARMS = {f"aws.cloudwatch.alarm_{k}" for k in ALARM_PATTERNS}
PASSING_ALARMS = {
    "aws.cloudwatch.alarm_unauthorized_api_calls",
    "aws.cloudwatch.alarm_root_usage",
    "aws.cloudwatch.alarm_console_login_no_mfa",
}


@pytest.fixture(scope="module")
def fault_estate(small_estate: None) -> dict[str, str]:
    s3 = boto3.client("s3", region_name=GOOD_REGION)
    for name in ("acme-cloudtrail-eu", "acme-access-logs-eu"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": GOOD_REGION})
    boto3.client("s3", region_name=LEGACY_REGION).create_bucket(Bucket="acme-public-site-us")
    seed_logging(Seeder(None))  # also a stopped single-region trail in us-east-1
    ec2 = boto3.client("ec2", region_name=GOOD_REGION)
    volume = ec2.create_volume(AvailabilityZone=f"{GOOD_REGION}a", Size=1)["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume, Description="fault-snapshot")["SnapshotId"]
    boto3.client("dynamodb", region_name=GOOD_REGION).create_table(
        TableName="fault-table",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{GOOD_REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    elb = boto3.client("elbv2", region_name=GOOD_REGION)
    lb = elb.create_load_balancer(Name="fault-alb", Subnets=subnets, Type="application")["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    tg = elb.create_target_group(Name="fault-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"
    ]
    elb.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}]
    )
    cert = boto3.client("acm", region_name=GOOD_REGION).request_certificate(DomainName="fault.example.com")[
        "CertificateArn"
    ]
    keys = {
        region: {k["KeyArn"] for k in boto3.client("kms", region_name=region).list_keys()["Keys"]} for region in REGIONS
    }
    return {
        "snapshot": f"arn:aws:ec2:{GOOD_REGION}::snapshot/{snapshot}",
        "table": f"arn:aws:dynamodb:{GOOD_REGION}:{ACCOUNT}:table/fault-table",
        "lb": lb,
        "cert": cert,
        "keys": ",".join(sorted(keys[GOOD_REGION] | keys[LEGACY_REGION])),
        "org_trail": f"arn:aws:cloudtrail:{GOOD_REGION}:{ACCOUNT}:trail/org-trail",
        "legacy_trail": f"arn:aws:cloudtrail:{LEGACY_REGION}:{ACCOUNT}:trail/legacy-trail",
    }


def in_region(region: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """A before-call hook that refuses only in one region."""

    def hook(**kwargs: Any) -> Any:
        if (kwargs.get("context") or {}).get("client_region") == region:
            return handler(**kwargs)
        return None

    return hook


def error_set(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.check_id, f.resource.id) for f in findings if f.status is Status.ERROR}


def error_checks(findings: list[Finding]) -> set[str]:
    return {f.check_id for f in findings if f.status is Status.ERROR}


def test_trail_status_denied_makes_alarm_chains_error_not_fail(
    fault_estate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = scan_with_hooks(monkeypatch, {})
    assert {f.check_id for f in baseline if f.status is Status.PASS} >= PASSING_ALARMS
    hooks = {"before-call.cloudtrail.GetTrailStatus": refuse("cloudtrail", "AccessDeniedException", 400)}
    findings = scan_with_hooks(monkeypatch, hooks)
    # Before: the three alarm chains went PASS -> FAIL ("no logging multi-region trail").
    assert error_checks(findings) == {
        "aws.cloudtrail.multi_region_trail",
        "aws.cloudtrail.trail_logging",
        *PASSING_ALARMS,
    }
    alarms = {f.check_id: f for f in findings if f.check_id in ALARMS}
    for check_id in PASSING_ALARMS:
        f = alarms[check_id]
        assert "GetTrailStatus: AccessDeniedException" in f.message and "org-trail" in f.message, f.message
        assert f.evidence["trail_status_error"] == "AccessDeniedException"
    # The seven without a filter and alarm fail whatever the trail's status is: still FAIL.
    assert {c for c, f in alarms.items() if f.status is Status.FAIL} == ALARMS - PASSING_ALARMS
    multi = next(f for f in findings if f.check_id == "aws.cloudtrail.multi_region_trail")
    assert "org-trail (AccessDeniedException)" in multi.message


@pytest.mark.parametrize(
    "event, code, expected",
    [
        pytest.param(  # one region's trails unreadable: every all-trails check and that region's trail checks
            "before-call.cloudtrail.DescribeTrails",
            "AccessDeniedException",
            lambda e: {
                ("aws.cloudtrail.multi_region_trail", f"arn:aws:::{ACCOUNT}"),
                *((c, f"arn:aws:::{ACCOUNT}") for c in ALARMS),
                *(
                    (c, f"arn:aws:::{ACCOUNT}:{LEGACY_REGION}")
                    for c in (
                        "aws.cloudtrail.trail_logging",
                        "aws.cloudtrail.log_file_validation",
                        "aws.cloudtrail.kms_encryption",
                        "aws.cloudtrail.cloudwatch_logs",
                        "aws.cloudtrail.bucket_not_public",
                        "aws.cloudtrail.bucket_access_logging",
                    )
                ),
                *(
                    (c, f"arn:aws:::{ACCOUNT}")
                    for c in (
                        "aws.cloudtrail.s3_data_events_write",
                        "aws.cloudtrail.s3_data_events_read",
                        "aws.cloudtrail.management_events_all",
                        "aws.cloudtrail.insights_enabled",
                    )
                ),
            },
            id="cloudtrail-one-region",
        ),
        pytest.param(
            "before-call.cloudwatch-logs.DescribeMetricFilters",
            "AccessDeniedException",
            lambda e: {(c, f"arn:aws:::{ACCOUNT}") for c in ALARMS},
            id="metric-filters",
        ),
        pytest.param(
            "before-call.iam.GetCredentialReport",
            "AccessDenied",
            lambda e: {
                (c, f"arn:aws:::{ACCOUNT}")
                for c in (
                    "aws.iam.console_user_mfa",
                    "aws.iam.unused_console_password",
                    "aws.iam.access_key_age",
                    "aws.iam.access_key_unused",
                    "aws.iam.user_hardware_mfa",
                    "aws.iam.no_initial_access_key",
                    "aws.iam.single_active_access_key",
                    "aws.iam.federated_sign_in",
                )
            },
            id="iam-credential-report",
        ),
        pytest.param(
            "before-call.iam.GetAccountAuthorizationDetails",
            "AccessDenied",
            lambda e: {
                (c, f"arn:aws:::{ACCOUNT}")
                for c in (
                    "aws.iam.user_admin_privileges",
                    "aws.iam.group_admin_privileges",
                    "aws.iam.role_admin_privileges",
                    "aws.iam.user_no_direct_policies",
                    "aws.iam.support_role_exists",
                    "aws.iam.customer_policy_no_full_admin",
                    "aws.iam.securityaudit_role",
                    "aws.iam.cloudshell_full_access_restricted",
                )
            },
            id="iam-authorization-details",
        ),
        pytest.param(
            "before-call.iam.GetAccountSummary",
            "AccessDenied",
            lambda e: {
                (c, f"arn:aws:::{ACCOUNT}")
                for c in ("aws.iam.root_mfa_enabled", "aws.iam.root_access_keys_absent", "aws.iam.root_hardware_mfa")
            },
            id="iam-summary",
        ),
        pytest.param(  # root and user hardware MFA both read the virtual MFA device list
            "before-call.iam.ListVirtualMFADevices",
            "AccessDenied",
            lambda e: {(c, f"arn:aws:::{ACCOUNT}") for c in ("aws.iam.root_hardware_mfa", "aws.iam.user_hardware_mfa")},
            id="iam-virtual-mfa",
        ),
        pytest.param(  # no trail's selectors readable: nothing can PASS, and nothing may FAIL
            "before-call.cloudtrail.GetEventSelectors",
            "AccessDeniedException",
            lambda e: {
                (c, f"arn:aws:cloudtrail::{ACCOUNT}:account")
                for c in (
                    "aws.cloudtrail.s3_data_events_write",
                    "aws.cloudtrail.s3_data_events_read",
                    "aws.cloudtrail.management_events_all",
                )
            },
            id="cloudtrail-event-selectors",
        ),
        pytest.param(
            "before-call.s3-control.GetPublicAccessBlock",
            "AccessDenied",
            lambda e: {
                ("aws.s3.account_public_access_block", f"arn:aws:::{ACCOUNT}"),
                ("aws.s3.bucket_public_access_block", f"arn:aws:::{ACCOUNT}"),
            },
            id="s3-account-block",
        ),
        pytest.param(  # bucket -> trail join: the trail's bucket ACL is unreadable too
            "before-call.s3.GetBucketAcl",
            "AccessDenied",
            lambda e: {
                *(
                    ("aws.s3.bucket_no_public_acl", f"arn:aws:s3:::{b}")
                    for b in (
                        "fault-bucket-a",
                        "fault-bucket-b",
                        "acme-cloudtrail-eu",
                        "acme-access-logs-eu",
                        "acme-public-site-us",
                    )
                ),
                ("aws.cloudtrail.bucket_not_public", e["org_trail"]),
                ("aws.cloudtrail.bucket_not_public", e["legacy_trail"]),
            },
            id="s3-bucket-acl",
        ),
        pytest.param(
            "before-call.ec2.DescribeFlowLogs",
            "UnauthorizedOperation",
            lambda e: {("aws.ec2.vpc_flow_logs_enabled", f"arn:aws:::{ACCOUNT}:{r}") for r in REGIONS},
            id="ec2-flow-logs",
        ),
        pytest.param(
            "before-call.ec2.DescribeSnapshotAttribute",
            "UnauthorizedOperation",
            lambda e: {("aws.ec2.snapshot_not_public", e["snapshot"])},
            id="ec2-snapshot-attribute",
        ),
        pytest.param(
            "before-call.dynamodb.DescribeContinuousBackups",
            "AccessDeniedException",
            lambda e: {("aws.dynamodb.pitr_enabled", e["table"])},
            id="dynamodb-backups",
        ),
        pytest.param(
            "before-call.elastic-load-balancing-v2.DescribeListeners",
            "AccessDenied",
            lambda e: {("aws.elbv2.https_listeners", e["lb"]), ("aws.elbv2.modern_tls_policy", e["lb"])},
            id="elbv2-listeners",
        ),
        pytest.param(  # KMS key -> rotation join
            "before-call.kms.GetKeyRotationStatus",
            "AccessDeniedException",
            lambda e: {("aws.kms.key_rotation_enabled", arn) for arn in e["keys"].split(",")},
            id="kms-rotation",
        ),
        pytest.param(
            "before-call.acm.DescribeCertificate",
            "AccessDeniedException",
            lambda e: {("aws.acm.certificate_expiry", e["cert"])},
            id="acm-certificate",
        ),
    ],
)
def test_each_denied_read_errors_exactly_what_depends_on_it(
    fault_estate: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    event: str,
    code: str,
    expected: Callable[[dict[str, str]], set[tuple[str, str]]],
) -> None:
    handler = refuse(event, code, 400)
    if event == "before-call.cloudtrail.DescribeTrails":
        handler = in_region(LEGACY_REGION, handler)
    findings = scan_with_hooks(monkeypatch, {event: handler})
    want = expected(fault_estate)
    assert error_set(findings) == want
    for f in findings:
        if f.status is Status.ERROR:
            assert code in f.message, f.message  # the AWS error code, always
    # Nothing that ended in ERROR was also judged for the same resource.
    judged = {(f.check_id, f.resource.id) for f in findings if f.status in (Status.PASS, Status.FAIL)}
    assert not judged & want


def test_error_messages_say_what_could_not_be_read(
    fault_estate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = scan_with_hooks(monkeypatch, {"before-call.iam.GetCredentialReport": refuse("iam", "AccessDenied", 403)})
    f = next(f for f in findings if f.check_id == "aws.iam.console_user_mfa")
    assert f.message.startswith("could not be evaluated (iam.credential_report: AccessDenied): could not read ")
    assert "GetCredentialReport" in f.message
    assert f.evidence["error_codes"] == {"iam.credential_report": "AccessDenied"}


def snapshot_with(regional: dict[str, dict[str, Any]], global_data: dict[str, Any] | None = None) -> AccountSnapshot:
    snap = AccountSnapshot(account=ACCOUNT, regions=tuple(regional), home_region=GOOD_REGION)
    snap.regional = regional
    snap.global_data = global_data or {}
    return snap


def test_all_trails_never_skips_an_unreadable_region() -> None:
    from auditor.providers.aws.checks.monitoring import check_multi_region
    from auditor.providers.aws.model import CheckInput, CollectError, DataUnavailable

    denied = CollectError("AccessDeniedException", "DescribeTrails: AccessDeniedException")
    trail = {"Name": "t", "TrailARN": "arn:t", "IsMultiRegionTrail": True, "status": {"IsLogging": False}}
    snap = snapshot_with({GOOD_REGION: {"cloudtrail": {"trails": [trail]}}, LEGACY_REGION: {"cloudtrail": denied}})
    inp = CheckInput(snap, None, NOW, Thresholds())
    # Before: the unreadable region was skipped and the stopped trail made this a FAIL.
    with pytest.raises(DataUnavailable, match=f"cloudtrail@{LEGACY_REGION}: AccessDeniedException"):
        list(check_multi_region(inp))


def test_values_the_api_did_not_report_are_errors_not_verdicts() -> None:
    key = {
        "id": "k1",
        "arn": f"arn:aws:kms:{GOOD_REGION}:{ACCOUNT}:key/k1",
        "metadata": {"KeyManager": "CUSTOMER", "KeyState": "Enabled"},
        "rotation_enabled": None,  # never asked
    }
    row = {  # a console user with an active key, and no date anywhere
        "user": "u",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/u",
        "password_enabled": "true",
        "password_last_used": "no_information",
        "password_last_changed": "N/A",
        "user_creation_time": "N/A",
        "access_key_1_active": "true",
        "access_key_1_last_rotated": "N/A",
        "access_key_1_last_used_date": "N/A",
    }
    secret = {"Name": "s", "ARN": f"arn:aws:secretsmanager:{GOOD_REGION}:{ACCOUNT}:secret:s"}
    iam = {k: [] for k in ("users", "groups", "roles", "policies")}
    snap = snapshot_with(
        {GOOD_REGION: {"kms": {"keys": [key]}, "secretsmanager": {"secrets": [secret]}}},
        {"iam": {**iam, "credential_report": [row], "summary": {}, "password_policy": None}},
    )
    wanted = [c for c in AwsProvider().aws_checks() if c.info.id in UNREPORTED]
    findings = list(AwsProvider(checks=wanted).evaluate(snap, NOW, Thresholds()))
    # Before: the root checks, the key and password ages and the secret's age were FAIL.
    assert {(f.check_id, str(f.status)) for f in findings} == {(c, "ERROR") for c in UNREPORTED}


UNREPORTED = {
    "aws.iam.root_mfa_enabled",
    "aws.iam.root_access_keys_absent",
    "aws.kms.key_rotation_enabled",
    "aws.iam.unused_console_password",
    "aws.iam.access_key_age",
    "aws.iam.access_key_unused",
    "aws.secretsmanager.rotated_recently",
}


def test_every_region_claims_name_the_regions_scanned(
    fault_estate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = scan_with_hooks(monkeypatch, {})
    for check_id in ("aws.guardduty.detector_enabled", "aws.securityhub.enabled", "aws.config.recorder_enabled"):
        mine = [f for f in findings if f.check_id == check_id]
        assert {f.resource.region for f in mine} == set(REGIONS)
        for f in mine:
            assert f.message.endswith(f"; 2 regions scanned: {GOOD_REGION}, {LEGACY_REGION}"), f.message
            assert f.evidence["regions_scanned"] == list(REGIONS)
        assert "every scanned region" in mine[0].title
    for check_id in ("aws.cloudtrail.multi_region_trail", *PASSING_ALARMS):
        f = next(f for f in findings if f.check_id == check_id)
        assert f.evidence["regions_scanned"] == list(REGIONS)


def test_region_text_says_how_many_enabled_regions_were_left_out() -> None:
    from auditor.providers.aws.model import CheckInput

    snap = snapshot_with({GOOD_REGION: {}})
    snap.regions_enabled = (GOOD_REGION, LEGACY_REGION, "eu-central-1")
    inp = CheckInput(snap, GOOD_REGION, NOW, Thresholds())
    assert inp.scanned_regions_text() == f"1 region scanned: {GOOD_REGION} (of 3 enabled)"
    assert inp.region_scope() == {
        "regions_scanned": [GOOD_REGION],
        "regions_enabled": [GOOD_REGION, LEGACY_REGION, "eu-central-1"],
    }


# --- Targets and coverage -----------------------------------------------------------------


def scan_with_context(
    monkeypatch: pytest.MonkeyPatch, hooks: dict[str, Callable[..., Any]], **aws: Any
) -> tuple[list[Finding], ScanContext]:
    def hooked_session(profile: str | None) -> boto3.Session:
        s = boto3.Session()
        for event, handler in hooks.items():
            s.events.register(event, handler)
        return s

    monkeypatch.setattr(session, "base_session", hooked_session)
    config = AuditConfig(targets=targets(aws={"enabled": True, "regions": REGIONS, **aws}))
    ctx = ScanContext(config=config, now=NOW)
    return list(AwsProvider(checks=SERVED).run(ctx)), ctx


def test_findings_carry_account_or_region_targets(
    fault_estate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    findings, _ctx = scan_with_context(monkeypatch, {})
    scopes = {c.info.id: c.scope for c in AwsProvider().aws_checks()}
    for f in findings:
        if scopes[f.check_id] is Scope.REGION:
            assert f.target == f"aws:{ACCOUNT}/{f.resource.region}", (f.check_id, f.target)
        else:
            assert f.target == f"aws:{ACCOUNT}", (f.check_id, f.target)
    # Buckets are read account-wide: their findings belong to the account target.
    bucket = next(f for f in findings if f.resource.id == "arn:aws:s3:::fault-bucket-a")
    assert (bucket.target, bucket.resource.region) == (f"aws:{ACCOUNT}", GOOD_REGION)


def test_coverage_per_account_and_region_names_what_could_not_be_read(
    fault_estate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = {
        "before-call.cloudtrail.GetTrailStatus": refuse("cloudtrail", "AccessDeniedException", 400),
        "before-call.guardduty.ListDetectors": in_region(LEGACY_REGION, refuse("guardduty", "AccessDenied", 403)),
    }
    _findings, ctx = scan_with_context(monkeypatch, hooks)
    cov = {c.target: c for c in ctx.coverage}
    assert set(cov) == {f"aws:{ACCOUNT}", f"aws:{ACCOUNT}/{GOOD_REGION}", f"aws:{ACCOUNT}/{LEGACY_REGION}"}
    account = cov[f"aws:{ACCOUNT}"]
    assert account.complete and account.skipped == ()
    assert account.examined["s3.buckets"] == 5
    assert account.examined["iam.users"] == 1
    assert account.details["regions_scanned"] == list(REGIONS)
    assert "regions_enabled" not in account.details  # the regions were given, not asked for
    account_datasets = {n for n, d in collect.DATASETS.items() if d.scope is Scope.ACCOUNT}
    assert {"iam", "s3", "s3_account"} <= account_datasets
    assert account.details["datasets"] == dict.fromkeys(account_datasets, "read")
    eu, us = cov[f"aws:{ACCOUNT}/{GOOD_REGION}"], cov[f"aws:{ACCOUNT}/{LEGACY_REGION}"]
    assert not eu.complete and not us.complete
    assert [(s.item, s.reason.split(":")[0]) for s in eu.skipped] == [
        ("cloudtrail.trails org-trail: status", "AccessDeniedException")
    ]
    assert sorted((s.item, s.reason.split(":")[0]) for s in us.skipped) == [
        ("cloudtrail.trails legacy-trail: status", "AccessDeniedException"),
        ("cloudtrail.trails org-trail: status", "AccessDeniedException"),  # the shadow copy
        ("guardduty", "AccessDenied"),
    ]
    assert us.details["datasets"]["guardduty"] == "AccessDenied"
    assert us.details["datasets"]["cloudtrail"] == "partial"
    assert eu.details["datasets"]["guardduty"] == "read"
    assert eu.examined["ec2.snapshots"] == 1 and eu.examined["dynamodb.tables"] == 1


def test_an_account_that_cannot_be_assumed_has_incomplete_coverage(
    fault_estate: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = "arn:aws:iam::210987654321:role/auditor-read"
    hooks = {"before-call.sts.AssumeRole": refuse("sts", "AccessDenied", 403)}
    findings, ctx = scan_with_context(monkeypatch, hooks, role_arns=(arn,))
    (cov,) = ctx.coverage
    assert (cov.target, cov.complete) == ("aws:210987654321", False)
    assert cov.skipped[0].item == f"account {arn}" and cov.skipped[0].reason.startswith("AccessDenied")
    assert {f.status for f in findings} == {Status.ERROR}
    assert {f.target for f in findings} == {"aws:210987654321"}
    assert len(findings) == len(SERVED)


@pytest.mark.parametrize(
    "event, code, checks, controls",
    [
        pytest.param(
            "before-call.cloudtrail.GetTrailStatus",
            "AccessDeniedException",
            sorted(PASSING_ALARMS | {"aws.cloudtrail.multi_region_trail"}),
            {"gdpr:Art.32(1)(b)", "soc2:CC7.2", "soc2:CC2.1"},
            id="trail-status",
        ),
        pytest.param(
            "before-call.guardduty.ListDetectors",
            "AccessDeniedException",
            ["aws.guardduty.detector_enabled", "aws.securityhub.enabled"],
            {"soc2:CC6.8", "gdpr:Art.32(1)(b)", "soc2:CC7.2", "soc2:CC7.3"},
            id="guardduty-dataset",
        ),
    ],
)
def test_a_denied_read_turns_its_controls_error_in_the_roll_up(
    fault_estate: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    event: str,
    code: str,
    checks: list[str],
    controls: set[str],
) -> None:
    from auditor.catalog import ControlMapper
    from auditor.frameworks import frameworks_for

    chosen = [c for c in AwsProvider().aws_checks() if c.info.id in checks]
    config = AuditConfig(targets=targets(aws={"enabled": True, "regions": (GOOD_REGION,)}))
    mapper = ControlMapper(frameworks_for(["soc2", "gdpr"]))

    def roll_up_with(hooks: dict[str, Callable[..., Any]], name: str) -> tuple[dict[str, str], set[str]]:
        def hooked_session(profile: str | None) -> boto3.Session:
            s = boto3.Session()
            for e, handler in hooks.items():
                s.events.register(e, handler)
            return s

        monkeypatch.setattr(session, "base_session", hooked_session)
        store = Store.open(tmp_path / f"{name}.db", create=True)
        try:
            result = run_scan(config, store, providers=[AwsProvider(checks=chosen)], now=NOW)
        finally:
            store.close()
        errored = {f.check_id for f in result.findings if f.status is Status.ERROR}
        return {c.ref: str(c.status) for c in result.controls}, errored

    before, none = roll_up_with({}, "before")
    assert none == set()
    denied, errored = roll_up_with({event: refuse(event, code, 400)}, "denied")
    # Every control an errored check is a pass condition of (from the catalog in force).
    stopped = {ref for cid in errored for ref in mapper(cid)}
    assert controls <= stopped
    assert {ref: before[ref] for ref in stopped} == dict.fromkeys(stopped, "PASS")
    # Before the fix, the alarm chains FAILed here: the controls were FAIL, not ERROR.
    assert {ref: denied[ref] for ref in stopped} == dict.fromkeys(stopped, "ERROR")
