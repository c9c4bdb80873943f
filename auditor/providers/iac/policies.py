"""Our data about checkov ids: severities and titles (policies/checkov_ids.yaml) and our own
checkov YAML policies (policies/checkov/*.yaml). checkov reports no severity offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import ConfigError
from auditor.models import Severity
from auditor.resources import resource_dir

IDS_FILE = "checkov_ids.yaml"
CUSTOM_DIR = "checkov"

# What a failure of each category risks, and the usual fix. Titles come from checkov.
CATEGORY_TEXT: dict[str, tuple[str, str]] = {
    "encryption_at_rest": (
        "Data at rest that is not encrypted is readable by anyone who obtains the storage or a snapshot of it.",
        "Enable encryption at rest on the resource, with a customer-managed KMS key where the policy asks for one.",
    ),
    "encryption_in_transit": (
        "Traffic that is not encrypted can be read or altered on the network.",
        "Require TLS (1.2 or later) on every listener, endpoint and client connection of the resource.",
    ),
    "logging": (
        "Without logs, misuse and incidents cannot be detected, investigated or evidenced.",
        "Enable the resource's access, audit or flow logging and send it to a protected destination.",
    ),
    "log_retention": (
        "Data kept without a retention limit breaks storage limitation and grows the impact of a breach.",
        "Set an explicit retention period or lifecycle expiration that matches the retention schedule.",
    ),
    "backup": (
        "Without backups, versioning or deletion protection, data lost to error or attack cannot be restored.",
        "Enable automated backups, point-in-time recovery, versioning or deletion protection on the resource.",
    ),
    "public_exposure": (
        "A resource reachable from the internet exposes its data and services to anyone.",
        "Remove public access: private subnets, no 0.0.0.0/0 ingress, public access blocks, no public endpoints.",
    ),
    "least_privilege": (
        "Wildcard or over-broad permissions let one compromised identity reach far more than it needs.",
        "Grant only the actions and resources the principal needs; avoid '*' actions, resources and principals.",
    ),
    "authentication": (
        "Weak authentication settings make accounts easier to take over.",
        "Enforce strong authentication: password policy, no anonymous access, no root access keys.",
    ),
    "key_management": (
        "Keys that are never rotated or have no policy stay usable long after they may have leaked.",
        "Enable automatic key rotation and attach an explicit key policy.",
    ),
    "secrets": (
        "A credential in code or configuration is readable by everyone with access to the repository or image.",
        "Remove the secret, rotate it, and load it at run time from a secrets manager.",
    ),
    "workload_hardening": (
        "Privileged or root workloads turn a compromised container into a compromised host.",
        "Run as a non-root user without extra capabilities, privilege escalation or host namespaces.",
    ),
    "vulnerability_management": (
        "Unpinned or outdated images and runtimes bring known vulnerabilities and unreviewed changes.",
        "Pin images by version or digest, use supported runtimes and enable image scanning.",
    ),
    "threat_detection": (
        "Without threat detection or a web application firewall, attacks go unnoticed and unblocked.",
        "Enable the detector or attach a web application firewall to the resource.",
    ),
    "change_management": (
        "A CI pipeline that can be injected into or that skips signing lets unreviewed code reach production.",
        "Harden the workflow: no untrusted input in run steps, least-privilege tokens, signed artifacts.",
    ),
    "capacity": (
        "Workloads without limits or health probes can starve others and fail without being restarted.",
        "Set resource requests and limits and configure liveness and readiness probes.",
    ),
    "data_governance": (
        "Personal data that is not classified, kept too long or stored in the wrong place breaks GDPR duties.",
        "Tag stores of personal data, set retention, keep them in allowed regions and back them up.",
    ),
}
DEFAULT_CATEGORY_TEXT = (
    "The resource does not follow a checkov security policy.",
    "Change the resource so that it meets the policy named in the title.",
)

# checkov's own categories (a YAML policy's required `metadata.category`) and the text
# category each one reads as. A policy can name a finer one of CATEGORY_TEXT in
# `metadata.auditor_category` (checkov ignores keys it does not know): a log group's
# retention is a LOGGING policy for checkov, but its risk is keeping data too long.
CHECKOV_CATEGORIES: dict[str, str] = {
    "LOGGING": "logging",
    "ENCRYPTION": "encryption_at_rest",
    "GENERAL_SECURITY": "",
    "NETWORKING": "public_exposure",
    "IAM": "least_privilege",
    "BACKUP_AND_RECOVERY": "backup",
    "CONVENTION": "",
    "SECRETS": "secrets",
    "KUBERNETES": "workload_hardening",
    "APPLICATION_SECURITY": "",
    "SUPPLY_CHAIN": "vulnerability_management",
    "API_SECURITY": "",
    "SAST": "",
    "AI_AND_ML": "",
}


def load_yaml(path: Path) -> Any:
    """Parse a YAML file with libyaml's safe loader when available (several times faster than pure Python)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


@dataclass(frozen=True, slots=True)
class ToolIdInfo:
    """What we know about one checkov id."""

    id: str
    title: str
    severity: Severity
    category: str
    custom: bool = False


@dataclass(frozen=True)
class CheckovIdData:
    default_severity: Severity
    ids: dict[str, ToolIdInfo]

    def severity_of(self, check_id: str) -> Severity:
        info = self.ids.get(check_id)
        return info.severity if info else self.default_severity


def _severity(value: object, where: str) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise ConfigError(f"{where}: unknown severity {value!r}") from None


def load_checkov_ids(path: Path) -> CheckovIdData:
    """policies/checkov_ids.yaml: `default_severity` and `checks: {ID: {severity, category, title}}`."""
    try:
        data = load_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read checkov severities: {exc}".replace("\n", " ")) from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), dict):
        raise ConfigError(f"{path}: needs 'default_severity' and a 'checks' mapping")
    default = _severity(data.get("default_severity", "medium"), f"{path}: default_severity")
    ids: dict[str, ToolIdInfo] = {}
    for cid, raw in data["checks"].items():
        if not isinstance(raw, dict) or not raw.get("title"):
            raise ConfigError(f"{path}: {cid} needs a title and a severity")
        ids[str(cid)] = ToolIdInfo(
            id=str(cid),
            title=str(raw["title"]),
            severity=_severity(raw.get("severity"), f"{path}: {cid}"),
            category=str(raw.get("category") or ""),
        )
    return CheckovIdData(default_severity=default, ids=ids)


def load_custom_policies(directory: Path) -> dict[str, ToolIdInfo]:
    """Metadata of our own checkov YAML policies (the files checkov loads with --external-checks-dir)."""
    out: dict[str, ToolIdInfo] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = load_yaml(path)
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read checkov policy: {exc}".replace("\n", " ")) from None
        meta = data.get("metadata") if isinstance(data, dict) else None
        if not isinstance(meta, dict) or not meta.get("id") or not meta.get("name"):
            raise ConfigError(f"{path}: a checkov policy needs metadata.id and metadata.name")
        cid = str(meta["id"])
        category = policy_category(meta, path)
        if cid in out:
            raise ConfigError(f"{path}: checkov policy id {cid} is defined twice")
        out[cid] = ToolIdInfo(
            id=cid,
            title=str(meta["name"]),
            severity=_severity(meta.get("severity", "medium"), f"{path}: metadata.severity"),
            category=category,
            custom=True,
        )
    return out


def policy_category(meta: dict[str, Any], path: Path) -> str:
    """The text category (a key of CATEGORY_TEXT, or "" for the generic text) of one custom
    policy, from its own metadata: `auditor_category` when given, else checkov's `category`."""
    checkov_category = str(meta.get("category") or "").upper()
    if checkov_category not in CHECKOV_CATEGORIES:
        known = ", ".join(CHECKOV_CATEGORIES)
        raise ConfigError(f"{path}: metadata.category {meta.get('category')!r} is not a checkov category ({known})")
    refined = meta.get("auditor_category")
    if refined is None:
        return CHECKOV_CATEGORIES[checkov_category]
    if str(refined) not in CATEGORY_TEXT:
        known = ", ".join(sorted(CATEGORY_TEXT))
        raise ConfigError(f"{path}: metadata.auditor_category {refined!r} is not one of {known}")
    return str(refined)


@lru_cache(maxsize=1)
def shipped_checkov_data() -> tuple[CheckovIdData, dict[str, ToolIdInfo], Path]:
    """(severity data, our custom policies, the custom policies folder) from the shipped policies/."""
    policies = resource_dir("policies")
    ids = load_checkov_ids(policies / IDS_FILE)
    custom_dir = policies / CUSTOM_DIR
    custom = load_custom_policies(custom_dir) if custom_dir.is_dir() else {}
    clash = sorted(set(custom) & set(ids.ids))
    if clash:
        raise ConfigError(f"checkov ids defined both as custom policies and in {IDS_FILE}: {', '.join(clash)}")
    return ids, custom, custom_dir
