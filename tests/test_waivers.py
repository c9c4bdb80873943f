"""Waivers: active, expired, stale, glob matching, expiry limit, malformed files (file:line), CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.errors import InputError
from auditor.models import Finding, Resource, Severity, Status
from auditor.providers import targets
from auditor.waivers import Waiver, apply_waivers, collect_waivers, load_waiver_file
from tests.conftest import CliResult

TODAY = date(2026, 11, 28)


def finding(check: str, rid: str, status: Status = Status.FAIL, path: str | None = None) -> Finding:
    return Finding(
        check_id=check,
        status=status,
        severity=Severity.HIGH,
        resource=Resource(id=rid, type="t", path=path, line=3 if path else None),
        message="problem",
        provider=check.split(".", 1)[0],
        evidence={"observed": 1},
    )


def waiver(check: str, resource: str = "*", expires: date = date(2027, 1, 31), wid: str = "w1", **kw: object) -> Waiver:
    return Waiver(
        id=wid,
        source="test",
        check=check,
        resource=resource,
        reason="accepted for the migration",
        approver="alice",
        created=date(2026, 10, 1),
        expires=expires,
        **kw,  # type: ignore[arg-type]
    )


def test_active_waiver_turns_fail_into_waived_with_record() -> None:
    f = finding("iac.CKV_AWS_18", "aws_s3_bucket.logs")
    out = apply_waivers([f], [waiver("iac.CKV_AWS_18", "aws_s3_bucket.logs")], TODAY, ["iac"])
    (w,) = out.findings
    assert w.status is Status.WAIVED
    assert w.fingerprint == f.fingerprint
    record = {
        "id": "w1",
        "source": "test",
        "check": "iac.CKV_AWS_18",
        "resource": "aws_s3_bucket.logs",
        "reason": "accepted for the migration",
        "approver": "alice",
        "created": "2026-10-01",
        "expires": "2027-01-31",
    }
    assert w.waiver == record
    assert w.evidence == {"observed": 1, "waiver": record}
    assert out.applied == {"w1": 1} and out.stale == []


def test_waiver_is_active_through_its_expiry_day_then_expired() -> None:
    f = finding("aws.s3.bucket_logging", "arn:aws:s3:::logs")
    w = waiver("aws.s3.*", expires=TODAY)
    assert apply_waivers([f], [w], TODAY).findings[0].status is Status.WAIVED
    out = apply_waivers([f], [w], date(2026, 11, 29))
    (g,) = out.findings
    assert g.status is Status.FAIL
    assert g.waiver is None
    assert g.message == "problem (waiver w1 expired on 2026-11-28)"
    assert g.evidence["waiver_expired"]["expires"] == "2026-11-28"
    assert out.expired == {"w1": 1}
    assert out.stale == []  # expired, not stale


def test_stale_waivers_are_reported() -> None:
    findings = [
        finding("secrets.inventory.rotation_age", "secret:db", Status.FAIL),
        finding("secrets.inventory.rotation_age", "secret:fixed", Status.PASS),
        finding("secrets.certificate.expiry", "secret:tls", Status.ERROR),
    ]
    waivers = [
        waiver("secrets.inventory.*", "secret:db", wid="used"),
        waiver("secrets.inventory.*", "secret:fixed", wid="fixed-now"),  # matches only a PASS: stale
        waiver("secrets.*", "secret:gone", wid="gone"),  # matches nothing: stale
        waiver("secrets.certificate.expiry", "secret:tls", wid="unknown"),  # ERROR: cannot tell, not stale
        waiver("iac.CKV_AWS_20", wid="other-provider"),  # iac did not run: not stale
        waiver("*.CKV_AWS_20", wid="any-provider"),  # could be any provider: stale
    ]
    out = apply_waivers(findings, waivers, TODAY, ["secrets"])
    assert {w.id for w in out.stale} == {"fixed-now", "gone", "any-provider"}
    assert [f.status for f in out.findings] == [Status.WAIVED, Status.PASS, Status.ERROR]
    doc = out.to_dict()
    assert doc["loaded"] == 6
    assert [a["id"] for a in doc["applied"]] == ["used"]
    assert {s["id"] for s in doc["stale"]} == {"fixed-now", "gone", "any-provider"}


@pytest.mark.parametrize(
    ("check", "resource", "matches"),
    [
        ("iac.CKV_AWS_18", "*", True),
        ("iac.CKV_AWS_*", "*", True),
        ("iac.CKV_AWS_1?", "*", True),
        ("iac.CKV_AWS_[0-9][0-9]", "*", True),
        ("iac.CKV_AWS_2*", "*", False),
        ("iac.*", "aws_s3_bucket.*", True),  # resource id glob
        ("iac.*", "aws_iam_*", False),
        ("iac.*", "*/main.tf", True),  # path glob
        ("iac.*", "infra/main.tf", True),  # path relative to the waiver's repository root
        ("iac.*", "infra/*.tf", True),
        ("iac.*", "other/*.tf", False),
        ("IAC.*", "*", False),  # case-sensitive
        ("code.*", "*", False),
    ],
)
def test_glob_matching(tmp_path: Path, check: str, resource: str, matches: bool) -> None:
    f = finding("iac.CKV_AWS_18", "aws_s3_bucket.logs", path=str(tmp_path / "infra" / "main.tf"))
    assert waiver(check, resource, root=tmp_path).matches(f) is matches


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
waivers:
  - check: iac.CKV_AWS_18
    resource: "infra/*.tf"
    reason: logs bucket
    approver: alice
    created: 2026-10-01
    expires: 2027-09-30
  - id: named
    check: "secrets.*"
    reason: rotation scheduled
    approver: bob
    created: "2026-11-01"
    expires: "2027-01-01"
"""


def test_load_waiver_file(tmp_path: Path) -> None:
    a, b = load_waiver_file(write(tmp_path / "w.yaml", GOOD))
    assert (a.id, a.check, a.resource, a.expires, a.line, a.root) == (
        "w.yaml:2",
        "iac.CKV_AWS_18",
        "infra/*.tf",
        date(2027, 9, 30),
        2,
        tmp_path,
    )
    assert (b.id, b.resource, b.created) == ("named", "*", date(2026, 11, 1))
    assert load_waiver_file(write(tmp_path / "empty.yaml", "")) == []
    assert load_waiver_file(write(tmp_path / "none.yaml", "waivers:\n")) == []


def test_expiry_more_than_a_year_after_creation_is_refused(tmp_path: Path) -> None:
    ok = GOOD.replace("expires: 2027-09-30", "expires: 2027-10-01")  # exactly 365 days
    assert len(load_waiver_file(write(tmp_path / "ok.yaml", ok))) == 2
    too_long = GOOD.replace("expires: 2027-09-30", "expires: 2027-10-02")  # 366 days
    with pytest.raises(InputError) as exc:
        load_waiver_file(write(tmp_path / "long.yaml", too_long))
    assert str(exc.value).startswith(f"{tmp_path / 'long.yaml'}:7: waiver expires 2027-10-02, 366 days after")
    assert "the limit is 365 days" in str(exc.value)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("waivers:\n  - check: a\n    reason: [unclosed\n", 4, "malformed YAML"),
        ("waivers:\n  - check: a.*\n    reason: r\n    approver: x\n    created: 2026-01-01\n", 2, "missing 'expires'"),
        (GOOD.replace("    approver: bob\n", "    approver: bob\n    owner: eve\n"), 12, "unknown waiver key 'owner'"),
        (GOOD.replace('expires: "2027-01-01"', "expires: soon"), 13, "'expires' 'soon' is not a date"),
        (GOOD.replace("expires: 2027-09-30", "expires: 2026-09-30"), 7, "before it was created"),
        ("waivers:\n  - just a string\n", 2, "must be a mapping"),
        ("waivers: {}\n", 1, "'waivers' must be a list"),
        ("waiver:\n  - check: a\n", 1, "unknown top-level key 'waiver'"),
        (
            GOOD + "  - id: named\n    check: x\n    reason: r\n    approver: a\n    created: 2026-11-01\n"
            "    expires: 2026-12-01\n",
            14,
            "duplicate waiver id 'named'",
        ),
        (
            "waivers:\n  - check: 5\n    reason: r\n    approver: a\n"
            "    created: 2026-11-01\n    expires: 2026-12-01\n",
            2,
            "'check' must be text",
        ),
    ],
)
def test_malformed_waiver_file_names_file_and_line(tmp_path: Path, text: str, line: int, says: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(InputError) as exc:
        load_waiver_file(path)
    assert str(exc.value).startswith(f"{path}:{line}: ")
    assert says in str(exc.value)


EXACT = """\
waivers:
  - check: iac.CKV_AWS_18
    resource: infra/logs.tf
    reason: logs bucket
    approver: alice
    created: 2026-10-01
    expires: 2027-09-30
"""


def test_repository_waiver_files_apply_only_when_allowed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    write(repo / ".auditor-waivers.yaml", EXACT)
    other = tmp_path / "other"
    other.mkdir()  # no waiver file: fine
    explicit = write(tmp_path / "extra.yaml", GOOD.replace("id: named", "id: extra"))
    config = AuditConfig(
        targets=targets(iac=(repo,), code=(repo, other), deps=(repo / "requirements.txt",)), waivers_file=explicit
    )
    # A pull request writes the in-repository file: by default it is ignored, with a warning.
    got = collect_waivers(config)
    assert [(w.id, w.root) for w in got] == [("extra.yaml:2", tmp_path), ("extra", tmp_path)]
    assert "waiver file inside a scanned target ignored" in caplog.text
    allowed = collect_waivers(replace(config, allow_repository_waivers=True))
    assert [(w.id, w.root) for w in allowed] == [
        ("extra.yaml:2", tmp_path),
        ("extra", tmp_path),
        (".auditor-waivers.yaml:2", repo),
    ]


@pytest.mark.parametrize(
    ("check", "resource", "key"),
    [('"*"', "infra/logs.tf", "check"), ("iac.CKV_AWS_18", '"*"', "resource"), ('"iac.*"', "x", "check")],
)
def test_repository_waiver_files_refuse_wildcards(tmp_path: Path, check: str, resource: str, key: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    body = EXACT.replace("check: iac.CKV_AWS_18", f"check: {check}").replace(
        "resource: infra/logs.tf", f"resource: {resource}"
    )
    path = write(repo / ".auditor-waivers.yaml", body)
    with pytest.raises(InputError, match=f"may not use a wildcard {key}") as exc:
        collect_waivers(AuditConfig(targets=targets(iac=(repo,)), allow_repository_waivers=True))
    line = 2 if key == "check" else 3
    assert str(exc.value).startswith(f"{path}:{line}: ")


def test_missing_waiver_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="waiver file not found"):
        collect_waivers(AuditConfig(waivers_file=tmp_path / "nope.yaml"))


# Through the CLI ---------------------------------------------------------------------


INVENTORY = """\
secrets:
  - name: db-password
    last_rotated: 2026-07-01
  - name: api-token
    owner: platform
  - name: fresh
    last_rotated: 2026-11-01
"""


def test_cli_malformed_waiver_file_exits_2_naming_file_and_line(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    inv = write(tmp_path / "inv.yaml", INVENTORY)
    bad = write(tmp_path / "bad-waivers.yaml", GOOD.replace("expires: 2027-09-30", "expires: 2028-09-30"))
    db = tmp_path / "a.db"
    res = cli("scan", "--secrets-inventory", str(inv), "--waivers", str(bad), "--db", str(db), "--format", "json")
    assert res.code == 2
    assert res.out == ""
    assert res.err.startswith(f"auditor: error: {bad}:7: waiver expires 2028-09-30")
    assert "Traceback" not in res.err
    assert not db.exists()  # nothing was written: not even an empty database file


def test_cli_waive_add_list_remove_and_scan(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    db = str(tmp_path / "a.db")
    inv = write(tmp_path / "inv.yaml", INVENTORY)
    add = cli(
        "waive",
        "add",
        "--check",
        "secrets.inventory.*",
        "--resource",
        "secret:db-*",
        "--reason",
        "db migration",
        "--approver",
        "alice",
        "--expires",
        "2027-02-01",
        "--db",
        db,
    )
    assert add.code == 0, add.err
    assert add.out == "waiver db:1 added: secrets.inventory.* on secret:db-*, approved by alice, expires 2027-02-01\n"
    listed = cli("waive", "list", "--db", db, "--format", "json")
    assert [(w["id"], w["check"], w["active"], w["created"]) for w in json.loads(listed.out)] == [
        ("db:1", "secrets.inventory.*", True, "2026-11-28")
    ]
    scan = cli("scan", "--secrets-inventory", str(inv), "--db", db, "--format", "json", "--fail-on", "medium")
    doc = json.loads(scan.out)
    status = {f["resource"]["id"]: f["status"] for f in doc["findings"]}
    assert status == {"secret:db-password": "WAIVED", "secret:api-token": "FAIL", "secret:fresh": "PASS"}
    waived = next(f for f in doc["findings"] if f["status"] == "WAIVED")
    assert waived["waiver"]["id"] == "db:1" and waived["waiver"]["source"] == "database"
    assert waived["evidence"]["waiver"]["approver"] == "alice"
    assert doc["summary"]["by_status"]["WAIVED"] == 1
    assert scan.code == 1  # api-token (high) is not waived
    assert cli("waive", "remove", "db:1", "--db", db).code == 0
    assert json.loads(cli("waive", "list", "--db", db, "--format", "json").out) == []
    gone = cli("waive", "remove", "1", "--db", db)
    assert gone.code == 2 and "no waiver db:1" in gone.err


@pytest.mark.parametrize(
    ("expires", "says"),
    [
        ("2027-11-29", "366 days after it was created (2026-11-28)"),
        ("2026-11-27", "before it was created"),
        ("tomorrow", "is not a date"),
    ],
)
def test_cli_waive_add_refuses_bad_expiry(
    tmp_path: Path, cli: Callable[..., CliResult], expires: str, says: str
) -> None:
    res = cli(
        "waive",
        "add",
        "--check",
        "x.*",
        "--reason",
        "r",
        "--approver",
        "a",
        "--expires",
        expires,
        "--db",
        str(tmp_path / "a.db"),
    )
    assert res.code == 2
    assert says in res.err and "Traceback" not in res.err
    assert (
        cli(
            "waive",
            "add",
            "--check",
            "x.*",
            "--reason",
            "r",
            "--approver",
            "a",
            "--expires",
            "2027-11-28",
            "--db",
            str(tmp_path / "a.db"),
        ).code
        == 0
    )  # exactly 365 days


def test_cli_stale_and_expired_waivers_in_json_and_log(
    tmp_path: Path, cli: Callable[..., CliResult], caplog: pytest.LogCaptureFixture
) -> None:
    inv = write(tmp_path / "inv.yaml", INVENTORY)
    waivers = write(
        tmp_path / "w.yaml",
        """\
waivers:
  - id: old
    check: secrets.inventory.rotation_age
    resource: secret:api-token
    reason: was accepted last year
    approver: bob
    created: 2025-12-01
    expires: 2026-06-30
  - id: gone
    check: secrets.*
    resource: secret:decommissioned
    reason: legacy
    approver: bob
    created: 2026-11-01
    expires: 2027-01-01
""",
    )
    res = cli(
        "scan",
        "--secrets-inventory",
        str(inv),
        "--waivers",
        str(waivers),
        "--format",
        "json",
        "--db",
        str(tmp_path / "a.db"),
    )
    doc = json.loads(res.out)
    token = next(f for f in doc["findings"] if f["resource"]["id"] == "secret:api-token")
    assert token["status"] == "FAIL"
    assert token["message"].endswith("(waiver old expired on 2026-06-30)")
    assert token["evidence"]["waiver_expired"]["id"] == "old"
    assert [w["id"] for w in doc["waivers"]["stale"]] == ["gone"]
    assert [(w["id"], w["findings"]) for w in doc["waivers"]["expired"]] == [("old", 1)]
    assert "waiver gone (check secrets.*, resource secret:decommissioned) matched no failing finding" in caplog.text
    assert "waiver old expired on 2026-06-30: 1 finding(s) it covered fail again" in caplog.text


def test_cli_waive_list_validates_files(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    good = write(tmp_path / "w.yaml", GOOD)
    res = cli("waive", "list", "--file", str(good), "--format", "json", "--db", str(tmp_path / "none.db"))
    assert res.code == 2 and "no auditor database" in res.err  # an explicit --db must exist
    res = cli("waive", "list", "--file", str(good), "--format", "json")
    assert res.code == 0, res.err
    assert [(w["id"], w["active"], w["line"]) for w in json.loads(res.out)] == [
        ("w.yaml:2", True, 2),
        ("named", True, 8),
    ]
    bad = write(tmp_path / "bad.yaml", GOOD.replace("    reason: logs bucket\n", ""))
    res = cli("waive", "list", "--file", str(bad))
    assert res.code == 2 and f"{bad}:2: waiver is missing 'reason'" in res.err
