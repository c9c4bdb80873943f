"""Retention, backups, integrity checks, sharding and merging shard databases."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditor.config import AuditConfig, ProviderSettings, Targets, in_shard, parse_shard
from auditor.engine import select_providers
from auditor.errors import UsageError
from auditor.maintenance import backup, check_database, merge, prune
from auditor.models import CheckInfo, Finding, Resource, Severity, Status, iso_z
from auditor.providers.base import Provider, ScanContext
from auditor.runs import run_scan
from auditor.store import Store
from tests.conftest import NOW, CliResult
from tests.test_store import finding, save

ACCOUNTS = [f"1000000000{i:02d}" for i in range(12)]
KEY_CHECK = CheckInfo(
    "secrets.inventory.rotation_age", "rotation", Severity.HIGH, "accounts", "d", "r", "rotate", "account"
)


class AccountsProvider(Provider):
    """Stands in for an account-based provider: one finding per account, split by shard."""

    name = "accounts"
    shardable = True

    def checks(self) -> list[CheckInfo]:
        return [KEY_CHECK]

    def selected(self, config: AuditConfig) -> bool:
        return True

    def targets(self, config: AuditConfig) -> list[str]:
        return [f"aws:{a}" for a in ACCOUNTS if in_shard(a, config.shard)]

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        for account in ACCOUNTS:
            if in_shard(account, ctx.config.shard):
                status = Status.FAIL if int(account) % 3 == 0 else Status.PASS
                yield self.finding(
                    KEY_CHECK,
                    status,
                    Resource(f"arn:aws:iam::{account}:root", "account", account=account),
                    "observed",
                    {"account": account},
                )


class LocalProvider(AccountsProvider):
    name = "local"
    shardable = False

    def targets(self, config: AuditConfig) -> list[str]:
        return ["local:inventory"]

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        yield self.finding(KEY_CHECK, Status.FAIL, Resource("secret:local", "secret"), "old", {"age": 400})


# Both test providers declare no settings: each is selected by its implicit `--<name>` switch.
BOTH = Targets({"accounts": ProviderSettings({"enabled": True}), "local": ProviderSettings({"enabled": True})})


def test_shard_parsing_and_split_is_a_partition() -> None:
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/0", "1-3"):
        with pytest.raises(UsageError):
            parse_shard(bad)
    shards = [{a for a in ACCOUNTS if in_shard(a, (i, 3))} for i in (1, 2, 3)]
    assert set().union(*shards) == set(ACCOUNTS)
    assert sum(len(s) for s in shards) == len(ACCOUNTS)
    assert all(shards), "12 accounts over 3 shards: none empty with this hash"


def test_only_shard_one_runs_non_account_providers() -> None:
    registry = {"accounts": AccountsProvider, "local": LocalProvider}
    config = AuditConfig(targets=BOTH)
    names = lambda shard: [p.name for p in select_providers(replace(config, shard=shard), registry)[0]]  # noqa: E731
    assert names((1, 2)) == ["accounts", "local"]
    assert names((2, 2)) == ["accounts"]


def test_merged_shards_equal_one_unsharded_scan(tmp_path: Path) -> None:
    providers = lambda: [AccountsProvider(), LocalProvider()]  # noqa: E731
    whole = Store.open(tmp_path / "whole.db")
    reference = run_scan(AuditConfig(), whole, providers=providers(), now=NOW)
    shard_paths = []
    for i in (1, 2, 3):
        path = tmp_path / f"shard{i}.db"
        shard_store = Store.open(path)
        config = replace(AuditConfig(targets=BOTH), shard=(i, 3))
        run_scan(
            config,
            shard_store,
            providers=select_providers(config, {"accounts": AccountsProvider, "local": LocalProvider})[0],
            now=NOW,
        )
        shard_store.close()
        shard_paths.append(path)
    central = Store.open(tmp_path / "central.db")
    result = merge(central, shard_paths, NOW)
    merged = {f.fingerprint: (f.status, f.severity, f.controls) for f in central.findings_for_run(result.run.id)}
    expected = {f.fingerprint: (f.status, f.severity, f.controls) for f in reference.findings}
    assert merged == expected
    assert len(merged) == len(ACCOUNTS) + 1
    ref_controls = {(c.framework, c.control_id): c.status.value for c in reference.controls}
    got_controls = {(r["framework"], r["control_id"]): r["status"] for r in central.control_results(result.run.id)}
    assert got_controls == ref_controls
    assert sorted(central.get_run(result.run.id).targets) == sorted(reference.run.targets)
    # Merging the same shards again stores no new evidence: every interval stays open.
    before = central.db["observations"].count
    merge(central, shard_paths, NOW + timedelta(days=1))
    assert central.db["observations"].count == before
    assert check_database(central).ok


def test_prune_keeps_referenced_evidence_and_open_findings(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    old, older = NOW - timedelta(days=35), NOW - timedelta(days=40)
    save(store, [finding("A"), finding("B"), finding("C", Status.PASS)], older)
    save(store, [finding("E")], older + timedelta(hours=1), targets=("elsewhere",))
    save(store, [finding("A", Status.PASS), finding("B"), finding("C", Status.PASS)], old)
    recent = save(store, [finding("B"), finding("C", Status.PASS), finding("D")], NOW - timedelta(days=1))
    before = {f.fingerprint: f for f in store.findings_for_run(recent.id)}
    result = prune(store, 30, NOW)
    assert result.runs == 3
    assert [r.id for r, _ in store.list_runs()] == [recent.id]
    after = {f.fingerprint: f for f in store.findings_for_run(recent.id)}
    assert after == before
    lifecycle = {r[0] for r in store.db.execute("SELECT resource_id FROM findings")}
    assert lifecycle == {"B", "C", "D", "E"}  # A was resolved and is gone; E is still open
    life_b, _ = store.history(finding("B").fingerprint)
    assert life_b["first_seen_at"].startswith(older.date().isoformat())  # history start survives
    referenced = store.db.execute("SELECT COUNT(DISTINCT text_hash) FROM observations").fetchone()[0]
    assert store.db["texts"].count == referenced
    assert "details" not in store.db.table_names()  # details live on their observation interval
    assert check_database(store).ok
    assert prune(store, 30, NOW).runs == 0


def test_backup_is_consistent_while_a_writer_is_mid_transaction(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = Store.open(path)
    save(store, [finding("A"), finding("B")])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO runs (id, started_at, status, scanner_version) VALUES ('uncommitted', 'x', 'running', 't')"
    )
    try:
        size = backup(store, tmp_path / "copy.db")
    finally:
        writer.execute("ROLLBACK")
    assert size > 0
    copy = Store.open(tmp_path / "copy.db", create=False)
    assert [r.id for r, _ in copy.list_runs()] == [r.id for r, _ in store.list_runs()]
    assert check_database(copy).ok
    with pytest.raises(UsageError, match="exists"):
        backup(store, tmp_path / "copy.db")


def test_db_check_finds_tampering(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    save(store, [finding("A")])
    assert check_database(store).ok
    store.db.execute('UPDATE observations SET evidence = \'{"observed":"forged"}\'')
    report = check_database(store)
    assert not report.ok and "do not match their content hash" in report.problems[0]
    assert report.problems[0].startswith("observation 1: details ")
    store.db.execute("UPDATE texts SET remediation = 'Ignore it.'")
    problems = check_database(store).problems
    assert any(p.startswith("title, remediation and controls ") and "content hash" in p for p in problems)


def test_maintenance_commands_end_to_end(cli: object, tmp_path: Path) -> None:
    from tests.conftest import run_auditor, write_inventory

    db = tmp_path / "a.db"
    inv = write_inventory(tmp_path, "secrets:\n  - name: x\n    last_rotated: 2026-01-01\n")
    assert run_auditor("scan", "--secrets-inventory", str(inv), "--db", str(db)).code == 0
    res = run_auditor("db", "check", "--db", str(db))
    assert res.code == 0 and "ok" in res.out
    res = run_auditor("backup", str(tmp_path / "b.db"), "--db", str(db))
    assert res.code == 0 and (tmp_path / "b.db").exists()
    res = run_auditor("prune", "--keep-days", "365", "--db", str(db))
    assert res.code == 0 and "pruned 0 runs" in res.out
    res = run_auditor("merge", str(tmp_path / "b.db"), "--db", str(tmp_path / "central.db"), "--format", "json")
    assert res.code == 0, res.err
    res = run_auditor("prune", "--keep-days", "0", "--db", str(db))
    assert res.code == 2 and "at least 1" in res.err
    res = run_auditor("prune", "--db", str(db))
    assert res.code == 2 and "--keep-days" in res.err
    config = tmp_path / "audit.yaml"
    config.write_text(f"version: 1\ndatabase: {db}\nretention:\n  keep_days: 30\n")
    res = run_auditor("prune", "--config", str(config), env={"AUDITOR_DB": ""})
    assert res.code == 0 and "older than 30 days" in res.out, res.err


def test_prune_of_the_newest_run_keeps_last_seen_and_the_next_run_starts_afresh(tmp_path: Path) -> None:
    """Findings still seen in the newest run have no last seen of their own: pruning that run records it."""
    store = Store.open(tmp_path / "a.db")
    old = NOW - timedelta(days=40)
    save(store, [finding("A"), finding("B", Status.PASS)], old)
    newest = save(store, [finding("A"), finding("B", Status.PASS)], old + timedelta(days=1))
    assert prune(store, 30, NOW).runs == 2
    life, steps = store.history(finding("A").fingerprint)  # open FAIL: kept
    assert (life["last_seen_run"], life["last_seen_at"], steps) == (newest.id, iso_z(old + timedelta(days=1)), [])
    assert check_database(store).ok
    again = save(store, [finding("A")], NOW)
    assert [f.resource.id for f in store.findings_for_run(again.id)] == ["A"]
    assert store.seen_times([finding("A").fingerprint])[finding("A").fingerprint][1] == iso_z(NOW)
    assert check_database(store).ok


def test_merge_uses_the_catalog_dir_or_the_catalog_the_shards_stored(
    tmp_path: Path, cli: Callable[..., CliResult], now: datetime
) -> None:
    from tests.report.report_estate import write_inventory
    from tests.test_framework_plugins import _write_y

    catalogs = _write_y(tmp_path / "catalogs")
    inv = write_inventory(tmp_path / "estate", now, rotated=False, hostile=False)
    shard = str(tmp_path / "shard.db")
    scanned = cli(
        "scan", "--catalog-dir", str(catalogs), "--framework", "y,soc2", "--secrets-inventory", str(inv), "--db", shard
    )
    assert scanned.code == 0, scanned.err

    def merged_controls(db: Path, *flags: str) -> dict[tuple[str, str], str]:
        res = cli("merge", shard, "--db", str(db), "--format", "json", *flags)
        assert res.code == 0, res.err
        run_id = json.loads(res.out)["run"]["id"]
        store = Store.open(db, readonly=True)
        try:
            return {(r["framework"], r["control_id"]): r["status"] for r in store.control_results(run_id)}
        finally:
            store.close()

    shard_store = Store.open(Path(shard), readonly=True)
    latest = shard_store.get_run("latest").id
    expected = {(r["framework"], r["control_id"]): r["status"] for r in shard_store.control_results(latest)}
    shard_store.close()
    assert {fw for fw, _ in expected} == {"soc2", "y"}
    # y is not installed here: the catalog the shard stored with its run decides.
    assert merged_controls(tmp_path / "central.db") == expected
    # With --catalog-dir the installed catalog is used: the same answer.
    assert merged_controls(tmp_path / "central2.db", "--catalog-dir", str(catalogs)) == expected


def test_a_merge_that_fails_is_recorded_as_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.maintenance as maintenance

    shard = Store.open(tmp_path / "shard.db")
    run_scan(AuditConfig(targets=BOTH), shard, providers=[AccountsProvider(), LocalProvider()], now=NOW)
    shard.close()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("roll-up exploded")

    monkeypatch.setattr(maintenance, "roll_up_all", broken)
    central = Store.open(tmp_path / "central.db")
    with pytest.raises(RuntimeError, match="roll-up exploded"):
        merge(central, [tmp_path / "shard.db"], NOW)
    [(run, _)] = central.list_runs()
    assert run.status.value == "failed"
    assert run.error == "merge failed: RuntimeError: roll-up exploded"
