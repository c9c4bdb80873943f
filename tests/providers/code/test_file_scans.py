"""What the iac and code providers share: command-line chunks and the inline approval syntax."""

from __future__ import annotations

from datetime import date

import pytest

from auditor.providers.file_scans import chunk_by_directory, judge_inline_suppression

TODAY = date(2026, 11, 28)


def test_chunks_keep_a_folders_files_together_and_stay_under_the_limit() -> None:
    paths = [f"a/{i}.tf" for i in range(3)] + [f"b/{i}.tf" for i in range(3)] + ["c/x.tf"]
    assert chunk_by_directory(paths, limit=10_000) == [paths]
    chunks = chunk_by_directory(paths, limit=25)  # each path is 7 bytes + 1
    assert chunks == [paths[:3], paths[3:6], paths[6:]]
    assert [p for c in chunks for p in c] == paths
    big = [f"d/{i:04}.tf" for i in range(10)]  # one folder larger than the limit is split
    assert all(sum(len(p) + 1 for p in c) <= 30 for c in chunk_by_directory(big, limit=30))
    assert [p for c in chunk_by_directory(big, limit=30) for p in c] == big
    assert chunk_by_directory([]) == []


@pytest.mark.parametrize(
    ("comment", "approved", "problem"),
    [
        ("scratch approved-by=jane@example.com expires=2027-03-31", True, ""),
        ("approved-by=jane expires=2026-11-28 scratch", True, ""),  # valid through its expiry day
        ("approved-by=jane, expires=2027-11-28.", True, ""),  # 365 days ahead, punctuation around
        ("scratch", False, "no approved-by=<who> expires=YYYY-MM-DD in the comment"),
        ("scratch approved-by=jane", False, "no expires=YYYY-MM-DD in the comment"),
        ("scratch expires=2027-01-01", False, "no approved-by=<who> in the comment"),
        ("approved-by= expires=2027-01-01", False, "no approved-by=<who> in the comment"),
        ("approved-by=jane expires=2026-11-27", False, "its approval expired on 2026-11-27"),
        ("approved-by=jane expires=2027-11-29", False, "more than 365 days after the scan"),
        ("approved-by=jane expires=next-week", False, "expires=next-week is not a date (YYYY-MM-DD)"),
        ("approved-by=jane expires=2027-02-30", False, "is not a date"),
        ("not-approved-by=jane expires=2027-01-01", False, "no approved-by=<who> in the comment"),
    ],
)
def test_inline_approval_truth_table(comment: str, approved: bool, problem: str) -> None:
    verdict = judge_inline_suppression(comment, comment, TODAY)
    assert verdict.approved is approved
    assert problem in verdict.problem and bool(verdict.problem) is not approved
    if approved:
        assert set(verdict.waiver) == {"source", "approved", "approver", "expires", "reason"}
        assert verdict.waiver["approver"] == "jane@example.com" or verdict.waiver["approver"] == "jane"
    else:
        assert verdict.waiver == {
            "source": "inline",
            "approved": False,
            "reason": verdict.waiver["reason"],
            "comment": comment,
        }


def test_reason_is_the_free_text_without_the_approval() -> None:
    verdict = judge_inline_suppression(
        "x approved-by=jane expires=2027-01-01", "scratch volume, approved-by=jane expires=2027-01-01", TODAY
    )
    assert verdict.waiver["reason"] == "scratch volume"
