"""Amendment flags over a whole batch of amendments: each row judged as the rule says, rows kept apart."""

from __future__ import annotations

import random
from fractions import Fraction

import pandas as pd

from pipelines.gate.anomalies import AnomalyThresholds, protocol_anomalies

LISTS = ("a", "b", "c")


def _moved(old: int, new: int, share: Fraction) -> bool:
    return Fraction(abs(new - old)) > share * old


def test_a_batch_of_amendments_flags_exactly_the_rows_that_move_a_list_too_far() -> None:
    rng = random.Random(7)
    share = Fraction(1, 10)
    earlier: dict[str, dict[str, int]] = {}
    records = []
    expected: dict[int, list[str]] = {}
    for i in range(300):
        precinct = f"P-{i}"
        before = {name: rng.randrange(0, 200) for name in LISTS}
        after = {name: max(0, votes + rng.randrange(-25, 26)) for name, votes in before.items()}
        earlier[precinct] = before
        row = 2 + i
        records.append(
            {
                "row": row,
                "precinct_id": precinct,
                "registered_voters": 2000,
                "ballots_cast": 1000,
                "invalid_ballots": 0,
                "against_all": 400,
                "version": 2 + i % 3,
                **after,
            }
        )
        changes = [f"{n} {before[n]} -> {after[n]}" for n in LISTS if _moved(before[n], after[n], share)]
        if changes:
            expected[row] = changes
    data = pd.DataFrame(records)
    found = [
        a
        for a in protocol_anomalies(
            data, list_ids=LISTS, earlier_votes=earlier, thresholds=AnomalyThresholds(), file="f.csv"
        )
        if a.kind == "amendment_change"
    ]
    assert 0 < len(expected) < 300
    assert [a.row for a in found] == sorted(expected)
    for anomaly in found:
        assert anomaly.row is not None
        version = 2 + (anomaly.row - 2) % 3
        assert anomaly.precinct_id == f"P-{anomaly.row - 2}"
        assert anomaly.file == "f.csv"
        assert anomaly.detail == (
            f"amendment to version {version} moves list votes by more than 10%: "
            + ", ".join(expected[anomaly.row])
        )


def test_amendment_comparison_stays_exact_beyond_int64_products() -> None:
    big = 2**61
    earlier = {"P-0": {"a": big, "b": big, "c": 10}}
    data = pd.DataFrame(
        [
            {
                "row": 2,
                "precinct_id": "P-0",
                "registered_voters": 10,
                "ballots_cast": 10,
                "invalid_ballots": 0,
                "against_all": 0,
                "version": 2,
                "a": big + big // 10,  # exactly 10%: not more
                "b": big + big // 10 + 1,
                "c": 10,
            }
        ]
    )
    found = [
        a
        for a in protocol_anomalies(
            data, list_ids=LISTS, earlier_votes=earlier, thresholds=AnomalyThresholds(), file=None
        )
        if a.kind == "amendment_change"
    ]
    assert [a.detail.split(": ")[1] for a in found] == [f"b {big} -> {big + big // 10 + 1}"]


def test_amendments_without_earlier_votes_are_not_compared() -> None:
    row = {
        "row": 2,
        "precinct_id": "P-new",
        "registered_voters": 1000,
        "ballots_cast": 500,
        "invalid_ballots": 0,
        "against_all": 200,
        "version": 2,
        "a": 100,
        "b": 100,
        "c": 100,
    }
    data = pd.DataFrame([row, {**row, "row": 3, "precinct_id": "P-old", "a": 300, "c": 0}])
    found = protocol_anomalies(
        data,
        list_ids=LISTS,
        earlier_votes={"P-old": {"a": 100, "b": 100, "c": 100}},
        thresholds=AnomalyThresholds(),
        file=None,
    )
    assert [(a.kind, a.row) for a in found if a.kind == "amendment_change"] == [("amendment_change", 3)]
    assert found[-1].detail.endswith(": a 100 -> 300, c 100 -> 0")
