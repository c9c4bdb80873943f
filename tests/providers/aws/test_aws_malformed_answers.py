"""Could not look, or got an answer that cannot be judged, is never clean (issue 22).

Hand-built snapshots (the collectors never produce these shapes against moto): per check one
resource that PASSes, one that FAILs where the check can fail, and resources whose needed detail is a
CollectError, a malformed answer (a policy that is a JSON list or a string, permissions that are not
a list) or missing where the API always answers. Each test asserts the exact {resource id: status}
map; before this change the malformed and missing ones were PASS (see the report of issue 22)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from auditor.config import Thresholds
from auditor.providers.aws import AwsProvider
from auditor.providers.aws.checks import ALL_CHECKS
from auditor.providers.aws.model import AccountSnapshot, CollectError

ACCOUNT = "123456789012"
EU = "eu-west-1"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
DENIED = CollectError("AccessDenied", "not allowed")
PRIVATE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                   "Action": "*", "Resource": "*"}],
}  # fmt: skip
PUBLIC = {"Version": "2012-10-17", "Statement": [{"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "*"}]}
AS_LIST: list[Any] = [PUBLIC["Statement"][0]]  # a policy document that parsed to a JSON list, not an object


def snap(regional: dict[str, Any], global_data: dict[str, Any] | None = None) -> AccountSnapshot:
    s = AccountSnapshot(account=ACCOUNT, regions=(EU,), home_region=EU)
    s.regional = {EU: regional}
    s.global_data = global_data or {}
    return s


def run(check_id: str, s: AccountSnapshot) -> dict[str, str]:
    wanted = [c for c in ALL_CHECKS if c.info.id == check_id]
    assert len(wanted) == 1
    return {f.resource.id: str(f.status) for f in AwsProvider(checks=wanted).evaluate(s, NOW, Thresholds())}


def messages(check_id: str, s: AccountSnapshot) -> dict[str, str]:
    wanted = [c for c in ALL_CHECKS if c.info.id == check_id]
    return {f.resource.id: f.message for f in AwsProvider(checks=wanted).evaluate(s, NOW, Thresholds())}


# --- resource policies: a JSON list or a string is not a policy one can call private -------------------


def ecr_repo(name: str, policy: Any) -> dict[str, Any]:
    return {"repositoryName": name, "repositoryArn": f"arn:aws:ecr:{EU}:{ACCOUNT}:repository/{name}",
            "policy": policy, "lifecycle_policy": None}  # fmt: skip


def repo_arn(name: str) -> str:
    return f"arn:aws:ecr:{EU}:{ACCOUNT}:repository/{name}"


def test_ecr_policy_that_is_not_an_object_is_error() -> None:
    repos = [ecr_repo("private", PRIVATE), ecr_repo("none", None), ecr_repo("open", PUBLIC),
             ecr_repo("as-list", AS_LIST), ecr_repo("as-text", "not json"), ecr_repo("denied", DENIED)]  # fmt: skip
    s = snap({"ecr": {"repositories": repos}})
    assert run("aws.ecr.repository_not_public", s) == {
        repo_arn("private"): "PASS",
        repo_arn("none"): "PASS",  # no repository policy: nothing grants access
        repo_arn("open"): "FAIL",
        repo_arn("as-list"): "ERROR",
        repo_arn("as-text"): "ERROR",
        repo_arn("denied"): "ERROR",
    }
    got = messages("aws.ecr.repository_not_public", s)
    assert got[repo_arn("as-list")] == "repository as-list could not be read (policy: MalformedAnswer)"
    assert got[repo_arn("denied")] == "repository denied could not be read (policy: AccessDenied)"


def lambda_fn(name: str, policy: Any) -> dict[str, Any]:
    return {"name": name, "arn": f"arn:aws:lambda:{EU}:{ACCOUNT}:function:{name}", "url": None, "policy": policy}


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{EU}:{ACCOUNT}:function:{name}"


def test_lambda_policy_that_is_not_an_object_is_error() -> None:
    fns = [lambda_fn("private", PRIVATE), lambda_fn("none", None), lambda_fn("open", PUBLIC),
           lambda_fn("as-list", AS_LIST), lambda_fn("denied", DENIED)]  # fmt: skip
    s = snap({"lambda_access": {"functions": fns}})
    assert run("aws.lambda.policy_not_public", s) == {
        fn_arn("private"): "PASS",
        fn_arn("none"): "PASS",
        fn_arn("open"): "FAIL",
        fn_arn("as-list"): "ERROR",
        fn_arn("denied"): "ERROR",
    }


def test_lambda_url_that_is_not_an_object_is_error() -> None:
    fns = [
        {**lambda_fn("iam-url", None), "url": {"AuthType": "AWS_IAM", "AllowOrigins": []}},
        {**lambda_fn("open-url", None), "url": {"AuthType": "NONE", "AllowOrigins": ["*"]}},
        {**lambda_fn("no-url", None), "url": None},
        {**lambda_fn("odd-url", None), "url": "https://x.lambda-url.eu-west-1.on.aws/"},
    ]
    s = snap({"lambda_access": {"functions": fns}})
    expected = {fn_arn("iam-url"): "PASS", fn_arn("open-url"): "FAIL", fn_arn("odd-url"): "ERROR"}
    assert run("aws.lambda.function_url_auth", s) == expected
    assert run("aws.lambda.function_url_cors_restricted", s) == expected


def test_sns_and_sqs_policies_that_are_not_objects_are_error() -> None:
    def topic(name: str, policy: Any, attributes: Any = None) -> dict[str, Any]:
        attrs = {"KmsMasterKeyId": "alias/aws/sns"} if attributes is None else attributes
        return {"name": name, "arn": f"arn:aws:sns:{EU}:{ACCOUNT}:{name}", "attributes": attrs, "policy": policy}

    def queue(name: str, policy: Any, attributes: Any = None) -> dict[str, Any]:
        attrs = {"SqsManagedSseEnabled": "true"} if attributes is None else attributes
        return {"name": name, "arn": f"arn:aws:sqs:{EU}:{ACCOUNT}:{name}", "attributes": attrs, "policy": policy}

    topics = [topic("private", PRIVATE), topic("open", PUBLIC), topic("as-list", AS_LIST),
              topic("attrs-text", PRIVATE, "KmsMasterKeyId=x")]  # fmt: skip
    queues = [queue("private", PRIVATE), queue("open", PUBLIC), queue("as-list", AS_LIST),
              queue("attrs-list", PRIVATE, [])]  # fmt: skip
    s = snap({"sns": {"topics": topics, "subscriptions": []}, "sqs": {"queues": queues}})

    def t(name: str) -> str:
        return f"arn:aws:sns:{EU}:{ACCOUNT}:{name}"

    def q(name: str) -> str:
        return f"arn:aws:sqs:{EU}:{ACCOUNT}:{name}"

    assert run("aws.sns.topic_policy_not_public", s) == {
        t("private"): "PASS", t("open"): "FAIL", t("as-list"): "ERROR", t("attrs-text"): "ERROR"
    }
    assert run("aws.sns.topic_encrypted", s) == {
        t("private"): "PASS", t("open"): "PASS", t("as-list"): "PASS", t("attrs-text"): "ERROR"
    }
    assert run("aws.sqs.queue_policy_not_public", s) == {
        q("private"): "PASS", q("open"): "FAIL", q("as-list"): "ERROR", q("attrs-list"): "ERROR"
    }
    assert run("aws.sqs.queue_encrypted", s) == {
        q("private"): "PASS", q("open"): "PASS", q("as-list"): "PASS", q("attrs-list"): "ERROR"
    }


def test_secret_without_a_policy_answer_is_error_not_unshared() -> None:
    def secret(name: str) -> dict[str, Any]:
        return {"Name": name, "ARN": f"arn:aws:secretsmanager:{EU}:{ACCOUNT}:secret:{name}"}

    arns = {n: secret(n)["ARN"] for n in ("private", "none", "as-list", "unasked")}
    policies = [
        {"arn": arns["private"], "name": "private", "policy": PRIVATE},
        {"arn": arns["none"], "name": "none", "policy": None},
        {"arn": arns["as-list"], "name": "as-list", "policy": AS_LIST},
        # "unasked" is listed as a secret but has no policy answer at all
    ]
    s = snap({"secretsmanager": {"secrets": [secret(n) for n in arns], "policies": policies}})
    assert run("aws.secretsmanager.policy_not_public", s) == {
        arns["private"]: "PASS", arns["none"]: "PASS", arns["as-list"]: "ERROR", arns["unasked"]: "ERROR"
    }


def test_trail_bucket_with_a_policy_that_is_not_an_object_is_error() -> None:
    def trail(name: str, bucket: str) -> dict[str, Any]:
        return {"Name": name, "TrailARN": f"arn:aws:cloudtrail:{EU}:{ACCOUNT}:trail/{name}", "HomeRegion": EU,
                "S3BucketName": bucket}  # fmt: skip

    def bucket(name: str, policy: Any, acl: Any) -> dict[str, Any]:
        return {"name": name, "arn": f"arn:aws:s3:::{name}", "region": EU, "policy": policy, "acl": acl}

    trails = [trail("ok", "b-ok"), trail("list", "b-list"), trail("acl-text", "b-acl")]
    buckets = [bucket("b-ok", PRIVATE, []), bucket("b-list", AS_LIST, []), bucket("b-acl", None, "private")]
    s = snap({"cloudtrail": {"trails": trails}}, {"s3": {"buckets": buckets}})
    arn = f"arn:aws:cloudtrail:{EU}:{ACCOUNT}:trail/"
    assert run("aws.cloudtrail.bucket_not_public", s) == {
        f"{arn}ok": "PASS", f"{arn}list": "ERROR", f"{arn}acl-text": "ERROR"
    }


# --- answers the API always gives: missing or of another type is ERROR, never "not configured" -------


def test_ssm_document_permissions_and_content_must_be_answered() -> None:
    def doc(name: str, shared: Any, content: Any) -> dict[str, Any]:
        return {"name": name, "document_type": "Command", "shared_with": shared, "content": content}

    clean: dict[str, list[str]] = {"detectors": [], "keys": []}
    docs = [doc("private", [], clean), doc("public", ["all"], clean), doc("shared-text", "all", clean),
            doc("no-answer", None, None), doc("denied", DENIED, DENIED)]  # fmt: skip
    s = snap({"ssm": {"documents": docs}})

    def d(name: str) -> str:
        return f"arn:aws:ssm:{EU}:{ACCOUNT}:document/{name}"

    assert run("aws.ssm.document_not_public", s) == {
        d("private"): "PASS", d("public"): "FAIL", d("shared-text"): "ERROR", d("no-answer"): "ERROR",
        d("denied"): "ERROR",
    }  # fmt: skip
    assert run("aws.ssm.document_no_secrets", s) == {
        d("private"): "PASS", d("public"): "PASS", d("shared-text"): "PASS", d("no-answer"): "ERROR",
        d("denied"): "ERROR",
    }  # fmt: skip
    assert messages("aws.ssm.document_not_public", s)[d("no-answer")] == (
        "document no-answer could not be read (shared_with: NoAnswer)"
    )


def test_snapshot_permissions_must_be_a_list() -> None:
    def snapshot(sid: str, perms: Any) -> dict[str, Any]:
        return {"SnapshotId": sid, "Encrypted": True, "create_volume_permissions": perms}

    snaps = [snapshot("snap-private", []), snapshot("snap-public", [{"Group": "all"}]),
             snapshot("snap-none", None), snapshot("snap-text", "all"), snapshot("snap-denied", DENIED)]  # fmt: skip
    s = snap({"ec2": {"snapshots": snaps}})

    def a(sid: str) -> str:
        return f"arn:aws:ec2:{EU}::snapshot/{sid}"

    assert run("aws.ec2.snapshot_not_public", s) == {
        a("snap-private"): "PASS", a("snap-public"): "FAIL", a("snap-none"): "ERROR", a("snap-text"): "ERROR",
        a("snap-denied"): "ERROR",
    }  # fmt: skip


def test_cloudfront_configuration_must_be_answered() -> None:
    https_origin = {"Origins": {"Items": [{"Id": "api", "DomainName": "api.example.com",
                                           "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"}}]}}
    http_origin = {"Origins": {"Items": [{"Id": "api", "DomainName": "api.example.com",
                                          "CustomOriginConfig": {"OriginProtocolPolicy": "http-only"}}]}}  # fmt: skip
    dists = [
        {"Id": "GOOD", "ARN": "arn:aws:cloudfront::1:distribution/GOOD", "config": https_origin},
        {"Id": "PLAIN", "ARN": "arn:aws:cloudfront::1:distribution/PLAIN", "config": http_origin},
        {"Id": "NONE", "ARN": "arn:aws:cloudfront::1:distribution/NONE", "config": None},
        {"Id": "LIST", "ARN": "arn:aws:cloudfront::1:distribution/LIST", "config": []},
        {"Id": "DENIED", "ARN": "arn:aws:cloudfront::1:distribution/DENIED", "config": DENIED},
    ]
    s = snap({}, {"cloudfront": {"distributions": dists}})
    got = run("aws.cloudfront.origin_https", s)
    assert got == {
        "arn:aws:cloudfront::1:distribution/GOOD": "PASS",
        "arn:aws:cloudfront::1:distribution/PLAIN": "FAIL",
        "arn:aws:cloudfront::1:distribution/NONE": "ERROR",
        "arn:aws:cloudfront::1:distribution/LIST": "ERROR",
        "arn:aws:cloudfront::1:distribution/DENIED": "ERROR",
    }


def test_load_balancer_attributes_must_be_answered() -> None:
    def alb(name: str, attrs: Any) -> dict[str, Any]:
        arn = f"arn:aws:elasticloadbalancing:{EU}:{ACCOUNT}:loadbalancer/app/{name}/1"
        return {"LoadBalancerName": name, "Type": "application", "listeners": [], "attributes": attrs,
                "LoadBalancerArn": arn}  # fmt: skip

    def clb(name: str, attrs: Any) -> dict[str, Any]:
        return {"LoadBalancerName": name, "ListenerDescriptions": [], "attributes": attrs}

    albs = [alb("on", {"deletion_protection.enabled": "true"}), alb("off", {"deletion_protection.enabled": "false"}),
            alb("none", None), alb("text", "deletion_protection.enabled=true")]  # fmt: skip
    clbs = [clb("on", {"AccessLog": {"Enabled": True}}), clb("off", {"AccessLog": {"Enabled": False}}),
            clb("none", None), clb("list", [])]  # fmt: skip
    s = snap({"elbv2": {"load_balancers": albs}, "elb": {"load_balancers": clbs}})

    def a(name: str) -> str:
        return f"arn:aws:elasticloadbalancing:{EU}:{ACCOUNT}:loadbalancer/app/{name}/1"

    def c(name: str) -> str:
        return f"arn:aws:elasticloadbalancing:{EU}:{ACCOUNT}:loadbalancer/{name}"

    assert run("aws.elbv2.deletion_protection", s) == {
        a("on"): "PASS", a("off"): "FAIL", a("none"): "ERROR", a("text"): "ERROR"
    }
    assert run("aws.elb.access_logs", s) == {c("on"): "PASS", c("off"): "FAIL", c("none"): "ERROR", c("list"): "ERROR"}


def test_api_stages_and_web_acl_rules_must_be_answered() -> None:
    def api(api_id: str, stages: Any) -> dict[str, Any]:
        return {"id": api_id, "name": api_id, "stages": stages, "resources": []}

    apis = [api("traced", [{"stageName": "prod", "tracingEnabled": True}]),
            api("untraced", [{"stageName": "prod", "tracingEnabled": False}]),
            api("nostages", None), api("textstages", "prod")]  # fmt: skip

    def acl(name: str, rules: Any) -> dict[str, Any]:
        return {"name": name, "arn": f"arn:aws:wafv2:{EU}:{ACCOUNT}:regional/webacl/{name}/1", "scope": "REGIONAL",
                "rules": rules, "logging": None}  # fmt: skip

    acls = [acl("ruled", 2), acl("empty", 0), acl("none", None), acl("text", "2")]
    s = snap({"apigateway": {"rest_apis": apis, "domain_names": [], "http_apis": []},
              "wafv2": {"web_acls": acls, "load_balancers": []}})  # fmt: skip

    def stage(api_id: str) -> str:
        return f"arn:aws:apigateway:{EU}::/restapis/{api_id}/stages/prod"

    def rest(api_id: str) -> str:
        return f"arn:aws:apigateway:{EU}::/restapis/{api_id}"

    assert run("aws.apigateway.stage_tracing", s) == {
        stage("traced"): "PASS", stage("untraced"): "FAIL", rest("nostages"): "ERROR", rest("textstages"): "ERROR"
    }

    def w(name: str) -> str:
        return f"arn:aws:wafv2:{EU}:{ACCOUNT}:regional/webacl/{name}/1"

    assert run("aws.wafv2.web_acl_has_rules", s) == {
        w("ruled"): "PASS", w("empty"): "FAIL", w("none"): "ERROR", w("text"): "ERROR"
    }


# --- parameter groups: joined by name, so a group that was not read (or none at all) is ERROR -------


def test_parameter_group_not_read_or_not_named_is_error_and_cluster_members_stay_skipped() -> None:
    def db(name: str, groups: list[str], cluster: str | None = None) -> dict[str, Any]:
        row: dict[str, Any] = {"DBInstanceIdentifier": name, "DBInstanceArn": f"arn:aws:rds:{EU}:{ACCOUNT}:db:{name}",
                               "Engine": "mysql", "EngineVersion": "8.0",
                               "DBParameterGroups": [{"DBParameterGroupName": g} for g in groups]}  # fmt: skip
        if cluster:
            row["DBClusterIdentifier"] = cluster
        return row

    rds = {
        "instances": [db("on", ["g-on"]), db("no-group", []), db("not-read", ["g-missing"]),
                      db("member", ["g-denied"], cluster="aurora-1"), db("denied", ["g-on", "g-denied"])],
        "parameter_groups": [
            {"name": "g-on", "parameters": {"require_secure_transport": "1"}},
            {"name": "g-denied", "parameters": DENIED},
        ],
    }
    arn = f"arn:aws:rds:{EU}:{ACCOUNT}:db:"
    s = snap({"rds": rds})
    assert run("aws.rds.transport_encryption", s) == {
        f"{arn}on": "PASS", f"{arn}no-group": "ERROR", f"{arn}not-read": "ERROR", f"{arn}member": "SKIPPED",
        f"{arn}denied": "ERROR",
    }  # fmt: skip
    got = messages("aws.rds.transport_encryption", s)
    assert got[f"{arn}denied"] == "DB instance denied parameter group could not be read (tls_parameters: AccessDenied)"
    assert got[f"{arn}no-group"].endswith("(tls_parameters: NoParameterGroup)")

    def cluster(name: str, groups: list[str]) -> dict[str, Any]:
        return {"ClusterIdentifier": name, "ClusterParameterGroups": [{"ParameterGroupName": g} for g in groups]}

    rs = {"clusters": [cluster("ssl", ["g-ssl"]), cluster("no-group", []), cluster("not-read", ["g-missing"])],
          "parameter_groups": [{"name": "g-ssl", "require_ssl": "true"}]}  # fmt: skip
    rsarn = f"arn:aws:redshift:{EU}:{ACCOUNT}:cluster:"
    assert run("aws.redshift.require_ssl", snap({"redshift": rs})) == {
        f"{rsarn}ssl": "PASS", f"{rsarn}no-group": "ERROR", f"{rsarn}not-read": "ERROR"
    }


def test_trail_bucket_logging_not_read_or_malformed_is_error_for_that_trail_only() -> None:
    def trail(name: str, bucket: str) -> dict[str, Any]:
        return {"Name": name, "TrailARN": f"arn:aws:cloudtrail:{EU}:{ACCOUNT}:trail/{name}", "HomeRegion": EU,
                "S3BucketName": bucket}  # fmt: skip

    def bucket(name: str, logging: Any) -> dict[str, Any]:
        return {"name": name, "arn": f"arn:aws:s3:::{name}", "region": EU, "logging": logging}

    trails = [trail("logged", "b-logged"), trail("unlogged", "b-unlogged"), trail("denied", "b-denied"),
              trail("odd", "b-odd"), trail("outside", "b-other-account")]  # fmt: skip
    buckets = [bucket("b-logged", {"TargetBucket": "logs"}), bucket("b-unlogged", None),
               bucket("b-denied", DENIED), bucket("b-odd", "on")]  # fmt: skip
    s = snap({"cloudtrail": {"trails": trails}}, {"s3": {"buckets": buckets}})
    arn = f"arn:aws:cloudtrail:{EU}:{ACCOUNT}:trail/"
    assert run("aws.cloudtrail.bucket_access_logging", s) == {
        f"{arn}logged": "PASS", f"{arn}unlogged": "FAIL", f"{arn}denied": "ERROR", f"{arn}odd": "ERROR",
        f"{arn}outside": "SKIPPED",
    }  # fmt: skip
    assert messages("aws.cloudtrail.bucket_access_logging", s)[f"{arn}denied"] == (
        "access logging of trail bucket b-denied could not be read (bucket_logging: AccessDenied)"
    )


def test_backups_user_data_and_launch_templates_not_read_are_error_for_that_resource_only() -> None:
    def table(name: str, pitr: Any) -> dict[str, Any]:
        return {"name": name, "arn": f"arn:aws:dynamodb:{EU}:{ACCOUNT}:table/{name}", "pitr": pitr}

    tables = [table("on", {"PointInTimeRecoveryStatus": "ENABLED"}), table("off", {}), table("none", None),
              table("text", "ENABLED"), table("denied", DENIED)]  # fmt: skip
    clean = {"present": True, "detectors": [], "keys": []}
    leaky = {"present": True, "detectors": ["aws-access-key"], "keys": ["AWS_KEY"]}
    user_data = [{"id": "i-clean", "user_data": clean}, {"id": "i-leaky", "user_data": leaky},
                 {"id": "i-none", "user_data": None}, {"id": "i-denied", "user_data": DENIED}]  # fmt: skip
    hardened = {"metadata_options": {"HttpTokens": "required"}, "user_data": clean}
    templates = [{"id": "lt-ok", "name": "ok", "version": 3, "latest": hardened},
                 {"id": "lt-none", "name": "none", "version": 1, "latest": None},
                 {"id": "lt-denied", "name": "denied", "latest": DENIED}]  # fmt: skip
    s = snap({"dynamodb": {"tables": tables}, "ec2_config": {"user_data": user_data, "launch_templates": templates}})

    def t(name: str) -> str:
        return f"arn:aws:dynamodb:{EU}:{ACCOUNT}:table/{name}"

    def ec2(kind: str, rid: str) -> str:
        return f"arn:aws:ec2:{EU}:{ACCOUNT}:{kind}/{rid}"

    assert run("aws.dynamodb.pitr_enabled", s) == {
        t("on"): "PASS", t("off"): "FAIL", t("none"): "ERROR", t("text"): "ERROR", t("denied"): "ERROR"
    }
    assert run("aws.ec2.instance_user_data_no_secrets", s) == {
        ec2("instance", "i-clean"): "PASS", ec2("instance", "i-leaky"): "FAIL", ec2("instance", "i-none"): "ERROR",
        ec2("instance", "i-denied"): "ERROR",
    }  # fmt: skip
    expected = {ec2("launch-template", "lt-ok"): "PASS", ec2("launch-template", "lt-none"): "ERROR",
                ec2("launch-template", "lt-denied"): "ERROR"}  # fmt: skip
    assert run("aws.ec2.launch_template_imdsv2_required", s) == expected
    assert run("aws.ec2.launch_template_no_secrets", s) == expected


# --- S3 buckets and EFS file systems: the same rule (checks/s3.py bucket_check, storage.py) -------------

TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
}  # fmt: skip


def bucket(name: str, **parts: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"name": name, "arn": f"arn:aws:s3:::{name}", "region": EU, "policy": None,
                         "versioning": "Enabled", "mfa_delete": "Disabled", "notifications": {}}  # fmt: skip
    b.update(parts)
    return b


def test_a_bucket_part_that_is_not_of_its_shape_is_error_for_that_bucket() -> None:
    s = snap({}, {"s3": {"buckets": [
        bucket("tls", policy=TLS_ONLY),
        bucket("open", policy=PUBLIC),
        bucket("as-list", policy=AS_LIST),
        bucket("as-text", policy="{not json"),
        bucket("denied", policy=DENIED),
    ]}, "s3_account": {"public_access_block": None}})  # fmt: skip
    arn = "arn:aws:s3:::{}".format
    expected = {arn("tls"): "PASS", arn("open"): "FAIL"} | {arn(n): "ERROR" for n in ("as-list", "as-text", "denied")}
    assert run("aws.s3.bucket_tls_only", s) == expected
    assert run("aws.s3.bucket_no_public_policy", s) == expected
    got = messages("aws.s3.bucket_tls_only", s)
    assert got[arn("as-list")] == "bucket as-list could not be read (policy: MalformedAnswer)"
    errors = [f for f in AwsProvider(checks=[c for c in ALL_CHECKS if c.info.id == "aws.s3.bucket_tls_only"])
              .evaluate(s, NOW, Thresholds()) if str(f.status) == "ERROR"]  # fmt: skip
    assert {f.resource.region for f in errors} == {EU}  # the bucket's own region, not the account's


def test_notifications_mfa_delete_and_efs_policy_never_judge_what_they_could_not_read() -> None:
    s = snap({"efs": {"file_systems": [
        {"FileSystemId": "fs-open", "FileSystemArn": f"arn:aws:elasticfilesystem:{EU}:{ACCOUNT}:file-system/fs-open",
         "policy": PUBLIC, "backup_policy": "ENABLED"},
        {"FileSystemId": "fs-list", "FileSystemArn": f"arn:aws:elasticfilesystem:{EU}:{ACCOUNT}:file-system/fs-list",
         "policy": AS_LIST, "backup_policy": "ENABLED"},
    ]}}, {"s3": {"buckets": [
        bucket("sends", notifications={"QueueConfigurations": 1}),
        bucket("silent", notifications={}),
        bucket("text", notifications="QueueConfigurations"),
        bucket("mfa-on", mfa_delete="Enabled"),
        bucket("versioning-denied", versioning=DENIED),
    ]}})  # fmt: skip
    arn = "arn:aws:s3:::{}".format
    assert run("aws.s3.bucket_event_notifications", s) == {
        arn("sends"): "PASS", arn("silent"): "FAIL", arn("text"): "ERROR", arn("mfa-on"): "FAIL",
        arn("versioning-denied"): "FAIL",
    }  # fmt: skip
    mfa = run("aws.s3.bucket_mfa_delete", s)
    assert mfa[arn("mfa-on")] == "PASS" and mfa[arn("versioning-denied")] == "ERROR" and mfa[arn("sends")] == "FAIL"
    fs = f"arn:aws:elasticfilesystem:{EU}:{ACCOUNT}:file-system/"
    assert run("aws.efs.policy_not_public", s) == {fs + "fs-open": "FAIL", fs + "fs-list": "ERROR"}
