"""Meta-tests over the shipped catalogs, and the control roll-up rules."""

from __future__ import annotations

import fnmatch
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.catalog import (
    Control,
    ControlMapper,
    EvidenceRequirement,
    Framework,
    catalog_document,
    frameworks_from_document,
    load_framework,
    manual_states,
    roll_up,
)
from auditor.errors import ConfigError
from auditor.frameworks import installed_ids, load_catalog, registry
from auditor.models import ControlStatus, Finding, Resource, Severity, Status
from auditor.providers import discover_providers

SOC2_IDS = (
    [f"CC1.{i}" for i in range(1, 6)]
    + [f"CC2.{i}" for i in range(1, 4)]
    + [f"CC3.{i}" for i in range(1, 5)]
    + ["CC4.1", "CC4.2"]
    + [f"CC5.{i}" for i in range(1, 4)]
    + [f"CC6.{i}" for i in range(1, 9)]
    + [f"CC7.{i}" for i in range(1, 6)]
    + ["CC8.1", "CC9.1", "CC9.2", "A1.1", "A1.2", "A1.3", "C1.1", "C1.2"]
    + [f"PI1.{i}" for i in range(1, 6)]
    + ["P1.1", "P2.1", "P3.1", "P3.2", "P4.1", "P4.2", "P4.3", "P5.1", "P5.2"]
    + [f"P6.{i}" for i in range(1, 8)]
    + ["P7.1", "P8.1"]
)


# Every framework installed (entry points: the built-ins and any plugin) is validated alike.
INSTALLED = installed_ids()
ISO27001_IDS = (
    [f"A.5.{i}" for i in range(1, 38)]
    + [f"A.6.{i}" for i in range(1, 9)]
    + [f"A.7.{i}" for i in range(1, 15)]
    + [f"A.8.{i}" for i in range(1, 35)]
)


def registered_checks() -> tuple[set[str], list[str]]:
    ids: set[str] = set()
    patterns: list[str] = []
    for cls in discover_providers().values():
        provider = cls()
        ids.update(c.id for c in provider.checks())
        patterns.extend(provider.tool_id_patterns())
    return ids, patterns


def test_soc2_has_all_61_criteria_in_order() -> None:
    soc2 = load_catalog()["soc2"]
    assert len(SOC2_IDS) == 61
    assert [c.id for c in soc2.controls] == SOC2_IDS


def test_the_three_shipped_frameworks_are_installed_through_the_entry_point_group() -> None:
    assert {"soc2", "gdpr", "iso27001"} <= set(INSTALLED)
    for fid in ("soc2", "gdpr", "iso27001"):
        source = registry().sources[fid]
        assert source.entry_point is not None and source.entry_point.value == f"auditor.catalogs:{fid}"


def test_iso27001_has_all_93_annex_a_controls_in_order_with_their_titles() -> None:
    iso = load_catalog()["iso27001"]
    assert len(ISO27001_IDS) == 93
    assert [c.id for c in iso.controls] == ISO27001_IDS
    titles = {c.id: c.title for c in iso.controls}
    assert titles["A.5.1"] == "Policies for information security"
    assert titles["A.5.23"] == "Information security for use of cloud services"
    assert titles["A.8.8"] == "Management of technical vulnerabilities"
    assert titles["A.8.24"] == "Use of cryptography"
    assert titles["A.8.34"] == "Protection of information systems during audit testing"
    assert {c.category for c in iso.controls} == {
        "A.5 Organizational controls", "A.6 People controls", "A.7 Physical controls", "A.8 Technological controls"
    }  # fmt: skip


def test_iso27001_maps_our_checks_where_they_give_evidence() -> None:
    iso = load_catalog()["iso27001"]
    expected = {
        "A.5.15": "aws.iam.user_no_direct_policies",
        "A.5.16": "aws.iam.access_key_unused",
        "A.5.17": "secrets.inventory.rotation_age",
        "A.5.18": "aws.iam.unused_console_password",
        "A.5.23": "aws.securityhub.enabled",
        "A.8.2": "aws.iam.role_admin_privileges",
        "A.8.5": "aws.iam.console_user_mfa",
        "A.8.8": "deps.vulnerable_package",
        "A.8.9": "iac.CKV_AWS_20",
        "A.8.12": "aws.s3.bucket_no_public_acl",
        "A.8.13": "aws.backup.plan_exists",
        "A.8.14": "aws.rds.multi_az",
        "A.8.15": "aws.cloudtrail.trail_logging",
        "A.8.16": "aws.guardduty.detector_enabled",
        "A.8.20": "aws.ec2.sg_ssh_open_to_internet",
        "A.8.24": "aws.s3.bucket_default_encryption",
        "A.8.25": "code.semgrep.scan",
        "A.8.28": "code.python.sql-built-from-strings",
    }
    for cid, check in expected.items():
        c = iso.control(cid)
        assert c is not None and c.matches(check), (cid, check)
        assert c.why_for(check), (cid, check)
    assert iso.control("A.8.8").matches("image.packages.vulnerable")  # type: ignore[union-attr]
    assert iso.control("A.8.24").matches("secrets.certificate.expiry")  # type: ignore[union-attr]
    # Organisational and physical controls are manual: no scan evidences a screening or a perimeter.
    assert not any(c.automated for c in iso.controls if c.id.startswith(("A.6.", "A.7.")))
    assert sum(c.automated for c in iso.controls) >= 35


CIS_AWS_V3_IDS = (
    [f"1.{i}" for i in range(1, 23)]
    + ["2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.2.1", "2.3.1", "2.3.2", "2.3.3", "2.4.1"]
    + [f"3.{i}" for i in range(1, 10)]
    + [f"4.{i}" for i in range(1, 17)]
    + [f"5.{i}" for i in range(1, 7)]
)


def test_cis_aws_v3_is_installed_through_the_entry_point_group() -> None:
    assert "cis-aws" in INSTALLED
    source = registry().sources["cis-aws"]
    assert source.entry_point is not None and source.entry_point.value == "auditor.catalogs:cis_aws_v3"
    assert source.catalog_path().name == "cis_aws_v3.yaml"
    fw = load_catalog()["cis-aws"]
    assert fw.name == "CIS Amazon Web Services Foundations Benchmark v3.0.0" and fw.version == "3.0.0"


def test_cis_aws_v3_has_every_recommendation_in_order_with_its_level() -> None:
    cis = load_catalog()["cis-aws"]
    assert len(CIS_AWS_V3_IDS) == 62
    assert [c.id for c in cis.controls] == CIS_AWS_V3_IDS
    sections = {"1": "1 Identity", "2": "2.", "3": "3 Logging", "4": "4 Monitoring", "5": "5 Networking"}
    for c in cis.controls:
        assert c.category.startswith(sections[c.id.split(".")[0]]), c.id
        assert c.category.endswith((" - Level 1", " - Level 2")), c.id
    level = {c.id: c.category.rsplit(" ", 1)[-1] for c in cis.controls}
    # Profile levels as published for v3.0.0 (spot checks across sections).
    assert (level["1.6"], level["1.7"], level["1.21"], level["2.1.1"], level["3.2"], level["4.6"], level["5.4"]) == (
        "2", "1", "2", "2", "2", "2", "2"
    )  # fmt: skip


def test_cis_aws_v3_maps_our_checks_and_leaves_the_rest_manual() -> None:
    cis = load_catalog()["cis-aws"]
    expected = {
        "1.2": {"aws.account.security_contact"},
        "1.4": {"aws.iam.root_access_keys_absent"},
        "1.5": {"aws.iam.root_mfa_enabled"},
        "1.6": {"aws.iam.root_hardware_mfa"},
        "1.7": {"aws.iam.root_not_used_recently"},
        "1.11": {"aws.iam.no_initial_access_key"},
        "1.12": {"aws.iam.access_key_unused", "aws.iam.unused_console_password"},
        "1.13": {"aws.iam.single_active_access_key"},
        "1.19": {"aws.iam.expired_server_certificates"},
        "1.20": {"aws.accessanalyzer.enabled"},
        "1.22": {"aws.iam.cloudshell_full_access_restricted"},
        "3.1": {"aws.cloudtrail.multi_region_trail", "aws.cloudtrail.management_events_all"},
        "3.3": {"aws.config.recorder_enabled", "aws.config.records_global_resources", "aws.config.delivery_channel"},
        "3.4": {"aws.cloudtrail.bucket_access_logging"},
        "3.8": {"aws.cloudtrail.s3_data_events_write"},
        "3.9": {"aws.cloudtrail.s3_data_events_read"},
        "4.6": {"aws.cloudwatch.alarm_console_auth_failures"},
        "4.7": {"aws.cloudwatch.alarm_cmk_disable_or_deletion"},
        "4.8": {"aws.cloudwatch.alarm_s3_bucket_policy_changes"},
        "4.9": {"aws.cloudwatch.alarm_config_changes"},
        "4.15": {"aws.cloudwatch.alarm_organizations_changes"},
        "4.16": {"aws.securityhub.enabled"},
        "5.6": {"aws.ec2.instance_imdsv2_required"},
        "1.18": {"aws.ec2.instance_profile_attached"},
        "2.1.2": {"aws.s3.bucket_mfa_delete"},
        "2.4.1": {"aws.efs.encrypted"},
        "5.1": {
            "aws.ec2.nacl_ssh_open_to_internet",
            "aws.ec2.nacl_rdp_open_to_internet",
            "aws.ec2.nacl_all_ports_open_to_internet",
        },
        "5.2": {
            "aws.ec2.sg_admin_ports_open_ipv4",
            "aws.ec2.sg_ssh_open_to_internet",
            "aws.ec2.sg_rdp_open_to_internet",
            "aws.ec2.sg_all_ports_open_to_internet",
        },
        "5.3": {"aws.ec2.sg_admin_ports_open_ipv6"},
        "5.5": {"aws.ec2.vpc_peering_routes_least_access"},
    }
    for cid, checks in expected.items():
        c = cis.control(cid)
        assert c is not None and set(c.checks) == checks, cid
    # No API (1.1, 1.3), or the check is not built yet (2.1.3, Macie): manual evidence.
    manual = {c.id for c in cis.controls if not c.automated}
    assert manual == {"1.1", "1.3", "2.1.3"}
    # Each monitoring recommendation 4.1-4.15 is one metric filter + alarm check.
    for c in cis.controls:
        if c.id.startswith("4.") and c.id != "4.16":
            assert len(c.checks) == 1 and c.checks[0].startswith("aws.cloudwatch.alarm_"), c.id


def test_gdpr_has_the_articles_with_technical_evidence() -> None:
    ids = {c.id for c in load_catalog()["gdpr"].controls}
    for required in ("Art.5(1)(e)", "Art.5(1)(f)", "Art.25", "Art.30", "Art.32(1)(a)", "Art.33", "Art.35", "Art.44"):
        assert required in ids


@pytest.mark.parametrize("framework", INSTALLED)
def test_every_control_is_complete(framework: str) -> None:
    fw = load_catalog()[framework]
    assert len({c.id for c in fw.controls}) == len(fw.controls)
    for c in fw.controls:
        assert c.title and len(c.description) > 40, c.id
        assert c.manual_evidence, f"{c.ref} has no manual evidence items"
        assert len(set(c.checks)) == len(c.checks)


def _resolves(ref: str, ids: set[str], patterns: list[str]) -> bool:
    if any(ch in ref for ch in "*?["):
        return ref in patterns or any(fnmatch.fnmatchcase(ref, p) for p in patterns)
    return ref in ids or any(fnmatch.fnmatchcase(ref, p) for p in patterns)


def test_every_check_reference_resolves() -> None:
    ids, patterns = registered_checks()
    for fw in load_catalog().values():
        for c in fw.controls:
            for ref in c.checks:
                assert _resolves(ref, ids, patterns), f"{c.ref}: {ref} is not a registered check or declared pattern"


def test_every_supporting_reference_resolves_and_is_not_a_pass_condition_of_its_control() -> None:
    ids, patterns = registered_checks()
    supporting = 0
    for fw in load_catalog().values():
        for c in fw.controls:
            for ref in c.supporting:
                supporting += 1
                assert _resolves(ref, ids, patterns), f"{c.ref}: supporting {ref} is not a registered check"
                assert ref not in c.checks and not c.matches(ref), f"{c.ref}: {ref} is both support and pass condition"
    assert supporting >= 20


# The SOC 2 criteria Prowler 5.46.0 maps AWS checks to (prowler/compliance/aws/soc2_aws.json: the
# requirements with a non-empty `Checks` list; its `cc_a_1_1` is A1.2). Each must carry at least one of our
# AWS checks, as a pass condition or as a supporting signal beside the manual evidence.
PROWLER_SOC2_AWS_CRITERIA = (
    "CC1.3", "CC2.1", "CC3.1", "CC3.2", "CC3.3", "CC3.4", "CC4.2", "CC5.2", "CC6.1", "CC6.2", "CC6.3",
    "CC6.6", "CC6.7", "CC6.8", "CC7.1", "CC7.2", "CC7.3", "CC7.4", "CC7.5", "CC8.1", "A1.2", "C1.1", "C1.2",
    "PI1.2", "PI1.3", "PI1.4", "PI1.5",
)


def test_every_soc2_criterion_prowler_maps_for_aws_carries_one_of_our_aws_checks() -> None:
    ids, _ = registered_checks()
    aws = {i for i in ids if i.startswith("aws.")}
    controls = {c.id: c for c in load_catalog()["soc2"].controls}
    bare = [
        cid for cid in PROWLER_SOC2_AWS_CRITERIA
        if not any(controls[cid].matches(a) or controls[cid].supported_by(a) for a in aws)
    ]
    assert bare == []


def test_every_builtin_check_maps_to_a_control() -> None:
    ids, _ = registered_checks()
    assert ids, "no provider registered"
    controls = [c for fw in load_catalog().values() for c in fw.controls]
    unmapped = sorted(i for i in ids if not any(c.matches(i) or c.supported_by(i) for c in controls))
    assert unmapped == []


def _raw_controls(framework: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(registry().sources[framework].catalog_path().read_text(encoding="utf-8"))
    return list(data["controls"])


@pytest.mark.parametrize("framework", INSTALLED)
def test_every_mapping_carries_a_one_line_rationale(framework: str) -> None:
    """Each check reference (pass condition or support) is `{check: ID, why: TEXT}` with a real sentence."""
    missing: list[str] = []
    for raw in _raw_controls(framework):
        for key in ("checks", "supporting"):
            for entry in raw.get(key) or ():
                why = entry.get("why", "") if isinstance(entry, dict) else ""
                ref = entry["check"] if isinstance(entry, dict) else entry
                if not (isinstance(why, str) and 40 <= len(why) <= 200 and "\n" not in why and why.endswith(".")):
                    missing.append(f"{raw['id']}: {ref}")
    assert missing == []
    fw = load_catalog()[framework]
    for c in fw.controls:
        assert {ref for ref, _ in c.rationale} == set(c.checks) | set(c.supporting), c.ref
        assert all(c.why_for(check) for check in c.checks if "*" not in check), c.ref


@pytest.mark.parametrize("framework", INSTALLED)
def test_every_manual_evidence_item_has_a_stable_id(framework: str) -> None:
    for raw in _raw_controls(framework):
        entries = raw.get("manual_evidence") or []
        assert entries, raw["id"]
        for entry in entries:
            assert isinstance(entry, dict) and set(entry) == {"id", "title"}, f"{raw['id']}: {entry!r} needs an id"
    for c in load_catalog()[framework].controls:
        ids = [i.id for i in c.manual_evidence]
        assert len(set(ids)) == len(ids) and not any(i.startswith("item-") for i in ids), c.ref
        assert all(len(i.title) > 20 for i in c.manual_evidence), c.ref


def test_control_ids_are_unique_per_framework() -> None:
    for fw in load_catalog().values():
        ids = [c.id for c in fw.controls]
        assert len(ids) == len(set(ids)), fw.id


# Mappings a DPO would reject (issue 12 item 6) ----------------------------------------------


def test_storage_limitation_maps_only_to_expiry_and_deletion_checks() -> None:
    c = load_catalog()["gdpr"].control("Art.5(1)(e)")
    assert c is not None and c.automated
    # iac.CKV_AWS_338 ("CloudWatch log groups retain logs for at least 1 year") is the opposite of storage limitation.
    assert set(c.checks) == {"iac.CKV_AWS_66", "iac.CKV2_AWS_61", "iac.CKV2_AUD_3", "iac.CKV2_AUD_4"}
    assert not c.matches("iac.CKV_AWS_338")
    assert load_catalog()["soc2"].control("CC7.2").matches("iac.CKV_AWS_338")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("control_id", "items", "support"),
    [
        (
            "Art.30",
            {"ropa-controller", "ropa-processor", "ropa-review"},
            {"iac.CKV2_AUD_2", "aws.config.recorder_enabled", "iac.CKV_AWS_121", "iac.CKV2_AWS_45"},
        ),
        (
            "Art.33",
            {"incident-runbook", "breach-register", "authority-notifications", "breach-exercise"},
            {
                "aws.guardduty.detector_enabled",
                "iac.CKV2_AWS_3",
                "aws.securityhub.enabled",
                "aws.cloudtrail.multi_region_trail",
                *(
                    f"aws.cloudwatch.alarm_{n}"
                    for n in (
                        "unauthorized_api_calls",
                        "root_usage",
                        "iam_policy_changes",
                        "console_login_no_mfa",
                        "security_group_changes",
                        "nacl_changes",
                        "network_gateway_changes",
                        "route_table_changes",
                        "vpc_changes",
                        "cloudtrail_changes",
                    )
                ),
            },
        ),
    ],
)
def test_records_and_breach_notification_are_manual_with_detective_checks_as_support(
    control_id: str, items: set[str], support: set[str]
) -> None:
    c = load_catalog()["gdpr"].control(control_id)
    assert c is not None
    assert not c.automated and c.checks == ()
    assert {i.id for i in c.manual_evidence} == items
    assert set(c.supporting) == support


def test_supporting_checks_never_decide_a_manual_control(now: datetime) -> None:
    """Art. 30/33: detective checks, failing or passing, leave them MANUAL; only every evidence item passes them."""
    from datetime import timedelta

    gdpr = load_catalog()["gdpr"]
    mapper = ControlMapper([gdpr])
    findings = []
    for check, status in (
        ("aws.guardduty.detector_enabled", Status.FAIL),
        ("aws.cloudwatch.alarm_root_usage", Status.FAIL),
        ("aws.cloudtrail.multi_region_trail", Status.PASS),
        ("aws.config.recorder_enabled", Status.FAIL),
        ("iac.CKV2_AUD_2", Status.PASS),
    ):
        refs = mapper(check)
        assert "gdpr:Art.30" not in refs and "gdpr:Art.33" not in refs, check
        findings.append(Finding(check, status, Severity.HIGH, Resource(id=check, type="t"), "m", controls=refs))
    by_id = {r.control_id: r for r in roll_up(gdpr, findings)}
    assert by_id["Art.30"].status is ControlStatus.MANUAL and by_id["Art.33"].status is ControlStatus.MANUAL
    assert by_id["Art.30"].counts["FAIL"] == 0 and by_id["Art.33"].counts["FAIL"] == 0
    assert by_id["Art.32(1)(b)"].status is ControlStatus.FAIL  # the detective checks' own pass condition
    later = now + timedelta(days=90)
    art33 = [("gdpr:Art.33", i.id, later) for i in gdpr.control("Art.33").manual_evidence]  # type: ignore[union-attr]
    covered = {r.control_id: r.status for r in roll_up(gdpr, findings, manual_states(art33, now))}
    assert covered["Art.33"] is ControlStatus.PASS and covered["Art.30"] is ControlStatus.MANUAL
    partial = {r.control_id: r.status for r in roll_up(gdpr, findings, manual_states(art33[:3], now))}
    assert partial["Art.33"] is ControlStatus.MANUAL


def test_transfers_decide_art_44_and_the_fixed_iac_region_list_only_supports_it() -> None:
    c = load_catalog()["gdpr"].control("Art.44")
    assert c is not None
    assert set(c.checks) == {
        "aws.s3.bucket_region_allowed",
        "aws.rds.instance_region_allowed",
        "aws.dynamodb.table_region_allowed",
    }
    assert c.supporting == ("iac.CKV2_AUD_1",)
    assert not load_catalog()["soc2"].control("C1.1").matches("iac.CKV2_AUD_1")  # type: ignore[union-attr]


def test_the_same_check_sits_with_its_twin_in_the_other_provider() -> None:
    """Moved mappings stay consistent: an IaC check and the AWS check for the same setting share controls."""
    gdpr, soc2 = load_catalog()["gdpr"], load_catalog()["soc2"]
    twins = [
        ("aws.rds.multi_az", "iac.CKV_AWS_157"),
        ("aws.rds.deletion_protection", "iac.CKV_AWS_139"),
        ("aws.rds.backup_retention", "iac.CKV2_AUD_5"),
        ("aws.rds.storage_encrypted", "iac.CKV_AWS_16"),
        ("aws.rds.not_publicly_accessible", "iac.CKV_AWS_17"),
        ("aws.s3.bucket_versioning", "iac.CKV_AWS_21"),
        ("aws.s3.bucket_default_encryption", "iac.CKV_AWS_19"),
        ("aws.s3.bucket_access_logging", "iac.CKV_AWS_18"),
        ("aws.s3.bucket_public_access_block", "iac.CKV2_AWS_6"),
        ("aws.dynamodb.pitr_enabled", "iac.CKV_AWS_28"),
        ("aws.kms.key_rotation_enabled", "iac.CKV_AWS_7"),
        ("aws.ec2.ebs_default_encryption", "iac.CKV_AWS_106"),
        ("aws.ec2.sg_ssh_open_to_internet", "iac.CKV_AWS_24"),
        ("aws.ec2.default_sg_closed", "iac.CKV2_AWS_12"),
        ("aws.ec2.vpc_flow_logs_enabled", "iac.CKV2_AWS_11"),
        ("aws.ec2.instance_imdsv2_required", "iac.CKV_AWS_79"),
        ("aws.cloudtrail.multi_region_trail", "iac.CKV_AWS_67"),
        ("aws.cloudtrail.log_file_validation", "iac.CKV_AWS_36"),
        ("aws.cloudtrail.cloudwatch_logs", "iac.CKV2_AWS_10"),
        ("aws.cloudtrail.kms_encryption", "iac.CKV_AWS_35"),
        ("aws.config.recorder_enabled", "iac.CKV_AWS_121"),
        ("aws.guardduty.detector_enabled", "iac.CKV2_AWS_3"),
        ("aws.elbv2.access_logs", "iac.CKV_AWS_91"),
        ("aws.elbv2.https_listeners", "iac.CKV_AWS_2"),
        ("aws.iam.password_policy_min_length", "iac.CKV_AWS_10"),
        ("aws.iam.root_access_keys_absent", "iac.CKV_AWS_348"),
        ("aws.iam.customer_policy_no_full_admin", "iac.CKV_AWS_1"),
        ("aws.secretsmanager.rotation_enabled", "iac.CKV2_AWS_57"),
        ("aws.lambda.supported_runtime", "iac.CKV_AWS_363"),
        ("image.config.runs_as_root", "iac.CKV_DOCKER_8"),
        ("image.config.healthcheck", "iac.CKV_DOCKER_2"),
    ]
    for native, iac in twins:
        for fw in (gdpr, soc2):
            a = {c.id for c in fw.controls if c.matches(native)}
            b = {c.id for c in fw.controls if iac in c.checks or (c.matches(iac) and "iac.CKV_*" not in c.checks)}
            assert a == b, (fw.id, native, iac, a, b)


def test_why_for_prefers_the_exact_reference_over_a_glob() -> None:
    cc81 = load_catalog()["soc2"].control("CC8.1")
    assert cc81 is not None
    assert "SBOM" in cc81.why_for("iac.CKV_GHA_6")
    assert "automated test" in cc81.why_for("iac.CKV_AWS_999")
    stored = frameworks_from_document(catalog_document([load_catalog()["soc2"]]))["soc2"].control("CC8.1")
    assert stored is not None and "SBOM" in stored.why_for("iac.CKV_GHA_6")


def test_no_check_is_listed_twice_in_a_framework_by_accident() -> None:
    for fw in load_catalog().values():
        for c in fw.controls:
            refs = [*c.checks, *c.supporting]
            assert len(refs) == len(set(refs)), c.ref


def test_catalog_loader_rejects_duplicates_and_unknown_keys(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("framework: x\ncontrols:\n  - id: A\n    title: a\n  - id: A\n    title: b\n")
    with pytest.raises(ConfigError, match=r"dup\.yaml:5: control #2 has a missing or duplicate id 'A'"):
        load_framework(dup)
    broken = tmp_path / "broken.yaml"
    broken.write_text("framework: x\ncontrols:\n  - id: A\n    title: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml:\d+: malformed control catalog"):
        load_framework(broken)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("framework: x\ncontrols:\n  - id: A\n    colour: red\n")
    with pytest.raises(ConfigError, match=r"unknown\.yaml:3: control 'A' has unknown keys"):
        load_framework(unknown)
    twice = tmp_path / "twice.yaml"
    twice.write_text("framework: x\ncontrols:\n  - id: A\n    checks: [a.b, a.b]\n")
    with pytest.raises(ConfigError, match="twice"):
        load_framework(twice)


# Roll-up ------------------------------------------------------------------------------

FW = Framework(
    id="t",
    name="test",
    version="1",
    controls=(
        Control("t", "AUTO", "automated", "", "", ("x.check.one", "x.check.two"), ()),
        Control("t", "GLOB", "by pattern", "", "", ("iac.CKV_*",), ()),
        Control(
            "t",
            "MAN",
            "manual only",
            "",
            "",
            (),
            (EvidenceRequirement("policy", "policy document"), EvidenceRequirement("review", "review record")),
        ),
    ),
)


def f(check: str, status: Status) -> Finding:
    return Finding(check, status, Severity.HIGH, Resource(id=f"r-{status}", type="t"), "m", controls=("t:AUTO",))


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([Status.PASS, Status.PASS], ControlStatus.PASS),
        ([Status.PASS, Status.FAIL], ControlStatus.FAIL),
        ([Status.FAIL, Status.ERROR], ControlStatus.FAIL),
        ([Status.PASS, Status.ERROR], ControlStatus.ERROR),
        ([Status.WAIVED, Status.PASS], ControlStatus.PASS),
        ([Status.SKIPPED], ControlStatus.NOT_TESTED),
        ([], ControlStatus.NOT_TESTED),
    ],
)
def test_roll_up_rules(statuses: list[Status], expected: ControlStatus) -> None:
    results = {r.control_id: r for r in roll_up(FW, [f("x.check.one", s) for s in statuses])}
    assert results["AUTO"].status is expected
    assert results["GLOB"].status is ControlStatus.NOT_TESTED
    assert results["MAN"].status is ControlStatus.MANUAL


def test_manual_control_passes_only_with_unexpired_evidence(now: object) -> None:
    from datetime import timedelta

    from tests.conftest import NOW

    later = NOW + timedelta(days=30)
    expired = manual_states([("t:MAN", "policy", NOW - timedelta(days=1)), ("t:MAN", "review", later)], NOW)
    valid = manual_states(
        [("t:MAN", "policy", NOW - timedelta(days=1)), ("t:MAN", "policy", later), ("t:MAN", "review", None)], NOW
    )
    one_item = manual_states([("t:MAN", "policy", later), ("t:MAN", "policy", None)], NOW)
    no_item = manual_states([("t:MAN", None, later)], NOW)  # a file that covers no expected item
    status = lambda manual: {r.control_id: r.status for r in roll_up(FW, [], manual)}["MAN"]  # noqa: E731
    assert status(expired) is ControlStatus.MANUAL
    assert status(valid) is ControlStatus.PASS
    assert status(one_item) is ControlStatus.MANUAL  # every expected item needs a valid file
    assert status(no_item) is ControlStatus.MANUAL
    assert [i.id for i in one_item["t:MAN"].missing(FW.controls[2])] == ["review"]


def test_glob_references_match_tool_ids() -> None:
    assert FW.controls[1].matches("iac.CKV_AWS_19")
    assert not FW.controls[1].matches("code.CKV_AWS_19")
    assert not FW.controls[0].matches("x.check.three")


def test_the_mapper_index_maps_every_check_as_the_catalog_scan_does() -> None:
    """ControlMapper indexes the references (exact ids, then globs); it must give exactly what
    walking every control gives, in catalog order, for every check and for tool ids under globs."""
    from auditor.catalog import controls_for_check

    frameworks = list(load_catalog().values())
    mapper = ControlMapper(frameworks)
    refs = {r for fw in frameworks for c in fw.controls for r in (*c.checks, *c.supporting)}
    ids, _ = registered_checks()
    ids |= {r.replace("*", "X").replace("?", "Y") for r in refs}  # a concrete id under each glob
    ids |= {"iac.CKV_AWS_19", "code.python.sql-injection", "nothing.at.all", ""}
    mismatched = {i: (mapper(i), controls_for_check(i, frameworks)) for i in sorted(ids)}
    mismatched = {i: pair for i, pair in mismatched.items() if pair[0] != pair[1]}
    assert not mismatched
    assert any(len(mapper(i)) > 1 for i in ids)  # the comparison covers checks mapped to several controls
