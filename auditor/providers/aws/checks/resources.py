"""Helpers shared by the data-store, messaging and secrets checks (issue 15).

`per_resource` builds the usual loop: every resource of a dataset list, ERROR for a resource
whose detail could not be read (naming the field and the AWS error code), a verdict otherwise.
`public_statements` (in checks/common.py) is the one rule for "a resource policy is public".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from auditor.providers.aws.checks.common import public_statements
from auditor.providers.aws.model import CheckInput, CollectError, DataUnavailable, Outcome, errored

__all__ = ["customer_managed", "key_managers", "part", "per_resource", "public_statements"]

def part(inp: CheckInput, dataset: str, key: str) -> Any:
    """A part added to an existing dataset; a snapshot without it counts as not collected."""
    got = inp.data(dataset).get(key, CollectError("NotCollected", f"{dataset}.{key} was not collected"))
    if isinstance(got, CollectError):
        raise DataUnavailable(f"{dataset}.{key}", got)
    return got


Judged = Outcome | Iterable[Outcome] | None


def per_resource(
    items: Callable[[CheckInput], list[dict[str, Any]]],
    rid: Callable[[dict[str, Any]], str],
    rtype: str,
    label: Callable[[dict[str, Any]], str],
    fields: tuple[str, ...],
    judge: Callable[[CheckInput, dict[str, Any]], Judged],
    kinds: Mapping[str, type | tuple[type, ...]] | None = None,
    *,
    required: tuple[str, ...] = (),
    region: Callable[[dict[str, Any]], str | None] | None = None,
) -> Callable[[CheckInput], Iterator[Outcome]]:
    """Per resource: ERROR naming the field and code when a detail it needs could not be read.

    `kinds` names the type a field's answer must have when it is there (a policy: `dict`); any other
    type is an answer the check cannot judge (code `MalformedAnswer`), so ERROR as well, never a
    verdict on it. `required` names fields the API always answers: a resource without one (None) is
    ERROR too (code `NoAnswer`), never judged as "not configured". The judge returns one outcome,
    several (one resource with parts: an API's stages), or None (nothing to judge). `region` gives
    an ERROR's region for resources of an account-wide dataset (a bucket's own); default: the
    region the check runs in."""

    def check(inp: CheckInput) -> Iterator[Outcome]:
        for r in items(inp):
            errors = {f: r[f].code for f in fields if isinstance(r.get(f), CollectError)}
            for f, kind in (kinds or {}).items():
                value = r.get(f)
                if f not in errors and value is not None and not isinstance(value, kind):
                    errors[f] = "MalformedAnswer"
            for f in required:
                if f not in errors and r.get(f) is None:
                    errors[f] = "NoAnswer"
            if errors:
                codes = ", ".join(f"{f}: {c}" for f, c in sorted(errors.items()))
                where = inp.region if region is None else region(r)
                yield errored(rid(r), rtype, f"{label(r)} could not be read ({codes})", {"errors": errors}, where)
                continue
            out = judge(inp, r)
            if isinstance(out, Outcome):
                yield out
            elif out is not None:
                yield from out

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
