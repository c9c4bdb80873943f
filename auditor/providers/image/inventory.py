"""What is installed in an image: the operating system and its packages, Python packages.

Read from the final filesystem view only (never from the host):
- the OS from `etc/os-release` (or `usr/lib/os-release`);
- Debian/Ubuntu packages from `var/lib/dpkg/status` and, for distroless images,
  `var/lib/dpkg/status.d/*`;
- Alpine packages from `lib/apk/db/installed`;
- Python distributions from `*.dist-info/METADATA` and `*.egg-info` (`PKG-INFO`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from auditor.providers.image.filesystem import FileSystemView

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d/"
APK_DB = "lib/apk/db/installed"


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
        return self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version_id": self.version_id,
            "pretty_name": self.pretty_name,
            "codename": self.codename,
        }


@dataclass(frozen=True)
class Package:
    type: str  # "deb", "apk", "pypi"
    name: str
    version: str
    source_name: str | None = None  # the source (deb) or origin (apk) package
    source_version: str | None = None
    arch: str | None = None
    license: str | None = None
    location: str = ""  # the file the record came from

    def purl(self, os_release: OSRelease | None) -> str:
        qualifiers: dict[str, str] = {}
        namespace: str | None = None
        if self.type in ("deb", "apk"):
            namespace = (
                os_release.id if os_release and os_release.id else ("alpine" if self.type == "apk" else "debian")
            )
            if self.arch:
                qualifiers["arch"] = self.arch
            if os_release and os_release.version_id:
                qualifiers["distro"] = f"{os_release.id}-{os_release.version_id}"
        return str(
            PackageURL(
                type=self.type, namespace=namespace, name=self.name, version=self.version, qualifiers=qualifiers or None
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

    def by_type(self, kind: str) -> list[Package]:
        return [p for p in self.packages if p.type == kind]

    def osv_ecosystem(self, pkg: Package) -> str | None:
        """The OSV ecosystem whose advisories apply to this package (None: none we can name)."""
        if pkg.type == "pypi":
            return "PyPI"
        os_ = self.os
        if os_ is None or not os_.version_id:
            return None
        if pkg.type == "deb" and os_.id == "debian":
            return f"Debian:{os_.version_id.split('.')[0]}"
        if pkg.type == "deb" and os_.id == "ubuntu":
            return f"Ubuntu:{os_.version_id}"
        if pkg.type == "apk" and os_.id == "alpine":
            return "Alpine:v" + ".".join(os_.version_id.split(".")[:2])
        return None


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
        id=values["ID"].lower(),
        version_id=values.get("VERSION_ID", ""),
        pretty_name=values.get("PRETTY_NAME", values["ID"]),
        codename=values.get("VERSION_CODENAME", ""),
        id_like=tuple(values.get("ID_LIKE", "").split()),
    )


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
    inv = Inventory(os=os_release)
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
    # One record per (type, name, version, location): dpkg status + status.d can repeat a package.
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for p in inv.packages:
        key = (p.type, p.name, p.version if p.type != "pypi" else p.version + p.location)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    inv.packages = unique
    return inv
