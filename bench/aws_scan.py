"""Benchmark `auditor scan --aws` against the raw boto3 floor on a seeded moto_server.

Usage: .venv/bin/python bench/aws_scan.py [--vs-prowler] [SCALE ...]      (default: 0.2 1)

At SCALE=1 the demo estate gets 1,000 IAM users with access keys, 500 buckets, 200
security groups, 50 KMS keys, 50 secrets and 20 RDS instances on top of its named
resources (fractional scales allowed). For each scale the script starts a fresh
moto_server, seeds it, then times:

- `auditor scan --aws` (a subprocess, two regions, JSON to a file) end to end, and the
  same minus the process start-up (measured as `auditor checks` on an empty run);
- the raw floor: the same API reads auditor makes, done with plain boto3 calls in one
  thread, no checks, no storage (`raw_reads`).

One untimed raw pass runs first: moto builds some per-region backends lazily, and
whichever reader came first would pay for that.

Each command's peak RSS is measured as its own process tree's (`ru_maxrss` of a wrapper's children).

`--vs-prowler` also runs Prowler (pinned, PROWLER_VERSION) on the same moto_server and estate: it is
installed once into its own venv (`$AUDITOR_BENCH_PROWLER_VENV`, default
~/.cache/auditor-bench/prowler-<version>; needs the package registry once), limited to the services
both tools read, with `--scan-unused-services --aws-retries-max-attempts 0` (see design notes: moto
answers unimplemented calls with 5xx) and a sitecustomize that resolves `<account>.127.0.0.1` (S3
Control's host prefix) to 127.0.0.1. It prints Prowler's wall time, peak RSS and the ratio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.providers.aws.demo_estate import (
    FAKE_CREDENTIALS,
    REGIONS,
    scan_env,
    seed_estate,
    start_moto_server,
)
from auditor.providers.aws.session import strip_account_host_prefix

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


def raw_reads(endpoint: str) -> int:
    """Every read auditor's collectors make, as plain sequential boto3 calls. Returns the call count."""
    session = boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    calls = 0
    clients: dict[tuple[str, str], Any] = {}

    def c(service: str, region: str = "us-east-1") -> Any:
        if (service, region) not in clients:
            cfg = Config(retries={"mode": "standard", "max_attempts": 1}, s3={"addressing_style": "path"})
            client = session.client(service, region_name=region, endpoint_url=endpoint, config=cfg)
            if service == "s3control":
                client.meta.events.register("before-sign.s3-control", strip_account_host_prefix)
            clients[(service, region)] = client
        return clients[(service, region)]

    def call(fn: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        try:
            return fn(**kw)
        except Exception:  # noqa: BLE001 - "not configured" answers count as reads too
            return {}

    def pages(client: Any, op: str, key: str, **kw: Any) -> list[Any]:
        nonlocal calls
        out: list[Any] = []
        for page in client.get_paginator(op).paginate(**kw):
            calls += 1
            out.extend(page.get(key) or [])
        return out

    iam = c("iam")
    call(iam.get_account_summary)
    call(iam.get_account_password_policy)
    call(iam.generate_credential_report)
    call(iam.get_credential_report)
    pages(
        iam,
        "get_account_authorization_details",
        "UserDetailList",
        Filter=["User", "Role", "Group", "LocalManagedPolicy"],
    )
    s3 = c("s3")
    for b in call(s3.list_buckets).get("Buckets", []):
        n = b["Name"]
        for fn in (
            s3.get_bucket_location,
            s3.get_bucket_encryption,
            s3.get_public_access_block,
            s3.get_bucket_policy,
            s3.get_bucket_acl,
            s3.get_bucket_versioning,
            s3.get_bucket_logging,
            s3.get_bucket_tagging,
        ):
            call(fn, Bucket=n)
    call(c("s3control").get_public_access_block, AccountId="123456789012")
    for region in REGIONS:
        ec2 = c("ec2", region)
        pages(ec2, "describe_security_groups", "SecurityGroups")
        pages(ec2, "describe_instances", "Reservations")
        pages(ec2, "describe_volumes", "Volumes")
        for snap in pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"]):
            call(ec2.describe_snapshot_attribute, SnapshotId=snap["SnapshotId"], Attribute="createVolumePermission")
        call(ec2.describe_images, Owners=["self"])
        call(ec2.get_ebs_encryption_by_default)
        pages(ec2, "describe_vpcs", "Vpcs")
        pages(ec2, "describe_flow_logs", "FlowLogs")
        ct = c("cloudtrail", region)
        for t in call(ct.describe_trails, includeShadowTrails=True).get("trailList", []):
            call(c("cloudtrail", t.get("HomeRegion") or region).get_trail_status, Name=t["TrailARN"])
        pages(c("logs", region), "describe_metric_filters", "metricFilters")
        pages(c("cloudwatch", region), "describe_alarms", "MetricAlarms")
        cfg = c("config", region)
        call(cfg.describe_configuration_recorders)
        call(cfg.describe_configuration_recorder_status)
        gd = c("guardduty", region)
        for d in pages(gd, "list_detectors", "DetectorIds"):
            call(gd.get_detector, DetectorId=d)
        call(c("securityhub", region).describe_hub)
        pages(c("rds", region), "describe_db_instances", "DBInstances")
        ddb = c("dynamodb", region)
        for t in pages(ddb, "list_tables", "TableNames"):
            call(ddb.describe_table, TableName=t)
            call(ddb.describe_continuous_backups, TableName=t)
        pages(c("backup", region), "list_backup_plans", "BackupPlansList")
        elb = c("elbv2", region)
        for lb in pages(elb, "describe_load_balancers", "LoadBalancers"):
            call(elb.describe_listeners, LoadBalancerArn=lb["LoadBalancerArn"])
            call(elb.describe_load_balancer_attributes, LoadBalancerArn=lb["LoadBalancerArn"])
        pages(c("lambda", region), "list_functions", "Functions")
        kms = c("kms", region)
        for k in pages(kms, "list_keys", "Keys"):
            call(kms.describe_key, KeyId=k["KeyId"])
            call(kms.get_key_rotation_status, KeyId=k["KeyId"])
        pages(c("secretsmanager", region), "list_secrets", "SecretList")
        acm = c("acm", region)
        for cert in pages(acm, "list_certificates", "CertificateSummaryList"):
            call(acm.describe_certificate, CertificateArn=cert["CertificateArn"])
    return calls


def run_auditor(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run([AUDITOR, *args], env=env, capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - start, proc


def bench(scale: float, vs_prowler: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, start_moto_server() as url:
        t0 = time.perf_counter()
        counts = seed_estate(url, scale=scale)
        seed_s = time.perf_counter() - t0
        env = scan_env(url)
        raw_reads(url)  # warm-up: moto builds some per-region backends lazily on first use
        startup_s, _ = run_auditor(["checks"], env)
        regions = [a for r in REGIONS for a in ("--aws-region", r)]
        out = os.path.join(tmp, "scan.json")
        scan_args = ["scan", "--aws", *regions, "--format", "json", "--output", out, "--db", os.path.join(tmp, "b.db")]
        rc, scan_s, scan_rss = measured([AUDITOR, *scan_args], env)
        if rc not in (0, 1, 3):
            raise SystemExit(f"auditor scan failed ({rc})")
        prowler = run_prowler(url, tmp) if vs_prowler else None
        summary = json.loads(Path(out).read_text())["summary"]
        t0 = time.perf_counter()
        calls = raw_reads(url)
        raw_s = time.perf_counter() - t0
    return {
        "scale": scale,
        "counts": counts,
        "seed_s": seed_s,
        "scan_s": scan_s,
        "scan_rss_mb": scan_rss,
        "prowler": prowler,
        "startup_s": startup_s,
        "raw_s": raw_s,
        "raw_calls": calls,
        "findings": summary["total"],
        "errors": summary["by_status"]["ERROR"],
    }


def main(argv: list[str]) -> int:
    vs_prowler = "--vs-prowler" in argv
    scales = [float(a) for a in argv if a != "--vs-prowler"] or [0.2, 1.0]
    rows = []
    for scale in scales:
        r = bench(scale, vs_prowler)
        rows.append(r)
        net = r["scan_s"] - r["startup_s"]
        print(
            f"scale {r['scale']:>4}: {r['counts']} seeded in {r['seed_s']:.1f}s\n"
            f"  auditor scan --aws : {r['scan_s']:6.1f}s  ({net:.1f}s without {r['startup_s']:.1f}s process start-up), "
            f"{r['findings']} findings, {r['errors']} ERROR\n"
            f"  raw boto3 floor    : {r['raw_s']:6.1f}s  ({r['raw_calls']} API calls, sequential)\n"
            f"  ratio scan/raw     : {r['scan_s'] / r['raw_s']:.2f}x  (without start-up: {net / r['raw_s']:.2f}x)\n"
            f"  auditor peak RSS   : {r['scan_rss_mb']:.0f} MB",
            flush=True,
        )
        if r["prowler"] is not None:
            rc, p_s, p_rss = r["prowler"]
            print(
                f"  prowler {PROWLER_VERSION}    : {p_s:6.1f}s, peak RSS {p_rss:.0f} MB (exit {rc}); "
                f"auditor is {p_s / r['scan_s']:.1f}x faster, {p_rss / r['scan_rss_mb']:.1f}x less memory",
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
