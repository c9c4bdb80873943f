"""Lock files of other ecosystems: golden package sets per format, discovery by name, purls,
hostile input (huge, deeply nested, malformed: one error line, never a traceback or a hang)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import auditor.providers.deps.lockfiles as lockfiles
from auditor.providers.deps.formats import purl
from auditor.providers.deps.lockfiles import read_lockfile
from auditor.providers.deps.sources import discover

LOCKS = Path(__file__).resolve().parent / "fixtures" / "lockfiles"
P, U, V = "pinned", "unpinned", "unversioned"

# fixture -> exact package set: (name, version, ecosystem, kind)
GOLDEN: dict[str, set[tuple[str, str | None, str, str]]] = {
    "npm-v1/package-lock.json": {
        ("lodash", "4.17.20", "npm", P), ("express", "4.17.1", "npm", P), ("qs", "6.11.0", "npm", P),
        ("qs", "6.7.0", "npm", P),  # nested under express
        ("@babel/core", "7.12.3", "npm", P),
        ("local-lib", None, "npm", V), ("gitdep", None, "npm", V),
        ("underscore", "1.12.0", "npm", P),  # an alias: audited as the real package
    },
    "npm-v3/package-lock.json": {
        ("minimist", "1.2.5", "npm", P), ("minimist", "0.0.8", "npm", P), ("@scope/pkg", "2.0.0-beta.3", "npm", P),
        ("lodash", "4.17.21", "npm", P),  # installed as my-lodash
        ("from-git", None, "npm", V), ("dup", "1.0.0", "npm", P),  # the workspace `ui` and the root are not deps
    },
    "shrinkwrap/npm-shrinkwrap.json": {("minimist", "1.2.6", "npm", P)},
    "yarn-v1/yarn.lock": {
        ("@babel/code-frame", "7.12.13", "npm", P), ("lodash", "4.17.19", "npm", P), ("minimist", "1.2.0", "npm", P),
        ("gitpkg", None, "npm", V),
        ("underscore", "1.12.0", "npm", P),  # an alias: audited as the real package
    },
    "yarn-berry/yarn.lock": {
        ("lodash", "4.17.20", "npm", P), ("@types/node", "18.11.9", "npm", P),
        ("resolve", "1.22.1", "npm", P),  # patch: of a registry version
        ("mylib", None, "npm", V),  # the workspace itself is left out
    },
    "pnpm-v5/pnpm-lock.yaml": {("minimist", "1.2.0", "npm", P), ("@scope/thing", "3.1.0", "npm", P)},
    "pnpm-v6/pnpm-lock.yaml": {("lodash", "4.17.20", "npm", P), ("@scope/thing", "3.1.0", "npm", P),
                               ("local", None, "npm", V)},
    "pnpm-v9/pnpm-lock.yaml": {("minimist", "1.2.8", "npm", P), ("@scope/thing", "3.1.0-rc.1", "npm", P),
                               ("gitdep", None, "npm", V)},
    "go/go.mod": {
        ("github.com/gin-gonic/gin", "v1.9.0", "Go", P),
        ("golang.org/x/net", "v0.0.0-20220722155237-a158d28d115b", "Go", P),
        ("github.com/new/lib", "v1.4.0", "Go", P),  # replace old/lib => new/lib
        ("example.com/local", None, "Go", V),  # replaced by a directory
        ("gopkg.in/yaml.v3", "v3.0.0-20200313102051-9f266ea9e77c", "Go", P),
    },
    "go-old/go.mod": {  # go 1.16: go.mod names direct dependencies only; go.sum adds the rest
        ("github.com/gin-gonic/gin", "v1.9.0", "Go", P),
        ("github.com/go-playground/validator/v10", "v10.11.1", "Go", P),
    },
    "gosum/go.sum": {  # the highest hashed version per module; /go.mod-only lines are not builds
        ("github.com/gin-gonic/gin", "v1.9.0", "Go", P),
        ("golang.org/x/net", "v0.0.0-20220722155237-a158d28d115b", "Go", P),
    },
    "maven/pom.xml": {
        ("org.apache.logging.log4j:log4j-core", "2.14.1", "Maven", P),  # ${log4j.version}
        ("com.fasterxml.jackson.core:jackson-databind", "2.12.1", "Maven", P),  # a property of a property
        ("com.google.guava:guava", "30.0-jre", "Maven", P),  # this pom's dependencyManagement
        ("org.example:sibling", "3.0.0", "Maven", P),  # ${project.version} from <parent>
        ("org.hibernate:hibernate-core", "5.4.24.Final", "Maven", P),
        ("junit:junit", None, "Maven", U),  # a range
        ("org.slf4j:slf4j-api", None, "Maven", U),  # an undefined property
        ("org.springframework:spring-core", None, "Maven", U),  # managed by a parent or BOM
    },
    "gradle/gradle.lockfile": {
        ("com.fasterxml.jackson.core:jackson-databind", "2.13.0", "Maven", P),
        ("org.apache.logging.log4j:log4j-core", "2.17.0", "Maven", P),
        ("org.springframework:spring-core", "5.3.18", "Maven", P),
    },
    "cargo/Cargo.lock": {
        ("smallvec", "1.6.0", "crates.io", P), ("time", "0.1.45", "crates.io", P),
        ("tokio", "1.0.0-alpha.1", "crates.io", P), ("forked", None, "crates.io", V),  # `app` is the workspace
    },
    "ruby/Gemfile.lock": {
        ("actionpack", "6.1.4", "RubyGems", P), ("nokogiri", "1.13.10", "RubyGems", P),  # platform suffix dropped
        ("rack", "2.2.3", "RubyGems", P), ("rails", "7.0.0.rc1", "RubyGems", P),
        ("gitgem", None, "RubyGems", V),  # PATH gem myapp is the project
    },
    "php/composer.lock": {
        ("guzzlehttp/guzzle", "7.4.0", "Packagist", P), ("symfony/http-kernel", "v5.4.1", "Packagist", P),
        ("Monolog/Monolog", "2.0.0-RC1", "Packagist", P), ("acme/branch", None, "Packagist", V),
        ("phpunit/phpunit", "9.5.10", "Packagist", P),
    },
}


def package_set(path: Path) -> set[tuple[str, str | None, str, str]]:
    df = read_lockfile(path)
    assert df.errors == []
    return {(d.name, d.version, d.ecosystem, d.kind) for d in df.dependencies}


@pytest.mark.parametrize("rel", sorted(GOLDEN))
def test_golden_package_set_per_format(rel: str) -> None:
    assert package_set(LOCKS / rel) == GOLDEN[rel]


def test_discovery_by_file_name() -> None:
    found = discover(LOCKS)
    # npm-shrinkwrap.json over package-lock.json, go.mod over go.sum in one folder.
    assert sorted(found.rel(p) for p in found.files) == sorted(GOLDEN)
    assert found.skipped == []


def test_purls_and_lines() -> None:
    assert purl("npm", "@babel/core", "7.12.3") == "pkg:npm/%40babel/core@7.12.3"
    assert purl("Go", "golang.org/x/net", "v0.1.0") == "pkg:golang/golang.org/x/net@v0.1.0"
    assert purl("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1") == (
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    )
    assert purl("crates.io", "smallvec", "1.6.0") == "pkg:cargo/smallvec@1.6.0"
    assert purl("RubyGems", "rack", "2.2.3") == "pkg:gem/rack@2.2.3"
    assert purl("Packagist", "guzzlehttp/guzzle", "7.4.0") == "pkg:composer/guzzlehttp/guzzle@7.4.0"
    gems = {d.name: (d.line, d.purl) for d in read_lockfile(LOCKS / "ruby" / "Gemfile.lock").dependencies}
    assert gems["nokogiri"] == (18, "pkg:gem/nokogiri@1.13.10")
    mods = {d.name: d.line for d in read_lockfile(LOCKS / "go" / "go.mod").dependencies}
    assert mods["gopkg.in/yaml.v3"] == 12
    lines = {(d.name, d.version): d.line for d in read_lockfile(LOCKS / "npm-v3" / "package-lock.json").dependencies}
    assert lines[("minimist", "0.0.8")] == 10 and lines[("lodash", "4.17.21")] == 11
    lines = {d.name: d.line for d in read_lockfile(LOCKS / "pnpm-v9" / "pnpm-lock.yaml").dependencies}
    assert lines == {"minimist": 12, "@scope/thing": 15, "gitdep": 18}
    lines = {d.name: d.line for d in read_lockfile(LOCKS / "yarn-berry" / "yarn.lock").dependencies}
    assert lines == {"lodash": 14, "@types/node": 21, "resolve": 27, "mylib": 33}
    lines = {d.name: d.line for d in read_lockfile(LOCKS / "php" / "composer.lock").dependencies}
    assert lines["phpunit/phpunit"] == 11
    # One name at two versions in one file: each version is its own resource.
    ids = {d.resource_id for d in read_lockfile(LOCKS / "npm-v3" / "package-lock.json").dependencies}
    assert {"pkg:npm/minimist@1.2.5", "pkg:npm/minimist@0.0.8", "pkg:npm/lodash"} <= ids


# Hostile input -----------------------------------------------------------------------------


def nested_json(depth: int) -> str:
    return '{"dependencies": ' + '{"a": {"version": "1.0.0", "dependencies": ' * depth + "{}" + "}}" * depth + "}"


HOSTILE = [
    ("package-lock.json", "{not json", "not valid JSON (line 1, column 2)"),
    ("package-lock.json", "[1, 2]", "the document is not a mapping"),
    ("package-lock.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("package-lock.json", nested_json(200), "dependencies nested more than 64 levels"),
    ("composer.lock", '{"packages": 5}', "unexpected structure (TypeError)"),
    ("yarn.lock", '# yarn lockfile v1\nlodash@^4:\n  version "4"\nnot an entry\n', "line 4: not a yarn.lock entry"),
    ("pnpm-lock.yaml", "packages: [unclosed", "not valid YAML (line 2)"),
    ("pnpm-lock.yaml", "lockfileVersion: banana\npackages: {}\n", "unknown lockfileVersion banana"),
    ("go.mod", "module x\nrequire (\n  github.com/a/b\n)\n", "line 3: not a `require` of a module version"),
    ("go.sum", "github.com/a/b v1.0.0\n", "line 1: not a go.sum line"),
    ("gradle.lockfile", "just-a-name=compileClasspath\n", "line 1: not group:artifact:version"),
    ("Cargo.lock", "[[package]\nname = 1", "not valid TOML"),
    ("pom.xml", "<project><dependencies>", "not valid XML"),
    ("pom.xml", "<notaproject/>", "the root element is not <project>"),
    (
        "pom.xml",
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<project><x>&b;</x></project>",
        "declares XML entities; refused",
    ),
    ("Gemfile.lock", "\xff\xfe", "not UTF-8 text"),
]


@pytest.mark.parametrize(
    ("name", "content", "error"), HOSTILE, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(HOSTILE)]
)
def test_hostile_input_is_one_clear_error(tmp_path: Path, name: str, content: str, error: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if not content.startswith("\xff") else b"\xff\xfe\x00")
    df = read_lockfile(path)
    assert len(df.errors) == 1, df.errors
    line, message = df.errors[0]
    assert line is None
    assert message.startswith(f"cannot read {path}: "), message
    assert error in message, message
    assert "\n" not in message


def test_go_sum_beside_go_mod_that_is_not_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module x\n\nrequire github.com/a/b v1.0.0\n")
    os.mkfifo(tmp_path / "go.sum")
    df = read_lockfile(tmp_path / "go.mod")
    assert len(df.errors) == 1
    assert df.errors[0][1].startswith(f"cannot read {tmp_path / 'go.mod'}: go.sum beside it: ")
    assert "not a regular file" in df.errors[0][1]


def test_one_long_line_is_read_in_linear_time(tmp_path: Path) -> None:
    """A valid pnpm-lock.yaml on one line of 20,000 `key: {}` entries (the line index must not
    backtrack on it; pytest-timeout would stop a hang)."""
    lock = tmp_path / "pnpm-lock.yaml"
    entries = ", ".join(f"'p{i}@1.0.{i}': {{}}" for i in range(20_000))
    lock.write_text(f"lockfileVersion: '9.0'\npackages: {{{entries}}}\n")
    df = read_lockfile(lock)
    assert df.errors == [] and len(df.dependencies) == 20_000
    assert {d.line for d in df.dependencies} == {None}


def test_size_and_count_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = tmp_path / "package-lock.json"
    packages = {f"node_modules/p{i}": {"version": "1.0.0"} for i in range(50)}
    lock.write_text(json.dumps({"lockfileVersion": 3, "packages": packages}))
    monkeypatch.setattr(lockfiles, "MAX_PACKAGES", 10)
    df = read_lockfile(lock)
    assert df.errors == [(None, f"cannot read {lock}: more than 10 packages")]
    monkeypatch.setattr(lockfiles, "MAX_LOCKFILE_BYTES", 100)
    df = read_lockfile(lock)
    assert len(df.errors) == 1 and df.errors[0][1].startswith("cannot read ") and df.dependencies == []
    assert "100" in df.errors[0][1]


def test_fifo_named_like_a_lock_file_is_skipped_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "yarn.lock")
    (tmp_path / "Cargo.lock").write_text('version = 3\n[[package]]\nname = "a"\nversion = "1.0.0"\n'
                                         'source = "registry+https://github.com/rust-lang/crates.io-index"\n')
    found = discover(tmp_path)
    assert [p.name for p in found.files] == ["Cargo.lock"]
    skipped = [(s.item, s.reason) for s in found.skipped]
    assert skipped == [("yarn.lock", "a FIFO (named pipe), not a regular file: not read")]


def test_pre_commit_hook_claims_lock_files_opt_in(tmp_path: Path) -> None:
    from auditor.providers.base import StagedFile
    from auditor.providers.deps import DepsProvider

    claimed = {rel for rel in ("web/package-lock.json", "yarn.lock", "svc/go.sum", "Cargo.lock", "pom.xml",
                               "REQUIREMENTS.txt", "package.json", "Yarn.lock", "go.work")
               if DepsProvider.accepts_file(StagedFile(rel, tmp_path))}
    assert claimed == {"web/package-lock.json", "yarn.lock", "svc/go.sum", "Cargo.lock", "pom.xml", "REQUIREMENTS.txt"}
    claim = DepsProvider.accepts_file(StagedFile("yarn.lock", tmp_path))
    assert claim is not None and claim.opt_in
