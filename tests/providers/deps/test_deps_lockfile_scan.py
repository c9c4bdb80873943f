"""The deps provider on lock files of other ecosystems, offline through the local OSV database:
the exact findings of every fixture lock file, the evidence of one, no database or no
advisories of an ecosystem (ERROR, never PASS), and the CLI."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.config import AuditConfig
from auditor.models import Coverage, Finding, Severity, Status
from auditor.providers import targets
from auditor.providers.base import ScanContext
from auditor.providers.deps import DepsProvider
from auditor.vulndb import VulnDB, import_path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOCKS = FIXTURES / "lockfiles"
OSV = FIXTURES / "osv-lockfiles"

# (status, resource, file under LOCKS, advisory or "")
GOLDEN = {
    ("ERROR", "pkg:cargo/forked", "cargo/Cargo.lock", ""),
    ("FAIL", "pkg:cargo/smallvec", "cargo/Cargo.lock", "RUSTSEC-2026-0001"),
    ("FAIL", "pkg:cargo/time", "cargo/Cargo.lock", "RUSTSEC-2026-0002"),
    ("PASS", "pkg:cargo/tokio", "cargo/Cargo.lock", ""),
    ("ERROR", "pkg:golang/example.com/local", "go/go.mod", ""),
    ("FAIL", "pkg:golang/github.com/gin-gonic/gin", "go/go.mod", "GO-2026-0002"),
    ("PASS", "pkg:golang/github.com/new/lib", "go/go.mod", ""),
    ("FAIL", "pkg:golang/golang.org/x/net", "go/go.mod", "GO-2026-0001"),
    ("PASS", "pkg:golang/gopkg.in/yaml.v3", "go/go.mod", ""),
    ("FAIL", "pkg:golang/github.com/gin-gonic/gin", "go-old/go.mod", "GO-2026-0002"),
    ("PASS", "pkg:golang/github.com/go-playground/validator/v10", "go-old/go.mod", ""),  # from go.sum
    ("FAIL", "pkg:golang/github.com/gin-gonic/gin", "gosum/go.sum", "GO-2026-0002"),
    ("FAIL", "pkg:golang/golang.org/x/net", "gosum/go.sum", "GO-2026-0001"),
    ("PASS", "pkg:maven/com.fasterxml.jackson.core/jackson-databind", "gradle/gradle.lockfile", ""),
    ("PASS", "pkg:maven/org.apache.logging.log4j/log4j-core", "gradle/gradle.lockfile", ""),  # 2.17.0 >= fixed
    ("PASS", "pkg:maven/org.springframework/spring-core", "gradle/gradle.lockfile", ""),
    ("PASS", "pkg:maven/com.fasterxml.jackson.core/jackson-databind", "maven/pom.xml", ""),
    ("PASS", "pkg:maven/com.google.guava/guava", "maven/pom.xml", ""),
    ("ERROR", "pkg:maven/junit/junit", "maven/pom.xml", ""),  # a range: never guessed
    ("FAIL", "pkg:maven/org.apache.logging.log4j/log4j-core", "maven/pom.xml", "GHSA-lock-mvn-log4j"),
    ("PASS", "pkg:maven/org.example/sibling", "maven/pom.xml", ""),
    ("FAIL", "pkg:maven/org.hibernate/hibernate-core", "maven/pom.xml", "GHSA-lock-mvn-hibernate"),  # .Final
    ("ERROR", "pkg:maven/org.slf4j/slf4j-api", "maven/pom.xml", ""),
    ("ERROR", "pkg:maven/org.springframework/spring-core", "maven/pom.xml", ""),
    ("PASS", "pkg:npm/%40babel/core", "npm-v1/package-lock.json", ""),
    ("PASS", "pkg:npm/express", "npm-v1/package-lock.json", ""),
    ("ERROR", "pkg:npm/gitdep", "npm-v1/package-lock.json", ""),
    ("ERROR", "pkg:npm/local-lib", "npm-v1/package-lock.json", ""),
    ("FAIL", "pkg:npm/lodash", "npm-v1/package-lock.json", "GHSA-lock-npm-lodash"),
    ("PASS", "pkg:npm/qs@6.11.0", "npm-v1/package-lock.json", ""),
    ("PASS", "pkg:npm/qs@6.7.0", "npm-v1/package-lock.json", ""),
    ("PASS", "pkg:npm/underscore", "npm-v1/package-lock.json", ""),
    ("PASS", "pkg:npm/%40scope/pkg", "npm-v3/package-lock.json", ""),
    ("PASS", "pkg:npm/dup", "npm-v3/package-lock.json", ""),
    ("ERROR", "pkg:npm/from-git", "npm-v3/package-lock.json", ""),
    ("PASS", "pkg:npm/lodash", "npm-v3/package-lock.json", ""),  # 4.17.21 is the fix
    ("FAIL", "pkg:npm/minimist@0.0.8", "npm-v3/package-lock.json", "GHSA-lock-npm-minimist"),
    ("FAIL", "pkg:npm/minimist@1.2.5", "npm-v3/package-lock.json", "GHSA-lock-npm-minimist"),
    ("FAIL", "pkg:composer/Monolog/Monolog", "php/composer.lock", "GHSA-lock-php-monolog"),
    ("ERROR", "pkg:composer/acme/branch", "php/composer.lock", ""),
    ("FAIL", "pkg:composer/guzzlehttp/guzzle", "php/composer.lock", "GHSA-lock-php-guzzle"),
    ("PASS", "pkg:composer/phpunit/phpunit", "php/composer.lock", ""),
    ("PASS", "pkg:composer/symfony/http-kernel", "php/composer.lock", ""),
    ("PASS", "pkg:npm/%40scope/thing", "pnpm-v5/pnpm-lock.yaml", ""),
    ("FAIL", "pkg:npm/minimist", "pnpm-v5/pnpm-lock.yaml", "GHSA-lock-npm-minimist"),
    ("PASS", "pkg:npm/%40scope/thing", "pnpm-v6/pnpm-lock.yaml", ""),
    ("ERROR", "pkg:npm/local", "pnpm-v6/pnpm-lock.yaml", ""),
    ("FAIL", "pkg:npm/lodash", "pnpm-v6/pnpm-lock.yaml", "GHSA-lock-npm-lodash"),
    ("FAIL", "pkg:npm/%40scope/thing", "pnpm-v9/pnpm-lock.yaml", "GHSA-lock-npm-thing"),  # 3.1.0-rc.1 < 3.1.0
    ("ERROR", "pkg:npm/gitdep", "pnpm-v9/pnpm-lock.yaml", ""),
    ("PASS", "pkg:npm/minimist", "pnpm-v9/pnpm-lock.yaml", ""),
    ("PASS", "pkg:gem/actionpack", "ruby/Gemfile.lock", ""),
    ("ERROR", "pkg:gem/gitgem", "ruby/Gemfile.lock", ""),
    ("PASS", "pkg:gem/nokogiri", "ruby/Gemfile.lock", ""),  # 1.13.10 is the fix
    ("FAIL", "pkg:gem/rack", "ruby/Gemfile.lock", "GHSA-lock-gem-rack"),
    ("FAIL", "pkg:gem/rails", "ruby/Gemfile.lock", "GHSA-lock-gem-rails"),
    ("PASS", "pkg:npm/minimist", "shrinkwrap/npm-shrinkwrap.json", ""),  # 1.2.6 is the fix
    ("PASS", "pkg:npm/%40types/node", "yarn-berry/yarn.lock", ""),
    ("FAIL", "pkg:npm/lodash", "yarn-berry/yarn.lock", "GHSA-lock-npm-lodash"),
    ("ERROR", "pkg:npm/mylib", "yarn-berry/yarn.lock", ""),
    ("PASS", "pkg:npm/resolve", "yarn-berry/yarn.lock", ""),
    ("PASS", "pkg:npm/%40babel/code-frame", "yarn-v1/yarn.lock", ""),
    ("ERROR", "pkg:npm/gitpkg", "yarn-v1/yarn.lock", ""),
    ("FAIL", "pkg:npm/lodash", "yarn-v1/yarn.lock", "GHSA-lock-npm-lodash"),
    ("FAIL", "pkg:npm/minimist", "yarn-v1/yarn.lock", "GHSA-lock-npm-minimist"),
    ("PASS", "pkg:npm/underscore", "yarn-v1/yarn.lock", ""),
}


@pytest.fixture(scope="module")
def osv_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vulndb") / "vulndb.sqlite"
    with VulnDB.open(path, create=True) as db:
        import_path(db, OSV, datetime(2026, 11, 28, 12, 0))
    return path


@pytest.fixture
def local_db(osv_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUDITOR_VULNDB", str(osv_db))
    return osv_db


def scan(*paths: Path, offline: bool = True) -> tuple[list[Finding], list[Coverage]]:
    ctx = ScanContext(config=AuditConfig(targets=targets(deps=paths), offline=offline), now=datetime(2026, 11, 29))
    provider = DepsProvider()
    provider.prepare(ctx)
    return list(provider.run(ctx)), ctx.coverage


def outcome(findings: list[Finding]) -> set[tuple[str, str, str, str]]:
    return {(f.status.value, f.resource.id, Path(f.resource.path or "").relative_to(LOCKS).as_posix(),
             f.discriminator) for f in findings}


def test_golden_lockfiles_offline(local_db: Path) -> None:
    findings, (coverage,) = scan(LOCKS)
    assert outcome(findings) == GOLDEN
    assert len(findings) == len(GOLDEN)  # one finding per (package, advisory): no duplicates
    assert len({f.fingerprint for f in findings}) == len(findings)
    assert coverage.examined == {"files_found": 16, "files_read": 16, "packages": 66, "pinned": 52, "audited": 52,
                                 "errored": 14}
    assert coverage.details["packages_by_ecosystem"] == {"Go": 9, "Maven": 11, "Packagist": 5, "RubyGems": 5,
                                                         "crates.io": 4, "npm": 32}
    assert coverage.details["database"]["advisories_by_ecosystem"] == {
        "Go": 2, "Maven": 2, "Packagist": 2, "RubyGems": 3, "crates.io": 2, "npm": 3,
    }
    assert coverage.complete is False  # git/path sources and Maven ranges are not auditable


def test_vulnerable_lockfile_package_evidence(local_db: Path) -> None:
    findings, _ = scan(LOCKS / "gosum")
    net = next(f for f in findings if f.discriminator == "GO-2026-0001")
    assert (net.check_id, net.status, net.severity) == ("deps.vulnerable_package", Status.FAIL, Severity.HIGH)
    assert (net.resource.type, net.resource.path, net.resource.line) == (
        "golang.package", str(LOCKS / "gosum" / "go.sum"), 6,
    )
    assert net.message == ("golang.org/x/net v0.0.0-20220722155237-a158d28d115b is affected by GO-2026-0001: "
                           "golang.org/x/net test advisory; fixed in 0.0.0-20220906165146-f3363e06e74c")
    ev = net.evidence
    assert (ev["ecosystem"], ev["purl"], ev["fixed_versions"]) == (
        "Go", "pkg:golang/golang.org/x/net@v0.0.0-20220722155237-a158d28d115b",
        ["0.0.0-20220906165146-f3363e06e74c"],
    )
    assert net.target == f"deps:{(LOCKS / 'gosum').resolve()}"


def test_without_local_database_lockfile_packages_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_VULNDB", str(tmp_path / "absent.sqlite"))
    findings, _ = scan(LOCKS / "gradle", offline=False)  # online: Python would use pip-audit, lock files cannot
    assert {(f.status, f.resource.id) for f in findings} == {
        (Status.ERROR, "pkg:maven/com.fasterxml.jackson.core/jackson-databind"),
        (Status.ERROR, "pkg:maven/org.apache.logging.log4j/log4j-core"),
        (Status.ERROR, "pkg:maven/org.springframework/spring-core"),
        (Status.ERROR, f"vulndb:{tmp_path / 'absent.sqlite'}"),
    }
    source = next(f for f in findings if f.resource.type == "auditor.vulnerability_source")
    assert source.affects == ("deps.*",)
    assert source.message == (
        f"no local vulnerability database ({tmp_path / 'absent.sqlite'}): lock files of other ecosystems are "
        f"matched against it only (run `auditor vulndb import PATH`); 3 package(s) under {LOCKS / 'gradle'} "
        "were not audited"
    )


def test_database_without_the_ecosystem_is_never_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only_npm = tmp_path / "osv"
    only_npm.mkdir()
    shutil.copy(OSV / "GHSA-lock-npm-lodash.json", only_npm)
    db = tmp_path / "vulndb.sqlite"
    with VulnDB.open(db, create=True) as vdb:
        import_path(vdb, only_npm, datetime(2026, 11, 28))
    monkeypatch.setenv("AUDITOR_VULNDB", str(db))
    findings, _ = scan(LOCKS / "cargo", LOCKS / "shrinkwrap")
    statuses = {(f.status.value, f.resource.id) for f in findings}
    assert ("PASS", "pkg:npm/minimist") in statuses
    assert {s for s, r in statuses if r.startswith("pkg:cargo/")} == {"ERROR"}
    smallvec = next(f for f in findings if f.resource.id == "pkg:cargo/smallvec")
    assert "holds no crates.io advisories" in smallvec.message
    (source,) = [f for f in findings if f.resource.type == "auditor.vulnerability_source"]
    assert (source.resource.id, source.affects) == (f"vulndb:{db}", ("deps.*",))
    assert source.message.startswith(f"the vulnerability database {db} holds no crates.io advisories")


def test_unreadable_lock_file_is_one_file_error(local_db: Path, tmp_path: Path) -> None:
    (tmp_path / "Cargo.lock").write_text("[[package]\n")
    findings, (coverage,) = scan(tmp_path)
    (error,) = findings
    assert (error.status, error.resource.type, error.resource.id) == (
        Status.ERROR, "lock_file", f"file:{tmp_path / 'Cargo.lock'}",
    )
    assert error.message.startswith(f"cannot read {tmp_path / 'Cargo.lock'}: not valid TOML")
    assert coverage.complete is False
    assert [s.item for s in coverage.skipped] == ["Cargo.lock"]


def test_a_manifest_given_as_a_file_points_at_its_lock_file(local_db: Path, tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"lodash": "^4.17.0"}}')
    findings, _ = scan(tmp_path / "package.json")
    assert [(f.status, f.message) for f in findings] == [(
        Status.ERROR, f"cannot read {tmp_path / 'package.json'} as a lock file: it declares ranges, not the versions "
        "installed; audit package-lock.json, yarn.lock or pnpm-lock.yaml",
    )]


def test_cli_scan_lockfiles(local_db: Path, tmp_path: Path, cli: Callable[..., Any]) -> None:
    res = cli("scan", "--offline", "--deps", str(LOCKS / "gosum"), "--db", str(tmp_path / "a.db"),
              "--format", "json", "--fail-on", "high")
    assert res.code == 1, res.err  # golang.org/x/net: a HIGH advisory
    doc = res.json()
    assert {(f["status"], f["resource"]["id"], f["severity"]) for f in doc["findings"]} == {
        ("FAIL", "pkg:golang/golang.org/x/net", "high"),
        ("FAIL", "pkg:golang/github.com/gin-gonic/gin", "medium"),
    }
    assert "Traceback" not in res.err
