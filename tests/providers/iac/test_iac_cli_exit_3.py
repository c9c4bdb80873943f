"""`auditor scan --iac X --code X --fail-on high` as a process: exit 3 (something could not be scanned).

The repository holds a Terraform file that does not parse and a Helm chart. Without a
`helm` binary (the default here: scripts/setup does not install it) checkov skips the
chart silently and must not hang; auditor reports both as ERROR, never as PASS.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.providers.iac.iac_cli_helpers import scan

pytestmark = pytest.mark.slow


def test_unparseable_file_and_unscannable_chart_exit_3(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "charts" / "web" / "templates").mkdir(parents=True)
    (repo / "broken.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "q"\n')
    (repo / "charts" / "web" / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (repo / "charts" / "web" / "values.yaml").write_text("replicas: 1\n")
    code, doc, err = scan(tmp_path, repo)
    assert code == 3, err
    errors = sorted((f["check_id"], f["resource"]["path"]) for f in doc["findings"] if f["status"] == "ERROR")  # type: ignore[union-attr]
    expected = [("iac.checkov.scan", "broken.tf")]
    if shutil.which("helm") is None:
        expected.append(("iac.checkov.scan", "charts/web"))
    assert errors == sorted(expected)
    assert doc["run"]["status"] == "partial"  # type: ignore[index]
