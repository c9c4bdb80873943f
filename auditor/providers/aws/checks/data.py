"""Data stores and workloads: RDS, DynamoDB, AWS Backup, ELBv2, Lambda; data residency (GDPR Art. 44)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.residency import REMEDIATION_HINT, judge_residency
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import (
    AwsCheck,
    CheckInput,
    Outcome,
    Scope,
    errored,
    info,
    skipped,
    verdict,
)

DB = "AWS::RDS::DBInstance"
TABLE = "AWS::DynamoDB::Table"
LB = "AWS::ElasticLoadBalancingV2::LoadBalancer"
MIN_BACKUP_RETENTION_DAYS = 7
MODERN_TLS_MARKERS = ("TLS13", "TLS-1-2", "FS-1-2")
DEPRECATED_RUNTIMES = frozenset(
    {
        "python2.7",
        "python3.6",
        "python3.7",
        "python3.8",
        "nodejs",
        "nodejs4.3",
        "nodejs4.3-edge",
        "nodejs6.10",
        "nodejs8.10",
        "nodejs10.x",
        "nodejs12.x",
        "nodejs14.x",
        "nodejs16.x",
        "java8",
        "dotnetcore1.0",
        "dotnetcore2.0",
        "dotnetcore2.1",
        "dotnetcore3.1",
        "dotnet5.0",
        "dotnet6",
        "dotnet7",
        "ruby2.5",
        "ruby2.7",
        "go1.x",
        "provided",
    }
)


def rds_check(
    field: str, ok: Callable[[Any], bool], expected: str, describe: str
) -> Callable[[CheckInput], Iterator[Outcome]]:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        for db in inp.data("rds")["instances"]:
            name = db["DBInstanceIdentifier"]
            if field not in db:
                yield errored(
                    db["DBInstanceArn"],
                    DB,
                    f"DB instance {name}: the API did not report {field}",
                    {field: None},
                    inp.region,
                )
                continue
            value = db[field]
            good = ok(value)
            msg = f"DB instance {name} {describe} {value!r}" + ("" if good else f" (expected: {expected})")
            yield verdict(good, db["DBInstanceArn"], DB, msg, {field: value}, inp.region)

    return check


def residency(inp: CheckInput, rid: str, rtype: str, name: str) -> Outcome:
    return judge_residency(inp, inp.region, rid, rtype, name)


def check_rds_region(inp: CheckInput) -> Iterator[Outcome]:
    for db in inp.data("rds")["instances"]:
        yield residency(inp, db["DBInstanceArn"], DB, f"DB instance {db['DBInstanceIdentifier']}")


def check_dynamodb_region(inp: CheckInput) -> Iterator[Outcome]:
    for t in inp.data("dynamodb")["tables"]:
        yield residency(inp, t["arn"], TABLE, f"table {t['name']}")


def judge_pitr(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    status = t["pitr"].get("PointInTimeRecoveryStatus", "DISABLED")
    ok = status == "ENABLED"
    msg = f"table {t['name']} point-in-time recovery is {status}" + ("" if ok else " (expected: ENABLED)")
    return verdict(ok, t["arn"], TABLE, msg, {"PointInTimeRecoveryStatus": status}, inp.region)


# DescribeContinuousBackups always answers a description: one not read, missing or of another type is ERROR.
check_pitr = per_resource(
    lambda inp: list(inp.data("dynamodb")["tables"]), lambda t: str(t["arn"]), TABLE,
    lambda t: f"table {t['name']} backups", ("pitr",), judge_pitr, {"pitr": dict}, required=("pitr",),
)  # fmt: skip


def check_backup_plans(inp: CheckInput) -> Iterator[Outcome]:
    plans = [p.get("BackupPlanName") for p in inp.data("backup")["plans"]]
    rid = f"arn:aws:backup:{inp.region}:{inp.account}:backup-plans"
    msg = (
        f"{len(plans)} AWS Backup plan(s) in {inp.region}"
        if plans
        else f"no AWS Backup plan in {inp.region} (expected: at least one)"
    )
    yield verdict(bool(plans), rid, "AWS::Backup::BackupPlan", msg, {"plans": plans}, inp.region)


def lb_check(
    judge: Callable[[CheckInput, dict[str, Any]], Outcome | None], needs: str
) -> Callable[[CheckInput], Iterator[Outcome]]:
    """A load balancer whose `needs` detail (attributes, listeners) could not be read, is missing or is not
    the answer's type is ERROR naming the field and code (the shared per-resource rule)."""
    return per_resource(
        lambda inp: list(inp.data("elbv2")["load_balancers"]),
        lambda lb: str(lb["LoadBalancerArn"]),
        LB,
        lambda lb: f"load balancer {lb['LoadBalancerName']}",
        (needs,),
        judge,
        {needs: LB_DETAIL_KINDS[needs]},
        required=(needs,),
    )


# DescribeLoadBalancerAttributes answers a mapping (collected as key -> value), DescribeListeners a list.
LB_DETAIL_KINDS: dict[str, type] = {"attributes": dict, "listeners": list}


def redirects_to_https(listener: dict[str, Any]) -> bool:
    for action in listener.get("DefaultActions") or []:
        cfg = action.get("RedirectConfig") or {}
        if action.get("Type") == "redirect" and str(cfg.get("Protocol", "")).upper() == "HTTPS":
            return True
    return False


def judge_https(inp: CheckInput, lb: dict[str, Any]) -> Outcome | None:
    if lb.get("Type", "application") != "application":
        return None
    plain = [
        f"{li.get('Protocol')}:{li.get('Port')}"
        for li in lb["listeners"]
        if li.get("Protocol") == "HTTP" and not redirects_to_https(li)
    ]
    ev = {"listeners": [f"{li.get('Protocol')}:{li.get('Port')}" for li in lb["listeners"]], "plain_http": plain}
    msg = (
        f"load balancer {lb['LoadBalancerName']} serves only HTTPS (HTTP redirects)"
        if not plain
        else f"load balancer {lb['LoadBalancerName']} serves plain HTTP on {', '.join(plain)} "
        "(expected: HTTPS, or redirect to HTTPS)"
    )
    return verdict(not plain, lb["LoadBalancerArn"], LB, msg, ev, inp.region)


def judge_tls_policy(inp: CheckInput, lb: dict[str, Any]) -> Outcome | None:
    tls = [li for li in lb["listeners"] if li.get("Protocol") in ("HTTPS", "TLS")]
    if not tls:
        return None
    weak = [
        f"{li.get('Port')}:{li.get('SslPolicy')}"
        for li in tls
        if not any(m in str(li.get("SslPolicy") or "") for m in MODERN_TLS_MARKERS)
    ]
    ev = {"policies": sorted({str(li.get("SslPolicy")) for li in tls}), "weak": weak}
    msg = (
        f"load balancer {lb['LoadBalancerName']} TLS listeners use TLS 1.2+ policies"
        if not weak
        else f"load balancer {lb['LoadBalancerName']} allows old TLS on {', '.join(weak)} "
        "(expected: a TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-2021-06)"
    )
    return verdict(not weak, lb["LoadBalancerArn"], LB, msg, ev, inp.region)


def judge_access_logs(inp: CheckInput, lb: dict[str, Any]) -> Outcome | None:
    on = str(lb["attributes"].get("access_logs.s3.enabled", "false")).lower() == "true"
    msg = f"load balancer {lb['LoadBalancerName']} access logs are {'on' if on else 'off (expected: on)'}"
    return verdict(
        on,
        lb["LoadBalancerArn"],
        LB,
        msg,
        {"access_logs.s3.enabled": on, "bucket": lb["attributes"].get("access_logs.s3.bucket")},
        inp.region,
    )


def check_lambda_runtime(inp: CheckInput) -> Iterator[Outcome]:
    for fn in inp.data("lambda")["functions"]:
        runtime = fn.get("Runtime")
        rtype = "AWS::Lambda::Function"
        if not runtime:
            yield skipped(
                fn["FunctionArn"],
                rtype,
                f"function {fn['FunctionName']} is a container image",
                {"package_type": fn.get("PackageType")},
                inp.region,
            )
            continue
        ok = runtime not in DEPRECATED_RUNTIMES
        msg = f"function {fn['FunctionName']} runs {runtime}" + (
            "" if ok else " (deprecated; expected a supported runtime)"
        )
        yield verdict(ok, fn["FunctionArn"], rtype, msg, {"runtime": runtime}, inp.region)


def _rds(
    name: str,
    title: str,
    sev: Severity,
    risk: str,
    fix: str,
    field: str,
    ok: Callable[[Any], bool],
    expected: str,
    describe: str,
) -> AwsCheck:
    return AwsCheck(
        info(f"aws.rds.{name}", title, sev, DB, risk, fix),
        ("rds",),
        Scope.REGION,
        rds_check(field, ok, expected, describe),
    )


def _lb(name: str, title: str, sev: Severity, risk: str, fix: str, judge: Any, needs: str) -> AwsCheck:
    return AwsCheck(
        info(f"aws.elbv2.{name}", title, sev, LB, risk, fix), ("elbv2",), Scope.REGION, lb_check(judge, needs)
    )


CHECKS: list[AwsCheck] = [
    _rds(
        "storage_encrypted",
        "RDS storage is encrypted",
        Severity.HIGH,
        "Unencrypted database storage, snapshots and replicas expose data at rest.",
        "Restore from an encrypted snapshot copy; encryption cannot be turned on in place.",
        "StorageEncrypted",
        lambda v: v is True,
        "True",
        "StorageEncrypted is",
    ),
    _rds(
        "not_publicly_accessible",
        "RDS instances are not publicly accessible",
        Severity.CRITICAL,
        "A publicly accessible database is one leaked password away from a breach.",
        "Set PubliclyAccessible=false and reach the database through private networking.",
        "PubliclyAccessible",
        lambda v: v is False,
        "False",
        "PubliclyAccessible is",
    ),
    _rds(
        "backup_retention",
        "RDS automated backups are kept at least 7 days",
        Severity.MEDIUM,
        "Short or no backup retention limits how far back data can be restored.",
        "Set BackupRetentionPeriod to 7 days or more.",
        "BackupRetentionPeriod",
        lambda v: int(v) >= MIN_BACKUP_RETENTION_DAYS,
        ">= 7",
        "BackupRetentionPeriod is",
    ),
    _rds(
        "multi_az",
        "RDS instances are Multi-AZ",
        Severity.LOW,
        "A single-AZ database is down for the duration of an AZ or host failure.",
        "Modify the instance to Multi-AZ.",
        "MultiAZ",
        lambda v: v is True,
        "True",
        "MultiAZ is",
    ),
    _rds(
        "deletion_protection",
        "RDS deletion protection is on",
        Severity.MEDIUM,
        "One mistaken or malicious API call deletes the database.",
        "Enable deletion protection.",
        "DeletionProtection",
        lambda v: v is True,
        "True",
        "DeletionProtection is",
    ),
    _rds(
        "auto_minor_version_upgrade",
        "RDS minor version auto-upgrade is on",
        Severity.LOW,
        "Security patches in minor versions are not applied.",
        "Enable AutoMinorVersionUpgrade.",
        "AutoMinorVersionUpgrade",
        lambda v: v is True,
        "True",
        "AutoMinorVersionUpgrade is",
    ),
    AwsCheck(
        info(
            "aws.rds.instance_region_allowed",
            "RDS instances are in allowed regions",
            Severity.HIGH,
            DB,
            "Personal data stored outside the allowed regions may be an unlawful transfer (GDPR Art. 44).",
            f"Migrate the database to an allowed region, {REMEDIATION_HINT}.",
        ),
        ("rds",),
        Scope.REGION,
        check_rds_region,
    ),
    AwsCheck(
        info(
            "aws.dynamodb.pitr_enabled",
            "DynamoDB point-in-time recovery is on",
            Severity.MEDIUM,
            TABLE,
            "Without PITR, accidental writes and deletes cannot be rolled back.",
            "Enable point-in-time recovery on the table.",
        ),
        ("dynamodb",),
        Scope.REGION,
        check_pitr,
    ),
    AwsCheck(
        info(
            "aws.dynamodb.table_region_allowed",
            "DynamoDB tables are in allowed regions",
            Severity.HIGH,
            TABLE,
            "Personal data stored outside the allowed regions may be an unlawful transfer (GDPR Art. 44).",
            f"Move the table to an allowed region, {REMEDIATION_HINT}.",
        ),
        ("dynamodb",),
        Scope.REGION,
        check_dynamodb_region,
    ),
    AwsCheck(
        info(
            "aws.backup.plan_exists",
            "AWS Backup plans exist",
            Severity.MEDIUM,
            "AWS::Backup::BackupPlan",
            "Without a backup plan, recovery depends on each service's own defaults.",
            "Create an AWS Backup plan that covers the region's data stores.",
        ),
        ("backup",),
        Scope.REGION,
        check_backup_plans,
    ),
    _lb(
        "https_listeners",
        "Application load balancers serve HTTPS only",
        Severity.HIGH,
        "Plain HTTP exposes sessions and data in transit.",
        "Replace HTTP listeners by HTTPS, or make them redirect to HTTPS.",
        judge_https,
        "listeners",
    ),
    _lb(
        "modern_tls_policy",
        "Load balancer TLS listeners use TLS 1.2+ policies",
        Severity.MEDIUM,
        "TLS 1.0/1.1 and weak ciphers are open to downgrade attacks.",
        "Set the listener SslPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06 or newer.",
        judge_tls_policy,
        "listeners",
    ),
    _lb(
        "access_logs",
        "Load balancers log access",
        Severity.LOW,
        "Without access logs there is no record of requests for investigations.",
        "Enable access logs (access_logs.s3.enabled) to an S3 bucket.",
        judge_access_logs,
        "attributes",
    ),
    AwsCheck(
        info(
            "aws.lambda.supported_runtime",
            "Lambda functions use supported runtimes",
            Severity.MEDIUM,
            "AWS::Lambda::Function",
            "Deprecated runtimes receive no security patches.",
            "Upgrade the function to a supported runtime version.",
        ),
        ("lambda",),
        Scope.REGION,
        check_lambda_runtime,
    ),
]
