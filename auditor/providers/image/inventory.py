"""What is installed in an image: the operating system and its packages, Python packages.

Read from the final filesystem view only (never from the host):
- the OS from `etc/os-release` (or `usr/lib/os-release`);
- Debian/Ubuntu packages from `var/lib/dpkg/status` and, for distroless images,
  `var/lib/dpkg/status.d/*`;
- Alpine packages from `lib/apk/db/installed`;
- Python distributions from `*.dist-info/METADATA` and `*.egg-info` (`PKG-INFO`);
- RPM packages from the rpm database (sqlite, BerkeleyDB or NDB: `rpmdb.py`);
- npm packages (`node_modules/**/package.json`, lockfiles), Ruby gems
  (`specifications/*.gemspec`), and what the streamed analysers found in Java archives and
  Go / Rust binaries (`langpkgs.py`, kept in `Entry.derived`).

The distribution comes from os-release, or `etc/system-release` / `etc/redhat-release`
when an old RPM-based image has no os-release.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from auditor.providers.image.filesystem import FileSystemView
from auditor.providers.image.langpkgs import (
    Analysis,
    Found,
    gemspec_file,
    npm_package_dir,
    parse_gemspec,
    parse_npm_lockfile,
    parse_npm_package_json,
)
from auditor.providers.image.rpmdb import RpmDBError, read_rpmdb

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d/"
APK_DB = "lib/apk/db/installed"
RPMDB_KINDS = {
    f"{d}/{f}": kind
    for d in ("var/lib/rpm", "usr/lib/sysimage/rpm")
    for f, kind in (("rpmdb.sqlite", "sqlite"), ("Packages", "bdb"), ("Packages.db", "ndb"))
}
SYSTEM_RELEASE = ("etc/system-release", "etc/redhat-release")
RPM_DISTROS = ("rhel", "centos", "rocky", "almalinux", "fedora", "amzn", "ol")
# OSV ecosystem of each package type found in layers (https://ossf.github.io/osv-schema/#affectedpackage-field)
LANGUAGE_ECOSYSTEMS = {
    "pypi": "PyPI",
    "npm": "npm",
    "gem": "RubyGems",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
}


@dataclass(frozen=True)
class OSRelease:
    id: str
    version_id: str
    pretty_name: str
    codename: str = ""
    id_like: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        if self.id in ("debian", "ubuntu", "alpine"):
            return self.id
        for like in self.id_like:
            if like in ("debian", "ubuntu", "alpine"):
                return like
        if self.id in RPM_DISTROS or any(like in ("rhel", "fedora", "centos") for like in self.id_like):
            return "rpm"
        return self.id

    @property
    def major(self) -> str:
        return self.version_id.split(".")[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version_id": self.version_id,
            "pretty_name": self.pretty_name,
            "codename": self.codename,
        }


@dataclass(frozen=True)
class Package:
    type: str  # "deb", "apk", "rpm", "pypi", "npm", "gem", "maven", "golang", "cargo"
    name: str
    version: str  # rpm: [epoch:]version-release, as OSV's RPM ecosystems write it
    source_name: str | None = None  # the source (deb) or origin (apk) package
    source_version: str | None = None
    arch: str | None = None
    license: str | None = None
    location: str = ""  # the file the record came from
    namespace: str | None = None  # Maven group id
    epoch: int | None = None  # rpm

    def purl(self, os_release: OSRelease | None) -> str:
        qualifiers: dict[str, str] = {}
        namespace: str | None = self.namespace
        name, version = self.name, self.version
        if self.type in ("deb", "apk", "rpm"):
            namespace = (
                os_release.id
                if os_release and os_release.id
                else {"apk": "alpine", "deb": "debian"}.get(self.type, "unknown")
            )
            if self.arch:
                qualifiers["arch"] = self.arch
            if self.type == "rpm":
                version = version.split(":", 1)[1] if self.epoch else version
                if self.epoch:
                    qualifiers["epoch"] = str(self.epoch)
            if os_release and os_release.version_id:
                qualifiers["distro"] = f"{os_release.id}-{os_release.version_id}"
        elif self.type == "npm" and name.startswith("@") and "/" in name:
            namespace, name = name.split("/", 1)
        elif self.type == "golang" and "/" in name:
            namespace, name = name.rsplit("/", 1)
        return str(
            PackageURL(
                type=self.type, namespace=namespace, name=name, version=version, qualifiers=qualifiers or None
            ).to_string()
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "version": self.version,
            "source_name": self.source_name,
            "source_version": self.source_version,
            "location": self.location,
        }


@dataclass
class Inventory:
    os: OSRelease | None
    packages: list[Package] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # databases present but unreadable
    # Java archives with no Maven metadata (pom.properties): shown in the coverage, not matched
    unidentified_archives: list[str] = field(default_factory=list)

    def by_type(self, kind: str) -> list[Package]:
        return [p for p in self.packages if p.type == kind]

    def osv_ecosystem(self, pkg: Package) -> str | None:
        """The OSV ecosystem whose advisories apply to this package (None: none we can name).

        RPM: RHEL and UBI -> "Red Hat:enterprise_linux:N" (matched with every `::stream` of it),
        AlmaLinux -> "AlmaLinux:N", Rocky -> "Rocky Linux:N".
        OSV has no ecosystem for Amazon Linux, Fedora, CentOS or Oracle Linux (schema 1.7):
        their packages are inventoried and reported as not checkable, never as clean.
        """
        lang = LANGUAGE_ECOSYSTEMS.get(pkg.type)
        if lang is not None:
            return lang
        os_ = self.os
        if os_ is None or not os_.version_id:
            return None
        if pkg.type == "deb" and os_.id == "debian":
            return f"Debian:{os_.version_id.split('.')[0]}"
        if pkg.type == "deb" and os_.id == "ubuntu":
            return f"Ubuntu:{os_.version_id}"
        if pkg.type == "apk" and os_.id == "alpine":
            return "Alpine:v" + ".".join(os_.version_id.split(".")[:2])
        if pkg.type == "rpm":
            if os_.id == "rhel":
                # OSV's Red Hat ecosystems are CPE streams (`Red Hat:enterprise_linux:9::baseos`);
                # the vulnerability database matches every stream of this release.
                return f"Red Hat:enterprise_linux:{os_.major}"
            if os_.id == "almalinux":
                return f"AlmaLinux:{os_.major}"
            if os_.id == "rocky":
                return f"Rocky Linux:{os_.major}"
        return None

    def match_key(self, pkg: Package, ecosystem: str) -> tuple[str, str]:
        """(name, version) advisories of `ecosystem` name this package by.

        Debian and Alpine advisories name source packages; Rocky Linux's name the source RPM
        (osv-schema); Red Hat's and AlmaLinux's name binary RPMs.
        """
        if pkg.type == "rpm":
            if ecosystem.startswith("Rocky Linux") and pkg.source_name:
                return pkg.source_name, pkg.version
            return pkg.name, pkg.version
        if pkg.namespace:
            return f"{pkg.namespace}:{pkg.name}", pkg.version  # Maven: group:artifact
        return pkg.source_name or pkg.name, pkg.source_version or pkg.version


def parse_os_release(text: str) -> OSRelease | None:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value.replace('\\"', '"')
    if "ID" not in values:
        return None
    return OSRelease(
        id=values["ID"].lower().strip(),
        version_id=values.get("VERSION_ID", ""),
        pretty_name=values.get("PRETTY_NAME", values["ID"]),
        codename=values.get("VERSION_CODENAME", ""),
        id_like=tuple(values.get("ID_LIKE", "").split()),
    )


SYSTEM_RELEASE_IDS = (
    ("amazon linux", "amzn"),
    ("red hat enterprise linux", "rhel"),
    ("rocky linux", "rocky"),
    ("almalinux", "almalinux"),
    ("fedora", "fedora"),
    ("centos", "centos"),
    ("oracle linux", "ol"),
)


def parse_system_release(text: str) -> OSRelease | None:
    """`Amazon Linux release 2 (Karoo)`, `Red Hat Enterprise Linux release 8.9 (Ootpa)`, ..."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    lower = line.lower()
    for prefix, id_ in SYSTEM_RELEASE_IDS:
        if lower.startswith(prefix):
            words = lower.split()
            version = ""
            if "release" in words and words.index("release") + 1 < len(words):
                version = words[words.index("release") + 1]
            return OSRelease(id=id_, version_id=version, pretty_name=line[:200])
    return None


def _paragraphs(text: str) -> list[dict[str, str]]:
    """RFC 822-style stanzas (dpkg status): `Key: value`, continuation lines start with a space."""
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
            current, last = {}, None
            continue
        if line[0] in " \t":
            continue  # continuation (descriptions, conffiles): not needed
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            current[last] = value.strip()
    if current:
        out.append(current)
    return out


def parse_dpkg_status(text: str, location: str) -> list[Package]:
    pkgs = []
    for para in _paragraphs(text):
        name, version = para.get("Package"), para.get("Version")
        status = para.get("Status", "install ok installed").split()
        if not name or not version or (status and status[-1] != "installed"):
            continue
        source = para.get("Source")
        source_name, source_version = name, version
        if source:
            parts = source.split()
            source_name = parts[0]
            if len(parts) > 1 and parts[1].startswith("(") and parts[1].endswith(")"):
                source_version = parts[1][1:-1]
        pkgs.append(
            Package(
                type="deb",
                name=name,
                version=version,
                source_name=source_name,
                source_version=source_version,
                arch=para.get("Architecture"),
                location=location,
            )
        )
    return pkgs


def parse_apk_installed(text: str, location: str) -> list[Package]:
    pkgs = []
    current: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current.get("P") and current.get("V"):
                pkgs.append(
                    Package(
                        type="apk",
                        name=current["P"],
                        version=current["V"],
                        source_name=current.get("o") or current["P"],
                        source_version=current["V"],
                        arch=current.get("A"),
                        license=current.get("L"),
                        location=location,
                    )
                )
            current = {}
            continue
        if len(line) > 2 and line[1] == ":":
            current.setdefault(line[0], line[2:].strip())
    return pkgs


def parse_python_metadata(text: str, location: str) -> Package | None:
    name = version = lic = None
    for line in text.splitlines():
        if not line.strip():
            break  # headers end at the first blank line; the description follows
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "name" and name is None:
            name = value.strip()
        elif key == "version" and version is None:
            version = value.strip()
        elif key == "license" and lic is None:
            lic = value.strip()[:200] or None
    if not name or not version:
        return None
    return Package(type="pypi", name=name, version=version, license=lic, location=location)


def build_inventory(view: FileSystemView) -> Inventory:
    os_release = None
    for path in ("etc/os-release", "usr/lib/os-release"):
        data = view.read(path)
        if data:
            os_release = parse_os_release(data.decode("utf-8", "replace"))
            if os_release:
                break
    if os_release is None:
        for path in SYSTEM_RELEASE:
            data = view.read(path)
            if data:
                os_release = parse_system_release(data.decode("utf-8", "replace"))
                if os_release:
                    break
    inv = Inventory(os=os_release)
    _rpm_packages(view, inv)
    status = view.get(DPKG_STATUS)
    if status is not None:
        if status.content is None:
            inv.problems.append(f"/{DPKG_STATUS} could not be read")
        else:
            inv.packages.extend(parse_dpkg_status(status.content.decode("utf-8", "replace"), "/" + DPKG_STATUS))
    for path, entry in sorted(view.entries.items()):
        if path.startswith(DPKG_STATUS_D) and entry.is_regular and entry.content is not None:
            inv.packages.extend(parse_dpkg_status(entry.content.decode("utf-8", "replace"), "/" + path))
    apk = view.get(APK_DB)
    if apk is not None:
        if apk.content is None:
            inv.problems.append(f"/{APK_DB} could not be read")
        else:
            inv.packages.extend(parse_apk_installed(apk.content.decode("utf-8", "replace"), "/" + APK_DB))
    for path, entry in sorted(view.entries.items()):
        if not entry.is_regular or entry.content is None:
            continue
        base = posixpath.basename(path)
        parent = posixpath.basename(posixpath.dirname(path))
        is_meta = (base == "METADATA" and parent.endswith(".dist-info")) or (
            base == "PKG-INFO" and parent.endswith(".egg-info")
        )
        if is_meta or base.endswith(".egg-info"):
            pkg = parse_python_metadata(entry.content.decode("utf-8", "replace"), "/" + path)
            if pkg is not None:
                inv.packages.append(pkg)
    _language_packages(view, inv)
    # One record per (type, name, version, location): dpkg status + status.d can repeat a package.
    # Python: one per location; language packages: one per (namespace, name, version).
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for p in inv.packages:
        if p.type == "pypi":
            version_key = p.version + p.location
        elif p.type == "rpm":
            version_key = f"{p.version}.{p.arch}"  # multilib: glibc.i686 beside glibc.x86_64
        else:
            version_key = p.version
        key = (p.type, f"{p.namespace or ''}:{p.name}", version_key)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    inv.packages = unique
    return inv


def _rpm_packages(view: FileSystemView, inv: Inventory) -> None:
    """The rpm database: the first of sqlite, BerkeleyDB, NDB found (rpm keeps one backend)."""
    done: set[str] = set()
    for path, kind in RPMDB_KINDS.items():
        real = view.resolve(path)
        entry = view.entries.get(real) if real else None
        if entry is None or not entry.is_regular or real in done:
            continue
        done.add(real or path)
        where = "/" + path
        if entry.content is None or len(entry.content) < entry.size:
            inv.problems.append(f"{where} not read: {entry.size} bytes (over the rpm database cap or capture budget)")
            continue
        try:
            result = read_rpmdb(kind, entry.content)
        except RpmDBError as exc:
            inv.problems.append(f"{where}: {exc}")
            continue
        if result.skipped:
            inv.problems.append(
                f"{where}: {result.skipped} package record(s) unreadable ({result.first_problem})"
            )
        for h in result.headers:
            if h.name == "gpg-pubkey":
                continue  # imported signing keys, not software
            inv.packages.append(
                Package(
                    type="rpm",
                    name=h.name,
                    version=h.evr,
                    source_name=h.source_name,
                    arch=h.arch,
                    license=h.license,
                    location=where,
                    epoch=h.epoch,
                )
            )


def _from_found(found: Found, location: str) -> Package:
    return Package(
        type=found.type, name=found.name, version=found.version, namespace=found.namespace, location=location
    )


def _language_packages(view: FileSystemView, inv: Inventory) -> None:
    for path, entry in sorted(view.entries.items()):
        if not entry.is_regular:
            continue
        where = "/" + path
        derived = entry.derived
        if isinstance(derived, Analysis):
            inv.packages.extend(_from_found(f, where) for f in derived.found)
            if derived.problem:
                inv.problems.append(f"{where}: {derived.problem}")
            if derived.unidentified:
                inv.unidentified_archives.append(where)
            continue
        content = entry.content
        if content is None:
            continue
        base = posixpath.basename(path)
        found: list[Found] = []
        if base == "package.json" and npm_package_dir(path):
            found = parse_npm_package_json(content)
        elif base in ("package-lock.json", "npm-shrinkwrap.json", ".package-lock.json"):
            found = parse_npm_lockfile(content)
        elif gemspec_file(path):
            found = parse_gemspec(path, content)
        inv.packages.extend(_from_found(f, where) for f in found)
