"""Output formats: each renders one ScanResult to a text stream.

Add a format by writing a module with `write(result, stream)` and listing it in
FORMATS. Every format renders every finding, whatever its status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from auditor.outputs import csv_output, json_output, junit, ocsf, sarif, table

if TYPE_CHECKING:
    from auditor.engine import ScanResult

Writer = Callable[["ScanResult", TextIO], None]

FORMATS: dict[str, Writer] = {
    "table": table.write,
    "json": json_output.write,
    "sarif": sarif.write,
    "junit": junit.write,
    "ocsf": ocsf.write,
    "csv": csv_output.write,
}
