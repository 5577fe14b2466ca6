"""The verdict lines of `make bench`: a missed target says by how much (issue 17)."""

from __future__ import annotations

from bench.run_benchmarks import shortfall, table


def test_a_missed_upper_bound_says_how_many_times_its_goal_it_measured() -> None:
    assert shortfall({"measured": 21.0, "goal": "<= 10", "met": False}) == 2.1
    assert shortfall({"measured": 1.5, "goal": "< 1", "met": False}) == 1.5
    assert shortfall({"measured": 9.0, "goal": "<= 10", "met": True}) is None
    assert shortfall({"measured": 3.0, "goal": "median", "met": False}) is None


def test_the_table_prints_the_shortfall_beside_a_miss_only() -> None:
    checks = [
        {"target": "delivery", "measured": 21.0, "goal": "<= 10", "met": False},
        {"target": "rebuild", "measured": 3.8, "goal": "<= 5", "met": True},
    ]
    lines = table({}, checks).splitlines()
    assert "MISS  delivery: 21 (goal <= 10), missed by 2.10x" in lines
    assert "MET   rebuild: 3.8 (goal <= 5)" in lines
