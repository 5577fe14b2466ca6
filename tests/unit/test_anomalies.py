"""Anomaly flags on accepted protocol rows: exact thresholds, never more than the rule says."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from pipelines.gate.anomalies import AnomalyThresholds, protocol_anomalies, totals_moved_backwards

LISTS = ("a", "b")


def frame(*rows: dict[str, int | str]) -> pd.DataFrame:
    records = []
    for i, changes in enumerate(rows, start=2):
        row: dict[str, int | str] = {
            "row": i,
            "precinct_id": f"P-{i}",
            "registered_voters": 1000,
            "ballots_cast": 500,
            "invalid_ballots": 10,
            "against_all": 0,
            "version": 1,
            "a": 300,
            "b": 190,
        }
        row.update(changes)
        records.append(row)
    return pd.DataFrame(records)


def kinds(
    data: pd.DataFrame, earlier: dict[str, dict[str, int]] | None = None, **thresholds: Fraction
) -> list[str]:
    found = protocol_anomalies(
        data,
        list_ids=LISTS,
        earlier_votes=earlier or {},
        thresholds=AnomalyThresholds(**thresholds),
        file="f.csv",
    )
    return [f"{a.row}:{a.kind}" for a in found]


def test_an_ordinary_precinct_has_no_flags() -> None:
    assert kinds(frame({})) == []


def test_turnout_thresholds_are_exact() -> None:
    data = frame(
        {"ballots_cast": 950, "a": 500, "b": 440},  # exactly 95%: not above
        {"ballots_cast": 951, "a": 500, "b": 441},  # 95.1%
        {"ballots_cast": 1000, "a": 500, "b": 490},  # 100%
    )
    assert kinds(data) == ["3:turnout_high", "4:turnout_100"]


def test_dominant_list_at_exactly_95_percent_of_valid_votes() -> None:
    data = frame(
        {"a": 475, "b": 25, "invalid_ballots": 0},  # 475/500 = 95%
        {"a": 474, "b": 26, "invalid_ballots": 0},
        {"a": 380, "b": 20, "against_all": 100, "invalid_ballots": 0},  # 380/500: against_all is valid
    )
    assert kinds(data) == ["2:dominant_list"]


def test_invalid_share_above_ten_percent() -> None:
    data = frame({"invalid_ballots": 50, "a": 260, "b": 190}, {"invalid_ballots": 51, "a": 259, "b": 190})
    assert kinds(data) == ["3:invalid_share_high"]


def test_amendment_moving_a_list_by_more_than_the_share() -> None:
    earlier = {"P-2": {"a": 300, "b": 190}, "P-3": {"a": 300, "b": 190}, "P-4": {"a": 0, "b": 490}}
    data = frame(
        {"version": 2, "a": 319, "b": 171},  # b -10% exactly: not more
        {"version": 2, "a": 331, "b": 159},
        {"version": 2, "a": 1, "b": 489},  # from 0 to 1
    )
    found = protocol_anomalies(
        data, list_ids=LISTS, earlier_votes=earlier, thresholds=AnomalyThresholds(), file="f.csv"
    )
    changes = [a for a in found if a.kind == "amendment_change"]
    assert [a.row for a in changes] == [3, 4]
    assert changes[0].detail.endswith("a 300 -> 331, b 190 -> 159")
    assert changes[1].detail.endswith("a 0 -> 1")
    loose = kinds(data, earlier, amendment_change_share=Fraction(1, 5))
    assert [k for k in loose if k.endswith("amendment_change")] == ["4:amendment_change"]


def test_first_reports_are_not_compared_with_earlier_votes() -> None:
    assert kinds(frame({"a": 250, "b": 240}), {"P-2": {"a": 300, "b": 190}}) == []


def test_totals_moved_backwards() -> None:
    found = totals_moved_backwards({"a": 100, "b": 50, "c": 7}, {"a": 100, "b": 49, "d": 3})
    assert [(a.kind, a.precinct_id) for a in found] == [("total_moved_backwards", None)] * 2
    assert "list b: total went from 50 to 49" in found[0].detail
    assert "list c: total went from 7 to 0" in found[1].detail
    assert totals_moved_backwards({"a": 1}, {"a": 2}) == []
