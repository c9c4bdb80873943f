"""Lock files of npm, Yarn, pnpm, Go, Maven, Gradle, Cargo, Bundler and Composer.

Each file is detected by its name (`LOCKFILE_NAMES`), read through `auditor.safeio`
(regular files only, size-capped) and parsed with a maintained parser where the format
has one: JSON (`json`), TOML (`tomllib`), YAML (PyYAML, already a dependency), XML
(the standard library's expat, which resolves no external entity and caps entity
amplification; a document declaring entities is refused outright). The line formats
(yarn.lock v1, go.mod/go.sum, gradle.lockfile, Gemfile.lock) have no maintained Python
parser worth a dependency (the PyPI candidates for yarn.lock are small, dormant
projects); they are read here line by line, each rule documented by its function.

Every package carries its OSV ecosystem and a purl. Kinds, as for Python:

- `pinned`: an exact, resolved version from a registry;
- `unpinned`: a version that is not exact (a Maven range, a `${property}` the pom does
  not define, a dependency managed by a parent pom or BOM): never guessed;
- `unversioned`: a git, path, file or workspace source: no registry version to audit.

The project's own packages (the root of package-lock.json, workspace members, Cargo
workspace crates without a source, Bundler PATH gems) are not dependencies and are left
out. Hostile input (huge, deeply nested, malformed) ends as one `errors` entry of the
file, never a traceback, never a hang: sizes, nesting depths and package counts are
bounded.
"""

from __future__ import annotations

import json
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import InputError
from auditor.packages import LockfileError
from auditor.packages.npm import NpmPackage, npm_package, read_package_lock
from auditor.packages.text import line_index
from auditor.providers.deps.formats import LOCKFILE_NAMES, MANIFESTS
from auditor.providers.deps.sources import PINNED, UNPINNED, UNVERSIONED, Dependency, DependencyFile, safe_spec
from auditor.redact import redact_text
from auditor.safeio import read_bounded, show_path

MAX_LOCKFILE_BYTES = 64 * 1024 * 1024  # a large monorepo's package-lock.json is tens of MB
MAX_PACKAGES = 200_000
MAX_DEPTH = 64  # package-lock v1 nesting, Maven property indirections: far beyond real files

def normalise_name(ecosystem: str, name: str) -> str:
    return name.lower() if ecosystem == "Packagist" else name


class _Collector:
    """The packages of one file, deduplicated by (name, version, kind)."""

    def __init__(self, df: DependencyFile, ecosystem: str) -> None:
        self.df = df
        self.ecosystem = ecosystem
        self.seen: set[tuple[str, str | None, str]] = set()

    def add(self, name: str, version: str | None, kind: str, spec: str | None = None, line: int | None = None) -> None:
        name = name.strip()
        if not name:
            return
        if kind == PINNED and not version:
            kind = UNPINNED
        key = (name, version if kind == PINNED else None, kind)
        if key in self.seen:
            return
        self.seen.add(key)
        if len(self.seen) > MAX_PACKAGES:
            raise LockfileError(f"more than {MAX_PACKAGES} packages")
        shown = safe_spec(spec if spec is not None else (f"{name}@{version}" if version else name))
        self.df.dependencies.append(Dependency(
            name=name,
            canonical=normalise_name(self.ecosystem, name),
            kind=kind,
            version=version if kind == PINNED else None,
            spec=shown,
            line=line,
            declared_in=f"{self.df.path}:{line}" if line else str(self.df.path),
            ecosystem=self.ecosystem,
        ))


def read_lockfile(path: Path) -> DependencyFile:
    if path.name in MANIFESTS:
        df = DependencyFile(path=path, kind="manifest")
        df.errors.append((None, f"cannot read {show_path(path)} as a lock file: it declares ranges, not the "
                                f"versions installed; audit {MANIFESTS[path.name]}"))
        return df
    fmt, ecosystem = LOCKFILE_NAMES[path.name]
    df = DependencyFile(path=path, kind=fmt)
    try:
        data = read_bounded(path, MAX_LOCKFILE_BYTES, "lock file")
    except InputError as exc:
        df.errors.append((None, f"cannot read {redact_text(str(exc))}"))
        return df
    collector = _Collector(df, ecosystem)
    try:
        text = data.decode("utf-8-sig")
        _READERS[fmt](text, collector, path)
    except UnicodeDecodeError:
        df.errors.append((None, f"cannot read {show_path(path)}: not UTF-8 text"))
    except (LockfileError, ValueError, TypeError, KeyError, AttributeError, RecursionError, yaml.YAMLError,
            tomllib.TOMLDecodeError, ET.ParseError) as exc:
        df.errors.append((None, f"cannot read {show_path(path)}: {_why(exc)}"))
    versions: dict[str, set[str]] = {}
    for dep in df.dependencies:
        if dep.version is not None:
            versions.setdefault(dep.canonical, set()).add(dep.version)
    df.dependencies = [
        replace(dep, several_versions=True) if len(versions.get(dep.canonical, ())) > 1 else dep
        for dep in df.dependencies
    ]
    return df


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        return f"not valid YAML (line {mark.line + 1})" if mark is not None else "not valid YAML"
    if isinstance(exc, ET.ParseError):
        return f"not valid XML ({safe_spec(str(exc))})"
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"not valid TOML ({safe_spec(str(exc))})"
    if isinstance(exc, LockfileError):
        return safe_spec(str(exc))
    return f"unexpected structure ({type(exc).__name__})"


def _json(text: str) -> Any:
    return json.loads(text)


_JSON_NAME_LINE = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _yaml_key_lines(text: str) -> dict[str, int]:
    """The line of each block-mapping key indented 0-2 spaces (`key:` or `key: {...}`), read
    line by line in linear time (a regular expression over hostile lines could backtrack)."""
    lines: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if raw[:3] == "   " or not raw.strip() or raw.lstrip().startswith("#"):
            continue
        body = raw.strip()
        flow = body.find(": {")
        if flow > 0 and body.endswith("}"):
            key = body[:flow]
        elif body.endswith(":"):
            key = body[:-1]
        else:
            continue
        key = key.strip()
        if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
            key = key[1:-1]
        lines.setdefault(key, number)
    return lines


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LockfileError(f"{what} is not a mapping")
    return value


# npm ---------------------------------------------------------------------------------------


def _read_package_lock(text: str, out: _Collector, path: Path) -> None:
    """package-lock.json / npm-shrinkwrap.json v1-v3: the shared reader (`auditor.packages.npm`:
    aliases as the real package, the project's own entries left out, v1 depth bounded)."""
    for pkg in read_package_lock(text):
        _npm_out(out, pkg)


def _npm_out(out: _Collector, pkg: NpmPackage) -> None:
    out.add(pkg.name, pkg.version, PINNED if pkg.version is not None else UNVERSIONED, pkg.spec, pkg.line)


def _npm_add(out: _Collector, name: str, version: str, line: int | None = None) -> None:
    """A yarn or pnpm entry: `npm:` aliases and exact versions as in package-lock.json."""
    _npm_out(out, npm_package(name, version, line))


def _read_yarn(text: str, out: _Collector, path: Path) -> None:
    if re.search(r"^__metadata:", text, re.MULTILINE):
        _read_yarn_berry(text, out)
    else:
        _read_yarn_v1(text, out)


_YARN_NOT_REGISTRY = re.compile(
    r"^(?:git\+|git:|git@|file:|link:|github:|gitlab:|bitbucket:)|codeload\.github\.com/|\.git(?:#|$)"
)


def _yarn_spec_name(spec: str) -> str:
    """`name@range` -> name; an alias `alias@npm:real@range` -> real (what is installed)."""
    spec = spec.strip().strip('"')
    at = spec.find("@", 1)  # a scoped name starts with @
    if at < 0:
        return spec
    rest = spec[at + 1:]
    if rest.startswith("npm:"):
        real = rest[4:]
        real_at = real.find("@", 1)
        return real[:real_at] if real_at > 0 else real
    return spec[:at]


def _read_yarn_v1(text: str, out: _Collector) -> None:
    """Yarn classic: a block per resolved package; its header (no indent, ends with `:`)
    lists the requested specs `name@range`, the block's `version "x"` is the resolution.
    A `resolved` that is not a registry tarball (git, file, link) is unversioned."""
    header: tuple[str, int] | None = None
    version: str | None = None
    resolved = ""

    def flush() -> None:
        if header is not None:
            name, line = header
            if version is None:
                out.add(name, None, UNVERSIONED, f"{name} (no version)", line)
            elif _YARN_NOT_REGISTRY.search(resolved):  # git, a GitHub tarball, a file or a link
                out.add(name, None, UNVERSIONED, f"{name}@{resolved.split('#')[0]}", line)
            else:
                _npm_add(out, name, version, line)

    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            flush()
            if not raw.rstrip().endswith(":"):
                raise LockfileError(f"line {number}: not a yarn.lock entry")
            first = raw.rstrip()[:-1].split(",")[0]
            header, version, resolved = (_yarn_spec_name(first), number), None, ""
            continue
        if header is None:
            raise LockfileError(f"line {number}: indented line before any entry")
        stripped = raw.strip()
        if raw.startswith("  ") and not raw.startswith("   "):
            key, _, value = stripped.partition(" ")
            value = value.strip().strip('"')
            if key == "version":
                version = value
            elif key == "resolved":
                resolved = value
    flush()


def _yaml(text: str) -> Any:
    """A safe loader: libyaml's when PyYAML was built with it (large lock files load ~10x faster)."""
    if hasattr(yaml, "CSafeLoader"):
        return yaml.load(text, Loader=yaml.CSafeLoader)
    return yaml.load(text, Loader=yaml.SafeLoader)


def _read_yarn_berry(text: str, out: _Collector) -> None:
    """Yarn 2+ (berry): YAML; each entry's `resolution` is `name@protocol:reference`. `npm:`
    is a registry version; `workspace:` the project itself; `patch:` a patched registry
    package (its `version` is the registry's); git, file, link, portal are unversioned."""
    doc = _mapping(_yaml(text), "the document")
    lines = _yaml_key_lines(text)
    for key, meta in doc.items():
        if key == "__metadata" or not isinstance(meta, dict):
            continue
        line = lines.get(str(key))
        resolution = meta.get("resolution")
        version = meta.get("version")
        if not isinstance(resolution, str):
            continue
        at = resolution.find("@", 1)
        name, reference = (resolution[:at], resolution[at + 1:]) if at > 0 else (resolution, "")
        if reference.startswith("workspace:"):
            continue
        if reference.startswith(("npm:", "patch:")) and isinstance(version, str):
            _npm_add(out, name, str(version), line)
        else:
            out.add(name, None, UNVERSIONED, safe_spec(resolution), line)


_PNPM_PEERS = re.compile(r"\(.*$")


def _read_pnpm(text: str, out: _Collector, path: Path) -> None:
    """pnpm-lock.yaml v5 (`/name/1.2.3_peers`), v6 (`/name@1.2.3(peer@x)`) and v9
    (`name@1.2.3` under `packages`). A `resolution` with a tarball URL of `file:`, a
    `directory` or a `repo` (git) is unversioned."""
    doc = _mapping(_yaml(text), "the document")
    packages = doc.get("packages") or {}
    if not isinstance(packages, dict):
        raise LockfileError("`packages` is not a mapping")
    try:
        v5 = float(str(doc.get("lockfileVersion", "9")).strip("'\"")) < 6
    except ValueError:
        raise LockfileError(f"unknown lockfileVersion {safe_spec(str(doc.get('lockfileVersion')))}") from None
    lines = _yaml_key_lines(text)
    for key, meta in packages.items():
        if not isinstance(key, str):
            continue
        line = lines.get(key)
        meta = meta if isinstance(meta, dict) else {}
        name, version = _pnpm_key(key, v5)
        found = meta.get("resolution")
        resolution: dict[str, Any] = found if isinstance(found, dict) else {}
        if isinstance(meta.get("name"), str) and isinstance(meta.get("version"), str):
            name, version = meta["name"], meta["version"]
        tarball = str(resolution.get("tarball", ""))
        if "directory" in resolution or "repo" in resolution or tarball.startswith("file:") or not version:
            out.add(name or key, None, UNVERSIONED, safe_spec(key), line)
        else:
            _npm_add(out, name, version, line)


def _pnpm_key(key: str, v5: bool) -> tuple[str, str]:
    k = key.lstrip("/")
    if v5:  # /name/version_peers, /@scope/name/version_peers
        name, _, version = k.rpartition("/")
        return name, version.split("_", 1)[0]
    k = _PNPM_PEERS.sub("", k)  # v6, v9: name@version(peer@x)
    at = k.find("@", 1)
    return (k[:at], k[at + 1:]) if at > 0 else (k, "")


# Go ----------------------------------------------------------------------------------------

_GO_LINE = re.compile(r"^(?P<path>\S+)\s+(?P<version>v\S+)\s*(?://.*)?$")


def _go_directives(text: str) -> Iterator[tuple[str, str, int]]:
    """(verb, arguments, line) of go.mod, `verb ( ... )` blocks expanded, comments kept
    (`// indirect`)."""
    block: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if block is not None:
            if line == ")":
                block = None
            else:
                yield block, line, number
            continue
        verb, _, rest = line.partition(" ")
        rest = rest.strip()
        if rest == "(":
            block = verb
        elif rest:
            yield verb, rest, number


def _read_go_mod(text: str, out: _Collector, path: Path) -> None:
    """go.mod `require` lines: since Go 1.17 they list every module the build needs, at the
    version minimal version selection picked. `replace` is applied: a replacement by a local
    directory is unversioned, by another module the replacement is what is built. A go.sum
    beside it adds the modules go.mod does not name (an older go.mod lists direct
    dependencies only), each at its highest hashed version."""
    requires: list[tuple[str, str, int]] = []
    replaces: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    for verb, args, number in _go_directives(text):
        if verb == "require":
            m = _GO_LINE.match(args)
            if not m:
                raise LockfileError(f"line {number}: not a `require` of a module version")
            requires.append((m.group("path"), m.group("version"), number))
        elif verb == "replace":
            old, arrow, new = args.partition("=>")
            if not arrow:
                raise LockfileError(f"line {number}: `replace` without `=>`")
            old_parts, new_parts = old.split(), new.split("//")[0].split()
            if not old_parts or not new_parts:
                raise LockfileError(f"line {number}: incomplete `replace`")
            replaces[(old_parts[0], old_parts[1] if len(old_parts) > 1 else None)] = (
                new_parts[0], new_parts[1] if len(new_parts) > 1 else None,
            )
    named: set[str] = set()
    for module, version, number in requires:
        named.add(module)
        target = replaces.get((module, version)) or replaces.get((module, None))
        if target is None:
            out.add(module, version, PINNED, f"{module} {version}", number)
        elif target[1] is None:  # a local directory
            out.add(module, None, UNVERSIONED, f"{module} {version} => {target[0]}", number)
        else:
            named.add(target[0])
            out.add(target[0], target[1], PINNED, f"{module} {version} => {target[0]} {target[1]}", number)
    go_sum = path.parent / "go.sum"
    if not go_sum.exists():
        return
    try:
        sums = read_bounded(go_sum, MAX_LOCKFILE_BYTES, "go.sum").decode("utf-8")
    except InputError as exc:
        raise LockfileError(f"go.sum beside it: {redact_text(str(exc))}") from None
    except UnicodeDecodeError:
        raise LockfileError("go.sum beside it: not UTF-8 text") from None
    for module, (built, _) in _go_sum_builds(sums, "go.sum ").items():
        if module not in named and not any(old == module for old, _ in replaces):
            out.add(module, built, PINNED if built is not None else UNVERSIONED, f"{module} {built} (go.sum)")


def _go_sum_builds(text: str, where: str = "") -> dict[str, tuple[str | None, int]]:
    """Per module of a go.sum, the highest version whose content was hashed (lines without
    the `/go.mod` suffix: what minimal version selection builds), and its line; None for a
    version that is not a Go version."""
    from auditor.vulndb.ecosystems import parse_go

    best: dict[str, tuple[Any, str | None, int]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 3 or not parts[2].startswith("h1:"):
            raise LockfileError(f"{where}line {number}: not a go.sum line")
        module, version = parts[0], parts[1]
        if version.endswith("/go.mod"):
            continue
        key = parse_go(version)
        if key is None:
            best.setdefault(module, (None, None, number))
        elif module not in best or best[module][0] is None or best[module][0] < key:
            best[module] = (key, version, number)
        if len(best) > MAX_PACKAGES:
            raise LockfileError(f"more than {MAX_PACKAGES} packages")
    return {module: (version, number) for module, (_, version, number) in best.items()}


def _read_go_sum(text: str, out: _Collector, path: Path) -> None:
    """go.sum without its go.mod: every module at its highest hashed version."""
    for module, (version, number) in _go_sum_builds(text).items():
        if version is None:
            out.add(module, None, UNVERSIONED, f"{module} (no Go version)", number)
        else:
            out.add(module, version, PINNED, f"{module} {version}", number)


# Maven / Gradle ----------------------------------------------------------------------------

_PROPERTY = re.compile(r"\$\{([^}]+)\}")
_MAVEN_RANGE = re.compile(r"^[\[(].*[\])]$|,")


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el: ET.Element, name: str) -> str | None:
    c = _child(el, name)
    return c.text.strip() if c is not None and c.text and c.text.strip() else None


def _read_pom(text: str, out: _Collector, path: Path) -> None:
    """pom.xml: `<dependencies>` with literal versions, or `${property}` defined in this pom
    (`<properties>`, `project.version`, `project.parent.version`), or managed by this pom's
    `<dependencyManagement>`. A version range, an undefined property, or a version left to
    a parent pom or a BOM is unpinned: the effective version needs Maven (and a repository)."""
    if "<!ENTITY" in text:
        raise LockfileError("declares XML entities; refused")
    root = ET.fromstring(text)
    if _local(root.tag) != "project":
        raise LockfileError("the root element is not <project>")
    props: dict[str, str] = {}
    properties = _child(root, "properties")
    if properties is not None:
        for p in properties:
            if p.text is not None:
                props[_local(p.tag)] = p.text.strip()
    parent = _child(root, "parent")
    for key, value in (("project.version", _text(root, "version") or (parent is not None and _text(parent, "version"))),
                       ("project.groupId", _text(root, "groupId") or (parent is not None and _text(parent, "groupId"))),
                       ("project.parent.version", parent is not None and _text(parent, "version"))):
        if isinstance(value, str):
            props[key] = value
            props["pom." + key.split(".", 1)[1]] = value

    def resolve(value: str | None) -> str | None:
        for _ in range(MAX_DEPTH):
            if value is None or "${" not in value:
                return value
            missing = False

            def sub(m: re.Match[str]) -> str:
                nonlocal missing
                if m.group(1) in props:
                    return props[m.group(1)]
                missing = True
                return m.group(0)

            value = _PROPERTY.sub(sub, value)
            if missing:
                return None
            if len(value) > 1000:
                return None
        return None

    managed: dict[str, str | None] = {}
    mgmt = _child(root, "dependencyManagement")
    mgmt_deps = _child(mgmt, "dependencies") if mgmt is not None else None
    if mgmt_deps is not None:
        for dep in mgmt_deps:
            g, a = resolve(_text(dep, "groupId")), resolve(_text(dep, "artifactId"))
            if g and a:
                managed[f"{g}:{a}"] = _text(dep, "version")
    deps = _child(root, "dependencies")
    for dep in deps if deps is not None else ():
        if _local(dep.tag) != "dependency":
            continue
        g, a = resolve(_text(dep, "groupId")), resolve(_text(dep, "artifactId"))
        if not g or not a:
            out.add(f"{_text(dep, 'groupId')}:{_text(dep, 'artifactId')}", None, UNPINNED,
                    f"{_text(dep, 'groupId')}:{_text(dep, 'artifactId')} (unresolved coordinates)")
            continue
        name = f"{g}:{a}"
        written = _text(dep, "version") or managed.get(name)
        if written is None:
            out.add(name, None, UNPINNED, f"{name} (version managed by a parent pom or BOM)")
            continue
        version = resolve(written)
        if version is None:
            out.add(name, None, UNPINNED, f"{name}:{written} (property not defined in this pom)")
        elif _MAVEN_RANGE.search(version):
            out.add(name, None, UNPINNED, f"{name}:{version} (a version range)")
        else:
            out.add(name, version, PINNED, f"{name}:{version}")


def _read_gradle(text: str, out: _Collector, path: Path) -> None:
    """gradle.lockfile: `group:artifact:version=configurations` per line; `empty=` and
    comments skipped."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coords = line.split("=", 1)[0]
        parts = coords.split(":")
        if len(parts) != 3 or not all(parts):
            raise LockfileError(f"line {number}: not group:artifact:version")
        out.add(f"{parts[0]}:{parts[1]}", parts[2], PINNED, coords, number)


# Cargo, Bundler, Composer ------------------------------------------------------------------


def _read_cargo(text: str, out: _Collector, path: Path) -> None:
    """Cargo.lock `[[package]]`: a `registry+` source is a crates.io version; no source is a
    crate of this workspace; a git or path source is unversioned."""
    doc = tomllib.loads(text)
    for pkg in doc.get("package") or ():
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        name, version, source = pkg["name"], pkg.get("version"), pkg.get("source")
        if source is None:
            continue
        if isinstance(source, str) and source.startswith(("registry+", "sparse+")) and isinstance(version, str):
            out.add(name, version, PINNED, f"{name} {version}")
        else:
            out.add(name, None, UNVERSIONED, f"{name} {version} ({str(source).split('#')[0]})")


_GEM_SPEC = re.compile(r"^    (?P<name>[^\s(]+) \((?P<version>[^)]+)\)$")


def _read_gemfile(text: str, out: _Collector, path: Path) -> None:
    """Gemfile.lock: under `GEM` / `specs:` each 4-space line `name (version[-platform])` is a
    resolved gem (6-space lines are its requirements). GIT gems are unversioned; PATH gems
    are the project's own."""
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        if raw and not raw[0].isspace():
            section = raw.strip()
            continue
        m = _GEM_SPEC.match(raw)
        if not m:
            continue
        name, version = m.group("name"), m.group("version")
        if section == "GEM":
            plain = version.split("-", 1)[0]
            out.add(name, plain, PINNED, f"{name} ({version})", number)
        elif section == "GIT":
            out.add(name, None, UNVERSIONED, f"{name} ({version}) from git", number)


def _read_composer(text: str, out: _Collector, path: Path) -> None:
    """composer.lock `packages` and `packages-dev`: a `dev-` branch or `-dev` version is
    unversioned (a branch, not a release)."""
    doc = _mapping(_json(text), "the document")
    lines = line_index(text, _JSON_NAME_LINE)
    for group in ("packages", "packages-dev"):
        for pkg in doc.get(group) or ():
            if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
                continue
            name, version = pkg["name"], pkg.get("version")
            line = lines.get(name)
            if not isinstance(version, str):
                out.add(name, None, UNVERSIONED, f"{name} (no version)", line)
            elif version.startswith("dev-") or version.endswith("-dev"):
                out.add(name, None, UNVERSIONED, f"{name} {version} (a branch)", line)
            else:
                out.add(name, version, PINNED, f"{name} {version}", line)


_READERS: dict[str, Callable[[str, _Collector, Path], None]] = {
    "package-lock": _read_package_lock,
    "yarn": _read_yarn,
    "pnpm": _read_pnpm,
    "go.mod": _read_go_mod,
    "go.sum": _read_go_sum,
    "pom": _read_pom,
    "gradle": _read_gradle,
    "cargo": _read_cargo,
    "gemfile": _read_gemfile,
    "composer": _read_composer,
}
