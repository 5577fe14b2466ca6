"""What a publication of format 4 states and its page shows: the certainty bounds ("decided: N of M
seats", each list's proven range) and the quarantine's materiality, a warning only when the quarantine
could change the table; reporting per region on the tile map of schemas/region_tiles/."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.publishing.publication_certainty import (
    PublicationCertainty,
    certainty_document,
    publication_certainty,
)
from pipelines.publishing.published_results import TOTAL_FIELDS, AreaTotals, ListInfo, PublishedResults
from pipelines.publishing.region_tiles import read_layout, shipped_layouts, tiles_for
from pipelines.publishing.results_page import render_results_page
from pipelines.rules.rule_profiles import load_profile, parse_profile, profile_to_dict
from pipelines.rules.seat_allocation import ListVotes, allocate
from pipelines.synthetic.history import list_elections

RULES = profile_to_dict(load_profile("kz-mazhilis-2021"))  # 98 seats, 7% of valid list votes, Hare
WARNING = 'class="quarantine-warning"'


def _inputs(votes: list[int], invalid: int = 0, against_all: int = 0) -> dict[str, Any]:
    lists = [
        {"list_id": f"l{i}", "name": f"List {i}", "ballot_order": i + 1, "votes": v, "candidates": None}
        for i, v in enumerate(votes)
    ]
    cast = sum(votes) + invalid + against_all
    return {"lists": lists, "ballots_cast": cast, "invalid_ballots": invalid, "against_all": against_all}


def _quarantined(precincts: int, voters: int, counted: dict[str, int] | None = None) -> dict[str, Any]:
    if precincts == 0:
        return {"entries": 0}
    return {
        "entries": precincts,
        "unnamed": 0,
        "precincts": precincts,
        "registered_voters": voters,
        "against_all": 0,
        "invalid_ballots": 0,
        "list_votes": counted or {},
    }


def _results(
    rules: dict[str, Any],
    inputs: dict[str, Any],
    certainty: PublicationCertainty | None,
    *,
    status: str = "provisional",
    region_ids: tuple[str, ...] = ("north", "south"),
) -> PublishedResults:
    lists = [
        ListVotes(r["list_id"], r["name"], r["votes"], ballot_order=r["ballot_order"])
        for r in inputs["lists"]
    ]
    allocation = allocate(
        lists,
        parse_profile(rules),
        against_all=inputs["against_all"],
        invalid=inputs["invalid_ballots"],
        ballots_cast=inputs["ballots_cast"],
    )
    figures = {**dict.fromkeys(TOTAL_FIELDS, 0), "precincts_expected": 4, "precincts_reported": 1}
    regions = [AreaTotals(r, r.title(), figures, {x.list_id: 0 for x in lists}) for r in region_ids]
    return PublishedResults(
        publication_id="e--provisional--000000002", election_id="e", election_name="E",
        election_date="2021-01-10", status=status, position=3, based_on_position=2,
        based_on_hash="0" * 64, published_at=datetime(2021, 1, 10, tzinfo=UTC), rule_profile="p",
        rules=rules, table_sha256="0" * 64, allocation=allocation.to_records(), allocation_inputs=inputs,
        explanation=[], lists=[ListInfo(x.list_id, x.name, x.ballot_order or 0, None) for x in lists],
        national=replace(regions[0], region_id=None, name="E"), regions=regions, history=[],
        synthetic=False, publication_format=4, certainty=certainty,
    )  # fmt: skip


def _page(
    votes: list[int], outstanding: int, quarantined: dict[str, Any], **kw: Any
) -> tuple[str, dict[str, Any]]:
    inputs = _inputs(votes)
    certainty = publication_certainty(
        RULES, inputs, {"precincts": 3, "registered_voters": outstanding}, quarantined
    )
    results = _results(RULES, inputs, certainty, **kw)
    document = certainty_document(certainty, {str(r["list_id"]): r for r in results.allocation})
    return render_results_page(results), document


def test_a_quarantine_that_could_change_a_seat_is_a_prominent_warning_naming_what_is_at_stake() -> None:
    # l2 holds 7.03% of 100,000: 1,000 voters at stake, all for another list, push it below 7%.
    page, document = _page([60_000, 32_970, 7_030], 0, _quarantined(1, 1_000))
    quarantine = document["quarantine"]
    assert quarantine["verdict"] == "matters" and quarantine["material"] and quarantine["witness"]
    assert "l2" in quarantine["lists_at_stake"]
    assert page.count(WARNING) == 1 and 'role="alert"' in page
    warning = page[page.index(WARNING) : page.index("</div>", page.index(WARNING))]
    assert (
        "could change the seats" in warning and "List 2" in warning and "1,000 registered voters" in warning
    )
    assert page.index(WARNING) < page.index('id="list-table"')  # above the table, not below the fold


def test_a_quarantine_that_cannot_change_anything_is_one_quiet_line_never_a_warning() -> None:
    page, document = _page([60_000, 30_000, 10_000], 0, _quarantined(1, 10))
    assert document["quarantine"]["verdict"] == "cannot_matter" and not document["quarantine"]["material"]
    assert WARNING not in page and 'role="alert"' not in page
    assert 'class="quarantine-quiet" id="quarantine"' in page
    assert "the quarantine cannot change who passes the threshold or any seat" in page
    nothing, document = _page([60_000, 30_000, 10_000], 0, _quarantined(0, 0))
    assert document["quarantine"]["verdict"] == "nothing_quarantined"
    assert WARNING not in nothing and "Nothing is quarantined." in nothing


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=2, max_size=3), st.integers(1, 4), st.integers(0, 3))
def test_the_page_flags_a_small_quarantine_exactly_when_some_correction_changes_the_table(
    votes: list[int], at_stake: int, seats: int
) -> None:
    """Few voters at stake: the verdict is exact (every correction is tried), so the warning shows
    exactly when one of them changes a seat or a threshold decision, found here by brute force."""
    rules = {**RULES, "seats": seats + 1}
    inputs = _inputs(votes)
    try:
        results = _results(rules, inputs, None)
    except RulesCannotDecide:  # no table the rules can decide now: nothing to publish
        return
    now = [(r["seats"], r["passed_threshold"]) for r in results.allocation]
    parts = len(votes) + 2  # each list, 'against all' or invalid
    changes = False
    for split in itertools.product(range(at_stake + 1), repeat=parts):
        if sum(split) > at_stake or changes:
            continue
        more = _inputs([v + a for v, a in zip(votes, split, strict=False)], split[-1], split[-2])
        try:
            after = _results(rules, more, None).allocation
        except RulesCannotDecide:  # no table at all: that changes it too
            changes = True
            continue
        changes = [(r["seats"], r["passed_threshold"]) for r in after] != now
    # The quarantined precincts count nothing now (their rows were refused): at stake on top of the totals.
    certainty = publication_certainty(
        rules, inputs, {"precincts": 0, "registered_voters": 0}, _quarantined(1, at_stake)
    )
    page = render_results_page(replace(results, certainty=certainty))
    assert (WARNING in page) == changes, certainty.quarantine


def test_a_provisional_page_shows_each_lists_proven_range_and_the_decided_seats() -> None:
    page, document = _page([60_000, 30_000, 6_000, 4_000], 5_000, _quarantined(0, 0))
    bounds = document["bounds"]
    assert 0 < bounds["decided_seats"] < 98 and bounds["total_seats"] == 98
    assert f"decided: {bounds['decided_seats']} of 98 seats" in page
    for b in bounds["lists"]:
        text = (
            str(b["min_seats"])
            if b["min_seats"] == b["max_seats"]
            else f"{b['min_seats']}\u2013{b['max_seats']}"
        )
        row = page[page.index(f'<tr data-list-id="{b["list_id"]}">') :]
        assert f'<span class="range-figure">{text}</span>' in row[: row.index("</tr>")]
        assert b["min_seats"] <= b["seats_now"] <= b["max_seats"]
    assert {b["threshold"] for b in bounds["lists"]} >= {"certain", "open"}
    done, document = _page([60_000, 30_000, 6_000, 4_000], 0, _quarantined(0, 0))
    assert document["bounds"]["exact"] and "decided: 98 of 98 seats" in done
    certified, _ = _page([60_000, 30_000, 6_000, 4_000], 5_000, _quarantined(0, 0), status="certified")
    assert "decided:" not in certified and "proven range" not in certified
    assert 'id="quarantine"' in certified


# -- the tile map --------------------------------------------------------------------------------


def test_the_shipped_layout_gives_every_region_of_every_shipped_election_a_cell_of_its_own() -> None:
    for election in list_elections():
        ids = [r.region_id for r in election.regions]
        tiles = tiles_for(ids)
        assert tiles is not None, election.election_id
        assert len({(t.row, t.column) for t in tiles}) == len(ids)


def test_the_page_draws_a_tile_per_region_with_its_share_in_text_or_says_there_is_no_map() -> None:
    inputs = _inputs([60_000, 40_000])
    results = _results(RULES, inputs, None, region_ids=("akmola", "almaty_city", "atyrau"))
    page = render_results_page(results)
    assert page.count('class="tile"') == 3 and 'id="region-tiles-none"' not in page
    assert "Akmola</strong>" in page and "25.00% reported" in page
    assert "grid-row:2;grid-column:4" in page  # akmola: row 1, column 3 in kz.csv, 1-based in CSS
    unknown = render_results_page(_results(RULES, inputs, None, region_ids=("north", "akmola")))
    assert 'id="region-tiles-none"' in unknown and 'class="tile"' not in unknown


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("region_id,row,column,label\na,0,0,A\na,1,1,A\n", "row 3, column 'region_id'"),
        ("region_id,row,column,label\na,x,0,A\n", "row 2, column 'row'"),
        ("region_id,row,col,label\na,0,0,A\n", "row 1"),
    ],
)
def test_a_bad_layout_is_refused_naming_its_row_and_column(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_layout(path)
    assert where in str(raised.value) and "bad.csv" in str(raised.value)


def test_two_regions_in_one_cell_of_a_layout_fall_back_to_no_map() -> None:
    layouts = shipped_layouts()
    assert tiles_for(["astana_city", "nur_sultan_city"], layouts) is None  # the same city, renamed
    assert tiles_for(["astana_city"], layouts) is not None
