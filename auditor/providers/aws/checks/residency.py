"""GDPR Art. 44 residency: a data store outside the allowed regions is a transfer to a third
country, lawful only under a Chapter V mechanism. Shared by the S3, RDS and DynamoDB checks.

- region in `allowed_regions` (--allowed-region / targets.aws.allowed_regions): PASS, no transfer;
- region with a transfer mechanism declared in audit.yaml `gdpr.transfers`: PASS, and the
  evidence names the mechanism and the instrument relied on;
- any other region: FAIL;
- neither allowed regions nor transfers configured: SKIPPED (nothing to judge against).
"""

from __future__ import annotations

from typing import Any

from auditor.providers.aws.model import CheckInput, Outcome, skipped, verdict

NOT_CONFIGURED = "no allowed regions configured (--allowed-region, or gdpr.transfers in audit.yaml)"
REMEDIATION_HINT = "or declare the transfer mechanism relied on for its region in audit.yaml gdpr.transfers"


def judge_residency(inp: CheckInput, region: str | None, rid: str, rtype: str, name: str) -> Outcome:
    allowed = inp.allowed_regions
    declared = {t.region: t for t in inp.transfers}
    ev: dict[str, Any] = {"region": region, "allowed_regions": list(allowed)}
    if declared:
        ev["declared_transfer_regions"] = sorted(declared)
    if not allowed and not declared:
        return skipped(rid, rtype, NOT_CONFIGURED, ev, region)
    if region in allowed:
        return verdict(True, rid, rtype, f"{name} is in {region}, an allowed region (no transfer)", ev, region)
    transfer = declared.get(region or "")
    if transfer is not None:
        ev["transfer"] = {"mechanism": transfer.mechanism, "reference": transfer.reference}
        msg = f"{name} is in {region}: a transfer under {transfer.label}, reference {transfer.reference!r}"
        return verdict(True, rid, rtype, msg, ev, region)
    expected = f"one of {', '.join(allowed)}" if allowed else "an allowed region"
    msg = (
        f"{name} is in {region} (expected {expected}, or a transfer mechanism declared for {region} in gdpr.transfers)"
    )
    return verdict(False, rid, rtype, msg, ev, region)
