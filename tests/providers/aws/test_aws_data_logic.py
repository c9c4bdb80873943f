"""The issue-15 data-store, messaging and secrets checks on hand-built snapshots: the logic moto
cannot show (AWS Backup selections and vault policies, MFA delete, Redshift parameters, AWS managed
keys, Aurora members, TLS defaults per engine version), plus a botocore Stubber run of the Backup
collector for the APIs moto lacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from auditor.config import Thresholds
from auditor.providers.aws import AwsProvider
from auditor.providers.aws.checks import keys
from auditor.providers.aws.model import AccountSnapshot, CollectError
from tests.providers.aws.test_aws_data import ACCOUNT, EU, NEW_CHECKS, NEW_IDS, account_policy, open_policy, rds_arn

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def snap(regional: dict[str, Any], global_data: dict[str, Any] | None = None) -> AccountSnapshot:
    s = AccountSnapshot(account=ACCOUNT, regions=(EU,), home_region=EU)
    s.regional = {EU: regional}
    s.global_data = global_data or {}
    return s


def run(check_id: str, s: AccountSnapshot, now: datetime = NOW) -> set[tuple[str, str]]:
    wanted = [c for c in [*NEW_CHECKS, *keys.CHECKS] if c.info.id == check_id]
    return {(f.resource.id, str(f.status)) for f in AwsProvider(checks=wanted).evaluate(s, now, Thresholds())}


def test_backup_plan_selections_by_arn_wildcard_and_tag() -> None:
    def db(name: str, tags: dict[str, str]) -> dict[str, Any]:
        return {
            "DBInstanceIdentifier": name,
            "DBInstanceArn": rds_arn("db", name),
            "TagList": [{"Key": k, "Value": v} for k, v in tags.items()],
        }

    instances = [
        db("by-arn", {}),
        db("by-wildcard", {"env": "prod"}),
        db("by-tag", {"backup": "daily"}),
        db("excluded", {"env": "prod"}),
        db("condition-miss", {"env": "dev"}),
        db("not-selected", {}),
    ]
    rule = [{"RuleName": "r", "Lifecycle": {"DeleteAfterDays": 30}}]
    plans = [
        {
            "id": "1",
            "name": "arn-plan",
            "arn": "p1",
            "rules": rule,
            "selections": [{"Resources": [rds_arn("db", "by-arn")]}],
        },
        {
            "id": "2",
            "name": "wildcard-plan",
            "arn": "p2",
            "rules": rule,
            "selections": [
                {
                    "Resources": [f"arn:aws:rds:{EU}:{ACCOUNT}:db:*"],
                    "NotResources": [rds_arn("db", "excluded")],
                    "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]},
                }
            ],
        },
        {
            "id": "3",
            "name": "tag-plan",
            "arn": "p3",
            "rules": rule,
            "selections": [
                {"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}]}
            ],
        },
        # A plan without rules backs nothing up even though it selects everything.
        {"id": "4", "name": "empty-plan", "arn": "p4", "rules": [], "selections": [{"Resources": ["*"]}]},
    ]
    s = snap({"rds": {"instances": instances}, "backup": {"plans": [], "plan_details": plans, "vaults": []}})
    assert run("aws.rds.backup_plan_protected", s) == {
        (rds_arn("db", "by-arn"), "PASS"),
        (rds_arn("db", "by-wildcard"), "PASS"),
        (rds_arn("db", "by-tag"), "PASS"),
        (rds_arn("db", "excluded"), "FAIL"),
        (rds_arn("db", "condition-miss"), "FAIL"),
        (rds_arn("db", "not-selected"), "FAIL"),
    }


def test_backup_selections_unreadable_is_error_never_fail() -> None:
    instances = [{"DBInstanceIdentifier": "d", "DBInstanceArn": rds_arn("db", "d")}]
    plans = [{"id": "1", "name": "p", "arn": "p1", "rules": [{}], "selections": CollectError("AccessDeniedException")}]
    s = snap({"rds": {"instances": instances}, "backup": {"plans": [], "plan_details": plans, "vaults": []}})
    assert run("aws.rds.backup_plan_protected", s) == {(rds_arn("db", "d"), "ERROR")}
    # A snapshot collected before the part existed: the check is ERROR, not a FAIL.
    old = snap({"rds": {"instances": instances}, "backup": {"plans": []}})
    assert {status for _, status in run("aws.rds.backup_plan_protected", old)} == {"ERROR"}


def test_vault_policy_public_and_restricted() -> None:
    vaults = [
        {"BackupVaultName": "open", "BackupVaultArn": "v-open", "policy": json.loads(open_policy("*", "backup:*"))},
        {"BackupVaultName": "org", "BackupVaultArn": "v-org", "policy": json.loads(account_policy("*", "backup:*"))},
        {"BackupVaultName": "none", "BackupVaultArn": "v-none", "policy": None},
        {"BackupVaultName": "denied", "BackupVaultArn": "v-denied", "policy": CollectError("AccessDeniedException")},
    ]
    s = snap({"backup": {"plans": [], "plan_details": [], "vaults": vaults}})
    assert run("aws.backup.vault_policy_not_public", s) == {
        ("v-open", "FAIL"),
        ("v-org", "PASS"),
        ("v-none", "PASS"),
        ("v-denied", "ERROR"),
    }


def test_aws_managed_keys_are_not_customer_managed() -> None:
    aws_key = f"arn:aws:kms:{EU}:{ACCOUNT}:key/aws-owned-1"
    cmk = f"arn:aws:kms:{EU}:{ACCOUNT}:key/cmk-1"
    kms = {
        "keys": [
            {"id": "aws-owned-1", "arn": aws_key, "metadata": {"KeyManager": "AWS"}},
            {"id": "cmk-1", "arn": cmk, "metadata": {"KeyManager": "CUSTOMER"}},
        ]
    }

    def table(name: str, key: str | None) -> dict[str, Any]:
        sse = {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key} if key else None
        return {"name": name, "arn": name, "pitr": {}, "description": {"SSEDescription": sse} if sse else {}}

    tables = [
        table("aws-managed", aws_key),
        table("cmk", cmk),
        table("owned", None),
        table("other-account", "arn:aws:kms:eu-west-1:999999999999:key/x"),
    ]
    s = snap({"dynamodb": {"tables": tables}, "kms": kms})
    assert run("aws.dynamodb.cmk_encryption", s) == {
        ("aws-managed", "FAIL"),
        ("cmk", "PASS"),
        ("owned", "FAIL"),
        ("other-account", "PASS"),
    }
    vaults = [
        {"BackupVaultName": "a", "BackupVaultArn": "va", "EncryptionKeyArn": aws_key, "policy": None},
        {"BackupVaultName": "c", "BackupVaultArn": "vc", "EncryptionKeyArn": cmk, "policy": None},
    ]
    s = snap({"backup": {"plans": [], "plan_details": [], "vaults": vaults}, "kms": kms})
    assert run("aws.backup.vault_cmk_encryption", s) == {("va", "FAIL"), ("vc", "PASS")}


def test_mfa_delete_enabled_passes() -> None:
    bucket = {
        "name": "locked",
        "arn": "arn:aws:s3:::locked",
        "region": EU,
        "mfa_delete": "Enabled",
        "versioning": "Enabled",
    }
    s = snap(
        {},
        {
            "s3": {
                "buckets": [
                    bucket,
                    {**bucket, "name": "x", "arn": "arn:aws:s3:::x", "mfa_delete": CollectError("AccessDenied")},
                ]
            }
        },
    )
    assert run("aws.s3.bucket_mfa_delete", s) == {("arn:aws:s3:::locked", "PASS"), ("arn:aws:s3:::x", "ERROR")}


def test_redshift_require_ssl_true_passes() -> None:
    def cluster(name: str, group: str) -> dict[str, Any]:
        return {"ClusterIdentifier": name, "ClusterParameterGroups": [{"ParameterGroupName": group}], "logging": {}}

    rs = {
        "clusters": [cluster("ssl", "g-ssl"), cluster("plain", "g-plain"), cluster("unread", "g-denied")],
        "parameter_groups": [
            {"name": "g-ssl", "require_ssl": "true"},
            {"name": "g-plain", "require_ssl": "false"},
            {"name": "g-denied", "require_ssl": CollectError("AccessDenied")},
        ],
    }
    arn = f"arn:aws:redshift:{EU}:{ACCOUNT}:cluster:"
    assert run("aws.redshift.require_ssl", snap({"redshift": rs})) == {
        (arn + "ssl", "PASS"),
        (arn + "plain", "FAIL"),
        (arn + "unread", "ERROR"),
    }


def test_rds_tls_defaults_by_engine_version() -> None:
    def db(name: str, engine: str, version: str, group: str) -> dict[str, Any]:
        return {
            "DBInstanceIdentifier": name,
            "DBInstanceArn": rds_arn("db", name),
            "Engine": engine,
            "EngineVersion": version,
            "DBParameterGroups": [{"DBParameterGroupName": group}],
        }

    rds = {
        "instances": [
            db("pg15-default", "postgres", "15.4", "default.postgres15"),
            db("pg14-default", "postgres", "14.9", "default.postgres14"),
            db("pg16-off", "postgres", "16.1", "pg-off"),
            db("maria-on", "mariadb", "10.11", "maria-on"),
            db("unread", "mysql", "8.0", "denied"),
        ],
        "parameter_groups": [
            {"name": "default.postgres15", "parameters": {}},
            {"name": "default.postgres14", "parameters": {}},
            {"name": "pg-off", "parameters": {"rds.force_ssl": "0"}},
            {"name": "maria-on", "parameters": {"require_secure_transport": "ON"}},
            {"name": "denied", "parameters": CollectError("AccessDenied")},
        ],
    }
    assert run("aws.rds.transport_encryption", snap({"rds": rds})) == {
        (rds_arn("db", "pg15-default"), "PASS"),
        (rds_arn("db", "pg14-default"), "FAIL"),
        (rds_arn("db", "pg16-off"), "FAIL"),
        (rds_arn("db", "maria-on"), "PASS"),
        (rds_arn("db", "unread"), "ERROR"),
    }


def test_public_policy_rule() -> None:
    from auditor.providers.aws.checks.resources import public_statements

    def st(**kw: Any) -> dict[str, Any]:
        return {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x", **kw}]}

    assert public_statements(st()) == ["#0"]
    assert public_statements(st(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})) == []
    assert public_statements(st(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})) == []
    assert public_statements(st(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})) == ["#0"]
    assert public_statements(st(Condition={"StringNotEquals": {"aws:SourceAccount": ACCOUNT}})) == ["#0"]
    assert public_statements(st(Condition={"Bool": {"aws:SecureTransport": "true"}})) == ["#0"]
    assert public_statements({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "x"}]}) == []
    assert public_statements(None) == []


def test_unused_secret_uses_last_access() -> None:
    secrets = [
        {
            "Name": "used",
            "ARN": "s-used",
            "CreatedDate": NOW - timedelta(days=400),
            "LastAccessedDate": NOW - timedelta(days=3),
        },
        {
            "Name": "stale",
            "ARN": "s-stale",
            "CreatedDate": NOW - timedelta(days=400),
            "LastAccessedDate": NOW - timedelta(days=120),
        },
        {"Name": "new", "ARN": "s-new", "CreatedDate": NOW - timedelta(days=5)},
        {"Name": "undated", "ARN": "s-undated"},
    ]
    assert run("aws.secretsmanager.unused_secret", snap({"secretsmanager": {"secrets": secrets}})) == {
        ("s-used", "PASS"),
        ("s-stale", "FAIL"),
        ("s-new", "PASS"),
        ("s-undated", "ERROR"),
    }


def test_secret_age_counts_from_the_last_change_not_creation() -> None:
    old = NOW - timedelta(days=200)
    secrets = [
        # Rotation disabled, value replaced by hand 10 days ago: not old.
        {"Name": "changed", "ARN": "s-changed", "CreatedDate": old, "LastChangedDate": NOW - timedelta(days=10)},
        # Rotation disabled, never changed since creation 200 days ago: old.
        {"Name": "stale", "ARN": "s-stale", "CreatedDate": old, "LastChangedDate": old},
        # Rotated 100 days ago, changed 100 days ago: old whatever the rotation setting.
        {
            "Name": "rotated",
            "ARN": "s-rotated",
            "CreatedDate": old,
            "RotationEnabled": True,
            "LastRotatedDate": NOW - timedelta(days=100),
            "LastChangedDate": NOW - timedelta(days=100),
        },
        {"Name": "created", "ARN": "s-created", "CreatedDate": NOW - timedelta(days=95)},
    ]
    s = snap({"secretsmanager": {"secrets": secrets}})
    assert run("aws.secretsmanager.rotated_recently", s) == {
        ("s-changed", "PASS"),
        ("s-stale", "FAIL"),
        ("s-rotated", "FAIL"),
        ("s-created", "FAIL"),
    }
    found = {
        f.resource.id: f.message
        for f in AwsProvider(checks=[c for c in keys.CHECKS if c.info.id.endswith("rotated_recently")]).evaluate(
            s, NOW, Thresholds()
        )
    }
    assert "last changed 10 days ago" in found["s-changed"]
    assert "last rotated 100 days ago" in found["s-rotated"]
    assert "created 95 days ago" in found["s-created"]


def test_aurora_members_are_judged_on_their_cluster_not_here() -> None:
    member = {
        "DBInstanceIdentifier": "aurora-1",
        "DBInstanceArn": rds_arn("db", "aurora-1"),
        "DBClusterIdentifier": "aurora",
        "Engine": "aurora-postgresql",
        "EngineVersion": "15.4",
        "DBParameterGroups": [{"DBParameterGroupName": "default.aurora-postgresql15"}],
        "Endpoint": {"Port": 5432},
        "MonitoringInterval": 0,
    }
    s = snap(
        {
            "rds": {
                "instances": [member],
                "parameter_groups": [{"name": "default.aurora-postgresql15", "parameters": {}}],
            },
            "backup": {"plans": [], "plan_details": [], "vaults": []},
        }
    )
    arn = rds_arn("db", "aurora-1")
    for check_id in (
        "aws.rds.iam_authentication",
        "aws.rds.log_exports",
        "aws.rds.copy_tags_to_snapshot",
        "aws.rds.transport_encryption",
        "aws.rds.backup_plan_protected",
    ):
        assert run(check_id, s) == {(arn, "SKIPPED")}, check_id
    # Instance-level settings are still judged on the member.
    assert run("aws.rds.enhanced_monitoring", s) == {(arn, "FAIL")}
    assert run("aws.rds.non_default_port", s) == {(arn, "FAIL")}


def test_backup_collector_reads_selections_and_vault_policies_with_stubber() -> None:
    """moto has no ListBackupSelections/GetBackupVaultAccessPolicy: botocore's Stubber plays AWS."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.stub import Stubber

    from auditor.providers.aws.collect import Fetch, collect_backup

    client = boto3.client("backup", region_name=EU, aws_access_key_id="x", aws_secret_access_key="x")
    plan = {
        "BackupPlanId": "plan-1",
        "BackupPlanArn": f"arn:aws:backup:{EU}:{ACCOUNT}:backup-plan:plan-1",
        "BackupPlanName": "daily",
        "VersionId": "v1",
    }
    selection = {
        "SelectionName": "dbs",
        "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/backup",
        "Resources": [f"arn:aws:rds:{EU}:{ACCOUNT}:db:*"],
    }
    vault_policy = open_policy("*", "backup:*")
    with Stubber(client) as stub:
        stub.add_response("list_backup_plans", {"BackupPlansList": [plan]})
        stub.add_response(
            "list_backup_vaults",
            {
                "BackupVaultList": [
                    {"BackupVaultName": "v", "BackupVaultArn": f"arn:aws:backup:{EU}:{ACCOUNT}:backup-vault:v"}
                ]
            },
        )
        stub.add_response(
            "get_backup_vault_access_policy", {"BackupVaultName": "v", "Policy": vault_policy}, {"BackupVaultName": "v"}
        )
        stub.add_response(
            "get_backup_plan",
            {"BackupPlan": {"BackupPlanName": "daily", "Rules": [{"RuleName": "r", "TargetBackupVaultName": "v"}]}},
            {"BackupPlanId": "plan-1"},
        )
        stub.add_response(
            "list_backup_selections",
            {"BackupSelectionsList": [{"SelectionId": "sel-1", "SelectionName": "dbs"}]},
            {"BackupPlanId": "plan-1"},
        )
        stub.add_response(
            "get_backup_selection",
            {"BackupSelection": selection, "SelectionId": "sel-1", "BackupPlanId": "plan-1"},
            {"BackupPlanId": "plan-1", "SelectionId": "sel-1"},
        )

        class Clients:
            def client(self, service: str, region: str) -> Any:
                assert service == "backup"
                return client

        with ThreadPoolExecutor(max_workers=1) as pool:
            data = collect_backup(Fetch(Clients(), EU, ACCOUNT, pool))  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
    assert data["vaults"][0]["policy"] == json.loads(vault_policy)
    [details] = data["plan_details"]
    assert details["name"] == "daily" and details["rules"][0]["RuleName"] == "r"
    assert details["selections"] == [selection]
    s = snap(
        {
            "rds": {"instances": [{"DBInstanceIdentifier": "d", "DBInstanceArn": rds_arn("db", "d")}]},
            "backup": data,
        }
    )
    assert run("aws.rds.backup_plan_protected", s) == {(rds_arn("db", "d"), "PASS")}
    assert run("aws.backup.vault_policy_not_public", s) == {(f"arn:aws:backup:{EU}:{ACCOUNT}:backup-vault:v", "FAIL")}
    assert run("aws.backup.plan_retention", s) == {(plan["BackupPlanArn"], "FAIL")}


def test_redshift_without_automated_snapshots_fails() -> None:
    clusters = [
        {"ClusterIdentifier": "kept", "AutomatedSnapshotRetentionPeriod": 7, "logging": {}},
        {"ClusterIdentifier": "none", "AutomatedSnapshotRetentionPeriod": 0, "logging": {}},
    ]
    arn = f"arn:aws:redshift:{EU}:{ACCOUNT}:cluster:"
    s = snap({"redshift": {"clusters": clusters, "parameter_groups": []}})
    assert run("aws.redshift.automated_snapshots", s) == {(arn + "kept", "PASS"), (arn + "none", "FAIL")}


def test_opensearch_anonymous_access_fails_even_with_fine_grained_control() -> None:
    domain = {"DomainName": "anon", "ARN": "d-anon", "policy": None}
    opts = {"Enabled": True, "AnonymousAuthEnabled": True}
    s = snap({"opensearch": {"domains": [{**domain, "AdvancedSecurityOptions": opts}]}})
    assert run("aws.opensearch.fine_grained_access", s) == {("d-anon", "FAIL")}


def test_every_new_check_maps_to_soc2_and_gdpr() -> None:
    from auditor.catalog import controls_for_check
    from auditor.frameworks import load_catalog

    catalog = load_catalog()
    frameworks = list(catalog.values())
    for check_id in sorted(NEW_IDS):
        for fw in ("soc2", "gdpr"):  # a pass condition, or (lifecycle, tags) a supporting signal
            assert any(c.matches(check_id) or c.supported_by(check_id) for c in catalog[fw].controls), (fw, check_id)
        assert controls_for_check(check_id, frameworks), check_id
    refs = set(controls_for_check("aws.efs.encrypted", frameworks))
    assert {"soc2:CC6.1", "gdpr:Art.32(1)(a)"} <= refs
    assert {"soc2:CC6.7", "gdpr:Art.32(1)(a)"} <= set(controls_for_check("aws.rds.transport_encryption", frameworks))
    assert {"soc2:A1.2", "gdpr:Art.32(1)(c)"} <= set(controls_for_check("aws.rds.backup_plan_protected", frameworks))


def test_kms_for_sensitive_buckets_reads_the_sensitivity_tag_too() -> None:
    from auditor.providers.aws.checks import s3

    def bucket(name: str, tags: dict[str, str] | None, algo: str) -> dict[str, Any]:
        rules = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algo}}]
        return {"name": name, "arn": f"arn:aws:s3:::{name}", "region": EU, "encryption": rules, "tags": tags}

    buckets = [
        bucket("sens-aes", {"Sensitivity": "Confidential"}, "AES256"),
        bucket("class-kms", {"data-classification": "pii"}, "aws:kms"),
        bucket("public-aes", {"data-classification": "public"}, "AES256"),
        bucket("untagged", None, "AES256"),
    ]
    s = snap({}, {"s3": {"buckets": buckets}})
    wanted = [c for c in s3.CHECKS if c.info.id == "aws.s3.bucket_kms_encryption"]
    got = {(f.resource.id, str(f.status)) for f in AwsProvider(checks=wanted).evaluate(s, NOW, Thresholds())}
    assert got == {
        ("arn:aws:s3:::sens-aes", "FAIL"),
        ("arn:aws:s3:::class-kms", "PASS"),
        ("arn:aws:s3:::public-aes", "SKIPPED"),
        ("arn:aws:s3:::untagged", "SKIPPED"),
    }
    assert "sensitivity" in wanted[0].info.description and "SKIPPED" in wanted[0].info.description
