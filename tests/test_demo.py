"""`auditor demo` end to end: every provider, history, outputs, verified packs, no leftovers."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from auditor.providers.aws.demo_estate import MOTO_UNSERVED
from tests.conftest import run_auditor
from tests.github_sarif import ingestion_problems


def moto_processes() -> set[int]:
    """moto_server processes started from this virtualenv (other checkouts on the machine run their own)."""
    venv = str(Path(sys.executable).parent).encode()
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
                if b"moto_server" in cmdline and venv in cmdline:
                    pids.add(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_NOW")  # the demo places its runs on past days itself
    before = moto_processes()
    out = tmp_path / "auditor-demo"
    res = run_auditor("demo", "--dir", str(out))
    assert res.code == 0, res.err
    assert "auditor demo finished" in res.err and str(out / "soc2-evidence-pack.zip") in res.err
    assert moto_processes() <= before, "the demo left its moto_server running"

    db = out / "auditor.db"
    runs = sqlite3.connect(db).execute("SELECT status FROM runs ORDER BY seq").fetchall()
    # The sample AWS account is moto, which does not serve every API a check reads: those checks are ERROR
    # (never PASS), so each run is partial, and nothing else is.
    assert [r[0] for r in runs] == ["partial", "partial", "partial"]

    doc = json.loads((out / "findings.json").read_text())
    assert {f["provider"] for f in doc["findings"]} == {"aws", "iac", "code", "deps", "image", "secrets"}
    assert {f["check_id"] for f in doc["findings"] if f["status"] == "ERROR"} == MOTO_UNSERVED
    assert doc["summary"]["by_status"]["WAIVED"] >= 1
    sarif = json.loads((out / "findings.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    # Every GitHub ingestion rule that can be checked offline, against the demo folder (its source root).
    assert ingestion_problems(sarif, checkout=out) == []
    providers = {r["properties"]["check_id"].split(".")[0] for r in sarif["runs"][0]["results"]}
    assert providers == {"aws", "iac", "code", "deps", "image", "secrets"}  # cloud and image on cloud-resources.txt

    diff = json.loads(run_auditor("diff", "--db", str(db), "--format", "json").out)
    resolved = {c["resource_id"] for c in diff["resolved"]}
    assert "secret:payments-db-password" in resolved
    assert any("acme-public-site-us" in r for r in resolved)

    # The dashboard over the demo's database: every page answers, and the overview's numbers are the CLI's.
    from werkzeug.test import Client

    from auditor.serve.app import Dashboard

    assert f"auditor serve --db {db}" in res.err
    dashboard = Client(Dashboard(db))
    fail = next(f for f in doc["findings"] if f["status"] == "FAIL")
    for page in ("/", "/controls", "/controls?framework=cis-aws", "/controls/soc2/CC6.1", "/findings",
                 "/findings?provider=aws&status=FAIL", f"/findings/{fail['fingerprint']}", "/runs", "/diff",
                 "/reports"):  # fmt: skip
        answer = dashboard.get(page)
        assert answer.status_code == 200, (page, answer.get_data(as_text=True)[:300])
    overview = dashboard.get("/").get_data(as_text=True)
    for key, anchor in (("new", "diff-new"), ("resolved", "diff-resolved"), ("not_rechecked", "diff-not-rechecked")):
        assert f'id="{anchor}">{len(diff[key])}<' in overview

    # The packs are signed: they verify (exit 0) with the public key the demo prints, and only with it.
    printed = re.search(r"^\s*public key:\s+(\S+)", res.err, re.M)
    assert printed is not None, res.err
    public_key = Path(printed.group(1))
    assert public_key.parent == out and (out / "pack-signing-key.pem").stat().st_mode & 0o777 == 0o600
    for framework in ("soc2", "gdpr", "iso27001", "cis-aws"):  # ISO 27001 and CIS ship as entry-point plugins
        pack = out / f"{framework}-evidence-pack.zip"
        assert f"auditor verify {pack} --public-key {public_key}" in res.err
        verify = run_auditor("verify", str(pack), "--public-key", str(public_key))
        assert verify.code == 0 and "INTACT and AUTHENTICATED" in verify.out, verify.out + verify.err
        assert run_auditor("verify", str(pack)).code == 4  # without the key: intact, not authenticated
        assert (out / f"{framework}-report.pdf").stat().st_size > 10_000


def test_demo_estates_come_through_the_provider_contract(tmp_path: Path) -> None:
    """`auditor demo` asks every provider in the registry for its sample estate
    (`Provider.demo_estate`): none is imported by the demo itself."""
    import contextlib
    import io
    from collections.abc import Iterator
    from datetime import UTC, datetime
    from importlib.metadata import EntryPoint

    from rich.console import Console

    from auditor.config import Setting
    from auditor.demo import Demo, demo_targets, provider_estates
    from auditor.models import CheckInfo, Finding
    from auditor.providers import ENTRY_POINT_GROUP, Registry, targets
    from auditor.providers.base import DemoContext, DemoEstate, Provider, ScanContext
    from auditor.providers.iac import IacProvider
    from auditor.providers.image import ImageProvider
    from auditor.providers.image.sample import sample_osv_records

    events: list[str] = []

    class FakeProvider(Provider):
        name = "fake"
        settings = (Setting("zone", "text", flag="--fake-zone"),)

        @classmethod
        @contextlib.contextmanager
        def demo_estate(cls, demo: DemoContext) -> Iterator[DemoEstate | None]:
            events.append("start")
            demo.step("fake estate up")
            yield DemoEstate({"zone": "z1"}, env={"FAKE_ENDPOINT": "http://127.0.0.1:1"}, fix=lambda: None)
            events.append("stop")

        def checks(self) -> list[CheckInfo]:
            return []

        def run(self, ctx: ScanContext) -> Iterator[Finding]:
            yield from ()

    printed = io.StringIO()
    demo = Demo(out=tmp_path, console=Console(file=printed, highlight=False))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    repo = tmp_path / "estate" / "repo"
    reg = Registry.of_classes({"fake": FakeProvider, "iac": IacProvider, "image": ImageProvider})
    with provider_estates(demo, tmp_path / "estate", now, reg) as estates:
        assert sorted(estates) == ["fake", "image"]  # iac has no estate of its own: it scans the sample repository
        assert events == ["start"] and "fake estate up" in printed.getvalue()
        image = tmp_path / "estate" / "image" / "payments-api.tar"
        assert image.is_file()
        assert estates["image"].settings == {"refs": (str(image),)}
        assert [r["id"] for r in estates["image"].osv_records] == [r["id"] for r in sample_osv_records()]
        assert estates["fake"].env == {"FAKE_ENDPOINT": "http://127.0.0.1:1"} and estates["fake"].fix is not None
        settings = demo_targets(repo, estates, reg)
        assert settings == {"fake": {"zone": "z1"}, "iac": {"paths": (repo,)}, "image": {"refs": (str(image),)}}
        assert sorted(targets(reg, **settings)) == ["fake", "iac", "image"]  # valid settings of each provider
    assert events == ["start", "stop"]  # left when the demo's scans are done

    # A provider that cannot be loaded: its part is skipped, with a note in the demo's summary.
    broken = Registry([EntryPoint(name="gone", value="no_such_module_for_demo:Gone", group=ENTRY_POINT_GROUP)])
    with provider_estates(demo, tmp_path / "estate", now, broken) as estates:
        assert estates == {}
    assert demo.notes == [
        "gone provider unavailable (ModuleNotFoundError: No module named 'no_such_module_for_demo'): "
        "its part of the demo skipped"
    ]
