"""The seat projection: stratified by region, exact once everything reported, labelled as an estimate."""

from __future__ import annotations

import pytest

from pipelines.cli.store_commands import projection_records, projection_text
from pipelines.core.errors import InputError
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.rule_profiles import load_profile
from pipelines.rules.seat_allocation import allocate
from pipelines.rules.seat_projection import LABEL, Station, project_seats

PROFILE = load_profile("kz-mazhilis-2021")
LISTS = [ListVotes(x, x.title(), 0, ballot_order=i) for i, x in enumerate(("alpha", "beta", "gamma"), 1)]


def station(region: str, registered: int, votes: tuple[int, int, int] | None, invalid: int = 0) -> Station:
    if votes is None:
        return Station(region, registered, False)
    return Station(region, registered, True, sum(votes) + invalid, invalid, 0, votes)


def night(reported_every: int) -> list[Station]:
    """Three regions of different leanings and sizes; every `reported_every`-th triple of
    stations (one of each region) has reported."""
    stations = []
    for i in range(60):
        region = ("north", "south", "east")[i % 3]
        lean = {"north": (300, 100, 60), "south": (120, 250, 80), "east": (200, 90, 150)}[region]
        votes = (lean[0] + (37 * i) % 150, lean[1] + (53 * i) % 120, lean[2] + (29 * i) % 90)
        stations.append(
            station(region, 1000 + 10 * i, votes if (i // 3) % reported_every == 0 else None, invalid=i % 4)
        )
    return stations


def test_when_every_precinct_reported_the_projection_is_the_final_table_and_the_interval_collapses() -> None:
    stations = night(1)
    projection = project_seats(LISTS, stations, PROFILE)
    final = allocate(
        [
            ListVotes(x.list_id, x.name, sum(s.votes[i] for s in stations), x.ballot_order)
            for i, x in enumerate(LISTS)
        ],
        PROFILE,
        invalid=sum(s.invalid_ballots for s in stations),
        ballots_cast=sum(s.ballots_cast for s in stations),
    )
    assert [(x.projected_seats, x.low, x.high) for x in projection.lists] == [
        (row.seats, row.seats, row.seats) for row in final.rows
    ]
    assert [x.projected_votes for x in projection.lists] == [row.votes for row in final.rows]
    assert projection.replicates == 0 and projection.reported_share == 1


def test_outstanding_precincts_scale_with_their_regions_registered_voters() -> None:
    # The north (all for alpha) has 9 times its reported electorate still out, the south (all for beta)
    # 19 times: a national scaling would give them equal votes, the stratified one 1:2.
    stations = [
        station("north", 100, (50, 0, 0)),
        station("north", 900, None),
        station("south", 100, (0, 50, 0)),
        station("south", 1900, None),
        station("east", 100, (0, 0, 30)),
    ]
    projection = project_seats(LISTS, stations, PROFILE, replicates=20)
    assert [x.projected_votes for x in projection.lists] == [500, 1000, 30]
    assert [x.reported_votes for x in projection.lists] == [50, 50, 30]
    assert projection.registered_reported == 300 and projection.registered_voters == 3100


def test_a_region_with_nothing_reported_takes_the_ratio_of_every_reported_precinct() -> None:
    stations = [
        station("north", 100, (40, 10, 0)),
        station("south", 100, (0, 10, 40)),
        station("east", 400, None),
    ]
    projection = project_seats(LISTS, stations, PROFILE, replicates=50)
    assert [x.projected_votes for x in projection.lists] == [40 + 80, 20 + 40, 40 + 80]
    assert projection.regions_unreported == 1


def test_the_interval_is_deterministic_holds_the_projection_and_spans_what_is_uncertain() -> None:
    stations = night(3)
    first = project_seats(LISTS, stations, PROFILE, replicates=200, seed=7)
    assert first == project_seats(LISTS, stations, PROFILE, replicates=200, seed=7)
    assert first.replicates == 200 and first.replicates_undecided == 0
    assert all(x.low <= x.projected_seats <= x.high for x in first.lists)
    assert sum(x.projected_seats for x in first.lists) == 98
    assert any(x.low < x.high for x in first.lists)


def test_every_output_says_projection_not_a_result() -> None:
    projection = project_seats(LISTS, night(2), PROFILE, replicates=50)
    assert projection.label == LABEL == "projection, not a result"
    text = projection_text(projection)
    assert text.startswith("PROJECTION, NOT A RESULT:") and text.rstrip().endswith(
        "only the count decides seats"
    )
    assert all(record["label"] == LABEL for record in projection_records(projection))


def test_nothing_reported_is_refused() -> None:
    with pytest.raises(InputError, match="nothing to project from"):
        project_seats(LISTS, [station("north", 100, None)], PROFILE)
