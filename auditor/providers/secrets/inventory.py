"""Read and validate a secrets inventory YAML file (never a secret value).

```yaml
secrets:
  - name: payments-db-password
    owner: platform-team
    system: postgres
    last_rotated: 2026-01-15
    max_age_days: 90            # default: the configured secret_max_age_days (90)
  - name: api-tls
    owner: web-team
    certificate: certs/api.pem  # relative to the inventory file
```
Errors name the file and line and exit 2 before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from auditor.clock import parse_date_value
from auditor.errors import InputError
from auditor.safeio import load_yaml, read_text_bounded, show_path

MAX_INVENTORY_BYTES = 5 * 1024 * 1024
ALLOWED_KEYS = {"name", "owner", "system", "last_rotated", "max_age_days", "certificate", "description"}
# Keys that would hold the secret itself: refused without echoing their value.
FORBIDDEN_KEYS = re.compile(r"(?i)^(value|secret|password|passwd|token|key|private_key|api_key|credential)s?$")


@dataclass(frozen=True)
class InventoryEntry:
    name: str
    owner: str | None
    system: str | None
    last_rotated: date | None
    max_age_days: int
    certificate: Path | None
    line: int


@dataclass(frozen=True)
class Inventory:
    path: Path
    entries: tuple[InventoryEntry, ...]


def load_inventory(path: Path, default_max_age_days: int = 90) -> Inventory:
    where = show_path(path)
    text = read_text_bounded(path, MAX_INVENTORY_BYTES, "secrets inventory")
    data, node = load_yaml(text, where)
    if not isinstance(data, dict) or "secrets" not in data:
        raise InputError(f"{where}: expected a mapping with a 'secrets' list")
    if set(data) - {"secrets"}:
        raise InputError(f"{where}: unknown top-level keys {sorted(set(data) - {'secrets'})}")
    items = data["secrets"]
    if not isinstance(items, list):
        raise InputError(f"{where}: 'secrets' must be a list")
    lines = _item_lines(node)
    entries: list[InventoryEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        line_no = lines[index] if index < len(lines) else 0
        at = f"{where}:{line_no}"
        entry = _parse_entry(raw, at, line_no, path.parent, default_max_age_days)
        if entry.name in seen:
            raise InputError(f"{at}: duplicate secret name {entry.name!r}")
        seen.add(entry.name)
        entries.append(entry)
    return Inventory(path=path, entries=tuple(entries))


def _item_lines(node: Any) -> list[int]:
    """Line numbers (1-based) of the items of the top-level `secrets` list."""
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "secrets" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _parse_entry(raw: Any, at: str, line: int, base: Path, default_max_age_days: int) -> InventoryEntry:
    if not isinstance(raw, dict):
        raise InputError(f"{at}: each secret must be a mapping with at least a 'name'")
    for key in raw:
        if FORBIDDEN_KEYS.match(str(key)):
            raise InputError(f"{at}: key {key!r} would hold a secret value; the inventory records dates, never values")
    unknown = set(map(str, raw)) - ALLOWED_KEYS
    if unknown:
        raise InputError(f"{at}: unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(ALLOWED_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{at}: every secret needs a non-empty 'name'")
    name = name.strip()
    last = raw.get("last_rotated")
    last_rotated = parse_date_value(last, f"{at}: secret {name!r}: last_rotated") if last is not None else None
    max_age = raw.get("max_age_days", default_max_age_days)
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
        raise InputError(f"{at}: secret {name!r}: max_age_days must be a positive whole number of days")
    cert = raw.get("certificate")
    cert_path: Path | None = None
    if cert is not None:
        if not isinstance(cert, str) or not cert.strip():
            raise InputError(f"{at}: secret {name!r}: certificate must be a file path")
        cert_path = (base / cert).resolve() if not Path(cert).is_absolute() else Path(cert)
    for opt in ("owner", "system"):
        if raw.get(opt) is not None and not isinstance(raw.get(opt), str):
            raise InputError(f"{at}: secret {name!r}: {opt} must be text")
    return InventoryEntry(
        name=name,
        owner=raw.get("owner"),
        system=raw.get("system"),
        last_rotated=last_rotated,
        max_age_days=max_age,
        certificate=cert_path,
        line=line,
    )
