"""Anomaly shares compared in int64 when exact and in Python ints beyond: the same flags either way."""

from __future__ import annotations

import random
from fractions import Fraction

import pandas as pd
import pytest

from pipelines.gate.anomalies import AnomalyThresholds, protocol_anomalies

LISTS = ("a", "b", "c")


def random_frame(rng: random.Random, size: int) -> pd.DataFrame:
    records = []
    for i in range(size):
        votes = [rng.randrange(0, 3000) for _ in LISTS]
        if rng.random() < 0.3:
            votes = [rng.randrange(0, 5), rng.randrange(0, 5), rng.randrange(500, 3000)]
        invalid = rng.randrange(0, 400)
        cast = sum(votes) + invalid
        registered = cast + rng.choice([0, 0, 1, 10, 500])
        records.append(
            {
                "row": i + 2,
                "precinct_id": f"P-{i}",
                "registered_voters": registered,
                "ballots_cast": cast,
                "invalid_ballots": invalid,
                "against_all": 0,
                "version": 1,
                **dict(zip(LISTS, votes, strict=True)),
            }
        )
    return pd.DataFrame(records)


def expected(frame: pd.DataFrame, thresholds: AnomalyThresholds) -> set[tuple[int, str]]:
    """The flags by Fraction arithmetic, row by row."""
    out = set()
    for _, r in frame.iterrows():
        cast, registered = int(r["ballots_cast"]), int(r["registered_voters"])
        if registered > 0 and cast == registered:
            out.add((int(r["row"]), "turnout_100"))
        elif registered > 0 and Fraction(cast, registered) > thresholds.turnout_share:
            out.add((int(r["row"]), "turnout_high"))
        valid = sum(int(r[name]) for name in LISTS)
        if (
            valid > 0
            and Fraction(max(int(r[name]) for name in LISTS), valid) >= thresholds.dominant_list_share
        ):
            out.add((int(r["row"]), "dominant_list"))
        if cast > 0 and Fraction(int(r["invalid_ballots"]), cast) > thresholds.invalid_share:
            out.add((int(r["row"]), "invalid_share_high"))
    return out


@pytest.mark.parametrize(
    "share",
    [Fraction(95, 100), Fraction(2, 3), Fraction(10**17 - 1, 10**17), Fraction(1, 10**16 + 1)],
)
def test_flags_match_fraction_arithmetic(share: Fraction) -> None:
    # The last two shares overflow int64 when multiplied by thousands: they take the Python-int path.
    frame = random_frame(random.Random(str(share)), 300)
    thresholds = AnomalyThresholds(turnout_share=share, dominant_list_share=share, invalid_share=share)
    found = protocol_anomalies(frame, list_ids=LISTS, earlier_votes={}, thresholds=thresholds, file="f")
    flags = {(a.row, a.kind) for a in found if a.row is not None}
    assert flags == expected(frame, thresholds)
    assert flags, "the random frame should raise some flag"


def test_dominant_list_names_the_first_list_in_ballot_order_among_equals() -> None:
    rng = random.Random(5)
    frame = random_frame(rng, 200)
    for i in range(0, 200, 2):  # ties for the top: the message names the first such list on the ballot
        tied = rng.sample(LISTS, 2)
        top = int(frame.loc[i, list(LISTS)].max()) + 1
        for name in tied:
            frame.loc[i, name] = top
    thresholds = AnomalyThresholds(dominant_list_share=Fraction(1, 3))
    found = [
        a
        for a in protocol_anomalies(frame, list_ids=LISTS, earlier_votes={}, thresholds=thresholds, file="f")
        if a.kind == "dominant_list"
    ]
    assert len(found) > 100
    for anomaly in found:
        record = frame.loc[frame["row"] == anomaly.row].iloc[0]
        first = next(name for name in LISTS if record[name] == max(record[n] for n in LISTS))
        assert anomaly.detail.startswith(f"list {first} has {record[first]} of ")
