"""Golden fixtures: the named demo estate in moto, every check's exact set of failing resources.

The estate (auditor/providers/aws/demo_estate.py) holds compliant and misconfigured
resources side by side. The snapshot is collected once; checks are pure, so the same
snapshot is evaluated again at other clock values for the rotation-age checks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from auditor.catalog import controls_for_check
from auditor.config import Thresholds
from auditor.frameworks import load_catalog
from auditor.models import Finding, Severity, Status
from auditor.providers.aws import AwsProvider
from auditor.providers.aws.collect import DATASETS, collect_account
from auditor.providers.aws.demo_estate import (
    ACCOUNT,
    GOOD_REGION,
    LEGACY_REGION,
    MOTO_UNSERVED,
    PLANTED_SECRETS,
    REGIONS,
    seed_estate,
)
from auditor.providers.aws.model import AccountSnapshot
from auditor.providers.aws.session import ClientFactory
from tests.providers.aws.test_aws_data import NEW_IDS as DATA_IDS
from tests.providers.aws.test_aws_governance import CHECKS as GOVERNANCE_CHECKS
from tests.providers.aws.test_aws_network import MY_IDS as NETWORK_IDS

ALLOWED = (GOOD_REGION,)
# aws.ssm.patch_compliance: moto cannot serve it (ERROR here, MOTO_UNSERVED); its golden is on botocore's
# Stubber in test_aws_network.py.
GROUP_GOLDEN = {*DATA_IDS, *NETWORK_IDS, *(c.info.id for c in GOVERNANCE_CHECKS), "aws.ssm.patch_compliance"}


@pytest.fixture(scope="module")
def estate(mocked: Any, seeded_at: datetime) -> dict[str, Any]:
    seed_estate(None, now=seeded_at)
    ids: dict[str, Any] = {}
    for region in REGIONS:
        ec2 = boto3.client("ec2", region_name=region)
        ids[f"sg@{region}"] = {
            g["GroupName"]: g["GroupId"]
            for g in ec2.describe_security_groups()["SecurityGroups"]
            if g["GroupName"] != "default"
        }
        ids[f"default_sg@{region}"] = {
            g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == "default"
        }
        ids[f"vpcs@{region}"] = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
        ids[f"unencrypted_volumes@{region}"] = {
            v["VolumeId"] for v in ec2.describe_volumes()["Volumes"] if not v["Encrypted"]
        }
        ids[f"snapshots@{region}"] = {
            s["Description"]: s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        }
        ids[f"images@{region}"] = {i["Name"]: i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]}
        ids[f"instances@{region}"] = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
        kms = boto3.client("kms", region_name=region)
        ids[f"keys@{region}"] = {
            kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["Description"]: k["KeyArn"]
            for k in kms.list_keys()["Keys"]
        }
        elb = boto3.client("elbv2", region_name=region)
        ids[f"lbs@{region}"] = {
            lb["LoadBalancerName"]: lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]
        }
        sm = boto3.client("secretsmanager", region_name=region)
        ids[f"secrets@{region}"] = {s["Name"]: s["ARN"] for s in sm.list_secrets()["SecretList"]}
        acm = boto3.client("acm", region_name=region)
        ids[f"certs@{region}"] = {
            c["DomainName"]: c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]
        }
    return ids


@pytest.fixture(scope="module")
def snapshot(estate: dict[str, Any]) -> AccountSnapshot:
    factory = ClientFactory(boto3.Session())
    return collect_account(factory, ACCOUNT, REGIONS, LEGACY_REGION, DATASETS)


def evaluate(snapshot: AccountSnapshot, now: datetime, thresholds: Thresholds | None = None) -> list[Finding]:
    return list(AwsProvider().evaluate(snapshot, now, thresholds or Thresholds(), ALLOWED))


@pytest.fixture(scope="module")
def findings(snapshot: AccountSnapshot, seeded_at: datetime) -> list[Finding]:
    return evaluate(snapshot, seeded_at)


def by_check(findings: list[Finding], status: Status) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        if f.status is status:
            out[f.check_id].add(f.resource.id)
    return out


def ec2_arn(region: str, kind: str, rid: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:ec2:{region}:{account}:{kind}/{rid}"


def expected_failures(e: dict[str, Any]) -> dict[str, set[str]]:
    """Every check -> the exact resource ids that must FAIL at seed time."""
    us, eu = LEGACY_REGION, GOOD_REGION
    iam = f"arn:aws:iam::{ACCOUNT}"
    sg_us = e[f"sg@{us}"]
    default_sgs = {ec2_arn(r, "security-group", g) for r in REGIONS for g in e[f"default_sg@{r}"]}
    closed_default = {  # the app VPC's default group was emptied by the seed
        ec2_arn(eu, "security-group", g)
        for g in e[f"default_sg@{eu}"]
        if not boto3.client("ec2", region_name=eu).describe_security_groups(GroupIds=[g])["SecurityGroups"][0][
            "IpPermissionsEgress"
        ]
    }
    flow_logged = {fl["ResourceId"] for fl in boto3.client("ec2", region_name=eu).describe_flow_logs()["FlowLogs"]}
    us_instance = next(i["InstanceId"] for i in e[f"instances@{us}"])
    public_site = "arn:aws:s3:::acme-public-site-us"
    backups = "arn:aws:s3:::acme-backups-us"
    legacy_trail = f"arn:aws:cloudtrail:{us}:{ACCOUNT}:trail/legacy-trail"
    legacy_db = f"arn:aws:rds:{us}:{ACCOUNT}:db:legacy-db"
    old_alb = e[f"lbs@{us}"]["old-alb"]
    alarm = f"arn:aws:cloudwatch::{ACCOUNT}:security-alarm/"
    return {
        "aws.iam.root_mfa_enabled": {f"{iam}:root"},
        "aws.iam.root_access_keys_absent": set(),
        "aws.iam.password_policy_min_length": {f"{iam}:account-password-policy"},
        "aws.iam.password_policy_uppercase": set(),
        "aws.iam.password_policy_lowercase": set(),
        "aws.iam.password_policy_numbers": set(),
        "aws.iam.password_policy_symbols": {f"{iam}:account-password-policy"},
        "aws.iam.password_policy_reuse_prevention": set(),
        "aws.iam.password_policy_max_age": set(),
        "aws.iam.console_user_mfa": {f"{iam}:user/alice-admin"},
        "aws.iam.unused_console_password": set(),
        "aws.iam.access_key_age": set(),
        "aws.iam.access_key_unused": set(),
        "aws.iam.user_admin_privileges": {f"{iam}:user/alice-admin", f"{iam}:user/ci-bot"},
        "aws.iam.group_admin_privileges": {f"{iam}:group/admins"},
        "aws.iam.role_admin_privileges": {f"{iam}:role/ops-break-glass"},
        "aws.iam.user_no_direct_policies": {f"{iam}:user/alice-admin", f"{iam}:user/ci-bot"},
        "aws.iam.support_role_exists": set(),
        "aws.iam.customer_policy_no_full_admin": {f"{iam}:policy/custom-full-admin"},
        "aws.s3.account_public_access_block": {f"arn:aws:s3:::account/{ACCOUNT}"},
        "aws.s3.bucket_public_access_block": {public_site},
        "aws.s3.bucket_default_encryption": {public_site},
        "aws.s3.bucket_kms_encryption": {backups},
        "aws.s3.bucket_tls_only": {public_site, backups},
        "aws.s3.bucket_versioning": {public_site},
        "aws.s3.bucket_access_logging": {public_site, backups},
        "aws.s3.bucket_no_public_acl": {public_site},
        "aws.s3.bucket_no_public_policy": {public_site},
        "aws.s3.bucket_region_allowed": {public_site, backups},
        "aws.cloudtrail.multi_region_trail": set(),
        "aws.cloudtrail.trail_logging": {legacy_trail},
        "aws.cloudtrail.log_file_validation": {legacy_trail},
        "aws.cloudtrail.kms_encryption": {legacy_trail},
        "aws.cloudtrail.cloudwatch_logs": {legacy_trail},
        "aws.cloudtrail.bucket_not_public": {legacy_trail},
        "aws.cloudwatch.alarm_unauthorized_api_calls": set(),
        "aws.cloudwatch.alarm_root_usage": set(),
        "aws.cloudwatch.alarm_console_login_no_mfa": set(),
        "aws.cloudwatch.alarm_iam_policy_changes": {alarm + "iam_policy_changes"},
        "aws.cloudwatch.alarm_security_group_changes": {alarm + "security_group_changes"},  # filter, no alarm
        "aws.cloudwatch.alarm_nacl_changes": {alarm + "nacl_changes"},
        "aws.cloudwatch.alarm_network_gateway_changes": {alarm + "network_gateway_changes"},
        "aws.cloudwatch.alarm_route_table_changes": {alarm + "route_table_changes"},
        "aws.cloudwatch.alarm_vpc_changes": {alarm + "vpc_changes"},
        "aws.cloudwatch.alarm_cloudtrail_changes": {alarm + "cloudtrail_changes"},
        "aws.config.recorder_enabled": {f"arn:aws:config:{us}:{ACCOUNT}:configuration-recorder"},
        "aws.guardduty.detector_enabled": {f"arn:aws:guardduty:{us}:{ACCOUNT}:detector"},
        "aws.securityhub.enabled": {f"arn:aws:securityhub:{us}:{ACCOUNT}:hub/default"},
        "aws.ec2.sg_ssh_open_to_internet": {
            ec2_arn(us, "security-group", sg_us[n]) for n in ("ssh-open-world", "all-open-world")
        },
        "aws.ec2.sg_rdp_open_to_internet": {
            ec2_arn(us, "security-group", sg_us[n]) for n in ("rdp-open-ipv6", "all-open-world")
        },
        "aws.ec2.sg_all_ports_open_to_internet": {ec2_arn(us, "security-group", sg_us["all-open-world"])},
        "aws.ec2.default_sg_closed": default_sgs - closed_default,
        "aws.ec2.ebs_default_encryption": {f"arn:aws:ec2:{us}:{ACCOUNT}:ebs-default-encryption"},
        "aws.ec2.volume_encrypted": {ec2_arn(r, "volume", v) for r in REGIONS for v in e[f"unencrypted_volumes@{r}"]},
        "aws.ec2.instance_imdsv2_required": {ec2_arn(us, "instance", us_instance)},
        "aws.ec2.snapshot_not_public": {ec2_arn(us, "snapshot", e[f"snapshots@{us}"]["legacy-public"], account="")},
        "aws.ec2.ami_not_public": {ec2_arn(us, "image", e[f"images@{us}"]["legacy-public-ami"], account="")},
        "aws.ec2.vpc_flow_logs_enabled": {
            ec2_arn(r, "vpc", v) for r in REGIONS for v in e[f"vpcs@{r}"] if v not in flow_logged
        },
        "aws.rds.storage_encrypted": {legacy_db},
        "aws.rds.not_publicly_accessible": {legacy_db},
        "aws.rds.backup_retention": {legacy_db},
        "aws.rds.multi_az": {legacy_db},
        "aws.rds.deletion_protection": {legacy_db},
        "aws.rds.auto_minor_version_upgrade": {legacy_db},
        "aws.rds.instance_region_allowed": {legacy_db},
        "aws.dynamodb.pitr_enabled": {f"arn:aws:dynamodb:{us}:{ACCOUNT}:table/audit-events-us"},
        "aws.dynamodb.table_region_allowed": {f"arn:aws:dynamodb:{us}:{ACCOUNT}:table/audit-events-us"},
        "aws.backup.plan_exists": {f"arn:aws:backup:{us}:{ACCOUNT}:backup-plans"},
        "aws.elbv2.https_listeners": {old_alb},
        "aws.elbv2.modern_tls_policy": {old_alb},
        "aws.elbv2.access_logs": {old_alb},
        "aws.lambda.supported_runtime": {f"arn:aws:lambda:{us}:{ACCOUNT}:function:legacy-cron"},
        "aws.kms.key_rotation_enabled": {
            e[f"keys@{eu}"]["customer-data"],
            e[f"keys@{eu}"]["cloudtrail"],
            e[f"keys@{us}"]["static-legacy-key"],
            # moto creates the EBS default key as a CUSTOMER key (AWS makes it AWS-managed) when
            # EBS encryption by default is turned on; it does not rotate, so it fails here.
            e[f"keys@{eu}"]["Default master key that protects my EBS volumes when no other key is defined"],
        },
        "aws.secretsmanager.rotation_enabled": {e[f"secrets@{us}"]["legacy-api-token"]},
        "aws.secretsmanager.rotated_recently": set(),
        "aws.acm.certificate_expiry": {e[f"certs@{eu}"]["api.acme.example"], e[f"certs@{us}"]["old.acme.example"]},
    }


@pytest.fixture(scope="module")
def expected(estate: dict[str, Any]) -> dict[str, set[str]]:
    return expected_failures(estate)


def test_every_check_has_a_golden_expectation(expected: dict[str, set[str]]) -> None:
    """The demo estate's golden set covers the original checks; the checks of issue 15 have their own
    estates and exact-set goldens (test_aws_data.py, test_aws_network.py, test_aws_governance.py)."""
    assert set(expected) | GROUP_GOLDEN == {c.id for c in AwsProvider().checks()}


@pytest.mark.parametrize("check_id", sorted({c.id for c in AwsProvider().checks()} - GROUP_GOLDEN))
def test_exact_failing_resources(check_id: str, findings: list[Finding], expected: dict[str, set[str]]) -> None:
    failing = by_check(findings, Status.FAIL).get(check_id, set())
    assert failing == expected[check_id]
    # Something was looked at and judged: a PASS, a FAIL or a documented SKIPPED; never an ERROR here.
    mine = [f for f in findings if f.check_id == check_id]
    assert mine, f"{check_id} produced no finding"
    assert not [f for f in mine if f.status is Status.ERROR]


def test_pass_findings_carry_evidence_and_fail_says_expected(findings: list[Finding]) -> None:
    for f in findings:
        if f.status in (Status.PASS, Status.FAIL):
            assert f.evidence, f"{f.check_id} {f.resource.id} has no evidence"
        if f.status is Status.FAIL:
            assert "expected" in f.message, f.message
        assert f.resource.account == ACCOUNT


def test_compliant_named_resources_pass(findings: list[Finding], estate: dict[str, Any]) -> None:
    passed = by_check(findings, Status.PASS)
    assert "arn:aws:s3:::acme-customer-data-eu" in passed["aws.s3.bucket_kms_encryption"]
    assert f"arn:aws:rds:{GOOD_REGION}:{ACCOUNT}:db:orders-db" in passed["aws.rds.not_publicly_accessible"]
    assert f"arn:aws:iam::{ACCOUNT}:user/bob-dev" in passed["aws.iam.console_user_mfa"]
    assert estate[f"lbs@{GOOD_REGION}"]["web-alb"] in passed["aws.elbv2.https_listeners"]
    assert f"arn:aws:cloudtrail:{GOOD_REGION}:{ACCOUNT}:trail/org-trail" in passed["aws.cloudtrail.trail_logging"]
    skipped = by_check(findings, Status.SKIPPED)
    assert skipped["aws.s3.bucket_kms_encryption"] == {
        "arn:aws:s3:::acme-access-logs-eu",
        "arn:aws:s3:::acme-cloudtrail-eu",
        "arn:aws:s3:::acme-public-site-us",
    }


def test_rotation_ages_follow_the_injected_clock(snapshot: AccountSnapshot, seeded_at: datetime) -> None:
    later = evaluate(snapshot, seeded_at + timedelta(days=100))
    failing = by_check(later, Status.FAIL)
    iam = f"arn:aws:iam::{ACCOUNT}"
    keyed_users = {f"{iam}:user/alice-admin", f"{iam}:user/ci-bot"}
    assert failing["aws.iam.access_key_age"] == keyed_users
    assert failing["aws.iam.access_key_unused"] == keyed_users
    assert failing["aws.iam.unused_console_password"] == {f"{iam}:user/alice-admin", f"{iam}:user/bob-dev"}
    assert {a.rsplit(":", 1)[-1].rsplit("-", 1)[0] for a in failing["aws.secretsmanager.rotated_recently"]} == {
        "orders-db-password",
        "legacy-api-token",
    }
    # 100 days later api (10 days) and old (3 days) have expired: critical; www (200 days) still passes.
    certs = {f.evidence["domain"]: f for f in later if f.check_id == "aws.acm.certificate_expiry"}
    assert {d: (f.status, f.severity) for d, f in certs.items()} == {
        "api.acme.example": (Status.FAIL, Severity.CRITICAL),
        "old.acme.example": (Status.FAIL, Severity.CRITICAL),
        "www.acme.example": (Status.PASS, Severity.HIGH),
    }
    # Thresholds come from configuration.
    relaxed = evaluate(snapshot, seeded_at + timedelta(days=100), Thresholds(access_key_max_age_days=365))
    assert not by_check(relaxed, Status.FAIL).get("aws.iam.access_key_age")


def test_certificate_severity_by_days_left(findings: list[Finding], estate: dict[str, Any]) -> None:
    sev = {f.resource.id: f.severity for f in findings if f.check_id == "aws.acm.certificate_expiry"}
    assert sev[estate[f"certs@{GOOD_REGION}"]["api.acme.example"]] is Severity.MEDIUM  # 10 days
    assert sev[estate[f"certs@{LEGACY_REGION}"]["old.acme.example"]] is Severity.HIGH  # 3 days


def test_catalog_ids_and_mappings() -> None:
    checks = AwsProvider().checks()
    ids = [c.id for c in checks]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)
    frameworks = list(load_catalog().values())
    for c in checks:
        assert re.fullmatch(r"aws\.[a-z0-9]+\.[a-z0-9_]+", c.id), c.id
        assert c.provider == "aws" and c.title and c.risk and c.remediation and c.resource_type
        refs = controls_for_check(c.id, frameworks)
        assert refs, f"{c.id} is not mapped to any control"
    refs = {cid: set(controls_for_check(cid, frameworks)) for cid in ids}
    assert {"soc2:CC6.1", "gdpr:Art.32(1)(a)"} <= refs["aws.s3.bucket_default_encryption"]
    assert {"soc2:CC7.2", "gdpr:Art.32(1)(b)"} <= refs["aws.cloudtrail.multi_region_trail"]  # Art. 30 is manual
    assert {"soc2:A1.2", "gdpr:Art.32(1)(c)"} <= refs["aws.dynamodb.pitr_enabled"]
    assert {"soc2:CC6.6", "gdpr:Art.25"} <= refs["aws.s3.bucket_no_public_policy"]
    assert "soc2:CC6.1" in refs["aws.kms.key_rotation_enabled"]
    assert refs["aws.s3.bucket_region_allowed"] == {"gdpr:Art.44"}
    assert refs["aws.ssm.patch_compliance"] == {"soc2:CC7.1", "gdpr:Art.32(1)(b)", "iso27001:A.8.8"}


# --- every service with checks shows a PASS and a FAIL (issue 15: demo_estate.seed_services) -------
# Exact (FAIL, PASS) sets for the checks of the services the original estate did not hold, on the
# same scanned estate as above (one scan per module). moto limits noted where a set is not the
# textbook one.


# Services only seed_services holds, and the checks of older services it adds resources for.
NEW_SERVICES = {
    "ecr", "eks", "elb", "cloudfront", "apigateway", "apigatewayv2", "sqs", "ssm", "efs", "elasticache",
    "redshift", "opensearch", "wafv2", "route53", "organizations", "account",
}  # fmt: skip
SERVICE_CHECKS = frozenset(
    {c.id for c in AwsProvider().checks() if c.id.split(".")[1] in NEW_SERVICES and c.id not in MOTO_UNSERVED}
    | {f"aws.lambda.{c}" for c in ("function_url_auth", "function_url_cors_restricted", "policy_not_public")}
    | {"aws.lambda.no_secrets_in_environment", "aws.lambda.tracing_enabled"}
    | {f"aws.ec2.nacl_{c}" for c in ("all_ports_open_to_internet", "ssh_open_to_internet", "rdp_open_to_internet")}
    | {"aws.ec2.nacl_unused", "aws.ec2.vpc_peering_routes_least_access"}
    | {"aws.ec2.launch_template_imdsv2_required", "aws.ec2.launch_template_no_secrets"}
    | {"aws.dynamodb.cmk_encryption", "aws.dynamodb.deletion_protection"}
    | {"aws.sns.topic_encrypted", "aws.sns.topic_policy_not_public", "aws.sns.subscriptions_https"}
)


@pytest.fixture(scope="module")
def service_ids(estate: dict[str, Any]) -> dict[str, Any]:
    """Ids moto makes up (file systems, distributions, APIs, zones, ACLs...), by the names the seed gave."""
    ids: dict[str, Any] = {}
    for region in REGIONS:
        efs = boto3.client("efs", region_name=region)
        for fs in efs.describe_file_systems()["FileSystems"]:
            ids[fs["Name"]] = fs["FileSystemArn"]
        apigw = boto3.client("apigateway", region_name=region)
        for api in apigw.get_rest_apis()["items"]:
            ids[api["name"]] = api["id"]
        for api in boto3.client("apigatewayv2", region_name=region).get_apis()["Items"]:
            ids[api["Name"]] = api["ApiId"]
        waf = boto3.client("wafv2", region_name=region)
        for scope in ("REGIONAL", "CLOUDFRONT") if region == LEGACY_REGION else ("REGIONAL",):
            for acl in waf.list_web_acls(Scope=scope)["WebACLs"]:
                ids[acl["Name"]] = acl["ARN"]
        ec2 = boto3.client("ec2", region_name=region)
        ids[f"nacls@{region}"] = {}
        for acl in ec2.describe_network_acls()["NetworkAcls"]:
            name = next((t["Value"] for t in acl.get("Tags") or [] if t["Key"] == "Name"), acl["NetworkAclId"])
            ids[f"nacls@{region}"][name] = ec2_arn(region, "network-acl", acl["NetworkAclId"])
        for rt in ec2.describe_route_tables()["RouteTables"]:
            for t in rt.get("Tags") or []:
                if t["Key"] == "Name":
                    ids[t["Value"]] = ec2_arn(region, "route-table", rt["RouteTableId"])
        for lt in ec2.describe_launch_templates()["LaunchTemplates"]:
            ids[lt["LaunchTemplateName"]] = ec2_arn(region, "launch-template", lt["LaunchTemplateId"])
    for d in boto3.client("cloudfront").list_distributions()["DistributionList"]["Items"]:
        ids[d["Comment"]] = d["ARN"]
    ids["zones"] = {
        z["Name"].rstrip("."): f"arn:aws:route53:::hostedzone/{z['Id'].rsplit('/', 1)[-1]}"
        for z in boto3.client("route53").list_hosted_zones()["HostedZones"]
    }
    ids["organization"] = boto3.client("organizations").describe_organization()["Organization"]["Arn"]
    return ids


def service_golden(i: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    """check id -> (resources that FAIL, resources that PASS) for the services seed_services adds."""
    eu, us = GOOD_REGION, LEGACY_REGION

    def pair(good: str, bad: str) -> tuple[set[str], set[str]]:
        return {bad}, {good}

    ecr = pair(
        f"arn:aws:ecr:{eu}:{ACCOUNT}:repository/acme-app-images",
        f"arn:aws:ecr:{us}:{ACCOUNT}:repository/legacy-public-images",
    )
    eks = pair(
        f"arn:aws:eks:{eu}:{ACCOUNT}:cluster/acme-platform-private",
        f"arn:aws:eks:{us}:{ACCOUNT}:cluster/legacy-open-cluster",
    )
    clb = pair(
        f"arn:aws:elasticloadbalancing:{eu}:{ACCOUNT}:loadbalancer/acme-clb-tls",
        f"arn:aws:elasticloadbalancing:{us}:{ACCOUNT}:loadbalancer/legacy-clb-http",
    )
    cdn = pair(i["acme-shop-cdn"], i["legacy-public-site-cdn"])
    good_api, bad_api = (
        f"arn:aws:apigateway:{eu}::/restapis/{i['orders-api']}",
        f"arn:aws:apigateway:{us}::/restapis/{i['legacy-public-api']}",
    )
    good_stage, bad_stage = f"{good_api}/stages/prod", f"{bad_api}/stages/dev"
    good_http = f"arn:aws:apigateway:{eu}::/apis/{i['orders-api-http']}"
    bad_http = f"arn:aws:apigateway:{us}::/apis/{i['legacy-public-api-http']}"
    fn = f"arn:aws:lambda:{{}}:{ACCOUNT}:function:{{}}"
    webhook_ok, webhook_open = fn.format(eu, "orders-webhook-iam"), fn.format(us, "legacy-public-webhook")
    old_fns = {fn.format(eu, "api-handler"), fn.format(us, "legacy-cron")}
    efs = pair(i["acme-shared-files"], i["legacy-open-files"])
    cache = pair(
        f"arn:aws:elasticache:{eu}:{ACCOUNT}:replicationgroup:acme-sessions-cache",
        f"arn:aws:elasticache:{us}:{ACCOUNT}:replicationgroup:legacy-plain-cache",
    )
    rs_good = f"arn:aws:redshift:{eu}:{ACCOUNT}:cluster:acme-analytics"
    rs_bad = f"arn:aws:redshift:{us}:{ACCOUNT}:cluster:legacy-public-warehouse"
    search = pair(
        f"arn:aws:es:{eu}:{ACCOUNT}:domain/acme-search", f"arn:aws:es:{us}:{ACCOUNT}:domain/legacy-open-search"
    )
    queue = pair(f"arn:aws:sqs:{eu}:{ACCOUNT}:orders-jobs", f"arn:aws:sqs:{us}:{ACCOUNT}:legacy-open-jobs")
    doc = pair(
        f"arn:aws:ssm:{eu}:{ACCOUNT}:document/acme-restart-app",
        f"arn:aws:ssm:{us}:{ACCOUNT}:document/legacy-public-sync",
    )
    zones = i["zones"]
    domain = "arn:aws:route53domains:::domain/{}"
    nacls = {acl for r in REGIONS for acl in i[f"nacls@{r}"].values()}
    https_only = i[f"nacls@{eu}"]["nacl-app-https-only"]
    account = f"arn:aws:account::{ACCOUNT}:account"
    table = f"arn:aws:dynamodb:{{}}:{ACCOUNT}:table/{{}}"
    old_tables = {table.format(eu, "sessions-eu"), table.format(us, "audit-events-us")}
    topic = f"arn:aws:sns:{{}}:{ACCOUNT}:{{}}"
    payments, alerts, open_topic = (
        topic.format(eu, "payments-events"),
        topic.format(eu, "security-alerts"),
        topic.format(us, "legacy-open-topic"),
    )
    return {
        # payments-eu: a rotated customer key, deletion protection; the original tables have neither.
        "aws.dynamodb.cmk_encryption": (old_tables, {table.format(eu, "payments-eu")}),
        "aws.dynamodb.deletion_protection": (old_tables, {table.format(eu, "payments-eu")}),
        "aws.sns.topic_encrypted": ({alerts, open_topic}, {payments}),
        "aws.sns.topic_policy_not_public": ({open_topic}, {payments, alerts}),
        "aws.sns.subscriptions_https": (set(), {payments, alerts, open_topic}),  # no subscriptions at all
        **{
            f"aws.ecr.{c}": ecr
            for c in ("scan_on_push", "immutable_tags", "repository_not_public", "lifecycle_policy", "kms_encryption")
        },
        **{
            f"aws.eks.{c}": eks
            for c in (
                "endpoint_not_open_to_internet",
                "endpoint_private_only",
                "control_plane_logging",
                "secrets_encryption",
            )
        },
        **{
            f"aws.elb.{c}": clb
            for c in ("secure_listeners", "access_logs", "cross_zone_load_balancing", "connection_draining")
        },
        **{
            f"aws.cloudfront.{c}": cdn
            for c in (
                "viewer_https",
                "modern_tls",
                "access_logging",
                "waf_enabled",
                "s3_origin_access_control",
                "default_root_object",
                "origin_tls_protocols",
                "origin_https",
            )
        },
        **{
            f"aws.apigateway.{c}": ({bad_stage}, {good_stage})
            for c in ("stage_access_logging", "stage_execution_logging", "stage_tracing", "stage_waf")
        },
        # moto has no GenerateClientCertificate: no stage can be given a client certificate.
        "aws.apigateway.stage_client_certificate": ({good_stage, bad_stage}, set()),
        "aws.apigateway.method_authorization": ({bad_api}, {good_api}),
        "aws.apigateway.domain_tls12": (
            {f"arn:aws:apigateway:{us}::/domainnames/legacy-api.acme.example"},
            {f"arn:aws:apigateway:{eu}::/domainnames/api.acme.example"},
        ),
        "aws.apigatewayv2.route_authorization": ({bad_http}, {good_http}),
        "aws.apigatewayv2.stage_access_logging": ({f"{bad_http}/stages/dev"}, {f"{good_http}/stages/prod"}),
        "aws.lambda.function_url_auth": ({webhook_open}, {webhook_ok}),
        "aws.lambda.function_url_cors_restricted": ({webhook_open}, {webhook_ok}),
        "aws.lambda.policy_not_public": ({webhook_open}, {webhook_ok, *old_fns}),
        "aws.lambda.no_secrets_in_environment": ({webhook_open}, {webhook_ok, *old_fns}),
        "aws.lambda.tracing_enabled": ({webhook_open, *old_fns}, {webhook_ok}),
        **{f"aws.sqs.{c}": queue for c in ("queue_encrypted", "queue_policy_not_public")},
        **{f"aws.ssm.{c}": doc for c in ("document_not_public", "document_no_secrets")},
        **{f"aws.efs.{c}": efs for c in ("encrypted", "backup_policy_enabled", "policy_not_public")},
        **{
            f"aws.elasticache.{c}": cache
            for c in ("at_rest_encryption", "in_transit_encryption", "auth_enabled", "automatic_backups")
        },
        **{
            f"aws.redshift.{c}": ({rs_bad}, {rs_good})
            for c in ("encrypted", "not_publicly_accessible", "audit_logging", "version_upgrade")
        },
        # moto serves only the default parameter group (require_ssl false) and always one day of
        # automated snapshots: the PASS and FAIL paths of these two are in test_aws_data.py.
        "aws.redshift.require_ssl": ({rs_good, rs_bad}, set()),
        "aws.redshift.automated_snapshots": (set(), {rs_good, rs_bad}),
        **{
            f"aws.opensearch.{c}": search
            for c in (
                "encryption_at_rest",
                "node_to_node_encryption",
                "enforce_https",
                "not_public",
                "fine_grained_access",
                "audit_logs",
                "slow_logs",
            )
        },
        "aws.wafv2.logging_enabled": ({i["legacy-empty-acl"]}, {i["acme-api-acl"], i["acme-cdn-acl"]}),
        "aws.wafv2.web_acl_has_rules": ({i["legacy-empty-acl"]}, {i["acme-api-acl"], i["acme-cdn-acl"]}),
        # Registering a domain creates its public zone (in moto too); moto cannot sign zones (DNSSEC).
        "aws.route53.dnssec_signing": (set(zones.values()), set()),
        "aws.route53.query_logging": (set(zones.values()) - {zones["acme.example"]}, {zones["acme.example"]}),
        "aws.route53.domain_auto_renew": ({domain.format("acme-legacy-promo.com")}, {domain.format("acme-shop.com")}),
        # moto locks every registered domain against transfer.
        "aws.route53.domain_transfer_lock": (
            set(),
            {domain.format("acme-legacy-promo.com"), domain.format("acme-shop.com")},
        ),
        "aws.organizations.all_features": (set(), {i["organization"]}),
        "aws.organizations.scps_in_use": ({i["organization"]}, set()),
        "aws.account.security_contact": (set(), {account}),
        "aws.account.alternate_contacts": ({account}, set()),
        # Default network ACLs allow everything; only the app's HTTPS-only ACL is closed.
        **{
            f"aws.ec2.nacl_{c}_open_to_internet": (nacls - {https_only}, {https_only})
            for c in ("all_ports", "ssh", "rdp")
        },
        "aws.ec2.nacl_unused": ({i[f"nacls@{us}"]["nacl-legacy-allow-all"]}, {https_only}),
        "aws.ec2.vpc_peering_routes_least_access": ({i["rtb-partner-wide"]}, {i["rtb-app-to-partner-narrow"]}),
        "aws.ec2.launch_template_imdsv2_required": ({i["lt-legacy-imdsv1"]}, {i["lt-app-hardened"]}),
        "aws.ec2.launch_template_no_secrets": ({i["lt-legacy-imdsv1"]}, {i["lt-app-hardened"]}),
    }


@pytest.fixture(scope="module")
def services_expected(service_ids: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    return service_golden(service_ids)


def test_every_service_shows_a_pass_and_a_fail(findings: list[Finding]) -> None:
    """`auditor demo` shows every AWS service that has checks with at least one PASS and one FAIL;
    the only exception is Access Analyzer, whose API moto does not serve (ERROR, MOTO_UNSERVED)."""
    services = {c.id.split(".")[1] for c in AwsProvider().checks()}
    statuses: dict[str, set[Status]] = defaultdict(set)
    for f in findings:
        statuses[f.check_id.split(".")[1]].add(f.status)
    lacking = {s for s in services if not {Status.PASS, Status.FAIL} <= statuses[s]}
    assert lacking == {"accessanalyzer"}
    assert statuses["accessanalyzer"] == {Status.ERROR}


def test_only_the_checks_moto_cannot_serve_are_error(findings: list[Finding]) -> None:
    """MOTO_UNSERVED is exact: those checks are ERROR on the demo estate (never a verdict), nothing else is."""
    assert {f.check_id for f in findings if f.status is Status.ERROR} == MOTO_UNSERVED
    verdicts = {(f.check_id, f.status) for f in findings if f.check_id in MOTO_UNSERVED and f.status != Status.ERROR}
    # legacy-db: no backup plan at all in us-east-1, a FAIL read without the API moto lacks.
    assert verdicts == {("aws.rds.backup_plan_protected", Status.FAIL)}


@pytest.mark.parametrize("check_id", sorted(SERVICE_CHECKS))
def test_service_checks_exact_fail_and_pass_sets(
    check_id: str, findings: list[Finding], services_expected: dict[str, tuple[set[str], set[str]]]
) -> None:
    fail, passed = services_expected[check_id]
    assert by_check(findings, Status.FAIL).get(check_id, set()) == fail
    assert by_check(findings, Status.PASS).get(check_id, set()) == passed
    assert not [f for f in findings if f.check_id == check_id and f.status not in (Status.PASS, Status.FAIL)]


def test_service_golden_names_exactly_the_service_checks(
    services_expected: dict[str, tuple[set[str], set[str]]],
) -> None:
    assert set(services_expected) == SERVICE_CHECKS


def test_planted_secrets_stay_out_of_findings(findings: list[Finding]) -> None:
    """The demo plants credential-looking values (Lambda environment, SSM document, launch template
    user data, cache auth token), generated per run: no finding carries one."""
    assert len(PLANTED_SECRETS) >= 4
    text = repr([(f.message, f.evidence, f.resource) for f in findings])
    assert not [v for v in PLANTED_SECRETS if v in text]
