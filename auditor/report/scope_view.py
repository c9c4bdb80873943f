"""Scope as seen: what each provider examined in each target of a run (`Run.coverage`).

A report must not claim more than was scanned. The scope section lists, per target, the
counts the provider examined, what it skipped and why, whether the target's scan was
complete, and for AWS the regions scanned against the regions enabled. A provider that
examined nothing in a target is reported as such, never as having "scanned" it.

A control whose automated checks produced no result (NOT_TESTED) says which of three
reasons applies:
- `provider_not_run`: none of the providers its checks come from was selected for the run;
- `not_applicable`: its checks ran and every result was SKIPPED (not applicable);
- `no_target`: a provider of its checks ran, but examined nothing, or nothing its checks apply to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from auditor.catalog import Control, Framework
from auditor.models import Coverage, Run
from auditor.providers import registered_provider_names
from auditor.redact import redact_text
from auditor.report.redaction import redact_identity

MAX_SKIPPED_SHOWN = 8

EXAMINED = "examined"
INCOMPLETE = "incomplete"
NOTHING = "nothing"
UNRECORDED = "unrecorded"

STATE_LABELS = {
    EXAMINED: "examined, complete",
    INCOMPLETE: "examined, incomplete",
    NOTHING: "examined nothing",
    UNRECORDED: "not recorded",
}

NOT_RUN = "provider_not_run"
NOT_APPLICABLE = "not_applicable"
NO_TARGET = "no_target"


def _words(counts: dict[str, int]) -> str:
    shown = [f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items()) if n]
    return ", ".join(shown) if shown else "nothing"


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return sorted(value)
    return None


@dataclass(frozen=True)
class SkippedShown:
    item: str
    reason: str


@dataclass(frozen=True)
class TargetScope:
    provider: str
    target: str
    state: str
    examined: dict[str, int]
    skipped: list[SkippedShown]
    skipped_total: int
    errored_checks: list[str]
    regions_scanned: list[str] | None = None
    regions_enabled: list[str] | None = None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def examined_text(self) -> str:
        if self.state == UNRECORDED:
            return "not recorded by the provider"
        return _words(self.examined)

    @property
    def skipped_hidden(self) -> int:
        return self.skipped_total - len(self.skipped)

    @property
    def regions_not_scanned(self) -> list[str]:
        if self.regions_scanned is None or self.regions_enabled is None:
            return []
        return sorted(set(self.regions_enabled) - set(self.regions_scanned))


def target_scope(c: Coverage) -> TargetScope:
    total = sum(v for v in c.examined.values() if v > 0)
    if c.details.get("recorded_by") == "engine":
        state = UNRECORDED
    elif total == 0:
        state = NOTHING
    elif not c.complete:
        state = INCOMPLETE
    else:
        state = EXAMINED
    return TargetScope(
        provider=c.provider,
        target=redact_identity(c.target),
        state=state,
        examined={k: v for k, v in c.examined.items()},
        skipped=[SkippedShown(redact_identity(s.item), redact_text(s.reason)) for s in c.skipped[:MAX_SKIPPED_SHOWN]],
        skipped_total=len(c.skipped),
        errored_checks=list(c.errored_checks),
        regions_scanned=_str_list(c.details.get("regions_scanned")),
        regions_enabled=_str_list(c.details.get("regions_enabled")),
    )


@dataclass(frozen=True)
class ScopeItem:
    name: str
    reason: str


@dataclass
class ProviderScope:
    name: str
    targets: list[TargetScope] = field(default_factory=list)

    @property
    def examined_anything(self) -> bool:
        return any(t.state in (EXAMINED, INCOMPLETE) for t in self.targets)

    @property
    def summary(self) -> str:
        if not self.targets:
            return "selected; recorded no target"
        seen = sum(1 for t in self.targets if t.state in (EXAMINED, INCOMPLETE))
        nothing = sum(1 for t in self.targets if t.state == NOTHING)
        incomplete = sum(1 for t in self.targets if t.state == INCOMPLETE)
        unrecorded = sum(1 for t in self.targets if t.state == UNRECORDED)
        bits = [f"examined {seen} of {len(self.targets)} target(s)"]
        if incomplete:
            bits.append(f"{incomplete} incomplete")
        if nothing:
            bits.append(f"{nothing} with nothing examined")
        if unrecorded:
            bits.append(f"{unrecorded} without a coverage record")
        return ", ".join(bits)


@dataclass
class Scope:
    coverage_recorded: bool
    targets: list[TargetScope]
    providers: list[ProviderScope]
    given_targets: list[str]
    not_scanned: list[ScopeItem]
    not_tested_controls: list[str]
    run_status: str
    run_error: str | None

    @property
    def examined_targets(self) -> list[TargetScope]:
        return [t for t in self.targets if t.state in (EXAMINED, INCOMPLETE)]

    @property
    def empty_targets(self) -> list[TargetScope]:
        return [t for t in self.targets if t.state in (NOTHING, UNRECORDED)]

    @property
    def incomplete_targets(self) -> list[TargetScope]:
        return [t for t in self.targets if t.state == INCOMPLETE]

    def provider(self, name: str) -> ProviderScope | None:
        for p in self.providers:
            if p.name == name:
                return p
        return None

    @property
    def cover_line(self) -> str:
        if not self.coverage_recorded:
            n = len(self.given_targets)
            names = ", ".join(p.name for p in self.providers)
            return f"{n} target(s) given to provider(s) {names}; what they examined was not recorded for this run"
        parts = [f"{len(self.examined_targets)} of {len(self.targets)} target(s) examined"]
        if self.incomplete_targets:
            parts.append(f"{len(self.incomplete_targets)} incomplete")
        if self.empty_targets:
            parts.append(f"{len(self.empty_targets)} with nothing examined")
        examined_by = sorted({t.provider for t in self.examined_targets})
        if examined_by:
            parts.append(f"by provider(s) {', '.join(examined_by)}")
        return ", ".join(parts)


def build_scope(context: dict[str, Any], run: Run, framework: Framework, not_tested: Iterable[str]) -> Scope:
    selected = sorted(context["providers"])
    targets = [target_scope(c) for c in run.coverage]
    providers = [ProviderScope(name, [t for t in targets if t.provider == name]) for name in selected]
    installed = set(registered_provider_names())
    wanted = {ref.split(".", 1)[0] for c in framework.controls for ref in c.checks}
    not_scanned: list[ScopeItem] = []
    for name in sorted((installed | wanted) - set(selected)):
        if name in installed:
            why = "not run: no target of this kind was given for this run"
        else:
            why = "the catalog maps controls to this provider, but it is not installed in this auditor"
        not_scanned.append(ScopeItem(name, why))
    return Scope(
        coverage_recorded=bool(run.coverage),
        targets=targets,
        providers=providers,
        given_targets=[redact_identity(t) for t in context["targets"]],
        not_scanned=not_scanned,
        not_tested_controls=list(not_tested),
        run_status=run.status.value,
        run_error=redact_text(run.error) if run.error else None,
    )


def not_tested_reason(control: Control, counts: dict[str, int], scope: Scope) -> tuple[str, str]:
    """(kind, words) for an automated control whose checks produced no PASS/FAIL/ERROR/WAIVED."""
    wanted = sorted({ref.split(".", 1)[0] for ref in control.checks})
    selected = {p.name for p in scope.providers}
    not_run = [p for p in wanted if p not in selected]
    ran = [p for p in wanted if p in selected]
    tail = f"; provider(s) not run: {', '.join(not_run)}" if not_run and ran else ""
    if counts.get("SKIPPED", 0):
        n = counts["SKIPPED"]
        return (
            NOT_APPLICABLE,
            f"its checks ran and every result was SKIPPED (not applicable): {n} finding(s), none passed or failed"
            + tail,
        )
    if not ran:
        return NOT_RUN, f"provider not run: {', '.join(not_run)} (no target of this kind was given for this run)"
    bits = []
    for name in ran:
        p = scope.provider(name)
        if p is None or not p.targets or all(t.state == UNRECORDED for t in p.targets):
            bits.append(f"{name} produced no result for these checks (what it examined was not recorded)")
        elif not p.examined_anything:
            bits.append(f"{name} examined nothing")
        else:
            examined = _words(_sum_counts(t.examined for t in p.targets))
            bits.append(f"{name} examined {examined}, none of it something these checks apply to")
    return NO_TARGET, "no target: " + "; ".join(bits) + tail


def _sum_counts(items: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in items:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out
