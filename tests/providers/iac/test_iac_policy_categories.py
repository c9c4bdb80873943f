"""Each custom checkov policy's category, and so its risk and remediation text, comes from
the policy's own metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auditor.errors import ConfigError
from auditor.providers.iac import IacProvider
from auditor.providers.iac.policies import (
    CATEGORY_TEXT,
    CHECKOV_CATEGORIES,
    DEFAULT_CATEGORY_TEXT,
    load_custom_policies,
    shipped_checkov_data,
)

# The golden table: policy id -> (checkov's metadata.category, the text category it reads as).
EXPECTED = {
    "CKV2_AUD_1": ("GENERAL_SECURITY", "data_governance"),  # allowed (EU) regions
    "CKV2_AUD_2": ("GENERAL_SECURITY", "data_governance"),  # data_classification tag
    "CKV2_AUD_3": ("LOGGING", "log_retention"),  # log group retention
    "CKV2_AUD_4": ("GENERAL_SECURITY", "log_retention"),  # personal-data bucket lifecycle
    "CKV2_AUD_5": ("BACKUP_AND_RECOVERY", "backup"),  # database backups
    "CKV2_AUD_6": ("IAM", "least_privilege"),  # wildcard principal in a policy document
    "CKV2_AUD_7": ("IAM", "least_privilege"),  # wildcard principal in a resource policy
}


def _metadata() -> dict[str, dict[str, str]]:
    _, _, folder = shipped_checkov_data()
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        meta = yaml.safe_load(path.read_text())["metadata"]
        out[meta["id"]] = meta
    return out


def test_each_custom_policy_category_is_its_own_metadata() -> None:
    _, custom, _ = shipped_checkov_data()
    meta = _metadata()
    assert set(custom) == set(meta) == set(EXPECTED)
    for cid, info in custom.items():
        expected_checkov, expected_text = EXPECTED[cid]
        assert meta[cid]["category"] == expected_checkov, cid
        assert meta[cid]["category"] in CHECKOV_CATEGORIES, cid
        assert info.category == meta[cid].get("auditor_category", CHECKOV_CATEGORIES[meta[cid]["category"]]), cid
        assert info.category == expected_text, cid


def test_risk_and_remediation_text_follow_the_category() -> None:
    provider = IacProvider()
    texts = {cid: provider.check_for(cid) for cid in EXPECTED}
    for cid, check in texts.items():
        assert (check.risk, check.remediation) == CATEGORY_TEXT[EXPECTED[cid][1]], cid
    # IAM, backup, retention and data-governance policies no longer all read the same.
    assert len({c.risk for c in texts.values()}) == 4
    assert texts["CKV2_AUD_6"].risk != texts["CKV2_AUD_5"].risk != texts["CKV2_AUD_1"].risk
    assert "Wildcard or over-broad permissions" in texts["CKV2_AUD_7"].risk
    assert "cannot be restored" in texts["CKV2_AUD_5"].risk


def _policy(folder: Path, metadata: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "p.yaml"
    path.write_text(
        "metadata:\n  id: CKV2_X_1\n  name: A policy\n"
        + metadata
        + "definition:\n  cond_type: attribute\n  resource_types: [aws_s3_bucket]\n"
        "  attribute: acl\n  operator: exists\n"
    )
    return path


def test_checkov_category_alone_gives_its_text(tmp_path: Path) -> None:
    _policy(tmp_path, "  category: NETWORKING\n")
    assert load_custom_policies(tmp_path)["CKV2_X_1"].category == "public_exposure"
    _policy(tmp_path, "  category: CONVENTION\n")
    category = load_custom_policies(tmp_path)["CKV2_X_1"].category
    assert category == "" and CATEGORY_TEXT.get(category, DEFAULT_CATEGORY_TEXT) == DEFAULT_CATEGORY_TEXT


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("  category: DATA\n", "metadata.category 'DATA' is not a checkov category"),
        ("", "metadata.category None is not a checkov category"),
        ("  category: IAM\n  auditor_category: iam\n", "metadata.auditor_category 'iam' is not one of"),
    ],
)
def test_a_wrong_category_is_one_clear_error(tmp_path: Path, metadata: str, message: str) -> None:
    path = _policy(tmp_path, metadata)
    with pytest.raises(ConfigError) as err:
        load_custom_policies(tmp_path)
    assert str(err.value).startswith(f"{path}: {message}")
