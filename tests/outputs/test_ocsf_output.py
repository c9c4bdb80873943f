"""OCSF 1.1 Compliance Finding events, one per line, one per finding."""

from __future__ import annotations

import io
import json
from typing import Any

from auditor.engine import ScanResult
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
        assert e["metadata"]["version"].startswith("1.")
        assert isinstance(e["time"], int) and e["time"] > 1_700_000_000_000
        for key in ("finding_info", "compliance", "resources", "severity_id", "status_id"):
            assert key in e


def test_severity_status_and_compliance_mapping(mixed_result: ScanResult) -> None:
    by_fp = {e["finding_info"]["uid"]: e for e in events(mixed_result)}
    sev_ids = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
    comp = {"PASS": 1, "FAIL": 3, "WAIVED": 3, "ERROR": 0, "SKIPPED": 99}
    for f in mixed_result.findings:
        e = by_fp[f.fingerprint]
        assert e["severity_id"] == sev_ids[f.severity.value]
        assert e["compliance"]["status_id"] == comp[f.status.value]
        assert e["compliance"]["requirements"] == list(f.controls)
        assert e["compliance"]["control"] == f.check_id
        assert e["status_code"] == f.status.value
        assert (e["status_id"], e["status"]) == ((3, "Suppressed") if f.status.value == "WAIVED" else (1, "New"))
        assert e["resources"][0]["uid"] == f.resource.id
    rotation = next(e for e in by_fp.values() if e["compliance"]["control"] == "secrets.inventory.rotation_age")
    assert rotation["compliance"]["standards"] == ["GDPR", "SOC 2"]


def test_cloud_resources_carry_account_and_region(mixed_result: ScanResult) -> None:
    by_uid = {e["resources"][0]["uid"]: e for e in events(mixed_result)}
    bucket = by_uid[BUCKET_ARN]
    assert bucket["cloud"] == {"provider": "AWS", "account": {"uid": ACCOUNT}, "region": "eu-west-1"}
    assert bucket["resources"][0]["region"] == "eu-west-1"
    logs = by_uid[LOGS_ARN]
    assert logs["unmapped"]["waiver"]["approver"] == "alice@example.com"
    iac = by_uid["aws_s3_bucket.exports"]
    assert "cloud" not in iac
    assert iac["resources"][0]["data"]["line"] == 12
