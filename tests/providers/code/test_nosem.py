"""`nosemgrep` comments read the way semgrep reads them (truth table; real semgrep in test_code_scope)."""

from __future__ import annotations

import pytest

from auditor.providers.code.nosem import find_nosem

RULE = "policies.semgrep.python.tls-verify-disabled"  # as semgrep names it with --no-rewrite-rule-ids
CODE = "requests.get(url, verify=False)"


@pytest.mark.parametrize(
    ("lines", "suppressed", "comment", "reason"),
    [
        ([CODE], False, "", ""),
        ([f"{CODE}  # nosemgrep"], True, "nosemgrep", ""),
        ([f"{CODE}  # NOSEM"], True, "NOSEM", ""),
        ([f"{CODE}  #nosemgrep"], False, "", ""),  # semgrep wants a space before the marker
        ([f"{CODE}  # nosemgrep: python.tls-verify-disabled"], True, "nosemgrep: python.tls-verify-disabled", ""),
        ([f"{CODE}  # nosemgrep: tls-verify-disabled"], True, "nosemgrep: tls-verify-disabled", ""),
        ([f"{CODE}  # nosemgrep: verify-disabled"], False, "", ""),  # a suffix must be a whole id part
        ([f"{CODE}  # nosemgrep: other.rule, python.tls-verify-disabled"], True, None, ""),
        ([f"{CODE}  # nosemgrep: other.rule"], False, "", ""),
        (["# nosemgrep", CODE], True, "nosemgrep", ""),
        (["x = 1  # nosemgrep", CODE], False, "", ""),  # code before it: only for its own line
        (["    // nosemgrep: python.tls-verify-disabled because", CODE], True, None, "because"),
        (
            [f"{CODE}  # nosemgrep: python.tls-verify-disabled -- own CA approved-by=a@b.c expires=2027-01-01"],
            True,
            "nosemgrep: python.tls-verify-disabled -- own CA approved-by=a@b.c expires=2027-01-01",
            "own CA approved-by=a@b.c expires=2027-01-01",
        ),
        ([f"{CODE}  # nosemgrep -- legacy approved-by=a@b.c"], True, "nosemgrep -- legacy approved-by=a@b.c", None),
    ],
)
def test_nosem_truth_table(lines: list[str], suppressed: bool, comment: str | None, reason: str | None) -> None:
    found = find_nosem(RULE, lines, len(lines))
    assert (found is not None) == suppressed
    if found is not None:
        if comment is not None:
            assert found.comment == comment
        if reason is not None:
            assert found.reason == reason


def test_previous_line_comment_names_its_line() -> None:
    found = find_nosem(RULE, ["def f(url):", "    # nosemgrep", f"    return {CODE}"], 3)
    assert found is not None and found.line == 2
