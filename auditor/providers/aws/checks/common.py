"""Small helpers shared by the check modules: dates, ARNs, policy statements.

`public_statements` is the one rule for "a resource policy is public" (S3, the CloudTrail
bucket, ECR, Lambda, SNS, SQS, Secrets Manager, EFS, OpenSearch, Backup vaults).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from auditor.providers.aws.collect import decode_policy_document
from auditor.providers.aws.model import CollectError

PUBLIC_CIDRS = ("0.0.0.0/0", "::/0")


def parse_time(value: Any) -> datetime | None:
    """A credential-report or API date; None for N/A, no_information, not_supported."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value or not value[0].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_days(then: datetime, now: datetime) -> int:
    return int((now - then).total_seconds() // 86400)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def statements(document: Any) -> list[dict[str, Any]]:
    doc = decode_policy_document(document)
    if not isinstance(doc, dict):
        return []
    st = doc.get("Statement") or []
    if isinstance(st, dict):
        st = [st]
    return [s for s in st if isinstance(s, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def grants_full_admin(document: Any) -> bool:
    """An Allow of every action on every resource."""
    for s in statements(document):
        if s.get("Effect") != "Allow" or "NotAction" in s:
            continue
        if "*" in as_list(s.get("Action")) and "*" in as_list(s.get("Resource")):
            return True
    return False


def principal_is_public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(v == "*" or (isinstance(v, list) and "*" in v) for v in principal.values())
    return False


# A public principal is restricted when a condition pins it to an account, an organisation, a
# source resource or a network. Other conditions (aws:SecureTransport, dates) do not restrict who.
RESTRICTING_CONDITION_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:userid",
        "aws:username",
        "kms:calleraccount",
        "kms:viaservice",
        "sns:endpoint",
    }
)
OPEN_NETWORKS = ("0.0.0.0/0", "::/0", "*")


def restricting(condition: Any) -> bool:
    """Whether a statement's Condition narrows a public principal to known callers."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if not isinstance(block, dict) or str(operator).lower().startswith("null"):
            continue
        for key, value in block.items():
            k = str(key).lower()
            if k not in RESTRICTING_CONDITION_KEYS:
                continue
            values = [str(v) for v in as_list(value)]
            if not values or any(v in OPEN_NETWORKS for v in values):
                continue
            if "notequals" in str(operator).lower() or "notlike" in str(operator).lower():
                continue  # "everyone except X" is still everyone
            return True
    return False


# S3 ACL grantees that mean everyone (AllUsers) or any AWS account (AuthenticatedUsers).
PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


def public_grants(acl: list[dict[str, Any]]) -> list[str]:
    """The grants of an S3 ACL to everyone or any AWS account, as `<grantee URI>:<permission>` (sorted)."""
    return sorted(
        {
            f"{(g.get('Grantee') or {}).get('URI')}:{g.get('Permission')}"
            for g in acl
            if (g.get("Grantee") or {}).get("URI") in PUBLIC_GRANTEES
        }
    )


def public_statements(policy: Any) -> list[str]:
    """Sids (or #index) of Allow statements open to any principal without a restricting condition."""
    out: list[str] = []
    if not policy or isinstance(policy, CollectError):
        return out
    for i, s in enumerate(statements(policy)):
        if s.get("Effect") != "Allow" or not principal_is_public(s.get("Principal")):
            continue
        if restricting(s.get("Condition")):
            continue
        out.append(str(s.get("Sid") or f"#{i}"))
    return out
