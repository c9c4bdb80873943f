"""Logging and detection: CloudTrail, CloudWatch metric filters and alarms, Config, GuardDuty, Security Hub.

Cross-service joins (trail -> status -> log group -> metric filter -> alarm; trail ->
bucket) only conclude from what was read: a trail whose status could not be read is
neither logging nor stopped. An alarm check PASSes only through a trail known to be
logging; it FAILs only when no chain could pass whatever the unread status is; otherwise
it is ERROR, naming the trail and the AWS error code. A region whose trails could not be
read stops every check that looks at all the account's trails (`DataUnavailable`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import public_grants, public_statements
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import (
    AwsCheck,
    CheckInput,
    CollectError,
    DataUnavailable,
    Outcome,
    Scope,
    errored,
    failed,
    info,
    passed,
    skipped,
    verdict,
)

TRAIL = "AWS::CloudTrail::Trail"


def all_trails(inp: CheckInput) -> list[dict[str, Any]]:
    """Every trail of the account once (shadow copies in other regions dropped, a copy whose
    status was read preferred). DataUnavailable if some scanned region's trails could not be
    read: a trail there may be the one that matters."""
    seen: dict[str, dict[str, Any]] = {}
    for region, data in inp.by_region("cloudtrail").items():
        if isinstance(data, CollectError):
            raise DataUnavailable(f"cloudtrail@{region}", data)
        for t in data["trails"]:
            key = t.get("TrailARN") or t["Name"]
            have = seen.get(key)
            if have is None or (status_error(have) is not None and status_error(t) is None):
                seen[key] = t
    return [seen[k] for k in sorted(seen)]


def status_error(t: dict[str, Any]) -> CollectError | None:
    st = t.get("status")
    if isinstance(st, CollectError):
        return st
    return None if isinstance(st, dict) else CollectError("NotRead", "GetTrailStatus was not called")


def home_trails(inp: CheckInput) -> list[dict[str, Any]]:
    return [t for t in inp.data("cloudtrail")["trails"] if (t.get("HomeRegion") or inp.region) == inp.region]


def is_logging(t: dict[str, Any]) -> bool | None:
    st = t.get("status")
    if isinstance(st, CollectError) or st is None:
        return None
    return bool(st.get("IsLogging"))


def unread_statuses(trails: list[dict[str, Any]]) -> dict[str, str]:
    """Trail name -> AWS error code, for trails whose status could not be read."""
    return {t["Name"]: err.code for t in trails if (err := status_error(t)) is not None}


def any_trail_outcome(
    rid: str, good: list[str], unread: dict[str, str], ev: dict[str, Any], passed_msg: str, unread_what: str,
    failed_msg: str,
) -> Outcome:
    """An account-wide trail property: PASS only when a trail is known to have it (`good`); ERROR when none is
    known to and some trail's deciding setting could not be read (`unread`: name -> AWS error code), since that
    trail might; FAIL only when every trail was read and none has it. Never PASS by default."""
    if good:
        return passed(rid, "AWS::CloudTrail::Account", passed_msg, ev)
    if unread:
        return errored(
            rid,
            "AWS::CloudTrail::Account",
            f"{unread_what} could not be read for " + ", ".join(f"{n} ({c})" for n, c in sorted(unread.items())),
            {**ev, "unread": dict(sorted(unread.items()))},
        )
    return failed(rid, "AWS::CloudTrail::Account", failed_msg, ev)


def check_multi_region(inp: CheckInput) -> Iterator[Outcome]:
    trails = all_trails(inp)
    good = [t["Name"] for t in trails if t.get("IsMultiRegionTrail") and is_logging(t)]
    unknown = unread_statuses([t for t in trails if t.get("IsMultiRegionTrail")])
    ev: dict[str, Any] = {
        "multi_region_logging_trails": good,
        "trails": [t["Name"] for t in trails],
        **inp.region_scope(),
    }
    yield any_trail_outcome(
        f"arn:aws:cloudtrail::{inp.account}:account",
        good,
        unknown,
        ev,
        f"multi-region trail(s) logging: {', '.join(good)}",
        "trail status (cloudtrail:GetTrailStatus)",
        f"no multi-region trail is logging ({len(trails)} trails found; expected at least one)",
    )


def trail_check(
    judge: Callable[[CheckInput, dict[str, Any]], Outcome], needs_status: bool = False
) -> Callable[[CheckInput], Iterator[Outcome]]:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        for t in home_trails(inp):
            if needs_status and (err := status_error(t)) is not None:
                yield errored(
                    t["TrailARN"],
                    TRAIL,
                    f"trail {t['Name']} status could not be read (cloudtrail:GetTrailStatus: {err.code})",
                    {"error_code": err.code},
                    inp.region,
                )
                continue
            yield judge(inp, t)

    return check


def judge_logging(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    on = bool(is_logging(t))
    return verdict(
        on,
        t["TrailARN"],
        TRAIL,
        f"trail {t['Name']} logging is {'on' if on else 'off (expected: on)'}",
        {"IsLogging": on},
        inp.region,
    )


def judge_validation(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    on = bool(t.get("LogFileValidationEnabled"))
    return verdict(
        on,
        t["TrailARN"],
        TRAIL,
        f"trail {t['Name']} log file validation is {'on' if on else 'off (expected: on)'}",
        {"LogFileValidationEnabled": on},
        inp.region,
    )


def judge_kms(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    key = t.get("KmsKeyId")
    return verdict(
        bool(key),
        t["TrailARN"],
        TRAIL,
        f"trail {t['Name']} " + ("encrypts logs with KMS" if key else "does not use a KMS key (expected: SSE-KMS)"),
        {"KmsKeyId": key},
        inp.region,
    )


def judge_cw(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    group = t.get("CloudWatchLogsLogGroupArn")
    return verdict(
        bool(group),
        t["TrailARN"],
        TRAIL,
        f"trail {t['Name']} "
        + ("delivers to CloudWatch Logs" if group else "does not deliver to CloudWatch Logs (expected: a log group)"),
        {"CloudWatchLogsLogGroupArn": group},
        inp.region,
    )


def trails_with_bucket(inp: CheckInput, parts: tuple[str, ...] = ("acl", "policy")) -> list[dict[str, Any]]:
    """This region's trails, each with its bucket's `parts` (`bucket_acl`, `bucket_policy`, ...; None when
    the bucket is outside this account, `bucket_in_account` False)."""
    buckets = {b["name"]: b for b in inp.data("s3")["buckets"]}
    rows = []
    for t in home_trails(inp):
        b = buckets.get(t.get("S3BucketName") or "")
        shown = {f"bucket_{p}": None if b is None else b.get(p) for p in parts}
        rows.append({**t, "bucket_in_account": b is not None, **shown})
    return rows


def bucket_elsewhere(inp: CheckInput, t: dict[str, Any]) -> Outcome | None:
    """SKIPPED for a trail whose bucket is in another account (nothing of it was read); else None."""
    if t["bucket_in_account"]:
        return None
    name = t.get("S3BucketName")
    return skipped(
        t["TrailARN"], TRAIL, f"trail {t['Name']} logs to bucket {name} outside this account", {"bucket": name},
        inp.region,
    )  # fmt: skip


def judge_trail_bucket(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    elsewhere = bucket_elsewhere(inp, t)
    if elsewhere is not None:
        return elsewhere
    name = t.get("S3BucketName")
    ev: dict[str, Any] = {"bucket": name}
    public_acl = public_grants(t["bucket_acl"])
    policy = t["bucket_policy"]
    public_policy = public_statements(policy) if policy is not None else []
    ev.update(public_acl_grants=len(public_acl), public_policy_statements=public_policy)
    ok = not public_acl and not public_policy
    return verdict(
        ok,
        t["TrailARN"],
        TRAIL,
        f"trail bucket {name} is " + ("not public" if ok else "public (expected: private)"),
        ev,
        inp.region,
    )


def bucket_in_account_needs_acl(t: dict[str, Any]) -> dict[str, Any]:
    """A bucket in this account always has an ACL answer: none at all counts as not read."""
    if t["bucket_in_account"] and t["bucket_acl"] is None:
        return {**t, "bucket_acl": CollectError("NoAnswer", "no ACL answer for the bucket")}
    return t


# A trail bucket whose ACL or policy could not be read, or came back as something else than a list of
# grants / a JSON object, is ERROR for the trail naming the field and code.
check_trail_bucket = per_resource(
    lambda inp: [bucket_in_account_needs_acl(t) for t in trails_with_bucket(inp)], lambda t: str(t["TrailARN"]),
    TRAIL, lambda t: f"trail bucket {t.get('S3BucketName')}", ("bucket_acl", "bucket_policy"), judge_trail_bucket,
    {"bucket_acl": list, "bucket_policy": dict},
)  # fmt: skip


# --- CloudWatch metric filters and alarms for security events (CIS 4.x) -------------

ALARM_PATTERNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unauthorized_api_calls": ("unauthorised API calls", ("UnauthorizedOperation", "AccessDenied")),
    "root_usage": ("use of the root user", ("Root", "userIdentity.type", "AwsServiceEvent")),
    "iam_policy_changes": ("IAM policy changes", ("PutUserPolicy", "AttachRolePolicy", "DeletePolicy")),
    "console_login_no_mfa": ("console sign-in without MFA", ("ConsoleLogin", "MFAUsed")),
    "security_group_changes": ("security group changes", ("AuthorizeSecurityGroupIngress", "CreateSecurityGroup")),
    "nacl_changes": ("network ACL changes", ("CreateNetworkAclEntry", "DeleteNetworkAcl")),
    "network_gateway_changes": ("network gateway changes", ("CreateCustomerGateway", "AttachInternetGateway")),
    "route_table_changes": ("route table changes", ("CreateRoute", "ReplaceRouteTableAssociation")),
    "vpc_changes": ("VPC changes", ("CreateVpc", "DeleteVpc", "ModifyVpcAttribute")),
    "cloudtrail_changes": ("CloudTrail configuration changes", ("CreateTrail", "StopLogging", "DeleteTrail")),
    # CIS v3.0.0 4.6-4.9 and 4.15 (governance group)
    "console_auth_failures": ("console authentication failures", ("ConsoleLogin", "Failed authentication")),
    "cmk_disable_or_deletion": (
        "disabling or scheduled deletion of KMS keys",
        ("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
    ),
    "s3_bucket_policy_changes": (
        "S3 bucket policy changes",
        ("s3.amazonaws.com", "PutBucketPolicy", "DeleteBucketPolicy"),
    ),
    "config_changes": (
        "AWS Config configuration changes",
        ("config.amazonaws.com", "StopConfigurationRecorder", "DeleteDeliveryChannel"),
    ),
    "organizations_changes": (
        "AWS Organizations changes",
        ("organizations.amazonaws.com", "AttachPolicy", "LeaveOrganization"),
    ),
}


def parse_log_group_arn(arn: str) -> tuple[str, str] | None:
    """arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*] -> (region, name)."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return parts[3], parts[6]


def alarm_check(key: str) -> Callable[[CheckInput], Iterator[Outcome]]:
    label, tokens = ALARM_PATTERNS[key]

    def check(inp: CheckInput) -> Iterator[Outcome]:
        rid = f"arn:aws:cloudwatch::{inp.account}:security-alarm/{key}"
        rtype = "AWS::CloudWatch::Alarm"
        # Multi-region trails that deliver to CloudWatch Logs and are logging, or whose status
        # could not be read (error code): a stopped trail cannot back the alarm, an unknown one
        # may or may not.
        groups: list[tuple[str, tuple[str, str], str | None]] = []
        for t in all_trails(inp):
            arn = t.get("CloudWatchLogsLogGroupArn")
            parsed = parse_log_group_arn(arn) if arn else None
            if not t.get("IsMultiRegionTrail") or parsed is None:
                continue
            err = status_error(t)
            if err is None and not is_logging(t):
                continue
            groups.append((t["Name"], parsed, err.code if err else None))
        ev: dict[str, Any] = {"event": label, "pattern_terms": list(tokens), **inp.region_scope()}
        if not groups:
            yield failed(
                rid,
                rtype,
                f"no alarm for {label}: no logging multi-region trail sends to CloudWatch Logs "
                "(expected: trail -> log group -> metric filter -> alarm)",
                ev,
            )
            return
        unscanned = []
        unproven: dict[str, Any] | None = None  # a chain through a trail whose status was not read
        for trail, (region, group), status_code in groups:
            if region not in inp.snapshot.regions:
                unscanned.append(region)
                continue
            filters = inp.snapshot.get("logs", region)["metric_filters"]
            alarms = inp.snapshot.get("cloudwatch", region)["alarms"]
            for mf in filters:
                pattern = str(mf.get("filterPattern") or "")
                if mf.get("logGroupName") != group or not all(tok in pattern for tok in tokens):
                    continue
                metrics = {
                    (m.get("metricNamespace"), m.get("metricName")) for m in mf.get("metricTransformations") or []
                }
                for alarm in alarms:
                    if (alarm.get("Namespace"), alarm.get("MetricName")) in metrics and alarm.get("AlarmActions"):
                        chain = {
                            "trail": trail,
                            "log_group": group,
                            "metric_filter": mf.get("filterName"),
                            "alarm": alarm.get("AlarmName"),
                            "alarm_actions": len(alarm["AlarmActions"]),
                        }
                        if status_code is None:
                            ev.update(chain)
                            yield passed(rid, rtype, f"alarm {alarm.get('AlarmName')} fires on {label}", ev)
                            return
                        if unproven is None:
                            unproven = {**chain, "trail_status_error": status_code}
        if unproven is not None:
            ev.update(unproven)
            yield errored(
                rid,
                rtype,
                f"alarm {unproven['alarm']} fires on {label}, but whether trail {unproven['trail']} is logging "
                f"could not be read (cloudtrail:GetTrailStatus: {unproven['trail_status_error']})",
                ev,
            )
            return
        if unscanned:
            ev["unscanned_regions"] = sorted(set(unscanned))
            yield errored(rid, rtype, f"log group region(s) {', '.join(sorted(set(unscanned)))} were not scanned", ev)
            return
        ev["log_groups"] = [g[1][1] for g in groups if g[1]]
        yield failed(
            rid,
            rtype,
            f"no metric filter with an alarm action watches for {label} "
            "(expected: a filter on the trail's log group and an alarm with an action)",
            ev,
        )

    return check


def check_config_recorder(inp: CheckInput) -> Iterator[Outcome]:
    data = inp.data("config")
    recording = {s.get("name"): bool(s.get("recording")) for s in data["statuses"]}
    names = [r.get("name") for r in data["recorders"]]
    active = [n for n in names if recording.get(n)]
    all_types = [r.get("name") for r in data["recorders"] if (r.get("recordingGroup") or {}).get("allSupported")]
    ok = bool(active) and any(n in all_types for n in active)
    rid = f"arn:aws:config:{inp.region}:{inp.account}:configuration-recorder"
    msg = (
        f"Config recorder {', '.join(active)} records all resource types in {inp.region}"
        if ok
        else f"no Config recorder records all resources in {inp.region} "
        f"(recorders: {names or 'none'}, recording: {active or 'none'}; expected: one recording all types)"
    )
    yield verdict(
        ok,
        rid,
        "AWS::Config::ConfigurationRecorder",
        f"{msg}; {inp.scanned_regions_text()}",
        {"recorders": names, "recording": active, "all_supported": all_types, **inp.region_scope()},
        inp.region,
    )


def check_guardduty(inp: CheckInput) -> Iterator[Outcome]:
    detectors = inp.data("guardduty")["detectors"]
    enabled = [d["id"] for d in detectors if d.get("Status") == "ENABLED"]
    rid = f"arn:aws:guardduty:{inp.region}:{inp.account}:detector"
    msg = (
        f"GuardDuty detector {enabled[0]} is enabled in {inp.region}"
        if enabled
        else f"GuardDuty is not enabled in {inp.region} ({len(detectors)} detectors; expected: one enabled)"
    )
    yield verdict(
        bool(enabled),
        rid,
        "AWS::GuardDuty::Detector",
        f"{msg}; {inp.scanned_regions_text()}",
        {"detectors": [d["id"] for d in detectors], "enabled": enabled, **inp.region_scope()},
        inp.region,
    )


def check_securityhub(inp: CheckInput) -> Iterator[Outcome]:
    hub = inp.data("securityhub")["hub"]
    rid = f"arn:aws:securityhub:{inp.region}:{inp.account}:hub/default"
    ok = hub is not None
    msg = f"Security Hub is {'enabled' if ok else 'not enabled (expected: enabled)'} in {inp.region}"
    ev = {"enabled": ok, "subscribed_at": (hub or {}).get("SubscribedAt"), **inp.region_scope()}
    yield verdict(ok, rid, "AWS::SecurityHub::Hub", f"{msg}; {inp.scanned_regions_text()}", ev, inp.region)


def _trail(name: str, title: str, sev: Severity, risk: str, fix: str, fn: Any, needs_status: bool = False) -> AwsCheck:
    return AwsCheck(
        info(f"aws.cloudtrail.{name}", title, sev, TRAIL, risk, fix),
        ("cloudtrail",),
        Scope.REGION,
        trail_check(fn, needs_status),
    )


def _alarm(key: str) -> AwsCheck:
    label = ALARM_PATTERNS[key][0]
    return AwsCheck(
        info(
            f"aws.cloudwatch.alarm_{key}",
            f"An alarm fires on {label}",
            Severity.MEDIUM,
            "AWS::CloudWatch::Alarm",
            f"Without a metric filter and alarm, {label} go unnoticed until someone reads the logs.",
            f"Create a metric filter for {label} on the CloudTrail log group and an alarm with an SNS action.",
        ),
        ("cloudtrail", "logs", "cloudwatch"),
        Scope.ACCOUNT,
        alarm_check(key),
    )


CHECKS: list[AwsCheck] = [
    AwsCheck(
        info(
            "aws.cloudtrail.multi_region_trail",
            "A multi-region CloudTrail trail is logging",
            Severity.HIGH,
            "AWS::CloudTrail::Account",
            "API activity in regions without a trail leaves no audit record.",
            "Create a multi-region trail (or an organization trail) and start logging.",
        ),
        ("cloudtrail",),
        Scope.ACCOUNT,
        check_multi_region,
    ),
    _trail(
        "trail_logging",
        "CloudTrail trails are logging",
        Severity.HIGH,
        "A stopped trail records nothing; stopping it is a classic attacker step.",
        "Start logging on the trail and alarm on StopLogging.",
        judge_logging,
        needs_status=True,
    ),
    _trail(
        "log_file_validation",
        "CloudTrail log file validation is on",
        Severity.MEDIUM,
        "Without digest files nobody can prove the logs were not altered.",
        "Enable log file validation on the trail.",
        judge_validation,
    ),
    _trail(
        "kms_encryption",
        "CloudTrail logs are encrypted with KMS",
        Severity.MEDIUM,
        "Logs encrypted only with SSE-S3 are readable by anyone with S3 read on the bucket.",
        "Configure the trail with a customer managed KMS key.",
        judge_kms,
    ),
    _trail(
        "cloudwatch_logs",
        "CloudTrail delivers to CloudWatch Logs",
        Severity.MEDIUM,
        "Without CloudWatch delivery there are no real-time metric filters or alarms.",
        "Configure a CloudWatch Logs log group and role on the trail.",
        judge_cw,
    ),
    AwsCheck(
        info(
            "aws.cloudtrail.bucket_not_public",
            "The CloudTrail bucket is not public",
            Severity.CRITICAL,
            TRAIL,
            "A public log bucket exposes the whole account's activity to attackers.",
            "Remove public ACL grants and public policy statements from the trail's bucket.",
        ),
        ("cloudtrail", "s3"),
        Scope.REGION,
        check_trail_bucket,
        parts=("s3.acl", "s3.policy"),
    ),
    *[_alarm(k) for k in ALARM_PATTERNS],
    AwsCheck(
        info(
            "aws.config.recorder_enabled",
            "AWS Config records all resources in every scanned region",
            Severity.MEDIUM,
            "AWS::Config::ConfigurationRecorder",
            "Without a configuration history, changes cannot be reconstructed.",
            "Create and start a configuration recorder for all supported resource types in each region.",
        ),
        ("config",),
        Scope.REGION,
        check_config_recorder,
    ),
    AwsCheck(
        info(
            "aws.guardduty.detector_enabled",
            "GuardDuty is enabled in every scanned region",
            Severity.MEDIUM,
            "AWS::GuardDuty::Detector",
            "Threats such as credential exfiltration go undetected.",
            "Enable GuardDuty in every region (delegated administrator for organizations).",
        ),
        ("guardduty",),
        Scope.REGION,
        check_guardduty,
    ),
    AwsCheck(
        info(
            "aws.securityhub.enabled",
            "Security Hub is enabled in every scanned region",
            Severity.MEDIUM,
            "AWS::SecurityHub::Hub",
            "Findings from AWS services are not aggregated or triaged.",
            "Enable Security Hub with the foundational best-practices standard in each region.",
        ),
        ("securityhub",),
        Scope.REGION,
        check_securityhub,
    ),
]
