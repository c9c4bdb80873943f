"""Dependencies: known vulnerabilities in pinned requirements and lock files (OSV).

One check, `deps.vulnerable_package`, on resources `pypi:<name>` for Python and the
package URL without version (`pkg:npm/lodash`, `pkg:golang/golang.org/x/net`,
`pkg:maven/org.example/lib`, `pkg:cargo/…`, `pkg:gem/…`, `pkg:composer/…`) for the lock
files of other ecosystems (lockfiles.py; path = the dependency file that declares the
package, line = its line there where the format has lines):

- FAIL, one finding per (package, advisory): the fingerprint discriminator is the
  advisory id, so each advisory is tracked on its own and an upgrade that is still
  vulnerable keeps the fingerprint. Severity comes from the advisory: its CVSS v3 base
  score (computed from the vector), else its database label (GHSA LOW/MODERATE/HIGH/
  CRITICAL), else high (an unrated known vulnerability is not assumed harmless);
- PASS for a package audited with no advisory, with the database it was checked against;
- ERROR whenever a package could not be audited: not pinned and no resolver allowed
  (`--offline`), a URL/path/VCS requirement, a version that is not PEP 440, a package
  pip-audit skipped or did not report, the vulnerability service unreachable, an
  unreadable dependency file (resource `file:<path>`), an empty local database;
- when the vulnerability source itself failed (pip-audit missing, crashed, printing no
  usable manifest; an empty database), also one ERROR per target for the source
  (`tool:pip-audit`, `vulndb:<path>`) with `affects=("deps.*",)`.

Every finding carries `target="deps:<resolved --deps path>"`; every target gets one
coverage record (files found and read, packages pinned/audited/errored, the
vulnerability source, skipped files and lines with reasons). Requirement lines are
masked where they are read (sources.py): no credential of a URL requirement reaches a
finding, even before the engine's redaction.

Vulnerability data: the local OSV database (`auditor vulndb import`) when it exists,
always with `--offline`; otherwise pip-audit's OSV service (`$AUDITOR_OSV_URL`, default
https://api.osv.dev/v1/query). Lock files of other ecosystems are matched through the
local database only (each ecosystem's version ordering: auditor.vulndb.ecosystems); with
no local database their packages are ERROR. A database that holds no advisory of a
package's ecosystem is never a PASS either. See docs/providers/deps.md.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from auditor.config import AuditConfig, Setting
from auditor.errors import InputError
from auditor.models import CheckInfo, Coverage, Finding, Resource, Severity, SkippedItem, Status, iso_z
from auditor.providers.base import FileClaim, Provider, ScanContext, StagedFile
from auditor.providers.deps.formats import MANIFESTS, PURL_TYPES, is_lockfile
from auditor.providers.deps.lockfiles import read_lockfile
from auditor.providers.deps.online import AdvisoryFetcher
from auditor.providers.deps.pip_audit import (
    DEFAULT_OSV_URL,
    AuditedPackage,
    AuditedVuln,
    PipAuditReport,
    resolution_endpoint,
    run_pip_audit,
)
from auditor.providers.deps.sources import (
    PINNED,
    UNPINNED,
    UNVERSIONED,
    Dependency,
    DependencyFile,
    Discovery,
    discover,
    read_dependency_file,
    valid_version,
)
from auditor.redact import redact_formats, redact_text
from auditor.safeio import show_path
from auditor.tools import ToolError
from auditor.vulndb import Advisory, UnorderableVersion, UnsupportedEcosystem, VulnDB, default_db_path
from auditor.vulndb.osv import DEFAULT_SEVERITY, AdvisoryRecord, preferred_advisory_id

ECOSYSTEM = "PyPI"
# The dependency files the pre-commit hook sends (with --with-deps).
STAGED_DEPS_FILE = re.compile(
    r"^(?:(?i:requirements[^/]*\.txt|pyproject\.toml)|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|"
    r"pnpm-lock\.yaml|go\.mod|go\.sum|pom\.xml|gradle\.lockfile|Cargo\.lock|Gemfile\.lock|composer\.lock)$",
)
# What an ERROR of the vulnerability source itself (pip-audit missing, crashed, garbage;
# an empty database) stops: every check of this provider for the target.
SOURCE_AFFECTS = ("deps.*",)

VULNERABLE_PACKAGE = CheckInfo(
    id="deps.vulnerable_package",
    title="Dependencies have no known vulnerabilities",
    severity=Severity.HIGH,
    provider="deps",
    description=(
        "Every pinned dependency (Python requirements; npm, Yarn, pnpm, Go, Maven, Gradle, Cargo, Bundler "
        "and Composer lock files) is checked against OSV advisories (the local vulnerability database, or "
        "an OSV service for Python). One finding per package and advisory; a package that could not be "
        "audited is an ERROR, never a PASS."
    ),
    risk="A dependency with a published vulnerability gives attackers a documented way in.",
    remediation="Upgrade the package to a fixed version (see fixed_versions in the evidence) and re-lock.",
    resource_type="python.package",
)


def osv_url() -> str:
    return os.environ.get("AUDITOR_OSV_URL") or DEFAULT_OSV_URL


@dataclass
class _Source:
    """Where vulnerability data comes from for this scan."""

    osv_url: str
    db: VulnDB | None = None
    fetcher: AdvisoryFetcher | None = None
    pypi_advisories: int = 0
    db_evidence: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        # An OSV URL may carry credentials (a private mirror): never shown.
        return f"vulndb:{self.db.path}" if self.db is not None else f"osv:{redact_formats(self.osv_url)}"

    @property
    def empty_db(self) -> bool:
        return self.db is not None and self.pypi_advisories == 0


@dataclass(frozen=True)
class _NotAudited:
    """Why a pinned package has no audit result; `source_error` when the vulnerability check
    itself failed (pip-audit missing, crashed or printing no usable manifest)."""

    message: str
    source_error: str | None = None


@dataclass
class _Plan:
    """One dependency file: what to audit, what is an ERROR already, and what came of it."""

    df: DependencyFile
    pinned: dict[str, Dependency] = field(default_factory=dict)
    unpinned: dict[str, Dependency] = field(default_factory=dict)
    locked: list[Dependency] = field(default_factory=list)  # pinned packages of other ecosystems (lock files)
    report: PipAuditReport | None = None
    findings: list[Finding] = field(default_factory=list)
    source_errors: list[str] = field(default_factory=list)  # pip-audit failed
    lock_errors: list[str] = field(default_factory=list)  # the local database cannot audit lock-file packages

    @property
    def path(self) -> Path:
        return self.df.path


@dataclass
class _TargetScan:
    """One `--deps` target: its files, their plans, and the coverage they add up to."""

    discovery: Discovery
    plans: list[_Plan] = field(default_factory=list)
    elsewhere: list[Path] = field(default_factory=list)  # files already audited under an earlier target

    @property
    def target(self) -> str:
        return f"deps:{self.discovery.target}"


class DepsProvider(Provider):
    name = "deps"
    title = "Dependencies (Python requirements; npm, Go, Java, Rust, Ruby, PHP lock files) against vulnerability data"
    settings = (
        Setting(
            "paths",
            "paths",
            help="dependency files or folders: Python (pip-audit) and npm/Go/Maven/Gradle/Cargo/Bundler/Composer "
            "lock files; repeatable",
            flag="--deps",
            metavar="PATH",
            repository=True,
        ),
    )
    shorthand = "paths"

    @classmethod
    def accepts_file(cls, file: StagedFile) -> FileClaim | None:
        """`requirements*.txt`, `pyproject.toml` and lock files, opt-in: a vulnerability look-up needs the
        network or a local database (`auditor vulndb import`), which a commit hook cannot assume."""
        if STAGED_DEPS_FILE.match(file.name):
            return FileClaim(file.rel, "dependency file", opt_in=True)
        return None

    def __init__(self) -> None:
        self._discoveries: list[Discovery] | None = None
        self._db_path: Path | None = None

    def checks(self) -> list[CheckInfo]:
        return [VULNERABLE_PACKAGE]

    def paths(self, config: AuditConfig) -> tuple[Path, ...]:
        return self.settings_of(config).paths("paths")

    def targets(self, config: AuditConfig) -> list[str]:
        return [f"deps:{p.resolve()}" for p in self.paths(config)]

    def prepare(self, ctx: ScanContext) -> None:
        self._discoveries = [discover(target) for target in self.paths(ctx.config)]
        db_path = default_db_path()
        if db_path.is_file():
            VulnDB.open(db_path).close()  # a damaged or foreign file: exit 2 before anything runs
            self._db_path = db_path
        elif ctx.config.offline:
            raise InputError(
                f"--offline needs the local vulnerability database ({db_path} does not exist): "
                "run `auditor vulndb import PATH` or set AUDITOR_VULNDB"
            )

    # Running -------------------------------------------------------------------------

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        if self._discoveries is None:
            self.prepare(ctx)
        assert self._discoveries is not None
        with ExitStack() as stack:
            source = self._open_source(stack)
            scans = self._read_targets(self._discoveries, ctx.config.offline)
            plans = [plan for scan in scans for plan in scan.plans]
            for plan in plans:
                if plan.unpinned:
                    ctx.progress(self.name, f"resolving {plan.path} with pip")
                    plan.findings.extend(self._resolve_with_pip(plan, source, ctx.cancelled))
            pairs = sorted(
                {(n, d.version or "") for plan in plans if plan.report is None for n, d in plan.pinned.items()}
            )
            ctx.progress(self.name, f"auditing {len(pairs)} pinned packages")
            audited = self.audit_pinned(pairs, source, ctx.cancelled)
            if source.db is not None:
                source.db.prefetch(ECOSYSTEM, (n for n, _ in pairs))
            for plan in plans:
                if plan.report is not None:
                    plan.findings.extend(
                        self._reconcile(plan.path, {**plan.pinned, **plan.unpinned}, plan.report, source)
                    )
                    continue
                for name, dep in plan.pinned.items():
                    result = audited[(name, dep.version or "")]
                    if isinstance(result, _NotAudited):
                        plan.findings.append(self._error(plan.path, dep, result.message))
                        if result.source_error is not None:
                            plan.source_errors.append(result.source_error)
                    elif result.skip_reason is not None or result.version is None:
                        plan.findings.append(self._error(
                            plan.path, dep, f"pip-audit could not audit {name}: {result.skip_reason or 'no version'}"
                        ))
                    else:
                        plan.findings.extend(self._judge(plan.path, dep, result, source))
            self._match_locked(plans, source, ctx)
            for scan in scans:
                findings = self._target_findings(scan, source)
                yield from (replace(f, target=scan.target) for f in findings)
                ctx.record_coverage(self._coverage(scan, findings, source))

    def _read_targets(self, discoveries: list[Discovery], offline: bool) -> list[_TargetScan]:
        """Read every dependency file once: a file under two targets is audited under the first."""
        scans: list[_TargetScan] = []
        done: set[Path] = set()
        for discovery in discoveries:
            scan = _TargetScan(discovery)
            for path in discovery.files:
                if path.resolve() in done:
                    scan.elsewhere.append(path)
                    continue
                done.add(path.resolve())
                lock = is_lockfile(path) or path.name in MANIFESTS
                df = read_lockfile(path) if lock else read_dependency_file(path, discovery.root)
                scan.plans.append(self.plan_file(df, offline))
            scans.append(scan)
        return scans

    def _target_findings(self, scan: _TargetScan, source: _Source) -> list[Finding]:
        d = scan.discovery
        findings = [f for plan in scan.plans for f in plan.findings]
        for item in d.skipped:
            findings.append(self._file_error(d.base / item.item, None, f"{item.item}: {item.reason}"))
        if not d.files and not d.skipped and not scan.elsewhere:
            findings.append(self.finding(
                VULNERABLE_PACKAGE,
                Status.SKIPPED,
                Resource(
                    id=f"file:{Path(d.target).absolute()}",
                    type="python.dependency_file",
                    path=str(Path(d.target).absolute()),
                ),
                f"no dependency files under {show_path(d.target)} (requirements*.txt, pyproject.toml, "
                "or a lock file: package-lock.json, yarn.lock, pnpm-lock.yaml, go.mod, go.sum, pom.xml, "
                "gradle.lockfile, Cargo.lock, Gemfile.lock, composer.lock)",
                evidence={"target": str(d.target)},
            ))
        not_audited = sum(1 for f in findings if f.status is Status.ERROR and _is_package(f))
        source_errors = sorted({e for plan in scan.plans for e in plan.source_errors})
        if source_errors:
            findings.append(self._source_error(
                scan, "tool:pip-audit", f"pip-audit could not audit: {'; '.join(source_errors)}", not_audited
            ))
        db_errors: list[str] = []
        if source.empty_db and any(p.pinned or p.unpinned for p in scan.plans):
            assert source.db is not None
            db_errors.append(f"the vulnerability database {source.db.path} holds no PyPI advisories "
                             "(run `auditor vulndb import`)")
        db_errors.extend(sorted({e for plan in scan.plans for e in plan.lock_errors}))
        if db_errors:
            db_path = source.db.path if source.db is not None else default_db_path()
            findings.append(self._source_error(scan, f"vulndb:{db_path}", "; ".join(db_errors), not_audited))
        return findings

    def _coverage(self, scan: _TargetScan, findings: list[Finding], source: _Source) -> Coverage:
        d = scan.discovery
        skipped = list(d.skipped)
        for plan in scan.plans:
            rel = d.rel(plan.path)
            skipped.extend(SkippedItem(f"{rel}:{line}" if line else rel, message) for line, message in plan.df.errors)
        outcome: dict[tuple[str, str], set[Status]] = {}
        ecosystems: dict[str, set[tuple[str, str]]] = {}
        for f in findings:
            if _is_package(f):
                outcome.setdefault((f.resource.path or "", f.resource.id), set()).add(f.status)
                eco = str(f.evidence.get("ecosystem") or ECOSYSTEM)
                ecosystems.setdefault(eco, set()).add((f.resource.path or "", f.resource.id))
        errored = sum(1 for statuses in outcome.values() if Status.ERROR in statuses)
        details: dict[str, Any] = {
            "vulnerability_source": source.label,
            "files": [d.rel(p.path) for p in scan.plans],
            "included_files": sorted({d.rel(i) for p in scan.plans for i in p.df.includes}),
        }
        details["packages_by_ecosystem"] = {eco: len(keys) for eco, keys in sorted(ecosystems.items())}
        if source.db_evidence is not None:
            details["database"] = source.db_evidence
        if scan.elsewhere:
            details["files_audited_under_another_target"] = [str(p) for p in scan.elsewhere]
        if d.excluded:
            details["excluded"] = dict(sorted(d.excluded.items()))
        return Coverage(
            provider=self.name,
            target=scan.target,
            examined={
                "files_found": len(d.files) + len(d.skipped),
                "files_read": sum(1 for p in scan.plans if not p.df.unreadable),
                "packages": len(outcome),
                "pinned": sum(1 for p in scan.plans for dep in p.df.dependencies if dep.kind == PINNED),
                "audited": len(outcome) - errored,
                "errored": errored,
            },
            skipped=tuple(skipped),
            complete=not skipped and not any(f.status is Status.ERROR for f in findings),
            details=details,
        )

    def _open_source(self, stack: ExitStack) -> _Source:
        if self._db_path is None:
            url = osv_url()
            return _Source(osv_url=url, fetcher=AdvisoryFetcher(url))
        db = stack.enter_context(VulnDB.open(self._db_path))
        status = db.status()
        endpoint = stack.enter_context(resolution_endpoint())
        count = db.advisory_count(ECOSYSTEM)
        return _Source(
            osv_url=endpoint,
            db=db,
            pypi_advisories=count,
            db_evidence={
                "path": str(db.path),
                "pypi_advisories": count,
                "last_import_at": iso_z(status.last_import_at) if status.last_import_at else None,
            },
        )

    def plan_file(self, df: DependencyFile, offline: bool) -> _Plan:
        """Classify a file's requirements: what to audit, what is an ERROR already."""
        plan = _Plan(df)
        for line, message in df.errors:
            plan.findings.append(self._file_error(df.path, line, message))
        locked: set[tuple[str, str]] = set()
        for dep in df.dependencies:
            if dep.ecosystem != ECOSYSTEM:
                if dep.kind == UNVERSIONED:
                    plan.findings.append(self._error(
                        df.path, dep, f"{dep.spec}: a git, path or file source has no registry version to audit"
                    ))
                elif dep.kind == UNPINNED:
                    plan.findings.append(self._error(
                        df.path, dep, f"{dep.spec}: no exact version in this file; it is not guessed "
                        "(audit a lock file, or the resolved dependency list)"
                    ))
                elif (dep.canonical, dep.version or "") not in locked:
                    locked.add((dep.canonical, dep.version or ""))
                    plan.locked.append(dep)
                continue
            known = plan.pinned.get(dep.canonical)
            if dep.kind == UNVERSIONED:
                plan.findings.append(
                    self._error(df.path, dep, f"{dep.spec}: a URL, path or VCS requirement has no version to audit")
                )
            elif dep.kind == UNPINNED and offline:
                plan.findings.append(self._error(
                    df.path, dep, f"{dep.spec} is not pinned to an exact version and cannot be resolved offline "
                    "(audit a lock file with == pins, e.g. pip-compile output)"
                ))
            elif dep.kind == PINNED and not valid_version(dep.version or ""):
                plan.findings.append(self._error(df.path, dep, f"{dep.spec}: {dep.version!r} is not a PEP 440 version"))
            elif dep.kind == PINNED and known is not None and known.version != dep.version:
                plan.findings.append(self._error(
                    df.path, dep, f"{dep.canonical} is pinned twice with different versions "
                    f"({known.version} at {known.declared_in}, {dep.version} at {dep.declared_in})"
                ))
            elif dep.kind == PINNED:
                plan.pinned.setdefault(dep.canonical, dep)
            elif dep.kind == UNPINNED:
                plan.unpinned.setdefault(dep.canonical, dep)
        return plan

    def _resolve_with_pip(self, plan: _Plan, source: _Source, cancel: threading.Event) -> list[Finding]:
        """Online only: pip resolves the whole file (needs an index); on failure the pins still count."""
        specs = [d.spec for d in (*plan.pinned.values(), *plan.unpinned.values())]
        try:
            plan.report = run_pip_audit(specs, source.osv_url, resolve_with_pip=True, cancel=cancel)
        except ToolError as exc:
            error = redact_text(str(exc))  # pip's errors name the index URL, credentials and all
            errors = [self._error(plan.path, dep, f"{dep.spec} is not pinned and could not be resolved: {error}")
                      for dep in plan.unpinned.values()]
            plan.unpinned = {}
            return errors
        return []

    def audit_pinned(
        self, pairs: list[tuple[str, str]], source: _Source, cancel: threading.Event | None = None
    ) -> dict[tuple[str, str], AuditedPackage | _NotAudited]:
        """Each (name, version) through pip-audit, in as few runs as distinct versions per name allow.

        A run that failed (pip-audit missing, crashed, no usable manifest) leaves every package
        of its batch not audited, with the failure as a `source_error`; so does a manifest that
        reports another version than the one asked for (garbage, not a result).
        """
        versions: dict[str, list[str]] = {}
        for name, version in pairs:
            versions.setdefault(name, []).append(version)
        out: dict[tuple[str, str], AuditedPackage | _NotAudited] = {}
        depth = max((len(v) for v in versions.values()), default=0)
        for layer in range(depth):
            batch = [(n, vs[layer]) for n, vs in versions.items() if len(vs) > layer]
            try:
                report = run_pip_audit([f"{n}=={v}" for n, v in batch], source.osv_url, cancel=cancel)
            except ToolError as exc:
                error = redact_text(str(exc))
                for n, v in batch:
                    out[(n, v)] = _NotAudited(f"{n} {v} could not be audited: {error}", source_error=error)
                continue
            for n, v in batch:
                pkg = report.packages.get(n)
                if pkg is None:
                    out[(n, v)] = _NotAudited(f"pip-audit did not report {n}; it was not audited")
                elif pkg.version is not None and not _same_version(pkg.version, v):
                    error = f"pip-audit reported {n} {pkg.version!r} where {v!r} was asked for"
                    out[(n, v)] = _NotAudited(f"{n} {v} could not be audited: {error}", source_error=error)
                else:
                    out[(n, v)] = pkg
        return out

    def _match_locked(self, plans: list[_Plan], source: _Source, ctx: ScanContext) -> None:
        """Lock-file packages of other ecosystems, matched through the local database only."""
        wanted: dict[str, set[str]] = {}
        for plan in plans:
            for dep in plan.locked:
                wanted.setdefault(dep.ecosystem, set()).add(dep.canonical)
        if not wanted:
            return
        ctx.progress(self.name, f"auditing {sum(len(v) for v in wanted.values())} lock-file packages")
        counts: dict[str, int] = {}
        db = source.db
        if db is not None:
            for eco, names in sorted(wanted.items()):
                counts[eco] = db.advisory_count(eco)
                if counts[eco]:
                    db.prefetch(eco, names)
            if source.db_evidence is not None:
                source.db_evidence["advisories_by_ecosystem"] = dict(sorted(counts.items()))
        for plan in plans:
            for dep in plan.locked:
                if db is None:
                    message = (f"{dep.name} {dep.version}: {dep.ecosystem} packages are matched against the local "
                               "vulnerability database only (run `auditor vulndb import PATH`); not audited")
                    plan.findings.append(self._error(plan.path, dep, message))
                    plan.lock_errors.append(
                        f"no local vulnerability database ({default_db_path()}): lock files of other ecosystems "
                        "are matched against it only (run `auditor vulndb import PATH`)"
                    )
                elif not counts.get(dep.ecosystem):
                    message = (f"{dep.name} {dep.version}: the vulnerability database {db.path} holds no "
                               f"{dep.ecosystem} advisories (import them with `auditor vulndb import`); not audited")
                    plan.findings.append(self._error(plan.path, dep, message))
                    plan.lock_errors.append(
                        f"the vulnerability database {db.path} holds no {dep.ecosystem} advisories "
                        "(run `auditor vulndb import`)"
                    )
                else:
                    plan.findings.extend(self._judge_locked(plan.path, dep, db, source))

    def _judge_locked(self, path: Path, dep: Dependency, db: VulnDB, source: _Source) -> Iterator[Finding]:
        version = dep.version or ""
        base = {"package": dep.name, "version": version, "ecosystem": dep.ecosystem, "purl": dep.purl,
                "requirement": dep.spec, "declared_in": dep.declared_in, "source": source.label}
        try:
            advisories = db.match(dep.ecosystem, dep.name, version)
        except (UnorderableVersion, UnsupportedEcosystem) as exc:
            yield self._error(path, dep, str(exc))
            return
        if advisories:
            for adv in advisories:
                yield self._vulnerable(path, dep, version, _local_evidence(adv), base)
            return
        yield self._clean(path, dep, dep.name, version, base, source)

    def _clean(
        self, path: Path, dep: Dependency, name: str, version: str, base: dict[str, Any], source: _Source
    ) -> Finding:
        """PASS for a package that was matched and has no known vulnerability."""
        evidence = {**base, "advisories": 0}
        if source.db_evidence is not None:
            evidence["database"] = source.db_evidence
        return self.finding(
            VULNERABLE_PACKAGE,
            Status.PASS,
            self._resource(path, dep),
            f"{name} {version}: no known vulnerability ({source.label})",
            evidence=evidence,
        )

    def _reconcile(
        self, path: Path, expected: dict[str, Dependency], report: PipAuditReport, source: _Source
    ) -> Iterator[Finding]:
        for name, dep in expected.items():
            pkg = report.packages.get(name)
            if pkg is None:
                yield self._error(path, dep, f"pip-audit did not report {name}; it was not audited")
            elif pkg.skip_reason is not None or pkg.version is None:
                yield self._error(path, dep, f"pip-audit could not audit {name}: {pkg.skip_reason or 'no version'}")
            else:
                yield from self._judge(path, dep, pkg, source)
        for name, pkg in report.packages.items():
            if name in expected:
                continue
            transitive = Dependency(name=name, canonical=name, kind=PINNED, version=pkg.version, spec=name,
                                    line=None, declared_in=f"{path} (resolved by pip)")
            if pkg.skip_reason is not None or pkg.version is None:
                yield self._error(path, transitive, f"pip-audit could not audit {name}: {pkg.skip_reason}")
            else:
                yield from self._judge(path, transitive, pkg, source)

    def _judge(self, path: Path, dep: Dependency, pkg: AuditedPackage, source: _Source) -> Iterator[Finding]:
        version = pkg.version or ""
        base = {"package": pkg.name, "version": version, "requirement": dep.spec, "declared_in": dep.declared_in,
                "source": source.label}
        if source.db is not None:
            if source.empty_db:
                yield self._error(path, dep, f"the vulnerability database {source.db.path} holds no PyPI advisories")
                return
            try:
                advisories = source.db.match(ECOSYSTEM, pkg.name, version)
            except UnorderableVersion as exc:
                yield self._error(path, dep, str(exc))
                return
            findings = [self._vulnerable(path, dep, version, _local_evidence(a), base) for a in advisories]
        else:
            findings = [self._vulnerable(path, dep, version, self._online_evidence(v, source), base)
                        for v in pkg.vulns]
        if findings:
            yield from findings
            return
        yield self._clean(path, dep, pkg.name, version, base, source)

    def _vulnerable(
        self, path: Path, dep: Dependency, version: str, adv: dict[str, Any], base: dict[str, Any]
    ) -> Finding:
        fixed = adv["fixed_versions"]
        aliases = f" ({', '.join(adv['aliases'])})" if adv["aliases"] else ""
        fix_text = f"; fixed in {', '.join(fixed)}" if fixed else "; no fixed version published"
        return self.finding(
            VULNERABLE_PACKAGE,
            Status.FAIL,
            self._resource(path, dep),
            f"{dep.canonical if dep.ecosystem == ECOSYSTEM else dep.name} {version} is affected by "
            f"{adv['advisory_id']}{aliases}: {adv['summary']}{fix_text}",
            evidence={**base, **adv},
            severity=Severity(adv["severity"]),
            discriminator=adv["advisory_id"],
        )

    def _online_evidence(self, vuln: AuditedVuln, source: _Source) -> dict[str, Any]:
        assert source.fetcher is not None
        ids = {vuln.id, *vuln.aliases}
        advisory_id = preferred_advisory_id(ids)
        record: AdvisoryRecord | str = "advisory details unavailable"
        for candidate in sorted(ids, key=lambda i: i != advisory_id)[:3]:
            record = source.fetcher.fetch(candidate)
            if isinstance(record, AdvisoryRecord):
                break
        evidence: dict[str, Any] = {
            "advisory_id": advisory_id,
            "aliases": sorted(ids - {advisory_id}),
            "fixed_versions": list(vuln.fix_versions),
            "summary": vuln.description,
        }
        if isinstance(record, AdvisoryRecord):
            sev = record.severity
            evidence.update(
                summary=record.summary or vuln.description,
                severity=sev.severity.value,
                severity_source=sev.source,
                cvss_vector=sev.vector,
                cvss_score=sev.score,
                severity_label=sev.label,
                url=record.url,
                published=record.published,
                modified=record.modified,
            )
        else:
            evidence.update(severity=DEFAULT_SEVERITY.value, severity_source=f"default: {record}",
                            cvss_vector=None, cvss_score=None, severity_label=None, url=None,
                            published=None, modified=None)
        return evidence

    # Finding helpers -------------------------------------------------------------------

    def _resource(self, path: Path, dep: Dependency) -> Resource:
        return Resource(id=dep.resource_id, type=package_type(dep.ecosystem), path=str(path.absolute()), line=dep.line)

    def _error(self, path: Path, dep: Dependency, message: str) -> Finding:
        evidence: dict[str, Any] = {"package": dep.canonical, "version": dep.version, "requirement": dep.spec,
                                    "declared_in": dep.declared_in, "error": message}
        if dep.ecosystem != ECOSYSTEM:
            evidence.update(package=dep.name, ecosystem=dep.ecosystem, purl=dep.purl)
        return self.finding(VULNERABLE_PACKAGE, Status.ERROR, self._resource(path, dep), message, evidence=evidence)

    def _source_error(self, scan: _TargetScan, resource_id: str, error: str, not_audited: int) -> Finding:
        """The vulnerability source itself failed for this target: ERROR for every deps check."""
        target = scan.discovery.target
        return self.finding(
            VULNERABLE_PACKAGE,
            Status.ERROR,
            Resource(id=resource_id, type="auditor.vulnerability_source", path=str(Path(target).absolute())),
            f"{error}; {not_audited} package(s) under {show_path(target)} were not audited",
            evidence={"error": error, "packages_not_audited": not_audited, "target": str(target)},
            affects=SOURCE_AFFECTS,
        )

    def _file_error(self, path: Path, line: int | None, message: str) -> Finding:
        return self.finding(
            VULNERABLE_PACKAGE,
            Status.ERROR,
            Resource(id=f"file:{path.absolute()}", type="lock_file" if is_lockfile(path) else "python.dependency_file",
                     path=str(path.absolute()), line=line),
            message,
            evidence={"file": str(path), "line": line, "error": message},
            discriminator=f"line:{line}" if line else "file",
        )


def package_type(ecosystem: str) -> str:
    """`python.package`, `npm.package`, `golang.package`, `maven.package`, `cargo.package`, ..."""
    return "python.package" if ecosystem == ECOSYSTEM else f"{PURL_TYPES.get(ecosystem, 'other')}.package"


def _is_package(f: Finding) -> bool:
    return f.resource.type.endswith(".package")


def _same_version(reported: str, asked: str) -> bool:
    try:
        return Version(reported) == Version(asked)
    except InvalidVersion:
        return reported == asked


def _local_evidence(adv: Advisory) -> dict[str, Any]:
    return {
        "advisory_id": adv.id,
        "aliases": list(adv.aliases),
        "fixed_versions": list(adv.fixed_versions),
        "summary": adv.summary,
        "severity": adv.severity.value,
        "severity_source": adv.severity_source,
        "cvss_vector": adv.severity_vector,
        "cvss_score": adv.severity_score,
        "severity_label": adv.severity_label,
        "url": adv.url,
        "published": adv.published,
        "modified": adv.modified,
    }
