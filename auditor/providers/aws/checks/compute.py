"""Compute and containers: ECR repositories, EKS clusters, Lambda access and environment, SSM documents.

Lambda environment variables are judged by name and by the project's one secret detector
(`auditor.redact.detect_secrets`); findings carry variable NAMES and detector names only,
never a value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import as_list, public_statements
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import AwsCheck, CheckInput, Outcome, Scope, info, verdict
from auditor.redact import detect_secrets

REPO = "AWS::ECR::Repository"
CLUSTER = "AWS::EKS::Cluster"
FUNCTION = "AWS::Lambda::Function"
DOCUMENT = "AWS::SSM::Document"
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


# --- ECR -------------------------------------------------------------------------------


def ecr_repos(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("ecr")["repositories"])


def check_ecr_scan_on_push(inp: CheckInput) -> Iterator[Outcome]:
    for r in ecr_repos(inp):
        on = bool((r.get("imageScanningConfiguration") or {}).get("scanOnPush"))
        msg = f"repository {r['repositoryName']} scan on push is {'on' if on else 'off (expected: on)'}"
        yield verdict(on, r["repositoryArn"], REPO, msg, {"scanOnPush": on}, inp.region)


def check_ecr_immutable(inp: CheckInput) -> Iterator[Outcome]:
    for r in ecr_repos(inp):
        mode = r.get("imageTagMutability") or "MUTABLE"
        ok = mode.startswith("IMMUTABLE")
        msg = f"repository {r['repositoryName']} image tags are {mode}" + ("" if ok else " (expected: IMMUTABLE)")
        yield verdict(ok, r["repositoryArn"], REPO, msg, {"imageTagMutability": mode}, inp.region)


def repo_label(r: dict[str, Any]) -> str:
    return f"repository {r['repositoryName']}"


def judge_ecr_not_public(inp: CheckInput, r: dict[str, Any]) -> Outcome:
    policy = r.get("policy")
    sids = public_statements(policy) if policy else []
    msg = (
        f"{repo_label(r)} policy allows any principal in statement(s) "
        f"{', '.join(sids)} (expected: named accounts, or a condition naming the callers)"
        if sids
        else f"{repo_label(r)} policy grants no public access"
    )
    ev = {"has_policy": policy is not None, "public_statements": sids}
    return verdict(not sids, r["repositoryArn"], REPO, msg, ev, inp.region)


def judge_ecr_lifecycle(inp: CheckInput, r: dict[str, Any]) -> Outcome:
    ok = bool(r.get("lifecycle_policy"))
    msg = f"{repo_label(r)} " + (
        "has a lifecycle policy" if ok else "has no lifecycle policy (expected: one that expires old images)"
    )
    return verdict(ok, r["repositoryArn"], REPO, msg, {"lifecycle_policy": ok}, inp.region)


# A repository whose policy or lifecycle policy could not be read is ERROR naming the field and code.
# A policy that is not a JSON object (a list, a string) cannot be judged: ERROR (MalformedAnswer), never PASS.
check_ecr_not_public = per_resource(
    ecr_repos, lambda r: str(r["repositoryArn"]), REPO, repo_label, ("policy",), judge_ecr_not_public,
    {"policy": dict},
)  # fmt: skip
check_ecr_lifecycle = per_resource(
    ecr_repos, lambda r: str(r["repositoryArn"]), REPO, repo_label, ("lifecycle_policy",), judge_ecr_lifecycle
)


# --- EKS -------------------------------------------------------------------------------


def eks_clusters(inp: CheckInput) -> list[dict[str, Any]]:
    """Every cluster: its description, or {name, arn, error} when it could not be described."""
    return list(inp.data("eks")["clusters"])


def eks_check(judge: Callable[[CheckInput, dict[str, Any]], Outcome]) -> Callable[[CheckInput], Iterator[Outcome]]:
    """A cluster that could not be described is ERROR naming the code."""
    return per_resource(
        eks_clusters, lambda c: str(c["arn"]), CLUSTER, lambda c: f"cluster {c['name']}", ("error",), judge
    )


def judge_eks_public_cidrs(inp: CheckInput, c: dict[str, Any]) -> Outcome:
    vpc = c.get("resourcesVpcConfig") or {}
    public = bool(vpc.get("endpointPublicAccess", True))
    cidrs = list(vpc.get("publicAccessCidrs") or (["0.0.0.0/0"] if public else []))
    bad = public and any(x in ("0.0.0.0/0", "::/0") for x in cidrs)
    msg = (
        f"cluster {c['name']} API endpoint is public to {', '.join(cidrs)} (expected: private, or limited to "
        "known CIDRs)"
        if bad
        else f"cluster {c['name']} API endpoint is "
        + (f"public only to {', '.join(cidrs)}" if public else "private")
    )
    ev = {"endpointPublicAccess": public, "publicAccessCidrs": cidrs}
    return verdict(not bad, c["arn"], CLUSTER, msg, ev, inp.region)


def judge_eks_private_endpoint(inp: CheckInput, c: dict[str, Any]) -> Outcome:
    vpc = c.get("resourcesVpcConfig") or {}
    public = bool(vpc.get("endpointPublicAccess", True))
    private = bool(vpc.get("endpointPrivateAccess", False))
    ok = private and not public
    msg = f"cluster {c['name']} endpoint: public access {'on' if public else 'off'}, private access " + (
        "on" if private else "off"
    )
    if not ok:
        msg += " (expected: private only)"
    ev = {"endpointPublicAccess": public, "endpointPrivateAccess": private}
    return verdict(ok, c["arn"], CLUSTER, msg, ev, inp.region)


def judge_eks_logging(inp: CheckInput, c: dict[str, Any]) -> Outcome:
    enabled: set[str] = set()
    for entry in (c.get("logging") or {}).get("clusterLogging") or []:
        if entry.get("enabled"):
            enabled.update(entry.get("types") or [])
    missing = [t for t in EKS_LOG_TYPES if t not in enabled]
    msg = (
        f"cluster {c['name']} does not log {', '.join(missing)} (expected: all of {', '.join(EKS_LOG_TYPES)})"
        if missing
        else f"cluster {c['name']} logs every control-plane log type"
    )
    ev = {"enabled": sorted(enabled), "missing": missing}
    return verdict(not missing, c["arn"], CLUSTER, msg, ev, inp.region)


def judge_eks_secrets_encryption(inp: CheckInput, c: dict[str, Any]) -> Outcome:
    keys = [
        (e.get("provider") or {}).get("keyArn")
        for e in c.get("encryptionConfig") or []
        if "secrets" in as_list(e.get("resources"))
    ]
    ok = any(keys)
    msg = f"cluster {c['name']} " + (
        "encrypts Kubernetes secrets with a KMS key"
        if ok
        else "does not encrypt Kubernetes secrets with a KMS key (expected: encryptionConfig for secrets)"
    )
    return verdict(ok, c["arn"], CLUSTER, msg, {"secrets_key": next((k for k in keys if k), None)}, inp.region)


check_eks_public_cidrs = eks_check(judge_eks_public_cidrs)
check_eks_private_endpoint = eks_check(judge_eks_private_endpoint)
check_eks_logging = eks_check(judge_eks_logging)
check_eks_secrets_encryption = eks_check(judge_eks_secrets_encryption)


# --- Lambda ----------------------------------------------------------------------------


def lambda_access(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("lambda_access")["functions"])


def function_label(fn: dict[str, Any]) -> str:
    return f"function {fn['name']}"


def judge_lambda_url_auth(inp: CheckInput, fn: dict[str, Any]) -> Outcome | None:
    url = fn.get("url")
    if not url:
        return None  # no function URL: nothing reachable this way
    auth = url.get("AuthType")
    ok = auth != "NONE"
    msg = f"function {fn['name']} URL auth type is {auth}" + ("" if ok else " (expected: AWS_IAM)")
    return verdict(ok, fn["arn"], FUNCTION, msg, {"AuthType": auth}, inp.region)


def judge_lambda_url_cors(inp: CheckInput, fn: dict[str, Any]) -> Outcome | None:
    url = fn.get("url")
    if not url:
        return None
    origins = list(url.get("AllowOrigins") or [])
    wildcard = "*" in origins
    msg = (
        f"function {fn['name']} URL allows browser calls from any origin (expected: named origins)"
        if wildcard
        else f"function {fn['name']} URL CORS origins: {', '.join(origins) or 'none'}"
    )
    return verdict(not wildcard, fn["arn"], FUNCTION, msg, {"AllowOrigins": origins}, inp.region)


def judge_lambda_policy_public(inp: CheckInput, fn: dict[str, Any]) -> Outcome:
    policy = fn.get("policy")
    sids = public_statements(policy) if policy else []
    msg = (
        f"function {fn['name']} policy lets any principal invoke it (statement(s) "
        f"{', '.join(sids)}; expected: named principals or a source condition)"
        if sids
        else f"function {fn['name']} policy grants no public access"
    )
    ev = {"has_policy": policy is not None, "public_statements": sids}
    return verdict(not sids, fn["arn"], FUNCTION, msg, ev, inp.region)


# A function whose URL configuration or policy could not be read, or came back as something else than
# a JSON object, is ERROR naming the field and code.
check_lambda_url_auth = per_resource(
    lambda_access, lambda fn: str(fn["arn"]), FUNCTION, function_label, ("url",), judge_lambda_url_auth,
    {"url": dict},
)  # fmt: skip
check_lambda_url_cors = per_resource(
    lambda_access, lambda fn: str(fn["arn"]), FUNCTION, function_label, ("url",), judge_lambda_url_cors,
    {"url": dict},
)  # fmt: skip
check_lambda_policy_public = per_resource(
    lambda_access, lambda fn: str(fn["arn"]), FUNCTION, function_label, ("policy",), judge_lambda_policy_public,
    {"policy": dict},
)  # fmt: skip


def check_lambda_env_secrets(inp: CheckInput) -> Iterator[Outcome]:
    for fn in inp.data("lambda")["functions"]:
        variables = ((fn.get("Environment") or {}).get("Variables")) or {}
        suspects: dict[str, list[str]] = {}
        for name, value in variables.items():
            hits = detect_secrets(str(value), key=str(name))
            if hits:
                suspects[str(name)] = sorted({h.detector for h in hits})
        msg = (
            f"function {fn['FunctionName']} holds what looks like a secret in environment variable(s) "
            f"{', '.join(sorted(suspects))} (expected: a Secrets Manager or Parameter Store reference)"
            if suspects
            else f"function {fn['FunctionName']} has no secret-looking environment variable"
        )
        ev = {"variables": sorted(str(k) for k in variables), "suspect_variables": suspects}
        yield verdict(not suspects, fn["FunctionArn"], FUNCTION, msg, ev, inp.region)


def check_lambda_tracing(inp: CheckInput) -> Iterator[Outcome]:
    for fn in inp.data("lambda")["functions"]:
        mode = (fn.get("TracingConfig") or {}).get("Mode") or "PassThrough"
        ok = mode == "Active"
        msg = f"function {fn['FunctionName']} tracing mode is {mode}" + ("" if ok else " (expected: Active)")
        yield verdict(ok, fn["FunctionArn"], FUNCTION, msg, {"TracingConfig.Mode": mode}, inp.region)


# --- SSM -------------------------------------------------------------------------------


def documents(inp: CheckInput) -> list[dict[str, Any]]:
    """Every document the account owns, each with its ARN."""
    return [
        {**d, "arn": f"arn:aws:ssm:{inp.region}:{inp.account}:document/{d['name']}"}
        for d in inp.data("ssm")["documents"]
    ]


def document_label(d: dict[str, Any]) -> str:
    return f"document {d['name']}"


def judge_ssm_document_public(inp: CheckInput, d: dict[str, Any]) -> Outcome:
    shared = d["shared_with"]
    public = "all" in [str(a).lower() for a in shared]
    msg = f"document {d['name']} is " + (
        "shared with everyone (expected: private or named accounts)"
        if public
        else f"not public (shared with {len(shared)} account(s))"
    )
    ev = {"public": public, "shared_accounts": len(shared)}
    return verdict(not public, d["arn"], DOCUMENT, msg, ev, inp.region)


# DescribeDocumentPermission always answers a list of account ids: anything else (a string, nothing)
# is ERROR, never "not public".
check_ssm_document_public = per_resource(
    documents, lambda d: str(d["arn"]), DOCUMENT, document_label, ("shared_with",), judge_ssm_document_public,
    {"shared_with": list}, required=("shared_with",),
)  # fmt: skip


def check_ecr_kms(inp: CheckInput) -> Iterator[Outcome]:
    for r in ecr_repos(inp):
        enc = r.get("encryptionConfiguration") or {}
        kind = str(enc.get("encryptionType") or "AES256")
        ok = kind.startswith("KMS")
        msg = f"repository {r['repositoryName']} is encrypted with {kind}" + (
            "" if ok else " (expected: KMS with a key you control)"
        )
        yield verdict(
            ok, r["repositoryArn"], REPO, msg, {"encryptionType": kind, "kmsKey": enc.get("kmsKey")}, inp.region
        )


def managed_instance_arn(inp: CheckInput, rid: str) -> str:
    if rid.startswith("mi-"):
        return f"arn:aws:ssm:{inp.region}:{inp.account}:managed-instance/{rid}"
    return f"arn:aws:ec2:{inp.region}:{inp.account}:instance/{rid}"


def check_patch_compliance(inp: CheckInput) -> Iterator[Outcome]:
    for item in inp.data("ssm_patch")["summaries"]:
        rid = str(item.get("ResourceId"))
        status = str(item.get("Status") or "")
        ok = status == "COMPLIANT"
        counts = item.get("NonCompliantSummary") or {}
        missing = int(counts.get("NonCompliantCount") or 0)
        msg = f"managed instance {rid} patch compliance is {status or 'unknown'}" + (
            "" if ok else f" with {missing} non-compliant patch item(s) (expected: COMPLIANT)"
        )
        ev = {
            "status": status,
            "overall_severity": item.get("OverallSeverity"),
            "non_compliant": missing,
            "execution_time": str((item.get("ExecutionSummary") or {}).get("ExecutionTime") or "") or None,
        }
        yield verdict(ok, managed_instance_arn(inp, rid), "AWS::SSM::ManagedInstance", msg, ev, inp.region)


def judge_ssm_document_secrets(inp: CheckInput, d: dict[str, Any]) -> Outcome:
    found = d["content"]
    detectors = list(found.get("detectors") or [])
    keys = list(found.get("keys") or [])
    named = f" ({', '.join(keys)})" if keys else ""
    msg = (
        f"document {d['name']} holds what looks like a secret: {', '.join(detectors)}{named} "
        "(expected: a Parameter Store or Secrets Manager reference)"
        if detectors
        else f"document {d['name']} holds no secret-looking value"
    )
    return verdict(not detectors, d["arn"], DOCUMENT, msg, {"detectors": detectors, "variables": keys}, inp.region)


# The content scan always yields {detectors, keys}: a document without it was not scanned (ERROR).
check_ssm_document_secrets = per_resource(
    documents, lambda d: str(d["arn"]), DOCUMENT, document_label, ("content",), judge_ssm_document_secrets,
    {"content": dict}, required=("content",),
)  # fmt: skip


def _c(cid: str, title: str, sev: Severity, rtype: str, risk: str, fix: str, fn: Any, needs: str) -> AwsCheck:
    return AwsCheck(info(cid, title, sev, rtype, risk, fix), (needs,), Scope.REGION, fn)


CHECKS: list[AwsCheck] = [
    _c(
        "aws.ecr.scan_on_push",
        "ECR repositories scan images on push",
        Severity.MEDIUM,
        REPO,
        "Images with known vulnerabilities are deployed without anyone being told.",
        "Turn on scan on push (or registry-level enhanced scanning) for every repository.",
        check_ecr_scan_on_push,
        "ecr",
    ),
    _c(
        "aws.ecr.immutable_tags",
        "ECR repositories have immutable image tags",
        Severity.MEDIUM,
        REPO,
        "A pushed tag can be overwritten, so the image deployed is not the image that was reviewed.",
        "Set imageTagMutability to IMMUTABLE.",
        check_ecr_immutable,
        "ecr",
    ),
    _c(
        "aws.ecr.repository_not_public",
        "ECR repository policies do not allow public access",
        Severity.HIGH,
        REPO,
        "Anyone can pull (or push to) a repository whose policy allows Principal '*' without a condition.",
        "Name the accounts or roles in the repository policy, or add a condition (aws:PrincipalOrgID).",
        check_ecr_not_public,
        "ecr",
    ),
    _c(
        "aws.ecr.lifecycle_policy",
        "ECR repositories have a lifecycle policy",
        Severity.LOW,
        REPO,
        "Old, unpatched images accumulate and remain deployable.",
        "Add a lifecycle policy that expires untagged and old images.",
        check_ecr_lifecycle,
        "ecr",
    ),
    _c(
        "aws.eks.endpoint_not_open_to_internet",
        "EKS API endpoints are not open to 0.0.0.0/0",
        Severity.HIGH,
        CLUSTER,
        "A public Kubernetes API reachable from anywhere is exposed to credential attacks and API exploits.",
        "Turn off public endpoint access, or restrict publicAccessCidrs to known networks.",
        check_eks_public_cidrs,
        "eks",
    ),
    _c(
        "aws.eks.endpoint_private_only",
        "EKS API endpoints are private only",
        Severity.MEDIUM,
        CLUSTER,
        "Any public endpoint, even CIDR-restricted, widens the cluster's attack surface.",
        "Enable private endpoint access and disable public access.",
        check_eks_private_endpoint,
        "eks",
    ),
    _c(
        "aws.eks.control_plane_logging",
        "EKS clusters log every control-plane log type",
        Severity.MEDIUM,
        CLUSTER,
        "Without audit and authenticator logs there is no record of who did what in the cluster.",
        "Enable api, audit, authenticator, controllerManager and scheduler logging.",
        check_eks_logging,
        "eks",
    ),
    _c(
        "aws.eks.secrets_encryption",
        "EKS clusters encrypt Kubernetes secrets with KMS",
        Severity.MEDIUM,
        CLUSTER,
        "Secrets in etcd are protected only by the default disk encryption, with no key you control.",
        "Associate a KMS key with the cluster for envelope encryption of secrets.",
        check_eks_secrets_encryption,
        "eks",
    ),
    _c(
        "aws.lambda.function_url_auth",
        "Lambda function URLs require IAM authentication",
        Severity.HIGH,
        FUNCTION,
        "A function URL with AuthType NONE lets anyone on the internet invoke the function.",
        "Set the function URL's AuthType to AWS_IAM, or put the function behind API Gateway with auth.",
        check_lambda_url_auth,
        "lambda_access",
    ),
    _c(
        "aws.lambda.function_url_cors_restricted",
        "Lambda function URLs do not allow every CORS origin",
        Severity.MEDIUM,
        FUNCTION,
        "With AllowOrigins '*', any web page can call the function from a visitor's browser.",
        "List the web origins that may call the function URL in its CORS configuration.",
        check_lambda_url_cors,
        "lambda_access",
    ),
    _c(
        "aws.lambda.policy_not_public",
        "Lambda resource policies do not allow public invocation",
        Severity.HIGH,
        FUNCTION,
        "A policy with Principal '*' and no condition lets any AWS account invoke the function.",
        "Name the principals, or add a SourceArn / SourceAccount condition.",
        check_lambda_policy_public,
        "lambda_access",
    ),
    _c(
        "aws.lambda.no_secrets_in_environment",
        "Lambda environment variables hold no secrets",
        Severity.HIGH,
        FUNCTION,
        "Anyone who can read the function configuration (lambda:GetFunction) reads the secrets.",
        "Move the secrets to Secrets Manager or Parameter Store and read them at run time.",
        check_lambda_env_secrets,
        "lambda",
    ),
    _c(
        "aws.lambda.tracing_enabled",
        "Lambda functions have active tracing",
        Severity.LOW,
        FUNCTION,
        "Without traces, failures and abuse of the function are hard to investigate.",
        "Set TracingConfig Mode to Active (AWS X-Ray).",
        check_lambda_tracing,
        "lambda",
    ),
    _c(
        "aws.ssm.document_not_public",
        "SSM documents are not shared publicly",
        Severity.HIGH,
        DOCUMENT,
        "A public document can reveal internal scripts, hostnames and credentials.",
        "Remove 'All' from the document's share permission (modify-document-permission).",
        check_ssm_document_public,
        "ssm",
    ),
    _c(
        "aws.ssm.document_no_secrets",
        "SSM documents hold no secrets",
        Severity.HIGH,
        DOCUMENT,
        "Everyone who can read or is shared the document reads the credential in it.",
        "Replace the value with a {{ssm:...}} or {{resolve:secretsmanager:...}} reference and rotate it.",
        check_ssm_document_secrets,
        "ssm",
    ),
    _c(
        "aws.ecr.kms_encryption",
        "ECR repositories are encrypted with KMS",
        Severity.LOW,
        REPO,
        "With the default AES256 encryption there is no key policy controlling or logging who decrypts images.",
        "Create repositories with encryptionType KMS (the setting cannot be changed after creation).",
        check_ecr_kms,
        "ecr",
    ),
]


# Patch compliance (Patch Manager): moto serves neither ListResourceComplianceSummaries nor
# DescribeInstancePatchStates, so on moto (the demo, the end-to-end run) it is ERROR through the
# dataset fault path (demo_estate.MOTO_UNSERVED); its verdicts are tested on botocore's Stubber.
PATCH_COMPLIANCE = _c(
    "aws.ssm.patch_compliance",
    "Managed instances are compliant with their patch baseline",
    Severity.HIGH,
    "AWS::SSM::ManagedInstance",
    "Instances missing security patches carry known, exploitable vulnerabilities.",
    "Run AWS-RunPatchBaseline (Patch Manager) on a schedule and fix the non-compliant instances.",
    check_patch_compliance,
    "ssm_patch",
)
CHECKS.append(PATCH_COMPLIANCE)
