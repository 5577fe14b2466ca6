"""Manipulation injected into synthetic precincts, to measure what the forensic screen can detect.

Off unless asked for (`synthesise(..., manipulation=...)`); a synthetic election with manipulation no
longer sums to its official totals: the added ballots are the point. Three kinds, each in its own
random share of stations, all in favour of one list (the leader):

- ballot stuffing: extra ballots for the leader, a uniform 0..`stuffing_strength` of the station's
  non-voters, raising turnout and the leader's share together (the comet's tail);
- rounded turnout: the protocol rewritten so turnout is the next multiple of `rounding_step` percent
  (the nearest count to it), the difference given to the leader (integer-percent peaks);
- rounded counts: the leader's votes written up to the next multiple of 10 (human digit preference,
  what the last-digit test looks for).

Every protocol still adds up: lists + against all + invalid = cast <= issued <= registered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Manipulation:
    stuffing_share: float = 0.0
    stuffing_strength: float = 0.5
    rounding_share: float = 0.0
    rounding_step: int = 5
    rounded_counts_share: float = 0.0

    def __post_init__(self) -> None:
        for name in ("stuffing_share", "stuffing_strength", "rounding_share", "rounded_counts_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1, not {getattr(self, name)}")
        if not 1 <= self.rounding_step <= 100:
            raise ValueError(f"rounding_step must be within 1..100, not {self.rounding_step}")


@dataclass(frozen=True)
class ManipulatedCounts:
    ballots_cast: IntArray
    ballots_issued: IntArray
    votes: IntArray
    stuffed: npt.NDArray[np.bool_]
    rounded: npt.NDArray[np.bool_]
    rounded_counts: npt.NDArray[np.bool_]


def manipulate(
    manipulation: Manipulation,
    registered: IntArray,
    ballots_cast: IntArray,
    ballots_issued: IntArray,
    votes: IntArray,
    *,
    leader: int,
    rng: np.random.Generator,
) -> ManipulatedCounts:
    """New cast, issued and vote columns with the manipulation applied (the inputs are not changed)."""
    n = registered.size
    cast, issued, votes = ballots_cast.copy(), ballots_issued.copy(), votes.copy()

    def add(extra: IntArray) -> None:
        votes[:, leader] += extra
        cast[:] += extra
        issued[:] = np.minimum(registered, np.maximum(issued + extra, cast))

    stuffed = rng.random(n) < manipulation.stuffing_share
    strength = rng.uniform(0.0, manipulation.stuffing_strength, n)
    add(np.where(stuffed, np.floor((registered - cast) * strength).astype(np.int64), 0))

    rounded = (rng.random(n) < manipulation.rounding_share) & (registered > 0)
    step = manipulation.rounding_step
    safe = np.maximum(registered, 1)
    # The next multiple of `step` percent at or above the station's turnout, as the nearest count.
    target_pct = np.minimum(100, -((-100 * cast) // (safe * step)) * step)
    target = np.minimum(registered, (2 * target_pct * safe + 100) // 200)
    add(np.where(rounded, np.maximum(0, target - cast), 0))

    rounded_counts = rng.random(n) < manipulation.rounded_counts_share
    lead = votes[:, leader]
    up = np.minimum(-(-lead // 10) * 10 - lead, registered - cast)
    add(np.where(rounded_counts & (lead >= 10), np.maximum(0, up), 0))
    return ManipulatedCounts(cast, issued, votes, stuffed, rounded, rounded_counts)
