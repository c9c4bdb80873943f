"""`audit.yaml`: load, validate and turn into the frozen `AuditConfig`.

Every error names the file, the line and the key path, on one line:

    audit.yaml:12: targets.aws.regions: expected a list of region names

Rules (documented key by key in docs/configuration.md):
- unknown keys, duplicate keys, wrong types and bad enum values are errors (a typo in
  an unattended audit must not silently scan less);
- relative paths resolve against the folder of the configuration file, `~` expands;
- `${VAR}` in any string value is replaced by the environment variable VAR (an unset
  variable is an error; `$$` is a literal `$`): secrets such as SMTP passwords and
  webhook URLs live in the environment, never in the file.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from auditor.config import (
    FAIL_ON_CHOICES,
    TRANSFER_MECHANISMS,
    WEBHOOK_FORMATS,
    AuditConfig,
    EmailTarget,
    GdprSettings,
    Notifications,
    ProviderSettings,
    Setting,
    Targets,
    Thresholds,
    TransferMechanism,
    WebhookTarget,
    parse_fail_on,
)
from auditor.errors import ConfigError, InputError
from auditor.models import Severity
from auditor.safeio import read_text_bounded, show_path

CONFIG_VERSION = 1
MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_CONFIG_NAME = "audit.yaml"

_ENV_RE = re.compile(r"\$(?:\{([^}]*)\}|\$)")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

T = TypeVar("T")

_TAG = "tag:yaml.org,2002:"


@dataclass
class _Reader:
    """Walks the composed node tree; knows the file name, its folder and the environment."""

    source: str
    base_dir: Path
    env: Mapping[str, str]

    # Errors ------------------------------------------------------------------------------

    def error(self, node: Node | None, key: str, message: str) -> ConfigError:
        line = f"{node.start_mark.line + 1}:" if node is not None else ""
        where = f" {key}:" if key else ""
        return ConfigError(f"{self.source}:{line}{where} {message}")

    # Shapes ------------------------------------------------------------------------------

    def mapping(self, node: Node, key: str, allowed: tuple[str, ...]) -> dict[str, Node]:
        """A mapping whose keys are all in `allowed` (each at most once); values still as nodes."""
        if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
            return {}
        if not isinstance(node, MappingNode):
            raise self.error(node, key, f"expected a mapping with keys {', '.join(allowed)}")
        out: dict[str, Node] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, ScalarNode) or knode.tag != _TAG + "str":
                raise self.error(knode, key, "keys must be plain names")
            name = knode.value
            path = f"{key}.{name}" if key else name
            if name not in allowed:
                hint = difflib.get_close_matches(name, allowed, n=1)
                suggestion = f"did you mean {hint[0]!r}? " if hint else ""
                raise self.error(knode, path, f"unknown key ({suggestion}allowed here: {', '.join(allowed)})")
            if name in out:
                raise self.error(knode, path, "duplicate key")
            out[name] = vnode
        return out

    def sequence(self, node: Node, key: str, what: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
            return []
        if not isinstance(node, SequenceNode):
            raise self.error(node, key, f"expected a list of {what}")
        return list(node.value)

    def scalar(self, node: Node, key: str) -> Any:
        if not isinstance(node, ScalarNode):
            return node  # the caller's type check names what was expected
        constructor = yaml.constructor.SafeConstructor()
        try:
            return constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.error(node, key, f"cannot read value: {getattr(exc, 'problem', exc)}") from None
        except (ValueError, TypeError, OverflowError) as exc:
            # An impossible date (2026-13-10) or number: the YAML library raises plain errors.
            raise self.error(node, key, f"cannot read value {node.value!r}: {exc}") from None

    # Scalars -----------------------------------------------------------------------------

    def string(self, node: Node, key: str, what: str = "a text value", *, allow_empty: bool = False) -> str:
        value = self.scalar(node, key)
        if not isinstance(node, ScalarNode) or node.tag != _TAG + "str" or not isinstance(value, str):
            raise self.error(node, key, f"expected {what}")
        value = self.expand_env(node, key, value)
        if not value.strip() and not allow_empty:
            raise self.error(node, key, f"expected {what}, got an empty value")
        return value

    def expand_env(self, node: Node, key: str, value: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:  # "$$"
                return "$"
            if not _ENV_NAME_RE.match(name):
                raise self.error(node, key, f"${{{name}}} is not a valid environment variable reference")
            if name not in self.env:
                raise self.error(node, key, f"environment variable {name} is not set")
            return self.env[name]

        return _ENV_RE.sub(substitute, value)

    def boolean(self, node: Node, key: str) -> bool:
        value = self.scalar(node, key)
        if not isinstance(value, bool):
            raise self.error(node, key, "expected true or false")
        return value

    def integer(self, node: Node, key: str, low: int, high: int) -> int:
        value = self.scalar(node, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, key, f"expected a whole number between {low} and {high}")
        if not low <= value <= high:
            raise self.error(node, key, f"expected a whole number between {low} and {high}, got {value}")
        return value

    def number(self, node: Node, key: str, low: float, high: float) -> float:
        value = self.scalar(node, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(node, key, f"expected a number of seconds between {low:g} and {high:g}")
        if not low < value <= high:
            raise self.error(node, key, f"expected a number of seconds between {low:g} and {high:g}, got {value}")
        return float(value)

    def choice(self, node: Node, key: str, choices: tuple[str, ...]) -> str:
        value = self.scalar(node, key)
        if not isinstance(node, ScalarNode):
            raise self.error(node, key, f"expected one of {', '.join(choices)}")
        if not isinstance(value, str) or value not in choices:
            shown = value if isinstance(value, str | int | float | bool) else type(value).__name__
            raise self.error(node, key, f"expected one of {', '.join(choices)}, got {shown!r}")
        return value

    def matching(self, node: Node, key: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.string(node, key, what)
        if not pattern.match(value):
            raise self.error(node, key, f"expected {what}, got {value!r}")
        return value

    def path(self, node: Node, key: str, kind: str = "any") -> Path:
        """A path resolved against the configuration file's folder; must exist unless kind == 'new'."""
        text = self.string(node, key, "a path")
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        if kind == "new":
            if path.is_dir():
                raise self.error(node, key, f"{text} is a directory, expected a file path")
            return path
        if not path.exists():
            raise self.error(node, key, f"{text} does not exist (relative paths start at {self.base_dir})")
        if kind == "file" and not path.is_file():
            raise self.error(node, key, f"{text} is not a file")
        if kind == "dir" and not path.is_dir():
            raise self.error(node, key, f"{text} is not a folder")
        return path

    def items(self, node: Node, key: str, what: str, read: Callable[[Node, str], T]) -> tuple[T, ...]:
        return tuple(read(item, f"{key}[{i}]") for i, item in enumerate(self.sequence(node, key, what)))


# The file --------------------------------------------------------------------------------

TOP_KEYS = (
    "version",
    "organisation",
    "frameworks",
    "catalog_dir",
    "database",
    "targets",
    "thresholds",
    "waivers",
    "allow_repository_waivers",
    "strict_suppressions",
    "baseline",
    "source_root",
    "fail_on",
    "allow_errors",
    "offline",
    "max_workers",
    "max_file_bytes",
    "notifications",
    "retention",
    "gdpr",
)
THRESHOLD_KEYS = (
    "access_key_max_age_days",
    "access_key_unused_days",
    "secret_max_age_days",
    "certificate_warning_days",
    "image_max_age_days",
)
NOTIFICATION_KEYS = ("min_severity", "webhook", "email")
WEBHOOK_KEYS = ("url", "format", "timeout_seconds", "headers")
EMAIL_KEYS = (
    "host",
    "port",
    "starttls",
    "tls_verify",
    "ca_file",
    "username",
    "password",
    "from",
    "to",
    "subject_prefix",
    "timeout_seconds",
)
RETENTION_KEYS = ("keep_days",)
GDPR_KEYS = ("transfers",)
TRANSFER_KEYS = ("region", "mechanism", "reference")
SEVERITY_CHOICES = tuple(s.value for s in Severity)


def load_config(path: Path | str, env: Mapping[str, str] | None = None) -> AuditConfig:
    """Read and validate an audit.yaml; raises ConfigError naming file, line and key."""
    path = Path(path)
    source = show_path(path)
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"{source}: no such configuration file (create one with `auditor init`)")
    try:
        text = read_text_bounded(path, MAX_CONFIG_BYTES, "configuration file")
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    return parse_config(text, source, path.resolve().parent, os.environ if env is None else env, path)


def parse_config(
    text: str, source: str, base_dir: Path, env: Mapping[str, str], config_file: Path | None = None
) -> AuditConfig:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        if context and not context.startswith("while "):
            problem = f"{context}, {problem}"
        raise ConfigError(f"{source}:{line} not valid YAML: {problem}") from None
    if root is None:
        raise ConfigError(f"{source}: the file is empty (create a starter file with `auditor init`)")
    r = _Reader(source, base_dir, env)
    if not isinstance(root, MappingNode):
        raise r.error(root, "", "expected a mapping of settings at the top level")
    top = r.mapping(root, "", TOP_KEYS)
    base = AuditConfig()

    if "version" in top:
        version = r.integer(top["version"], "version", 1, 10**6)
        if version != CONFIG_VERSION:
            raise r.error(top["version"], "version", f"this auditor reads configuration version {CONFIG_VERSION}")
    organisation = (
        r.string(top["organisation"], "organisation", "an organisation name")
        if "organisation" in top
        else base.organisation
    )
    catalog_dir = r.path(top["catalog_dir"], "catalog_dir", "dir") if "catalog_dir" in top else None
    frameworks = base.frameworks
    if "frameworks" in top or catalog_dir is not None:
        from auditor.frameworks import Registry

        try:
            installed = tuple(Registry(catalog_dir).ids())
        except ConfigError as exc:
            raise r.error(top.get("catalog_dir", top.get("frameworks")), "catalog_dir", str(exc)) from None
    if "frameworks" in top:
        frameworks = r.items(top["frameworks"], "frameworks", "frameworks", lambda n, k: r.choice(n, k, installed))
        if not frameworks:
            raise r.error(top["frameworks"], "frameworks", f"needs at least one of {', '.join(installed)}")
        if len(set(frameworks)) != len(frameworks):
            raise r.error(top["frameworks"], "frameworks", "lists a framework twice")

    targets = _read_targets(r, top["targets"]) if "targets" in top else base.targets

    thresholds = base.thresholds
    if "thresholds" in top:
        tnodes = r.mapping(top["thresholds"], "thresholds", THRESHOLD_KEYS)
        thresholds = Thresholds(
            **{name: r.integer(node, f"thresholds.{name}", 1, 36500) for name, node in tnodes.items()}
        )

    fail_on = base.fail_on
    if "fail_on" in top:
        fail_on = parse_fail_on(r.choice(top["fail_on"], "fail_on", FAIL_ON_CHOICES))
    retention_days = base.retention_days
    if "retention" in top:
        rnodes = r.mapping(top["retention"], "retention", RETENTION_KEYS)
        if "keep_days" in rnodes:
            retention_days = r.integer(rnodes["keep_days"], "retention.keep_days", 1, 36500)

    return AuditConfig(
        organisation=organisation,
        frameworks=tuple(frameworks),
        catalog_dir=catalog_dir,
        db_path=r.path(top["database"], "database", "new") if "database" in top else base.db_path,
        targets=targets,
        thresholds=thresholds,
        fail_on=fail_on,
        allow_errors=r.boolean(top["allow_errors"], "allow_errors") if "allow_errors" in top else base.allow_errors,
        offline=r.boolean(top["offline"], "offline") if "offline" in top else base.offline,
        waivers_file=r.path(top["waivers"], "waivers", "file") if "waivers" in top else None,
        strict_suppressions=(
            r.boolean(top["strict_suppressions"], "strict_suppressions")
            if "strict_suppressions" in top
            else base.strict_suppressions
        ),
        allow_repository_waivers=(
            r.boolean(top["allow_repository_waivers"], "allow_repository_waivers")
            if "allow_repository_waivers" in top
            else base.allow_repository_waivers
        ),
        baseline_file=r.path(top["baseline"], "baseline", "file") if "baseline" in top else None,
        source_root=r.path(top["source_root"], "source_root", "dir") if "source_root" in top else None,
        max_workers=r.integer(top["max_workers"], "max_workers", 1, 64) if "max_workers" in top else base.max_workers,
        max_file_bytes=(
            r.integer(top["max_file_bytes"], "max_file_bytes", 1, 2**40)
            if "max_file_bytes" in top
            else base.max_file_bytes
        ),
        notifications=_read_notifications(r, top["notifications"]) if "notifications" in top else Notifications(),
        retention_days=retention_days,
        config_file=config_file,
        gdpr=_read_gdpr(r, top["gdpr"]) if "gdpr" in top else GdprSettings(),
    )


def _read_gdpr(r: _Reader, node: Node) -> GdprSettings:
    """`gdpr: {transfers: [{region, mechanism, reference}]}`: one declared transfer basis per region."""
    from auditor.aws_names import REGION_RE

    m = r.mapping(node, "gdpr", GDPR_KEYS)
    transfers: list[TransferMechanism] = []
    seen: set[str] = set()
    if "transfers" in m:
        for i, item in enumerate(
            r.sequence(m["transfers"], "gdpr.transfers", "transfers ({region, mechanism, reference})")
        ):
            k = f"gdpr.transfers[{i}]"
            t = r.mapping(item, k, TRANSFER_KEYS)
            for required in TRANSFER_KEYS:
                if required not in t:
                    raise r.error(item, f"{k}.{required}", _TRANSFER_HINTS[required])
            region = r.matching(t["region"], f"{k}.region", REGION_RE, "a region name such as us-east-1")
            if region in seen:
                raise r.error(t["region"], f"{k}.region", f"{region} is declared twice (one mechanism per region)")
            seen.add(region)
            mechanism = r.choice(t["mechanism"], f"{k}.mechanism", tuple(TRANSFER_MECHANISMS))
            if mechanism == "dpf" and not region.startswith("us-"):
                raise r.error(
                    t["mechanism"],
                    f"{k}.mechanism",
                    f"dpf (the EU-US Data Privacy Framework) covers transfers to the United States only, "
                    f"and {region} is not a US region",
                )
            reference = r.string(t["reference"], f"{k}.reference", "the instrument relied on (contract, decision)")
            transfers.append(TransferMechanism(region=region, mechanism=mechanism, reference=reference.strip()))
    return GdprSettings(transfers=tuple(transfers))


_TRANSFER_HINTS = {
    "region": "missing (the region the personal data is transferred to, for example us-east-1)",
    "mechanism": f"missing (one of {', '.join(TRANSFER_MECHANISMS)})",
    "reference": "missing (the contract, decision or register entry the transfer relies on)",
}


def _read_targets(r: _Reader, node: Node) -> Targets:
    """`targets:`: one section per provider, `targets.<name>` (or one of its `config_aliases`),
    read with the settings the provider declares. Only the providers named here are imported;
    one that cannot be imported is kept (with no settings) so that the scan reports it as ERROR."""
    from auditor.providers import registry

    reg = registry()
    names = reg.names()
    if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
        return Targets()
    if not isinstance(node, MappingNode):
        raise r.error(node, "targets", f"expected a mapping of providers ({', '.join(names)})")
    aliases: dict[str, str] | None = None
    out: dict[str, ProviderSettings] = {}
    given_as: dict[str, str] = {}
    for knode, vnode in node.value:
        key = knode.value if isinstance(knode, ScalarNode) and knode.tag == _TAG + "str" else None
        if key is None:
            raise r.error(knode, "targets", "keys must be plain names")
        name = key if key in names else None
        if name is None:
            if aliases is None:
                # Another name for a provider (`images`): only now import them all to find it.
                loaded, _ = reg.load_all()
                aliases = {a: cls.name for cls in loaded.values() for a in cls.config_aliases}
            name = aliases.get(key)
        if name is None:
            allowed = sorted({*names, *(aliases or {})})
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f"did you mean {hint[0]!r}? " if hint else ""
            raise r.error(
                knode,
                f"targets.{key}",
                f"unknown provider ({suggestion}installed: {', '.join(names)}; `auditor providers` lists them)",
            )
        if name in given_as:
            other = given_as[name]
            why = "duplicate key" if other == key else f"{key} and {other} both configure the {name} provider"
            raise r.error(knode, f"targets.{key}", why)
        given_as[name] = key
        try:
            cls = reg.load(name)
        except Exception:  # noqa: BLE001 - reported by the scan as one ERROR naming the provider
            out[name] = ProviderSettings()
            continue
        out[name] = _read_provider(r, vnode, f"targets.{key}", cls.declared_settings(), cls.shorthand)
    return Targets(out)


def _read_provider(
    r: _Reader, node: Node, key: str, schema: tuple[Setting, ...], shorthand: str | None
) -> ProviderSettings:
    by_key = {s.key: s for s in schema}
    if isinstance(node, MappingNode) or shorthand is None:
        if (
            shorthand is None
            and len(schema) == 1
            and schema[0].kind == "flag"
            and isinstance(node, ScalarNode)
            and node.tag == _TAG + "bool"
        ):
            return ProviderSettings({schema[0].key: r.boolean(node, key)}, schema)  # `targets.<name>: true`
        m = r.mapping(node, key, tuple(by_key))
        values = {s.key: s.file_default for s in schema if s.file_default is not None}
        for name, vnode in m.items():
            values[name] = _read_setting(r, vnode, f"{key}.{name}", by_key[name])
        return ProviderSettings(values, schema)
    return ProviderSettings({shorthand: _read_setting(r, node, key, by_key[shorthand])}, schema)


def _read_setting(r: _Reader, node: Node, key: str, s: Setting) -> Any:
    pattern = re.compile(s.pattern) if s.pattern else None
    what = s.what or {"text": "a text value", "texts": "a text value"}.get(s.kind, "a value")

    def text(n: Node, k: str) -> str:
        return r.matching(n, k, pattern, what) if pattern is not None else r.string(n, k, what)

    if s.kind == "flag":
        return r.boolean(node, key)
    if s.kind == "text":
        return text(node, key)
    if s.kind == "texts":
        return r.items(node, key, f"values, each {what}", text)
    if s.kind == "path":
        return r.path(node, key, s.path_kind)
    if s.kind == "paths":
        return r.items(node, key, "paths", lambda n, k: r.path(n, k, s.path_kind))
    raise r.error(node, key, f"the provider declares an unknown setting kind {s.kind!r}")


def _read_notifications(r: _Reader, node: Node) -> Notifications:
    k = "notifications"
    m = r.mapping(node, k, NOTIFICATION_KEYS)
    min_severity = (
        Severity(r.choice(m["min_severity"], f"{k}.min_severity", SEVERITY_CHOICES))
        if "min_severity" in m
        else Severity.HIGH
    )
    webhook = _read_webhook(r, m["webhook"]) if "webhook" in m else None
    email = _read_email(r, m["email"]) if "email" in m else None
    return Notifications(min_severity=min_severity, webhook=webhook, email=email)


def _read_webhook(r: _Reader, node: Node) -> WebhookTarget:
    k = "notifications.webhook"
    m = r.mapping(node, k, WEBHOOK_KEYS)
    if "url" not in m:
        raise r.error(node, f"{k}.url", "missing (the URL to POST to, usually ${VARIABLE} from the environment)")
    url = r.string(m["url"], f"{k}.url", "an http(s) URL")
    if not re.match(r"^https?://[^/\s]+", url):
        # Never echo the value: it may be a secret that came from the environment.
        raise r.error(m["url"], f"{k}.url", "expected an http:// or https:// URL")
    headers: list[tuple[str, str]] = []
    if "headers" in m:
        hnode = m["headers"]
        if not isinstance(hnode, MappingNode):
            raise r.error(hnode, f"{k}.headers", "expected a mapping of header names to values")
        for knode, vnode in hnode.value:
            name = knode.value if isinstance(knode, ScalarNode) else ""
            if not _HEADER_NAME_RE.match(name):
                raise r.error(knode, f"{k}.headers", f"not an HTTP header name: {name!r}")
            value = r.string(vnode, f"{k}.headers.{name}", "a header value")
            if "\n" in value or "\r" in value:
                raise r.error(vnode, f"{k}.headers.{name}", "header values cannot span lines")
            headers.append((name, value))
    return WebhookTarget(
        url=url,
        format=r.choice(m["format"], f"{k}.format", WEBHOOK_FORMATS) if "format" in m else "json",
        timeout_seconds=r.number(m["timeout_seconds"], f"{k}.timeout_seconds", 0, 300)
        if "timeout_seconds" in m
        else 10.0,
        headers=tuple(headers),
    )


def _read_email(r: _Reader, node: Node) -> EmailTarget:
    k = "notifications.email"
    m = r.mapping(node, k, EMAIL_KEYS)
    for required in ("host", "from", "to"):
        if required not in m:
            raise r.error(node, f"{k}.{required}", "missing")

    def email(n: Node, p: str) -> str:
        return r.matching(n, p, _EMAIL_RE, "an e-mail address")

    recipients = r.items(m["to"], f"{k}.to", "e-mail addresses", email)
    if not recipients:
        raise r.error(m["to"], f"{k}.to", "needs at least one e-mail address")
    starttls = r.boolean(m["starttls"], f"{k}.starttls") if "starttls" in m else True
    username = r.string(m["username"], f"{k}.username", "a user name") if "username" in m else None
    password = r.string(m["password"], f"{k}.password", "a password (use ${VARIABLE})") if "password" in m else None
    if (username is None) != (password is None):
        missing = "password" if password is None else "username"
        raise r.error(node, f"{k}.{missing}", "missing (username and password go together)")
    if username is not None and not starttls:
        raise r.error(m["starttls"], f"{k}.starttls", "refusing to send SMTP credentials without STARTTLS")
    return EmailTarget(
        host=r.string(m["host"], f"{k}.host", "a host name"),
        sender=email(m["from"], f"{k}.from"),
        recipients=recipients,
        port=r.integer(m["port"], f"{k}.port", 1, 65535) if "port" in m else 587,
        starttls=starttls,
        username=username,
        password=password,
        timeout_seconds=r.number(m["timeout_seconds"], f"{k}.timeout_seconds", 0, 300)
        if "timeout_seconds" in m
        else 30.0,
        ca_file=r.path(m["ca_file"], f"{k}.ca_file", "file") if "ca_file" in m else None,
        tls_verify=r.boolean(m["tls_verify"], f"{k}.tls_verify") if "tls_verify" in m else True,
        subject_prefix=r.string(m["subject_prefix"], f"{k}.subject_prefix", "a subject prefix", allow_empty=True)
        if "subject_prefix" in m
        else "[auditor]",
    )


def db_path_for(flag: str | None, config: AuditConfig, env: Mapping[str, str] | None = None) -> Path:
    """`--db`, else `$AUDITOR_DB`, else the file's `database`, else ./auditor.db."""
    env = os.environ if env is None else env
    if flag:
        return Path(flag)
    if env.get("AUDITOR_DB"):
        return Path(env["AUDITOR_DB"])
    return config.db_path


def overlay_flags(file_config: AuditConfig, flag_config: AuditConfig, args: argparse.Namespace) -> AuditConfig:
    """The file's settings with every flag that was given on top (a given list flag replaces the list).

    A flag counts as given when it moved its setting away from the built-in default; the two
    flags whose explicit value may equal that default (`--framework`, `--fail-on`) are read from
    `args` (their parser default is None). `--db`/`$AUDITOR_DB` beat the file's `database`.
    """
    default = AuditConfig()
    changes: dict[str, Any] = {}
    for f in fields(AuditConfig):
        if f.name in ("targets", "db_path", "config_file"):
            continue
        value = getattr(flag_config, f.name)
        if value != getattr(default, f.name):
            changes[f.name] = value
    if getattr(args, "framework", None) is not None:
        changes["frameworks"] = flag_config.frameworks
    if getattr(args, "fail_on", None) is not None:
        changes["fail_on"] = flag_config.fail_on
    changes["targets"] = overlay_targets(file_config.targets, flag_config.targets)
    changes["db_path"] = db_path_for(getattr(args, "db", None), file_config)
    return replace(file_config, **changes)


def overlay_targets(file_targets: Targets, flag_targets: Targets) -> Targets:
    """Per provider, every setting given by a flag replaces the file's (a given list replaces
    the list). A selecting flag also switches on a provider the file disabled (`enabled: false`)."""
    out = file_targets
    for name, flags in flag_targets.items():
        base = file_targets.of(name)
        values = {**dict(base), **dict(flags)}
        if flags.given() and "enabled" not in flags and base.explicit("enabled") is False:
            values["enabled"] = True
        out = out.with_(name, ProviderSettings(values, flags.schema or base.schema))
    return out
