"""`image.packages.vulnerable`: the image's packages against the offline OSV database.

OS packages are matched by their source package (Debian's advisories name source
packages; Alpine's name the origin; Rocky Linux's the source RPM) at the source version,
Red Hat and AlmaLinux RPMs by binary package name; language packages by name (Maven:
`group:artifact`). Amazon Linux and Fedora have no OSV ecosystem: their RPMs are
inventoried and reported as not checkable (ERROR), never as clean.
An ecosystem the database holds no advisories for cannot be vouched for: those
packages make the check ERROR, never PASS.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.models import Status
from auditor.providers.image.checks import VULNERABLE, ImageFacts, Result, incomplete
from auditor.providers.image.inventory import Package
from auditor.providers.image.versions import register_image_schemes


def check_vulnerable(facts: ImageFacts, db_path: Path | None = None) -> list[Result]:
    try:
        from auditor.vulndb import UnorderableVersion, UnsupportedEcosystem, VulnDB
    except ImportError:
        return [Result(VULNERABLE, Status.ERROR, f"{facts.label}: the vulnerability database module is not available")]
    register_image_schemes()
    inv = facts.inventory
    packages = inv.packages
    if not packages:
        if not facts.scanned.complete:
            return [incomplete(facts, VULNERABLE, "packages")]
        if inv.problems:
            return [
                Result(
                    VULNERABLE,
                    Status.ERROR,
                    f"{facts.label}: package database unreadable: {inv.problems[0]}",
                    {"problems": inv.problems},
                )
            ]
        return [Result(VULNERABLE, Status.SKIPPED, f"{facts.label}: no packages found to check", {"packages": 0})]
    try:
        db = VulnDB.open(db_path)
    except InputError as exc:
        return [Result(VULNERABLE, Status.ERROR, f"{facts.label}: {exc}", {"packages": len(packages)})]
    results: list[Result] = []
    uncovered: Counter[str] = Counter()
    unknown_ecosystem: list[str] = []
    checked: Counter[str] = Counter()
    try:
        counts: dict[str, int] = {}
        families: dict[str, tuple[str, ...]] = {}
        for pkg in packages:
            eco = inv.osv_ecosystem(pkg)
            if eco is None:
                unknown_ecosystem.append(f"{pkg.type}:{pkg.name}")
                continue
            if eco not in counts:
                families[eco] = db.ecosystem_family(eco)
                counts[eco] = sum(db.advisory_count(e) for e in families[eco])
            if counts[eco] == 0:
                uncovered[eco] += 1
                continue
            name, version = inv.match_key(pkg, eco)
            shown = f"{pkg.namespace}:{pkg.name}" if pkg.namespace else pkg.name  # Maven: group:artifact
            if pkg.type == "rpm" and pkg.arch:
                shown = f"{pkg.name}.{pkg.arch}"  # multilib: one finding per installed architecture
            try:
                found = {a.id: a for e in families[eco] for a in db.match(e, name, version)}
                advisories = [found[k] for k in sorted(found)]
            except (UnorderableVersion, UnsupportedEcosystem) as exc:
                results.append(
                    Result(
                        VULNERABLE,
                        Status.ERROR,
                        f"{facts.label}: {shown} {pkg.version}: {exc}",
                        _pkg_evidence(facts, pkg, eco),
                        discriminator=f"{eco}/{shown}/error",
                    )
                )
                continue
            checked[eco] += 1
            for adv in advisories:
                fixed = list(adv.fixed_versions)
                fix_text = f"fixed in {', '.join(fixed)}" if fixed else "no fixed version published"
                alias = f" ({', '.join(adv.aliases[:3])})" if adv.aliases else ""
                evidence = {
                    **_pkg_evidence(facts, pkg, eco),
                    "advisory": adv.id,
                    "aliases": list(adv.aliases),
                    "summary": adv.summary,
                    "fixed_versions": fixed,
                    "advisory_severity": str(adv.severity),
                    "severity_source": adv.severity_source,
                    "cvss_score": adv.severity_score,
                    "url": adv.url,
                }
                results.append(
                    Result(
                        VULNERABLE,
                        Status.FAIL,
                        f"{facts.scanned.image_id[:19]} ({facts.label}): {shown} {pkg.version} is affected by "
                        f"{adv.id}{alias}; {fix_text}",
                        evidence,
                        severity=adv.severity,
                        discriminator=f"{eco}/{shown}/{adv.id}",
                    )
                )
    finally:
        db.close()
    summary: dict[str, Any] = {
        "packages": len(packages),
        "checked_by_ecosystem": dict(checked),
        "no_advisory_data": dict(uncovered),
        "no_ecosystem": unknown_ecosystem[:50],
        "database": str(db.path),
    }
    if unknown_ecosystem:
        results.append(
            Result(
                VULNERABLE,
                Status.ERROR,
                f"{facts.label}: {len(unknown_ecosystem)} OS package(s) of an unsupported distribution "
                f"({facts.inventory.os.pretty_name if facts.inventory.os else 'no os-release'}) "
                "could not be checked",
                summary,
                discriminator="unsupported-distribution",
            )
        )
    if uncovered:
        eco_list = ", ".join(sorted(uncovered))
        results.append(
            Result(
                VULNERABLE,
                Status.ERROR,
                f"{facts.label}: the vulnerability database has no advisories for {eco_list}: "
                f"{sum(uncovered.values())} package(s) could not be checked (import that OSV export)",
                summary,
                discriminator="coverage",
            )
        )
    if inv.problems:
        # A package database that is there but could not be read: its packages are unknown.
        results.append(
            Result(
                VULNERABLE,
                Status.ERROR,
                f"{facts.label}: package data not read completely: {inv.problems[0]}",
                {**summary, "problems": inv.problems},
                discriminator="database",
            )
        )
    if not facts.scanned.complete:
        results.append(incomplete(facts, VULNERABLE, "packages", summary))
    if not results:
        results.append(
            Result(
                VULNERABLE,
                Status.PASS,
                f"{facts.label}: {sum(checked.values())} package(s) checked, none with a known vulnerability",
                summary,
            )
        )
    return results


def _pkg_evidence(facts: ImageFacts, pkg: Package, ecosystem: str) -> dict[str, Any]:
    return {
        "image_id": facts.scanned.image_id,
        "reference": facts.label,
        "ecosystem": ecosystem,
        "package": f"{pkg.namespace}:{pkg.name}" if pkg.namespace else pkg.name,
        "installed_version": pkg.version,
        "source_package": pkg.source_name,
        "source_version": pkg.source_version,
        "location": pkg.location,
    }
