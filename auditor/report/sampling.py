"""Evidence samples: a documented, reproducible random selection.

For each control and status the report shows at most `k` findings, chosen by a keyed hash:

    seed = first 16 hex digits of SHA-256("<run id>|<framework>:<control>|<status>")
    rank = SHA-256("<seed>|<fingerprint>")  (hex)

The sample is the `k` findings of that population (every finding of the run with that status
mapped to the control) with the smallest ranks. That is a seeded random draw without
replacement: it does not favour the first findings in any order, it does not depend on the
order findings are stored or read, and anyone can reproduce it from findings.json with the
seed printed next to the sample.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


def sample_seed(run_id: str, framework: str, control_id: str, status: str) -> str:
    return hashlib.sha256(f"{run_id}|{framework}:{control_id}|{status}".encode()).hexdigest()[:16]


def sample_rank(seed: str, fingerprint: str) -> str:
    return hashlib.sha256(f"{seed}|{fingerprint}".encode()).hexdigest()


@dataclass
class SampleDraw(Generic[T]):
    """Streams a population and keeps the `k` members with the smallest rank."""

    seed: str
    k: int
    population: int = 0
    _kept: list[tuple[str, str, T]] = field(default_factory=list)

    def offer(self, fingerprint: str, item: T) -> None:
        self.population += 1
        rank = sample_rank(self.seed, fingerprint)
        if len(self._kept) >= self.k and (rank, fingerprint) >= self._kept[-1][:2]:
            return
        keys = [(r, fp) for r, fp, _ in self._kept]
        self._kept.insert(bisect.bisect(keys, (rank, fingerprint)), (rank, fingerprint, item))
        del self._kept[self.k :]

    @property
    def chosen(self) -> list[T]:
        """The sample, in rank order."""
        return [item for _, _, item in self._kept]

    @property
    def fingerprints(self) -> list[str]:
        return [fp for _, fp, _ in self._kept]


def draw(seed: str, k: int, fingerprints: list[str]) -> list[str]:
    """The sample of a whole population at once (what a reader of findings.json recomputes)."""
    return sorted(fingerprints, key=lambda fp: (sample_rank(seed, fp), fp))[:k]
