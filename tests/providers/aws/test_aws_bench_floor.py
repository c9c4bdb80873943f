"""The bench's raw floor (bench/aws_scan.py `raw_reads`) makes exactly the API calls a full AWS scan
makes, call for call, so the scan/raw ratio it prints cannot silently drift; and a scan with fewer
checks reads only the S3 bucket settings those checks need, never judging one it did not read."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from auditor.config import Thresholds
from auditor.models import Status
from auditor.providers.aws.checks import ALL_CHECKS
from auditor.providers.aws.collect import DATASETS, collect_account, with_dependencies
from auditor.providers.aws.coverage import snapshot_coverage
from auditor.providers.aws.demo_estate import ACCOUNT, GOOD_REGION, REGIONS, seed_estate
from auditor.providers.aws.model import DATASET_PARTS, NotRead, parts_needed
from auditor.providers.aws.provider import AwsProvider
from auditor.providers.aws.session import ClientFactory

BENCH = Path(__file__).resolve().parents[3] / "bench" / "aws_scan.py"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("auditor_bench_aws_scan", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def seed_more(region: str) -> None:
    """One resource of each service the named estate has none of, so their detail reads run too."""
    boto3.client("sqs", region_name=region).create_queue(QueueName="floor-queue")
    boto3.client("ecr", region_name=region).create_repository(repositoryName="floor-repo")
    boto3.client("efs", region_name=region).create_file_system(CreationToken="floor-fs")
    boto3.client("ssm", region_name=region).create_document(
        Name="floor-doc",
        DocumentType="Command",
        Content=json.dumps({"schemaVersion": "2.2", "description": "x", "mainSteps": []}),
    )
    apigw = boto3.client("apigateway", region_name=region)
    apigw.create_rest_api(name="floor-rest")
    boto3.client("apigatewayv2", region_name=region).create_api(Name="floor-http", ProtocolType="HTTP")
    boto3.client("ec2", region_name=region).create_launch_template(
        LaunchTemplateName="floor-template", LaunchTemplateData={"InstanceType": "t3.micro"}
    )
    boto3.client("elb", region_name=region).create_load_balancer(
        LoadBalancerName="floor-classic",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=[f"{region}a"],
    )
    boto3.client("opensearch", region_name=region).create_domain(DomainName="floor-domain")
    boto3.client("redshift", region_name=region).create_cluster(
        ClusterIdentifier="floor-cluster",
        NodeType="dc2.large",
        MasterUsername="admin",
        MasterUserPassword="Not-a-real-password-1",
    )
    boto3.client("wafv2", region_name=region).create_web_acl(
        Name="floor-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"},
    )
    boto3.client("eks", region_name=region).create_cluster(
        name="floor-eks", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks", resourcesVpcConfig={}
    )
    boto3.client("rds", region_name=region).create_db_snapshot(
        DBSnapshotIdentifier="floor-snap", DBInstanceIdentifier="orders-db"
    )
    boto3.client("backup", region_name=region).create_backup_vault(BackupVaultName="floor-vault")
    org = boto3.client("organizations")
    with contextlib.suppress(org.exceptions.AlreadyInOrganizationException):  # the estate may have made one
        org.create_organization(FeatureSet="ALL")
    boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "floor",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "floor.s3.amazonaws.com"}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only"},
        }
    )
    boto3.client("route53").create_hosted_zone(Name="floor.example.com", CallerReference="floor")


@pytest.fixture(scope="module")
def estate(mocked: Any) -> None:
    seed_estate(None)
    seed_more(GOOD_REGION)
    # The credential report exists before either reader runs: both then ask for it once.
    boto3.client("iam").generate_credential_report()


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


def diff(a: Counter[tuple[str, str]], b: Counter[tuple[str, str]]) -> dict[str, int]:
    return {f"{s}:{op}": a[(s, op)] - b[(s, op)] for s, op in sorted(set(a) | set(b)) if a[(s, op)] != b[(s, op)]}


def test_raw_floor_makes_exactly_the_calls_of_a_full_scan(estate: None, bench: ModuleType) -> None:
    scan = bench.auditor_calls(boto3.Session())
    session = boto3.Session()
    raw_counts = bench.call_counter(session)
    returned = bench.raw_reads(None, session)
    assert diff(scan, raw_counts) == {}  # service:operation -> scan calls minus raw calls
    assert returned == sum(raw_counts.values()) == sum(scan.values())
    # The detail reads ran (one resource each at least), and each list call happens once per region.
    details = {
        ("s3", "GetObjectLockConfiguration"),
        ("lambda", "GetFunctionUrlConfig"),
        ("sqs", "GetQueueAttributes"),
        ("ecr", "GetLifecyclePolicy"),
        ("efs", "DescribeBackupPolicy"),
        ("ssm", "GetDocument"),
        ("apigateway", "GetResources"),
        ("apigatewayv2", "GetRoutes"),
        ("ec2", "DescribeLaunchTemplateVersions"),
        ("ec2", "DescribeInstanceAttribute"),
        ("elb", "DescribeLoadBalancerAttributes"),
        ("opensearch", "DescribeDomains"),
        ("redshift", "DescribeLoggingStatus"),
        ("wafv2", "GetWebACL"),
        ("route53", "GetDNSSEC"),
        ("eks", "DescribeCluster"),
        ("rds", "DescribeDBSnapshotAttributes"),
        ("backup", "GetBackupVaultAccessPolicy"),
        ("organizations", "ListPolicies"),
        ("cloudfront", "GetDistributionConfig"),
        ("kms", "GetKeyRotationStatus"),
        ("cloudtrail", "GetEventSelectors"),
    }
    assert details - set(scan) == set()
    once_per_region = [("lambda", "ListFunctions"), ("ec2", "DescribeInstances"), ("cloudtrail", "DescribeTrails")]
    assert {k: scan[k] for k in once_per_region} == dict.fromkeys(once_per_region, len(REGIONS))
    assert scan[("elbv2", "DescribeLoadBalancers")] == len(REGIONS)


def test_every_dataset_has_a_raw_reader(bench: ModuleType) -> None:
    assert set(bench.RAW_READERS) == set(DATASETS)


def test_a_collector_reuses_the_lists_it_depends_on() -> None:
    order = [d.name for d in with_dependencies(["lambda_access", "wafv2", "ec2_config", "cloudtrail_selectors"])]
    assert set(order) == {"lambda", "lambda_access", "elbv2", "wafv2", "ec2", "ec2_config", "cloudtrail"} | {
        "cloudtrail_selectors"
    }
    for name in order:
        assert all(order.index(dep) < order.index(name) for dep in DATASETS[name].after)


def test_declared_parts_exist_and_every_bucket_check_names_its_parts() -> None:
    for check in ALL_CHECKS:
        for p in check.parts:
            dataset, _, part = p.partition(".")
            assert dataset in check.needs and part in DATASET_PARTS[dataset], (check.info.id, p)
    # All S3 checks together still read every part (a full scan loses nothing).
    assert parts_needed(ALL_CHECKS)["s3"] == DATASET_PARTS["s3"]


def by_id(check_id: str) -> Any:
    return next(c for c in ALL_CHECKS if c.info.id == check_id)


def test_selected_checks_read_only_their_bucket_parts_and_never_pass_on_an_unread_one(
    estate: None, bench: ModuleType
) -> None:
    chosen = [by_id("aws.s3.bucket_default_encryption")]
    session = boto3.Session()
    counts = bench.auditor_calls(session, checks=chosen)
    s3 = boto3.client("s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    located = {n: s3.get_bucket_location(Bucket=n)["LocationConstraint"] or "us-east-1" for n in names}
    elsewhere = [n for n, region in located.items() if region not in REGIONS]
    assert len(names) > len(REGIONS)
    # One list, one list per scanned region, and a location call only for a bucket none of them placed.
    expected = {"ListBuckets": 1 + len(REGIONS), "GetBucketEncryption": len(names)}
    if elsewhere:
        expected["GetBucketLocation"] = len(elsewhere)
    assert {op: n for (svc, op), n in counts.items() if svc == "s3"} == expected
    snap = collect_account(
        ClientFactory(boto3.Session()), ACCOUNT, REGIONS, REGIONS[0], ["s3"], parts=parts_needed(chosen)
    )
    bucket = snap.get("s3")["buckets"][0]
    assert isinstance(bucket["policy"], NotRead) and not isinstance(bucket["encryption"], NotRead)
    # Parts nobody asked for are not coverage gaps.
    assert all(c.complete for c in snapshot_coverage(snap, ["s3"]))
    # A check that reads a part the selection did not collect is ERROR for every bucket, never PASS/FAIL.
    tls = by_id("aws.s3.bucket_tls_only")
    got = {f.status for f in AwsProvider(checks=[tls]).evaluate(snap, NOW, Thresholds())}
    assert got == {Status.ERROR}
    # The selected check itself is judged as in a full scan.
    statuses = {f.status for f in AwsProvider(checks=chosen).evaluate(snap, NOW, Thresholds())}
    assert statuses <= {Status.PASS, Status.FAIL} and statuses


def refuse(code: str) -> Any:
    """A before-call hook: the operation answers with an AWS error without reaching the service."""

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {"Error": {"Code": code, "Message": "refused by the test"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://refused.invalid/", 400, {}, None), body

    return handler


def test_a_reused_list_that_cannot_be_read_errors_what_reuses_it_never_passes(estate: None) -> None:
    session = boto3.Session()
    for op in ("lambda.ListFunctions", "ec2.DescribeInstances", "cloudtrail.DescribeTrails"):
        session.events.register(f"before-call.{op}", refuse("AccessDeniedException"))
    chosen = [c for c in ALL_CHECKS if {"lambda_access", "ec2_config", "cloudtrail_selectors"} & set(c.needs)]
    needed = sorted({n for c in chosen for n in c.needs})
    snap = collect_account(ClientFactory(session), ACCOUNT, REGIONS, REGIONS[0], needed, parts=parts_needed(chosen))
    for region in REGIONS:
        data = snap.regional[region]
        assert data["lambda_access"] == data["lambda"] and data["lambda"].code == "AccessDeniedException"
        assert data["cloudtrail_selectors"].code == "AccessDeniedException"
        assert data["ec2_config"]["user_data"].code == "AccessDeniedException"
        assert isinstance(data["ec2_config"]["launch_templates"], list)  # the other part was read
    findings = list(AwsProvider(checks=chosen).evaluate(snap, NOW, Thresholds()))
    user_data = {"aws.ec2.instance_user_data_no_secrets"} & {c.info.id for c in chosen}
    lists = {c.info.id for c in chosen if {"lambda_access", "cloudtrail_selectors"} & set(c.needs)} | user_data
    judged = {f.check_id for f in findings if f.status in (Status.PASS, Status.FAIL)}
    errored = {f.check_id for f in findings if f.status is Status.ERROR}
    assert "aws.ec2.instance_user_data_no_secrets" in lists
    assert lists <= errored
    assert not lists & judged
