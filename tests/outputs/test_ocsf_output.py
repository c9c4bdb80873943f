"""OCSF 1.3.0 Compliance Finding events, one per line, one per finding (schema validity: test_ocsf_schema)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

from auditor.engine import ScanResult
from auditor.frameworks import frameworks_for
from auditor.outputs import ocsf
from tests.outputs.conftest import ACCOUNT, BUCKET_ARN, LOGS_ARN


def events(result: ScanResult) -> list[dict[str, Any]]:
    stream = io.StringIO()
    ocsf.write(result, stream)
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]


def test_one_compliance_finding_event_per_finding(mixed_result: ScanResult) -> None:
    evs = events(mixed_result)
    assert len(evs) == len(mixed_result.findings)
    assert {e["finding_info"]["uid"] for e in evs} == {f.fingerprint for f in mixed_result.findings}
    for e in evs:
        assert (e["class_uid"], e["category_uid"], e["activity_id"], e["type_uid"]) == (2003, 2, 1, 200301)
        assert e["metadata"]["product"]["name"] == "auditor"
        assert e["metadata"]["version"] == "1.3.0"
        assert isinstance(e["time"], int) and e["time"] > 1_700_000_000_000
        for key in ("finding_info", "compliance", "resources", "severity_id", "status_id"):
            assert key in e


def test_severity_status_and_compliance_mapping(mixed_result: ScanResult) -> None:
    by_fp = {e["finding_info"]["uid"]: e for e in events(mixed_result)}
    sev_ids = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
    comp = {"PASS": (1, "Pass"), "FAIL": (3, "Fail"), "WAIVED": (3, "Fail"), "ERROR": (2, "Warning")}
    comp["SKIPPED"] = (99, "SKIPPED")  # Other: the caption field carries our label
    for f in mixed_result.findings:
        e = by_fp[f.fingerprint]
        assert e["severity_id"] == sev_ids[f.severity.value]
        assert (e["compliance"]["status_id"], e["compliance"]["status"]) == comp[f.status.value]
        assert e["compliance"]["status_detail"] == f.message
        assert e["compliance"]["requirements"] == list(f.controls)
        assert e["compliance"]["control"] == f.check_id
        assert e["status_code"] == f.status.value
        assert (e["status_id"], e["status"]) == ((3, "Suppressed") if f.status.value == "WAIVED" else (1, "New"))
        assert e["resources"][0]["uid"] == f.resource.id
    rotation = next(e for e in by_fp.values() if e["compliance"]["control"] == "secrets.inventory.rotation_age")
    # the frameworks' own names, from their catalogs
    assert rotation["compliance"]["standards"] == [fw.name for fw in frameworks_for(["gdpr", "soc2"])]
    assert rotation["compliance"]["standards"][1].startswith("SOC 2 - AICPA Trust Services Criteria")


def test_cloud_resources_carry_account_and_region(mixed_result: ScanResult) -> None:
    by_uid = {e["resources"][0]["uid"]: e for e in events(mixed_result)}
    bucket = by_uid[BUCKET_ARN]
    assert bucket["cloud"] == {"provider": "AWS", "account": {"uid": ACCOUNT}, "region": "eu-west-1"}
    assert bucket["metadata"]["profiles"] == ["cloud"]
    assert bucket["resources"][0] == {
        "uid": BUCKET_ARN,
        "name": BUCKET_ARN,
        "type": "AWS::S3::Bucket",
        "region": "eu-west-1",
        "cloud_partition": "aws",
    }
    logs = by_uid[LOGS_ARN]
    assert logs["unmapped"]["waiver"]["approver"] == "alice@example.com"
    iac = by_uid["aws_s3_bucket.exports"]
    assert "cloud" not in iac and "profiles" not in iac["metadata"]
    # the path as the finding has it: relative to the source root (the fixture's tmp_path)
    assert iac["resources"][0]["data"] == {"path": "infra/main.tf", "line": 12, "end_line": 20}


def test_a_region_outside_the_cloud_profile_goes_to_data(mixed_result: ScanResult) -> None:
    """`resources[].region` exists only under the cloud profile; elsewhere it is kept in `data`."""
    code = next(f for f in mixed_result.findings if f.check_id == "code.python.weak-hash")
    regional = replace(code, resource=replace(code.resource, region="eu-west-1"))
    (e,) = events(replace(mixed_result, findings=[regional]))
    assert "cloud" not in e and e["resources"][0] == {
        "uid": "app/crypto.py",
        "name": "app/crypto.py",
        "type": "file",
        "data": {"path": code.resource.path, "region": "eu-west-1"},
    }


def test_strings_are_capped_at_the_ocsf_maximum(mixed_result: ScanResult) -> None:
    code = next(f for f in mixed_result.findings if f.check_id == "code.python.weak-hash")
    (e,) = events(replace(mixed_result, findings=[replace(code, message="x" * 70_000)]))
    assert len(e["message"]) == ocsf.MAX_STRING == 65535 and e["message"].endswith("…")
    assert e["compliance"]["status_detail"] == e["finding_info"]["desc"] == e["message"]
