"""IacProvider without checkov: JSON shapes, finding shape, waivers, secrets, errors, data files."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from auditor import tools
from auditor.catalog import load_catalog
from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import Severity, Status
from auditor.providers.base import ScanContext
from auditor.providers.iac import SCAN_CHECK, IacProvider
from auditor.providers.iac.checkov import CheckovReport, checkov_args, parse_checkov_output
from auditor.providers.iac.policies import load_checkov_ids, shipped_checkov_data
from auditor.resources import resource_dir

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


@pytest.mark.parametrize("text", ["", "   \n", "Traceback (most recent call last):\n  boom\n", "[{"])
def test_unreadable_output_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_checkov_output(text)


def test_code_blocks_are_never_kept() -> None:
    rep = parse_checkov_output(json.dumps(report_doc("terraform", [raw_check("CKV_AWS_3", "x.y", "/r/a.tf", (1, 2))])))
    assert SECRET not in repr(rep)


def test_arguments_are_offline_explicit_and_json(tmp_path: Path) -> None:
    args = checkov_args(tmp_path, tmp_path / "policies")
    joined = " ".join(args)
    assert args[:2] == ["-d", str(tmp_path)]
    assert (
        "--framework terraform terraform_plan cloudformation kubernetes helm dockerfile github_actions secrets"
        in joined
    )
    for flag in ("--skip-download", "--enable-secret-scan-all-files", "--compact"):
        assert flag in args
    assert "--quiet" not in args  # it would drop the passed checks
    assert args[args.index("--output") + 1] == "json"
    assert args[args.index("--external-checks-dir") + 1] == str(tmp_path / "policies")
    f = tmp_path / "main.tf"
    f.write_text("")
    assert checkov_args(f, None)[:2] == ["-f", str(f)]


# Findings -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> IacProvider:
    return IacProvider()


def findings_for(provider: IacProvider, root: Path, docs: object) -> list:  # type: ignore[type-arg]
    rep = parse_checkov_output(json.dumps(docs))
    return list(provider.findings_for(root, rep))


def test_finding_shape_pass_fail_waived(provider: IacProvider, tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    path = str(tmp_path / "net" / "main.tf")
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
    waived = found[("iac.CKV_AWS_3", "aws_ebs_volume.scratch")]
    assert waived.status is Status.WAIVED
    assert waived.waiver == {"source": "inline", "reason": "scratch volume holds no data"}
    scan = found[("iac.checkov.scan", str(tmp_path))]
    assert scan.status is Status.PASS and scan.evidence["checkov_version"] == "3.3.30"
    assert SECRET not in json.dumps([f.to_dict() for f in found.values()])


def test_fingerprint_ignores_lines(provider: IacProvider, tmp_path: Path) -> None:
    path = str(tmp_path / "main.tf")
    a = findings_for(
        provider, tmp_path, report_doc("terraform", [raw_check("CKV_AWS_3", "aws_ebs_volume.v", path, (1, 4))])
    )
    b = findings_for(
        provider, tmp_path, report_doc("terraform", [raw_check("CKV_AWS_3", "aws_ebs_volume.v", path, (40, 44))])
    )
    assert a[0].fingerprint == b[0].fingerprint


def test_secret_value_never_reaches_the_finding(provider: IacProvider, tmp_path: Path) -> None:
    path = str(tmp_path / ".env")
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
    doc = report_doc("terraform", [raw_check("CKV_AWS_999999", "aws_thing.x", str(tmp_path / "a.tf"), (1, 2))])
    f = next(f for f in findings_for(provider, tmp_path, doc) if f.check_id == "iac.CKV_AWS_999999")
    assert f.severity is Severity.MEDIUM
    assert f.title == "name of CKV_AWS_999999"


def test_parsing_errors_are_errors_not_passes(provider: IacProvider, tmp_path: Path) -> None:
    doc = report_doc("terraform", [], parsing_errors=[str(tmp_path / "broken.tf")])
    found = findings_for(provider, tmp_path, doc)
    assert [(f.check_id, f.status, f.resource.path) for f in found] == [("iac.checkov.scan", Status.ERROR, "broken.tf")]


def test_helm_chart_without_helm_binary_is_an_error(
    provider: IacProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "charts" / "web").mkdir(parents=True)
    (tmp_path / "charts" / "web" / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")

    def no_helm(name: str) -> str:
        raise tools.ToolError(f"{name} is not installed")

    monkeypatch.setattr("auditor.providers.iac.find_tool", no_helm)
    found = list(provider.findings_for(tmp_path, CheckovReport()))
    assert [(f.check_id, f.status, f.resource.path) for f in found] == [
        ("iac.checkov.scan", Status.ERROR, "charts/web")
    ]
    assert "helm" in found[0].message


def ctx_for(paths: list[Path]) -> ScanContext:
    return ScanContext(config=AuditConfig(iac_paths=tuple(paths)), now=NOW)


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
        ("echo 'not json'; exit 0", 30.0, "no readable JSON"),
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
    found = list(p.run(ctx_for([tmp_path])))
    assert [(f.check_id, f.status) for f in found] == [("iac.checkov.scan", Status.ERROR)]
    assert expect in found[0].message


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
