"""Meta-tests over the shipped catalogs, and the control roll-up rules."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from auditor.catalog import (
    Control,
    EvidenceRequirement,
    Framework,
    load_catalog,
    load_framework,
    manual_states,
    roll_up,
)
from auditor.errors import ConfigError
from auditor.models import ControlStatus, Finding, Resource, Severity, Status
from auditor.providers import discover_providers

SOC2_IDS = (
    [f"CC1.{i}" for i in range(1, 6)]
    + [f"CC2.{i}" for i in range(1, 4)]
    + [f"CC3.{i}" for i in range(1, 5)]
    + ["CC4.1", "CC4.2"]
    + [f"CC5.{i}" for i in range(1, 4)]
    + [f"CC6.{i}" for i in range(1, 9)]
    + [f"CC7.{i}" for i in range(1, 6)]
    + ["CC8.1", "CC9.1", "CC9.2", "A1.1", "A1.2", "A1.3", "C1.1", "C1.2"]
    + [f"PI1.{i}" for i in range(1, 6)]
    + ["P1.1", "P2.1", "P3.1", "P3.2", "P4.1", "P4.2", "P4.3", "P5.1", "P5.2"]
    + [f"P6.{i}" for i in range(1, 8)]
    + ["P7.1", "P8.1"]
)


def registered_checks() -> tuple[set[str], list[str]]:
    ids: set[str] = set()
    patterns: list[str] = []
    for cls in discover_providers().values():
        provider = cls()
        ids.update(c.id for c in provider.checks())
        patterns.extend(provider.tool_id_patterns())
    return ids, patterns


def test_soc2_has_all_61_criteria_in_order() -> None:
    soc2 = load_catalog()["soc2"]
    assert len(SOC2_IDS) == 61
    assert [c.id for c in soc2.controls] == SOC2_IDS


def test_gdpr_has_the_articles_with_technical_evidence() -> None:
    ids = {c.id for c in load_catalog()["gdpr"].controls}
    for required in ("Art.5(1)(e)", "Art.5(1)(f)", "Art.25", "Art.30", "Art.32(1)(a)", "Art.33", "Art.35", "Art.44"):
        assert required in ids


@pytest.mark.parametrize("framework", ["soc2", "gdpr"])
def test_every_control_is_complete(framework: str) -> None:
    fw = load_catalog()[framework]
    assert len({c.id for c in fw.controls}) == len(fw.controls)
    for c in fw.controls:
        assert c.title and len(c.description) > 40, c.id
        assert c.manual_evidence, f"{c.ref} has no manual evidence items"
        assert len(set(c.checks)) == len(c.checks)


def test_every_check_reference_resolves() -> None:
    ids, patterns = registered_checks()
    for fw in load_catalog().values():
        for c in fw.controls:
            for ref in c.checks:
                if any(ch in ref for ch in "*?["):
                    assert ref in patterns or any(fnmatch.fnmatchcase(ref, p) for p in patterns), (
                        f"{c.ref}: pattern {ref} is not declared by any provider"
                    )
                else:
                    assert ref in ids or any(fnmatch.fnmatchcase(ref, p) for p in patterns), (
                        f"{c.ref}: {ref} is not a registered check"
                    )


def test_every_builtin_check_maps_to_a_control() -> None:
    ids, _ = registered_checks()
    assert ids, "no provider registered"
    controls = [c for fw in load_catalog().values() for c in fw.controls]
    unmapped = sorted(i for i in ids if not any(c.matches(i) for c in controls))
    assert unmapped == []


def test_no_check_is_listed_twice_in_a_framework_by_accident() -> None:
    for fw in load_catalog().values():
        for c in fw.controls:
            assert len(c.checks) == len(set(c.checks)), c.ref


def test_catalog_loader_rejects_duplicates_and_unknown_keys(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("framework: x\ncontrols:\n  - id: A\n    title: a\n  - id: A\n    title: b\n")
    with pytest.raises(ConfigError, match="duplicate id"):
        load_framework(dup)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("framework: x\ncontrols:\n  - id: A\n    colour: red\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_framework(unknown)
    twice = tmp_path / "twice.yaml"
    twice.write_text("framework: x\ncontrols:\n  - id: A\n    checks: [a.b, a.b]\n")
    with pytest.raises(ConfigError, match="twice"):
        load_framework(twice)


# Roll-up ------------------------------------------------------------------------------

FW = Framework(
    id="t",
    name="test",
    version="1",
    controls=(
        Control("t", "AUTO", "automated", "", "", ("x.check.one", "x.check.two"), ()),
        Control("t", "GLOB", "by pattern", "", "", ("iac.CKV_*",), ()),
        Control(
            "t",
            "MAN",
            "manual only",
            "",
            "",
            (),
            (EvidenceRequirement("policy", "policy document"), EvidenceRequirement("review", "review record")),
        ),
    ),
)


def f(check: str, status: Status) -> Finding:
    return Finding(check, status, Severity.HIGH, Resource(id=f"r-{status}", type="t"), "m", controls=("t:AUTO",))


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([Status.PASS, Status.PASS], ControlStatus.PASS),
        ([Status.PASS, Status.FAIL], ControlStatus.FAIL),
        ([Status.FAIL, Status.ERROR], ControlStatus.FAIL),
        ([Status.PASS, Status.ERROR], ControlStatus.ERROR),
        ([Status.WAIVED, Status.PASS], ControlStatus.PASS),
        ([Status.SKIPPED], ControlStatus.NOT_TESTED),
        ([], ControlStatus.NOT_TESTED),
    ],
)
def test_roll_up_rules(statuses: list[Status], expected: ControlStatus) -> None:
    results = {r.control_id: r for r in roll_up(FW, [f("x.check.one", s) for s in statuses])}
    assert results["AUTO"].status is expected
    assert results["GLOB"].status is ControlStatus.NOT_TESTED
    assert results["MAN"].status is ControlStatus.MANUAL


def test_manual_control_passes_only_with_unexpired_evidence(now: object) -> None:
    from datetime import timedelta

    from tests.conftest import NOW

    later = NOW + timedelta(days=30)
    expired = manual_states([("t:MAN", "policy", NOW - timedelta(days=1)), ("t:MAN", "review", later)], NOW)
    valid = manual_states(
        [("t:MAN", "policy", NOW - timedelta(days=1)), ("t:MAN", "policy", later), ("t:MAN", "review", None)], NOW
    )
    one_item = manual_states([("t:MAN", "policy", later), ("t:MAN", "policy", None)], NOW)
    no_item = manual_states([("t:MAN", None, later)], NOW)  # a file that covers no expected item
    status = lambda manual: {r.control_id: r.status for r in roll_up(FW, [], manual)}["MAN"]  # noqa: E731
    assert status(expired) is ControlStatus.MANUAL
    assert status(valid) is ControlStatus.PASS
    assert status(one_item) is ControlStatus.MANUAL  # every expected item needs a valid file
    assert status(no_item) is ControlStatus.MANUAL
    assert [i.id for i in one_item["t:MAN"].missing(FW.controls[2])] == ["review"]


def test_glob_references_match_tool_ids() -> None:
    assert FW.controls[1].matches("iac.CKV_AWS_19")
    assert not FW.controls[1].matches("code.CKV_AWS_19")
    assert not FW.controls[0].matches("x.check.three")
