"""`auditor init`: write a commented starter audit.yaml (valid as written; edit the targets)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from auditor.errors import UsageError

STARTER = """\
# audit.yaml: what `auditor scan --config audit.yaml` scans, and how.
#
# Every key is described in docs/configuration.md. Flags given on the command line
# override this file (a list flag such as --iac replaces the list here).
# Relative paths start at the folder of this file. ${NAME} is replaced by the
# environment variable NAME: keep secrets (SMTP passwords, webhook URLs) out of this file.
version: 1

organisation: __ORGANISATION__
# Frameworks whose controls are evaluated: any installed one (`auditor controls`), e.g.
# [soc2, gdpr, iso27001]. catalog_dir adds a folder of <id>.yaml catalogs (docs/plugins.md).
frameworks: [soc2, gdpr]

# Where the history is kept. Default: $AUDITOR_DB, else ./auditor.db where auditor runs.
# database: auditor.db

targets:
  # AWS: the default credential chain, a named profile, roles to assume, or every
  # member account of an AWS Organization.
  # aws:
  #   enabled: true
  #   profile: audit
  #   regions: [eu-west-1, eu-central-1]      # default: every enabled region
  #   role_arns:
  #     - arn:aws:iam::123456789012:role/auditor-readonly
  #   organization_role: OrganizationAccountAccessRole
  #   allowed_regions: [eu-west-1, eu-central-1]   # GDPR Art. 44: where personal data may live

  # Infrastructure as code (checkov), source code (semgrep), Python dependencies (pip-audit).
  # iac: [infrastructure/]
  # code: [src/]
  # deps: [requirements.txt]

  # Container images: registry references or `docker save` tarballs.
  # images: [registry.example.com/app:1.4.2]

  # Secrets and certificates kept outside AWS, with their rotation dates.
  # secrets_inventory: secrets-inventory.yaml

thresholds:
  access_key_max_age_days: 90
  access_key_unused_days: 45
  secret_max_age_days: 90
  certificate_warning_days: 30
  image_max_age_days: 90

# GDPR Art. 44: data stores outside targets.aws.allowed_regions pass only where a
# transfer mechanism is declared for their region (scc, adequacy, dpf, bcr, derogation).
# gdpr:
#   transfers:
#     - region: us-east-1
#       mechanism: scc
#       reference: "Standard Contractual Clauses in the AWS DPA, signed 2026-01-15"

# Risk acceptance (see `auditor waive`) and a baseline of accepted findings.
# waivers: waivers.yaml
# allow_repository_waivers: false   # .auditor-waivers.yaml inside scanned targets (no wildcards)
# strict_suppressions: false        # inline checkov:skip / nosemgrep without approval also fail the gate
# baseline: baseline.json
# max_file_bytes: 10485760          # larger files in iac/code targets are not scanned: the scan is incomplete
# source_root: .                    # file paths in every output are relative to this folder (default: git top level)

# Exit code gate: none (a scheduled audit that found problems still succeeded),
# or critical|high|medium|low for CI.
fail_on: none
allow_errors: false

# Tell people when something got worse: new or regressed FAIL findings at or
# above min_severity since the previous run of the same targets (and only then).
# notifications:
#   min_severity: high
#   webhook:
#     url: ${AUDITOR_WEBHOOK_URL}
#     format: slack          # or json
#     timeout_seconds: 10
#   email:
#     host: smtp.example.com
#     port: 587
#     starttls: true
#     username: ${AUDITOR_SMTP_USER}
#     password: ${AUDITOR_SMTP_PASSWORD}
#     from: auditor@example.com
#     to: [security@example.com]

retention:
  keep_days: 400    # `auditor prune` keeps 13 months of history by default
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="write a commented starter audit.yaml")
    p.add_argument("--output", default="audit.yaml", metavar="FILE", help="where to write it (default: audit.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--organisation", metavar="NAME", help="organisation name to put in the file")
    p.set_defaults(func=cmd_init)


def starter_text(organisation: str | None = None) -> str:
    name = organisation or "Example Organisation"
    return STARTER.replace("__ORGANISATION__", json.dumps(name, ensure_ascii=False))


def cmd_init(args: argparse.Namespace) -> int:
    text = starter_text(args.organisation)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.output)
    if target.is_dir():
        raise UsageError(f"{target} is a directory: pass a file name with --output")
    if target.exists() and not args.force:
        raise UsageError(f"{target} already exists: pass --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}: name your targets in it, then run `auditor scan --config {target}`")
    return 0
