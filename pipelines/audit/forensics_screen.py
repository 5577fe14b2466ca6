"""The forensic screen of one election: the statistics of `forensics` for the nation and each region.

Input is the counted stations as plain arrays (`StationCounts`), so the same screen runs on a
warehouse's snapshot (`forensics_stations.py`) and on simulated elections in memory (calibration).
Regions are ranked by how many flags they raise, then by their smallest p-value.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from pipelines.audit.forensics import (
    NULL_DRAWS,
    DigitTest,
    IntArray,
    PeakTest,
    comet_histogram,
    integer_peak_test,
    integer_peak_tests,
    last_digit_test,
    shares,
    weighted_correlation,
)

NATIONAL = "(national)"


@dataclass(frozen=True)
class StationCounts:
    """Counted stations: one row each; `votes` has one column per list, in `list_ids` order."""

    region_index: IntArray  # index into region_ids
    region_ids: tuple[str, ...]
    list_ids: tuple[str, ...]
    registered: IntArray
    ballots_cast: IntArray
    votes: IntArray  # shape (stations, lists)

    def __len__(self) -> int:
        return int(self.registered.size)

    def leader(self) -> int:
        """Column of the list with most votes nationally (the first in ballot order on a tie)."""
        return int(np.argmax(self.votes.sum(axis=0))) if self.votes.size else 0

    def subset(self, mask: np.ndarray) -> StationCounts:
        return StationCounts(
            self.region_index[mask],
            self.region_ids,
            self.list_ids,
            self.registered[mask],
            self.ballots_cast[mask],
            self.votes[mask],
        )


@dataclass(frozen=True)
class ScopeScreen:
    """The statistics of the nation or one region."""

    scope: str
    stations: int
    ballots_cast: int
    turnout_pct: float
    leader_share_pct: float
    comet_correlation: float
    turnout_peaks: PeakTest
    leader_peaks: PeakTest
    last_digits: DigitTest

    @property
    def flags(self) -> tuple[str, ...]:
        named = (
            ("turnout_peaks", self.turnout_peaks.flagged),
            ("leader_share_peaks", self.leader_peaks.flagged),
            ("last_digits", self.last_digits.flagged),
        )
        return tuple(name for name, raised in named if raised)

    @property
    def smallest_p(self) -> float:
        return min(self.turnout_peaks.p_value, self.leader_peaks.p_value, self.last_digits.p_value)

    def record(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "stations": self.stations,
            "ballots_cast": self.ballots_cast,
            "turnout_pct": round(self.turnout_pct, 2),
            "leader_share_pct": round(self.leader_share_pct, 2),
            "comet_corr": round(self.comet_correlation, 3),
            "turnout_on_int": self.turnout_peaks.observed,
            "turnout_null": round(self.turnout_peaks.null_mean, 1),
            "turnout_p": round(self.turnout_peaks.p_value, 4),
            "leader_on_int": self.leader_peaks.observed,
            "leader_null": round(self.leader_peaks.null_mean, 1),
            "leader_p": round(self.leader_peaks.p_value, 4),
            "digits_tested": self.last_digits.tested,
            "digits_chi2": round(self.last_digits.chi_square, 2),
            "digits_p": round(self.last_digits.p_value, 4),
            "flags": " ".join(self.flags) or "none",
        }


SCOPE_COLUMNS = (
    "scope",
    "stations",
    "ballots_cast",
    "turnout_pct",
    "leader_share_pct",
    "comet_corr",
    "turnout_on_int",
    "turnout_null",
    "turnout_p",
    "leader_on_int",
    "leader_null",
    "leader_p",
    "digits_tested",
    "digits_chi2",
    "digits_p",
    "flags",
)


@dataclass(frozen=True)
class ListPeaks:
    """Integer-percent peaks of one list's share of valid list votes, nationally."""

    list_id: str
    share_pct: float
    peaks: PeakTest

    def record(self) -> dict[str, object]:
        return {
            "list_id": self.list_id,
            "share_pct": round(self.share_pct, 2),
            "on_int": self.peaks.observed,
            "null": round(self.peaks.null_mean, 1),
            "p": round(self.peaks.p_value, 4),
            "flag": "share_peaks" if self.peaks.flagged else "none",
        }


LIST_COLUMNS = ("list_id", "share_pct", "on_int", "null", "p", "flag")


@dataclass(frozen=True)
class ElectionScreen:
    national: ScopeScreen
    regions: tuple[ScopeScreen, ...]  # ranked: most flags first, then smallest p-value
    lists: tuple[ListPeaks, ...]
    leader: str
    comet: IntArray  # voters per (turnout percent, leader-share percent), 100 x 100


def _seed(scope: str, what: str) -> int:
    # Stable across runs and processes (unlike hash()), different per scope and statistic.
    return zlib.crc32(f"{scope}/{what}".encode())


def screen_scope(
    stations: StationCounts, scope: str, leader: int, turnout_peaks: PeakTest, leader_peaks: PeakTest
) -> ScopeScreen:
    """The statistics of one scope, its integer-peak tests given (drawn for all scopes at once)."""
    valid = stations.votes.sum(axis=1)
    lead = stations.votes[:, leader] if stations.votes.size else np.zeros(len(stations), dtype=np.int64)
    turnout = shares(stations.ballots_cast, stations.registered)
    registered, cast, valid_total = (
        int(stations.registered.sum()),
        int(stations.ballots_cast.sum()),
        int(valid.sum()),
    )
    return ScopeScreen(
        scope=scope,
        stations=len(stations),
        ballots_cast=cast,
        turnout_pct=100 * cast / registered if registered else 0.0,
        leader_share_pct=100 * int(lead.sum()) / valid_total if valid_total else 0.0,
        comet_correlation=weighted_correlation(turnout, shares(lead, valid), stations.ballots_cast),
        turnout_peaks=turnout_peaks,
        leader_peaks=leader_peaks,
        last_digits=last_digit_test(stations.votes),
    )


def screen(stations: StationCounts, *, draws: int = NULL_DRAWS, regions: bool = True) -> ElectionScreen:
    """The national screen, each region's (ranked) and each list's share peaks."""
    leader = stations.leader()
    valid = stations.votes.sum(axis=1)
    lead = stations.votes[:, leader] if stations.votes.size else np.zeros(len(stations), dtype=np.int64)
    region_count = len(stations.region_ids) if regions else 0
    turnout_national, turnout_regions = integer_peak_tests(
        stations.ballots_cast,
        stations.registered,
        stations.region_index,
        region_count,
        draws=draws,
        seed=_seed(NATIONAL, "turnout"),
    )
    leader_national, leader_regions = integer_peak_tests(
        lead, valid, stations.region_index, region_count, draws=draws, seed=_seed(NATIONAL, "leader")
    )
    national = screen_scope(stations, NATIONAL, leader, turnout_national, leader_national)
    per_region: list[ScopeScreen] = []
    for index in range(region_count):
        mask = stations.region_index == index
        if mask.any():
            per_region.append(
                screen_scope(
                    stations.subset(mask),
                    stations.region_ids[index],
                    leader,
                    turnout_regions[index],
                    leader_regions[index],
                )
            )
    per_region.sort(key=lambda s: (-len(s.flags), s.smallest_p, s.scope))
    total_valid = max(1, int(valid.sum()))
    lists = tuple(
        ListPeaks(
            list_id,
            100 * int(stations.votes[:, column].sum()) / total_valid,
            # The leader's share peaks are the national leader-share test: the same counts and sizes.
            national.leader_peaks
            if column == leader
            else integer_peak_test(
                stations.votes[:, column], valid, draws=draws, seed=_seed(list_id, "share")
            ),
        )
        for column, list_id in enumerate(stations.list_ids)
    )
    comet = comet_histogram(
        shares(stations.ballots_cast, stations.registered),
        shares(stations.votes[:, leader], valid) if stations.votes.size else np.zeros(len(stations)),
        stations.ballots_cast,
    )
    leader_id = stations.list_ids[leader] if stations.list_ids else ""
    return ElectionScreen(national, tuple(per_region), lists, leader_id, comet)
