"""Golden exact-set tests for the network, compute and edge checks (issue 15).

One small moto estate (tests/providers/aws/awsnet_estate.py) holds compliant and
misconfigured resources side by side. Every new check is asserted with its exact FAIL set
and its exact PASS set, and no ERROR. Where moto drops a field (CloudFront S3 origin access,
API Gateway stage client certificate and web ACL, Route 53 DNSSEC signing), the PASS path is
covered on a hand-built snapshot (the checks are pure functions of the snapshot).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from awsnet_estate import ACCOUNT, LAMBDA_PLACEHOLDER_VALUE, REGION, SSM_DOC_SECRET, USER_DATA_SECRET, seed_all
from botocore.awsrequest import AWSResponse

from auditor.config import AuditConfig, Thresholds
from auditor.models import Finding, Status
from auditor.providers import targets
from auditor.providers.aws import AwsProvider, session
from auditor.providers.aws.checks import compute, edge, network
from auditor.providers.aws.collect import collect_account
from auditor.providers.aws.model import AccountSnapshot, AwsCheck, CheckInput, CollectError
from auditor.providers.aws.session import ClientFactory
from auditor.providers.base import ScanContext
from auditor.runs import run_scan
from auditor.store import Store

MOTO_ENV_OVERRIDES = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
# Patch compliance reads an API moto does not serve: ERROR on this estate; its verdicts are
# covered on botocore's Stubber (test_patch_compliance_on_a_stubbed_ssm).
MINE: list[AwsCheck] = [
    c for c in (*network.CHECKS, *compute.CHECKS, *edge.CHECKS) if c is not compute.PATCH_COMPLIANCE
]
MY_IDS = sorted(c.info.id for c in MINE)
NEEDS = sorted({n for c in MINE for n in c.needs})


def ec2_arn(kind: str, rid: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:ec2:{REGION}:{account}:{kind}/{rid}"


@pytest.fixture(scope="module")
def estate(mocked: Any) -> dict[str, Any]:
    ids = seed_all()
    ec2 = boto3.client("ec2", region_name=REGION)
    ids["sg_by_name"] = {g["GroupName"]: g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    ids["sg_all"] = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    ids["sg_default"] = {
        g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == "default"
    }
    ids["nacl_default"] = {a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"] if a["IsDefault"]}
    ids["default_subnets"] = {
        s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == ids["default_vpc"]
    }
    return ids


@pytest.fixture(scope="module")
def snapshot(estate: dict[str, Any]) -> AccountSnapshot:
    return collect_account(ClientFactory(boto3.Session()), ACCOUNT, (REGION,), REGION, NEEDS)


def evaluate(snap: AccountSnapshot, checks: list[AwsCheck] | None = None) -> list[Finding]:
    return list(AwsProvider(checks=checks or MINE).evaluate(snap, NOW, Thresholds(), ()))


@pytest.fixture(scope="module")
def findings(snapshot: AccountSnapshot) -> list[Finding]:
    return evaluate(snapshot)


def by_status(findings: list[Finding]) -> dict[tuple[str, Status], set[str]]:
    out: dict[tuple[str, Status], set[str]] = defaultdict(set)
    for f in findings:
        out[(f.check_id, f.status)].add(f.resource.id)
    return out


def golden(e: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    """Every new check -> (exact FAIL set, exact PASS set)."""
    sg = {name: ec2_arn("security-group", gid) for name, gid in e["sg_by_name"].items()}
    all_sgs = {ec2_arn("security-group", g) for g in e["sg_all"]}
    non_default_sgs = all_sgs - {ec2_arn("security-group", g) for g in e["sg_default"]}
    nacl = {name: ec2_arn("network-acl", a) for name, a in e["nacl"].items()}
    default_nacls = {ec2_arn("network-acl", a) for a in e["nacl_default"]}  # moto: allow everything (rule 100)
    all_nacls = set(nacl.values()) | default_nacls
    rtb = {name: ec2_arn("route-table", r) for name, r in e["rtb"].items()}
    web, legacy = (ec2_arn("instance", e["instances"][n]) for n in ("web", "legacy"))
    snap = {n: ec2_arn("snapshot", s, account="") for n, s in e["snapshots"].items()}
    tpl = {n: ec2_arn("launch-template", t) for n, t in e["templates"].items()}
    repo = {n: f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{n}" for n in ("app-hardened", "legacy-open", "org-shared")}
    cluster = {
        n: f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{n}"
        for n in ("private-cluster", "restricted-cluster", "open-cluster")
    }
    fn = {n: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{n}" for n in ("secure-fn", "leaky-fn", "plain-fn")}
    doc = {
        n: f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/{n}"
        for n in ("doc-private", "doc-public", "doc-shared-partner", "doc-with-token")
    }
    clb = {n: f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/{n}" for n in ("clb-secure", "clb-legacy")}
    lb = e["lbv2"]
    cdn = e["distributions"]
    api_root = f"arn:aws:apigateway:{REGION}::/restapis/"
    prod = f"{api_root}{e['apis']['orders-api']}/stages/prod"
    dev = f"{api_root}{e['apis']['public-api']}/stages/dev"
    v2_root = f"arn:aws:apigateway:{REGION}::/apis/"
    zone = {n: f"arn:aws:route53:::hostedzone/{z}" for n, z in e["zones"].items()}
    # Registering a domain creates its public hosted zone.
    public_zones = ("example.com", "legacy.example", "acme-renewing.com", "acme-expiring.com")
    assert set(e["zones"]) == {*public_zones, "internal.example"}

    def domain(name: str) -> str:
        return f"arn:aws:route53domains:::domain/{name}"

    waf = e["waf"]

    sg_admin_v4 = {sg["rdp-ipv4"], sg["wide-range"], sg["all-traffic"]}
    sg_admin_v6 = {sg["ssh-ipv6"]}
    sg_db = {sg["db-postgres-open"], sg["wide-range"], sg["all-traffic"]}
    sg_other = {sg["telnet-ipv6"], sg["wide-range"], sg["all-traffic"]}
    nacl_all = default_nacls | {nacl["nacl-deny-admin-allow-rest"]}
    nacl_ssh = default_nacls | {nacl["nacl-ssh-ipv6"]}
    nacl_rdp = default_nacls | {nacl["nacl-rdp-range"]}
    default_subnets = {ec2_arn("subnet", s) for s in e["default_subnets"]}
    return {
        "aws.ec2.nacl_all_ports_open_to_internet": (nacl_all, all_nacls - nacl_all),
        "aws.ec2.nacl_ssh_open_to_internet": (nacl_ssh, all_nacls - nacl_ssh),
        "aws.ec2.nacl_rdp_open_to_internet": (nacl_rdp, all_nacls - nacl_rdp),
        # Default ACLs are not judged; only nacl-https-only guards a subnet.
        "aws.ec2.nacl_unused": (set(nacl.values()) - {nacl["nacl-https-only"]}, {nacl["nacl-https-only"]}),
        "aws.ec2.sg_admin_ports_open_ipv4": (sg_admin_v4, all_sgs - sg_admin_v4),
        "aws.ec2.sg_admin_ports_open_ipv6": (sg_admin_v6, all_sgs - sg_admin_v6),
        "aws.ec2.sg_db_ports_open_to_internet": (sg_db, all_sgs - sg_db),
        "aws.ec2.sg_other_admin_ports_open_to_internet": (sg_other, all_sgs - sg_other),
        # Only web-https is on a network interface (the web instance); default groups are not judged.
        "aws.ec2.sg_unused": (non_default_sgs - {sg["web-https"]}, {sg["web-https"]}),
        "aws.ec2.vpc_peering_routes_least_access": (
            {rtb["rtb-app-whole-peer"], rtb["rtb-peer-wider"]},
            {rtb["rtb-app-one-subnet"]},
        ),
        "aws.ec2.instance_no_public_ip": ({legacy}, {web}),
        "aws.ec2.instance_not_in_default_vpc": ({legacy}, {web}),
        "aws.ec2.instance_profile_attached": ({legacy}, {web}),
        "aws.ec2.instance_user_data_no_secrets": ({legacy}, {web}),
        "aws.ec2.launch_template_no_secrets": ({tpl["lt-legacy"]}, {tpl["lt-hardened"], tpl["lt-no-user-data"]}),
        "aws.ec2.launch_template_imdsv2_required": ({tpl["lt-legacy"]}, {tpl["lt-hardened"], tpl["lt-no-user-data"]}),
        "aws.ec2.subnet_no_auto_public_ip": (default_subnets, {ec2_arn("subnet", e["app_subnet"])}),
        "aws.ec2.snapshot_encrypted": ({snap["snap-plain"]}, {snap["snap-encrypted"]}),
        # The peer VPC has no subnet: not judged.
        "aws.ec2.vpc_subnets_multi_az": (
            {ec2_arn("vpc", e["vpc"]["app"])},
            {ec2_arn("vpc", e["default_vpc"])},
        ),
        "aws.ecr.scan_on_push": ({repo["legacy-open"]}, {repo["app-hardened"], repo["org-shared"]}),
        "aws.ecr.immutable_tags": ({repo["legacy-open"], repo["org-shared"]}, {repo["app-hardened"]}),
        "aws.ecr.repository_not_public": ({repo["legacy-open"]}, {repo["app-hardened"], repo["org-shared"]}),
        "aws.ecr.lifecycle_policy": ({repo["legacy-open"], repo["org-shared"]}, {repo["app-hardened"]}),
        "aws.ecr.kms_encryption": ({repo["legacy-open"], repo["org-shared"]}, {repo["app-hardened"]}),
        "aws.eks.endpoint_not_open_to_internet": (
            {cluster["open-cluster"]},
            {cluster["private-cluster"], cluster["restricted-cluster"]},
        ),
        "aws.eks.endpoint_private_only": (
            {cluster["open-cluster"], cluster["restricted-cluster"]},
            {cluster["private-cluster"]},
        ),
        "aws.eks.control_plane_logging": (
            {cluster["open-cluster"], cluster["restricted-cluster"]},
            {cluster["private-cluster"]},
        ),
        "aws.eks.secrets_encryption": (
            {cluster["open-cluster"], cluster["restricted-cluster"]},
            {cluster["private-cluster"]},
        ),
        "aws.lambda.function_url_auth": ({fn["leaky-fn"]}, {fn["secure-fn"]}),  # plain-fn has no URL
        "aws.lambda.function_url_cors_restricted": ({fn["leaky-fn"]}, {fn["secure-fn"]}),
        "aws.lambda.policy_not_public": ({fn["leaky-fn"]}, {fn["secure-fn"], fn["plain-fn"]}),
        "aws.lambda.no_secrets_in_environment": ({fn["leaky-fn"]}, {fn["secure-fn"], fn["plain-fn"]}),
        "aws.lambda.tracing_enabled": ({fn["leaky-fn"], fn["plain-fn"]}, {fn["secure-fn"]}),
        "aws.ssm.document_not_public": (
            {doc["doc-public"]},
            {doc["doc-private"], doc["doc-shared-partner"], doc["doc-with-token"]},
        ),
        "aws.ssm.document_no_secrets": (
            {doc["doc-with-token"]},
            {doc["doc-private"], doc["doc-public"], doc["doc-shared-partner"]},
        ),
        "aws.elb.secure_listeners": ({clb["clb-legacy"]}, {clb["clb-secure"]}),
        "aws.elb.access_logs": ({clb["clb-legacy"]}, {clb["clb-secure"]}),
        "aws.elb.cross_zone_load_balancing": ({clb["clb-legacy"]}, {clb["clb-secure"]}),
        "aws.elb.connection_draining": ({clb["clb-legacy"]}, {clb["clb-secure"]}),
        "aws.elbv2.deletion_protection": ({lb["alb-default"], lb["nlb-default"]}, {lb["alb-hardened"]}),
        "aws.elbv2.drop_invalid_headers": ({lb["alb-default"]}, {lb["alb-hardened"]}),  # NLBs are not judged
        "aws.elbv2.alb_waf_enabled": ({lb["alb-default"]}, {lb["alb-hardened"]}),  # NLBs are not judged
        "aws.elbv2.desync_mitigation": ({lb["alb-default"]}, {lb["alb-hardened"]}),  # NLBs are not judged
        "aws.cloudfront.viewer_https": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.cloudfront.modern_tls": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.cloudfront.access_logging": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.cloudfront.waf_enabled": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.cloudfront.s3_origin_access_control": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.cloudfront.origin_https": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.cloudfront.default_root_object": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.cloudfront.origin_tls_protocols": ({cdn["cdn-legacy"]}, {cdn["cdn-hardened"]}),
        "aws.apigateway.stage_access_logging": ({dev}, {prod}),
        "aws.apigateway.stage_execution_logging": ({dev}, {prod}),
        "aws.apigateway.stage_tracing": ({dev}, {prod}),
        # moto cannot set a stage's client certificate or web ACL: PASS is covered on a hand-built snapshot.
        "aws.apigateway.stage_client_certificate": ({dev, prod}, set()),
        "aws.apigateway.stage_waf": ({dev, prod}, set()),
        "aws.apigateway.method_authorization": (
            {api_root + e["apis"]["public-api"]},
            {api_root + e["apis"]["orders-api"]},
        ),
        "aws.apigateway.domain_tls12": (
            {f"arn:aws:apigateway:{REGION}::/domainnames/legacy.example.com"},
            {f"arn:aws:apigateway:{REGION}::/domainnames/api.example.com"},
        ),
        "aws.apigatewayv2.stage_access_logging": (
            {f"{v2_root}{e['http_apis']['http-open']}/stages/dev"},
            {f"{v2_root}{e['http_apis']['http-orders']}/stages/prod"},
        ),
        # A WebSocket API is judged on its $connect route only; OPTIONS routes are not judged.
        "aws.apigatewayv2.route_authorization": (
            {v2_root + e["http_apis"]["http-open"]},
            {v2_root + e["http_apis"]["http-orders"], v2_root + e["http_apis"]["ws-chat"]},
        ),
        # moto cannot enable DNSSEC signing: PASS is covered on a hand-built snapshot. Private zones: not judged.
        "aws.route53.dnssec_signing": ({zone[n] for n in public_zones}, set()),
        "aws.route53.query_logging": ({zone[n] for n in public_zones} - {zone["example.com"]}, {zone["example.com"]}),
        # moto always reports TransferLock true: the FAIL path is covered on a hand-built snapshot.
        "aws.route53.domain_transfer_lock": (set(), {domain("acme-renewing.com"), domain("acme-expiring.com")}),
        "aws.route53.domain_auto_renew": ({domain("acme-expiring.com")}, {domain("acme-renewing.com")}),
        "aws.wafv2.logging_enabled": ({waf["empty-acl"], waf["cdn-acl"]}, {waf["api-acl"]}),
        "aws.wafv2.web_acl_has_rules": ({waf["empty-acl"]}, {waf["api-acl"], waf["cdn-acl"]}),
    }


@pytest.fixture(scope="module")
def expected(estate: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    return golden(estate)


def test_every_new_check_has_a_golden_expectation(expected: dict[str, tuple[set[str], set[str]]]) -> None:
    assert sorted(expected) == MY_IDS
    assert len(MY_IDS) == len(set(MY_IDS))
    registered = {c.id for c in AwsProvider().checks()}
    assert set(MY_IDS) <= registered


@pytest.mark.parametrize("check_id", MY_IDS)
def test_exact_fail_and_pass_sets(
    check_id: str, findings: list[Finding], expected: dict[str, tuple[set[str], set[str]]]
) -> None:
    got = by_status(findings)
    fail, ok = expected[check_id]
    assert got.get((check_id, Status.FAIL), set()) == fail
    assert got.get((check_id, Status.PASS), set()) == ok
    assert not got.get((check_id, Status.ERROR)), f"{check_id} errored"
    assert not got.get((check_id, Status.SKIPPED))


def test_findings_carry_evidence_and_say_what_was_expected(findings: list[Finding]) -> None:
    assert findings
    for f in findings:
        assert f.evidence, f"{f.check_id} {f.resource.id} has no evidence"
        if f.status is Status.FAIL:
            assert "expected" in f.message, f.message
        assert f.resource.account == ACCOUNT


def test_lambda_environment_findings_name_variables_never_values(findings: list[Finding], tmp_path: Path) -> None:
    env = {
        f.resource.id.rsplit(":", 1)[-1]: f for f in findings if f.check_id == "aws.lambda.no_secrets_in_environment"
    }
    assert env["leaky-fn"].evidence == {
        "variables": ["DB_PASSWORD", "LOG_LEVEL"],
        "suspect_variables": {"DB_PASSWORD": ["secret_key_name"]},
    }
    assert "DB_PASSWORD" in env["leaky-fn"].message
    # A secret manager reference (an ARN in a *_SECRET_ARN variable) is not a secret.
    assert env["secure-fn"].evidence["suspect_variables"] == {}
    for f in findings:
        assert LAMBDA_PLACEHOLDER_VALUE not in repr(f)


def test_user_data_findings_name_the_detector_and_variable_never_the_value(
    findings: list[Finding], snapshot: AccountSnapshot
) -> None:
    legacy = next(
        f for f in findings if f.check_id == "aws.ec2.instance_user_data_no_secrets" and f.status is Status.FAIL
    )
    assert legacy.evidence == {"user_data": True, "detectors": ["secret_key_name"], "variables": ["DB_PASSWORD"]}
    for f in findings:
        assert USER_DATA_SECRET not in repr(f) and SSM_DOC_SECRET not in repr(f)
    # Not even the snapshot keeps user data or document content: the collector keeps detector names only.
    assert USER_DATA_SECRET not in repr(snapshot.regional)
    assert SSM_DOC_SECRET not in repr(snapshot.regional)
    doc = next(f for f in findings if f.check_id == "aws.ssm.document_no_secrets" and f.status is Status.FAIL)
    assert doc.evidence == {"detectors": ["secret_key_name"], "variables": ["API_TOKEN"]}


def test_a_full_scan_stores_no_lambda_secret_value(estate: dict[str, Any], tmp_path: Path) -> None:
    chosen = [c for c in MINE if c.info.id.startswith(("aws.lambda.", "aws.ec2.instance_user_data", "aws.ec2.launch"))]
    config = AuditConfig(targets=targets(aws={"enabled": True, "regions": (REGION,)}))
    db = tmp_path / "scan.db"
    store = Store.open(db, create=True)
    try:
        result = run_scan(config, store, providers=[AwsProvider(checks=chosen)], now=NOW)
    finally:
        store.close()
    leaky = [
        f for f in result.findings if f.check_id == "aws.lambda.no_secrets_in_environment" and f.status is Status.FAIL
    ]
    assert [f.resource.id.rsplit(":", 1)[-1] for f in leaky] == ["leaky-fn"]
    con = sqlite3.connect(db)
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert "DB_PASSWORD" in dump  # the name is evidence
    assert LAMBDA_PLACEHOLDER_VALUE not in dump
    assert USER_DATA_SECRET not in dump


# --- per-resource and per-part read errors on the real collectors ---------------------------


def refuse(event: str, code: str) -> Callable[..., Any]:
    def handler(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {"Error": {"Code": code, "Message": f"refused ({event})"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://refused.invalid/", 400, {}, None), body

    return handler


def scan_with(monkeypatch: pytest.MonkeyPatch, event: str, code: str) -> list[Finding]:
    def hooked_session(profile: str | None) -> boto3.Session:
        s = boto3.Session()
        s.events.register(event, refuse(event, code))
        return s

    monkeypatch.setattr(session, "base_session", hooked_session)
    config = AuditConfig(targets=targets(aws={"enabled": True, "regions": (REGION,)}))
    return list(AwsProvider(checks=MINE).run(ScanContext(config=config, now=NOW)))


@pytest.mark.parametrize(
    ("event", "errored"),
    [
        # One resource's detail: ERROR for exactly that check on every such resource, nothing else.
        ("before-call.ecr.GetRepositoryPolicy", {"aws.ecr.repository_not_public"}),
        ("before-call.ecr.GetLifecyclePolicy", {"aws.ecr.lifecycle_policy"}),
        (
            "before-call.lambda.GetFunctionUrlConfig",
            {"aws.lambda.function_url_auth", "aws.lambda.function_url_cors_restricted"},
        ),
        ("before-call.lambda.GetPolicy", {"aws.lambda.policy_not_public"}),
        ("before-call.ssm.DescribeDocumentPermission", {"aws.ssm.document_not_public"}),
        ("before-call.ssm.GetDocument", {"aws.ssm.document_no_secrets"}),
        ("before-call.wafv2.GetLoggingConfiguration", {"aws.wafv2.logging_enabled"}),
        ("before-call.route53.GetDNSSEC", {"aws.route53.dnssec_signing"}),
        (
            "before-call.route53domains.ListDomains",
            {"aws.route53.domain_transfer_lock", "aws.route53.domain_auto_renew"},
        ),
        (
            "before-call.cloudfront.GetDistributionConfig",
            {c.info.id for c in MINE if c.info.id.startswith("aws.cloudfront.")},
        ),
        (
            "before-call.eks.DescribeCluster",
            {c.info.id for c in MINE if c.info.id.startswith("aws.eks.")},
        ),
        (
            "before-call.elb.DescribeLoadBalancerAttributes",
            {"aws.elb.access_logs", "aws.elb.cross_zone_load_balancing", "aws.elb.connection_draining"},
        ),
        # One part of the vpc dataset: only the checks that read it.
        (
            "before-call.ec2.DescribeNetworkAcls",
            {
                "aws.ec2.nacl_all_ports_open_to_internet",
                "aws.ec2.nacl_ssh_open_to_internet",
                "aws.ec2.nacl_rdp_open_to_internet",
                "aws.ec2.nacl_unused",
            },
        ),
        ("before-call.ec2.DescribeNetworkInterfaces", {"aws.ec2.sg_unused"}),
        ("before-call.ec2.DescribeInstanceAttribute", {"aws.ec2.instance_user_data_no_secrets"}),
        (
            "before-call.ec2.DescribeLaunchTemplateVersions",
            {"aws.ec2.launch_template_no_secrets", "aws.ec2.launch_template_imdsv2_required"},
        ),
        ("before-call.apigateway.GetDomainNames", {"aws.apigateway.domain_tls12"}),
        ("before-call.apigatewayv2.GetRoutes", {"aws.apigatewayv2.route_authorization"}),
        ("before-call.wafv2.GetWebACLForResource", {"aws.elbv2.alb_waf_enabled"}),
        # A whole dataset: every check that needs it.
        ("before-call.ecr.DescribeRepositories", {c.info.id for c in MINE if c.info.id.startswith("aws.ecr.")}),
    ],
)
def test_a_denied_read_errors_exactly_what_depends_on_it(
    estate: dict[str, Any], monkeypatch: pytest.MonkeyPatch, event: str, errored: set[str]
) -> None:
    got = scan_with(monkeypatch, event, "AccessDeniedException")
    assert {f.check_id for f in got if f.status is Status.ERROR} == errored
    for f in got:
        if f.status is Status.ERROR:
            assert "AccessDenied" in f.message, f.message
    judged = {f.check_id for f in got if f.status in (Status.PASS, Status.FAIL)}
    assert set(MY_IDS) - errored <= judged
    # A denied resource detail is never judged PASS or FAIL on missing data.
    assert not judged & errored


# --- pure logic on hand-built snapshots ----------------------------------------------------


def run_one(check: AwsCheck, data: dict[str, Any], dataset: str, region: str | None = REGION) -> list[Any]:
    snap = AccountSnapshot(account=ACCOUNT, regions=(REGION,), home_region=REGION)
    if region is None:
        snap.global_data[dataset] = data
    else:
        snap.regional = {REGION: {dataset: data}}
    inp = CheckInput(snapshot=snap, region=region, now=NOW, thresholds=Thresholds())
    return list(check.evaluate(inp))


def check(check_id: str) -> AwsCheck:
    return next(c for c in MINE if c.info.id == check_id)


def entry(
    n: int, action: str, cidr: str = "0.0.0.0/0", proto: str = "6", ports: tuple[int, int] | None = None
) -> dict[str, Any]:
    e: dict[str, Any] = {"RuleNumber": n, "RuleAction": action, "Protocol": proto, "Egress": False}
    e["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
    if ports:
        e["PortRange"] = {"From": ports[0], "To": ports[1]}
    return e


@pytest.mark.parametrize(
    ("entries", "ssh_open", "all_open"),
    [
        ([entry(100, "allow", proto="-1")], True, True),
        ([entry(90, "deny", ports=(22, 22)), entry(100, "allow", proto="-1")], False, True),
        ([entry(100, "allow", proto="-1"), entry(90, "deny", ports=(22, 22))], False, True),  # order by number
        ([entry(100, "allow", proto="-1", cidr="10.0.0.0/8")], False, False),
        ([entry(100, "allow", ports=(0, 65535))], True, True),
        ([entry(100, "allow", proto="17", ports=(22, 22))], False, False),  # UDP does not open SSH
        ([entry(100, "allow", cidr="::/0", ports=(1, 1024))], True, False),
        ([entry(100, "deny", proto="-1"), entry(200, "allow", proto="-1")], False, False),
        ([entry(32767, "deny", proto="-1"), entry(32767, "deny", cidr="::/0", proto="-1")], False, False),
        ([entry(100, "allow", proto="-1") | {"Egress": True}], False, False),  # egress rules are not ingress
    ],
)
def test_nacl_first_matching_rule_decides(entries: list[dict[str, Any]], ssh_open: bool, all_open: bool) -> None:
    acl = {"NetworkAclId": "acl-1", "VpcId": "vpc-1", "Entries": entries}
    data = {"network_acls": [acl]}
    ssh = run_one(check("aws.ec2.nacl_ssh_open_to_internet"), data, "vpc")
    every = run_one(check("aws.ec2.nacl_all_ports_open_to_internet"), data, "vpc")
    assert [o.status for o in ssh] == [Status.FAIL if ssh_open else Status.PASS]
    assert [o.status for o in every] == [Status.FAIL if all_open else Status.PASS]


def test_peering_route_to_an_unknown_connection_is_an_error_unless_it_is_the_internet() -> None:
    routes = {
        "rtb-unknown": [{"DestinationCidrBlock": "10.9.0.0/16", "VpcPeeringConnectionId": "pcx-gone"}],
        "rtb-world": [{"DestinationCidrBlock": "0.0.0.0/0", "VpcPeeringConnectionId": "pcx-gone"}],
        "rtb-none": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}],
    }
    data = {
        "route_tables": [{"RouteTableId": k, "VpcId": "vpc-1", "Routes": v} for k, v in routes.items()],
        "peering_connections": [],
    }
    got = {
        o.resource_id.rsplit("/", 1)[-1]: o.status
        for o in run_one(check("aws.ec2.vpc_peering_routes_least_access"), data, "vpc")
    }
    assert got == {"rtb-unknown": Status.ERROR, "rtb-world": Status.FAIL}


def test_cloudfront_origin_access_on_a_hand_built_config() -> None:
    def dist(did: str, origin: dict[str, Any]) -> dict[str, Any]:
        return {
            "Id": did,
            "ARN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{did}",
            "config": {"Origins": {"Items": [{"Id": "o", **origin}]}},
        }

    data = {
        "distributions": [
            dist(
                "OAC",
                {
                    "DomainName": "b.s3.eu-west-1.amazonaws.com",
                    "OriginAccessControlId": "E2OAC",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                },
            ),
            dist(
                "OAI",
                {
                    "DomainName": "b.s3.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/E1"},
                },
            ),
            dist("NONE", {"DomainName": "b.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}),
            dist(
                "WEBSITE",
                {
                    "DomainName": "b.s3-website-eu-west-1.amazonaws.com",
                    "CustomOriginConfig": {"OriginProtocolPolicy": "http-only"},
                },
            ),
            dist("ERR", {}) | {"config": CollectError("AccessDenied")},
        ]
    }
    got = {
        o.resource_id.rsplit("/", 1)[-1]: o.status
        for o in run_one(check("aws.cloudfront.s3_origin_access_control"), data, "cloudfront", None)
    }
    assert got == {
        "OAC": Status.PASS,
        "OAI": Status.PASS,
        "NONE": Status.FAIL,
        "WEBSITE": Status.PASS,
        "ERR": Status.ERROR,
    }


def test_api_stage_client_certificate_and_waf_pass_when_set() -> None:
    stage = {"stageName": "prod", "clientCertificateId": "abc123", "webAclArn": "arn:aws:wafv2:x:y:regional/webacl/a/1"}
    data = {"rest_apis": [{"id": "api1", "name": "orders", "stages": [stage], "resources": []}], "domain_names": []}
    for cid in ("aws.apigateway.stage_client_certificate", "aws.apigateway.stage_waf"):
        assert [o.status for o in run_one(check(cid), data, "apigateway")] == [Status.PASS]
    assert run_one(check("aws.apigateway.method_authorization"), data, "apigateway") == []  # no methods: not judged


def test_api_key_or_authorizer_counts_as_authorization_but_options_is_ignored() -> None:
    resources = [
        {
            "path": "/a",
            "resourceMethods": {
                "GET": {"authorizationType": "NONE", "apiKeyRequired": True},
                "OPTIONS": {"authorizationType": "NONE"},
            },
        },
        {"path": "/b", "resourceMethods": {"POST": {"authorizationType": "COGNITO_USER_POOLS"}}},
    ]
    data = {"rest_apis": [{"id": "api1", "name": "x", "stages": [], "resources": resources}], "domain_names": []}
    assert [o.status for o in run_one(check("aws.apigateway.method_authorization"), data, "apigateway")] == [
        Status.PASS
    ]


def test_dnssec_signing_zone_passes_and_private_zones_are_not_judged() -> None:
    data = {
        "zones": [
            {"id": "Z1", "name": "signed.example.", "private": False, "dnssec": "SIGNING"},
            {"id": "Z2", "name": "internal.", "private": True, "dnssec": None},
        ],
        "query_logging": [],
    }
    got = run_one(check("aws.route53.dnssec_signing"), data, "route53", None)
    assert [(o.resource_id, o.status) for o in got] == [("arn:aws:route53:::hostedzone/Z1", Status.PASS)]


def test_eks_public_endpoint_without_cidrs_counts_as_open() -> None:
    data = {"clusters": [{"name": "c", "arn": "arn:c", "resourcesVpcConfig": {"endpointPublicAccess": True}}]}
    assert [o.status for o in run_one(check("aws.eks.endpoint_not_open_to_internet"), data, "eks")] == [Status.FAIL]


def test_patch_compliance_on_a_stubbed_ssm(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto has no ListResourceComplianceSummaries: the collector and the check run on botocore's Stubber."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.stub import Stubber

    from auditor.providers.aws.collect import DATASETS, Fetch, run_collector

    ssm = boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(ssm)
    patch_filter = [{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}]
    stub.add_response(
        "list_resource_compliance_summaries",
        {
            "ResourceComplianceSummaryItems": [
                {
                    "ComplianceType": "Patch",
                    "ResourceType": "ManagedInstance",
                    "ResourceId": "i-0patched",
                    "Status": "COMPLIANT",
                    "OverallSeverity": "UNSPECIFIED",
                    "NonCompliantSummary": {"NonCompliantCount": 0},
                },
                {
                    "ComplianceType": "Patch",
                    "ResourceType": "ManagedInstance",
                    "ResourceId": "mi-0onprem",
                    "Status": "NON_COMPLIANT",
                    "OverallSeverity": "CRITICAL",
                    "NonCompliantSummary": {"NonCompliantCount": 7},
                },
            ],
            "NextToken": "page-2",
        },
        {"Filters": patch_filter},
    )
    stub.add_response(
        "list_resource_compliance_summaries",
        {
            "ResourceComplianceSummaryItems": [
                {
                    "ComplianceType": "Patch",
                    "ResourceType": "ManagedInstance",
                    "ResourceId": "i-0stale",
                    "Status": "NON_COMPLIANT",
                    "OverallSeverity": "HIGH",
                    "NonCompliantSummary": {"NonCompliantCount": 2},
                }
            ]
        },
        {"Filters": patch_filter, "NextToken": "page-2"},
    )
    stub.add_client_error("list_resource_compliance_summaries", "AccessDeniedException", http_status_code=400)

    class Clients:
        def client(self, service: str, region: str) -> Any:
            assert service == "ssm"
            return ssm

    with stub, ThreadPoolExecutor(max_workers=1) as pool:
        fetch = Fetch(Clients(), REGION, ACCOUNT, pool)  # type: ignore[arg-type]
        data = run_collector(DATASETS["ssm_patch"], fetch)
        denied = run_collector(DATASETS["ssm_patch"], fetch)
    patch_check = compute.PATCH_COMPLIANCE
    got = {o.resource_id: (o.status, o.evidence["non_compliant"]) for o in run_one(patch_check, data, "ssm_patch")}
    assert got == {
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0patched": (Status.PASS, 0),
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/mi-0onprem": (Status.FAIL, 7),
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0stale": (Status.FAIL, 2),
    }
    assert denied == CollectError("AccessDeniedException", denied.message)
    # Through the provider, an unreadable dataset is an ERROR for the check, never a verdict.
    snap = AccountSnapshot(account=ACCOUNT, regions=(REGION,), home_region=REGION)
    snap.regional = {REGION: {"ssm_patch": denied}}
    out = list(AwsProvider(checks=[patch_check]).evaluate(snap, NOW, Thresholds(), ()))
    assert [(f.check_id, f.status) for f in out] == [("aws.ssm.patch_compliance", Status.ERROR)]
    assert "AccessDeniedException" in out[0].message
    assert "aws.ssm.patch_compliance" in {c.id for c in AwsProvider().checks()}  # registered


def test_domain_without_transfer_lock_fails() -> None:
    data = {
        "zones": [],
        "query_logging": [],
        "domains": [
            {"DomainName": "locked.example", "TransferLock": True, "AutoRenew": True},
            {"DomainName": "loose.example", "TransferLock": False, "AutoRenew": True},
        ],
    }
    got = {o.resource_id: o.status for o in run_one(check("aws.route53.domain_transfer_lock"), data, "route53", None)}
    assert got == {
        "arn:aws:route53domains:::domain/locked.example": Status.PASS,
        "arn:aws:route53domains:::domain/loose.example": Status.FAIL,
    }


def test_cloudfront_origin_tls_ignores_http_only_origins() -> None:
    cfg = {
        "Origins": {
            "Items": [
                {
                    "Id": "plain",
                    "CustomOriginConfig": {
                        "OriginProtocolPolicy": "http-only",
                        "OriginSslProtocols": {"Items": ["SSLv3"]},
                    },
                },
                {
                    "Id": "tls11",
                    "CustomOriginConfig": {
                        "OriginProtocolPolicy": "match-viewer",
                        "OriginSslProtocols": {"Items": ["TLSv1.1", "TLSv1.2"]},
                    },
                },
            ]
        }
    }
    data = {"distributions": [{"Id": "D1", "ARN": "arn:d1", "config": cfg}]}
    (out,) = run_one(check("aws.cloudfront.origin_tls_protocols"), data, "cloudfront", None)
    assert out.status is Status.FAIL
    assert out.evidence == {"origin_ssl_protocols": {"tls11": ["TLSv1.1", "TLSv1.2"]}}
