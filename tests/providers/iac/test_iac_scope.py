"""The IaC scan's scope is ours, through real checkov: one repository, one scan, many assertions.

checkov, left to itself (`-d`), skips hidden folders such as `.github/` and drops files it
cannot load without a word. Here it is given the scope's file list, and a file of an IaC
shape that it said nothing about is an ERROR.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.models import Coverage, Finding, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.iac import IacProvider
from tests.providers.iac.iac_cli_helpers import SSH_WORLD

pytestmark = pytest.mark.slow
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parents[2] / "fixtures" / "iac" / "golden"
LIMIT = 100_000
K8S_ERRORS = ("iac.CKV_K8S_*", "iac.CKV2_K8S_*")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("iac") / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(GOLDEN / "github_actions" / ".github" / "workflows" / "ci.yml", root / ".github" / "workflows")
    files = {
        ".auditorignore": "ignored/\n",
        ".hidden/infra/main.tf": SSH_WORLD,
        "ignored/main.tf": SSH_WORLD.replace("fail_ssh_world", "ignored_ssh_world"),
        "infra/.gitignore": "generated.tf\n",
        "infra/generated.tf": SSH_WORLD.replace("fail_ssh_world", "generated_ssh_world"),
        "infra/main.tf": SSH_WORLD.replace("fail_ssh_world", "infra_ssh_world"),
        # checkov drops both without a result or a parsing error:
        "k8s/bad-name.yaml": 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "web#1"\nspec:\n  containers: []\n',
        "k8s/bad-yaml.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n spec:\n  containers: [\n",
        "data/dump.sql": "-- rows\n" * (LIMIT // 8 + 10),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="module")
def scan(repo: Path) -> tuple[list[Finding], Coverage]:
    ctx = ScanContext(config=AuditConfig(targets=targets(iac=(repo,))), now=NOW)
    provider = IacProvider()
    provider.max_file_bytes = LIMIT
    findings = list(provider.run(ctx))
    [coverage] = ctx.coverage
    return findings, coverage


def test_hidden_folders_are_scanned_and_ignore_files_inside_the_target_apply(
    scan: tuple[list[Finding], Coverage],
) -> None:
    findings, _ = scan
    ssh = {
        f.resource.id: f.resource.path for f in findings if f.check_id == "iac.CKV_AWS_24" and f.status is Status.FAIL
    }
    assert ssh == {
        "aws_security_group.fail_ssh_world": ".hidden/infra/main.tf",
        "aws_security_group.infra_ssh_world": "infra/main.tf",
    }
    gha = {f.resource.path for f in findings if f.check_id == "iac.CKV_GHA_1" and f.status is Status.FAIL}
    assert gha == {".github/workflows/ci.yml"}


def test_what_checkov_dropped_and_what_could_not_be_given_are_errors(scan: tuple[list[Finding], Coverage]) -> None:
    findings, coverage = scan
    errors = {f.resource.path: f for f in findings if f.status is Status.ERROR}
    assert set(errors) == {"k8s/bad-name.yaml", "k8s/bad-yaml.yaml", "data/dump.sql"}
    assert errors["k8s/bad-name.yaml"].affects == K8S_ERRORS
    assert errors["k8s/bad-yaml.yaml"].affects == K8S_ERRORS
    assert "checkov skipped k8s/bad-yaml.yaml" in errors["k8s/bad-yaml.yaml"].message
    assert errors["data/dump.sql"].affects == ("iac.*",)  # the secrets scan reads every file
    assert not any(f.check_id == "iac.checkov.scan" and f.status is Status.PASS for f in findings)
    assert {s.item for s in coverage.skipped} == set(errors) and not coverage.complete


def test_coverage_counts(repo: Path, scan: tuple[list[Finding], Coverage]) -> None:
    findings, coverage = scan
    assert coverage.target == f"iac:{repo.resolve()}" and {f.target for f in findings} == {coverage.target}
    assert coverage.examined["files_in_scope"] == 7  # 9 written + ci.yml, less 2 ignored and the dump
    assert coverage.examined["files"] == 7
    assert coverage.examined["iac_files"] == 5
    assert coverage.examined["terraform"] == 2 and coverage.examined["github_actions"] == 1
    assert coverage.details["excluded"] == {"ignore file": 2}
    assert coverage.details["version"] == "3.3.30" and coverage.details["chunks"] == 1


def test_a_long_file_list_is_scanned_in_chunks_by_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("net", "ops"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "main.tf").write_text(SSH_WORLD.replace("fail_ssh_world", f"{folder}_ssh_world"))
        (tmp_path / folder / "variables.tf").write_text('variable "name" {\n  default = "x"\n}\n')
    monkeypatch.setattr("auditor.providers.file_scans.MAX_COMMAND_LINE_BYTES", 2 * len(str(tmp_path)) + 40)
    ctx = ScanContext(config=AuditConfig(targets=targets(iac=(tmp_path,))), now=NOW)
    findings = list(IacProvider().run(ctx))
    [coverage] = ctx.coverage
    assert coverage.details["chunks"] == 2 and coverage.complete
    ssh = {f.resource.id for f in findings if f.check_id == "iac.CKV_AWS_24" and f.status is Status.FAIL}
    assert ssh == {"aws_security_group.net_ssh_world", "aws_security_group.ops_ssh_world"}
