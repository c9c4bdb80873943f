"""Shared by the CLI exit-code tests: run `auditor scan --iac X --code X --fail-on high` as a process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_auditor

CODE_FIXTURE = Path(__file__).parents[2] / "fixtures" / "code" / "app"

SSH_WORLD = """\
resource "aws_security_group" "fail_ssh_world" {
  name        = "ssh"
  description = "ssh from anywhere"
  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


def scan(tmp_path: Path, target: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    out = tmp_path / "out.json"
    res = run_auditor(
        "scan",
        "--iac",
        str(target),
        "--code",
        str(target),
        "--fail-on",
        "high",
        "--db",
        str(tmp_path / "a.db"),
        "--format",
        "json",
        "--output",
        str(out),
        *extra,
    )
    doc = json.loads(out.read_text()) if out.exists() else {}
    return res.code, doc, res.err
