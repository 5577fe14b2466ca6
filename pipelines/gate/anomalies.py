"""Non-blocking anomaly flags: the statistical signs election observers look for. They never reject.

Shares are compared in integer arithmetic (a/b > p/q  <=>  a*q > p*b), so a flag at exactly the
threshold is decided exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

_COUNTS = ("registered_voters", "ballots_cast", "invalid_ballots")


@dataclass(frozen=True)
class Anomaly:
    kind: str
    precinct_id: str | None
    detail: str
    file: str | None
    row: int | None


@dataclass(frozen=True)
class AnomalyThresholds:
    turnout_share: Fraction = Fraction(95, 100)  # flagged above this (and at exactly 100% separately)
    dominant_list_share: Fraction = Fraction(95, 100)  # flagged at or above this share of valid votes
    invalid_share: Fraction = Fraction(1, 10)  # flagged above this share of ballots cast
    amendment_change_share: Fraction = Fraction(1, 10)  # flagged when a list moves by more than this


def _percent(numerator: int, denominator: int) -> str:
    """For messages only: a share rounded to one decimal."""
    return f"{100 * numerator / denominator:.1f}%"


def _above(numerator: pd.Series, denominator: pd.Series, share: Fraction, *, or_equal: bool) -> pd.Series:
    """numerator/denominator > share (or >=), exactly, false where denominator is 0."""
    largest = max(int(numerator.abs().max()), int(denominator.abs().max()), 0) if len(numerator) else 0
    # Exact in int64 while no product can reach 2**62; Python ints (object arrays) beyond that.
    exact = "int64" if largest * max(share.numerator, share.denominator) < 2**62 else object
    left = numerator.astype(exact) * share.denominator
    right = denominator.astype(exact) * share.numerator
    hit = (left >= right) if or_equal else (left > right)
    return hit.astype(bool) & (denominator > 0)


def protocol_anomalies(
    accepted: pd.DataFrame,
    *,
    list_ids: Sequence[str],
    earlier_votes: Mapping[str, Mapping[str, int]],
    thresholds: AnomalyThresholds,
    file: str | None,
) -> list[Anomaly]:
    """Flags for accepted protocol rows (normalised columns, see pipelines.gate.validation).

    `earlier_votes` maps a precinct to the list votes of its accepted protocol, for comparing amendments.
    """
    if accepted.empty:
        return []
    frame = accepted.reset_index(drop=True)
    cast = frame["ballots_cast"]
    registered = frame["registered_voters"]
    votes = frame[list(list_ids)]
    valid = votes.sum(axis=1) + frame["against_all"]
    top = votes.max(axis=1)
    # The first list holding the most votes, as idxmax gives it, without its per-row labels (~30 ms
    # at 100,000 rows).
    names = np.array(list_ids, dtype=object)
    tops = names[votes.to_numpy().argmax(axis=1)] if len(list_ids) else np.full(len(frame), "", dtype=object)
    found: list[tuple[int, Anomaly]] = []
    rows = frame["row"].to_numpy()
    precincts = frame["precinct_id"].to_numpy()
    # Plain arrays: reading flagged rows through `frame.at` cost more than finding them.
    arrays = {name: frame[name].to_numpy() for name in (*list_ids, *_COUNTS)}
    valids = valid.to_numpy()

    def add(mask: pd.Series, kind: str, describe: Callable[[int], str]) -> None:
        for i in np.flatnonzero(mask.to_numpy()):
            row = int(rows[i])
            found.append((row, Anomaly(kind, str(precincts[i]), describe(int(i)), file, row)))

    def value(i: int, column: str) -> int:
        return int(arrays[column][i])

    full = (cast == registered) & (registered > 0)
    high = _above(cast, registered, thresholds.turnout_share, or_equal=False) & ~full
    add(full, "turnout_100", lambda i: f"turnout is exactly 100% ({value(i, 'ballots_cast')} cast)")
    add(
        high,
        "turnout_high",
        lambda i: (
            f"turnout {_percent(value(i, 'ballots_cast'), value(i, 'registered_voters'))} is above "
            f"{_percent(thresholds.turnout_share.numerator, thresholds.turnout_share.denominator)} "
            f"({value(i, 'ballots_cast')} of {value(i, 'registered_voters')})"
        ),
    )
    dominant = _above(top, valid, thresholds.dominant_list_share, or_equal=True)
    add(
        dominant,
        "dominant_list",
        lambda i: (
            f"list {tops[i]} has {value(i, str(tops[i]))} of {int(valids[i])} "
            f"valid votes ({_percent(value(i, str(tops[i])), int(valids[i]))})"
        ),
    )
    invalid = _above(frame["invalid_ballots"], cast, thresholds.invalid_share, or_equal=False)
    add(
        invalid,
        "invalid_share_high",
        lambda i: (
            f"{value(i, 'invalid_ballots')} of {value(i, 'ballots_cast')} ballots invalid "
            f"({_percent(value(i, 'invalid_ballots'), value(i, 'ballots_cast'))})"
        ),
    )
    found.extend(_amendment_anomalies(frame, list_ids, earlier_votes, thresholds, file))
    found.sort(key=lambda item: item[0])
    return [anomaly for _, anomaly in found]


def _amendment_anomalies(
    frame: pd.DataFrame,
    list_ids: Sequence[str],
    earlier_votes: Mapping[str, Mapping[str, int]],
    thresholds: AnomalyThresholds,
    file: str | None,
) -> list[tuple[int, Anomaly]]:
    share = thresholds.amendment_change_share
    later = frame[frame["version"] > 1]
    # Membership in Python: pandas' isin on Arrow strings converts the mapping's keys one by one.
    compared = [precinct in earlier_votes for precinct in later["precinct_id"].astype("str").tolist()]
    amendments = later[np.array(compared, dtype=bool)]
    if amendments.empty or not list_ids:
        return []
    precincts = amendments["precinct_id"].astype("str").tolist()
    earlier = [earlier_votes[p] for p in precincts]
    old_votes = [[before.get(list_id, 0) for list_id in list_ids] for before in earlier]
    new_votes = amendments[list(list_ids)].to_numpy()
    # A batch of amendments can be a whole recount (thousands of rows), so rows are compared as arrays:
    # in int64 while no product can reach 2**62, in Python ints (object arrays) beyond that.
    largest = max(max(map(max, old_votes)), int(np.abs(new_votes).max()))
    exact = np.int64 if largest * max(share.numerator, share.denominator) < 2**61 else object
    old = np.array(old_votes, dtype=object).astype(exact)
    new = new_votes.astype(exact)
    moved = abs(new - old) * share.denominator > share.numerator * old
    flagged = np.flatnonzero(moved.any(axis=1))
    if not len(flagged):
        return []
    rows = amendments["row"].tolist()
    versions = amendments["version"].tolist()
    percent = f"{float(share * 100):g}%"
    out: list[tuple[int, Anomaly]] = []
    for i in flagged:
        changes = [
            f"{list_id} {int(old[i, j])} -> {int(new[i, j])}"
            for j, list_id in enumerate(list_ids)
            if moved[i, j]
        ]
        detail = f"amendment to version {versions[i]} moves list votes by more than {percent}: " + ", ".join(
            changes
        )
        row = int(rows[i])
        out.append((row, Anomaly("amendment_change", precincts[i], detail, file, row)))
    return out


def totals_moved_backwards(previous: Mapping[str, int], current: Mapping[str, int]) -> list[Anomaly]:
    """Lists whose national total is lower in `current` than in the earlier publication `previous`."""
    out = []
    for list_id in sorted(previous):
        before, after = int(previous[list_id]), int(current.get(list_id, 0))
        if after < before:
            out.append(
                Anomaly(
                    "total_moved_backwards",
                    None,
                    f"list {list_id}: total went from {before} to {after}",
                    None,
                    None,
                )
            )
    return out
