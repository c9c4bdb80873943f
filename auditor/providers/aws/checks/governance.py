"""Governance for the CIS AWS Foundations Benchmark v3.0.0: IAM extras, account contacts,
Organizations, Access Analyzer, CloudTrail event selectors and bucket logging, Config delivery.

Like the other modules, each check reads the parts it needs through `CheckInput.part`, so a
part that could not be read (the credential report, the virtual MFA list) makes exactly the
checks that read it ERROR, never a PASS or FAIL judged on missing data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import age_days, iso, parse_time
from auditor.providers.aws.checks.iam import ROOT_TYPE, USER_TYPE, console_users, root_arn
from auditor.providers.aws.checks.monitoring import any_trail_outcome, bucket_elsewhere, trails_with_bucket
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

SECURITY_AUDIT_ARN = "arn:aws:iam::aws:policy/SecurityAudit"
ACCOUNT_TYPE = "AWS::IAM::Account"
TRAIL = "AWS::CloudTrail::Trail"
ROOT_RECENT_USE_DAYS = 30  # root sign-ins or key use within this window FAIL (CIS 1.7: avoid root use)
S3_OBJECT = "AWS::S3::Object"


def account_arn(inp: CheckInput) -> str:
    return f"arn:aws:iam::{inp.account}:root"


# --- IAM ---------------------------------------------------------------------------------


def check_root_hardware_mfa(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.6: the root user's MFA is a hardware device (a virtual device on root FAILs)."""
    summary = inp.part("iam", "summary")
    enabled = summary.get("AccountMFAEnabled")
    if enabled is None:
        yield errored(root_arn(inp), ROOT_TYPE, "GetAccountSummary did not report AccountMFAEnabled", {})
        return
    virtual = [
        d.get("SerialNumber")
        for d in inp.part("iam_extra", "virtual_mfa_devices")
        if str(d.get("SerialNumber", "")).endswith(":mfa/root-account-mfa-device")
        or str((d.get("User") or {}).get("Arn", "")).endswith(":root")
    ]
    ev = {"AccountMFAEnabled": enabled, "root_virtual_mfa_devices": virtual}
    if enabled != 1:
        yield failed(root_arn(inp), ROOT_TYPE, "root user has no MFA device (expected: a hardware MFA device)", ev)
    elif virtual:
        yield failed(
            root_arn(inp), ROOT_TYPE, "root user's MFA is a virtual device (expected: a hardware MFA device)", ev
        )
    else:
        yield passed(root_arn(inp), ROOT_TYPE, "root user's MFA is a hardware device (no virtual MFA on root)", ev)


def check_user_hardware_mfa(inp: CheckInput) -> Iterator[Outcome]:
    """Console users' MFA is a hardware device: a virtual device assigned to the user, or no MFA, FAILs."""
    virtual: dict[str, list[str]] = {}
    for d in inp.part("iam_extra", "virtual_mfa_devices"):
        user_arn = (d.get("User") or {}).get("Arn")
        if user_arn and not str(user_arn).endswith(":root"):
            virtual.setdefault(str(user_arn), []).append(str(d.get("SerialNumber")))
    for row in console_users(inp):
        mfa = row.get("mfa_active") == "true"
        devices = sorted(virtual.get(row["arn"], []))
        ev = {"user": row["user"], "mfa_active": mfa, "virtual_mfa_devices": devices}
        if not mfa:
            msg = f"console user {row['user']} has no MFA device (expected: a hardware MFA device)"
        elif devices:
            msg = f"console user {row['user']} uses a virtual MFA device (expected: a hardware MFA device)"
        else:
            msg = f"console user {row['user']} has MFA and no virtual MFA device (hardware or security key)"
        yield verdict(mfa and not devices, row["arn"], USER_TYPE, msg, ev)


def check_no_initial_access_key(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.11: console users have no active access key that was never used (set up with the user)."""
    for row in console_users(inp):
        unused = [
            int(slot)
            for slot in ("1", "2")
            if row.get(f"access_key_{slot}_active") == "true"
            and parse_time(row.get(f"access_key_{slot}_last_used_date")) is None
        ]
        ev = {"user": row["user"], "never_used_active_keys": unused}
        msg = (
            f"console user {row['user']} has no active access key that was never used"
            if not unused
            else f"console user {row['user']} has active access key(s) {unused} never used "
            "(expected: no keys created at user setup)"
        )
        yield verdict(not unused, row["arn"], USER_TYPE, msg, ev)


def check_single_active_key(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.13: at most one active access key per user."""
    for row in inp.part("iam", "credential_report"):
        if row.get("user") == "<root_account>":
            continue
        active = [int(s) for s in ("1", "2") if row.get(f"access_key_{s}_active") == "true"]
        if not active:
            continue
        ev = {"user": row["user"], "active_keys": active}
        msg = (
            f"user {row['user']} has one active access key"
            if len(active) == 1
            else f"user {row['user']} has {len(active)} active access keys (expected: at most one)"
        )
        yield verdict(len(active) <= 1, row["arn"], USER_TYPE, msg, ev)


def check_expired_server_certificates(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.19: expired server certificates stored in IAM are removed."""
    for cert in inp.part("iam_extra", "server_certificates"):
        name = cert.get("ServerCertificateName")
        rid = cert.get("Arn") or f"arn:aws:iam::{inp.account}:server-certificate/{name}"
        expires = parse_time(cert.get("Expiration"))
        ev: dict[str, Any] = {"certificate": name, "expiration": iso(expires)}
        if expires is None:
            yield errored(rid, "AWS::IAM::ServerCertificate", f"server certificate {name} has no expiration date", ev)
            continue
        ok = expires > inp.now
        msg = (
            f"server certificate {name} is valid until {expires.date().isoformat()}"
            if ok
            else f"server certificate {name} expired on {expires.date().isoformat()} (expected: expired ones deleted)"
        )
        yield verdict(ok, rid, "AWS::IAM::ServerCertificate", msg, ev)


def check_security_audit_role(inp: CheckInput) -> Iterator[Outcome]:
    roles = sorted(
        r["RoleName"]
        for r in inp.part("iam", "roles")
        if any(p["PolicyArn"] == SECURITY_AUDIT_ARN for p in r.get("AttachedManagedPolicies") or [])
    )
    msg = (
        f"role(s) {', '.join(roles)} hold SecurityAudit"
        if roles
        else "no role holds SecurityAudit (expected: a read-only role for security reviews)"
    )
    yield verdict(bool(roles), account_arn(inp), ACCOUNT_TYPE, msg, {"security_audit_roles": roles})


def check_federation(inp: CheckInput) -> Iterator[Outcome]:
    """People sign in through an identity provider (SAML or OIDC) rather than IAM user passwords.

    No provider is a FAIL only when IAM users do sign in to the console; without console users
    (access through IAM Identity Center, or no human access) there is nothing to move."""
    saml = [str(p.get("Arn", "")).rsplit("/", 1)[-1] for p in inp.part("iam_extra", "saml_providers")]
    oidc = [str(p.get("Arn", "")).rsplit("/", 1)[-1] for p in inp.part("iam_extra", "oidc_providers")]
    users = sorted(row["user"] for row in console_users(inp))
    ev = {"saml_providers": sorted(saml), "oidc_providers": sorted(oidc), "console_users": users}
    if saml:
        yield passed(account_arn(inp), ACCOUNT_TYPE, f"SAML identity provider(s) {', '.join(sorted(saml))}", ev)
    elif not users:
        yield passed(
            account_arn(inp), ACCOUNT_TYPE, "no IAM user signs in to the console (no SAML provider needed)", ev
        )
    else:
        yield failed(
            account_arn(inp),
            ACCOUNT_TYPE,
            f"no SAML identity provider while {len(users)} IAM user(s) sign in with passwords "
            "(expected: federated sign-in through an identity provider or IAM Identity Center)",
            ev,
        )


def check_root_recent_use(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.7: the root user is not used for everyday work (no sign-in or key use in the window)."""
    root = next((r for r in inp.part("iam", "credential_report") if r.get("user") == "<root_account>"), None)
    if root is None:
        yield errored(root_arn(inp), ROOT_TYPE, "the credential report has no <root_account> row", {})
        return
    uses = {
        "password_last_used": parse_time(root.get("password_last_used")),
        "access_key_1_last_used_date": parse_time(root.get("access_key_1_last_used_date")),
        "access_key_2_last_used_date": parse_time(root.get("access_key_2_last_used_date")),
    }
    recent = {k: age_days(v, inp.now) for k, v in uses.items() if v is not None}
    ev: dict[str, Any] = {k: iso(v) for k, v in uses.items()}
    ev["window_days"] = ROOT_RECENT_USE_DAYS
    hits = sorted(k for k, d in recent.items() if d <= ROOT_RECENT_USE_DAYS)
    msg = (
        f"root user not used in the last {ROOT_RECENT_USE_DAYS} days"
        if not hits
        else f"root user used in the last {ROOT_RECENT_USE_DAYS} days ({', '.join(hits)}; "
        "expected: no everyday use of root)"
    )
    yield verdict(not hits, root_arn(inp), ROOT_TYPE, msg, ev)


def check_security_contact(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.2: a security alternate contact is registered (its details are never stored)."""
    contacts = inp.part("account_contacts", "alternate_contacts")
    sec = contacts.get("SECURITY")
    rid = f"arn:aws:account::{inp.account}:account"
    if isinstance(sec, CollectError):
        raise DataUnavailable("account_contacts.SECURITY", sec)
    ok = isinstance(sec, dict) and sec.get("has_email")
    ev = {"security_contact_set": bool(sec), "has_email": bool(sec and sec.get("has_email"))}
    msg = (
        "a security alternate contact with an e-mail address is registered"
        if ok
        else "no security alternate contact is registered (expected: a security contact for AWS notices)"
    )
    yield verdict(bool(ok), rid, "AWS::Account::AlternateContact", msg, ev)


CLOUDSHELL_FULL_ARN = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"


def check_cloudshell_full_access(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.22: AWSCloudShellFullAccess (file upload/download to a shell) is attached to nobody."""
    holders: list[str] = []
    for key, kind in (("users", "User"), ("groups", "Group"), ("roles", "Role")):
        for entity in inp.part("iam", key):
            if any(p["PolicyArn"] == CLOUDSHELL_FULL_ARN for p in entity.get("AttachedManagedPolicies") or []):
                holders.append(f"{kind.lower()}/{entity[f'{kind}Name']}")
    msg = (
        "AWSCloudShellFullAccess is attached to no user, group or role"
        if not holders
        else f"AWSCloudShellFullAccess is attached to {', '.join(sorted(holders))} "
        "(expected: none; CloudShell file transfer bypasses data egress controls)"
    )
    yield verdict(not holders, account_arn(inp), ACCOUNT_TYPE, msg, {"holders": sorted(holders)})


# --- Organizations and Access Analyzer ----------------------------------------------------


def not_in_organization(inp: CheckInput, what: str) -> Outcome:
    return skipped(
        f"arn:aws:organizations::{inp.account}:account", "AWS::Organizations::Organization",
        f"account is not in an AWS Organization ({what} not applicable)", {"organization": None},
    )  # fmt: skip


def org_arn(inp: CheckInput, org: dict[str, Any]) -> str:
    return str(org.get("Arn") or f"arn:aws:organizations::{inp.account}:organization/{org.get('Id')}")


def check_org_all_features(inp: CheckInput) -> Iterator[Outcome]:
    org = inp.data("organizations")["organization"]
    if org is None:
        yield not_in_organization(inp, "feature set")
        return
    feature = org.get("FeatureSet")
    ok = feature == "ALL"
    msg = (
        f"organization {org.get('Id')} has all features enabled"
        if ok
        else f"organization {org.get('Id')} has feature set {feature} (expected: ALL, needed for SCPs)"
    )
    yield verdict(ok, org_arn(inp, org), "AWS::Organizations::Organization", msg, {"FeatureSet": feature})


def check_org_scps(inp: CheckInput) -> Iterator[Outcome]:
    org = inp.data("organizations")["organization"]
    if org is None:
        yield not_in_organization(inp, "SCPs")
        return
    scps = inp.part("organizations", "scps")
    custom = sorted(p.get("Name", "") for p in scps if not p.get("AwsManaged") and p.get("Id") != "p-FullAWSAccess")
    msg = (
        f"organization {org.get('Id')} has service control policies: {', '.join(custom)}"
        if custom
        else f"organization {org.get('Id')} has only the default FullAWSAccess SCP (expected: guardrail SCPs)"
    )
    yield verdict(bool(custom), org_arn(inp, org), "AWS::Organizations::Organization", msg, {"custom_scps": custom})


def check_access_analyzer(inp: CheckInput) -> Iterator[Outcome]:
    """CIS 1.20: an active IAM Access Analyzer in each scanned region."""
    analyzers = inp.data("accessanalyzer")["analyzers"]
    active = sorted(a.get("name", "") for a in analyzers if a.get("status") == "ACTIVE")
    rid = f"arn:aws:access-analyzer:{inp.region}:{inp.account}:analyzer"
    msg = (
        f"Access Analyzer {', '.join(active)} is active in {inp.region}"
        if active
        else f"no active IAM Access Analyzer in {inp.region} (expected: one per region)"
    )
    ev = {"analyzers": sorted(a.get("name", "") for a in analyzers), "active": active, **inp.region_scope()}
    yield verdict(
        bool(active), rid, "AWS::AccessAnalyzer::Analyzer", f"{msg}; {inp.scanned_regions_text()}", ev, inp.region
    )


# --- CloudTrail selectors and the trail bucket's access logging --------------------------


def selector_trails(inp: CheckInput) -> list[dict[str, Any]]:
    """Every trail with its selectors, over the scanned regions (DataUnavailable if a region failed)."""
    out: list[dict[str, Any]] = []
    for region, data in inp.by_region("cloudtrail_selectors").items():
        if isinstance(data, CollectError):
            raise DataUnavailable(f"cloudtrail_selectors@{region}", data)
        out.extend(data["trails"])
    return sorted(out, key=lambda t: str(t["TrailARN"]))


def logs_s3_objects(selectors: dict[str, Any], kind: str) -> bool:
    """Whether the selectors log S3 object data events of `kind` ("read" or "write")."""
    for s in selectors["EventSelectors"]:
        rw = s.get("ReadWriteType", "All")
        if rw != "All" and rw.lower() != f"{kind}only":
            continue
        if any(d.get("Type") == S3_OBJECT for d in s.get("DataResources") or []):
            return True
    for adv in selectors["AdvancedEventSelectors"]:
        fields = {f.get("Field"): f for f in adv.get("FieldSelectors") or []}
        if S3_OBJECT not in ((fields.get("resources.type") or {}).get("Equals") or []):
            continue
        ro = (fields.get("readOnly") or {}).get("Equals") or []
        if not ro or ("true" if kind == "read" else "false") in ro:
            return True
    return False


def management_all(selectors: dict[str, Any]) -> bool:
    for s in selectors["EventSelectors"]:
        if s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") == "All":
            return True
    for adv in selectors["AdvancedEventSelectors"]:
        fields = {f.get("Field"): f for f in adv.get("FieldSelectors") or []}
        if "Management" in ((fields.get("eventCategory") or {}).get("Equals") or []) and "readOnly" not in fields:
            return True
    return False


def selector_check(kind: str) -> Any:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        trails = selector_trails(inp)
        rid = f"arn:aws:cloudtrail::{inp.account}:account"
        unread = {t["Name"]: t["selectors"].code for t in trails if isinstance(t["selectors"], CollectError)}
        read = [t for t in trails if not isinstance(t["selectors"], CollectError)]
        if kind == "management":
            good = [t["Name"] for t in read if t["IsMultiRegionTrail"] and management_all(t["selectors"])]
            label = "read and write management events on a multi-region trail"
        else:
            good = [t["Name"] for t in read if logs_s3_objects(t["selectors"], kind)]
            label = f"S3 object-level {kind} events"
        ev: dict[str, Any] = {"trails": [t["Name"] for t in trails], "logging_trails": good, **inp.region_scope()}
        yield any_trail_outcome(
            rid,
            good,
            unread,
            ev,
            f"{label} logged by {', '.join(good)}",
            "event selectors (cloudtrail:GetEventSelectors)",
            f"no trail logs {label} ({len(trails)} trails; expected: at least one)",
        )

    return check


def check_insights(inp: CheckInput) -> Iterator[Outcome]:
    trails = selector_trails(inp)
    rid = f"arn:aws:cloudtrail::{inp.account}:account"
    unread = {t["Name"]: t["insights"].code for t in trails if isinstance(t["insights"], CollectError)}
    good = {
        t["Name"]: sorted(str(i.get("InsightType")) for i in t["insights"])
        for t in trails
        if not isinstance(t["insights"], CollectError) and t["insights"]
    }
    ev: dict[str, Any] = {"trails": [t["Name"] for t in trails], "insights": good, **inp.region_scope()}
    yield any_trail_outcome(
        rid,
        sorted(good),
        unread,
        ev,
        f"CloudTrail Insights on {', '.join(sorted(good))}",
        "insight selectors (cloudtrail:GetInsightSelectors)",
        f"no trail has CloudTrail Insights ({len(trails)} trails; expected: API call rate or error rate insights)",
    )

def check_alternate_contacts(inp: CheckInput) -> Iterator[Outcome]:
    """Security, operations and billing alternate contacts are all registered (details never stored)."""
    contacts = inp.part("account_contacts", "alternate_contacts")
    for kind, got in contacts.items():
        if isinstance(got, CollectError):
            raise DataUnavailable(f"account_contacts.{kind}", got)
    missing = sorted(kind for kind, got in contacts.items() if not got)
    rid = f"arn:aws:account::{inp.account}:account"
    msg = (
        "security, operations and billing alternate contacts are registered"
        if not missing
        else f"alternate contact(s) {', '.join(missing)} not registered (expected: SECURITY, OPERATIONS, BILLING)"
    )
    ev = {"registered": sorted(k for k, v in contacts.items() if v), "missing": missing}
    yield verdict(not missing, rid, "AWS::Account::AlternateContact", msg, ev)


def trails_with_bucket_logging(inp: CheckInput) -> list[dict[str, Any]]:
    """This region's trails, each with its bucket's access logging (`bucket_logging`)."""
    return trails_with_bucket(inp, ("logging",))


def judge_trail_bucket_logging(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    elsewhere = bucket_elsewhere(inp, t)
    if elsewhere is not None:
        return elsewhere
    name = t.get("S3BucketName")
    ev: dict[str, Any] = {"bucket": name}
    logging = t["bucket_logging"]
    ev["target_bucket"] = (logging or {}).get("TargetBucket")
    return verdict(
        bool(logging),
        t["TrailARN"],
        TRAIL,
        f"trail bucket {name} "
        + ("has server access logging" if logging else "has no server access logging (expected: enabled)"),
        ev,
        inp.region,
    )


# CIS 3.4: the bucket a trail writes to has server access logging on. A bucket whose logging could not be
# read (or came back as something else than a mapping) is ERROR for the trail, naming the code.
check_trail_bucket_logging = per_resource(
    trails_with_bucket_logging, lambda t: str(t["TrailARN"]), TRAIL,
    lambda t: f"access logging of trail bucket {t.get('S3BucketName')}", ("bucket_logging",),
    judge_trail_bucket_logging, {"bucket_logging": dict},
)  # fmt: skip


# --- Config --------------------------------------------------------------------------------


def check_config_global(inp: CheckInput) -> Iterator[Outcome]:
    """Global resources (IAM) are recorded by a running recorder in at least one scanned region."""
    rid = f"arn:aws:config::{inp.account}:global-resources"
    where: list[str] = []
    for region, data in inp.by_region("config").items():
        if isinstance(data, CollectError):
            raise DataUnavailable(f"config@{region}", data)
        running = {s.get("name") for s in data["statuses"] if s.get("recording")}
        for r in data["recorders"]:
            group = r.get("recordingGroup") or {}
            if r.get("name") in running and group.get("allSupported") and group.get("includeGlobalResourceTypes"):
                where.append(region)
    ev = {"regions_recording_global": sorted(set(where)), **inp.region_scope()}
    msg = (
        f"global resource types are recorded in {', '.join(sorted(set(where)))}"
        if where
        else "no running Config recorder records global resource types such as IAM "
        "(expected: includeGlobalResourceTypes in one region)"
    )
    yield verdict(bool(where), rid, "AWS::Config::ConfigurationRecorder", msg, ev)


def check_config_delivery(inp: CheckInput) -> Iterator[Outcome]:
    channels = inp.data("config_delivery")["channels"]
    rid = f"arn:aws:config:{inp.region}:{inp.account}:delivery-channel"
    good = sorted(c.get("name", "") for c in channels if c.get("s3BucketName"))
    msg = (
        f"Config delivery channel {', '.join(good)} delivers to S3 in {inp.region}"
        if good
        else f"no Config delivery channel in {inp.region} (expected: one delivering to an S3 bucket)"
    )
    ev = {"channels": [c.get("name") for c in channels], "buckets": sorted(c.get("s3BucketName", "") for c in channels)}
    text = f"{msg}; {inp.scanned_regions_text()}"
    yield verdict(bool(good), rid, "AWS::Config::DeliveryChannel", text, ev, inp.region)


def _c(
    check_id: str, title: str, sev: Severity, rtype: str, risk: str, fix: str, needs: tuple[str, ...], scope: Scope,
    fn: Any, parts: tuple[str, ...] = (),
) -> AwsCheck:  # fmt: skip
    return AwsCheck(info(check_id, title, sev, rtype, risk, fix), needs, scope, fn, parts)


A, R = Scope.ACCOUNT, Scope.REGION

CHECKS: list[AwsCheck] = [
    _c("aws.iam.root_hardware_mfa", "Root user uses a hardware MFA device", Severity.HIGH, ROOT_TYPE,
       "A virtual MFA on root lives on a phone or laptop that can be lost, cloned or phished along with the password.",
       "Replace the root user's virtual MFA device with a hardware key or token kept in a safe.",
       ("iam", "iam_extra"), A, check_root_hardware_mfa),
    _c("aws.iam.user_hardware_mfa", "Console users use hardware MFA devices", Severity.LOW, USER_TYPE,
       "A virtual authenticator on the same phone or laptop as the password can be phished or stolen with it.",
       "Give privileged console users FIDO security keys or hardware tokens in place of virtual MFA apps.",
       ("iam", "iam_extra"), A, check_user_hardware_mfa),
    _c("aws.iam.no_initial_access_key", "Console users got no access key at setup", Severity.MEDIUM, USER_TYPE,
       "Keys created with the user and never used are standing credentials nobody needs or watches.",
       "Delete access keys that were never used; create keys only when a user needs programmatic access.",
       ("iam",), A, check_no_initial_access_key),
    _c("aws.iam.single_active_access_key", "Users have at most one active access key", Severity.MEDIUM, USER_TYPE,
       "A second active key doubles the credentials to protect and usually means an unfinished rotation.",
       "Finish the rotation: move consumers to one key, deactivate and delete the other.",
       ("iam",), A, check_single_active_key),
    _c("aws.iam.expired_server_certificates", "Expired IAM server certificates are removed", Severity.MEDIUM,
       "AWS::IAM::ServerCertificate",
       "An expired certificate can be deployed to a load balancer by mistake and break TLS or trust.",
       "Delete expired server certificates (aws iam delete-server-certificate); prefer ACM.",
       ("iam_extra",), A, check_expired_server_certificates),
    _c("aws.iam.securityaudit_role", "A role with SecurityAudit exists for security reviews", Severity.LOW,
       ACCOUNT_TYPE, "Without a read-only audit role, reviewers are given broader rights than they need.",
       "Create a role with the SecurityAudit managed policy for auditors and security tooling.",
       ("iam",), A, check_security_audit_role),
    _c("aws.iam.federated_sign_in", "People sign in through a SAML identity provider, not IAM passwords",
       Severity.LOW, ACCOUNT_TYPE,
       "IAM user passwords are managed outside the company directory: leavers keep access until someone notices.",
       "Federate console access through a SAML identity provider or IAM Identity Center; remove IAM passwords.",
       ("iam", "iam_extra"), A, check_federation),
    _c("aws.iam.root_not_used_recently", "The root user is not used for everyday work", Severity.HIGH, ROOT_TYPE,
       "Routine root use exposes the one credential no policy can restrict.",
       "Use IAM roles or Identity Center for daily work; keep root for the few tasks that need it.",
       ("iam",), A, check_root_recent_use),
    _c("aws.iam.cloudshell_full_access_restricted", "AWSCloudShellFullAccess is attached to nobody", Severity.MEDIUM,
       ACCOUNT_TYPE, "CloudShell full access allows uploading and downloading files, a path around egress controls.",
       "Detach AWSCloudShellFullAccess; grant a scoped CloudShell policy without file transfer where needed.",
       ("iam",), A, check_cloudshell_full_access),
    _c("aws.account.security_contact", "A security contact is registered for the account", Severity.LOW,
       "AWS::Account::AlternateContact",
       "AWS security notices (abuse reports, compromised keys) reach nobody who can act on them.",
       "Set the SECURITY alternate contact (Account > Alternate contacts) to a monitored team address.",
       ("account_contacts",), A, check_security_contact),
    _c("aws.account.alternate_contacts", "Security, operations and billing contacts are all registered", Severity.LOW,
       "AWS::Account::AlternateContact",
       "AWS notices about operations or billing problems reach only the root e-mail owner, who may be gone.",
       "Set the OPERATIONS and BILLING alternate contacts as well as SECURITY to monitored team addresses.",
       ("account_contacts",), A, check_alternate_contacts),
    _c("aws.organizations.all_features", "The organization has all features enabled", Severity.MEDIUM,
       "AWS::Organizations::Organization",
       "With consolidated billing only, no service control policy can limit member accounts.",
       "Enable all features in AWS Organizations.",
       ("organizations",), A, check_org_all_features),
    _c("aws.organizations.scps_in_use", "Service control policies guard the organization", Severity.MEDIUM,
       "AWS::Organizations::Organization",
       "Without SCPs any account admin can disable logging, leave regions open or leave the organization.",
       "Attach guardrail SCPs (deny disabling CloudTrail/GuardDuty, region limits) to the root or OUs.",
       ("organizations",), A, check_org_scps),
    _c("aws.accessanalyzer.enabled", "IAM Access Analyzer is enabled in every scanned region", Severity.MEDIUM,
       "AWS::AccessAnalyzer::Analyzer",
       "Resources shared with outside accounts or the public go unnoticed.",
       "Create an account (or organization) analyzer in every region.",
       ("accessanalyzer",), R, check_access_analyzer),
    _c("aws.cloudtrail.s3_data_events_write", "CloudTrail logs S3 object-level write events", Severity.MEDIUM,
       "AWS::CloudTrail::Account",
       "Object uploads, overwrites and deletions leave no audit record.",
       "Add an event selector for AWS::S3::Object data events (WriteOnly or All) to a trail.",
       ("cloudtrail_selectors",), A, selector_check("write")),
    _c("aws.cloudtrail.s3_data_events_read", "CloudTrail logs S3 object-level read events", Severity.MEDIUM,
       "AWS::CloudTrail::Account",
       "Who read which object (data exfiltration) cannot be established.",
       "Add an event selector for AWS::S3::Object data events (ReadOnly or All) to a trail.",
       ("cloudtrail_selectors",), A, selector_check("read")),
    _c("aws.cloudtrail.management_events_all", "The multi-region trail logs read and write management events",
       Severity.MEDIUM, "AWS::CloudTrail::Account",
       "A trail that drops read events misses reconnaissance; one that drops write events misses changes.",
       "Set the multi-region trail's selectors to include management events with ReadWriteType All.",
       ("cloudtrail_selectors",), A, selector_check("management")),
    _c("aws.cloudtrail.insights_enabled", "CloudTrail Insights watches for unusual API activity", Severity.LOW,
       "AWS::CloudTrail::Account",
       "Bursts of API calls or errors (credential abuse, runaway automation) are only found by reading logs.",
       "Enable ApiCallRateInsight and ApiErrorRateInsight on the multi-region trail.",
       ("cloudtrail_selectors",), A, check_insights),
    _c("aws.cloudtrail.bucket_access_logging", "The CloudTrail bucket has server access logging", Severity.LOW,
       TRAIL, "Access to the audit logs themselves is not recorded.",
       "Enable server access logging on the trail's bucket to a separate log bucket.",
       ("cloudtrail", "s3"), R, check_trail_bucket_logging, parts=("s3.logging",)),
    _c("aws.config.records_global_resources", "AWS Config records global resources such as IAM", Severity.LOW,
       "AWS::Config::ConfigurationRecorder", "Changes to IAM users, roles and policies have no configuration history.",
       "Turn on includeGlobalResourceTypes for the recorder in one region.",
       ("config",), A, check_config_global),
    _c("aws.config.delivery_channel", "AWS Config delivers to S3 in every scanned region", Severity.MEDIUM,
       "AWS::Config::DeliveryChannel",
       "A recorder without a delivery channel keeps no configuration history or snapshots.",
       "Create a delivery channel to an S3 bucket for the recorder in each region.",
       ("config_delivery",), R, check_config_delivery),
]  # fmt: skip
