"""Which dependency files `--deps` reads besides Python's, by file name, and package URLs."""

from __future__ import annotations

from pathlib import Path

from packageurl import PackageURL

# file name -> (format, OSV ecosystem)
LOCKFILE_NAMES: dict[str, tuple[str, str]] = {
    "package-lock.json": ("package-lock", "npm"),
    "npm-shrinkwrap.json": ("package-lock", "npm"),
    "yarn.lock": ("yarn", "npm"),
    "pnpm-lock.yaml": ("pnpm", "npm"),
    "go.mod": ("go.mod", "Go"),
    "go.sum": ("go.sum", "Go"),
    "pom.xml": ("pom", "Maven"),
    "gradle.lockfile": ("gradle", "Maven"),
    "Cargo.lock": ("cargo", "crates.io"),
    "Gemfile.lock": ("gemfile", "RubyGems"),
    "composer.lock": ("composer", "Packagist"),
}
# Where one file makes another redundant in the same folder: npm reads npm-shrinkwrap.json
# instead of package-lock.json; go.mod's requirements are the build list go.sum only hashes.
SUPERSEDED_BY = {"package-lock.json": "npm-shrinkwrap.json", "go.sum": "go.mod"}
# Manifests that declare ranges, not the versions installed: given as a --deps file, the
# user is pointed at the lock file to audit instead.
MANIFESTS = {
    "package.json": "package-lock.json, yarn.lock or pnpm-lock.yaml",
    "Cargo.toml": "Cargo.lock",
    "Gemfile": "Gemfile.lock",
    "composer.json": "composer.lock",
    "build.gradle": "gradle.lockfile (gradle dependencies --write-locks)",
    "build.gradle.kts": "gradle.lockfile (gradle dependencies --write-locks)",
}
PURL_TYPES = {"npm": "npm", "Go": "golang", "Maven": "maven", "crates.io": "cargo", "RubyGems": "gem",
              "Packagist": "composer", "PyPI": "pypi"}


def is_lockfile(path: Path) -> bool:
    return path.name in LOCKFILE_NAMES


def purl(ecosystem: str, name: str, version: str | None) -> str:
    """The package URL (purl-spec): npm scopes, Go and Composer paths and Maven groups are namespaces."""
    ptype = PURL_TYPES.get(ecosystem, ecosystem.lower().replace(" ", "-"))
    namespace: str | None = None
    short = name
    if ecosystem == "Maven" and ":" in name:
        namespace, short = name.split(":", 1)
    elif ecosystem in ("npm", "Packagist", "Go") and "/" in name:
        namespace, short = name.rsplit("/", 1)
    return str(PackageURL(type=ptype, namespace=namespace, name=short, version=version).to_string())
