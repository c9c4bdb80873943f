"""CVSS 3.x base scores against published scores of known vectors."""

from __future__ import annotations

import pytest

from auditor.models import Severity
from auditor.vulndb.cvss import CvssError, base_score, severity_for_score


@pytest.mark.parametrize(
    ("vector", "score", "severity"),
    [
        # The specification's and NVD's well-known examples.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, Severity.CRITICAL),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, Severity.CRITICAL),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, Severity.CRITICAL),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, Severity.HIGH),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, Severity.HIGH),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, Severity.MEDIUM),
        # requests GHSA-j8r2-6x86-q33q (CVE-2023-32681): 6.1 medium.
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1, Severity.MEDIUM),
        # jinja2 CVE-2024-22195: 5.4 medium.
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4, Severity.MEDIUM),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, Severity.LOW),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, Severity.INFO),
        # Temporal metrics do not change the base score.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O", 9.8, Severity.CRITICAL),
    ],
)
def test_known_vectors(vector: str, score: float, severity: Severity) -> None:
    result = base_score(vector)
    assert result.base_score == score
    assert result.severity is severity


def test_30_and_31_vectors_use_the_same_weights() -> None:
    # 3.1 changed only Roundup (float-safe); ordinary vectors score the same in both.
    assert base_score("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:L").base_score == 5.0
    assert base_score("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:L").base_score == 5.0


@pytest.mark.parametrize(
    "vector",
    [
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no prefix
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",  # other version
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # missing A
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # bad value
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # duplicate
        "CVSS:3.1/AVN/AC:L",
    ],
)
def test_unusable_vectors_raise(vector: str) -> None:
    with pytest.raises(CvssError):
        base_score(vector)


def test_rating_boundaries() -> None:
    assert [severity_for_score(s) for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        Severity.INFO, Severity.LOW, Severity.LOW, Severity.MEDIUM, Severity.MEDIUM,
        Severity.HIGH, Severity.HIGH, Severity.CRITICAL, Severity.CRITICAL,
    ]
