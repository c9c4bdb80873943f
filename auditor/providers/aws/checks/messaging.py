"""Messaging and secrets (issue 15): SNS topics, SQS queues, Secrets Manager use and resource policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import age_days, iso, parse_time
from auditor.providers.aws.checks.keys import SECRET
from auditor.providers.aws.checks.resources import part, per_resource, public_statements
from auditor.providers.aws.model import AwsCheck, CheckInput, CollectError, Outcome, Scope, errored, info, verdict

TOPIC = "AWS::SNS::Topic"
QUEUE = "AWS::SQS::Queue"


def topics(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("sns")["topics"])


def topic_label(t: dict[str, Any]) -> str:
    return f"topic {t['name']}"


def judge_topic_kms(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    key = t["attributes"].get("KmsMasterKeyId") or None
    msg = f"{topic_label(t)} " + (f"encrypts with KMS key {key}" if key else "is not encrypted (expected: a KMS key)")
    return verdict(bool(key), t["arn"], TOPIC, msg, {"KmsMasterKeyId": key}, inp.region)


def judge_policy(rtype: str, label: Any) -> Any:
    def judge(inp: CheckInput, r: dict[str, Any]) -> Outcome:
        public = public_statements(r["policy"])
        msg = (
            f"{label(r)} policy allows no unrestricted public access"
            if not public
            else f"{label(r)} policy allows anyone ({', '.join(public)}) "
            "(expected: named principals, or a source account/ARN/organisation condition)"
        )
        ev = {"has_policy": r["policy"] is not None, "public_statements": public}
        return verdict(not public, r["arn"], rtype, msg, ev, inp.region)

    return judge


def check_topic_https(inp: CheckInput) -> Iterator[Outcome]:
    subs = part(inp, "sns", "subscriptions")
    for t in topics(inp):
        mine = [x for x in subs if x.get("TopicArn") == t["arn"]]
        plain = sorted(
            str(x.get("SubscriptionArn") or "").rsplit(":", 1)[-1] for x in mine if x.get("Protocol") == "http"
        )
        ev = {"subscriptions": len(mine), "http_subscriptions": plain}
        msg = (
            f"{topic_label(t)} delivers to no plain-HTTP endpoint ({len(mine)} subscription(s))"
            if not plain
            else f"{topic_label(t)} delivers over plain HTTP to {len(plain)} subscription(s) {', '.join(plain)} "
            "(expected: https endpoints)"
        )
        yield verdict(not plain, t["arn"], TOPIC, msg, ev, inp.region)


def queues(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("sqs")["queues"])


def queue_label(q: dict[str, Any]) -> str:
    return f"queue {q['name']}"


def judge_queue_sse(inp: CheckInput, q: dict[str, Any]) -> Outcome:
    attrs = q["attributes"]
    key = attrs.get("KmsMasterKeyId") or None
    managed = str(attrs.get("SqsManagedSseEnabled", "false")).lower() == "true"
    ok = bool(key) or managed
    how = f"KMS key {key}" if key else "SQS managed keys (SSE-SQS)" if managed else ""
    msg = f"{queue_label(q)} " + (f"encrypts with {how}" if ok else "is not encrypted (expected: SSE-SQS or SSE-KMS)")
    return verdict(ok, q["arn"], QUEUE, msg, {"KmsMasterKeyId": key, "SqsManagedSseEnabled": managed}, inp.region)


# --- Secrets Manager ------------------------------------------------------------------


def check_secret_unused(inp: CheckInput) -> Iterator[Outcome]:
    limit = inp.thresholds.secret_max_age_days
    for s in inp.data("secretsmanager")["secrets"]:
        accessed = parse_time(s.get("LastAccessedDate"))
        created = parse_time(s.get("CreatedDate"))
        ev: dict[str, Any] = {"last_accessed": iso(accessed), "created": iso(created), "max_unused_days": limit}
        if accessed is None and created is None:
            yield errored(
                s["ARN"], SECRET, f"secret {s['Name']}: ListSecrets gave no access or creation date", ev, inp.region
            )
            continue
        since = accessed or created
        assert since is not None
        days = age_days(since, inp.now)
        ev["days_unused"] = days
        what = "last accessed" if accessed else "never accessed; created"
        ok = days <= limit
        msg = f"secret {s['Name']} {what} {days} days ago" + (
            "" if ok else f" (expected: used within {limit} days, or deleted)"
        )
        yield verdict(ok, s["ARN"], SECRET, msg, ev, inp.region)


def check_secret_policy(inp: CheckInput) -> Iterator[Outcome]:
    policies = {p["arn"]: p["policy"] for p in part(inp, "secretsmanager", "policies")}
    # A secret listed without a policy answer was not asked about: ERROR, never "no policy".
    unread = CollectError("NotCollected", "no resource policy answer for this secret")
    rows = [
        {"arn": s["ARN"], "name": s["Name"], "policy": policies.get(s["ARN"], unread)}
        for s in inp.data("secretsmanager")["secrets"]
    ]
    judge = per_resource(
        lambda _: rows,
        lambda r: str(r["arn"]),
        SECRET,
        lambda r: f"secret {r['name']}",
        ("policy",),
        judge_policy(SECRET, lambda r: f"secret {r['name']}"),
        {"policy": dict},
    )
    yield from judge(inp)


# A policy (attributes) answer that is not a JSON object cannot be judged: ERROR (MalformedAnswer).
POLICY_KINDS: dict[str, type] = {"policy": dict, "attributes": dict}
ATTRIBUTE_KINDS: dict[str, type] = {"attributes": dict}


CHECKS: list[AwsCheck] = [
    AwsCheck(
        info(
            "aws.sns.topic_encrypted",
            "SNS topics are encrypted with KMS",
            Severity.MEDIUM,
            TOPIC,
            "Messages at rest in the topic (often personal data in notifications) are not protected by a key policy.",
            "Set the topic's KmsMasterKeyId (alias/aws/sns or a customer managed key).",
        ),
        ("sns",),
        Scope.REGION,
        per_resource(
            topics, lambda t: str(t["arn"]), TOPIC, topic_label, ("attributes",), judge_topic_kms, ATTRIBUTE_KINDS,
            required=("attributes",),
        ),
    ),
    AwsCheck(
        info(
            "aws.sns.topic_policy_not_public",
            "SNS topic policies do not allow anyone",
            Severity.HIGH,
            TOPIC,
            "Anyone can publish to (spam, phish through) or subscribe to (read) a public topic.",
            'Restrict Allow statements for Principal "*" with aws:SourceOwner/SourceAccount/PrincipalOrgID.',
        ),
        ("sns",),
        Scope.REGION,
        per_resource(
            topics,
            lambda t: str(t["arn"]),
            TOPIC,
            topic_label,
            ("attributes", "policy"),
            judge_policy(TOPIC, topic_label),
            POLICY_KINDS,
        ),
    ),
    AwsCheck(
        info(
            "aws.sns.subscriptions_https",
            "SNS topics deliver only over HTTPS",
            Severity.MEDIUM,
            TOPIC,
            "Messages delivered to http:// endpoints cross the internet in clear text.",
            "Replace http subscriptions by https endpoints.",
            description="A topic with a subscription whose protocol is http FAILs; endpoints are never stored "
            "(webhook URLs often carry tokens), only subscription ids.",
        ),
        ("sns",),
        Scope.REGION,
        check_topic_https,
    ),
    AwsCheck(
        info(
            "aws.sqs.queue_encrypted",
            "SQS queues are encrypted at rest",
            Severity.MEDIUM,
            QUEUE,
            "Queued messages are stored unencrypted.",
            "Enable SSE-SQS (SqsManagedSseEnabled) or SSE-KMS (KmsMasterKeyId) on the queue.",
        ),
        ("sqs",),
        Scope.REGION,
        per_resource(
            queues, lambda q: str(q["arn"]), QUEUE, queue_label, ("attributes",), judge_queue_sse, ATTRIBUTE_KINDS,
            required=("attributes",),
        ),
    ),
    AwsCheck(
        info(
            "aws.sqs.queue_policy_not_public",
            "SQS queue policies do not allow anyone",
            Severity.HIGH,
            QUEUE,
            "Anyone can send to, read from or purge a queue whose policy allows every principal.",
            'Restrict Allow statements for Principal "*" with aws:SourceArn/SourceAccount/PrincipalOrgID.',
        ),
        ("sqs",),
        Scope.REGION,
        per_resource(
            queues,
            lambda q: str(q["arn"]),
            QUEUE,
            queue_label,
            ("attributes", "policy"),
            judge_policy(QUEUE, queue_label),
            POLICY_KINDS,
        ),
    ),
    AwsCheck(
        info(
            "aws.secretsmanager.unused_secret",
            "Secrets Manager secrets are in use",
            Severity.LOW,
            SECRET,
            "A secret nobody reads is a live credential nobody watches; it should be deleted or revoked.",
            "Delete the secret (and revoke the credential it holds) if it is no longer needed.",
            description="A secret whose LastAccessedDate (else CreatedDate) is older than "
            "thresholds.secret_max_age_days (default 90) FAILs. AWS records access dates per day.",
        ),
        ("secretsmanager",),
        Scope.REGION,
        check_secret_unused,
    ),
    AwsCheck(
        info(
            "aws.secretsmanager.policy_not_public",
            "Secrets Manager resource policies do not allow anyone",
            Severity.CRITICAL,
            SECRET,
            "A secret policy that allows every principal lets other accounts read the credential.",
            'Remove Allow statements for Principal "*" or pin them to your account or organisation.',
        ),
        ("secretsmanager",),
        Scope.REGION,
        check_secret_policy,
    ),
]
