"""Benchmark `auditor scan --aws` against the raw boto3 floor on a seeded moto_server.

Usage: .venv/bin/python bench/aws_scan.py [--vs-prowler] [--repeat N] [SCALE ...]   (default: 0.2 1; N 1)

At SCALE=1 the demo estate gets 1,000 IAM users with access keys, 500 buckets, 200
security groups, 50 KMS keys, 50 secrets and 20 RDS instances on top of its named
resources (fractional scales allowed). For each scale the script starts a fresh
moto_server, seeds it, then times, N times in turn (scan, raw, scan, raw, ...: a drift in
the machine's speed hits both; figures are medians, the ratio the median of each pair's):

- `auditor scan --aws` (a subprocess, two regions, JSON to a file) end to end; the
  process start-up is measured once as `auditor checks`;
- the raw floor (`raw_reads`, `RawReader`): exactly the API calls auditor's collectors make
  for a full scan (every dataset the registered checks need, every region, the same
  per-resource detail calls, the same list reused where auditor reuses it), as plain boto3
  calls in one thread: no retries, no checks, no storage.
  tests/providers/aws/test_aws_bench_floor.py compares the two call for call (service,
  operation, count) on mock_aws, so the floor cannot drift from what the scan reads.

It prints the API calls of both (auditor's counted once in-process with a botocore
`before-call` hook, untimed) and warns when they differ. One untimed raw pass runs first:
moto builds some per-region backends lazily, and whichever reader came first would pay for that.

Each command's peak RSS is measured as its own process tree's (`ru_maxrss` of a wrapper's children).

`--vs-prowler` also runs Prowler (pinned, PROWLER_VERSION) on the same moto_server and estate: it is
installed once into its own venv (`$AUDITOR_BENCH_PROWLER_VENV`, default
~/.cache/auditor-bench/prowler-<version>; needs the package registry once), limited to the services
both tools read, with `--scan-unused-services --aws-retries-max-attempts 0` (see design notes: moto
answers unimplemented calls with 5xx) and a sitecustomize that resolves `<account>.127.0.0.1` (S3
Control's host prefix) to 127.0.0.1. Prowler runs in turn with each scan (scan, raw, Prowler, ...);
it prints Prowler's median wall time, peak RSS, and the median and range of the pairs' ratios.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.providers.aws.checks import ALL_CHECKS
from auditor.providers.aws.collect import (
    CONTROL_REGIONS,
    DATASETS,
    LIST_BUCKETS_PAGE,
    collect_account,
    with_dependencies,
)
from auditor.providers.aws.demo_estate import (
    ACCOUNT,
    FAKE_CREDENTIALS,
    REGIONS,
    scan_env,
    seed_estate,
    start_moto_server,
)
from auditor.providers.aws.model import Scope, parts_needed
from auditor.providers.aws.session import ClientFactory, strip_account_host_prefix

AUDITOR = str(Path(sys.executable).parent / "auditor")
PROWLER_VERSION = "5.46.0"
# The services both tools read (Prowler's names), and the two regions of the estate.
PROWLER_SERVICES = (
    "iam", "s3", "ec2", "vpc", "kms", "secretsmanager", "cloudtrail", "cloudwatch", "config", "guardduty",
    "securityhub", "rds", "dynamodb", "backup", "elbv2", "awslambda", "acm",
    # the services of issue 15
    "accessanalyzer", "account", "organizations", "ecr", "eks", "elb", "cloudfront", "apigateway", "apigatewayv2",
    "ssm", "route53", "wafv2", "efs", "elasticache", "redshift", "opensearch", "sns", "sqs",
)  # fmt: skip
SITECUSTOMIZE = """
import socket
_real = socket.getaddrinfo
def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".127.0.0.1"):
        host = "127.0.0.1"
    return _real(host, *args, **kwargs)
socket.getaddrinfo = _getaddrinfo
"""
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode; "
    "print(rc, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def measured(cmd: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak RSS in MB of the command's process tree's largest process)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *cmd], env=env, capture_output=True, text=True, timeout=3600)
    rc, wall, rss_kb = done.stdout.split()
    return int(rc), float(wall), int(rss_kb) / 1024


def prowler_binary() -> Path:
    """Prowler in its own venv (installed on first use: it must never share auditor's dependencies)."""
    default = Path.home() / ".cache" / "auditor-bench" / f"prowler-{PROWLER_VERSION}"
    venv = Path(os.environ.get("AUDITOR_BENCH_PROWLER_VENV", default))
    binary = venv / "bin" / "prowler"
    if not binary.exists():
        print(f"installing prowler {PROWLER_VERSION} into {venv} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        uv = Path(sys.executable).parent / "uv"  # auditor's setup installs uv: seconds instead of minutes
        if uv.exists():
            target = ["--python", str(venv / "bin" / "python")]
            pip = [str(uv), "pip", "install", "-q", *target, f"prowler=={PROWLER_VERSION}"]
        else:
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"prowler=={PROWLER_VERSION}"]
        subprocess.run(pip, check=True, timeout=3600)
    return binary


def run_prowler(endpoint: str, tmp: str) -> tuple[int, float, float]:
    site = Path(tmp) / "prowler-site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {
        **os.environ,
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGIONS[0],
        "PYTHONPATH": str(site),
    }
    cmd = [
        str(prowler_binary()), "aws", "--scan-unused-services", "--aws-retries-max-attempts", "0",
        "--services", *PROWLER_SERVICES, "--region", *REGIONS,
        "--output-formats", "json-ocsf", "--output-directory", str(Path(tmp) / "prowler-out"), "--no-banner",
    ]  # fmt: skip
    return measured(cmd, env)


class RawReader:
    """The raw floor: every API read auditor's collectors make for a full scan (every dataset the
    checks need, every region, the same per-resource detail calls), as plain sequential boto3
    calls: no threads, no retries, no checks, no storage. One method per dataset (`RAW_READERS`);
    tests/test_bench_aws.py compares the calls made here with auditor's, call for call."""

    def __init__(self, session: boto3.Session, endpoint: str | None, regions: tuple[str, ...], account: str) -> None:
        self.session = session
        self.endpoint = endpoint
        self.regions = regions
        self.home = regions[0]
        self.account = account
        self.calls = 0
        self._clients: dict[tuple[str, str], Any] = {}
        self.results: dict[tuple[str, str | None], Any] = {}  # what a later dataset reuses (Dataset.after)

    def c(self, service: str, region: str) -> Any:
        if (service, region) not in self._clients:
            cfg = Config(retries={"mode": "standard", "max_attempts": 1}, s3={"addressing_style": "path"})
            client = self.session.client(service, region_name=region, endpoint_url=self.endpoint, config=cfg)
            if service == "s3control" and self.endpoint:
                client.meta.events.register("before-sign.s3-control", strip_account_host_prefix)
            self._clients[(service, region)] = client
        return self._clients[(service, region)]

    def call(self, client: Any, op: str, **kw: Any) -> Any:
        """One call; None when it failed ("not configured" answers are reads too)."""
        self.calls += 1
        try:
            return getattr(client, op)(**kw)
        except Exception:  # noqa: BLE001
            return None

    def page_list(self, client: Any, op: str, **kw: Any) -> list[dict[str, Any]] | None:
        """Every page of a paginated read (one call per page); None when a page failed."""
        out: list[dict[str, Any]] = []
        try:
            for page in client.get_paginator(op).paginate(**kw):
                self.calls += 1
                out.append(page)
        except Exception:  # noqa: BLE001
            self.calls += 1
            return None
        return out

    def pages(self, client: Any, op: str, key: str, **kw: Any) -> list[Any] | None:
        got = self.page_list(client, op, **kw)
        return None if got is None else [item for page in got for item in page.get(key) or []]

    # --- account-wide datasets (home region) ---

    def iam(self, region: str) -> None:
        iam = self.c("iam", region)
        self.call(iam, "get_account_summary")
        self.call(iam, "get_account_password_policy")
        kinds = ["User", "Role", "Group", "LocalManagedPolicy"]
        self.pages(iam, "get_account_authorization_details", "UserDetailList", Filter=kinds)
        while True:
            state = self.call(iam, "generate_credential_report")
            if state is None:
                return
            if state.get("State") == "COMPLETE":
                break
            time.sleep(1.0)  # as auditor waits: once per fresh account
        self.call(iam, "get_credential_report")

    def s3(self, region: str) -> None:
        s3 = self.c("s3", region)
        listing = self.pages(s3, "list_buckets", "Buckets", PaginationConfig={"PageSize": LIST_BUCKETS_PAGE})
        buckets = [b["Name"] for b in listing or []]
        # Each bucket's region from ListBuckets filtered by region (the scan's regions, plus a control
        # region when it has one), then a location call only for a bucket none of them listed.
        regions = list(self.regions)
        if len(regions) == 1:
            regions.append(next(r for r in CONTROL_REGIONS if r != regions[0]))
        listed: set[str] = set()
        if len(regions) < len(buckets):
            for r in regions:
                in_region = self.pages(self.c("s3", r), "list_buckets", "Buckets", BucketRegion=r)
                listed.update(b["Name"] for b in in_region or [])
        for name in buckets:
            if name not in listed:
                self.call(s3, "get_bucket_location", Bucket=name)
            for op in S3_BUCKET_READS:
                self.call(s3, op, Bucket=name)

    def s3_account(self, region: str) -> None:
        self.call(self.c("s3control", region), "get_public_access_block", AccountId=self.account)

    def iam_extra(self, region: str) -> None:
        iam = self.c("iam", region)
        self.pages(iam, "list_virtual_mfa_devices", "VirtualMFADevices")
        self.pages(iam, "list_server_certificates", "ServerCertificateMetadataList")
        self.call(iam, "list_saml_providers")
        self.call(iam, "list_open_id_connect_providers")

    def account_contacts(self, region: str) -> None:
        for kind in ("SECURITY", "OPERATIONS", "BILLING"):
            self.call(self.c("account", region), "get_alternate_contact", AlternateContactType=kind)

    def organizations(self, region: str) -> None:
        org = self.c("organizations", region)
        if self.call(org, "describe_organization") is not None:
            self.pages(org, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY")

    def cloudfront(self, region: str) -> None:
        cf = self.c("cloudfront", region)
        for page in self.page_list(cf, "list_distributions") or []:  # one DistributionList per page
            for d in (page.get("DistributionList") or {}).get("Items") or []:
                self.call(cf, "get_distribution_config", Id=d["Id"])

    def route53(self, region: str) -> None:
        r53 = self.c("route53", region)
        zones = self.pages(r53, "list_hosted_zones", "HostedZones")
        if zones is None:
            return
        for z in zones:
            if not (z.get("Config") or {}).get("PrivateZone"):
                self.call(r53, "get_dnssec", HostedZoneId=z["Id"].rsplit("/", 1)[-1])
        self.pages(r53, "list_query_logging_configs", "QueryLoggingConfigs")
        self.pages(self.c("route53domains", "us-east-1"), "list_domains", "Domains")

    # --- regional datasets ---

    def ec2(self, region: str) -> None:
        ec2 = self.c("ec2", region)
        self.pages(ec2, "describe_security_groups", "SecurityGroups")
        reservations = self.pages(ec2, "describe_instances", "Reservations")
        self.results[("ec2.instances", region)] = (
            None if reservations is None else [i for r in reservations for i in r.get("Instances") or []]
        )
        self.pages(ec2, "describe_volumes", "Volumes")
        for snap in self.pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"]) or []:
            self.call(
                ec2, "describe_snapshot_attribute", SnapshotId=snap["SnapshotId"], Attribute="createVolumePermission"
            )
        self.call(ec2, "describe_images", Owners=["self"])
        self.call(ec2, "get_ebs_encryption_by_default")
        self.pages(ec2, "describe_vpcs", "Vpcs")
        self.pages(ec2, "describe_flow_logs", "FlowLogs")

    def ec2_config(self, region: str) -> None:
        ec2 = self.c("ec2", region)
        for i in self.results.get(("ec2.instances", region)) or []:
            if (i.get("State") or {}).get("Name") not in ("terminated", "shutting-down"):
                self.call(ec2, "describe_instance_attribute", InstanceId=i["InstanceId"], Attribute="userData")
        for t in self.pages(ec2, "describe_launch_templates", "LaunchTemplates") or []:
            self.call(
                ec2, "describe_launch_template_versions", LaunchTemplateId=t["LaunchTemplateId"], Versions=["$Latest"]
            )

    def vpc(self, region: str) -> None:
        ec2 = self.c("ec2", region)
        for op, key in (
            ("describe_network_acls", "NetworkAcls"),
            ("describe_route_tables", "RouteTables"),
            ("describe_vpc_peering_connections", "VpcPeeringConnections"),
            ("describe_network_interfaces", "NetworkInterfaces"),
            ("describe_subnets", "Subnets"),
        ):
            self.pages(ec2, op, key)

    def cloudtrail(self, region: str) -> None:
        trails = (self.call(self.c("cloudtrail", region), "describe_trails", includeShadowTrails=True) or {}).get(
            "trailList"
        ) or []
        self.results[("cloudtrail", region)] = trails
        for t in trails:
            home = t.get("HomeRegion") or region
            self.call(self.c("cloudtrail", home), "get_trail_status", Name=t.get("TrailARN") or t["Name"])

    def cloudtrail_selectors(self, region: str) -> None:
        ct = self.c("cloudtrail", region)
        for t in self.results.get(("cloudtrail", region)) or []:
            if (t.get("HomeRegion") or region) == region:
                self.call(ct, "get_event_selectors", TrailName=t.get("TrailARN") or t["Name"])
                self.call(ct, "get_insight_selectors", TrailName=t.get("TrailARN") or t["Name"])

    def logs(self, region: str) -> None:
        self.pages(self.c("logs", region), "describe_metric_filters", "metricFilters")

    def cloudwatch(self, region: str) -> None:
        self.pages(self.c("cloudwatch", region), "describe_alarms", "MetricAlarms")

    def config(self, region: str) -> None:
        cfg = self.c("config", region)
        if self.call(cfg, "describe_configuration_recorders") is not None:
            self.call(cfg, "describe_configuration_recorder_status")

    def config_delivery(self, region: str) -> None:
        self.call(self.c("config", region), "describe_delivery_channels")

    def guardduty(self, region: str) -> None:
        gd = self.c("guardduty", region)
        for d in self.pages(gd, "list_detectors", "DetectorIds") or []:
            self.call(gd, "get_detector", DetectorId=d)

    def securityhub(self, region: str) -> None:
        self.call(self.c("securityhub", region), "describe_hub")

    def accessanalyzer(self, region: str) -> None:
        self.pages(self.c("accessanalyzer", region), "list_analyzers", "analyzers")

    def rds(self, region: str) -> None:
        rds = self.c("rds", region)
        instances = self.pages(rds, "describe_db_instances", "DBInstances")
        if instances is None:
            return
        for s in self.pages(rds, "describe_db_snapshots", "DBSnapshots", SnapshotType="manual") or []:
            self.call(rds, "describe_db_snapshot_attributes", DBSnapshotIdentifier=s["DBSnapshotIdentifier"])
        self.pages(rds, "describe_event_subscriptions", "EventSubscriptionsList")
        groups = {g["DBParameterGroupName"] for db in instances for g in db.get("DBParameterGroups") or []}
        for group in sorted(g for g in groups if g):
            self.pages(rds, "describe_db_parameters", "Parameters", DBParameterGroupName=group)

    def dynamodb(self, region: str) -> None:
        ddb = self.c("dynamodb", region)
        for t in self.pages(ddb, "list_tables", "TableNames") or []:
            self.call(ddb, "describe_table", TableName=t)
            self.call(ddb, "describe_continuous_backups", TableName=t)

    def backup(self, region: str) -> None:
        backup = self.c("backup", region)
        plans = self.pages(backup, "list_backup_plans", "BackupPlansList")
        if plans is None:
            return
        for v in self.pages(backup, "list_backup_vaults", "BackupVaultList") or []:
            self.call(backup, "get_backup_vault_access_policy", BackupVaultName=v["BackupVaultName"])
        for p in plans:
            pid = p["BackupPlanId"]
            self.call(backup, "get_backup_plan", BackupPlanId=pid)
            for sel in self.pages(backup, "list_backup_selections", "BackupSelectionsList", BackupPlanId=pid) or []:
                self.call(backup, "get_backup_selection", BackupPlanId=pid, SelectionId=sel["SelectionId"])

    def elbv2(self, region: str) -> None:
        elb = self.c("elbv2", region)
        lbs = self.pages(elb, "describe_load_balancers", "LoadBalancers")
        self.results[("elbv2", region)] = lbs
        for lb in lbs or []:
            self.call(elb, "describe_listeners", LoadBalancerArn=lb["LoadBalancerArn"])
            self.call(elb, "describe_load_balancer_attributes", LoadBalancerArn=lb["LoadBalancerArn"])

    def elb(self, region: str) -> None:
        elb = self.c("elb", region)
        for lb in self.pages(elb, "describe_load_balancers", "LoadBalancerDescriptions") or []:
            self.call(elb, "describe_load_balancer_attributes", LoadBalancerName=lb["LoadBalancerName"])

    def wafv2(self, region: str) -> None:
        waf = self.c("wafv2", region)
        for scope in ["REGIONAL", "CLOUDFRONT"] if region == "us-east-1" else ["REGIONAL"]:
            marker: str | None = None
            while True:
                kw: dict[str, Any] = {"Scope": scope, "Limit": 100, **({"NextMarker": marker} if marker else {})}
                page = self.call(waf, "list_web_acls", **kw)
                if page is None:
                    return
                for a in page.get("WebACLs") or []:
                    self.call(waf, "get_web_acl", Name=a["Name"], Scope=scope, Id=a["Id"])
                    self.call(waf, "get_logging_configuration", ResourceArn=a["ARN"])
                marker = page.get("NextMarker")
                if not marker or not page.get("WebACLs"):
                    break
        for lb in self.results.get(("elbv2", region)) or []:
            if lb.get("Type", "application") == "application":
                self.call(waf, "get_web_acl_for_resource", ResourceArn=lb["LoadBalancerArn"])

    def lambda_(self, region: str) -> None:
        self.results[("lambda", region)] = self.pages(self.c("lambda", region), "list_functions", "Functions")

    def lambda_access(self, region: str) -> None:
        lam = self.c("lambda", region)
        for fn in self.results.get(("lambda", region)) or []:
            self.call(lam, "get_function_url_config", FunctionName=fn["FunctionName"])
            self.call(lam, "get_policy", FunctionName=fn["FunctionName"])

    def kms(self, region: str) -> None:
        kms = self.c("kms", region)
        for k in self.pages(kms, "list_keys", "Keys") or []:
            meta = (self.call(kms, "describe_key", KeyId=k["KeyId"]) or {}).get("KeyMetadata") or {}
            if meta.get("KeyManager") == "CUSTOMER" and meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT":
                self.call(kms, "get_key_rotation_status", KeyId=k["KeyId"])

    def secretsmanager(self, region: str) -> None:
        sm = self.c("secretsmanager", region)
        for s in self.pages(sm, "list_secrets", "SecretList") or []:
            self.call(sm, "get_resource_policy", SecretId=s["ARN"])

    def acm(self, region: str) -> None:
        acm = self.c("acm", region)
        for cert in self.pages(acm, "list_certificates", "CertificateSummaryList") or []:
            self.call(acm, "describe_certificate", CertificateArn=cert["CertificateArn"])

    def efs(self, region: str) -> None:
        efs = self.c("efs", region)
        for fs in self.pages(efs, "describe_file_systems", "FileSystems") or []:
            self.call(efs, "describe_backup_policy", FileSystemId=fs["FileSystemId"])
            self.call(efs, "describe_file_system_policy", FileSystemId=fs["FileSystemId"])

    def elasticache(self, region: str) -> None:
        self.pages(self.c("elasticache", region), "describe_replication_groups", "ReplicationGroups")

    def redshift(self, region: str) -> None:
        rs = self.c("redshift", region)
        clusters = self.pages(rs, "describe_clusters", "Clusters") or []
        groups = {g["ParameterGroupName"] for c in clusters for g in c.get("ClusterParameterGroups") or []}
        for c in clusters:
            self.call(rs, "describe_logging_status", ClusterIdentifier=c["ClusterIdentifier"])
        for group in sorted(g for g in groups if g):
            self.pages(rs, "describe_cluster_parameters", "Parameters", ParameterGroupName=group)

    def opensearch(self, region: str) -> None:
        client = self.c("opensearch", region)
        names = [d["DomainName"] for d in (self.call(client, "list_domain_names") or {}).get("DomainNames") or []]
        for i in range(0, len(names), 5):
            self.call(client, "describe_domains", DomainNames=names[i : i + 5])

    def sns(self, region: str) -> None:
        sns = self.c("sns", region)
        topics = self.pages(sns, "list_topics", "Topics")
        if topics is None:
            return
        for t in topics:
            self.call(sns, "get_topic_attributes", TopicArn=t["TopicArn"])
        self.pages(sns, "list_subscriptions", "Subscriptions")

    def sqs(self, region: str) -> None:
        sqs = self.c("sqs", region)
        for url in self.pages(sqs, "list_queues", "QueueUrls") or []:
            self.call(sqs, "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])

    def ecr(self, region: str) -> None:
        ecr = self.c("ecr", region)
        for r in self.pages(ecr, "describe_repositories", "repositories") or []:
            self.call(ecr, "get_repository_policy", repositoryName=r["repositoryName"])
            self.call(ecr, "get_lifecycle_policy", repositoryName=r["repositoryName"])

    def eks(self, region: str) -> None:
        eks = self.c("eks", region)
        for name in self.pages(eks, "list_clusters", "clusters") or []:
            self.call(eks, "describe_cluster", name=name)

    def apigateway(self, region: str) -> None:
        apigw = self.c("apigateway", region)
        apis = self.pages(apigw, "get_rest_apis", "items")
        if apis is None:
            return
        for api in apis:
            self.call(apigw, "get_stages", restApiId=api["id"])
            self.pages(apigw, "get_resources", "items", restApiId=api["id"], embed=["methods"])
        self.pages(apigw, "get_domain_names", "items")
        v2 = self.c("apigatewayv2", region)
        for api in self.pages(v2, "get_apis", "Items") or []:
            self.pages(v2, "get_stages", "Items", ApiId=api["ApiId"])
            self.pages(v2, "get_routes", "Items", ApiId=api["ApiId"])

    def ssm(self, region: str) -> None:
        ssm = self.c("ssm", region)
        docs = self.pages(ssm, "list_documents", "DocumentIdentifiers", Filters=[{"Key": "Owner", "Values": ["Self"]}])
        for d in docs or []:
            self.call(ssm, "describe_document_permission", Name=d["Name"], PermissionType="Share")
            self.call(ssm, "get_document", Name=d["Name"])

    def ssm_patch(self, region: str) -> None:
        self.pages(
            self.c("ssm", region),
            "list_resource_compliance_summaries",
            "ResourceComplianceSummaryItems",
            Filters=[{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}],
        )


# The per-bucket reads of the `s3` dataset when every S3 check is selected (one call each; the
# location only for a bucket that ListBuckets filtered by region did not place).
S3_BUCKET_READS = (
    "get_bucket_policy",
    "get_bucket_versioning",
    "get_bucket_encryption",
    "get_public_access_block",
    "get_bucket_acl",
    "get_bucket_logging",
    "get_bucket_tagging",
    "get_bucket_ownership_controls",
    "get_bucket_replication",
    "get_bucket_notification_configuration",
    "get_bucket_lifecycle_configuration",
    "get_object_lock_configuration",
)
RAW_READERS: dict[str, Any] = {
    name: getattr(RawReader, "lambda_" if name == "lambda" else name)
    for name in sorted(DATASETS)
    if hasattr(RawReader, "lambda_" if name == "lambda" else name)
}


def raw_reads(
    endpoint: str | None,
    session: boto3.Session | None = None,
    regions: tuple[str, ...] = REGIONS,
    account: str = ACCOUNT,
    datasets: Iterable[str] | None = None,
) -> int:
    """Every read a full `auditor scan --aws` makes, sequentially; returns the number of API calls.

    `datasets`: those the scan's checks need (default: every registered check's); each is read after
    the datasets it reuses, in the same order auditor submits them (`with_dependencies`)."""
    session = session or boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    reader = RawReader(session, endpoint, regions, account)
    names = datasets if datasets is not None else {n for c in ALL_CHECKS for n in c.needs}
    for ds in with_dependencies(names):
        read = RAW_READERS[ds.name]
        for region in [reader.home] if ds.scope is Scope.ACCOUNT else list(regions):
            read(reader, region)
    return reader.calls


def call_counter(session: boto3.Session) -> Counter[tuple[str, str]]:
    """Counts every API call (one per page, not per retry) of the clients `session` makes from now on."""
    counts: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()  # auditor calls from many threads: `+=` alone would lose counts

    def count(model: Any, **_: Any) -> None:
        with lock:
            counts[(model.service_model.service_name, model.name)] += 1

    session.events.register("before-call", count)
    return counts


def auditor_calls(
    session: boto3.Session, regions: tuple[str, ...] = REGIONS, account: str = ACCOUNT, checks: Any = None
) -> Counter[tuple[str, str]]:
    """The API calls auditor's collectors make for a scan with `checks` (default: all), counted in-process."""
    chosen = ALL_CHECKS if checks is None else checks
    counts = call_counter(session)
    needed = sorted({n for c in chosen for n in c.needs})
    collect_account(ClientFactory(session), account, regions, regions[0], needed, parts=parts_needed(chosen))
    return counts


def counted_auditor_calls(endpoint: str) -> int:
    """`auditor_calls` against a moto_server (the scan's environment variables set meanwhile)."""
    saved = dict(os.environ)
    os.environ.update(scan_env(endpoint))
    log = logging.getLogger("auditor.aws")
    level = log.level
    log.setLevel(logging.CRITICAL)  # the scan itself reports what moto does not serve
    try:
        return sum(auditor_calls(boto3.Session()).values())
    finally:
        log.setLevel(level)
        os.environ.clear()
        os.environ.update(saved)


def run_auditor(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run([AUDITOR, *args], env=env, capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - start, proc


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench(scale: float, vs_prowler: bool = False, repeat: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, start_moto_server() as url:
        t0 = time.perf_counter()
        counts = seed_estate(url, scale=scale)
        seed_s = time.perf_counter() - t0
        env = scan_env(url)
        raw_reads(url)  # warm-up: moto builds some per-region backends lazily on first use
        startup_s, _ = run_auditor(["checks"], env)
        regions = [a for r in REGIONS for a in ("--aws-region", r)]
        out = os.path.join(tmp, "scan.json")
        scans: list[tuple[float, float]] = []
        raws: list[float] = []
        prowlers: list[tuple[int, float, float]] = []
        calls = 0
        for i in range(repeat):  # scan, raw (and Prowler) in turn: a drift in the machine's speed hits each
            db = os.path.join(tmp, f"b{i}.db")
            scan_args = ["scan", "--aws", *regions, "--format", "json", "--output", out, "--db", db]
            rc, scan_s, scan_rss = measured([AUDITOR, *scan_args], env)
            if rc not in (0, 1, 3):
                raise SystemExit(f"auditor scan failed ({rc})")
            scans.append((scan_s, scan_rss))
            t0 = time.perf_counter()
            calls = raw_reads(url)
            raws.append(time.perf_counter() - t0)
            if vs_prowler:
                prowlers.append(run_prowler(url, tmp))
        auditor_api_calls = counted_auditor_calls(url)
        summary = json.loads(Path(out).read_text())["summary"]
    return {
        "scale": scale,
        "counts": counts,
        "seed_s": seed_s,
        "scan_s": median([s for s, _ in scans]),
        "scan_rss_mb": max(r for _, r in scans),
        "ratio": median([s / r for (s, _), r in zip(scans, raws, strict=True)]),
        "runs": len(scans),
        # Prowler: (exit code, median wall, peak RSS, each pair's Prowler/scan wall ratio)
        "prowler": (
            (
                prowlers[-1][0],
                median([p for _, p, _ in prowlers]),
                max(r for _, _, r in prowlers),
                [p / s for (_, p, _), (s, _) in zip(prowlers, scans, strict=True)],
            )
            if prowlers
            else None
        ),
        "startup_s": startup_s,
        "raw_s": median(raws),
        "raw_calls": calls,
        "auditor_calls": auditor_api_calls,
        "findings": summary["total"],
        "errors": summary["by_status"]["ERROR"],
    }


USAGE = "usage: aws_scan.py [--vs-prowler] [--repeat N] [SCALE ...]  (default scales: 0.2 1; N: 1)"


def main(argv: list[str]) -> int:
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    vs_prowler = "--vs-prowler" in argv
    args = [a for a in argv if a != "--vs-prowler"]
    repeat = 1
    if "--repeat" in args:
        i = args.index("--repeat")
        try:
            repeat = int(args[i + 1])
        except (IndexError, ValueError):
            print(USAGE, file=sys.stderr)
            return 2
        del args[i : i + 2]
    try:
        scales = [float(a) for a in args] or [0.2, 1.0]
    except ValueError:
        print(USAGE, file=sys.stderr)
        return 2
    if repeat < 1 or any(sc < 0 for sc in scales):
        print(USAGE, file=sys.stderr)
        return 2
    rows = []
    for scale in scales:
        r = bench(scale, vs_prowler, repeat)
        rows.append(r)
        net = r["scan_s"] - r["startup_s"]
        runs = f"median of {r['runs']} runs each, " if r["runs"] > 1 else ""
        print(
            f"scale {r['scale']:>4}: {r['counts']} seeded in {r['seed_s']:.1f}s\n"
            f"  auditor scan --aws : {r['scan_s']:6.1f}s  ({net:.1f}s without {r['startup_s']:.1f}s process start-up), "
            f"{r['findings']} findings, {r['errors']} ERROR, {r['auditor_calls']} API calls\n"
            f"  raw boto3 floor    : {r['raw_s']:6.1f}s  ({r['raw_calls']} API calls, sequential)\n"
            f"  ratio scan/raw     : {r['ratio']:.2f}x  ({runs}scan and raw in turn; "
            f"without start-up: {net / r['raw_s']:.2f}x)\n"
            f"  auditor peak RSS   : {r['scan_rss_mb']:.0f} MB",
            flush=True,
        )
        if r["auditor_calls"] != r["raw_calls"]:
            print(f"  WARNING: the raw floor made {r['raw_calls']} calls, auditor {r['auditor_calls']}", flush=True)
        if r["prowler"] is not None:
            rc, p_s, p_rss, pairs = r["prowler"]
            spread = f"; pairs {min(pairs):.1f}x-{max(pairs):.1f}x" if len(pairs) > 1 else ""
            print(
                f"  prowler {PROWLER_VERSION}    : {p_s:6.1f}s, peak RSS {p_rss:.0f} MB (exit {rc}); "
                f"auditor is {median(pairs):.1f}x faster (median of {len(pairs)} scan/Prowler pairs{spread}), "
                f"{p_rss / r['scan_rss_mb']:.1f}x less memory",
                flush=True,
            )
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        print(
            f"growth {a['scale']} -> {b['scale']}: scan x{b['scan_s'] / a['scan_s']:.2f}, "
            f"raw x{b['raw_s'] / a['raw_s']:.2f}, API calls x{b['raw_calls'] / a['raw_calls']:.2f}"
        )
    if not vs_prowler:
        print("prowler: not run (add --vs-prowler: installs it once into its own venv)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
