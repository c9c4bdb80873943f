"""Benchmark: the one path base and the CI output formats on a large scan result.

Usage: .venv/bin/python bench/outputs.py [N]        (default: 100000 findings)

Builds N findings shaped like a repository scan (three quarters IaC and code findings with
paths relative to their target folder, a quarter cloud findings), then times:
- the engine's finalise pass (controls + redaction) without and with the rebasing of every
  path onto the source root (the cost of the one path base);
- rendering the result in every `--format` (findings/s each), SARIF with and without a
  resource inventory for the cloud findings.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from auditor.catalog import ControlMapper
from auditor.clock import parse_instant
from auditor.engine import ScanResult, finalise_findings, summarise
from auditor.frameworks import frameworks_for
from auditor.models import Finding, Resource, Run, RunStatus, Severity, Status
from auditor.outputs import FORMATS, sarif
from auditor.scope import PathRebaser

NOW_ISO = "2026-11-29T12:00:00+00:00"


def build(n: int, root: Path) -> list[Finding]:
    infra = root / "infra"
    out: list[Finding] = []
    sev = list(Severity)
    for i in range(n):
        kind = i % 4
        status = Status.FAIL if i % 3 == 0 else Status.PASS
        if kind in (0, 1):
            out.append(Finding(
                check_id=f"iac.CKV_AWS_{i % 300}", status=status, severity=sev[i % 5],
                resource=Resource(id=f"aws_s3_bucket.b{i}", type="aws_s3_bucket", path=f"mod{i % 50}/main.tf",
                                  line=1 + i % 400, end_line=5 + i % 400),
                message="Ensure the bucket has access logging", provider="iac", target=f"iac:{infra}",
                evidence={"file": f"mod{i % 50}/main.tf", "lines": [1, 5]},
            ))
        elif kind == 2:
            rel = f"src/pkg{i % 80}/views.py"
            out.append(Finding(
                check_id=f"code.python.rule-{i % 40}", status=status, severity=sev[i % 5],
                resource=Resource(id=rel, type="source_file", path=rel, line=1 + i % 900),
                message="request data reaches a SQL query", provider="code", target=f"code:{root}",
                discriminator=str(i),
            ))
        else:
            arn = f"arn:aws:s3:::bucket-{i}"
            out.append(Finding(
                check_id=f"aws.s3.check_{i % 30}", status=status, severity=sev[i % 5],
                resource=Resource(id=arn, type="AWS::S3::Bucket", account="123456789012", region="eu-west-1"),
                message=f"bucket bucket-{i} has no default encryption", provider="aws", target="aws:123456789012",
            ))
    return out


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "infra").mkdir()
        raw = build(n, root)
        mapper = ControlMapper(frameworks_for(["soc2", "gdpr"]))
        t_plain = min(timed(lambda: finalise_findings(raw, mapper)) for _ in range(3))
        t_rebase = min(timed(lambda: finalise_findings(raw, mapper, PathRebaser(root))) for _ in range(3))
        findings = finalise_findings(raw, mapper, PathRebaser(root))
        assert {f.resource.path.split("/")[0] for f in findings if f.resource.path} == {"infra", "src"}
        print(f"{n} findings")
        print(f"finalise without rebasing: {t_plain:.3f} s ({n / t_plain:,.0f}/s)")
        print(f"finalise with rebasing:    {t_rebase:.3f} s ({n / t_rebase:,.0f}/s); "
              f"the path base costs {(t_rebase / t_plain - 1) * 100:+.1f} %")
        run = Run(id="bench", started_at=parse_instant(NOW_ISO), finished_at=None,
                  status=RunStatus.COMPLETE, scanner_version="bench", targets=())
        result = ScanResult(run=run, findings=findings, controls=[], summary=summarise(findings), checks={},
                            source_root=root)
        for fmt, writer in sorted(FORMATS.items()):
            t = min(timed(lambda w=writer: w(result, io.StringIO())) for _ in range(2))  # type: ignore[misc]
            print(f"--format {fmt:<6} {t:.3f} s ({n / t:,.0f} findings/s)")
        inventory = sarif.ResourceInventory(path=root / "resources.txt", rel="resources.txt")

        def with_inventory() -> None:
            inventory.render(result.findings)
            sarif.write(result, io.StringIO(), inventory)

        t = min(timed(with_inventory) for _ in range(2))
        print(f"--format sarif --sarif-resources: {t:.3f} s ({n / t:,.0f} findings/s)")
        doc = sarif.to_document(replace(result), inventory=None)
        print(f"SARIF results: {len(doc['runs'][0]['results'])} (file findings that FAIL), "
              f"left out: {doc['runs'][0]['properties']['auditor']['not_in_sarif']}")


if __name__ == "__main__":
    main()
