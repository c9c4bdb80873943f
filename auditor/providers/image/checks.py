"""The image checks: metadata as data (CheckInfo) and pure functions over a scanned image.

Each `check_*` function takes the facts (`ImageFacts`) and returns `Result`s; the
provider turns them into findings on the image's resource (id = the image id, the
sha256 digest of its config). Checks over the filesystem never PASS (nor call
themselves not applicable) on a view with gaps (`ScannedImage.gaps`: a layer that could
not be read, did not match its digest or had none, members over the path caps, contents
over the capture budget): they report ERROR instead. What they did find is still a FAIL.
Configuration checks read the config, whose digest is the image id, and are unaffected.

Severity policy (docs/providers/image.md):
- secrets in metadata or files: high (critical for private keys and cloud keys found in
  files or metadata — they are usable as they are);
- vulnerable packages: the advisory's own severity (CVSS when published);
- end-of-life release: high (no more security fixes at all);
- runs as root, setuid outside the allow-list, unsafe layer entries: medium/high;
- no HEALTHCHECK, mutable tag, old image: low/medium hygiene.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import yaml

from auditor.clock import parse_instant
from auditor.errors import ConfigError
from auditor.models import CheckInfo, Severity, Status
from auditor.providers.image.inventory import Inventory
from auditor.providers.image.scan import ScannedImage
from auditor.providers.image.secret_rules import (
    classify_secret_file,
    scan_command,
    scan_key_value,
    secret_file_candidate,
)
from auditor.resources import resource_path
from auditor.secret_patterns import HIGH_VALUE_DETECTORS


def _check(id_: str, title: str, severity: Severity, description: str, risk: str, remediation: str) -> CheckInfo:
    return CheckInfo(
        id=id_,
        title=title,
        severity=severity,
        provider="image",
        description=description,
        risk=risk,
        remediation=remediation,
        resource_type="container_image",
    )


RUNS_AS_ROOT = _check(
    "image.config.runs_as_root",
    "Container image does not run as root",
    Severity.MEDIUM,
    "The image's configured user (USER) must be a non-root user: not empty, not 0, not root, "
    "and not a name that /etc/passwd maps to uid 0.",
    "A process running as root inside a container turns any code-execution flaw into root on the "
    "container, one kernel bug away from root on the host.",
    "Add a dedicated user in the Dockerfile and switch to it with `USER app` (or a numeric uid).",
)
NO_HEALTHCHECK = _check(
    "image.config.healthcheck",
    "Container image defines a HEALTHCHECK",
    Severity.LOW,
    "The image config must define a HEALTHCHECK that is not disabled (`HEALTHCHECK NONE`).",
    "Without a health check the runtime cannot tell a hung service from a healthy one, so failures go "
    "unnoticed and are not restarted.",
    "Add `HEALTHCHECK CMD ...` to the Dockerfile, or document the orchestrator's probe as the control.",
)
METADATA_SECRETS = _check(
    "image.config.secrets",
    "No secrets in image environment, labels or build history",
    Severity.HIGH,
    "ENV variables, labels and build history steps must not carry credentials: detected by secret-like "
    "key names with a literal value and by known credential formats (private keys, cloud keys, tokens).",
    "Image metadata is readable by anyone who can pull the image; a credential in it is disclosed to all of them.",
    "Remove the value from the image, rotate the credential, and pass secrets at run time "
    "(orchestrator secrets, mounted files, BuildKit `--mount=type=secret` for builds).",
)
SECRET_FILES = _check(
    "image.files.secrets",
    "No secret files in the image filesystem",
    Severity.HIGH,
    "The image (final filesystem, and files removed in later layers, which stay readable in earlier "
    "layers) must not hold private keys, cloud credentials files, or .env files with credentials.",
    "Every layer of an image can be extracted by anyone who can pull it; deleting a file in a later "
    "layer does not remove it from the earlier one.",
    "Remove the file from the build context (.dockerignore), rebuild without it, and rotate the credential.",
)
SETUID = _check(
    "image.files.setuid_binaries",
    "No setuid/setgid binaries outside the allow-list",
    Severity.MEDIUM,
    "Files with the setuid or setgid bit must be among the distribution's expected binaries "
    "(policies/image_setuid_allowlist.yaml).",
    "An unexpected setuid binary is a privilege-escalation path for anything running in the container.",
    "Remove the bit (`chmod u-s,g-s FILE`) in the Dockerfile, or remove the binary.",
)
EOL = _check(
    "image.os.end_of_life",
    "Base image's distribution release is still supported",
    Severity.HIGH,
    "The operating system release (os-release) must not be past its end of security support "
    "(policies/image_eol.yaml: Debian, Ubuntu, Alpine).",
    "An end-of-life release receives no more security fixes: every vulnerability found after that date stays open.",
    "Rebuild the image on a supported release of the base image.",
)
IMAGE_AGE = _check(
    "image.build.age",
    "Image was built recently",
    Severity.MEDIUM,
    "The image's creation date must be within the maximum age (default 90 days, threshold image_max_age_days).",
    "An old image carries every vulnerability fixed in its base and packages since it was built.",
    "Rebuild and redeploy images on a schedule so that they pick up patched base images and packages.",
)
MUTABLE_TAG = _check(
    "image.reference.mutable_tag",
    "Image is referenced by a version tag or digest, not `latest`",
    Severity.LOW,
    "The image must be referenced by a digest or a version tag: not `latest`, and not untagged.",
    "`latest` names different images over time, so what was scanned and what runs can silently differ.",
    "Tag releases with a version and deploy by digest (`repo@sha256:...`).",
)
VULNERABLE = _check(
    "image.packages.vulnerable",
    "No known-vulnerable packages in the image",
    Severity.HIGH,
    "OS packages (dpkg, apk, rpm) and language packages (Python, npm, Ruby gems, Java archives, Go and Rust "
    "binaries) in the image must not match an advisory in the offline OSV database; versions are compared with "
    "the ecosystem's own ordering.",
    "A package with a published vulnerability is the easiest way into a system: the exploit is often public.",
    "Upgrade the package to the fixed version (rebuild on an updated base image), or waive with a reason.",
)
LAYER_INTEGRITY = _check(
    "image.layers.integrity",
    "Image layers are complete and match their digests",
    Severity.HIGH,
    "Every layer must be readable to the end, and its content must match the digest that the manifest "
    "and the config name.",
    "A layer that does not match its digest was altered or corrupted after the image was built.",
    "Pull or export the image again from a trusted registry; investigate where the archive was changed.",
)
UNSAFE_ENTRIES = _check(
    "image.layers.unsafe_entries",
    "Image layers hold no entries that escape the root",
    Severity.HIGH,
    "No layer member may have a path or hard-link target that climbs out of the image root (`..`).",
    "Such entries are a path-traversal attack on anything that extracts the image (CI, scanners, runtimes).",
    "Do not use the image; rebuild it from a trusted Dockerfile.",
)

ALL_CHECKS = [
    RUNS_AS_ROOT,
    NO_HEALTHCHECK,
    METADATA_SECRETS,
    SECRET_FILES,
    SETUID,
    EOL,
    IMAGE_AGE,
    MUTABLE_TAG,
    VULNERABLE,
    LAYER_INTEGRITY,
    UNSAFE_ENTRIES,
]
FILESYSTEM_CHECKS = {SECRET_FILES.id, SETUID.id, EOL.id, VULNERABLE.id, UNSAFE_ENTRIES.id}


@dataclass(frozen=True)
class Result:
    check: CheckInfo
    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None
    discriminator: str = ""


@dataclass
class ImageFacts:
    scanned: ScannedImage
    inventory: Inventory

    @property
    def config(self) -> dict[str, Any]:
        return self.scanned.source.config

    @property
    def runtime(self) -> dict[str, Any]:
        inner = self.config.get("config")
        return inner if isinstance(inner, dict) else {}

    @property
    def label(self) -> str:
        return self.scanned.source.reference


def incomplete(facts: ImageFacts, check: CheckInfo, what: str, evidence: dict[str, Any] | None = None) -> Result:
    """ERROR: the view has gaps, so `what` cannot be vouched for."""
    gaps = facts.scanned.gaps
    more = f"; {len(gaps) - 1} more" if len(gaps) > 1 else ""
    return Result(
        check,
        Status.ERROR,
        f"{facts.label}: {what} could not be fully checked: the image was not read completely "
        f"and verified ({gaps[0]}{more})",
        {**(evidence or {}), "layer_problems": facts.scanned.problems, "gaps": gaps[:20]},
    )


# Configuration checks -------------------------------------------------------------------


def passwd_uids(facts: ImageFacts) -> dict[str, int]:
    data = facts.scanned.view.read("etc/passwd")
    out: dict[str, int] = {}
    if not data:
        return out
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].isdigit():
            out.setdefault(parts[0], int(parts[2]))
    return out


def check_runs_as_root(facts: ImageFacts) -> list[Result]:
    user = str(facts.runtime.get("User") or "").strip()
    name = user.split(":", 1)[0]
    evidence: dict[str, Any] = {"user": user or None}
    if not name:
        return [
            Result(RUNS_AS_ROOT, Status.FAIL, f"{facts.label}: no USER is set, so the container runs as root", evidence)
        ]
    if name in ("0", "root"):
        return [Result(RUNS_AS_ROOT, Status.FAIL, f"{facts.label}: USER {user} is root", evidence)]
    if name.isdigit():
        return [Result(RUNS_AS_ROOT, Status.PASS, f"{facts.label}: runs as uid {name}", evidence)]
    uids = passwd_uids(facts)
    evidence["passwd_uid"] = uids.get(name)
    if uids.get(name) == 0:
        return [
            Result(RUNS_AS_ROOT, Status.FAIL, f"{facts.label}: USER {name} has uid 0 in /etc/passwd (root)", evidence)
        ]
    if not facts.scanned.complete:
        # The name's uid comes from /etc/passwd in the view: an unverified or missing layer
        # may have forged or hidden it.
        return [incomplete(facts, RUNS_AS_ROOT, f"USER {name}", evidence)]
    return [Result(RUNS_AS_ROOT, Status.PASS, f"{facts.label}: runs as user {name}", evidence)]


def check_healthcheck(facts: ImageFacts) -> list[Result]:
    hc = facts.runtime.get("Healthcheck")
    test = hc.get("Test") if isinstance(hc, dict) else None
    if not test:
        return [Result(NO_HEALTHCHECK, Status.FAIL, f"{facts.label}: no HEALTHCHECK is defined", {"healthcheck": None})]
    if isinstance(test, list) and test and str(test[0]).upper() == "NONE":
        return [
            Result(
                NO_HEALTHCHECK, Status.FAIL, f"{facts.label}: HEALTHCHECK is disabled (NONE)", {"healthcheck": "NONE"}
            )
        ]
    kind = str(test[0]) if isinstance(test, list) and test else "CMD"
    return [Result(NO_HEALTHCHECK, Status.PASS, f"{facts.label}: HEALTHCHECK is defined", {"healthcheck": kind})]


def check_metadata_secrets(facts: ImageFacts) -> list[Result]:
    results: list[Result] = []
    env = facts.runtime.get("Env") or []
    labels = facts.runtime.get("Labels") or {}
    history = facts.config.get("history") or []
    counts = {"env": 0, "labels": 0, "history": 0}
    for item in env if isinstance(env, list) else []:
        if not isinstance(item, str):
            continue
        counts["env"] += 1
        key, _, value = item.partition("=")
        for hit in scan_key_value(key, value):
            results.append(_secret_result(facts, "env", key, hit.detector, f"ENV {key}"))
    for key, value in labels.items() if isinstance(labels, dict) else []:
        counts["labels"] += 1
        for hit in scan_key_value(str(key), str(value)):
            results.append(_secret_result(facts, "label", str(key), hit.detector, f"label {key}"))
    for index, step in enumerate(history if isinstance(history, list) else []):
        if not isinstance(step, dict):
            continue
        counts["history"] += 1
        text = " ".join(str(step.get(k) or "") for k in ("created_by", "comment"))
        for hit in scan_command(text):
            where = f"build step {index + 1}" + (f" (variable {hit.key})" if hit.key else "")
            results.append(
                _secret_result(facts, "history", hit.key or f"step{index + 1}", hit.detector, where, step=index + 1)
            )
    if results:
        # Same key in ENV and in the history step that set it: both are reported, each where it is.
        unique: dict[str, Result] = {r.discriminator: r for r in results}
        return list(unique.values())
    return [
        Result(
            METADATA_SECRETS,
            Status.PASS,
            f"{facts.label}: no secrets in {counts['env']} ENV variables, {counts['labels']} labels and "
            f"{counts['history']} build steps",
            {"inspected": counts},
        )
    ]


def _secret_result(
    facts: ImageFacts, location: str, key: str, detector: str, where: str, step: int | None = None
) -> Result:
    evidence: dict[str, Any] = {"location": location, "name": key, "detector": detector}
    if step is not None:
        evidence["step"] = step
    severity = Severity.CRITICAL if detector in HIGH_VALUE_DETECTORS else Severity.HIGH
    return Result(
        METADATA_SECRETS,
        Status.FAIL,
        f"{facts.label}: {where} holds a secret ({detector.replace('_', ' ')}); the value is not shown",
        evidence,
        severity=severity,
        discriminator=f"{location}:{key}:{detector}",
    )


def check_mutable_tag(facts: ImageFacts) -> list[Result]:
    source = facts.scanned.source
    ref = source.reference
    evidence: dict[str, Any] = {"reference": ref, "tags": list(source.tags)}
    pinned = getattr(source, "pinned_digest", None)
    requested = getattr(source, "requested_tag", None)
    if pinned:
        return [Result(MUTABLE_TAG, Status.PASS, f"{ref}: referenced by digest", evidence)]
    if requested is not None:
        if requested == "latest":
            return [Result(MUTABLE_TAG, Status.FAIL, f"{ref}: referenced by the mutable tag 'latest'", evidence)]
        return [Result(MUTABLE_TAG, Status.PASS, f"{ref}: referenced by the version tag {requested!r}", evidence)]
    tags = [tag_of(t) for t in source.tags]
    if not tags:
        return [
            Result(MUTABLE_TAG, Status.FAIL, f"{ref}: the image has no tag, so nothing names its version", evidence)
        ]
    if all(t == "latest" for t in tags):
        return [Result(MUTABLE_TAG, Status.FAIL, f"{ref}: tagged only with the mutable tag 'latest'", evidence)]
    versioned = sorted(t for t in tags if t != "latest")
    return [Result(MUTABLE_TAG, Status.PASS, f"{ref}: tagged {', '.join(versioned)}", evidence)]


def tag_of(name: str) -> str:
    """The tag in `repo:tag`, `host:5000/repo:tag` or a bare OCI ref name `1.0`; `latest` when absent."""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[-1]
    return "latest" if "/" in name else last


def check_age(facts: ImageFacts, now: datetime, max_age_days: int) -> list[Result]:
    created = facts.config.get("created")
    evidence: dict[str, Any] = {
        "created": created,
        "max_age_days": max_age_days,
        "evaluated_at": now.date().isoformat(),
    }
    if not isinstance(created, str) or not created:
        return [Result(IMAGE_AGE, Status.ERROR, f"{facts.label}: the image config has no creation date", evidence)]
    try:
        when = parse_instant(re.sub(r"(\.\d{6})\d+", r"\1", created))
    except ConfigError:
        return [Result(IMAGE_AGE, Status.ERROR, f"{facts.label}: unreadable creation date {created[:40]!r}", evidence)]
    if when.year <= 1980:
        return [
            Result(
                IMAGE_AGE,
                Status.SKIPPED,
                f"{facts.label}: the creation date is the epoch (a reproducible build): its age is unknown",
                evidence,
            )
        ]
    age = (now - when).days
    evidence["age_days"] = age
    if age > max_age_days:
        return [
            Result(
                IMAGE_AGE,
                Status.FAIL,
                f"{facts.label}: built {age} days ago ({when.date()}), over the {max_age_days}-day maximum",
                evidence,
            )
        ]
    return [Result(IMAGE_AGE, Status.PASS, f"{facts.label}: built {age} days ago ({when.date()})", evidence)]


# Filesystem checks ----------------------------------------------------------------------


def check_secret_files(facts: ImageFacts) -> list[Result]:
    view = facts.scanned.view
    results: list[Result] = []
    inspected = 0
    partly_read: list[str] = []
    candidates: list[tuple[str, int, bytes, int, bool]] = [
        (path, e.layer, e.content, e.size, False)
        for path, e in view.entries.items()
        if e.is_regular and e.content is not None
    ]
    candidates += [(path, layer, content, size, True) for path, layer, content, size in view.removed]
    for path, layer, content, size, removed in candidates:
        kind = classify_secret_file(path, content)
        if kind is None:
            if len(content) < size and secret_file_candidate(path):
                partly_read.append(f"/{path} (first {len(content)} of {size} bytes)")
            continue
        inspected += 1
        where = f"/{path}" + (f" (removed later, still in layer {layer + 1})" if removed else "")
        severity = Severity.CRITICAL if kind in ("private_key", "aws_credentials") else Severity.HIGH
        results.append(
            Result(
                SECRET_FILES,
                Status.FAIL,
                f"{facts.label}: {where} is a secret file ({kind.replace('_', ' ')})",
                {"path": "/" + path, "kind": kind, "layer": layer + 1, "removed_in_later_layer": removed},
                severity=severity,
                discriminator=f"{'removed:' if removed else ''}/{path}",
            )
        )
    if results:
        return results
    if not facts.scanned.complete:
        return [incomplete(facts, SECRET_FILES, "secret files")]
    if partly_read:
        return [
            Result(
                SECRET_FILES,
                Status.ERROR,
                f"{facts.label}: {len(partly_read)} possible secret file(s) were only partly read: {partly_read[0]}",
                {"partly_read": partly_read[:50]},
            )
        ]
    return [
        Result(
            SECRET_FILES,
            Status.PASS,
            f"{facts.label}: no private keys, credentials or .env files with secrets found",
            {"files": len(view.entries)},
        )
    ]


@lru_cache(maxsize=1)
def setuid_allowlist() -> frozenset[str]:
    path = resource_path("policies", "image_setuid_allowlist.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("allowed") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{path}: expected an 'allowed' list of paths")
    return frozenset(items)


def check_setuid(facts: ImageFacts) -> list[Result]:
    allowed = setuid_allowlist()
    found = []
    for path, entry in sorted(facts.scanned.view.entries.items()):
        if entry.is_regular and entry.mode & 0o6000:
            found.append(
                {
                    "path": "/" + path,
                    "mode": oct(entry.mode),
                    "uid": entry.uid,
                    "setuid": bool(entry.mode & 0o4000),
                    "setgid": bool(entry.mode & 0o2000),
                }
            )
    unexpected = [f for f in found if f["path"] not in allowed]
    expected = [f["path"] for f in found if f["path"] in allowed]
    evidence: dict[str, Any] = {"unexpected": unexpected, "allowed_present": expected}
    if unexpected:
        names = ", ".join(str(f["path"]) for f in unexpected[:5]) + (" ..." if len(unexpected) > 5 else "")
        return [
            Result(
                SETUID,
                Status.FAIL,
                f"{facts.label}: {len(unexpected)} setuid/setgid file(s) outside the allow-list: {names}",
                evidence,
            )
        ]
    if not facts.scanned.complete:
        return [incomplete(facts, SETUID, "setuid binaries", evidence)]
    return [
        Result(
            SETUID,
            Status.PASS,
            f"{facts.label}: {len(expected)} setuid/setgid file(s), all on the allow-list",
            evidence,
        )
    ]


@lru_cache(maxsize=1)
def eol_table() -> dict[str, dict[str, dict[str, Any]]]:
    path = resource_path("policies", "image_eol.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of distribution -> releases")
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for distro, releases in data.items():
        if not isinstance(releases, list):
            raise ConfigError(f"{path}: {distro}: expected a list of releases")
        for rel in releases:
            if not isinstance(rel, dict) or not isinstance(rel.get("eol"), date) or "version" not in rel:
                raise ConfigError(f"{path}: {distro}: each release needs a version and an eol date")
            table.setdefault(str(distro), {})[str(rel["version"])] = rel
    return table


def release_key(distro: str, version_id: str) -> str:
    if distro in ("debian", "rhel", "centos", "rocky", "almalinux"):
        return version_id.split(".")[0]
    if distro == "alpine":
        return ".".join(version_id.split(".")[:2])
    return version_id


def check_eol(facts: ImageFacts, now: datetime) -> list[Result]:
    os_ = facts.inventory.os
    if os_ is None:
        if not facts.scanned.complete:
            return [incomplete(facts, EOL, "the operating system")]
        return [
            Result(EOL, Status.SKIPPED, f"{facts.label}: no os-release file: no distribution to check", {"os": None})
        ]
    evidence: dict[str, Any] = {"os": os_.to_dict()}
    releases = eol_table().get(os_.id)
    key = release_key(os_.id, os_.version_id)
    rel = releases.get(key) if releases is not None else None
    if rel is not None:
        eol: date = rel["eol"]
        evidence.update({"release": key, "eol": eol.isoformat(), "evaluated_at": now.date().isoformat()})
        if now.date() >= eol:
            return [
                Result(
                    EOL,
                    Status.FAIL,
                    f"{facts.label}: {os_.pretty_name} reached end of life on {eol} "
                    f"({(now.date() - eol).days} days ago)",
                    evidence,
                )
            ]
    if not facts.scanned.complete:
        # os-release was read from a view with gaps: it may come from an unverified layer,
        # or a layer that could not be read may have replaced it.
        return [incomplete(facts, EOL, f"the operating system ({os_.pretty_name}, as read)", evidence)]
    if releases is None:
        return [Result(EOL, Status.SKIPPED, f"{facts.label}: no end-of-life data for {os_.pretty_name}", evidence)]
    if rel is None:
        return [
            Result(
                EOL,
                Status.SKIPPED,
                f"{facts.label}: {os_.pretty_name} (release {key or 'unknown'}) is not in the end-of-life table",
                evidence,
            )
        ]
    return [Result(EOL, Status.PASS, f"{facts.label}: {os_.pretty_name} is supported until {rel['eol']}", evidence)]


def check_layer_integrity(facts: ImageFacts) -> list[Result]:
    layers = [
        {
            "layer": r.index + 1,
            "state": r.state,
            "digest": r.info.get("digest"),
            "diff_id": r.info.get("diff_id"),
            "compression": r.info.get("compression"),
        }
        for r in facts.scanned.layers
    ]
    problems = facts.scanned.problems
    evidence: dict[str, Any] = {"layers": layers, "problems": problems}
    mismatches = [f"layer {r.index + 1}: {r.error}" for r in facts.scanned.layers if r.state == "mismatch"]
    if mismatches:
        return [
            Result(
                LAYER_INTEGRITY,
                Status.FAIL,
                f"{facts.label}: {len(mismatches)} layer(s) do not match their digest: {mismatches[0]}",
                evidence,
            )
        ]
    if problems:
        return [
            Result(
                LAYER_INTEGRITY,
                Status.ERROR,
                f"{facts.label}: {len(problems)} layer(s) could not be read or verified: {problems[0]}",
                evidence,
            )
        ]
    return [
        Result(
            LAYER_INTEGRITY,
            Status.PASS,
            f"{facts.label}: all {len(layers)} layer(s) read completely and match their digests",
            evidence,
        )
    ]


def check_unsafe_entries(facts: ImageFacts) -> list[Result]:
    unsafe = facts.scanned.unsafe_entries
    evidence: dict[str, Any] = {"entries": unsafe[:50], "count": len(unsafe)}
    if unsafe:
        return [
            Result(
                UNSAFE_ENTRIES,
                Status.FAIL,
                f"{facts.label}: {len(unsafe)} layer entr{'y' if len(unsafe) == 1 else 'ies'} escape the "
                f"image root: {unsafe[0]}",
                evidence,
            )
        ]
    if not facts.scanned.complete:
        return [incomplete(facts, UNSAFE_ENTRIES, "layer entries", evidence)]
    return [Result(UNSAFE_ENTRIES, Status.PASS, f"{facts.label}: no layer entry escapes the image root", evidence)]


def display_path(path: str) -> str:
    return "/" + posixpath.normpath(path).lstrip("/")
