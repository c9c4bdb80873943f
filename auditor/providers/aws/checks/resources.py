"""Helpers shared by the data-store, messaging and secrets checks (issue 15).

`per_resource` builds the usual loop: every resource of a dataset list, ERROR for a resource
whose detail could not be read (naming the field and the AWS error code), a verdict otherwise.
`public_statements` is the one rule for "a resource policy is public", used for SNS, SQS,
Secrets Manager, EFS, OpenSearch and Backup vaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.providers.aws.checks.common import as_list, principal_is_public, statements
from auditor.providers.aws.model import CheckInput, CollectError, DataUnavailable, Outcome, errored

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


def part(inp: CheckInput, dataset: str, key: str) -> Any:
    """A part added to an existing dataset; a snapshot without it counts as not collected."""
    got = inp.data(dataset).get(key, CollectError("NotCollected", f"{dataset}.{key} was not collected"))
    if isinstance(got, CollectError):
        raise DataUnavailable(f"{dataset}.{key}", got)
    return got


def per_resource(
    items: Callable[[CheckInput], list[dict[str, Any]]],
    rid: Callable[[dict[str, Any]], str],
    rtype: str,
    label: Callable[[dict[str, Any]], str],
    fields: tuple[str, ...],
    judge: Callable[[CheckInput, dict[str, Any]], Outcome | None],
) -> Callable[[CheckInput], Iterator[Outcome]]:
    """Per resource: ERROR naming the field and code when a detail it needs could not be read."""

    def check(inp: CheckInput) -> Iterator[Outcome]:
        for r in items(inp):
            errors = {f: r[f].code for f in fields if isinstance(r.get(f), CollectError)}
            if errors:
                codes = ", ".join(f"{f}: {c}" for f, c in sorted(errors.items()))
                yield errored(rid(r), rtype, f"{label(r)} could not be read ({codes})", {"errors": errors}, inp.region)
                continue
            out = judge(inp, r)
            if out is not None:
                yield out

    return check


def key_managers(inp: CheckInput) -> dict[str, str]:
    """KMS key ARN and id -> KeyManager (AWS or CUSTOMER) for this region's keys."""
    out: dict[str, str] = {}
    for k in inp.data("kms")["keys"]:
        meta = k.get("metadata")
        if not isinstance(meta, dict):
            continue
        manager = str(meta.get("KeyManager") or "")
        for ref in (k.get("arn"), k.get("id"), meta.get("Arn"), meta.get("KeyId")):
            if ref:
                out[str(ref)] = manager
    return out


def customer_managed(inp: CheckInput, key: str | None) -> bool | None:
    """True for a customer managed key, False for an AWS managed one, None when no key is named.

    A key that is not in this account's list (another account's key) cannot be AWS managed
    for this resource: AWS managed keys live in the resource's own account."""
    if not key:
        return None
    manager = key_managers(inp).get(key)
    if manager is None and ":alias/aws/" in key:
        return False
    return manager != "AWS"
