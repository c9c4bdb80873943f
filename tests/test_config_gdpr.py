"""audit.yaml `gdpr.transfers`: declared Chapter V transfer mechanisms per region, validated with file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.config import GdprSettings, TransferMechanism
from auditor.config_file import load_config
from auditor.errors import ConfigError

VALID = """\
gdpr:
  transfers:
    - region: us-east-1
      mechanism: dpf
      reference: AWS DPF certification
    - region: ap-southeast-2
      mechanism: scc
      reference: "SCC module 2, signed 2025-01-10"
    - region: eu-central-2
      mechanism: adequacy
      reference: Commission Decision 2000/518/EC (Switzerland)
"""


def test_transfers_are_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(VALID)
    gdpr = load_config(path, env={}).gdpr
    assert gdpr == GdprSettings(
        transfers=(
            TransferMechanism("us-east-1", "dpf", "AWS DPF certification"),
            TransferMechanism("ap-southeast-2", "scc", "SCC module 2, signed 2025-01-10"),
            TransferMechanism("eu-central-2", "adequacy", "Commission Decision 2000/518/EC (Switzerland)"),
        )
    )
    assert gdpr.transfer_for("ap-southeast-2") == gdpr.transfers[1] and gdpr.transfer_for("eu-west-1") is None
    assert "Data Privacy Framework" in gdpr.transfers[0].label


def test_no_gdpr_section_means_no_transfers(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text("organisation: Acme\n")
    assert load_config(path, env={}).gdpr == GdprSettings()


ENTRY = "gdpr:\n  transfers:\n    - region: us-east-1\n      mechanism: scc\n      reference: DPA\n"
ERRORS = [
    ("gdpr: [us-east-1]\n", "audit.yaml:1: gdpr: expected a mapping with keys transfers"),
    ("gdpr:\n  transfer: []\n",
     "audit.yaml:2: gdpr.transfer: unknown key (did you mean 'transfers'? allowed here: transfers)"),
    ("gdpr:\n  transfers: us-east-1\n",
     "audit.yaml:2: gdpr.transfers: expected a list of transfers ({region, mechanism, reference})"),
    (ENTRY.replace("mechanism: scc", "mechanism: consent"),
     "audit.yaml:4: gdpr.transfers[0].mechanism: expected one of adequacy, dpf, scc, bcr, derogation, got 'consent'"),
    (ENTRY.replace("region: us-east-1", "region: mars-1"),
     "audit.yaml:3: gdpr.transfers[0].region: expected a region name such as us-east-1, got 'mars-1'"),
    (ENTRY.replace("      reference: DPA\n", ""),
     "audit.yaml:3: gdpr.transfers[0].reference: missing (the contract, decision or register entry the transfer "
     "relies on)"),
    (ENTRY.replace("reference: DPA", "reference: ''"),
     "audit.yaml:5: gdpr.transfers[0].reference: expected the instrument relied on (contract, decision), "
     "got an empty value"),
    (ENTRY.replace("      mechanism: scc\n", ""),
     "audit.yaml:3: gdpr.transfers[0].mechanism: missing (one of adequacy, dpf, scc, bcr, derogation)"),
    (ENTRY.replace("reference: DPA", "reference: DPA\n      basis: contract"),
     "audit.yaml:6: gdpr.transfers[0].basis: unknown key (allowed here: region, mechanism, reference)"),
    (ENTRY + "    - region: us-east-1\n      mechanism: bcr\n      reference: BCR\n",
     "audit.yaml:6: gdpr.transfers[1].region: us-east-1 is declared twice (one mechanism per region)"),
    (ENTRY.replace("region: us-east-1", "region: ap-south-1").replace("scc", "dpf"),
     "audit.yaml:4: gdpr.transfers[0].mechanism: dpf (the EU-US Data Privacy Framework) covers transfers to the "
     "United States only, and ap-south-1 is not a US region"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"), ERRORS, ids=[f"{m.split(': ', 2)[1]}-{i}" for i, (_, m) in enumerate(ERRORS)]
)
def test_bad_transfers_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert str(err.value).replace(str(path), "audit.yaml") == message


def test_a_bad_transfer_stops_the_scan_with_exit_2_before_any_database(tmp_path: Path, cli: object) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(ENTRY.replace("scc", "handshake"))
    db = tmp_path / "a.db"
    res = cli("scan", "--config", str(path), "--db", str(db))  # type: ignore[operator]
    assert res.code == 2 and "gdpr.transfers[0].mechanism: expected one of" in res.err
    assert "Traceback" not in res.err and not db.exists()
