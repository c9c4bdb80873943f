"""OCSF output against the official OCSF 1.3.0 Compliance Finding JSON schema.

A real scan (checkov over Terraform, semgrep over code, AWS in moto with a denied read,
the golden secrets inventory, a waiver file) gives PASS, FAIL, WAIVED, ERROR and SKIPPED
findings; every line of `--format ocsf` must validate against the schema of the class
(with the `cloud` profile when the event declares it). The schema files are the official
export (tests/fixtures/ocsf/README.md); a test checks they are the strict shape that
export has, and that the validator rejects broken events, so a pass is never vacuous.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from auditor.config import AuditConfig
from auditor.engine import ScanResult
from auditor.outputs import ocsf
from auditor.providers import targets
from auditor.runs import run_scan
from auditor.store import Store
from auditor.vulndb import VulnDB, import_path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "fixtures" / "ocsf"
FIXTURES = ROOT / "tests" / "fixtures"
REGION = "eu-west-1"

# Our status -> (compliance.status_id, compliance.status, finding status_id, finding status).
EXPECTED_STATUS = {
    "PASS": (1, "Pass", 1, "New"),
    "FAIL": (3, "Fail", 1, "New"),
    "WAIVED": (3, "Fail", 3, "Suppressed"),
    "ERROR": (2, "Warning", 1, "New"),
    "SKIPPED": (99, "SKIPPED", 1, "New"),
}


@cache
def schema(profile: str | None) -> dict[str, Any]:
    name = "compliance_finding-1.3.0-cloud.json" if profile == "cloud" else "compliance_finding-1.3.0.json"
    doc: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return doc


def validator_for(event: dict[str, Any]) -> Draft202012Validator:
    profiles = event.get("metadata", {}).get("profiles", [])
    return Draft202012Validator(schema("cloud" if "cloud" in profiles else None))


def errors(event: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator_for(event).iter_errors(event)
    )


def ocsf_lines(result: ScanResult) -> list[dict[str, Any]]:
    stream = io.StringIO()
    ocsf.write(result, stream)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# The schema files are the strict official shape ------------------------------------------------


@pytest.mark.parametrize("profile", [None, "cloud"])
def test_schema_files_are_the_strict_official_export(profile: str | None) -> None:
    doc = schema(profile)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(doc)
    suffix = "?profiles=cloud" if profile else ""
    assert doc["$id"] == f"https://schema.ocsf.io/schema/1.3.0/classes/compliance_finding{suffix}"
    required = {"activity_id", "category_uid", "class_uid", "compliance", "finding_info", "metadata"}
    required |= {"severity_id", "time", "type_uid"} | ({"cloud"} if profile else set())
    assert set(doc["required"]) == required
    assert doc["additionalProperties"] is False
    assert ("cloud" in doc["properties"]) is (profile == "cloud")
    defs = doc["$defs"]
    # Every object is closed except OCSF's free-form `object` (what `unmapped` is).
    assert [n for n, d in defs.items() if d.get("additionalProperties") is not False] == ["object"]
    assert set(defs["metadata"]["required"]) == {"product", "version"}
    assert set(defs["finding_info"]["required"]) == {"title", "uid"}
    assert defs["compliance"]["required"] == ["standards"]
    assert defs["product"]["required"] == ["vendor_name"]
    assert defs["remediation"]["required"] == ["desc"]
    assert defs["compliance"]["properties"]["status_id"]["enum"] == [3, 0, 1, 2, 99]
    assert "resources" in doc["properties"] and "resource" in doc["properties"]


# The validator bites --------------------------------------------------------------------------


def break_event(event: dict[str, Any], how: str) -> dict[str, Any]:
    bad = copy.deepcopy(event)
    if how == "no finding_info.uid":
        del bad["finding_info"]["uid"]
    elif how == "no compliance":
        del bad["compliance"]
    elif how == "no metadata.product.vendor_name":
        del bad["metadata"]["product"]["vendor_name"]
    elif how == "no time":
        del bad["time"]
    elif how == "unknown top-level attribute":
        bad["resource_path"] = "main.tf"
    elif how == "unknown compliance attribute":
        bad["compliance"]["outcome"] = "FAIL"
    elif how == "compliance status_id outside the enum":
        bad["compliance"]["status_id"] = 4
    elif how == "type_uid of another class":
        bad["type_uid"] = 200401
    elif how == "time as text":
        bad["time"] = "2026-11-28T12:00:00Z"
    elif how == "resource without uid or name":
        bad["resources"] = [{"type": "file"}]
    elif how == "1.1 style resource object as a list":
        bad["resource"] = bad["resources"]
    elif how == "cloud without the cloud profile":
        bad["cloud"] = {"provider": "AWS"}
        bad["metadata"].pop("profiles", None)
    elif how == "cloud profile without cloud":
        bad["metadata"]["profiles"] = ["cloud"]
        bad.pop("cloud", None)
    else:  # pragma: no cover - a typo in the parameter list
        raise AssertionError(how)
    return bad


BREAKAGES = [
    "no finding_info.uid",
    "no compliance",
    "no metadata.product.vendor_name",
    "no time",
    "unknown top-level attribute",
    "unknown compliance attribute",
    "compliance status_id outside the enum",
    "type_uid of another class",
    "time as text",
    "resource without uid or name",
    "1.1 style resource object as a list",
    "cloud without the cloud profile",
    "cloud profile without cloud",
]


@pytest.mark.parametrize("how", BREAKAGES)
def test_validator_rejects_a_broken_event(mixed_result: ScanResult, how: str) -> None:
    events = ocsf_lines(mixed_result)
    file_event = next(e for e in events if e["compliance"]["control"] == "iac.CKV_AWS_18")
    assert errors(file_event) == []
    assert errors(break_event(file_event, how)) != [], how
    with pytest.raises(ValidationError):
        validator_for(break_event(file_event, how)).validate(break_event(file_event, how))


def test_synthetic_mixed_events_are_valid(mixed_result: ScanResult) -> None:
    """Every status and every resource shape of the output fixture (cheap; the real scan is below)."""
    events = ocsf_lines(mixed_result)
    assert {e["status_code"] for e in events} == set(EXPECTED_STATUS)
    assert {json.dumps(e["finding_info"]["uid"]): errors(e) for e in events if errors(e)} == {}


# A real scan across providers -----------------------------------------------------------------


def refuse_kms(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
    body = {
        "Error": {"Code": "AccessDenied", "Message": "denied by the test"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    return AWSResponse("https://refused.invalid/", 403, {}, None), body


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in [k for k in os.environ if k.startswith(("AWS_", "MOTO_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    yield


@pytest.fixture
def workspace(tmp_path: Path, golden_inventory: Path) -> Path:
    """A checkout (`.git` at `tmp_path`) with IaC, code and dependencies in subfolders; the golden
    secrets inventory is in `estate/` beside them."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    shutil.copy(FIXTURES / "iac" / "golden" / "terraform" / "main.tf", tmp_path / "infra" / "main.tf")
    shutil.copytree(FIXTURES / "code" / "app", tmp_path / "src" / "app")
    (tmp_path / "services" / "api").mkdir(parents=True)
    (tmp_path / "services" / "api" / "requirements.txt").write_text("jinja2==3.1.2\nrequests==2.30.0\n")
    assert golden_inventory.parent == tmp_path / "estate"
    return tmp_path


@pytest.fixture
def real_result(moto_env: None, monkeypatch: pytest.MonkeyPatch, workspace: Path, now: datetime) -> ScanResult:
    from moto import mock_aws

    from auditor.providers.aws import session as aws_session

    vulndb = workspace.parent / f"{workspace.name}-vulndb.sqlite"
    with VulnDB.open(vulndb, create=True) as db:
        import_path(db, ROOT / "auditor" / "demo_data" / "osv", now)
    monkeypatch.setenv("AUDITOR_VULNDB", str(vulndb))
    waivers = workspace.parent / f"{workspace.name}-waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - check: aws.s3.*\n"
        '    resource: "arn:aws:s3:::acme-access-logs"\n'
        "    reason: the access-log bucket cannot log into itself\n"
        "    approver: alice@example.com\n"
        "    created: 2026-10-01\n"
        "    expires: 2027-03-31\n"
        "    id: access-logs\n",
        encoding="utf-8",
    )
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in ("acme-access-logs", "acme-customer-exports"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("iam").create_user(UserName="alice")

        def denied_kms(profile: str | None) -> boto3.Session:
            session = boto3.Session()
            session.events.register("before-call.kms", refuse_kms)
            return session

        monkeypatch.setattr(aws_session, "base_session", denied_kms)
        config = AuditConfig(
            targets=targets(
                aws={"enabled": True, "regions": (REGION,)},
                iac=(workspace / "infra",),
                code=(workspace / "src",),
                deps=(workspace / "services" / "api" / "requirements.txt",),
                secrets=workspace / "estate" / "inventory.yaml",
            ),
            waivers_file=waivers,
            db_path=Path(":memory:"),
            offline=True,
        )
        store = Store.memory()
        try:
            return run_scan(config, store, now=now)
        finally:
            store.close()


@pytest.mark.slow
def test_every_event_of_a_real_scan_is_valid_ocsf_1_3_0(real_result: ScanResult, workspace: Path) -> None:
    findings = real_result.findings
    events = ocsf_lines(real_result)
    assert len(events) == len(findings)
    by_status = Counter(f.status.value for f in findings)
    assert set(by_status) == set(EXPECTED_STATUS), by_status
    assert {f.provider for f in findings} >= {"iac", "code", "deps", "aws", "secrets"}
    for status in EXPECTED_STATUS:  # every status comes from a real provider, not the fixture
        assert {f.provider for f in findings if f.status.value == status}, status

    invalid = {f"{e['compliance']['control']} {e['resources'][0]['uid']}": errors(e) for e in events if errors(e)}
    assert invalid == {}

    for f, e in zip(findings, events, strict=True):
        assert e["metadata"]["version"] == "1.3.0"
        assert (e["class_uid"], e["category_uid"], e["activity_id"], e["type_uid"]) == (2003, 2, 1, 200301)
        assert e["finding_info"]["uid"] == f.fingerprint
        comp_id, comp_status, status_id, status = EXPECTED_STATUS[f.status.value]
        c = e["compliance"]
        assert (c["status_id"], c["status"], c["status_code"]) == (comp_id, comp_status, f.status.value)
        assert (e["status_id"], e["status"], e["status_code"]) == (status_id, status, f.status.value)
        assert c["control"] == f.check_id and c["requirements"] == list(f.controls)
        # The cloud profile is declared exactly where the cloud object is, and only for AWS findings.
        cloud = f.provider == "aws"
        assert ("cloud" in e) is cloud and (e["metadata"].get("profiles") == ["cloud"]) is cloud
        if cloud:
            assert e["cloud"]["provider"] == "AWS"
        resource = e["resources"][0]
        assert resource["uid"] == f.resource.id
        if f.resource.path is not None:
            assert resource["data"]["path"] == f.resource.path
            assert resource["data"].get("line") == f.resource.line

    waived = [e for e in events if e["status_code"] == "WAIVED"]
    waivers = [(e["finding_info"]["types"][0], e["unmapped"]["waiver"]) for e in waived]
    assert {(provider, w.get("id", w["source"])) for provider, w in waivers} == {
        ("aws", "access-logs"),  # the waiver file
        ("iac", "inline"),  # an approved checkov:skip in the Terraform fixture
    }
    errored = [e for e in events if e["status_code"] == "ERROR"]
    assert {e["compliance"]["control"].split(".")[0] for e in errored} >= {"aws", "secrets"}
    # A file finding carries its path and lines in resources[].data (OCSF 1.3.0 has no file attribute
    # here): relative to the source root (the checkout), with its folders, and the line is in the file.
    assert real_result.source_root == workspace.resolve()
    files = {}
    for e in events:
        data = e["resources"][0].get("data", {})
        if "path" in data:
            path = workspace / data["path"]
            assert not Path(data["path"]).is_absolute() and path.exists(), data
            if "line" in data:
                assert path.is_file() and 1 <= data["line"] <= len(path.read_text().splitlines()), data
                files.setdefault(e["finding_info"]["types"][0], set()).add(data["path"])
    assert files == {
        "iac": {"infra/main.tf"},
        "code": {"src/app/views.py", "src/app/server.js"},
        "deps": {"services/api/requirements.txt"},
        "secrets": {"estate/inventory.yaml"},
    }
