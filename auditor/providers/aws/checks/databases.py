"""Databases (issue 15): RDS settings beyond the basics, DynamoDB, ElastiCache, Redshift, OpenSearch."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.resources import customer_managed, part, per_resource, public_statements
from auditor.providers.aws.model import (
    AwsCheck,
    CheckInput,
    CollectError,
    Outcome,
    Scope,
    errored,
    info,
    skipped,
    verdict,
)

DB = "AWS::RDS::DBInstance"
SNAPSHOT = "AWS::RDS::DBSnapshot"
SUBSCRIPTION = "AWS::RDS::EventSubscription"
TABLE = "AWS::DynamoDB::Table"
CACHE = "AWS::ElastiCache::ReplicationGroup"
REDSHIFT = "AWS::Redshift::Cluster"
DOMAIN = "AWS::OpenSearchService::Domain"

# Engine -> the default port a scanner tries first.
DEFAULT_PORTS = {
    "mysql": 3306,
    "mariadb": 3306,
    "aurora-mysql": 3306,
    "aurora": 3306,
    "postgres": 5432,
    "aurora-postgresql": 5432,
    "oracle": 1521,
    "sqlserver": 1433,
    "db2": 50000,
}
ON_VALUES = ("1", "on", "true")


def engine_family(engine: str) -> str:
    e = engine.lower()
    for prefix in ("aurora-postgresql", "aurora-mysql", "postgres", "mysql", "mariadb", "sqlserver", "oracle", "db2"):
        if e.startswith(prefix):
            return prefix
    return e


# --- RDS instances --------------------------------------------------------------------


def instances(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("rds")["instances"])


def db_arn(db: dict[str, Any]) -> str:
    return str(db["DBInstanceArn"])


def db_label(db: dict[str, Any]) -> str:
    return f"DB instance {db['DBInstanceIdentifier']}"


def cluster_member(inp: CheckInput, db: dict[str, Any], what: str) -> Outcome | None:
    """Aurora (and Multi-AZ DB cluster) members take `what` from their DB cluster, which is not read here."""
    cluster = db.get("DBClusterIdentifier")
    if not cluster:
        return None
    return skipped(
        db_arn(db),
        DB,
        f"{db_label(db)} is a member of DB cluster {cluster}, where {what} is set (not judged here)",
        {"DBClusterIdentifier": cluster},
        inp.region,
    )


def instance_level(what: str, judge: Callable[[CheckInput, dict[str, Any]], Outcome | None]) -> Any:
    def inner(inp: CheckInput, db: dict[str, Any]) -> Outcome | None:
        return cluster_member(inp, db, what) or judge(inp, db)

    return inner


def judge_monitoring(inp: CheckInput, db: dict[str, Any]) -> Outcome:
    interval = int(db.get("MonitoringInterval") or 0)
    ok = interval > 0
    msg = f"{db_label(db)} enhanced monitoring interval is {interval}s" + (
        "" if ok else " (expected: enhanced monitoring on, interval > 0)"
    )
    return verdict(ok, db_arn(db), DB, msg, {"MonitoringInterval": interval}, inp.region)


def judge_iam_auth(inp: CheckInput, db: dict[str, Any]) -> Outcome:
    on = db.get("IAMDatabaseAuthenticationEnabled") is True
    msg = f"{db_label(db)} IAM database authentication is {'on' if on else 'off (expected: on)'}"
    return verdict(on, db_arn(db), DB, msg, {"IAMDatabaseAuthenticationEnabled": on}, inp.region)


def judge_log_exports(inp: CheckInput, db: dict[str, Any]) -> Outcome:
    logs = list(db.get("EnabledCloudwatchLogsExports") or [])
    msg = (
        f"{db_label(db)} exports {', '.join(logs)} logs to CloudWatch"
        if logs
        else f"{db_label(db)} exports no logs to CloudWatch (expected: the engine's audit/error logs exported)"
    )
    return verdict(bool(logs), db_arn(db), DB, msg, {"EnabledCloudwatchLogsExports": logs}, inp.region)


def judge_copy_tags(inp: CheckInput, db: dict[str, Any]) -> Outcome:
    on = db.get("CopyTagsToSnapshot") is True
    msg = f"{db_label(db)} CopyTagsToSnapshot is {on}" + ("" if on else " (expected: True)")
    return verdict(on, db_arn(db), DB, msg, {"CopyTagsToSnapshot": on}, inp.region)


def db_port(db: dict[str, Any]) -> int | None:
    port = (db.get("Endpoint") or {}).get("Port") or db.get("DbInstancePort")
    return int(port) if port else None


def judge_port(inp: CheckInput, db: dict[str, Any]) -> Outcome | None:
    family = engine_family(str(db.get("Engine") or ""))
    default = DEFAULT_PORTS.get(family)
    port = db_port(db)
    ev = {"engine": db.get("Engine"), "port": port, "engine_default_port": default}
    if port is None:
        return errored(db_arn(db), DB, f"{db_label(db)}: the API did not report a port", ev, inp.region)
    if default is None:
        return skipped(
            db_arn(db), DB, f"{db_label(db)} engine {db.get('Engine')} has no known default port", ev, inp.region
        )
    ok = port != default
    msg = f"{db_label(db)} listens on port {port}" + (
        "" if ok else f", the {family} default (expected: a non-default port)"
    )
    return verdict(ok, db_arn(db), DB, msg, ev, inp.region)


def major_version(version: Any) -> int:
    head = str(version or "").split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def tls_parameter(db: dict[str, Any]) -> tuple[str, bool] | None:
    """The parameter that forces TLS for the engine and whether the engine default is on."""
    family = engine_family(str(db.get("Engine") or ""))
    if family in ("postgres", "aurora-postgresql"):
        # PostgreSQL 15 and later default rds.force_ssl to 1.
        return "rds.force_ssl", family == "postgres" and major_version(db.get("EngineVersion")) >= 15
    if family == "sqlserver":
        return "rds.force_ssl", False
    if family in ("mysql", "mariadb", "aurora-mysql"):
        return "require_secure_transport", False
    return None


def tls_parameter_values(groups: dict[str, Any], names: list[Any]) -> Any:
    """The TLS parameters of each named group; a CollectError when one could not be read (or none is named)."""
    values = [groups.get(n, CollectError("NotCollected", f"parameter group {n} was not read")) for n in names]
    bad = next((v for v in values if isinstance(v, CollectError)), None)
    return bad or (values if values else CollectError("NoParameterGroup", "no parameter group is named"))


def tls_instances(inp: CheckInput) -> list[dict[str, Any]]:
    """Every instance with the TLS parameters of its parameter groups (`tls_parameters`), where judged here."""
    groups = {g["name"]: g["parameters"] for g in part(inp, "rds", "parameter_groups")}
    rows = []
    for db in instances(inp):
        names = [g.get("DBParameterGroupName") for g in db.get("DBParameterGroups") or []]
        judged = not db.get("DBClusterIdentifier") and tls_parameter(db) is not None
        rows.append({**db, "tls_parameters": tls_parameter_values(groups, names) if judged else None})
    return rows


def judge_transport_encryption(inp: CheckInput, db: dict[str, Any]) -> Outcome:
    member = cluster_member(inp, db, "the TLS parameter (cluster parameter group)")
    if member is not None:
        return member
    wanted = tls_parameter(db)
    group_names = [g.get("DBParameterGroupName") for g in db.get("DBParameterGroups") or []]
    ev: dict[str, Any] = {"engine": db.get("Engine"), "parameter_groups": group_names}
    if wanted is None:
        return skipped(
            db_arn(db),
            DB,
            f"{db_label(db)} engine {db.get('Engine')} enforces TLS through option groups (not judged here)",
            ev,
            inp.region,
        )
    name, default_on = wanted
    values = db["tls_parameters"]
    value = next((v[name] for v in values if v.get(name) is not None), None)
    ev[name] = value
    on = str(value).lower() in ON_VALUES if value is not None else default_on
    source = (
        f"{name}={value}" if value is not None else f"{name} not set (engine default {'on' if default_on else 'off'})"
    )
    msg = f"{db_label(db)} {source}" + ("" if on else f" (expected: {name} on, so clients must use TLS)")
    return verdict(on, db_arn(db), DB, msg, ev, inp.region)


# An instance whose parameter group could not be read (or that names none) is ERROR naming the code.
check_transport_encryption = per_resource(
    tls_instances, db_arn, DB, lambda db: f"{db_label(db)} parameter group", ("tls_parameters",),
    judge_transport_encryption,
)  # fmt: skip


def snapshots(inp: CheckInput) -> list[dict[str, Any]]:
    return list(part(inp, "rds", "snapshots"))


def snapshot_arn(s: dict[str, Any]) -> str:
    return str(s.get("DBSnapshotArn") or s["DBSnapshotIdentifier"])


def snapshot_label(s: dict[str, Any]) -> str:
    return f"DB snapshot {s['DBSnapshotIdentifier']}"


def judge_snapshot_encrypted(inp: CheckInput, s: dict[str, Any]) -> Outcome:
    on = s.get("Encrypted") is True
    msg = f"{snapshot_label(s)} is " + ("encrypted" if on else "not encrypted (expected: encrypted)")
    return verdict(on, snapshot_arn(s), SNAPSHOT, msg, {"Encrypted": on, "KmsKeyId": s.get("KmsKeyId")}, inp.region)


def judge_snapshot_public(inp: CheckInput, s: dict[str, Any]) -> Outcome:
    restore = [str(v) for v in s["restore"] or []]
    public = "all" in restore
    msg = (
        f"{snapshot_label(s)} can be restored by any AWS account (expected: not public)"
        if public
        else f"{snapshot_label(s)} is shared with {len(restore)} named account(s), not public"
    )
    return verdict(not public, snapshot_arn(s), SNAPSHOT, msg, {"restore": restore}, inp.region)


def check_event_subscription(inp: CheckInput) -> Iterator[Outcome]:
    dbs = instances(inp)
    if not dbs:
        return
    subs = part(inp, "rds", "event_subscriptions")
    covering = [
        str(s.get("CustSubscriptionId"))
        for s in subs
        if s.get("Enabled") is not False and s.get("SourceType") in (None, "", "db-instance")
    ]
    rid = f"arn:aws:rds:{inp.region}:{inp.account}:es"
    msg = (
        f"RDS event subscription(s) {', '.join(covering)} cover DB instances in {inp.region}"
        if covering
        else f"no enabled RDS event subscription for DB instances in {inp.region} "
        f"({len(dbs)} instance(s)) (expected: one, so failovers and configuration changes are notified)"
    )
    ev = {"subscriptions": covering, "instances": len(dbs)}
    yield verdict(bool(covering), rid, SUBSCRIPTION, msg, ev, inp.region)


def tag_map(db: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value")) for t in db.get("TagList") or []}


def condition_matches(conditions: Any, tags: dict[str, str]) -> bool:
    """AWS Backup selection Conditions (all must hold): StringEquals/Like/NotEquals/NotLike on tags."""
    if not isinstance(conditions, dict):
        return True
    for kind, items in conditions.items():
        for c in items or []:
            key = str(c.get("ConditionKey") or "").removeprefix("aws:ResourceTag/")
            value = str(c.get("ConditionValue") or "")
            have = tags.get(key)
            if kind == "StringEquals" and have != value:
                return False
            if kind == "StringLike" and (have is None or not fnmatch.fnmatchcase(have, value)):
                return False
            if kind == "StringNotEquals" and have == value:
                return False
            if kind == "StringNotLike" and have is not None and fnmatch.fnmatchcase(have, value):
                return False
    return True


def selection_covers(sel: dict[str, Any], arn: str, tags: dict[str, str]) -> bool:
    """Whether one AWS Backup selection picks the resource: its ARN matches Resources (wildcards
    allowed) and every Condition holds, or one ListOfTags entry matches; NotResources excludes."""
    if any(fnmatch.fnmatchcase(arn, str(p)) for p in sel.get("NotResources") or []):
        return False
    by_arn = any(fnmatch.fnmatchcase(arn, str(p)) for p in sel.get("Resources") or [])
    if by_arn and condition_matches(sel.get("Conditions"), tags):
        return True
    for t in sel.get("ListOfTags") or []:
        if str(t.get("ConditionType", "STRINGEQUALS")).upper() != "STRINGEQUALS":
            continue
        if tags.get(str(t.get("ConditionKey"))) == str(t.get("ConditionValue")):
            return True
    return False


def check_backup_protected(inp: CheckInput) -> Iterator[Outcome]:
    dbs = instances(inp)
    if not dbs:
        return
    plans = part(inp, "backup", "plan_details")
    unread = [
        p for p in plans if isinstance(p.get("selections"), CollectError) or isinstance(p.get("rules"), CollectError)
    ]
    for db in dbs:
        arn = db_arn(db)
        member = cluster_member(inp, db, "backup plan selection (by cluster ARN)")
        if member is not None:
            yield member
            continue
        if unread:
            first = unread[0]
            code = (first["selections"] if isinstance(first.get("selections"), CollectError) else first["rules"]).code
            names = sorted(str(p.get("name")) for p in unread)
            yield errored(
                arn,
                DB,
                f"{db_label(db)}: the rules or resource selections of backup plan(s) {', '.join(names)} "
                f"could not be read ({code})",
                {"error_code": code, "plans": names},
                inp.region,
            )
            continue
        tags = tag_map(db)
        covering = sorted(
            str(p.get("name"))
            for p in plans
            if p.get("rules") and any(selection_covers(s, arn, tags) for s in p["selections"])
        )
        msg = (
            f"{db_label(db)} is selected by backup plan(s) {', '.join(covering)}"
            if covering
            else f"{db_label(db)} is not selected by any AWS Backup plan with rules in {inp.region} "
            f"({len(plans)} plan(s)) (expected: a plan selection naming it, by ARN, wildcard or tag)"
        )
        yield verdict(bool(covering), arn, DB, msg, {"plans": covering, "plans_in_region": len(plans)}, inp.region)


def _db(name: str, title: str, sev: Severity, risk: str, fix: str, judge: Any) -> AwsCheck:
    return AwsCheck(
        info(f"aws.rds.{name}", title, sev, DB, risk, fix),
        ("rds",),
        Scope.REGION,
        per_resource(instances, db_arn, DB, db_label, (), judge),
    )


# --- DynamoDB -------------------------------------------------------------------------


def tables(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("dynamodb")["tables"])


def table_label(t: dict[str, Any]) -> str:
    return f"table {t['name']}"


def judge_table_cmk(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    sse = t["description"].get("SSEDescription") or {}
    key = sse.get("KMSMasterKeyArn") if sse.get("Status") in ("ENABLED", "UPDATING") else None
    cmk = customer_managed(inp, key)
    ev = {"SSEType": sse.get("SSEType"), "KMSMasterKeyArn": key, "customer_managed": cmk}
    if cmk:
        msg = f"{table_label(t)} encrypts with customer managed key {key}"
    elif key:
        msg = f"{table_label(t)} encrypts with AWS managed key {key} (expected: a customer managed KMS key)"
    else:
        msg = f"{table_label(t)} encrypts with an AWS owned key (expected: a customer managed KMS key)"
    return verdict(bool(cmk), t["arn"], TABLE, msg, ev, inp.region)


def judge_table_deletion(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    on = t["description"].get("DeletionProtectionEnabled") is True
    msg = f"{table_label(t)} deletion protection is {'on' if on else 'off (expected: on)'}"
    return verdict(on, t["arn"], TABLE, msg, {"DeletionProtectionEnabled": on}, inp.region)


# --- ElastiCache ------------------------------------------------------------------------


def groups(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("elasticache")["replication_groups"])


def group_arn(g: dict[str, Any]) -> str:
    return str(g.get("ARN") or g["ReplicationGroupId"])


def group_label(g: dict[str, Any]) -> str:
    return f"replication group {g['ReplicationGroupId']}"


def flag(key: str, what: str) -> Callable[[CheckInput, dict[str, Any]], Outcome]:
    def judge(inp: CheckInput, g: dict[str, Any]) -> Outcome:
        on = g.get(key) is True
        msg = f"{group_label(g)} {what} is {'on' if on else 'off (expected: on)'}"
        return verdict(on, group_arn(g), CACHE, msg, {key: on}, inp.region)

    return judge


def judge_cache_auth(inp: CheckInput, g: dict[str, Any]) -> Outcome:
    token = g.get("AuthTokenEnabled") is True
    users = list(g.get("UserGroupIds") or [])
    ok = token or bool(users)
    how = "an AUTH token" if token else f"RBAC user groups {', '.join(users)}" if users else ""
    msg = (
        f"{group_label(g)} requires authentication ({how})"
        if ok
        else f"{group_label(g)} accepts unauthenticated connections (expected: an AUTH token or RBAC user groups)"
    )
    return verdict(ok, group_arn(g), CACHE, msg, {"AuthTokenEnabled": token, "UserGroupIds": users}, inp.region)


def judge_cache_backups(inp: CheckInput, g: dict[str, Any]) -> Outcome:
    days = int(g.get("SnapshotRetentionLimit") or 0)
    ok = days > 0
    msg = f"{group_label(g)} keeps automatic backups {days} day(s)" + ("" if ok else " (expected: at least 1)")
    return verdict(ok, group_arn(g), CACHE, msg, {"SnapshotRetentionLimit": days}, inp.region)


def _cache(name: str, title: str, sev: Severity, risk: str, fix: str, judge: Any) -> AwsCheck:
    return AwsCheck(
        info(
            f"aws.elasticache.{name}",
            title,
            sev,
            CACHE,
            risk,
            fix,
            description=f"{title}. Judged per Redis/Valkey replication group (standalone Memcached clusters are not).",
        ),
        ("elasticache",),
        Scope.REGION,
        per_resource(groups, group_arn, CACHE, group_label, (), judge),
    )


# --- Redshift -------------------------------------------------------------------------


def clusters(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("redshift")["clusters"])


def cluster_arn(inp: CheckInput) -> Callable[[dict[str, Any]], str]:
    return lambda c: f"arn:aws:redshift:{inp.region}:{inp.account}:cluster:{c['ClusterIdentifier']}"


def cluster_label(c: dict[str, Any]) -> str:
    return f"Redshift cluster {c['ClusterIdentifier']}"


def redshift_check(fields: tuple[str, ...], judge: Callable[[CheckInput, dict[str, Any], str], Outcome]) -> Any:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        arn = cluster_arn(inp)
        inner = per_resource(clusters, arn, REDSHIFT, cluster_label, fields, lambda i, c: judge(i, c, arn(c)))
        yield from inner(inp)

    return check


def judge_rs_encrypted(inp: CheckInput, c: dict[str, Any], arn: str) -> Outcome:
    on = c.get("Encrypted") is True
    msg = f"{cluster_label(c)} is " + ("encrypted at rest" if on else "not encrypted at rest (expected: encrypted)")
    return verdict(on, arn, REDSHIFT, msg, {"Encrypted": on, "KmsKeyId": c.get("KmsKeyId")}, inp.region)


def judge_rs_public(inp: CheckInput, c: dict[str, Any], arn: str) -> Outcome:
    public = c.get("PubliclyAccessible") is True
    msg = f"{cluster_label(c)} PubliclyAccessible is {public}" + (" (expected: False)" if public else "")
    return verdict(not public, arn, REDSHIFT, msg, {"PubliclyAccessible": public}, inp.region)


def judge_rs_logging(inp: CheckInput, c: dict[str, Any], arn: str) -> Outcome:
    status = c["logging"] or {}
    on = status.get("LoggingEnabled") is True
    where = status.get("BucketName") or status.get("LogDestinationType") or None
    msg = f"{cluster_label(c)} audit logging is " + (f"on ({where})" if on else "off (expected: on)")
    return verdict(on, arn, REDSHIFT, msg, {"LoggingEnabled": on, "destination": where}, inp.region)


def judge_rs_snapshots(inp: CheckInput, c: dict[str, Any], arn: str) -> Outcome:
    days = int(c.get("AutomatedSnapshotRetentionPeriod") or 0)
    ok = days > 0
    msg = f"{cluster_label(c)} keeps automated snapshots {days} day(s)" + ("" if ok else " (expected: at least 1)")
    return verdict(ok, arn, REDSHIFT, msg, {"AutomatedSnapshotRetentionPeriod": days}, inp.region)


def judge_rs_upgrades(inp: CheckInput, c: dict[str, Any], arn: str) -> Outcome:
    on = c.get("AllowVersionUpgrade") is True
    msg = f"{cluster_label(c)} AllowVersionUpgrade is {on}" + ("" if on else " (expected: True)")
    return verdict(on, arn, REDSHIFT, msg, {"AllowVersionUpgrade": on}, inp.region)


def ssl_clusters(inp: CheckInput) -> list[dict[str, Any]]:
    """Every cluster with the require_ssl value of its parameter groups (`require_ssl_values`)."""
    params = {g["name"]: g["require_ssl"] for g in part(inp, "redshift", "parameter_groups")}
    return [
        {
            **c,
            "require_ssl_values": tls_parameter_values(
                params, [g.get("ParameterGroupName") for g in c.get("ClusterParameterGroups") or []]
            ),
        }
        for c in clusters(inp)
    ]


def judge_rs_require_ssl(inp: CheckInput, c: dict[str, Any], arn: str) -> Outcome:
    names = [g.get("ParameterGroupName") for g in c.get("ClusterParameterGroups") or []]
    value = next((v for v in c["require_ssl_values"] if v is not None), None)
    on = str(value).lower() in ON_VALUES
    msg = f"{cluster_label(c)} require_ssl is {value}" + ("" if on else " (expected: true)")
    return verdict(on, arn, REDSHIFT, msg, {"parameter_groups": names, "require_ssl": value}, inp.region)


def check_rs_require_ssl(inp: CheckInput) -> Iterator[Outcome]:
    """A cluster whose parameter group could not be read (or that names none) is ERROR naming the code."""
    arn = cluster_arn(inp)
    yield from per_resource(
        ssl_clusters, arn, REDSHIFT, lambda c: f"{cluster_label(c)} parameter group", ("require_ssl_values",),
        lambda i, c: judge_rs_require_ssl(i, c, arn(c)),
    )(inp)  # fmt: skip


def _redshift(
    name: str, title: str, sev: Severity, risk: str, fix: str, fields: tuple[str, ...], judge: Any
) -> AwsCheck:
    return AwsCheck(
        info(f"aws.redshift.{name}", title, sev, REDSHIFT, risk, fix),
        ("redshift",),
        Scope.REGION,
        redshift_check(fields, judge),
    )


# --- OpenSearch -------------------------------------------------------------------------


def domains(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("opensearch")["domains"])


def domain_arn(d: dict[str, Any]) -> str:
    return str(d.get("ARN") or d["DomainName"])


def domain_label(d: dict[str, Any]) -> str:
    return f"OpenSearch domain {d['DomainName']}"


def option(section: str, what: str) -> Callable[[CheckInput, dict[str, Any]], Outcome]:
    def judge(inp: CheckInput, d: dict[str, Any]) -> Outcome:
        on = (d.get(section) or {}).get("Enabled") is True
        msg = f"{domain_label(d)} {what} is {'on' if on else 'off (expected: on)'}"
        return verdict(on, domain_arn(d), DOMAIN, msg, {f"{section}.Enabled": on}, inp.region)

    return judge


def judge_https(inp: CheckInput, d: dict[str, Any]) -> Outcome:
    ep = d.get("DomainEndpointOptions") or {}
    enforce = ep.get("EnforceHTTPS") is True
    policy = str(ep.get("TLSSecurityPolicy") or "")
    modern = "TLS-1-2" in policy or "TLS-1-3" in policy
    ok = enforce and modern
    ev = {"EnforceHTTPS": enforce, "TLSSecurityPolicy": policy or None}
    msg = (
        f"{domain_label(d)} enforces HTTPS with {policy}"
        if ok
        else f"{domain_label(d)} EnforceHTTPS is {enforce} with TLS policy {policy or 'none'} "
        "(expected: EnforceHTTPS and a TLS 1.2+ policy)"
    )
    return verdict(ok, domain_arn(d), DOMAIN, msg, ev, inp.region)


def judge_domain_public(inp: CheckInput, d: dict[str, Any]) -> Outcome:
    vpc = d.get("VPCOptions") or {}
    in_vpc = bool(vpc.get("VPCId") or vpc.get("SubnetIds"))
    public = [] if in_vpc else public_statements(d["policy"])
    ev = {"vpc": vpc.get("VPCId"), "public_statements": public}
    if in_vpc:
        msg = f"{domain_label(d)} is reachable only inside VPC {vpc.get('VPCId') or '(subnets)'}"
    elif public:
        msg = (
            f"{domain_label(d)} has a public endpoint whose access policy allows anyone ({', '.join(public)}) "
            "(expected: a VPC domain or a policy naming principals or source IPs)"
        )
    else:
        msg = f"{domain_label(d)} has a public endpoint but its access policy allows no unrestricted access"
    return verdict(not public, domain_arn(d), DOMAIN, msg, ev, inp.region)


def judge_fine_grained(inp: CheckInput, d: dict[str, Any]) -> Outcome:
    opts = d.get("AdvancedSecurityOptions") or {}
    on = opts.get("Enabled") is True
    anonymous = opts.get("AnonymousAuthEnabled") is True
    ok = on and not anonymous
    ev = {"AdvancedSecurityOptions.Enabled": on, "AnonymousAuthEnabled": anonymous}
    if ok:
        msg = f"{domain_label(d)} enforces fine-grained access control"
    elif on:
        msg = f"{domain_label(d)} allows anonymous access (expected: AnonymousAuthEnabled off)"
    else:
        msg = f"{domain_label(d)} has fine-grained access control off (expected: on, so users are authenticated)"
    return verdict(ok, domain_arn(d), DOMAIN, msg, ev, inp.region)


def published(d: dict[str, Any], kind: str) -> bool:
    return ((d.get("LogPublishingOptions") or {}).get(kind) or {}).get("Enabled") is True


def judge_audit_logs(inp: CheckInput, d: dict[str, Any]) -> Outcome:
    on = published(d, "AUDIT_LOGS")
    msg = f"{domain_label(d)} audit logs are " + ("published" if on else "not published (expected: AUDIT_LOGS enabled)")
    return verdict(on, domain_arn(d), DOMAIN, msg, {"AUDIT_LOGS": on}, inp.region)


def judge_slow_logs(inp: CheckInput, d: dict[str, Any]) -> Outcome:
    kinds = {k: published(d, k) for k in ("SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS")}
    off = [k for k, v in kinds.items() if not v]
    msg = (
        f"{domain_label(d)} publishes search and index slow logs"
        if not off
        else f"{domain_label(d)} does not publish {', '.join(off)} (expected: both slow logs published)"
    )
    return verdict(not off, domain_arn(d), DOMAIN, msg, kinds, inp.region)


def _domain(name: str, title: str, sev: Severity, risk: str, fix: str, fields: tuple[str, ...], judge: Any) -> AwsCheck:
    return AwsCheck(
        info(f"aws.opensearch.{name}", title, sev, DOMAIN, risk, fix),
        ("opensearch",),
        Scope.REGION,
        per_resource(domains, domain_arn, DOMAIN, domain_label, fields, judge),
    )


CHECKS: list[AwsCheck] = [
    _db(
        "enhanced_monitoring",
        "RDS enhanced monitoring is on",
        Severity.LOW,
        "Without OS-level metrics, resource exhaustion and abuse on the host go unnoticed.",
        "Set MonitoringInterval to 1-60 seconds with a monitoring role.",
        judge_monitoring,
    ),
    _db(
        "iam_authentication",
        "RDS IAM database authentication is on",
        Severity.MEDIUM,
        "Only long-lived database passwords authenticate users; they cannot be tied to IAM identities or MFA.",
        "Enable IAM database authentication and grant rds-db:connect to the users who need it.",
        instance_level("IAM database authentication", judge_iam_auth),
    ),
    _db(
        "log_exports",
        "RDS instances export logs to CloudWatch",
        Severity.MEDIUM,
        "Database logs kept only on the instance are lost with it and are not monitored.",
        "Enable CloudWatch Logs exports for the engine's audit, error and general logs.",
        instance_level("CloudWatch log export", judge_log_exports),
    ),
    _db(
        "copy_tags_to_snapshot",
        "RDS instances copy tags to snapshots",
        Severity.LOW,
        "Untagged snapshots lose their data classification and owner, so retention rules miss them.",
        "Set CopyTagsToSnapshot=true on the instance.",
        instance_level("CopyTagsToSnapshot", judge_copy_tags),
    ),
    _db(
        "non_default_port",
        "RDS instances do not listen on the engine's default port",
        Severity.LOW,
        "Default ports are what automated scanners and worms try first.",
        "Move the instance to a non-default port (modify-db-instance --db-port-number).",
        judge_port,
    ),
    AwsCheck(
        info(
            "aws.rds.transport_encryption",
            "RDS parameter groups force TLS connections",
            Severity.HIGH,
            DB,
            "Clients that connect without TLS send credentials and data in clear text.",
            "Set rds.force_ssl=1 (PostgreSQL, SQL Server) or require_secure_transport=ON (MySQL, MariaDB) "
            "in a custom parameter group.",
            description="RDS parameter groups force TLS: rds.force_ssl=1 for PostgreSQL and SQL Server, "
            "require_secure_transport=ON for MySQL and MariaDB; a parameter not reported counts as the "
            "engine default (on only for PostgreSQL 15+). Oracle and Db2 use option groups and are SKIPPED.",
        ),
        ("rds",),
        Scope.REGION,
        check_transport_encryption,
    ),
    AwsCheck(
        info(
            "aws.rds.snapshot_encrypted",
            "RDS manual snapshots are encrypted",
            Severity.HIGH,
            SNAPSHOT,
            "An unencrypted snapshot is a full copy of the database readable by whoever gets it.",
            "Copy the snapshot with a KMS key and delete the unencrypted one.",
        ),
        ("rds",),
        Scope.REGION,
        per_resource(snapshots, snapshot_arn, SNAPSHOT, snapshot_label, (), judge_snapshot_encrypted),
    ),
    AwsCheck(
        info(
            "aws.rds.snapshot_not_public",
            "RDS manual snapshots are not public",
            Severity.CRITICAL,
            SNAPSHOT,
            "A public snapshot lets any AWS account restore a full copy of the database.",
            "Remove 'all' from the snapshot's restore attribute.",
        ),
        ("rds",),
        Scope.REGION,
        per_resource(snapshots, snapshot_arn, SNAPSHOT, snapshot_label, ("restore",), judge_snapshot_public),
    ),
    AwsCheck(
        info(
            "aws.rds.event_subscription",
            "RDS event subscriptions notify about DB instances",
            Severity.LOW,
            SUBSCRIPTION,
            "Failovers, failures and configuration changes happen without anyone being told.",
            "Create an RDS event subscription for source type db-instance to an SNS topic.",
            description="A region with DB instances has an enabled RDS event subscription for db-instance "
            "events (or all sources). Regions without DB instances are not judged.",
        ),
        ("rds",),
        Scope.REGION,
        check_event_subscription,
    ),
    AwsCheck(
        info(
            "aws.rds.backup_plan_protected",
            "RDS instances are selected by an AWS Backup plan",
            Severity.MEDIUM,
            DB,
            "A database outside every backup plan is recovered only from its own short automated backups.",
            "Add the instance to a backup plan selection (by ARN, wildcard or tag).",
            description="Each DB instance is selected by an AWS Backup plan that has rules: a selection "
            "whose Resources match its ARN (wildcards allowed) and whose Conditions hold for its tags, or "
            "a ListOfTags entry matching its tags, and no NotResources match. ERROR when selections "
            "cannot be read.",
        ),
        ("rds", "backup"),
        Scope.REGION,
        check_backup_protected,
    ),
    AwsCheck(
        info(
            "aws.dynamodb.cmk_encryption",
            "DynamoDB tables encrypt with customer managed KMS keys",
            Severity.MEDIUM,
            TABLE,
            "With AWS owned or managed keys, who may decrypt the table cannot be limited by a key policy.",
            "Switch the table's encryption to a customer managed KMS key (update-table --sse-specification).",
        ),
        ("dynamodb", "kms"),
        Scope.REGION,
        per_resource(tables, lambda t: str(t["arn"]), TABLE, table_label, ("description",), judge_table_cmk),
    ),
    AwsCheck(
        info(
            "aws.dynamodb.deletion_protection",
            "DynamoDB deletion protection is on",
            Severity.MEDIUM,
            TABLE,
            "One mistaken or malicious API call deletes the table and its data.",
            "Enable deletion protection on the table.",
        ),
        ("dynamodb",),
        Scope.REGION,
        per_resource(tables, lambda t: str(t["arn"]), TABLE, table_label, ("description",), judge_table_deletion),
    ),
    _cache(
        "at_rest_encryption",
        "ElastiCache replication groups are encrypted at rest",
        Severity.HIGH,
        "Cached data and backups are readable from the underlying storage.",
        "Create a new replication group with at-rest encryption and migrate.",
        flag("AtRestEncryptionEnabled", "at-rest encryption"),
    ),
    _cache(
        "in_transit_encryption",
        "ElastiCache replication groups encrypt in transit",
        Severity.HIGH,
        "Cache traffic (often session tokens and personal data) crosses the network in clear text.",
        "Enable in-transit encryption (TransitEncryptionEnabled) and require it.",
        flag("TransitEncryptionEnabled", "in-transit encryption"),
    ),
    _cache(
        "auth_enabled",
        "ElastiCache replication groups require authentication",
        Severity.HIGH,
        "Anyone who reaches the endpoint can read and change every key.",
        "Set an AUTH token or attach RBAC user groups.",
        judge_cache_auth,
    ),
    _cache(
        "automatic_backups",
        "ElastiCache replication groups keep automatic backups",
        Severity.LOW,
        "Without snapshots, a failure or bad write loses the cached data for good.",
        "Set SnapshotRetentionLimit to 1 day or more.",
        judge_cache_backups,
    ),
    _redshift(
        "encrypted",
        "Redshift clusters are encrypted at rest",
        Severity.HIGH,
        "Warehouse data and its snapshots are readable from the underlying storage.",
        "Enable cluster encryption with a KMS key.",
        (),
        judge_rs_encrypted,
    ),
    _redshift(
        "not_publicly_accessible",
        "Redshift clusters are not publicly accessible",
        Severity.CRITICAL,
        "A public cluster endpoint exposes the warehouse to password guessing from the internet.",
        "Set PubliclyAccessible=false and reach the cluster through private networking.",
        (),
        judge_rs_public,
    ),
    _redshift(
        "audit_logging",
        "Redshift audit logging is on",
        Severity.MEDIUM,
        "Without audit logs, connections and queries against the warehouse leave no record.",
        "Enable audit logging to S3 or CloudWatch Logs.",
        ("logging",),
        judge_rs_logging,
    ),
    _redshift(
        "automated_snapshots",
        "Redshift automated snapshots are kept",
        Severity.MEDIUM,
        "Without automated snapshots, a failure or a bad load cannot be rolled back.",
        "Set the automated snapshot retention period to 1 day or more.",
        (),
        judge_rs_snapshots,
    ),
    _redshift(
        "version_upgrade",
        "Redshift clusters take engine upgrades",
        Severity.LOW,
        "Security fixes in new engine versions are not applied during the maintenance window.",
        "Set AllowVersionUpgrade=true.",
        (),
        judge_rs_upgrades,
    ),
    AwsCheck(
        info(
            "aws.redshift.require_ssl",
            "Redshift parameter groups require SSL",
            Severity.HIGH,
            REDSHIFT,
            "Clients may connect without TLS and send credentials and query results in clear text.",
            "Set require_ssl=true in the cluster's parameter group.",
        ),
        ("redshift",),
        Scope.REGION,
        check_rs_require_ssl,
    ),
    _domain(
        "encryption_at_rest",
        "OpenSearch domains are encrypted at rest",
        Severity.HIGH,
        "Indexed documents and snapshots are readable from the underlying storage.",
        "Enable encryption at rest (new domain, or update-domain-config on supported versions).",
        (),
        option("EncryptionAtRestOptions", "encryption at rest"),
    ),
    _domain(
        "node_to_node_encryption",
        "OpenSearch node-to-node encryption is on",
        Severity.MEDIUM,
        "Traffic between the domain's nodes is sent in clear text.",
        "Enable node-to-node encryption.",
        (),
        option("NodeToNodeEncryptionOptions", "node-to-node encryption"),
    ),
    _domain(
        "enforce_https",
        "OpenSearch domains enforce HTTPS with TLS 1.2+",
        Severity.HIGH,
        "Requests over plain HTTP or old TLS expose queries, documents and credentials.",
        "Set EnforceHTTPS=true and TLSSecurityPolicy to Policy-Min-TLS-1-2-2019-07 or newer.",
        (),
        judge_https,
    ),
    _domain(
        "not_public",
        "OpenSearch domains are not open to everyone",
        Severity.CRITICAL,
        "A public endpoint with an open access policy lets anyone read and change the indexes.",
        "Place the domain in a VPC, or restrict its access policy to named principals or source IPs.",
        ("policy",),
        judge_domain_public,
    ),
    _domain(
        "fine_grained_access",
        "OpenSearch fine-grained access control is on",
        Severity.MEDIUM,
        "Without fine-grained access control, anyone the access policy lets in can read and change every index.",
        "Enable fine-grained access control (AdvancedSecurityOptions) with IAM or internal users; no anonymous access.",
        (),
        judge_fine_grained,
    ),
    _domain(
        "audit_logs",
        "OpenSearch audit logs are published",
        Severity.MEDIUM,
        "Without audit logs, who read or changed which index leaves no record.",
        "Enable fine-grained access control and publish AUDIT_LOGS to CloudWatch Logs.",
        (),
        judge_audit_logs,
    ),
    _domain(
        "slow_logs",
        "OpenSearch search and index slow logs are published",
        Severity.LOW,
        "Abusive or runaway queries cannot be investigated without slow logs.",
        "Publish SEARCH_SLOW_LOGS and INDEX_SLOW_LOGS to CloudWatch Logs.",
        (),
        judge_slow_logs,
    ),
]
