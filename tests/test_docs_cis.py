"""docs/providers/aws.md lists every CIS AWS v3.0.0 recommendation with its status: the table
must say what the shipped catalog does (the checks that decide it, or manual), so it cannot go
stale as checks land."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.frameworks import load_catalog

DOC = Path(__file__).resolve().parents[1] / "docs" / "providers" / "aws.md"
ROW = re.compile(r"^\| (\d+(?:\.\d+)+) \| .*? \| ([12]) \| (automated|manual)(.*) \|$")


def test_the_cis_status_table_matches_the_catalog() -> None:
    rows = {m.group(1): m for line in DOC.read_text().splitlines() if (m := ROW.match(line))}
    controls = {c.id: c for c in load_catalog()["cis-aws"].controls}
    assert set(rows) == set(controls)
    for rec, m in rows.items():
        c = controls[rec]
        if m.group(3) == "automated":
            assert list(re.findall(r"`([a-z0-9_.]+)`", m.group(4))) == list(c.checks), rec
        else:
            assert not c.checks, f"{rec} is automated in the catalog"
    automated = sum(1 for c in controls.values() if c.checks)
    assert f"{automated} of {len(controls)} recommendations are automated" in DOC.read_text()
