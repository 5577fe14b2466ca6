"""The results page's list table under the rule options that break "below the line, no seat"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pipelines.publishing.published_results import TOTAL_FIELDS, AreaTotals, ListInfo, PublishedResults
from pipelines.publishing.results_page import list_table


def _row(list_id: str, order: int, votes: int, passed: bool, seats: int) -> dict[str, Any]:
    share = f"{votes}/1000"
    return {
        "list_id": list_id, "name": list_id.upper(), "ballot_order": order, "votes": votes, "share": share,
        "share_pct": f"{votes / 10:.2f}", "passed_threshold": passed, "admitted_by_guarantee": False,
        "seats": seats,
    }  # fmt: skip


def _results(rules: dict[str, Any], allocation: list[dict[str, Any]]) -> PublishedResults:
    figures = dict.fromkeys(TOTAL_FIELDS, 0)
    region = AreaTotals("r", "R", figures, {})
    return PublishedResults(
        publication_id="e--provisional--000000002", election_id="e", election_name="E",
        election_date="2011-12-04", status="provisional", position=3, based_on_position=2,
        based_on_hash="0" * 64, published_at=datetime(2011, 12, 5, tzinfo=UTC), rule_profile="p",
        rules=rules, table_sha256="0" * 64, allocation=allocation, allocation_inputs={}, explanation=[],
        lists=[ListInfo(r["list_id"], r["name"], r["ballot_order"], None) for r in allocation],
        national=replace(region, region_id=None, name="E"), regions=[region], history=[], synthetic=False,
    )  # fmt: skip


COLORS = {"a": "#111111", "b": "#222222", "c": "#333333"}


def test_a_list_with_consolation_seats_is_marked_and_the_line_says_why_it_has_seats() -> None:
    rules = {"threshold_percent": "7", "threshold_base": "ballots_cast", "consolation_seats": [{}]}
    table = list_table(_results(rules, [_row("a", 1, 900, True, 8), _row("b", 2, 65, False, 2)]), COLORS)
    assert "or a consolation band gives them seats" in table
    assert table.count(">consolation</span>") == 1


def test_under_kind_thresholds_a_passing_party_is_listed_above_a_coalition_that_failed() -> None:
    rules = {
        "threshold_percent": "5",
        "threshold_base": "valid_list_votes",
        "kind_thresholds": {"coalition": "8"},
    }
    allocation = [_row("a", 1, 800, True, 9), _row("b", 2, 75, False, 0), _row("c", 3, 60, True, 1)]
    table = list_table(_results(rules, allocation), COLORS)
    line = table.index("threshold-line")
    assert table.index('data-list-id="c"') < line < table.index('data-list-id="b"')
    plain = list_table(_results({"threshold_percent": "5"}, allocation), COLORS)
    assert "consolation" not in plain and "another kind" not in plain
