"""Golden exact-set tests for the governance group (CIS AWS Foundations v3.0.0 IAM, logging, Organizations,
Access Analyzer, Config, the CIS 4.x alarms added in issue 15) on a small mock_aws estate.

Compliant and misconfigured resources sit side by side; every new check's exact set of
(resource, status) is asserted. Where moto does not serve the data (Access Analyzer is not
implemented; root MFA is always off; server certificates all expire on 2012-05-08; the
credential report has no root row) the moto run shows the ERROR or the verdict that data
gives, and a hand-built copy of the snapshot covers the other branches.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from auditor.config import Thresholds
from auditor.models import Finding, Status
from auditor.providers.aws import AwsProvider
from auditor.providers.aws.checks import governance, monitoring
from auditor.providers.aws.collect import DATASETS, collect_account
from auditor.providers.aws.model import AccountSnapshot, CollectError
from auditor.providers.aws.session import ClientFactory

ACCOUNT = "123456789012"
HOME, EU = "us-east-1", "eu-west-1"
REGIONS = (EU, HOME)
NEW_ALARMS = (
    "console_auth_failures",
    "cmk_disable_or_deletion",
    "s3_bucket_policy_changes",
    "config_changes",
    "organizations_changes",
)
ALARM_CHECKS = [c for c in monitoring.CHECKS if c.info.id in {f"aws.cloudwatch.alarm_{k}" for k in NEW_ALARMS}]
CHECKS = [*governance.CHECKS, *ALARM_CHECKS]
LOGIN_PASSWORD = secrets.token_urlsafe(18) + "-Aa1"  # generated per run: no credential in the source
CONTACT_EMAIL = "secops-private@example.com"
IAM = f"arn:aws:iam::{ACCOUNT}"
ROOT = f"{IAM}:root"
ORG_TRAIL = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/org-trail"
EU_TRAIL = f"arn:aws:cloudtrail:{EU}:{ACCOUNT}:trail/eu-local-trail"
CT_ACCOUNT = f"arn:aws:cloudtrail::{ACCOUNT}:account"
ALARM = f"arn:aws:cloudwatch::{ACCOUNT}:security-alarm/"


def seed(now: datetime) -> dict[str, Any]:
    iam = boto3.client("iam", region_name=HOME)
    # Users: a console user without keys (good), a console user with a key never used (initial key),
    # a key-only user with two active keys, and one with a single key.
    for name in ("console-clean", "console-setup-key"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password=LOGIN_PASSWORD)
    iam.create_access_key(UserName="console-setup-key")
    # Console users with MFA: one on a hardware token serial, one on a virtual device.
    for name in ("console-hw-mfa", "console-virtual-mfa"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password=LOGIN_PASSWORD)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="console-virtual-mfa")["VirtualMFADevice"][
        "SerialNumber"
    ]
    for name, sn in (("console-hw-mfa", "GAHT12345678"), ("console-virtual-mfa", serial)):
        iam.enable_mfa_device(
            UserName=name, SerialNumber=sn, AuthenticationCode1="123456", AuthenticationCode2="654321"
        )
    for name, keys in (("ci-two-keys", 2), ("ci-one-key", 1)):
        iam.create_user(UserName=name)
        for _ in range(keys):
            iam.create_access_key(UserName=name)
    # A virtual MFA device named like root's (CIS 1.6 wants hardware).
    iam.create_virtual_mfa_device(VirtualMFADeviceName="root-account-mfa-device")
    iam.create_role(
        RoleName="security-auditor",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}],
            }
        ),
    )
    iam.attach_role_policy(RoleName="security-auditor", PolicyArn=governance.SECURITY_AUDIT_ARN)
    iam.create_group(GroupName="shell-users")
    iam.attach_group_policy(GroupName="shell-users", PolicyArn=governance.CLOUDSHELL_FULL_ARN)
    iam.create_saml_provider(Name="corp-idp", SAMLMetadataDocument="<md:EntityDescriptor/>" * 50)
    iam.upload_server_certificate(
        ServerCertificateName="legacy-www",
        CertificateBody="-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----",
        PrivateKey="-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----",
    )
    boto3.client("account", region_name=HOME).put_alternate_contact(
        AlternateContactType="SECURITY",
        EmailAddress=CONTACT_EMAIL,
        Name="Sec Ops",
        PhoneNumber="+15550100",
        Title="SOC",
    )
    org = boto3.client("organizations", region_name=HOME)
    org.create_organization(FeatureSet="ALL")
    org.create_policy(
        Name="deny-leave-org",
        Type="SERVICE_CONTROL_POLICY",
        Description="guardrail",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
            }
        ),
    )

    # CloudTrail: a multi-region trail with write-only management and S3 object write events, to a bucket
    # with access logging and CloudWatch Logs; a single-region EU trail to a bucket without access logging.
    s3 = boto3.client("s3", region_name=HOME)
    for b in ("gov-trail-logged", "gov-access-logs"):
        s3.create_bucket(Bucket=b)
    s3.put_bucket_policy(
        Bucket="gov-access-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::gov-access-logs/*",
                    }
                ],
            }
        ),
    )
    s3.put_bucket_logging(
        Bucket="gov-trail-logged",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "gov-access-logs", "TargetPrefix": "t/"}},
    )
    boto3.client("s3", region_name=EU).create_bucket(
        Bucket="gov-trail-plain-eu", CreateBucketConfiguration={"LocationConstraint": EU}
    )
    logs = boto3.client("logs", region_name=HOME)
    logs.create_log_group(logGroupName="gov-trail")
    group_arn = f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:gov-trail:*"
    ct = boto3.client("cloudtrail", region_name=HOME)
    ct.create_trail(
        Name="org-trail",
        S3BucketName="gov-trail-logged",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"{IAM}:role/trail-to-logs",
    )
    ct.start_logging(Name="org-trail")
    ct.put_insight_selectors(TrailName="org-trail", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    ct.put_event_selectors(
        TrailName="org-trail",
        EventSelectors=[
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ],
    )
    ct_eu = boto3.client("cloudtrail", region_name=EU)
    ct_eu.create_trail(Name="eu-local-trail", S3BucketName="gov-trail-plain-eu")
    ct_eu.start_logging(Name="eu-local-trail")
    # Metric filters with alarms for two of the five new CIS events; the other three are missing.
    cw = boto3.client("cloudwatch", region_name=HOME)
    patterns = {
        "console-auth-failures": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        "cmk-disable-delete": "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
        "($.eventName = ScheduleKeyDeletion)) }",
        # A filter without an alarm action does not count.
        "s3-policy-no-action": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketPolicy) || "
        "($.eventName = DeleteBucketPolicy)) }",
    }
    for name, pattern in patterns.items():
        logs.put_metric_filter(
            logGroupName="gov-trail",
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[{"metricName": name, "metricNamespace": "CIS", "metricValue": "1"}],
        )
        actions = [] if name == "s3-policy-no-action" else [f"arn:aws:sns:{HOME}:{ACCOUNT}:security"]
        cw.put_metric_alarm(
            AlarmName=f"{name}-alarm",
            MetricName=name,
            Namespace="CIS",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=actions,
        )
    # Config: recording everything incl. global types with a delivery channel in us-east-1; nothing in eu-west-1.
    cfg = boto3.client("config", region_name=HOME)
    cfg.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"{IAM}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "gov-access-logs"})
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    return {"org": org.describe_organization()["Organization"]}


@pytest.fixture(scope="module")
def estate(mocked: Any) -> dict[str, Any]:
    return seed(datetime.now(UTC))


@pytest.fixture(scope="module")
def snapshot(estate: dict[str, Any]) -> AccountSnapshot:
    needs = {n for c in CHECKS for n in c.needs}
    return collect_account(ClientFactory(boto3.Session()), ACCOUNT, REGIONS, HOME, needs)


def evaluate(snap: AccountSnapshot, now: datetime | None = None) -> list[Finding]:
    provider = AwsProvider(checks=CHECKS)
    return list(provider.evaluate(snap, now or datetime.now(UTC), Thresholds(), ()))


def outcomes(findings: list[Finding]) -> dict[str, set[tuple[str, Status]]]:
    out: dict[str, set[tuple[str, Status]]] = defaultdict(set)
    for f in findings:
        out[f.check_id].add((f.resource.id, f.status))
    return dict(out)


def test_every_governance_check_golden_exact_set(snapshot: AccountSnapshot, estate: dict[str, Any]) -> None:
    org_arn = estate["org"]["Arn"]
    P, F, E = Status.PASS, Status.FAIL, Status.ERROR
    expected: dict[str, set[tuple[str, Status]]] = {
        # moto reports AccountMFAEnabled 0 for root: no MFA at all is a FAIL too.
        "aws.iam.root_hardware_mfa": {(ROOT, F)},
        "aws.iam.user_hardware_mfa": {
            (f"{IAM}:user/console-hw-mfa", P),
            (f"{IAM}:user/console-virtual-mfa", F),
            (f"{IAM}:user/console-clean", F),  # no MFA at all
            (f"{IAM}:user/console-setup-key", F),
        },
        "aws.iam.no_initial_access_key": {
            (f"{IAM}:user/console-clean", P),
            (f"{IAM}:user/console-hw-mfa", P),
            (f"{IAM}:user/console-virtual-mfa", P),
            (f"{IAM}:user/console-setup-key", F),
        },
        "aws.iam.single_active_access_key": {
            (f"{IAM}:user/console-setup-key", P),
            (f"{IAM}:user/ci-one-key", P),
            (f"{IAM}:user/ci-two-keys", F),
        },
        # moto reports a fixed Expiration of 2012-05-08 for every server certificate.
        "aws.iam.expired_server_certificates": {(f"{IAM}:server-certificate/legacy-www", F)},
        "aws.iam.securityaudit_role": {(ROOT, P)},
        "aws.iam.federated_sign_in": {(ROOT, P)},
        # moto's credential report has no <root_account> row: unknown, so ERROR (never a PASS).
        "aws.iam.root_not_used_recently": {(ROOT, E)},
        "aws.iam.cloudshell_full_access_restricted": {(ROOT, F)},
        "aws.account.alternate_contacts": {(f"arn:aws:account::{ACCOUNT}:account", F)},  # only SECURITY is set
        "aws.cloudtrail.insights_enabled": {(CT_ACCOUNT, P)},
        "aws.account.security_contact": {(f"arn:aws:account::{ACCOUNT}:account", P)},
        "aws.organizations.all_features": {(org_arn, P)},
        "aws.organizations.scps_in_use": {(org_arn, P)},
        # moto does not implement Access Analyzer: ERROR in each region through the fault path.
        "aws.accessanalyzer.enabled": {
            (f"arn:aws:::{ACCOUNT}:{EU}", E),
            (f"arn:aws:::{ACCOUNT}:{HOME}", E),
        },
        "aws.cloudtrail.s3_data_events_write": {(CT_ACCOUNT, P)},
        "aws.cloudtrail.s3_data_events_read": {(CT_ACCOUNT, F)},
        "aws.cloudtrail.management_events_all": {(CT_ACCOUNT, F)},  # the multi-region trail is WriteOnly
        "aws.cloudtrail.bucket_access_logging": {(ORG_TRAIL, P), (EU_TRAIL, F)},
        "aws.config.records_global_resources": {(f"arn:aws:config::{ACCOUNT}:global-resources", P)},
        "aws.config.delivery_channel": {
            (f"arn:aws:config:{HOME}:{ACCOUNT}:delivery-channel", P),
            (f"arn:aws:config:{EU}:{ACCOUNT}:delivery-channel", F),
        },
        "aws.cloudwatch.alarm_console_auth_failures": {(f"{ALARM}console_auth_failures", P)},
        "aws.cloudwatch.alarm_cmk_disable_or_deletion": {(f"{ALARM}cmk_disable_or_deletion", P)},
        "aws.cloudwatch.alarm_s3_bucket_policy_changes": {(f"{ALARM}s3_bucket_policy_changes", F)},
        "aws.cloudwatch.alarm_config_changes": {(f"{ALARM}config_changes", F)},
        "aws.cloudwatch.alarm_organizations_changes": {(f"{ALARM}organizations_changes", F)},
    }
    assert set(expected) == {c.info.id for c in CHECKS}
    assert outcomes(evaluate(snapshot)) == expected


def test_pass_and_fail_carry_evidence_and_say_expected(snapshot: AccountSnapshot) -> None:
    for f in evaluate(snapshot):
        if f.status in (Status.PASS, Status.FAIL):
            assert f.evidence, f.check_id
        if f.status is Status.FAIL:
            assert "expected" in f.message, f.message


def test_contact_details_never_reach_the_snapshot_or_findings(snapshot: AccountSnapshot) -> None:
    assert snapshot.get("account_contacts")["alternate_contacts"]["SECURITY"] == {
        "type": "SECURITY",
        "has_email": True,
        "has_phone": True,
    }
    text = repr(snapshot.global_data) + repr(evaluate(snapshot))
    assert CONTACT_EMAIL not in text and "+15550100" not in text and "Sec Ops" not in text


def test_access_analyzer_error_names_the_dataset(snapshot: AccountSnapshot) -> None:
    errs = [f for f in evaluate(snapshot) if f.check_id == "aws.accessanalyzer.enabled"]
    assert {f.status for f in errs} == {Status.ERROR}
    assert all("accessanalyzer" in f.message for f in errs)


# --- hand-built snapshots: the branches moto cannot produce -----------------------------------


def variant(snapshot: AccountSnapshot) -> AccountSnapshot:
    return copy.deepcopy(snapshot)


def run_one(snap: AccountSnapshot, check_id: str, now: datetime | None = None) -> set[tuple[str, Status]]:
    return outcomes(evaluate(snap, now)).get(check_id, set())


def test_root_hardware_mfa_branches(snapshot: AccountSnapshot) -> None:
    snap = variant(snapshot)
    snap.global_data["iam"]["summary"]["AccountMFAEnabled"] = 1
    assert run_one(snap, "aws.iam.root_hardware_mfa") == {(ROOT, Status.FAIL)}  # virtual device on root
    snap.global_data["iam_extra"]["virtual_mfa_devices"] = []
    assert run_one(snap, "aws.iam.root_hardware_mfa") == {(ROOT, Status.PASS)}
    snap.global_data["iam_extra"]["virtual_mfa_devices"] = CollectError("AccessDenied")
    got = [f for f in evaluate(snap) if f.check_id == "aws.iam.root_hardware_mfa"]
    assert [(f.status, "AccessDenied" in f.message) for f in got] == [(Status.ERROR, True)]


def test_expired_server_certificate_branches(snapshot: AccountSnapshot) -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    snap = variant(snapshot)
    snap.global_data["iam_extra"]["server_certificates"] = [
        {"ServerCertificateName": "old", "Arn": f"{IAM}:server-certificate/old", "Expiration": now - timedelta(days=1)},
        {"ServerCertificateName": "new", "Arn": f"{IAM}:server-certificate/new", "Expiration": now + timedelta(days=9)},
    ]
    assert run_one(snap, "aws.iam.expired_server_certificates", now) == {
        (f"{IAM}:server-certificate/old", Status.FAIL),
        (f"{IAM}:server-certificate/new", Status.PASS),
    }


def test_root_recent_use_fails_within_the_window(snapshot: AccountSnapshot) -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    snap = variant(snapshot)
    report = snap.global_data["iam"]["credential_report"]
    assert not [r for r in report if r["user"] == "<root_account>"]  # moto leaves it out; AWS always has it
    root = {
        "user": "<root_account>",
        "arn": ROOT,
        "password_enabled": "not_supported",
        "password_last_used": "N/A",
        "access_key_1_last_used_date": "N/A",
        "access_key_2_last_used_date": "N/A",
    }
    report.append(root)
    root["password_last_used"] = (now - timedelta(days=3)).isoformat()
    assert run_one(snap, "aws.iam.root_not_used_recently", now) == {(ROOT, Status.FAIL)}
    root["password_last_used"] = (now - timedelta(days=200)).isoformat()
    assert run_one(snap, "aws.iam.root_not_used_recently", now) == {(ROOT, Status.PASS)}


def test_federation_fails_only_with_console_users_and_no_idp(snapshot: AccountSnapshot) -> None:
    snap = variant(snapshot)
    snap.global_data["iam_extra"]["saml_providers"] = []
    assert run_one(snap, "aws.iam.federated_sign_in") == {(ROOT, Status.FAIL)}
    for row in snap.global_data["iam"]["credential_report"]:
        row["password_enabled"] = "false"
    assert run_one(snap, "aws.iam.federated_sign_in") == {(ROOT, Status.PASS)}


def test_cloudshell_full_access_names_the_holders(snapshot: AccountSnapshot) -> None:
    got = [f for f in evaluate(snapshot) if f.check_id == "aws.iam.cloudshell_full_access_restricted"]
    assert [f.evidence["holders"] for f in got] == [["group/shell-users"]]
    snap = variant(snapshot)
    for g in snap.global_data["iam"]["groups"]:
        g["AttachedManagedPolicies"] = []
    assert run_one(snap, "aws.iam.cloudshell_full_access_restricted") == {(ROOT, Status.PASS)}


def test_security_contact_missing_fails(snapshot: AccountSnapshot) -> None:
    snap = variant(snapshot)
    snap.global_data["account_contacts"]["alternate_contacts"]["SECURITY"] = None
    assert run_one(snap, "aws.account.security_contact") == {(f"arn:aws:account::{ACCOUNT}:account", Status.FAIL)}


def test_alternate_contacts_and_insights_branches(snapshot: AccountSnapshot) -> None:
    snap = variant(snapshot)
    contacts = snap.global_data["account_contacts"]["alternate_contacts"]
    contacts["OPERATIONS"] = contacts["BILLING"] = {"type": "X", "has_email": True, "has_phone": False}
    assert run_one(snap, "aws.account.alternate_contacts") == {(f"arn:aws:account::{ACCOUNT}:account", Status.PASS)}
    contacts["BILLING"] = CollectError("AccessDenied")
    errs = [f for f in evaluate(snap) if f.check_id == "aws.account.alternate_contacts"]
    assert [(f.status, "account_contacts.BILLING" in f.message) for f in errs] == [(Status.ERROR, True)]
    for region in REGIONS:
        for t in snap.regional[region]["cloudtrail_selectors"]["trails"]:
            t["insights"] = []
    assert run_one(snap, "aws.cloudtrail.insights_enabled") == {(CT_ACCOUNT, Status.FAIL)}


def test_organization_branches(snapshot: AccountSnapshot, estate: dict[str, Any]) -> None:
    org_arn = estate["org"]["Arn"]
    snap = variant(snapshot)
    snap.global_data["organizations"]["organization"]["FeatureSet"] = "CONSOLIDATED_BILLING"
    snap.global_data["organizations"]["scps"] = [{"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "AwsManaged": True}]
    assert run_one(snap, "aws.organizations.all_features") == {(org_arn, Status.FAIL)}
    assert run_one(snap, "aws.organizations.scps_in_use") == {(org_arn, Status.FAIL)}
    snap.global_data["organizations"] = {"organization": None, "scps": None}
    standalone = f"arn:aws:organizations::{ACCOUNT}:account"
    assert run_one(snap, "aws.organizations.all_features") == {(standalone, Status.SKIPPED)}
    assert run_one(snap, "aws.organizations.scps_in_use") == {(standalone, Status.SKIPPED)}


def test_access_analyzer_pass_and_fail_per_region(snapshot: AccountSnapshot) -> None:
    snap = variant(snapshot)
    snap.regional[HOME]["accessanalyzer"] = {"analyzers": [{"name": "acct", "status": "ACTIVE"}]}
    snap.regional[EU]["accessanalyzer"] = {"analyzers": [{"name": "broken", "status": "FAILED"}]}
    assert run_one(snap, "aws.accessanalyzer.enabled") == {
        (f"arn:aws:access-analyzer:{HOME}:{ACCOUNT}:analyzer", Status.PASS),
        (f"arn:aws:access-analyzer:{EU}:{ACCOUNT}:analyzer", Status.FAIL),
    }


def test_advanced_selectors_and_unread_selectors(snapshot: AccountSnapshot) -> None:
    snap = variant(snapshot)
    trail = snap.regional[HOME]["cloudtrail_selectors"]["trails"][0]
    trail["selectors"] = {
        "EventSelectors": [],
        "AdvancedEventSelectors": [
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "readOnly", "Equals": ["true"]},
                ]
            },
        ],
    }
    assert run_one(snap, "aws.cloudtrail.s3_data_events_read") == {(CT_ACCOUNT, Status.PASS)}
    assert run_one(snap, "aws.cloudtrail.s3_data_events_write") == {(CT_ACCOUNT, Status.FAIL)}
    assert run_one(snap, "aws.cloudtrail.management_events_all") == {(CT_ACCOUNT, Status.PASS)}
    for region in REGIONS:
        for t in snap.regional[region]["cloudtrail_selectors"]["trails"]:
            t["selectors"] = CollectError("AccessDenied")
    assert run_one(snap, "aws.cloudtrail.s3_data_events_read") == {(CT_ACCOUNT, Status.ERROR)}


def test_new_datasets_are_declared_once() -> None:
    new = {
        "iam_extra",
        "account_contacts",
        "organizations",
        "accessanalyzer",
        "cloudtrail_selectors",
        "config_delivery",
    }
    assert new <= set(DATASETS)
    assert {n for c in governance.CHECKS for n in c.needs} <= set(DATASETS)
