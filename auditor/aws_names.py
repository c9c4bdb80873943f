"""Shapes of AWS names that both the config loader (audit.yaml `targets.aws`) and the AWS
provider validate: one definition, and the core never has to import the provider for it."""

from __future__ import annotations

import re

REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
ROLE_NAME_RE = re.compile(r"^[\w+=,.@/-]{1,64}$")
