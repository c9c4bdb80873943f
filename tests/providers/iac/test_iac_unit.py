"""IacProvider without checkov: JSON shapes, finding shape, inline suppressions, secrets, errors, data files."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from auditor import tools
from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.frameworks import load_catalog
from auditor.models import Severity, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.iac import SCAN_CHECK, IacProvider
from auditor.providers.iac.checkov import CheckovReport, checkov_args, checkov_env, parse_checkov_output
from auditor.providers.iac.policies import load_checkov_ids, shipped_checkov_data
from auditor.resources import resource_dir
from auditor.scope import walk_target

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def raw_check(check_id: str, resource: str, path: str, lines: tuple[int, int], **extra: object) -> dict[str, object]:
    return {
        "check_id": check_id,
        "check_name": f"name of {check_id}",
        "check_result": {"result": "FAILED", "evaluated_keys": ["encrypted"]},
        "code_block": [[lines[0], f"resource with {SECRET}\n"]],
        "file_path": "/" + Path(path).name,
        "file_abs_path": path,
        "file_line_range": list(lines),
        "resource": resource,
        "severity": None,
        **extra,
    }


def report_doc(
    check_type: str,
    failed: list[dict[str, object]],
    passed: list[dict[str, object]] = (),  # type: ignore[assignment]
    skipped: list[dict[str, object]] = (),
    parsing_errors: list[str] = (),
) -> dict[str, object]:  # type: ignore[assignment]
    return {
        "check_type": check_type,
        "results": {
            "passed_checks": list(passed),
            "failed_checks": list(failed),
            "skipped_checks": list(skipped),
            "parsing_errors": list(parsing_errors),
        },
        "summary": {
            "passed": len(passed),
            "failed": len(failed),
            "skipped": len(skipped),
            "parsing_errors": len(parsing_errors),
            "resource_count": 1,
            "checkov_version": "3.3.30",
        },
    }


# checkov's JSON shapes ------------------------------------------------------------------------


def test_list_shape_several_frameworks() -> None:
    doc = [
        report_doc("terraform", [raw_check("CKV_AWS_3", "aws_ebs_volume.a", "/r/main.tf", (1, 4))]),
        report_doc("dockerfile", [raw_check("CKV_DOCKER_7", "/Dockerfile.FROM", "/r/Dockerfile", (1, 1))]),
    ]
    rep = parse_checkov_output(json.dumps(doc))
    assert [(r.check_type, r.check_id, r.resource, r.line, r.end_line) for r in rep.results] == [
        ("terraform", "CKV_AWS_3", "aws_ebs_volume.a", 1, 4),
        ("dockerfile", "CKV_DOCKER_7", "/Dockerfile.FROM", 1, 1),
    ]
    assert set(rep.frameworks) == {"terraform", "dockerfile"}
    assert rep.version == "3.3.30"


def test_dict_shape_one_framework() -> None:
    doc = report_doc("kubernetes", [raw_check("CKV_K8S_16", "Pod.default.web", "/r/pod.yaml", (1, 9))])
    rep = parse_checkov_output(json.dumps(doc))
    assert [(r.check_type, r.check_id, r.result) for r in rep.results] == [("kubernetes", "CKV_K8S_16", "FAILED")]


def test_bare_summary_shape_means_nothing_found() -> None:
    doc = {
        "passed": 0,
        "failed": 0,
        "skipped": 0,
        "parsing_errors": 0,
        "resource_count": 0,
        "checkov_version": "3.3.30",
    }
    rep = parse_checkov_output(json.dumps(doc))
    assert rep.results == [] and rep.frameworks == {} and rep.parsing_errors == []
    assert rep.version == "3.3.30"


def test_concatenated_documents_are_all_read_and_deduplicated() -> None:
    one = report_doc("terraform", [raw_check("CKV_AWS_3", "aws_ebs_volume.a", "/r/main.tf", (1, 4))])
    two = [one, report_doc("secrets", [raw_check("CKV_SECRET_2", "abc123", "/r/.env", (2, 2))])]
    rep = parse_checkov_output(json.dumps(one, indent=2) + "\n" + json.dumps(two, indent=2))
    assert sorted(r.check_id for r in rep.results) == ["CKV_AWS_3", "CKV_SECRET_2"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "Traceback (most recent call last):\n  boom\n",
        "[{",
        "{}",  # a checkov that printed an empty object found nothing and said nothing
        "[]",
        '{"passed": 0, "failed": 0}',  # a summary without a version is not checkov's
        '[{"check_type": "terraform", "results": {}, "summary": {"passed": 0}}]',
    ],
)
def test_output_without_a_report_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_checkov_output(text)


def test_code_blocks_are_never_kept() -> None:
    rep = parse_checkov_output(json.dumps(report_doc("terraform", [raw_check("CKV_AWS_3", "x.y", "/r/a.tf", (1, 2))])))
    assert SECRET not in repr(rep)


def test_arguments_are_the_exact_files_offline_explicit_and_json(tmp_path: Path) -> None:
    files = [str(tmp_path / "main.tf"), str(tmp_path / ".github" / "workflows" / "ci.yml")]
    args = checkov_args(files, tmp_path / "policies")
    joined = " ".join(args)
    assert args[:3] == ["-f", *files]
    assert "-d" not in args and "--skip-path" not in args  # the scope is ours, not checkov's
    assert (
        "--framework terraform terraform_plan cloudformation kubernetes helm dockerfile github_actions secrets"
        in joined
    )
    for flag in ("--skip-download", "--enable-secret-scan-all-files", "--compact"):
        assert flag in args
    assert "--quiet" not in args  # it would drop the passed checks
    assert args[args.index("--output") + 1] == "json"
    assert args[args.index("--external-checks-dir") + 1] == str(tmp_path / "policies")


def test_checkov_size_limits_are_raised_above_the_scope_limit() -> None:
    small = checkov_env(1024)
    assert small["CHECKOV_MAX_FILE_SIZE"] == "5000000" and small["CHECKOV_MAX_IAC_FILE_SIZE"] == "50000000"
    big = checkov_env(80_000_000)
    assert big["CHECKOV_MAX_FILE_SIZE"] == "80000001" and big["CHECKOV_MAX_IAC_FILE_SIZE"] == "80000001"
    assert small["CHECKOV_HELM_ALLOWED_REMOTE_REPOS"] == "none"


# Findings -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> IacProvider:
    return IacProvider()


def findings_for(provider: IacProvider, root: Path, docs: object) -> list:  # type: ignore[type-arg]
    """The provider's findings for a synthetic checkov report over the files under `root`."""
    rep = parse_checkov_output(json.dumps(docs))
    return provider.findings_for(root, walk_target(root), rep, NOW.date()).findings


def test_finding_shape_pass_fail_and_unapproved_skip(provider: IacProvider, tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    path = str(tmp_path / "net" / "main.tf")
    (tmp_path / "net" / "main.tf").write_text("")
    skipped = raw_check("CKV_AWS_3", "aws_ebs_volume.scratch", path, (10, 14))
    skipped["check_result"] = {"result": "SKIPPED", "suppress_comment": "scratch volume holds no data"}
    passed = raw_check("CKV_AWS_24", "aws_security_group.ok", path, (1, 5))
    doc = report_doc(
        "terraform",
        [raw_check("CKV_AWS_24", "aws_security_group.ssh", path, (20, 30))],
        passed=[passed],
        skipped=[skipped],
    )
    found = {(f.check_id, f.resource.id): f for f in findings_for(provider, tmp_path, doc)}
    fail = found[("iac.CKV_AWS_24", "aws_security_group.ssh")]
    assert fail.status is Status.FAIL
    assert fail.severity is Severity.HIGH  # from policies/checkov_ids.yaml, not from checkov
    assert (fail.resource.type, fail.resource.path, fail.resource.line, fail.resource.end_line) == (
        "aws_security_group",
        "net/main.tf",
        20,
        30,
    )
    assert fail.evidence["resource"] == "aws_security_group.ssh"
    assert fail.evidence["evaluated_keys"] == ["encrypted"]
    assert fail.provider == "iac" and fail.title.startswith("Ensure no security groups allow ingress")
    assert found[("iac.CKV_AWS_24", "aws_security_group.ok")].status is Status.PASS
    suppressed = found[("iac.CKV_AWS_3", "aws_ebs_volume.scratch")]
    assert suppressed.status is Status.FAIL and suppressed.suppressed_without_approval
    assert suppressed.waiver == {
        "source": "inline",
        "approved": False,
        "reason": "scratch volume holds no data",
        "comment": "scratch volume holds no data",
    }
    assert suppressed.message.startswith("suppressed without approval (no approved-by=<who> expires=YYYY-MM-DD")
    scan = found[("iac.checkov.scan", str(tmp_path))]
    assert scan.status is Status.PASS and scan.evidence["checkov_version"] == "3.3.30"
    assert {f.target for f in found.values()} == {f"iac:{tmp_path.resolve()}"}
    assert SECRET not in json.dumps([f.to_dict() for f in found.values()])


def test_fingerprint_ignores_lines(provider: IacProvider, tmp_path: Path) -> None:
    path = str(tmp_path / "main.tf")
    (tmp_path / "main.tf").write_text("")
    a = findings_for(
        provider, tmp_path, report_doc("terraform", [raw_check("CKV_AWS_3", "aws_ebs_volume.v", path, (1, 4))])
    )
    b = findings_for(
        provider, tmp_path, report_doc("terraform", [raw_check("CKV_AWS_3", "aws_ebs_volume.v", path, (40, 44))])
    )
    assert a[0].fingerprint == b[0].fingerprint


def test_secret_value_never_reaches_the_finding(provider: IacProvider, tmp_path: Path) -> None:
    path = str(tmp_path / ".env")
    (tmp_path / ".env").write_text("")
    one = raw_check("CKV_SECRET_2", "25910f981e85ca04baf359199dd0bd4a3ae738b6", path, (2, 3))
    two = raw_check("CKV_SECRET_2", "d70eab08607a4d05faa2d0d6647206599e9abc65", path, (5, 6))
    one["code_block"] = [[2, f"AWS_SECRET_ACCESS_KEY={SECRET}\n"]]
    found = [
        f for f in findings_for(provider, tmp_path, report_doc("secrets", [one, two])) if f.check_id != SCAN_CHECK.id
    ]
    assert len(found) == 2
    assert {f.resource.id for f in found} == {".env"}
    assert found[0].fingerprint != found[1].fingerprint  # two secrets in one file stay apart
    assert all(f.severity is Severity.CRITICAL and f.resource.type == "secret" for f in found)
    text = json.dumps([f.to_dict() for f in found])
    assert SECRET not in text and "25910f981e85" not in text  # neither the value nor its hash is shown


def test_unmapped_id_gets_the_default_severity(provider: IacProvider, tmp_path: Path) -> None:
    (tmp_path / "a.tf").write_text("")
    doc = report_doc("terraform", [raw_check("CKV_AWS_999999", "aws_thing.x", str(tmp_path / "a.tf"), (1, 2))])
    f = next(f for f in findings_for(provider, tmp_path, doc) if f.check_id == "iac.CKV_AWS_999999")
    assert f.severity is Severity.MEDIUM
    assert f.title == "name of CKV_AWS_999999"


def test_parsing_errors_are_errors_not_passes(provider: IacProvider, tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text('resource "aws_sqs_queue" "q" {\n')
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN apt-get update\n{{\n")
    doc = report_doc("terraform", [], parsing_errors=[str(tmp_path / "broken.tf"), str(tmp_path / "Dockerfile")])
    found = findings_for(provider, tmp_path, doc)
    assert sorted((f.check_id, f.status, f.resource.path, f.affects) for f in found) == [
        ("iac.checkov.scan", Status.ERROR, "Dockerfile", ("iac.CKV_DOCKER_*", "iac.CKV2_DOCKER_*")),
        ("iac.checkov.scan", Status.ERROR, "broken.tf", ("iac.*",)),
    ]


def test_results_for_files_outside_the_list_are_dropped(provider: IacProvider, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("")
    doc = report_doc(
        "terraform",
        [
            raw_check("CKV_AWS_3", "aws_ebs_volume.in", str(tmp_path / "main.tf"), (1, 4)),
            raw_check("CKV_AWS_3", "aws_ebs_volume.out", str(tmp_path.parent / "module" / "main.tf"), (1, 4)),
            raw_check("CKV_AWS_3", "aws_ebs_volume.rel", "main.tf", (6, 9)),  # relative: to the target
        ],
    )
    scan = provider.findings_for(tmp_path, walk_target(tmp_path), parse_checkov_output(json.dumps(doc)), NOW.date())
    assert sorted(f.resource.id for f in scan.findings if f.check_id == "iac.CKV_AWS_3") == [
        "aws_ebs_volume.in",
        "aws_ebs_volume.rel",
    ]
    assert scan.coverage is not None and scan.coverage.details["results_outside_scope"] == 1


def test_dockerfile_addresses_are_relative_to_the_target(provider: IacProvider, tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    dockerfile = tmp_path / "svc" / "Dockerfile"
    dockerfile.write_text("FROM python:3.11\n")
    doc = report_doc("dockerfile", [raw_check("CKV_DOCKER_3", f"{dockerfile}.", str(dockerfile), (1, 1))])
    found = [f for f in findings_for(provider, tmp_path, doc) if f.check_id == "iac.CKV_DOCKER_3"]
    assert [(f.resource.id, f.resource.path) for f in found] == [("/svc/Dockerfile.", "svc/Dockerfile")]


SHAPED = {
    "infra/main.tf": 'resource "aws_s3_bucket" "data" {\n  bucket = "d"\n}\n',
    "k8s/app.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n",
    "Dockerfile": "FROM python:3.11\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n",
    "cfn/stack.json": '{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}',
}


def test_iac_files_checkov_said_nothing_about_are_errors(provider: IacProvider, tmp_path: Path) -> None:
    for rel, text in SHAPED.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "notes.yaml").write_text("kind: Shopping\nitems: [milk]\n")  # not IaC: no error
    reported = raw_check("CKV_AWS_18", "aws_s3_bucket.data", str(tmp_path / "infra" / "main.tf"), (1, 3))
    scan = provider.findings_for(
        tmp_path,
        walk_target(tmp_path),
        parse_checkov_output(json.dumps(report_doc("terraform", [reported]))),
        NOW.date(),
    )
    errors = {(f.resource.path, f.affects) for f in scan.findings if f.status is Status.ERROR}
    assert errors == {
        ("k8s/app.yaml", ("iac.CKV_K8S_*", "iac.CKV2_K8S_*")),
        ("Dockerfile", ("iac.CKV_DOCKER_*", "iac.CKV2_DOCKER_*")),
        (".github/workflows/ci.yml", ("iac.CKV_GHA_*", "iac.CKV2_GHA_*")),
        ("cfn/stack.json", ("iac.*",)),
    }
    assert all("checkov skipped" in f.message for f in scan.findings if f.status is Status.ERROR)
    assert not any(f.check_id == "iac.checkov.scan" and f.status is Status.PASS for f in scan.findings)
    cov = scan.coverage
    assert cov is not None and not cov.complete
    assert cov.examined["iac_files"] == 5 and cov.examined["files_reported"] == 1
    assert {s.item for s in cov.skipped} == {"k8s/app.yaml", "Dockerfile", ".github/workflows/ci.yml", "cfn/stack.json"}


def test_file_over_the_size_limit_is_an_error_for_every_iac_check(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("# " + "x" * 200 + "\n")
    (tmp_path / "small.tf").write_text("")
    p = IacProvider()
    p.max_file_bytes = 100
    scope = walk_target(tmp_path, p.max_file_bytes)
    scan = p.findings_for(tmp_path, scope, CheckovReport(version="3.3.30"), NOW.date())
    errors = [(f.resource.path, f.affects) for f in scan.findings if f.status is Status.ERROR]
    assert errors == [("main.tf", ("iac.*",))]
    assert scan.coverage is not None and [s.item for s in scan.coverage.skipped] == ["main.tf"]


@pytest.mark.parametrize(
    ("comment", "status", "waiver"),
    [
        (
            "scratch only approved-by=jane@example.com expires=2027-03-31",
            Status.WAIVED,
            {
                "source": "inline",
                "approved": True,
                "approver": "jane@example.com",
                "expires": "2027-03-31",
                "reason": "scratch only",
            },
        ),
        (
            "scratch only approved-by=jane@example.com expires=2026-11-27",
            Status.FAIL,
            {
                "source": "inline",
                "approved": False,
                "reason": "scratch only",
                "comment": "scratch only approved-by=jane@example.com expires=2026-11-27",
            },
        ),
        (
            "No comment provided",
            Status.FAIL,
            {"source": "inline", "approved": False, "reason": "", "comment": "No comment provided"},
        ),
    ],
)
def test_checkov_skip_approved_expired_and_bare(
    provider: IacProvider, tmp_path: Path, comment: str, status: Status, waiver: dict[str, object]
) -> None:
    (tmp_path / "main.tf").write_text("")
    skipped = raw_check("CKV_AWS_3", "aws_ebs_volume.scratch", str(tmp_path / "main.tf"), (1, 4))
    skipped["check_result"] = {"result": "SKIPPED", "suppress_comment": comment}
    found = [
        f
        for f in findings_for(provider, tmp_path, report_doc("terraform", [], skipped=[skipped]))
        if f.check_id == "iac.CKV_AWS_3"
    ]
    assert [(f.status, f.waiver) for f in found] == [(status, waiver)]
    if status is Status.FAIL:
        assert found[0].suppressed_without_approval and "suppressed without approval" in found[0].message


def test_helm_chart_without_helm_binary_is_an_error(
    provider: IacProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "charts" / "web").mkdir(parents=True)
    (tmp_path / "charts" / "web" / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")

    def no_helm(name: str) -> str:
        raise tools.ToolError(f"{name} is not installed")

    monkeypatch.setattr("auditor.providers.iac.find_tool", no_helm)
    found = provider.findings_for(tmp_path, walk_target(tmp_path), CheckovReport(version="3.3.30"), NOW.date()).findings
    assert [(f.check_id, f.status, f.resource.path, f.affects) for f in found] == [
        ("iac.checkov.scan", Status.ERROR, "charts/web", ("iac.CKV_K8S_*", "iac.CKV2_K8S_*"))
    ]
    assert "helm" in found[0].message


def ctx_for(paths: list[Path]) -> ScanContext:
    return ScanContext(config=AuditConfig(targets=targets(iac=tuple(paths))), now=NOW)


def test_missing_path_is_an_input_error(provider: IacProvider, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        provider.prepare(ctx_for([tmp_path / "nope"]))


def fake_tool(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-checkov"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.mark.parametrize(
    ("body", "timeout", "expect"),
    [
        ("echo 'Traceback: boom' >&2; exit 2", 30.0, "exited with 2"),
        ("echo 'not json'; exit 0", 30.0, "no usable report"),
        ("echo '{}'; exit 0", 30.0, "no usable report"),
        ("sleep 30", 0.5, "timed out"),
    ],
)
def test_tool_failure_is_an_error_never_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, timeout: float, expect: str
) -> None:
    exe = fake_tool(tmp_path, body)
    monkeypatch.setattr(tools, "find_tool", lambda name: exe)
    p = IacProvider()
    p.timeout_s = timeout
    ctx = ctx_for([tmp_path])
    found = list(p.run(ctx))
    assert [(f.check_id, f.status, f.affects) for f in found] == [("iac.checkov.scan", Status.ERROR, ("iac.*",))]
    assert expect in found[0].message
    assert [(c.target, c.complete) for c in ctx.coverage] == [(f"iac:{tmp_path.resolve()}", False)]


# Data files -----------------------------------------------------------------------------------


def test_severity_data_covers_at_least_150_relevant_ids() -> None:
    data = load_checkov_ids(resource_dir("policies") / "checkov_ids.yaml")
    assert data.default_severity is Severity.MEDIUM
    ids = set(data.ids)
    assert len(ids) >= 150
    for family in ("CKV_AWS_", "CKV2_AWS_", "CKV_K8S_", "CKV_DOCKER_", "CKV_SECRET_", "CKV_GHA_"):
        assert any(i.startswith(family) for i in ids), family
    assert all(re.fullmatch(r"CKV2?_[A-Z0-9]+_\d+", i) for i in ids)


def test_every_mapped_and_custom_id_is_in_the_catalog_by_exact_id() -> None:
    ids, custom, _ = shipped_checkov_data()
    exact = {ref for fw in load_catalog().values() for c in fw.controls for ref in (*c.checks, *c.supporting)}
    missing = sorted(i for i in [*ids.ids, *custom] if "iac." + i not in exact)
    assert missing == []
    assert "iac.checkov.scan" in exact


def test_custom_policies_are_at_least_six_with_fixtures() -> None:
    _, custom, folder = shipped_checkov_data()
    assert len(custom) >= 6
    fixtures = Path(__file__).parents[2] / "fixtures" / "iac" / "custom"
    for path in folder.glob("*.yaml"):
        assert (fixtures / path.stem / "main.tf").is_file(), path.stem
        meta = yaml.safe_load(path.read_text())["metadata"]
        assert meta["severity"].lower() in {s.value for s in Severity}
