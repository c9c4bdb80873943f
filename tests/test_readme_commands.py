"""README's first two commands, in that order: `auditor demo`, then `scripts/test`.

The demo writes `./auditor-demo/` (its estate holds a sample repository with planted
high findings) into the checkout; `scripts/test` ends with `scripts/dogfood`, the
self-scan of the checkout. The self-scan's scope is the repository less what its
`.gitignore` excludes, so the demo's output must not reach it, and the dogfood gate must
pass. This runs the real `scripts/dogfood` in a copy of the tracked files, with the
demo's estate folder built the way the demo builds it (the sample repository copied to
`auditor-demo/estate/repo`; the image, database and AWS parts add no file of interest).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def tracked_files(repo: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p]


def test_readme_order_demo_then_scripts_test_self_scan_passes(tmp_path: Path) -> None:
    checkout = tmp_path / "auditor"
    for rel in tracked_files(REPO):
        src = REPO / rel
        if src.is_file():
            (checkout / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, checkout / rel)
    os.symlink(Path(sys.executable).parents[1], checkout / ".venv")  # what `scripts/setup` made
    assert "auditor-demo/" in (checkout / ".gitignore").read_text().splitlines()

    # `auditor demo`: its estate, with the sample repository and its planted findings
    estate = checkout / "auditor-demo" / "estate"
    shutil.copytree(REPO / "auditor" / "demo_data" / "sample_repo", estate / "repo")
    (estate / "repo" / "infra.tf").write_text(
        'resource "aws_security_group" "demo_ssh_world" {\n  ingress {\n    from_port   = 22\n'
        '    to_port     = 22\n    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    )
    (checkout / "auditor-demo" / "auditor.db").write_bytes(b"SQLite format 3\0")

    out = tmp_path / "self.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}
    proc = subprocess.run(
        ["scripts/dogfood"],
        cwd=checkout,
        env={**env, "AUDITOR_DOGFOOD_JSON": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    paths = {f["resource"]["path"] or "" for f in doc["findings"]}
    assert not {p for p in paths if p.startswith("auditor-demo")}
    assert "auditor/demo_data/sample_repo/app/app.py" in paths  # the same flaws, tracked: still scanned
    assert doc["summary"]["by_status"]["ERROR"] == 0
    coverage = {c["provider"]: c for c in doc["run"]["coverage"]}
    assert {"iac", "code"} <= set(coverage)
    for provider in ("iac", "code"):
        assert coverage[provider]["complete"]
        assert coverage[provider]["details"]["excluded"]["ignore file"] >= 1  # auditor-demo/ among them
