"""audit.yaml: every key, every validation error with its line, flags over the file, `auditor init`."""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.cli import parse_args
from auditor.cli.init_cmd import starter_text
from auditor.cli.scan_cmd import config_from_args
from auditor.config import (
    AuditConfig,
    EmailTarget,
    GdprSettings,
    Notifications,
    Thresholds,
    TransferMechanism,
    WebhookTarget,
)
from auditor.config_file import load_config, overlay_flags, parse_config
from auditor.errors import ConfigError
from auditor.models import Severity
from auditor.providers import targets
from auditor.providers.aws.provider import AwsTargets
from auditor.store import Store
from tests.conftest import CliResult, write_inventory

Cli = Callable[..., CliResult]
ROOT = Path(__file__).resolve().parent.parent
ENV = {"AUDITOR_WEBHOOK_URL": "https://hooks.example.com/T0/B0/xyz", "AUDITOR_SMTP_USER": "mailer",
       "AUDITOR_SMTP_PASSWORD": "pa$$word"}  # fmt: skip


def aws_of(config: AuditConfig) -> AwsTargets:
    return AwsTargets.from_settings(config.targets.of("aws"))


def setting(config: AuditConfig, provider: str, key: str) -> object:
    """One provider setting as the config holds it (None/() when not given)."""
    return config.targets.of(provider).get(key, None)


def make_example_tree(folder: Path) -> Path:
    """examples/audit.yaml copied into `folder` with every path it names created."""
    for d in ("infrastructure", "src", "images", "certs"):
        (folder / d).mkdir(parents=True, exist_ok=True)
    for f in ("requirements.txt", "secrets-inventory.yaml", "waivers.yaml", "baseline.json", "certs/smtp-relay-ca.pem"):
        (folder / f).write_text("")
    target = folder / "audit.yaml"
    shutil.copy(ROOT / "examples" / "audit.yaml", target)
    return target


def test_every_key_of_the_complete_example(tmp_path: Path) -> None:
    path = make_example_tree(tmp_path)
    config = load_config(path, env=ENV)
    assert config == AuditConfig(
        organisation="Example Ltd",
        frameworks=("soc2", "gdpr"),
        db_path=Path("/var/lib/auditor/auditor.db"),
        targets=targets(
            aws={
                "enabled": True,
                "profile": "audit",
                "regions": ("eu-west-1", "eu-central-1"),
                "role_arns": (
                    "arn:aws:iam::111111111111:role/auditor-readonly",
                    "arn:aws:iam::222222222222:role/auditor-readonly",
                ),
                "organization_role": "OrganizationAccountAccessRole",
                "allowed_regions": ("eu-west-1", "eu-central-1"),
            },
            iac=(tmp_path / "infrastructure",),
            code=(tmp_path / "src",),
            deps=(tmp_path / "requirements.txt",),
            image=("registry.example.com/shop/api:1.14.2", "images/worker.tar"),
            secrets=tmp_path / "secrets-inventory.yaml",
        ),
        thresholds=Thresholds(
            access_key_max_age_days=90,
            access_key_unused_days=45,
            secret_max_age_days=90,
            certificate_warning_days=30,
            image_max_age_days=60,
        ),
        fail_on=None,
        allow_errors=False,
        offline=False,
        waivers_file=tmp_path / "waivers.yaml",
        baseline_file=tmp_path / "baseline.json",
        max_workers=4,
        notifications=Notifications(
            min_severity=Severity.HIGH,
            webhook=WebhookTarget(
                url="https://hooks.example.com/T0/B0/xyz",
                format="slack",
                timeout_seconds=10.0,
                headers=(("X-Auditor-Source", "scheduled"),),
            ),
            email=EmailTarget(
                host="smtp.example.com",
                sender="auditor@example.com",
                recipients=("security@example.com", "dpo@example.com"),
                port=587,
                starttls=True,
                username="mailer",
                password="pa$$word",
                timeout_seconds=30.0,
                ca_file=tmp_path / "certs" / "smtp-relay-ca.pem",
                tls_verify=True,
                subject_prefix="[auditor]",
            ),
        ),
        retention_days=400,
        config_file=path,
        gdpr=GdprSettings(
            transfers=(
                TransferMechanism(
                    "us-east-1", "dpf", "AWS Data Privacy Framework certification; AWS DPA of 2024-03-01"
                ),
            )
        ),
    )
    # Secrets from the environment never show in the configuration's repr (logs, tracebacks).
    assert "pa$$word" not in repr(config) and "xyz" not in repr(config)


def test_other_values_of_every_key(tmp_path: Path) -> None:
    """The values the example does not use: other enums, booleans, defaults of optional keys."""
    (tmp_path / "inv.yaml").write_text("secrets: []\n")
    text = """\
        organisation: "Ünïcode GmbH"
        frameworks: [gdpr]
        targets:
          aws:
            enabled: false
          images: []
        thresholds:
          secret_max_age_days: 365
        fail_on: medium
        allow_errors: true
        offline: true
        max_workers: 1
        notifications:
          min_severity: critical
          webhook:
            url: http://127.0.0.1:8080/hook
          email:
            host: mail.internal
            port: 25
            starttls: false
            from: a@b.example
            to: [c@d.example]
            tls_verify: false
            subject_prefix: ""
        retention: {}
    """
    config = parse_config(textwrap.dedent(text), "audit.yaml", tmp_path, {})
    assert config.organisation == "Ünïcode GmbH"
    assert config.frameworks == ("gdpr",)
    assert aws_of(config) == AwsTargets(enabled=False)
    assert setting(config, "image", "refs") == ()
    assert config.thresholds == Thresholds(secret_max_age_days=365)
    assert (config.fail_on, config.allow_errors, config.offline, config.max_workers) == (Severity.MEDIUM, True, True, 1)
    assert config.notifications == Notifications(
        min_severity=Severity.CRITICAL,
        webhook=WebhookTarget(url="http://127.0.0.1:8080/hook"),
        email=EmailTarget(
            host="mail.internal",
            sender="a@b.example",
            recipients=("c@d.example",),
            port=25,
            starttls=False,
            tls_verify=False,
            subject_prefix="",
        ),
    )
    assert config.retention_days is None
    assert config.db_path == Path("auditor.db") and setting(config, "secrets", "inventory") is None
    # An aws section without `enabled` means: scan AWS.
    assert aws_of(parse_config("targets:\n  aws: {regions: [eu-west-1]}\n", "a.yaml", tmp_path, {})).enabled is True


def test_paths_resolve_against_the_config_folder_and_env_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf_dir = tmp_path / "etc" / "auditor"
    write_inventory(conf_dir / "estate", "secrets: []\n")
    (conf_dir / "audit.yaml").write_text(
        "organisation: Cost $$5 ${ORG_SUFFIX}\n"
        "database: ../../var/${DB_NAME}\n"
        "targets:\n  secrets_inventory: estate/inventory.yaml\n  code: [~/src]\n"
    )
    (tmp_path / "home" / "src").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # not the config folder
    config = load_config("etc/auditor/audit.yaml", env={"ORG_SUFFIX": "Ltd", "DB_NAME": "a.db"})
    assert config.organisation == "Cost $5 Ltd"
    assert config.db_path == conf_dir / "../../var/a.db"
    assert setting(config, "secrets", "inventory") == conf_dir / "estate" / "inventory.yaml"
    assert setting(config, "code", "paths") == (tmp_path / "home" / "src",)


# Every validation error names the file, its line and the key path. ---------------------------------

ERRORS = [
    # unknown and duplicate keys
    ("organisation: A\nthresold: {}\n", "audit.yaml:2: thresold: unknown key (did you mean 'thresholds'? allowed here: "
     "version, organisation, frameworks, catalog_dir, database, targets, thresholds, waivers, "
     "allow_repository_waivers, strict_suppressions, baseline, source_root, fail_on, allow_errors, offline, "
     "max_workers, max_file_bytes, notifications, retention, gdpr)"),
    ("targets:\n  aws:\n    regoins: [eu-west-1]\n", "audit.yaml:3: targets.aws.regoins: unknown key (did you mean "
     "'regions'? allowed here: enabled, profile, regions, role_arns, organization_role, allowed_regions)"),
    ("targets:\n  kubernetes: [x]\n", "audit.yaml:2: targets.kubernetes: unknown provider (installed: aws, code, "
     "deps, iac, image, secrets; `auditor providers` lists them)"),
    ("fail_on: high\nallow_errors: true\nfail_on: low\n", "audit.yaml:3: fail_on: duplicate key"),
    ("1: x\n", "audit.yaml:1: keys must be plain names"),
    # wrong types
    ("targets:\n  aws:\n    regions: eu-west-1\n",
     "audit.yaml:3: targets.aws.regions: expected a list of values, each a region name such as eu-west-1"),
    ("frameworks: soc2\n", "audit.yaml:1: frameworks: expected a list of frameworks"),
    ("organisation: [a, b]\n", "audit.yaml:1: organisation: expected an organisation name"),
    ("organisation: 42\n", "audit.yaml:1: organisation: expected an organisation name"),
    ("organisation: ''\n", "audit.yaml:1: organisation: expected an organisation name, got an empty value"),
    ("allow_errors: sometimes\n", "audit.yaml:1: allow_errors: expected true or false"),
    ("offline: 1\n", "audit.yaml:1: offline: expected true or false"),
    ("thresholds:\n  access_key_max_age_days: ninety\n",
     "audit.yaml:2: thresholds.access_key_max_age_days: expected a whole number between 1 and 36500"),
    ("thresholds:\n  image_max_age_days: 0\n",
     "audit.yaml:2: thresholds.image_max_age_days: expected a whole number between 1 and 36500, got 0"),
    ("thresholds:\n  secret_max_age_days: 12.5\n",
     "audit.yaml:2: thresholds.secret_max_age_days: expected a whole number between 1 and 36500"),
    ("thresholds: 30\n", "audit.yaml:1: thresholds: expected a mapping with keys access_key_max_age_days, "
     "access_key_unused_days, secret_max_age_days, certificate_warning_days, image_max_age_days"),
    ("max_workers: 0\n", "audit.yaml:1: max_workers: expected a whole number between 1 and 64, got 0"),
    ("retention:\n  keep_days: -1\n", "audit.yaml:2: retention.keep_days: expected a whole number between 1 and 36500, "
     "got -1"),
    ("targets:\n  images: [app:1, {name: x}]\n", "audit.yaml:2: targets.images[1]: expected an image"),
    ("notifications:\n  webhook:\n    url: http://x\n    timeout_seconds: soon\n",
     "audit.yaml:4: notifications.webhook.timeout_seconds: expected a number of seconds between 0 and 300"),
    ("notifications:\n  webhook:\n    url: http://x\n    timeout_seconds: 0\n",
     "audit.yaml:4: notifications.webhook.timeout_seconds: expected a number of seconds between 0 and 300, got 0"),
    ("notifications:\n  email:\n    host: h\n    from: a@b\n    to: [c@d]\n    port: 70000\n",
     "audit.yaml:6: notifications.email.port: expected a whole number between 1 and 65535, got 70000"),
    # bad enum values
    ("frameworks: [soc2, gpdr]\n",
     "audit.yaml:1: frameworks[1]: expected one of cis-aws, gdpr, iso27001, soc2, got 'gpdr'"),
    ("frameworks: []\n", "audit.yaml:1: frameworks: needs at least one of cis-aws, gdpr, iso27001, soc2"),
    ("frameworks: [soc2, soc2]\n", "audit.yaml:1: frameworks: lists a framework twice"),
    ("fail_on: severe\n", "audit.yaml:1: fail_on: expected one of critical, high, medium, low, none, got 'severe'"),
    ("notifications:\n  min_severity: urgent\n",
     "audit.yaml:2: notifications.min_severity: expected one of critical, high, medium, low, info, got 'urgent'"),
    ("notifications:\n  webhook:\n    url: http://x\n    format: teams\n",
     "audit.yaml:4: notifications.webhook.format: expected one of json, slack, got 'teams'"),
    ("version: 2\n", "audit.yaml:1: version: this auditor reads configuration version 1"),
    # AWS names
    ("targets:\n  aws:\n    regions:\n      - eu-west-1\n      - Europe\n",
     "audit.yaml:5: targets.aws.regions[1]: expected a region name such as eu-west-1, got 'Europe'"),
    ("targets:\n  aws:\n    allowed_regions: [mars-1]\n",
     "audit.yaml:3: targets.aws.allowed_regions[0]: expected a region name such as eu-west-1, got 'mars-1'"),
    ("targets:\n  aws:\n    role_arns: [arn:aws:iam::12:role/x]\n",
     "audit.yaml:3: targets.aws.role_arns[0]: expected an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), "
     "got 'arn:aws:iam::12:role/x'"),
    ("targets:\n  aws:\n    organization_role: 'bad role!'\n",
     "audit.yaml:3: targets.aws.organization_role: expected an IAM role name, got 'bad role!'"),
    # bad paths
    ("targets:\n  iac: [infra, missing-dir]\n", "audit.yaml:2: targets.iac[1]: missing-dir does not exist (relative "
     "paths start at {base})"),
    ("targets:\n  secrets_inventory: infra\n", "audit.yaml:2: targets.secrets_inventory: infra is not a file"),
    ("waivers: nowhere.yaml\n", "audit.yaml:1: waivers: nowhere.yaml does not exist (relative paths start at {base})"),
    ("baseline: infra\n", "audit.yaml:1: baseline: infra is not a file"),
    ("database: infra\n", "audit.yaml:1: database: infra is a directory, expected a file path"),
    ("targets:\n  deps: requirements.txt\n", "audit.yaml:2: targets.deps: expected a list of paths"),
    # environment references
    ("notifications:\n  webhook:\n    url: ${NOT_SET_ANYWHERE}\n",
     "audit.yaml:3: notifications.webhook.url: environment variable NOT_SET_ANYWHERE is not set"),
    ("organisation: ${1BAD}\n", "audit.yaml:1: organisation: ${1BAD} is not a valid environment variable reference"),
    # notification settings that cannot work
    ("notifications:\n  webhook:\n    format: slack\n",
     "audit.yaml:3: notifications.webhook.url: missing (the URL to POST to, usually ${VARIABLE} from the environment)"),
    ("notifications:\n  webhook:\n    url: ftp://${SECRET_URL}\n",
     "audit.yaml:3: notifications.webhook.url: expected an http:// or https:// URL"),
    ("notifications:\n  webhook:\n    url: https://x\n    headers:\n      'Bad Header': v\n",
     "audit.yaml:5: notifications.webhook.headers: not an HTTP header name: 'Bad Header'"),
    ("notifications:\n  email:\n    from: a@b\n    to: [c@d]\n", "audit.yaml:3: notifications.email.host: missing"),
    ("notifications:\n  email:\n    host: h\n    from: a@b\n    to: []\n",
     "audit.yaml:5: notifications.email.to: needs at least one e-mail address"),
    ("notifications:\n  email:\n    host: h\n    from: not-an-address\n    to: [c@d]\n",
     "audit.yaml:4: notifications.email.from: expected an e-mail address, got 'not-an-address'"),
    ("notifications:\n  email:\n    host: h\n    from: a@b\n    to: [c@d]\n    username: u\n",
     "audit.yaml:3: notifications.email.password: missing (username and password go together)"),
    ("notifications:\n  email:\n    host: h\n    from: a@b\n    to: [c@d]\n    username: u\n    password: p\n"
     "    starttls: false\n",
     "audit.yaml:8: notifications.email.starttls: refusing to send SMTP credentials without STARTTLS"),
    ("notifications:\n  email:\n    host: h\n    from: a@b\n    to: [c@d]\n    ca_file: none.pem\n",
     "audit.yaml:6: notifications.email.ca_file: none.pem does not exist (relative paths start at {base})"),
    # the document itself
    ("- a\n- b\n", "audit.yaml:1: expected a mapping of settings at the top level"),
    ("", "audit.yaml: the file is empty (create a starter file with `auditor init`)"),
    ("organisation: A\n  frameworks: [soc2]\n", "audit.yaml:2: not valid YAML: mapping values are not allowed here"),
    ("targets:\n  iac: [infra\n", "audit.yaml:3: not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("a: &x [1]\n---\nb: 2\n",
     "audit.yaml:2: not valid YAML: expected a single document in the stream, but found another document"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[m.split(": ")[1][:40] for _, m in ERRORS])
def test_validation_errors_name_key_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "audit.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "audit.yaml", env={"SECRET_URL": "hooks.example.com/secret-path"})
    shown = str(err.value).replace(str(tmp_path / "audit.yaml"), "audit.yaml")
    assert shown == message.replace("{base}", str(tmp_path))
    assert "secret-path" not in shown


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^/.*/none\.yaml: no such configuration file \(create one with `auditor init`\)$"
    ):
        load_config(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(tmp_path / "bin.yaml")


# Flags override the file --------------------------------------------------------------------------------


def overlay(file_text: str, folder: Path, *argv: str) -> AuditConfig:
    (folder / "audit.yaml").write_text(file_text)
    args = parse_args(["scan", "--config", str(folder / "audit.yaml"), *argv])
    return overlay_flags(load_config(folder / "audit.yaml"), config_from_args(args), args)


def test_flags_override_the_file_and_lists_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_DB", raising=False)
    for d in ("infra", "infra2", "src"):
        (tmp_path / d).mkdir()
    text = textwrap.dedent("""\
        organisation: File Org
        frameworks: [soc2]
        database: file.db
        targets:
          aws:
            profile: audit
            regions: [eu-west-1, eu-central-1]
            allowed_regions: [eu-west-1]
          iac: [infra]
          code: [src]
          images: [app:1]
        fail_on: high
        allow_errors: true
        thresholds:
          secret_max_age_days: 30
    """)
    # No flags: the file as written.
    plain = overlay(text, tmp_path)
    assert plain == load_config(tmp_path / "audit.yaml")
    assert plain.db_path == tmp_path / "file.db"

    config = overlay(
        text,
        tmp_path,
        "--aws-region", "us-east-1",
        "--iac", "elsewhere",
        "--iac", "other",
        "--framework", "soc2,gdpr",
        "--fail-on", "none",
        "--organisation", "Flag Org",
        "--db", "flag.db",
        "--offline",
    )  # fmt: skip
    assert aws_of(config) == AwsTargets(
        enabled=True, profile="audit", regions=("us-east-1",), allowed_regions=("eu-west-1",)
    )
    assert setting(config, "iac", "paths") == (
        Path("elsewhere"),
        Path("other"),
    )  # replaced, relative to the working directory
    assert setting(config, "code", "paths") == (tmp_path / "src",)  # kept from the file
    assert setting(config, "image", "refs") == ("app:1",)
    assert config.frameworks == ("soc2", "gdpr")  # explicit, even though it equals the default
    assert config.fail_on is None  # explicit `none` beats the file's high
    assert config.organisation == "Flag Org"
    assert config.db_path == Path("flag.db")
    assert (config.offline, config.allow_errors) == (True, True)  # flag given; file value kept
    assert config.thresholds == Thresholds(secret_max_age_days=30)

    # $AUDITOR_DB beats the file's database; the file's beats ./auditor.db.
    monkeypatch.setenv("AUDITOR_DB", str(tmp_path / "env.db"))
    assert overlay(text, tmp_path).db_path == tmp_path / "env.db"


def inventory_with_old_secret(folder: Path) -> Path:
    # 160 days old at NOW: FAIL medium with the default 90-day maximum.
    return write_inventory(folder, "secrets:\n  - name: db-password\n    last_rotated: 2026-06-21\n")


def test_scan_with_config_through_the_cli(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_DB", raising=False)
    inventory_with_old_secret(tmp_path / "estate")
    other = write_inventory(tmp_path / "other", "secrets:\n  - name: new-key\n    last_rotated: 2026-11-20\n")
    config = tmp_path / "audit.yaml"
    config.write_text(
        "organisation: Acme Ltd\nframeworks: [soc2]\ndatabase: history.db\n"
        "targets:\n  secrets_inventory: estate/inventory.yaml\nfail_on: medium\n"
    )
    res = cli("scan", "--config", str(config), "--format", "json")
    assert res.code == 1, res.err  # the file's gate
    doc = res.json()
    assert isinstance(doc, dict)
    assert doc["run"]["targets"] == [f"secrets-inventory:{tmp_path / 'estate' / 'inventory.yaml'}"]
    assert {c["framework"] for c in doc["controls"]} == {"soc2"}
    store = Store.open(tmp_path / "history.db", create=False)
    try:
        assert store.run_context(doc["run"]["id"])["organisation"] == "Acme Ltd"
    finally:
        store.close()

    # Flags on top: another inventory, another gate, another framework, another database.
    res = cli(
        "scan", "--config", str(config), "--format", "json", "--secrets-inventory", str(other),
        "--fail-on", "none", "--framework", "gdpr", "--db", str(tmp_path / "flags.db"),
    )  # fmt: skip
    assert res.code == 0, res.err
    doc = res.json()
    assert isinstance(doc, dict)
    assert doc["run"]["targets"] == [f"secrets-inventory:{other}"]
    assert {c["framework"] for c in doc["controls"]} == {"gdpr"}
    assert (tmp_path / "flags.db").exists()

    # The file's thresholds reach the providers: with a 365-day maximum the old secret passes.
    config.write_text(config.read_text() + "thresholds:\n  secret_max_age_days: 365\n")
    res = cli("scan", "--config", str(config), "--format", "json")
    assert res.code == 0
    assert res.json()["summary"]["by_status"]["FAIL"] == 0  # type: ignore[index]


def test_config_errors_exit_2_with_one_line(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text("organisation: A\ntargets:\n  aws:\n    regions: eu-west-1\n")
    res = cli("scan", "--config", str(config))
    assert res.code == 2
    expected = "targets.aws.regions: expected a list of values, each a region name such as eu-west-1"
    assert res.err == f"auditor: error: {config}:4: {expected}\n"
    res = cli("scan", "--config", str(tmp_path / "missing.yaml"))
    assert res.code == 2
    assert "no such configuration file" in res.err and "Traceback" not in res.err


def test_allow_errors_from_the_file(cli: Cli, tmp_path: Path, golden_inventory: Path) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text(f"targets:\n  secrets_inventory: {golden_inventory}\n")
    assert cli("scan", "--config", str(config), "--format", "json").code == 3  # unreadable certificates
    config.write_text(config.read_text() + "allow_errors: true\n")
    assert cli("scan", "--config", str(config), "--format", "json").code == 0
    assert cli("scan", "--config", str(config), "--format", "json", "--fail-on", "critical").code == 1


# auditor init ---------------------------------------------------------------------------------------------


def test_init_writes_a_valid_commented_starter(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli("init", "--organisation", 'Acme "Labs": EU')
    assert res.code == 0
    assert res.out == "wrote audit.yaml: name your targets in it, then run `auditor scan --config audit.yaml`\n"
    text = (tmp_path / "audit.yaml").read_text()
    assert text.startswith("# audit.yaml: what `auditor scan --config audit.yaml` scans, and how.\n")
    config = load_config(tmp_path / "audit.yaml", env={})
    assert config == AuditConfig(
        organisation='Acme "Labs": EU', retention_days=400, config_file=tmp_path / "audit.yaml"
    )
    # A starter with no target yet: scanning says what to do.
    res = cli("scan", "--config", "audit.yaml")
    assert res.code == 2 and "nothing to scan" in res.err

    # Never overwrite silently.
    (tmp_path / "audit.yaml").write_text("organisation: Mine\n")
    res = cli("init")
    assert res.code == 2
    assert res.err == "auditor: error: audit.yaml already exists: pass --force to overwrite it\n"
    assert (tmp_path / "audit.yaml").read_text() == "organisation: Mine\n"
    assert cli("init", "--force", "--output", "conf/audit.yaml").code == 0
    assert cli("init", "--force").code == 0
    assert (tmp_path / "audit.yaml").read_text() == starter_text()
    assert (tmp_path / "conf" / "audit.yaml").read_text() == starter_text()
    res = cli("init", "--output", "-")
    assert res.code == 0 and res.out == starter_text()


def test_every_commented_key_of_the_starter_is_valid(tmp_path: Path) -> None:
    """Uncommenting the starter's examples gives a file that only fails on paths that do not exist here."""
    key_line = re.compile(r"^(\s*)# (\s*(?:[a-z_]+:(?:\s|$)|- ).*)$")
    lines = [key_line.sub(r"\1\2", line) for line in starter_text().splitlines()]
    assert sum(1 for a, b in zip(lines, starter_text().splitlines(), strict=True) if a != b) >= 30
    text = "\n".join(lines) + "\n"
    for d in ("infrastructure", "src"):
        (tmp_path / d).mkdir()
    for f in ("requirements.txt", "secrets-inventory.yaml", "waivers.yaml", "baseline.json"):
        (tmp_path / f).write_text("")
    config = parse_config(text, "audit.yaml", tmp_path, {**ENV})
    assert aws_of(config).organization_role == "OrganizationAccountAccessRole"
    assert config.notifications.email is not None and config.notifications.email.password == "pa$$word"
    assert setting(config, "iac", "paths") == (tmp_path / "infrastructure",)


# The scanner's own image and the scheduling recipes -----------------------------------------------------


def test_kubernetes_recipe_config_is_valid(tmp_path: Path) -> None:
    import yaml

    docs = list(yaml.safe_load_all((ROOT / "examples/scheduling/kubernetes/cronjob.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "CronJob"]
    config = parse_config(docs[1]["data"]["audit.yaml"], "configmap", tmp_path, ENV)
    assert aws_of(config).organization_role == "OrganizationAccountAccessRole"
    assert config.db_path == Path("/data/auditor.db")


def test_dockerfile_shape() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(froms) == 2
    assert all(re.match(r"^FROM python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}( AS builder)?$", f) for f in froms)
    final = text.rsplit(froms[1], 1)[1]
    assert "USER 10001:10001" in final and "HEALTHCHECK" in final and 'ENTRYPOINT ["auditor"]' in final
    assert "--no-install-recommends" in final
    for tool in ("gcc", "build-essential", "make ", "uv pip"):
        assert tool not in final
    assert "COPY --from=builder /opt/auditor /opt/auditor" in final


@pytest.mark.slow
def test_dockerfile_and_recipes_pass_our_own_iac_scan(cli: Cli, tmp_path: Path) -> None:
    shutil.copy(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    shutil.copytree(ROOT / "examples" / "scheduling", tmp_path / "scheduling")
    res = cli("scan", "--iac", str(tmp_path), "--format", "json", "--db", str(tmp_path / "a.db"))
    doc = res.json()
    assert isinstance(doc, dict)
    assert res.code == 0, res.err
    not_passing = {(f["check_id"], f["status"]) for f in doc["findings"] if f["status"] != "PASS"}
    # skipped in the manifest with its reason, but without approved-by/expires: a marked FAIL
    # (docs/providers/iac.md); the gate honours it, every roll-up fails it
    assert not_passing == {("iac.CKV_K8S_35", "FAIL")}
    assert all(
        f["waiver"]["source"] == "inline" and f["waiver"]["approved"] is False
        for f in doc["findings"]
        if f["status"] == "FAIL"
    )
    checked = {f["resource"]["path"] for f in doc["findings"]}
    assert any(p and p.endswith("Dockerfile") for p in checked)
    assert any(p and p.endswith("cronjob.yaml") for p in checked)
