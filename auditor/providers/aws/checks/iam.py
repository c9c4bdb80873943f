"""IAM: root account, password policy, users' credentials, admin privileges, support role.

Each check reads the parts of the `iam` dataset it needs through `CheckInput.part`
(summary, password_policy, credential_report, users/groups/roles/policies): a part that
could not be read makes exactly the checks that read it ERROR. A value the API always
reports but did not (the root MFA flag) is ERROR too, never a FAIL or PASS by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import age_days, grants_full_admin, iso, parse_time
from auditor.providers.aws.model import AwsCheck, CheckInput, Outcome, Scope, errored, failed, info, verdict

ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
SUPPORT_POLICY_ARN = "arn:aws:iam::aws:policy/AWSSupportAccess"
ROOT_TYPE = "AWS::IAM::Root"
USER_TYPE = "AWS::IAM::User"
ACCOUNT_TYPE = "AWS::IAM::PasswordPolicy"


def root_arn(inp: CheckInput) -> str:
    return f"arn:aws:iam::{inp.account}:root"


def check_root_mfa(inp: CheckInput) -> Iterator[Outcome]:
    summary = inp.part("iam", "summary")
    value = summary.get("AccountMFAEnabled")
    ev = {"AccountMFAEnabled": value}
    if value is None:
        yield errored(root_arn(inp), ROOT_TYPE, "GetAccountSummary did not report AccountMFAEnabled", ev)
        return
    enabled = value == 1
    msg = "root user has MFA enabled" if enabled else "root user has no MFA device (expected: MFA enabled)"
    yield verdict(enabled, root_arn(inp), ROOT_TYPE, msg, ev)


def check_root_access_keys(inp: CheckInput) -> Iterator[Outcome]:
    summary = inp.part("iam", "summary")
    present = summary.get("AccountAccessKeysPresent")
    ev = {"AccountAccessKeysPresent": present}
    if present is None:
        yield errored(root_arn(inp), ROOT_TYPE, "GetAccountSummary did not report AccountAccessKeysPresent", ev)
        return
    msg = "root user has no access keys" if present == 0 else "root user has access keys (expected: none)"
    yield verdict(present == 0, root_arn(inp), ROOT_TYPE, msg, ev)


def password_policy_check(
    field: str, ok: Callable[[Any], bool], expected: str
) -> Callable[[CheckInput], Iterator[Outcome]]:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        policy = inp.part("iam", "password_policy")
        rid = f"arn:aws:iam::{inp.account}:account-password-policy"
        if policy is None:
            yield failed(rid, ACCOUNT_TYPE, f"no account password policy is set (expected: {expected})", {field: None})
            return
        value = policy.get(field)
        good = value is not None and ok(value)
        yield verdict(
            good, rid, ACCOUNT_TYPE, f"password policy {field} is {value!r} (expected: {expected})", {field: value}
        )

    return check


def console_users(inp: CheckInput) -> Iterator[dict[str, str]]:
    for row in inp.part("iam", "credential_report"):
        if row.get("user") != "<root_account>" and row.get("password_enabled") == "true":
            yield row


def check_console_mfa(inp: CheckInput) -> Iterator[Outcome]:
    for row in console_users(inp):
        mfa = row.get("mfa_active") == "true"
        ev = {"user": row["user"], "password_enabled": True, "mfa_active": mfa}
        msg = f"console user {row['user']} has MFA" if mfa else f"console user {row['user']} has no MFA (expected: MFA)"
        yield verdict(mfa, row["arn"], USER_TYPE, msg, ev)


def check_unused_password(inp: CheckInput) -> Iterator[Outcome]:
    limit = inp.thresholds.access_key_unused_days
    for row in console_users(inp):
        last_used = parse_time(row.get("password_last_used"))
        since = last_used or parse_time(row.get("password_last_changed")) or parse_time(row.get("user_creation_time"))
        ev = {"user": row["user"], "password_last_used": iso(last_used), "unused_days_limit": limit}
        if since is None:
            # user_creation_time is always in the report: without any date the age is unknown, not old.
            yield errored(
                row["arn"], USER_TYPE, f"the credential report gives no date for the password of {row['user']}", ev
            )
            continue
        days = age_days(since, inp.now)
        ev["days_since_use"] = days
        what = "last used" if last_used else "never used; set"
        yield verdict(
            days <= limit,
            row["arn"],
            USER_TYPE,
            f"console password of {row['user']} {what} {days} days ago (expected: used within {limit} days)",
            ev,
        )


def active_keys(inp: CheckInput) -> Iterator[tuple[dict[str, str], str]]:
    for row in inp.part("iam", "credential_report"):
        for slot in ("1", "2"):
            if row.get(f"access_key_{slot}_active") == "true":
                yield row, slot


def check_access_key_age(inp: CheckInput) -> Iterator[Outcome]:
    limit = inp.thresholds.access_key_max_age_days
    for row, slot in active_keys(inp):
        rotated = parse_time(row.get(f"access_key_{slot}_last_rotated"))
        ev: dict[str, Any] = {
            "user": row["user"],
            "key_slot": int(slot),
            "last_rotated": iso(rotated),
            "max_age_days": limit,
        }
        if rotated is None:
            yield errored(  # an active key always has a creation date in the report: unknown, not old
                row["arn"],
                USER_TYPE,
                f"the credential report gives no creation date for access key {slot} of {row['user']}",
                ev,
                discriminator=f"key{slot}",
            )
            continue
        days = age_days(rotated, inp.now)
        ev["age_days"] = days
        severity = Severity.HIGH if days > 2 * limit else None
        yield verdict(
            days <= limit,
            row["arn"],
            USER_TYPE,
            f"access key {slot} of {row['user']} is {days} days old (expected: rotated within {limit} days)",
            ev,
            discriminator=f"key{slot}",
            severity=severity,
        )


def check_access_key_unused(inp: CheckInput) -> Iterator[Outcome]:
    limit = inp.thresholds.access_key_unused_days
    for row, slot in active_keys(inp):
        used = parse_time(row.get(f"access_key_{slot}_last_used_date"))
        since = used or parse_time(row.get(f"access_key_{slot}_last_rotated"))
        ev: dict[str, Any] = {
            "user": row["user"],
            "key_slot": int(slot),
            "last_used": iso(used),
            "unused_days_limit": limit,
        }
        if since is None:
            yield errored(
                row["arn"],
                USER_TYPE,
                f"the credential report gives no use or creation date for access key {slot} of {row['user']}",
                ev,
                discriminator=f"key{slot}",
            )
            continue
        days = age_days(since, inp.now)
        ev["days_since_use"] = days
        what = "last used" if used else "never used; created"
        yield verdict(
            days <= limit,
            row["arn"],
            USER_TYPE,
            f"access key {slot} of {row['user']} {what} {days} days ago (expected: used within {limit} days)",
            ev,
            discriminator=f"key{slot}",
        )


def admin_sources(inp: CheckInput, entity: dict[str, Any], inline_key: str) -> list[str]:
    """Why a user, group or role has full admin: policy ARNs and inline policy names."""
    customer = {p["Arn"]: p for p in inp.part("iam", "policies")}
    out = []
    for att in entity.get("AttachedManagedPolicies") or []:
        arn = att["PolicyArn"]
        if arn == ADMIN_POLICY_ARN or (arn in customer and policy_is_full_admin(customer[arn])):
            out.append(arn)
    for inline in entity.get(inline_key) or []:
        if grants_full_admin(inline.get("PolicyDocument")):
            out.append(f"inline:{inline.get('PolicyName')}")
    return out


def policy_is_full_admin(policy: dict[str, Any]) -> bool:
    for v in policy.get("PolicyVersionList") or []:
        if v.get("IsDefaultVersion"):
            return grants_full_admin(v.get("Document"))
    return False


def admin_check(list_key: str, inline_key: str, kind: str, rtype: str) -> Callable[[CheckInput], Iterator[Outcome]]:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        for entity in inp.part("iam", list_key):
            if kind == "role" and str(entity.get("Path", "")).startswith("/aws-service-role/"):
                continue
            name = entity.get(f"{kind.capitalize()}Name")
            sources = admin_sources(inp, entity, inline_key)
            ev = {kind: name, "admin_policies": sources}
            msg = (
                f"{kind} {name} has no full-admin policy"
                if not sources
                else f"{kind} {name} has full admin through {', '.join(sources)} (expected: least privilege)"
            )
            yield verdict(not sources, entity["Arn"], rtype, msg, ev)

    return check


def check_user_direct_policies(inp: CheckInput) -> Iterator[Outcome]:
    for user in inp.part("iam", "users"):
        attached = [p["PolicyArn"] for p in user.get("AttachedManagedPolicies") or []]
        inline = [p.get("PolicyName") for p in user.get("UserPolicyList") or []]
        ev = {"user": user["UserName"], "attached_policies": attached, "inline_policies": inline}
        direct = attached + inline
        msg = (
            f"user {user['UserName']} gets permissions only through groups or roles"
            if not direct
            else f"user {user['UserName']} has {len(direct)} policies attached directly (expected: none; use groups)"
        )
        yield verdict(not direct, user["Arn"], USER_TYPE, msg, ev)


def check_support_role(inp: CheckInput) -> Iterator[Outcome]:
    roles = [
        r["RoleName"]
        for r in inp.part("iam", "roles")
        if any(p["PolicyArn"] == SUPPORT_POLICY_ARN for p in r.get("AttachedManagedPolicies") or [])
    ]
    rid = f"arn:aws:iam::{inp.account}:root"
    msg = (
        f"support role(s) {', '.join(sorted(roles))} hold AWSSupportAccess"
        if roles
        else "no role holds AWSSupportAccess (expected: a role to manage incidents with AWS Support)"
    )
    yield verdict(bool(roles), rid, "AWS::IAM::Account", msg, {"support_roles": sorted(roles)})


def check_customer_policy_admin(inp: CheckInput) -> Iterator[Outcome]:
    for p in inp.part("iam", "policies"):
        admin = policy_is_full_admin(p)
        p = {**p, "PolicyName": p.get("PolicyName") or str(p["Arn"]).rsplit("/", 1)[-1]}
        ev = {"policy": p["PolicyName"], "attachment_count": p.get("AttachmentCount"), "allows_star_on_star": admin}
        msg = (
            f'policy {p.get("PolicyName")} allows "*" on "*" (expected: scoped actions and resources)'
            if admin
            else f'policy {p.get("PolicyName")} does not allow "*" on "*"'
        )
        yield verdict(not admin, p["Arn"], "AWS::IAM::ManagedPolicy", msg, ev)


def _pw(name: str, title: str, field: str, ok: Callable[[Any], bool], expected: str) -> AwsCheck:
    return AwsCheck(
        info(
            f"aws.iam.password_policy_{name}",
            title,
            Severity.MEDIUM,
            ACCOUNT_TYPE,
            "Weak or guessable console passwords make account takeover easier.",
            f"Set the account password policy so that {expected} (IAM > Account settings > Password policy).",
        ),
        ("iam",),
        Scope.ACCOUNT,
        password_policy_check(field, ok, expected),
    )


CHECKS: list[AwsCheck] = [
    AwsCheck(
        info(
            "aws.iam.root_mfa_enabled",
            "Root user has MFA enabled",
            Severity.CRITICAL,
            ROOT_TYPE,
            "The root user can do anything in the account; a stolen password alone gives full control.",
            "Enable a hardware or virtual MFA device for the root user.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_root_mfa,
    ),
    AwsCheck(
        info(
            "aws.iam.root_access_keys_absent",
            "Root user has no access keys",
            Severity.CRITICAL,
            ROOT_TYPE,
            "Root access keys give unrestricted API access that no policy can limit.",
            "Delete the root user's access keys; use IAM roles for automation.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_root_access_keys,
    ),
    _pw(
        "min_length",
        "Password policy requires at least 14 characters",
        "MinimumPasswordLength",
        lambda v: int(v) >= 14,
        "MinimumPasswordLength >= 14",
    ),
    _pw(
        "uppercase",
        "Password policy requires an uppercase letter",
        "RequireUppercaseCharacters",
        lambda v: v is True,
        "RequireUppercaseCharacters is true",
    ),
    _pw(
        "lowercase",
        "Password policy requires a lowercase letter",
        "RequireLowercaseCharacters",
        lambda v: v is True,
        "RequireLowercaseCharacters is true",
    ),
    _pw(
        "numbers", "Password policy requires a number", "RequireNumbers", lambda v: v is True, "RequireNumbers is true"
    ),
    _pw(
        "symbols", "Password policy requires a symbol", "RequireSymbols", lambda v: v is True, "RequireSymbols is true"
    ),
    _pw(
        "reuse_prevention",
        "Password policy prevents reuse of the last 24 passwords",
        "PasswordReusePrevention",
        lambda v: int(v) >= 24,
        "PasswordReusePrevention >= 24",
    ),
    _pw(
        "max_age",
        "Password policy expires passwords within 90 days",
        "MaxPasswordAge",
        lambda v: 0 < int(v) <= 90,
        "MaxPasswordAge between 1 and 90 days",
    ),
    AwsCheck(
        info(
            "aws.iam.console_user_mfa",
            "Console users have MFA enabled",
            Severity.HIGH,
            USER_TYPE,
            "A console password without MFA can be phished or guessed.",
            "Enable MFA for every IAM user that has a console password, or move people to SSO.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_console_mfa,
    ),
    AwsCheck(
        info(
            "aws.iam.unused_console_password",
            "Console passwords unused for 45 days are removed",
            Severity.MEDIUM,
            USER_TYPE,
            "Dormant credentials belong to people who may have left; nobody notices when they are abused.",
            "Delete the login profile of users who have not signed in within the threshold.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_unused_password,
    ),
    AwsCheck(
        info(
            "aws.iam.access_key_age",
            "Access keys are rotated within 90 days",
            Severity.MEDIUM,
            USER_TYPE,
            "Long-lived keys accumulate in scripts, laptops and logs; the longer they live, the likelier a leak.",
            "Create a new key, move its consumers, deactivate and delete the old one; prefer roles over keys.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_access_key_age,
    ),
    AwsCheck(
        info(
            "aws.iam.access_key_unused",
            "Access keys unused for 45 days are deactivated",
            Severity.MEDIUM,
            USER_TYPE,
            "An unused key is pure risk: it grants access nobody needs.",
            "Deactivate and delete access keys that have not been used within the threshold.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_access_key_unused,
    ),
    AwsCheck(
        info(
            "aws.iam.user_admin_privileges",
            "Users do not hold full administrator policies",
            Severity.HIGH,
            USER_TYPE,
            "Full admin on a long-lived user credential is the most valuable thing an attacker can steal.",
            'Detach AdministratorAccess and "*:*" policies from users; grant scoped roles instead.',
        ),
        ("iam",),
        Scope.ACCOUNT,
        admin_check("users", "UserPolicyList", "user", USER_TYPE),
    ),
    AwsCheck(
        info(
            "aws.iam.group_admin_privileges",
            "Groups do not hold full administrator policies",
            Severity.HIGH,
            "AWS::IAM::Group",
            "Every member of a group with full admin can do anything in the account.",
            'Replace AdministratorAccess and "*:*" policies on groups with scoped policies.',
        ),
        ("iam",),
        Scope.ACCOUNT,
        admin_check("groups", "GroupPolicyList", "group", "AWS::IAM::Group"),
    ),
    AwsCheck(
        info(
            "aws.iam.role_admin_privileges",
            "Roles do not hold full administrator policies",
            Severity.MEDIUM,
            "AWS::IAM::Role",
            "Anyone or anything that can assume a full-admin role controls the account.",
            "Scope role policies to what the workload needs; keep break-glass admin roles few and monitored.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        admin_check("roles", "RolePolicyList", "role", "AWS::IAM::Role"),
    ),
    AwsCheck(
        info(
            "aws.iam.user_no_direct_policies",
            "Users receive permissions only through groups or roles",
            Severity.LOW,
            USER_TYPE,
            "Policies attached to individual users are hard to review and drift from role definitions.",
            "Move user-attached and inline policies to groups and add the users to those groups.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_user_direct_policies,
    ),
    AwsCheck(
        info(
            "aws.iam.support_role_exists",
            "A support role exists for incident handling with AWS",
            Severity.LOW,
            "AWS::IAM::Account",
            "Without a role allowed to open AWS Support cases, incident response waits for the root user.",
            "Create a role with the AWSSupportAccess managed policy and let the incident team assume it.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_support_role,
    ),
    AwsCheck(
        info(
            "aws.iam.customer_policy_no_full_admin",
            'Customer managed policies do not allow "*" on "*"',
            Severity.HIGH,
            "AWS::IAM::ManagedPolicy",
            "A home-made full-admin policy hides administrator rights under an innocuous name.",
            "Rewrite the policy with the actions and resources the workload needs.",
        ),
        ("iam",),
        Scope.ACCOUNT,
        check_customer_policy_admin,
    ),
]
