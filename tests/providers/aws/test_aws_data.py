"""Golden fixtures for the issue-15 data-store, messaging and secrets checks.

A small estate in moto holds compliant (`*-good`) and misconfigured (`*-bad`, `*-open`,
`*-plain`) resources side by side; every new check's exact set of (resource, status) is
asserted. Where moto lacks an API (AWS Backup selections and vault access policies, S3 MFA
delete, Redshift parameter changes, AWS managed keys) the check's ERROR path is what moto
shows, and the logic is covered by hand-built snapshots below.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from auditor.config import Thresholds
from auditor.models import Finding, Status
from auditor.providers.aws import AwsProvider
from auditor.providers.aws.checks import databases, messaging, storage
from auditor.providers.aws.collect import DATASETS, collect_account
from auditor.providers.aws.model import AccountSnapshot, AwsCheck
from auditor.providers.aws.session import ClientFactory

MOTO_ENV_OVERRIDES = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}

ACCOUNT = "123456789012"
EU, US = "eu-west-1", "us-east-1"
REGIONS = (EU, US)
NEW_CHECKS: list[AwsCheck] = [*storage.CHECKS, *databases.CHECKS, *messaging.CHECKS]
NEW_IDS = {c.info.id for c in NEW_CHECKS}


def rds_arn(kind: str, name: str, region: str = EU) -> str:
    return f"arn:aws:rds:{region}:{ACCOUNT}:{kind}:{name}"


def account_policy(resource: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Mine",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": action,
                    "Resource": resource,
                },
                {
                    "Sid": "OrgOnly",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": action,
                    "Resource": resource,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
                },
            ],
        }
    )


def open_policy(resource: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource},
                {
                    "Sid": "TlsOnlyIsNotARestriction",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": action,
                    "Resource": resource,
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                },
            ],
        }
    )


def seed_s3() -> None:
    eu = boto3.client("s3", region_name=EU)
    us = boto3.client("s3", region_name=US)
    for name in ("data-good-eu", "data-samereg-eu", "data-plain-eu"):
        eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": EU})
    eu.create_bucket(
        Bucket="data-locked-eu", CreateBucketConfiguration={"LocationConstraint": EU}, ObjectLockEnabledForBucket=True
    )
    us.create_bucket(Bucket="data-replica-us")
    for name in ("data-good-eu", "data-samereg-eu", "data-locked-eu"):
        eu.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    us.put_bucket_versioning(Bucket="data-replica-us", VersioningConfiguration={"Status": "Enabled"})
    for name in ("data-good-eu", "data-locked-eu"):
        eu.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
    eu.put_bucket_ownership_controls(
        Bucket="data-plain-eu", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    role = f"arn:aws:iam::{ACCOUNT}:role/replication"

    def replicate(source: str, dest: str) -> None:
        eu.put_bucket_replication(
            Bucket=source,
            ReplicationConfiguration={
                "Role": role,
                "Rules": [
                    {"ID": "all", "Status": "Enabled", "Prefix": "", "Destination": {"Bucket": f"arn:aws:s3:::{dest}"}}
                ],
            },
        )

    replicate("data-good-eu", "data-replica-us")
    replicate("data-samereg-eu", "data-locked-eu")
    eu.put_bucket_notification_configuration(
        Bucket="data-good-eu",
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": f"arn:aws:sqs:{EU}:{ACCOUNT}:jobs-good", "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    eu.put_bucket_notification_configuration(
        Bucket="data-locked-eu",
        NotificationConfiguration={
            "TopicConfigurations": [
                {"TopicArn": f"arn:aws:sns:{EU}:{ACCOUNT}:alerts-good", "Events": ["s3:ObjectRemoved:*"]}
            ]
        },
    )
    eu.put_bucket_lifecycle_configuration(
        Bucket="data-good-eu",
        LifecycleConfiguration={
            "Rules": [{"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 365}}]
        },
    )
    eu.put_bucket_lifecycle_configuration(
        Bucket="data-samereg-eu",
        LifecycleConfiguration={
            "Rules": [{"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 30}}]
        },
    )


def seed_rds() -> dict[str, str]:
    eu = boto3.client("rds", region_name=EU)
    eu.create_db_parameter_group(DBParameterGroupName="pg-tls", DBParameterGroupFamily="postgres16", Description="tls")
    eu.modify_db_parameter_group(
        DBParameterGroupName="pg-tls",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}],
    )
    eu.create_db_parameter_group(DBParameterGroupName="mysql-open", DBParameterGroupFamily="mysql8.0", Description="x")
    common = {
        "DBInstanceClass": "db.t3.micro",
        "MasterUsername": "admin",
        "MasterUserPassword": "not-a-real-pw-1",
        "AllocatedStorage": 20,
    }
    eu.create_db_instance(
        DBInstanceIdentifier="db-good",
        Engine="postgres",
        EngineVersion="16.3",
        DBParameterGroupName="pg-tls",
        MonitoringInterval=60,
        MonitoringRoleArn=f"arn:aws:iam::{ACCOUNT}:role/rds-monitoring",
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["postgresql"],
        CopyTagsToSnapshot=True,
        Port=6543,
        StorageEncrypted=True,
        Tags=[{"Key": "backup", "Value": "daily"}],
        **common,
    )
    eu.create_db_instance(
        DBInstanceIdentifier="db-bad",
        Engine="mysql",
        EngineVersion="8.0.35",
        DBParameterGroupName="mysql-open",
        **common,
    )
    eu.create_db_instance(
        DBInstanceIdentifier="db-oracle", Engine="oracle-ee", LicenseModel="bring-your-own-license", Port=1521, **common
    )
    eu.create_db_snapshot(DBInstanceIdentifier="db-good", DBSnapshotIdentifier="snap-good")
    eu.create_db_snapshot(DBInstanceIdentifier="db-bad", DBSnapshotIdentifier="snap-bad")
    eu.modify_db_snapshot_attribute(DBSnapshotIdentifier="snap-bad", AttributeName="restore", ValuesToAdd=["all"])
    eu.create_event_subscription(
        SubscriptionName="snapshot-events",
        SnsTopicArn=f"arn:aws:sns:{EU}:{ACCOUNT}:alerts-good",
        SourceType="db-snapshot",
        Enabled=True,
    )
    us = boto3.client("rds", region_name=US)
    us.create_db_parameter_group(DBParameterGroupName="pg-old", DBParameterGroupFamily="postgres14", Description="x")
    us.create_db_instance(
        DBInstanceIdentifier="db-us",
        Engine="postgres",
        EngineVersion="14.10",
        DBParameterGroupName="pg-old",
        Port=5432,
        **common,
    )
    us.create_event_subscription(
        SubscriptionName="db-events",
        SnsTopicArn=f"arn:aws:sns:{US}:{ACCOUNT}:ops",
        SourceType="db-instance",
        Enabled=True,
    )
    return {}


def seed_estate() -> dict[str, str]:
    ids: dict[str, str] = {}
    seed_s3()
    seed_rds()
    kms = boto3.client("kms", region_name=EU)
    cmk = kms.create_key(Description="data-cmk")["KeyMetadata"]["Arn"]
    ids["cmk"] = cmk

    backup = boto3.client("backup", region_name=EU)
    backup.create_backup_vault(BackupVaultName="vault-cmk", EncryptionKeyArn=cmk)
    backup.create_backup_vault(BackupVaultName="vault-default")
    backup.put_backup_vault_lock_configuration(BackupVaultName="vault-cmk", MinRetentionDays=7)
    ids["plan-daily"] = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "daily",
            "Rules": [{"RuleName": "d35", "TargetBackupVaultName": "vault-cmk", "Lifecycle": {"DeleteAfterDays": 35}}],
        }
    )["BackupPlanArn"]
    ids["plan-forever"] = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "forever",
            "Rules": [
                {"RuleName": "keep", "TargetBackupVaultName": "vault-default"},
                {"RuleName": "d7", "TargetBackupVaultName": "vault-default", "Lifecycle": {"DeleteAfterDays": 7}},
            ],
        }
    )["BackupPlanArn"]

    ddb = boto3.client("dynamodb", region_name=EU)
    table = {
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(
        TableName="orders-good",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": cmk},
        DeletionProtectionEnabled=True,
        **table,
    )
    ddb.create_table(TableName="orders-bad", **table)

    efs = boto3.client("efs", region_name=EU)
    good = efs.create_file_system(
        CreationToken="fs-good", Encrypted=True, Backup=True, Tags=[{"Key": "Name", "Value": "fs-good"}]
    )
    bad = efs.create_file_system(CreationToken="fs-bad", Tags=[{"Key": "Name", "Value": "fs-bad"}])
    opened = efs.create_file_system(CreationToken="fs-open", Encrypted=True, Tags=[{"Key": "Name", "Value": "fs-open"}])
    efs.put_file_system_policy(
        FileSystemId=good["FileSystemId"], Policy=account_policy(good["FileSystemArn"], "elasticfilesystem:ClientMount")
    )
    efs.put_file_system_policy(
        FileSystemId=opened["FileSystemId"],
        Policy=open_policy(opened["FileSystemArn"], "elasticfilesystem:ClientMount"),
    )
    ids.update({"fs-good": good["FileSystemArn"], "fs-bad": bad["FileSystemArn"], "fs-open": opened["FileSystemArn"]})

    ec = boto3.client("elasticache", region_name=EU)
    ec.create_replication_group(
        ReplicationGroupId="cache-good",
        ReplicationGroupDescription="good",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        AtRestEncryptionEnabled=True,
        TransitEncryptionEnabled=True,
        AuthToken="not-a-real-auth-token-000",
        SnapshotRetentionLimit=5,
    )
    ec.create_replication_group(
        ReplicationGroupId="cache-bad",
        ReplicationGroupDescription="bad",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
    )

    rs = boto3.client("redshift", region_name=EU)
    cluster = {
        "NodeType": "dc2.large",
        "MasterUsername": "admin",
        "MasterUserPassword": "NotReal1pw",
        "ClusterType": "single-node",
    }
    rs.create_cluster(ClusterIdentifier="rs-good", Encrypted=True, PubliclyAccessible=False, **cluster)
    rs.create_cluster(
        ClusterIdentifier="rs-bad", Encrypted=False, PubliclyAccessible=True, AllowVersionUpgrade=False, **cluster
    )
    rs.enable_logging(ClusterIdentifier="rs-good", BucketName="data-good-eu")

    search = boto3.client("opensearch", region_name=EU)
    logs = f"arn:aws:logs:{EU}:{ACCOUNT}:log-group:search"
    search.create_domain(
        DomainName="search-good",
        AdvancedSecurityOptions={
            "Enabled": True,
            "MasterUserOptions": {"MasterUserARN": f"arn:aws:iam::{ACCOUNT}:role/search-admin"},
        },
        EncryptionAtRestOptions={"Enabled": True},
        NodeToNodeEncryptionOptions={"Enabled": True},
        DomainEndpointOptions={"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"},
        AccessPolicies=account_policy(f"arn:aws:es:{EU}:{ACCOUNT}:domain/search-good/*", "es:*"),
        LogPublishingOptions={
            k: {"Enabled": True, "CloudWatchLogsLogGroupArn": logs}
            for k in ("AUDIT_LOGS", "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS")
        },
    )
    search.create_domain(
        DomainName="search-bad",
        AccessPolicies=open_policy(f"arn:aws:es:{EU}:{ACCOUNT}:domain/search-bad/*", "es:*"),
        LogPublishingOptions={"SEARCH_SLOW_LOGS": {"Enabled": True, "CloudWatchLogsLogGroupArn": logs}},
    )

    sns = boto3.client("sns", region_name=EU)
    sns.create_topic(Name="alerts-good", Attributes={"KmsMasterKeyId": cmk})
    topic = sns.create_topic(Name="alerts-open")["TopicArn"]
    good_topic = f"arn:aws:sns:{EU}:{ACCOUNT}:alerts-good"
    sns.subscribe(
        TopicArn=good_topic, Protocol="https", Endpoint="https://hooks.example.com/good?token=not-a-real-token"
    )
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://hooks.example.com/open?token=not-a-real-token")
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=open_policy(topic, "sns:Publish"))

    sqs = boto3.client("sqs", region_name=EU)
    sqs.create_queue(QueueName="jobs-good", Attributes={"SqsManagedSseEnabled": "true"})
    plain = sqs.create_queue(QueueName="jobs-plain", Attributes={"SqsManagedSseEnabled": "false"})["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{EU}:{ACCOUNT}:jobs-plain"
    sqs.set_queue_attributes(QueueUrl=plain, Attributes={"Policy": open_policy(queue_arn, "sqs:SendMessage")})

    sm = boto3.client("secretsmanager", region_name=EU)
    for name, policy in (("svc-good", account_policy), ("svc-open", open_policy)):
        arn = sm.create_secret(Name=name, SecretString="not-a-real-secret")["ARN"]
        sm.put_resource_policy(SecretId=arn, ResourcePolicy=policy("*", "secretsmanager:GetSecretValue"))
        ids[name] = arn
    ids["svc-nopolicy"] = sm.create_secret(Name="svc-nopolicy", SecretString="not-a-real-secret")["ARN"]
    return ids


@pytest.fixture(scope="module")
def estate(mocked: Any) -> dict[str, str]:
    return seed_estate()


@pytest.fixture(scope="module")
def snapshot(estate: dict[str, str]) -> AccountSnapshot:
    needed = {n for c in NEW_CHECKS for n in c.needs}
    assert needed <= set(DATASETS)
    return collect_account(ClientFactory(boto3.Session()), ACCOUNT, REGIONS, EU, needed)


def evaluate(snap: AccountSnapshot, now: datetime, checks: list[AwsCheck] | None = None) -> list[Finding]:
    return list(AwsProvider(checks=checks or NEW_CHECKS).evaluate(snap, now, Thresholds(), REGIONS))


@pytest.fixture(scope="module")
def findings(snapshot: AccountSnapshot, seeded_at: datetime) -> list[Finding]:
    return evaluate(snapshot, seeded_at)


def results(findings: list[Finding]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in findings:
        out[f.check_id].add((f.resource.id, str(f.status)))
    return out


def expected(e: dict[str, str]) -> dict[str, set[tuple[str, str]]]:
    P, F, E, S = "PASS", "FAIL", "ERROR", "SKIPPED"
    b = "arn:aws:s3:::"
    buckets = ("data-good-eu", "data-samereg-eu", "data-plain-eu", "data-locked-eu", "data-replica-us")

    def per_bucket(passing: set[str]) -> set[tuple[str, str]]:
        return {(b + n, P if n in passing else F) for n in buckets}

    db_good, db_bad, db_oracle = (rds_arn("db", n) for n in ("db-good", "db-bad", "db-oracle"))
    db_us = rds_arn("db", "db-us", US)
    dbs = {db_good, db_bad, db_oracle, db_us}

    def per_db(passing: set[str]) -> set[tuple[str, str]]:
        return {(d, P if d in passing else F) for d in dbs}

    vault = f"arn:aws:backup:{EU}:{ACCOUNT}:backup-vault:"
    table = f"arn:aws:dynamodb:{EU}:{ACCOUNT}:table/"
    cache = f"arn:aws:elasticache:{EU}:{ACCOUNT}:replicationgroup:"
    rs = f"arn:aws:redshift:{EU}:{ACCOUNT}:cluster:"
    dom = f"arn:aws:es:{EU}:{ACCOUNT}:domain/"
    topic = f"arn:aws:sns:{EU}:{ACCOUNT}:"
    queue = f"arn:aws:sqs:{EU}:{ACCOUNT}:"

    def pair(prefix: str, good: str, bad: str, good_status: str = P, bad_status: str = F) -> set[tuple[str, str]]:
        return {(prefix + good, good_status), (prefix + bad, bad_status)}

    return {
        "aws.s3.bucket_acls_disabled": per_bucket({"data-good-eu", "data-locked-eu"}),
        "aws.s3.bucket_cross_region_replication": per_bucket({"data-good-eu"}),
        "aws.s3.bucket_event_notifications": per_bucket({"data-good-eu", "data-locked-eu"}),
        "aws.s3.bucket_lifecycle_configured": per_bucket({"data-good-eu"}),
        "aws.s3.bucket_mfa_delete": per_bucket(set()),  # moto does not keep MFADelete: PASS path below
        "aws.s3.bucket_object_lock": per_bucket({"data-locked-eu"}),
        "aws.efs.encrypted": {(e["fs-good"], P), (e["fs-open"], P), (e["fs-bad"], F)},
        "aws.efs.backup_policy_enabled": {(e["fs-good"], P), (e["fs-open"], F), (e["fs-bad"], F)},
        "aws.efs.policy_not_public": {(e["fs-good"], P), (e["fs-open"], F), (e["fs-bad"], F)},
        "aws.backup.vault_cmk_encryption": pair(vault, "vault-cmk", "vault-default"),
        # moto has no GetBackupVaultAccessPolicy: ERROR per vault (logic: test_vault_policy_*).
        "aws.backup.vault_policy_not_public": pair(vault, "vault-cmk", "vault-default", E, E),
        "aws.backup.vault_locked": pair(vault, "vault-cmk", "vault-default"),
        "aws.backup.plan_retention": {(e["plan-daily"], P), (e["plan-forever"], F)},
        "aws.rds.enhanced_monitoring": per_db({db_good}),
        "aws.rds.iam_authentication": per_db({db_good}),
        "aws.rds.log_exports": per_db({db_good}),
        "aws.rds.copy_tags_to_snapshot": per_db({db_good}),
        "aws.rds.non_default_port": per_db({db_good}),
        # db-us: PostgreSQL 14 with rds.force_ssl not set (default off); Oracle uses option groups.
        "aws.rds.transport_encryption": {(db_good, P), (db_bad, F), (db_us, F), (db_oracle, S)},
        "aws.rds.snapshot_encrypted": {(rds_arn("snapshot", "snap-good"), P), (rds_arn("snapshot", "snap-bad"), F)},
        "aws.rds.snapshot_not_public": {(rds_arn("snapshot", "snap-good"), P), (rds_arn("snapshot", "snap-bad"), F)},
        "aws.rds.event_subscription": {(f"arn:aws:rds:{EU}:{ACCOUNT}:es", F), (f"arn:aws:rds:{US}:{ACCOUNT}:es", P)},
        # EU has plans whose selections moto cannot list: ERROR; US has no plan at all: FAIL.
        "aws.rds.backup_plan_protected": {(db_good, E), (db_bad, E), (db_oracle, E), (db_us, F)},
        "aws.dynamodb.cmk_encryption": pair(table, "orders-good", "orders-bad"),
        "aws.dynamodb.deletion_protection": pair(table, "orders-good", "orders-bad"),
        "aws.elasticache.at_rest_encryption": pair(cache, "cache-good", "cache-bad"),
        "aws.elasticache.in_transit_encryption": pair(cache, "cache-good", "cache-bad"),
        "aws.elasticache.auth_enabled": pair(cache, "cache-good", "cache-bad"),
        "aws.elasticache.automatic_backups": pair(cache, "cache-good", "cache-bad"),
        "aws.redshift.encrypted": pair(rs, "rs-good", "rs-bad"),
        "aws.redshift.not_publicly_accessible": pair(rs, "rs-good", "rs-bad"),
        "aws.redshift.audit_logging": pair(rs, "rs-good", "rs-bad"),
        # moto serves only the default parameters (require_ssl=false): PASS path below.
        "aws.redshift.require_ssl": pair(rs, "rs-good", "rs-bad", F, F),
        # moto ignores AutomatedSnapshotRetentionPeriod (always 1): FAIL path below.
        "aws.redshift.automated_snapshots": pair(rs, "rs-good", "rs-bad", P, P),
        "aws.redshift.version_upgrade": pair(rs, "rs-good", "rs-bad"),
        "aws.opensearch.encryption_at_rest": pair(dom, "search-good", "search-bad"),
        "aws.opensearch.node_to_node_encryption": pair(dom, "search-good", "search-bad"),
        "aws.opensearch.enforce_https": pair(dom, "search-good", "search-bad"),
        "aws.opensearch.not_public": pair(dom, "search-good", "search-bad"),
        "aws.opensearch.fine_grained_access": pair(dom, "search-good", "search-bad"),
        "aws.opensearch.audit_logs": pair(dom, "search-good", "search-bad"),
        "aws.opensearch.slow_logs": pair(dom, "search-good", "search-bad"),
        "aws.sns.topic_encrypted": pair(topic, "alerts-good", "alerts-open"),
        "aws.sns.topic_policy_not_public": pair(topic, "alerts-good", "alerts-open"),
        "aws.sns.subscriptions_https": pair(topic, "alerts-good", "alerts-open"),
        "aws.sqs.queue_encrypted": pair(queue, "jobs-good", "jobs-plain"),
        "aws.sqs.queue_policy_not_public": pair(queue, "jobs-good", "jobs-plain"),
        "aws.secretsmanager.unused_secret": {(e[n], P) for n in ("svc-good", "svc-open", "svc-nopolicy")},
        "aws.secretsmanager.policy_not_public": {(e["svc-good"], P), (e["svc-open"], F), (e["svc-nopolicy"], P)},
    }


def test_every_new_check_has_a_golden_expectation(estate: dict[str, str]) -> None:
    assert set(expected(estate)) == NEW_IDS
    assert len(NEW_IDS) == len(NEW_CHECKS)


@pytest.mark.parametrize("check_id", sorted(NEW_IDS))
def test_exact_results(check_id: str, findings: list[Finding], estate: dict[str, str]) -> None:
    assert results(findings).get(check_id, set()) == expected(estate)[check_id]


def test_pass_carries_evidence_and_fail_says_expected(findings: list[Finding]) -> None:
    for f in findings:
        if f.status in (Status.PASS, Status.FAIL):
            assert f.evidence, f"{f.check_id} {f.resource.id} has no evidence"
        if f.status is Status.FAIL:
            assert "expected" in f.message, f.message
        assert f.resource.account == ACCOUNT


def test_errors_name_the_aws_error(findings: list[Finding]) -> None:
    errors = [f for f in findings if f.status is Status.ERROR]
    assert errors
    for f in errors:
        if f.check_id == "aws.rds.backup_plan_protected":
            assert "NotImplemented" in f.message and "daily" in f.message and "forever" in f.message, f.message
        else:
            assert "could not be read (policy:" in f.message, f.message


def test_unused_secrets_follow_the_clock(snapshot: AccountSnapshot, seeded_at: datetime) -> None:
    later = evaluate(
        snapshot, seeded_at + timedelta(days=91), [c for c in NEW_CHECKS if c.info.id.endswith("unused_secret")]
    )
    assert {str(f.status) for f in later} == {"FAIL"}
    assert all("never accessed; created 91 days ago" in f.message for f in later)


def test_secret_values_and_policies_stay_out_of_findings(findings: list[Finding]) -> None:
    text = json.dumps([[f.message, f.evidence] for f in findings], default=str)
    assert "not-a-real-secret" not in text
    assert "not-a-real-auth-token" not in text and "not-a-real-pw" not in text
    assert "not-a-real-token" not in text and "hooks.example.com" not in text


def test_subscription_endpoints_are_not_collected(snapshot: AccountSnapshot) -> None:
    text = json.dumps(snapshot.get("sns", EU), default=str)
    assert "hooks.example.com" not in text and "not-a-real-token" not in text


def test_coverage_names_what_moto_could_not_serve(snapshot: AccountSnapshot) -> None:
    from auditor.providers.aws.coverage import snapshot_coverage

    needed = {n for c in NEW_CHECKS for n in c.needs}
    by_target = {c.target: c for c in snapshot_coverage(snapshot, needed)}
    eu = by_target[f"aws:{ACCOUNT}/{EU}"]
    gaps = {s.item for s in eu.skipped}
    assert {
        "backup.plan_details daily: selections",
        "backup.plan_details forever: selections",
        "backup.vaults vault-cmk: policy",
        "backup.vaults vault-default: policy",
    } <= gaps
    assert not eu.complete
    assert eu.examined["efs.file_systems"] == 3 and eu.examined["sqs.queues"] == 2
    assert eu.examined["rds.snapshots"] == 2 and eu.examined["secretsmanager.policies"] == 3
