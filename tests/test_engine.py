"""The engine: concurrency, failures become ERROR findings, interrupted runs are marked failed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.engine import gate_exit_code, select_providers
from auditor.errors import InputError, UsageError
from auditor.models import CheckInfo, ControlStatus, Coverage, Finding, Resource, RunStatus, Severity, Status
from auditor.providers.base import Provider, ScanContext
from auditor.runs import run_scan
from auditor.store import Store
from tests.conftest import NOW


def info(provider: str, name: str, severity: Severity = Severity.HIGH) -> CheckInfo:
    return CheckInfo(f"{provider}.svc.{name}", name, severity, provider, "d", "r", "fix it", "thing")


class Healthy(Provider):
    name = "healthy"

    def checks(self) -> list[CheckInfo]:
        return [info("healthy", "one"), info("healthy", "two", Severity.LOW)]

    def selected(self, config: AuditConfig) -> bool:
        return True

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        one, two = self.checks()
        yield self.finding(one, Status.PASS, Resource("h1", "thing"), "fine", {"observed": True})
        yield self.finding(two, Status.FAIL, Resource("h2", "thing"), "bad", {"observed": False})


class CrashesMidway(Provider):
    name = "crashy"

    def checks(self) -> list[CheckInfo]:
        return [info("crashy", "first"), info("crashy", "second"), info("crashy", "third")]

    def selected(self, config: AuditConfig) -> bool:
        return True

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        first = self.checks()[0]
        yield self.finding(first, Status.PASS, Resource("c1", "thing"), "fine")
        raise RuntimeError("service exploded: AKIAIOSFODNN7EXAMPLE leaked in error text")


class CrashesAtOnce(Provider):
    name = "dead"

    def checks(self) -> list[CheckInfo]:
        return [info("dead", "only")]

    def selected(self, config: AuditConfig) -> bool:
        return True

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        raise ConnectionError("endpoint unreachable")
        yield  # pragma: no cover


class Interrupted(Provider):
    name = "interrupted"

    def checks(self) -> list[CheckInfo]:
        return [info("interrupted", "only")]

    def selected(self, config: AuditConfig) -> bool:
        return True

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        raise KeyboardInterrupt
        yield  # pragma: no cover


class BadInput(Healthy):
    name = "badinput"

    def prepare(self, ctx: ScanContext) -> None:
        raise InputError("target.tar: not an image")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "a.db")


def test_provider_crash_becomes_error_for_unreported_checks_only(store: Store) -> None:
    result = run_scan(AuditConfig(), store, providers=[Healthy(), CrashesMidway(), CrashesAtOnce()], now=NOW)
    got = {(f.check_id, f.status) for f in result.findings}
    assert got == {
        ("healthy.svc.one", Status.PASS),
        ("healthy.svc.two", Status.FAIL),
        ("crashy.svc.first", Status.PASS),
        ("crashy.svc.second", Status.ERROR),
        ("crashy.svc.third", Status.ERROR),
        ("dead.svc.only", Status.ERROR),
    }
    errors = [f for f in result.findings if f.status is Status.ERROR]
    assert all("could not be evaluated" in f.message for f in errors)
    dead = next(f for f in errors if f.check_id == "dead.svc.only")
    assert "ConnectionError: endpoint unreachable" in dead.message
    crashy = next(f for f in errors if f.check_id == "crashy.svc.second")
    assert "AKIAIOSFODNN7EXAMPLE" not in crashy.message  # error text is redacted too
    assert result.run.status is RunStatus.PARTIAL
    assert store.get_run(result.run.id).status is RunStatus.PARTIAL


def test_nothing_is_written_when_input_is_unusable(store: Store) -> None:
    with pytest.raises(InputError):
        run_scan(AuditConfig(), store, providers=[Healthy(), BadInput()], now=NOW)
    assert store.list_runs() == []


def test_interrupt_marks_run_failed_and_keeps_earlier_runs(store: Store) -> None:
    first = run_scan(AuditConfig(), store, providers=[Healthy()], now=NOW)
    with pytest.raises(KeyboardInterrupt):
        run_scan(AuditConfig(), store, providers=[Healthy(), Interrupted()], now=NOW)
    runs = store.list_runs()
    assert [r.status for r, _ in runs] == [RunStatus.FAILED, RunStatus.COMPLETE]
    assert runs[0][0].error == "interrupted"
    assert store.get_run("latest").id == first.run.id
    assert len(store.findings_for_run(first.run.id)) == 2


def test_controls_are_attached_and_summary_counts(store: Store) -> None:
    from auditor.providers.secrets import SecretsInventoryProvider

    result = run_scan(AuditConfig(frameworks=("soc2",)), store, providers=[Healthy()], now=NOW)
    assert all(f.controls == () for f in result.findings)  # unmapped test checks
    assert result.summary == {
        "total": 2,
        "by_status": {"PASS": 1, "FAIL": 1, "ERROR": 0, "SKIPPED": 0, "WAIVED": 0},
        "failed_by_severity": {"critical": 0, "high": 0, "medium": 0, "low": 1, "info": 0},
        "unapproved_suppressions": 0,
    }
    assert SecretsInventoryProvider().checks()[0].id == "secrets.inventory.rotation_age"


def test_no_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="nothing to scan"):
        select_providers(AuditConfig())


def f(status: Status, severity: Severity) -> Finding:
    return Finding("x.y.z", status, severity, Resource(f"{status}{severity}", "t"), "m")


@pytest.mark.parametrize(
    ("findings", "fail_on", "allow_errors", "code"),
    [
        ([f(Status.FAIL, Severity.HIGH)], Severity.HIGH, False, 1),
        ([f(Status.FAIL, Severity.MEDIUM)], Severity.HIGH, False, 0),
        ([f(Status.FAIL, Severity.CRITICAL)], None, False, 0),
        ([f(Status.WAIVED, Severity.CRITICAL)], Severity.LOW, False, 0),
        ([f(Status.ERROR, Severity.LOW)], None, False, 3),
        ([f(Status.ERROR, Severity.LOW)], None, True, 0),
        ([f(Status.ERROR, Severity.LOW), f(Status.FAIL, Severity.HIGH)], Severity.HIGH, False, 1),
        ([f(Status.PASS, Severity.CRITICAL)], Severity.INFO, False, 0),
    ],
)
def test_gate_exit_codes(findings: list[Finding], fail_on: Severity | None, allow_errors: bool, code: int) -> None:
    assert gate_exit_code(findings, fail_on, allow_errors) == code


def test_gate_respects_a_baseline_predicate() -> None:
    known = f(Status.FAIL, Severity.HIGH)
    new = replace(f(Status.FAIL, Severity.HIGH), resource=Resource("new", "t"), fingerprint="")
    assert gate_exit_code([known], Severity.HIGH, False, gated=lambda x: x.fingerprint != known.fingerprint) == 0
    assert gate_exit_code([known, new], Severity.HIGH, False, gated=lambda x: x.fingerprint != known.fingerprint) == 1


class ToolMissing(Provider):
    """An IaC scan whose tool could not run: one ERROR that stops every iac check."""

    name = "iac"

    def checks(self) -> list[CheckInfo]:
        return [info("iac", "scan")]

    def selected(self, config: AuditConfig) -> bool:
        return True

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        ctx.record_coverage(Coverage("iac", "iac:/repo", examined={"files": 0}, complete=False))
        yield self.finding(
            self.checks()[0],
            Status.ERROR,
            Resource("/repo", "iac.path"),
            "checkov is not installed",
            target="iac:/repo",
            affects=("iac.*",),
        )


def test_an_error_that_stops_a_tool_makes_every_control_of_its_checks_error(store: Store) -> None:
    from auditor.frameworks import frameworks_for

    result = run_scan(AuditConfig(), store, providers=[Healthy(), ToolMissing()], now=NOW)
    touched = {c.ref for fw in frameworks_for(["soc2", "gdpr"]) for c in fw.controls if c.touched_by("iac.*")}
    assert {"soc2:CC6.8", "gdpr:Art.25"} <= touched  # the controls that went green on main
    error = next(f for f in result.findings if f.status is Status.ERROR)
    assert set(error.controls) == touched
    statuses = {c.ref: c.status for c in result.controls}
    assert {ref for ref, st in statuses.items() if st is ControlStatus.ERROR} == touched
    # Coverage: the provider's target is incomplete, with the checks that could not be evaluated.
    (cov,) = [c for c in result.run.coverage if c.provider == "iac"]
    assert (cov.target, cov.complete, cov.errored_checks) == ("iac:/repo", False, ("iac.*", "iac.svc.scan"))
    # A provider that records no coverage gets one target for all its findings.
    (healthy,) = [c for c in result.run.coverage if c.provider == "healthy"]
    assert healthy.target == "provider:healthy" and healthy.complete
    assert {f.target for f in result.findings if f.provider == "healthy"} == {"provider:healthy"}


def test_secret_values_in_any_finding_field_are_masked_before_storing(store: Store) -> None:
    class Leaky(Healthy):
        name = "leaky"

        def run(self, ctx: ScanContext) -> Iterator[Finding]:
            one = self.checks()[0]
            yield self.finding(
                one,
                Status.FAIL,
                Resource("pkg@https://deploy:Hunter2Pw@host/p.tar.gz", "thing", path="/x/postgres://a:Pw9@db/x"),
                'code: auth=("admin", "AdminPw42")',
                {"system": "postgres://admin:DbPw77@db/x", "password": "Plain1Pw", "nested": ["token=Tk99xyz"]},
            )

    result = run_scan(AuditConfig(), store, providers=[Leaky()], now=NOW)
    dump = "\n".join(store.db.conn.iterdump())
    for secret in ("Hunter2Pw", "Pw9", "AdminPw42", "DbPw77", "Plain1Pw", "Tk99xyz"):
        assert secret not in dump
        assert secret not in str([f.to_dict() for f in result.findings])
    f = result.findings[0]
    assert f.resource.id.startswith("pkg@https://deploy:[REDACTED:sha256=")  # user and host stay readable
