"""Golden fixtures through real checkov: one scan of tests/fixtures/iac, many assertions.

Every framework has named passing (`pass_*`) and failing (`fail_*`) resources; the exact
sets are asserted. A raw `checkov -d` run on the same folder proves that the wrapper, which
gives checkov the scope's exact file list with `-f`, loses nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.models import Finding, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.iac import IacProvider
from auditor.providers.iac.checkov import CHECKOV_FRAMEWORKS, iter_json_documents
from auditor.resources import resource_dir
from auditor.tools import tool_env

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parents[2] / "fixtures" / "iac"
SECRET = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture(scope="module")
def scanned() -> tuple[list[Finding], ScanContext]:
    ctx = ScanContext(config=AuditConfig(targets=targets(iac=(FIXTURES,))), now=datetime(2026, 11, 28, tzinfo=UTC))
    return list(IacProvider().run(ctx)), ctx


@pytest.fixture(scope="module")
def findings(scanned: tuple[list[Finding], ScanContext]) -> list[Finding]:
    return scanned[0]


@pytest.fixture(scope="module")
def raw_failed() -> set[tuple[str, str, str]]:
    """checkov itself, same flags, no auditor code in between."""
    exe = Path(sys.executable).parent / "checkov"
    proc = subprocess.run(
        [
            str(exe),
            "-d",
            str(FIXTURES),
            "--framework",
            *CHECKOV_FRAMEWORKS,
            "--skip-download",
            "--enable-secret-scan-all-files",
            "--output",
            "json",
            "--compact",
            "--external-checks-dir",
            str(resource_dir("policies") / "checkov"),
        ],
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-500:]
    out: set[tuple[str, str, str]] = set()
    for doc in iter_json_documents(proc.stdout):
        for rep in doc if isinstance(doc, list) else [doc]:
            for r in (rep.get("results") or {}).get("failed_checks", []):
                rel = Path(r["file_abs_path"]).resolve().relative_to(FIXTURES.resolve()).as_posix()
                out.add((r["check_id"], rel, str(r["file_line_range"][0])))
    return out


def statuses(findings: list[Finding], check_id: str, under: str) -> dict[str, set[str]]:
    """{status: {resource address}} for one check in one fixture folder."""
    out: dict[str, set[str]] = {}
    for f in findings:
        if f.check_id == check_id and (f.resource.path or "").startswith(under):
            out.setdefault(f.status.value, set()).add(f.resource.id)
    return out


@pytest.mark.parametrize(
    ("check_id", "folder", "expected"),
    [
        (
            "iac.CKV_AWS_24",
            "golden/terraform/",
            {"PASS": {"aws_security_group.pass_ssh_internal"}, "FAIL": {"aws_security_group.fail_ssh_world"}},
        ),
        (
            "iac.CKV_AWS_3",
            "golden/terraform/",
            {
                "PASS": {"aws_ebs_volume.pass_encrypted"},
                # An inline skip without a valid approval fails (marked), one with it is waived.
                "FAIL": {
                    "aws_ebs_volume.fail_plaintext",
                    "aws_ebs_volume.fail_skip_unapproved",
                    "aws_ebs_volume.fail_skip_expired",
                },
                "WAIVED": {"aws_ebs_volume.waived_skip_approved"},
            },
        ),
        (
            "iac.CKV_AWS_27",
            "golden/terraform_plan/",
            {"PASS": {"aws_sqs_queue.pass_encrypted"}, "FAIL": {"aws_sqs_queue.fail_plain"}},
        ),
        (
            "iac.CKV_AWS_27",
            "golden/cloudformation/",
            {"PASS": {"AWS::SQS::Queue.PassEncryptedQueue"}, "FAIL": {"AWS::SQS::Queue.FailPlainQueue"}},
        ),
        (
            "iac.CKV_K8S_16",
            "golden/kubernetes/",
            {"PASS": {"Pod.shop.pass-unprivileged"}, "FAIL": {"Pod.shop.fail-privileged"}},
        ),
        (
            "iac.CKV_DOCKER_7",
            "golden/dockerfile/",
            {"PASS": {"/golden/dockerfile/Dockerfile.FROM"}, "FAIL": {"/golden/dockerfile/root.Dockerfile.FROM"}},
        ),
        (
            "iac.CKV_GHA_1",
            "golden/github_actions/",
            {
                "PASS": {
                    "jobs(pass_build)",
                    "jobs(pass_build).steps[1]",
                    "jobs(pass_build).steps[2]",
                    "jobs(fail_unsecure).steps[1]",
                },
                "FAIL": {"jobs(fail_unsecure)"},
            },
        ),
        ("iac.CKV2_AUD_1", "custom/allowed_regions/", {"PASS": {"aws.pass_eu"}, "FAIL": {"aws.fail_us"}}),
        (
            "iac.CKV2_AUD_2",
            "custom/data_classification_tag/",
            {
                "PASS": {"aws_s3_bucket.pass_tagged"},
                "FAIL": {"aws_s3_bucket.fail_untagged", "aws_dynamodb_table.fail_no_tags"},
            },
        ),
        (
            "iac.CKV2_AUD_3",
            "custom/log_group_retention/",
            {
                "PASS": {"aws_cloudwatch_log_group.pass_90_days"},
                "FAIL": {f"aws_cloudwatch_log_group.{n}" for n in ("fail_forever", "fail_zero", "fail_ten_years")},
            },
        ),
        (
            "iac.CKV2_AUD_4",
            "custom/personal_data_bucket_lifecycle/",
            {
                "PASS": {
                    "aws_s3_bucket.pass_personal_with_lifecycle",
                    "aws_s3_bucket.pass_public_data",
                    "aws_s3_bucket_lifecycle_configuration.expire",
                },
                "FAIL": {"aws_s3_bucket.fail_personal_no_lifecycle"},
            },
        ),
        (
            "iac.CKV2_AUD_5",
            "custom/database_backups/",
            {
                "PASS": {"aws_db_instance.pass_14_days"},
                "FAIL": {"aws_db_instance.fail_unset", "aws_rds_cluster.fail_one_day"},
            },
        ),
        (
            "iac.CKV2_AUD_6",
            "custom/no_wildcard_principal/",
            {"PASS": {"aws_iam_policy_document.pass_named_principal"}, "FAIL": {"aws_iam_policy_document.fail_anyone"}},
        ),
        (
            "iac.CKV2_AUD_7",
            "custom/no_wildcard_resource_policy/",
            {
                "PASS": {"aws_s3_bucket_policy.pass_account_principal"},
                "FAIL": {"aws_s3_bucket_policy.fail_star_principal", "aws_sqs_queue_policy.fail_star_aws_principal"},
            },
        ),
    ],
)
def test_golden_sets(findings: list[Finding], check_id: str, folder: str, expected: dict[str, set[str]]) -> None:
    assert statuses(findings, check_id, folder) == expected


def test_dockerfile_pass_and_fail_are_the_named_files(findings: list[Finding]) -> None:
    got = {(f.status.value, f.resource.path) for f in findings if f.check_id == "iac.CKV_DOCKER_7"}
    assert got == {("PASS", "golden/dockerfile/Dockerfile"), ("FAIL", "golden/dockerfile/root.Dockerfile")}


def test_every_framework_produced_findings(findings: list[Finding]) -> None:
    frameworks = {f.evidence.get("framework") for f in findings if f.check_id != "iac.checkov.scan"}
    assert frameworks == {
        "terraform",
        "terraform_plan",
        "cloudformation",
        "kubernetes",
        "dockerfile",
        "github_actions",
        "secrets",
    }


def test_secret_is_found_without_its_value(findings: list[Finding]) -> None:
    secrets = [f for f in findings if f.check_id == "iac.CKV_SECRET_2"]
    assert [(f.status, f.resource.path, f.resource.line) for f in secrets] == [
        (Status.FAIL, "golden/secrets/settings.env", 2)
    ]
    assert SECRET not in json.dumps([f.to_dict() for f in findings])
    assert SECRET[:9] not in json.dumps([f.to_dict() for f in findings])


def test_inline_skips_need_an_unexpired_approval(findings: list[Finding]) -> None:
    skips = {f.resource.id: (f.status, f.waiver) for f in findings if f.waiver is not None}
    assert skips == {
        "aws_ebs_volume.fail_skip_unapproved": (
            Status.FAIL,
            {
                "source": "inline",
                "approved": False,
                "reason": "scratch volume holds no data",
                "comment": "scratch volume holds no data",
            },
        ),
        "aws_ebs_volume.waived_skip_approved": (
            Status.WAIVED,
            {
                "source": "inline",
                "approved": True,
                "approver": "jane@example.com",
                "expires": "2027-05-31",
                "reason": "scratch volume holds no data",
            },
        ),
        "aws_ebs_volume.fail_skip_expired": (
            Status.FAIL,
            {
                "source": "inline",
                "approved": False,
                "reason": "scratch volume holds no data",
                "comment": "scratch volume holds no data approved-by=jane@example.com expires=2026-10-31",
            },
        ),
    }
    expired = next(f for f in findings if f.resource.id == "aws_ebs_volume.fail_skip_expired" and f.waiver)
    assert expired.suppressed_without_approval
    assert "approval expired on 2026-10-31" in expired.message


def test_scan_check_passes_with_evidence(findings: list[Finding]) -> None:
    scan = [f for f in findings if f.check_id == "iac.checkov.scan"]
    assert [f.status for f in scan] == [Status.PASS]
    assert scan[0].evidence["checkov_version"] == "3.3.30"


def test_coverage_counts_equal_the_scope(scanned: tuple[list[Finding], ScanContext]) -> None:
    findings, ctx = scanned
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    [cov] = ctx.coverage
    assert cov.target == f"iac:{FIXTURES.resolve()}" and cov.complete and cov.skipped == ()
    assert cov.examined == {
        "files_in_scope": len(files),
        "files": len(files),
        "files_reported": len(files) - 1,  # golden/secrets/config.json holds no secret and no IaC
        "iac_files": 11,
        "cloudformation": 1,
        "dockerfile": 2,
        "github_actions": 1,
        "kubernetes": 1,
        "secrets": 1,
        "terraform": 8,
        "terraform_plan": 1,
    }
    assert cov.details["version"] == "3.3.30"
    assert {f.target for f in findings} == {cov.target}


def test_fingerprints_are_unique(findings: list[Finding]) -> None:
    fps = [f.fingerprint for f in findings]
    assert len(fps) == len(set(fps))


def test_wrapper_loses_nothing(findings: list[Finding], raw_failed: set[tuple[str, str, str]]) -> None:
    ours = {
        (f.check_id.removeprefix("iac."), f.resource.path or "", str(f.resource.line))
        for f in findings
        if f.status is Status.FAIL and f.waiver is None  # checkov itself lists inline skips apart
    }
    assert len(raw_failed) > 50
    assert ours == raw_failed
