"""Which files in scope checkov must report on: the IaC-shaped files.

checkov drops some files without a word (a Kubernetes manifest whose YAML does not load,
a resource name it finds invalid, a workflow that fails its schema, a file over its size
limit). A file of one of the shapes below that checkov reported neither a result nor a
parsing error for was skipped, and the scan says so (ERROR). The rules are deliberately
narrow: each names something checkov has at least one check for, so a file that matches
always gives checkov something to report.

- **Dockerfile**: the file name matches checkov's Dockerfile pattern (`Dockerfile`,
  `x.Dockerfile`, `Dockerfile.x`, any case of the first letter; not `.dockerignore`) and
  a line starts with a `FROM` instruction.
- **GitHub Actions workflow**: a `.yml`/`.yaml` file under a `.github/workflows/` folder
  with a top-level `jobs:` key.
- **Kubernetes manifest**: a `.yaml`/`.yml` file with a document that has top-level
  `apiVersion:` and `kind: <K>` keys, or a `.json` file whose top-level object has
  `apiVersion` and `kind: <K>`, where K is a kind checkov checks (`KUBERNETES_KINDS`).
  Files holding template markers (`{{`) are Helm templates, scanned through their chart.
- **CloudFormation template**: a `.yaml`/`.yml`/`.json`/`.template` file with a top-level
  `Resources` mapping holding a `Type` checkov checks (`CLOUDFORMATION_RESOURCE_TYPES`).
- **Terraform**: a `.tf` file with a line `resource "<type>" "<name>"` (at the start of a
  line, so commented-out blocks do not count) of a type checkov checks
  (`TERRAFORM_RESOURCE_TYPES`).

Everything else is still given to checkov (its secrets scan reads every file), but a file
outside these shapes that gives no result is not an error: it may simply hold no
infrastructure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from auditor.providers.base import FileClaim, StagedFile
from auditor.providers.iac.checked_types import (
    CLOUDFORMATION_RESOURCE_TYPES,
    KUBERNETES_KINDS,
    TERRAFORM_RESOURCE_TYPES,
)

DOCKERFILE = "dockerfile"
GITHUB_ACTIONS = "github_actions"
KUBERNETES = "kubernetes"
CLOUDFORMATION = "cloudformation"
TERRAFORM = "terraform"

# checkov's own Dockerfile name pattern (checkov.common.util.dockerfile.DOCKERFILE_MASK).
DOCKERFILE_NAME = re.compile(r"^(?:.+\.)?[Dd]ockerfile(?:\..+)?$(?<!\.[Dd]ockerignore)")
FROM_LINE = re.compile(r"^\s*FROM\s+\S", re.IGNORECASE | re.MULTILINE)
TF_RESOURCE = re.compile(r'^\s*resource\s+"([A-Za-z0-9_-]+)"\s+"[^"]*"', re.MULTILINE)
TOP_LEVEL_JOBS = re.compile(r"^jobs\s*:", re.MULTILINE)
YAML_DOC_SPLIT = re.compile(r"^---.*$", re.MULTILINE)
TOP_API_VERSION = re.compile(r"^['\"]?apiVersion['\"]?\s*:", re.MULTILINE)
TOP_KIND = re.compile(r"^['\"]?kind['\"]?\s*:\s*['\"]?([A-Za-z0-9]+)['\"]?\s*(?:#.*)?$", re.MULTILINE)
TOP_RESOURCES = re.compile(r"^['\"]?Resources['\"]?\s*:", re.MULTILINE)
CFN_TYPE = re.compile(r"^\s+['\"]?Type['\"]?\s*:\s*['\"]?([A-Za-z0-9]+::[A-Za-z0-9:]+)['\"]?", re.MULTILINE)

YAML_SUFFIXES = (".yaml", ".yml")
CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")
# Only files that could have one of the shapes are read.
CANDIDATE_SUFFIXES = (".tf", ".yaml", ".yml", ".json", ".template")


def is_candidate(path: Path) -> bool:
    """Whether `path` could be IaC-shaped (without reading it)."""
    return path.name.endswith(CANDIDATE_SUFFIXES) or DOCKERFILE_NAME.match(path.name) is not None


def iac_shape(path: Path, text: str) -> str | None:
    """The checkov framework that must report on this file, or None (see the module doc)."""
    name = path.name
    if DOCKERFILE_NAME.match(name):
        return DOCKERFILE if FROM_LINE.search(text) else None
    if name.endswith(".tf"):
        types = {m.group(1) for m in TF_RESOURCE.finditer(text)}
        return TERRAFORM if types & TERRAFORM_RESOURCE_TYPES else None
    if name.endswith(YAML_SUFFIXES) and "/.github/workflows/" in path.as_posix():
        return GITHUB_ACTIONS if TOP_LEVEL_JOBS.search(text) else None
    if name.endswith(".json") or (name.endswith(".template") and text.lstrip().startswith("{")):
        return _json_shape(text)
    if name.endswith(YAML_SUFFIXES) and _yaml_kubernetes(text):
        return KUBERNETES
    if name.endswith(CFN_SUFFIXES) and _yaml_cloudformation(text):
        return CLOUDFORMATION
    return None


def _yaml_kubernetes(text: str) -> bool:
    if "{{" in text:
        return False  # a Helm template: checkov scans it through its chart
    for doc in YAML_DOC_SPLIT.split(text):
        if not TOP_API_VERSION.search(doc):
            continue
        kind = TOP_KIND.search(doc)
        if kind and kind.group(1) in KUBERNETES_KINDS:
            return True
    return False


def _yaml_cloudformation(text: str) -> bool:
    if not TOP_RESOURCES.search(text):
        return False
    return any(m.group(1) in CLOUDFORMATION_RESOURCE_TYPES for m in CFN_TYPE.finditer(text))


def _json_shape(text: str) -> str | None:
    if '"kind"' not in text and '"Resources"' not in text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if "apiVersion" in doc and doc.get("kind") in KUBERNETES_KINDS:
        return KUBERNETES
    resources = doc.get("Resources")
    if isinstance(resources, dict):
        for res in resources.values():
            if isinstance(res, dict) and res.get("Type") in CLOUDFORMATION_RESOURCE_TYPES:
                return CLOUDFORMATION
    return None


# The pre-commit hook's classes (`IacProvider.accepts_file`) --------------------------------

TERRAFORM_SUFFIXES = (".tf", ".tfvars", ".hcl")
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".template")
# `.env`, `.env.production`, `prod.env`: checkov's secrets scan reads every file given to it.
ENV_FILE = re.compile(r"^(?:\.env(?:\..+)?|.+\.env)$")
HELM_FILE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt")


def claim_staged_file(file: StagedFile) -> FileClaim | None:
    """IaC for a staged file: Terraform/HCL, Dockerfiles, `.env` files (secrets), and
    YAML/JSON/`.template` files that are IaC-shaped (`iac_shape`); a file of a Helm chart
    sends the chart's folder. Other YAML/JSON is "not infrastructure as code"."""
    name = file.name
    chart = helm_chart(file.path, file.root)
    if chart is not None:
        return FileClaim(chart)
    if name.endswith(TERRAFORM_SUFFIXES) or DOCKERFILE_NAME.match(name) or ENV_FILE.match(name):
        return FileClaim(file.rel)
    if name.endswith(DATA_SUFFIXES):
        if iac_shape(file.path, file.head) is not None:
            return FileClaim(file.rel)
        return FileClaim(None, "not infrastructure as code")
    return None


def helm_chart(path: Path, root: Path) -> str | None:
    """The chart folder (relative to root) when `path` is Chart.yaml, values or a template of a chart."""
    if not path.name.endswith(HELM_FILE_SUFFIXES):
        return None
    folder = path.parent
    while True:
        if (folder / "Chart.yaml").is_file():
            return folder.relative_to(root).as_posix() if folder != root else "."
        if folder == root or root not in folder.parents:
            return None
        folder = folder.parent
